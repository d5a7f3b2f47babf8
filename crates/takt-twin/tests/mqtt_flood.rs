//! A batch bigger than the MQTT client's request queue (10,000) is acknowledged without the listener
//! deadlocking: its acknowledgements are queued while another thread drives the connection. Until
//! that thread existed, the listener both polled the connection and acknowledged, and blocked
//! forever in `ack` once the queue was full. Runs against a real mosquitto on loopback (installed
//! by `scripts/setup.sh`); skipped without one, except in CI.

mod common;

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use takt_twin::ListenStats;
use takt_twin::mirror::MirrorConfig;
use takt_twin::mqtt::{MqttConfig, listen};
use takt_twin::store::Store;
use takt_twin::{Counters, Twin};

const MESSAGES: u64 = 15_000;

#[test]
fn a_batch_larger_than_the_request_queue_is_acknowledged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(broker) = common::Broker::start(
        dir.path(),
        "allow_anonymous true",
        "max_inflight_messages 30000\nmax_queued_messages 1000000",
    ) else {
        return;
    };
    let port = broker.port;

    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/bottling-line.toml");
    let model = takt_model::load_file(&scenario).expect("scenario").model;
    let mqtt = MqttConfig {
        host: "127.0.0.1".into(),
        port,
        site: "flood".into(),
        line: None,
        client_id: "takt-flood".into(),
        // One batch may take every message: up to 15,000 acknowledgements at once.
        batch: MESSAGES as usize,
        batch_wait: Duration::from_secs(3),
        credentials: None,
        tls: None,
        quiet_tick: takt_twin::mqtt::QUIET_TICK,
    };
    // A first session subscribes and leaves; the broker keeps it (clean_session = false) and
    // queues what is published meanwhile, then sends it all at once to the second session.
    let first = Listening::start(&model, &mqtt);
    std::thread::sleep(Duration::from_millis(500));
    let (stats, _) = first.stop();
    assert_eq!(stats.received, 0);

    let (client, mut connection) =
        Client::new(MqttOptions::new("flood-pub", "127.0.0.1", port), 100);
    let sender = std::thread::spawn(move || {
        for seq in 1..=MESSAGES {
            let payload = format!(
                r#"{{"ts":"2026-01-05T06:00:00.000+01:00","asset":"Filler","kind":"count","seq":{seq},"good":1}}"#
            );
            if client
                .publish(
                    "takt/flood/line/Filler/count",
                    QoS::AtLeastOnce,
                    false,
                    payload,
                )
                .is_err()
            {
                break;
            }
        }
        client
    });
    let mut acked = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked < MESSAGES && Instant::now() < deadline {
        if let Ok(Ok(Event::Incoming(Packet::PubAck(_)))) =
            connection.recv_timeout(Duration::from_millis(200))
        {
            acked += 1;
        }
    }
    assert_eq!(acked, MESSAGES, "the broker acknowledged every publication");
    if let Ok(client) = sender.join() {
        let _ = client.disconnect();
    }

    // The second session gets the backlog, stores it and must come back from acknowledging it.
    let second = Listening::start(&model, &mqtt);
    let deadline = Instant::now() + Duration::from_secs(60);
    while second.stored.load(Ordering::Relaxed) < MESSAGES && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        second.stored.load(Ordering::Relaxed),
        MESSAGES,
        "every message stored"
    );
    let (stats, counters) = second.stop();
    assert_eq!((stats.received, stats.accepted), (MESSAGES, MESSAGES));
    assert_eq!(counters.accepted, MESSAGES);
    drop(broker);
}

/// A twin (in memory) listening on a thread of its own.
struct Listening {
    stop: Arc<AtomicBool>,
    stored: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<(Result<ListenStats, String>, Counters)>,
}

impl Listening {
    fn start(model: &takt_model::Model, mqtt: &MqttConfig) -> Listening {
        let mut twin = Twin::open(
            model,
            Store::memory().expect("store"),
            MirrorConfig::default(),
        )
        .expect("twin");
        let stop = Arc::new(AtomicBool::new(false));
        let stored = Arc::new(AtomicU64::new(0));
        let thread = {
            let (stop, stored, mqtt) = (Arc::clone(&stop), Arc::clone(&stored), mqtt.clone());
            std::thread::spawn(move || {
                let stats = listen(&mut twin, &mqtt, &stop, |_, r| {
                    stored.fetch_add(r.accepted, Ordering::Relaxed);
                });
                (stats.map_err(|e| e.to_string()), twin.counters())
            })
        };
        Listening {
            stop,
            stored,
            thread,
        }
    }

    /// Stops it; fails if it does not return within 30 s (stuck acknowledging).
    fn stop(self) -> (ListenStats, Counters) {
        self.stop.store(true, Ordering::Relaxed);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.thread.is_finished() {
            assert!(
                Instant::now() < deadline,
                "the listener is stuck (acknowledging a batch of up to {MESSAGES}?)"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let (stats, counters) = self.thread.join().expect("listener thread");
        (stats.expect("listening"), counters)
    }
}
