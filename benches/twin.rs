//! The live twin's ingestion rates, side by side in one run, on a simulated recording of the bottling
//! line (JSON Lines in the takt event schema, as `takt run --trace` writes them):
//! - parse and check only, on one core;
//! - parse, check and mirror (no storage), on one core;
//! - the replay path of `takt replay --speed max` without `--db`: the whole ingestion path with
//!   parsing spread over the cores, deduplication in memory, then the mirror (no durability);
//! - into a SQLite file in WAL mode, batches of 1,000 events per transaction, with
//!   `synchronous = NORMAL` (survives a crash) and `FULL` (survives a power cut).
//!
//! - over MQTT from a real mosquitto on loopback (QoS 1, acknowledged after each durable batch).
//!
//! Run: `cargo bench -p takt-benches --bench twin` (or `benches/run.sh twin`). `TAKT_HOURS` sets the
//! length of the recording (default 8 simulated hours).

use std::sync::{Arc, Mutex};
use std::time::Instant;
use takt_model::load_file;
use takt_sim::Simulation;
use takt_twin::mirror::{Mirror, MirrorConfig};
use takt_twin::store::{Durability, Store};
use takt_twin::{Twin, assets_of, event};

fn rate(n: usize, seconds: f64) -> String {
    format!("{:>12.0} events/s ({seconds:.3} s)", n as f64 / seconds)
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let loaded = match load_file(&root.join("scenarios/bottling-line.toml")) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    let hours: f64 = std::env::var("TAKT_HOURS")
        .ok()
        .and_then(|h| h.parse().ok())
        .unwrap_or(8.0);
    let model = Arc::new(loaded.model);
    let sink = takt_benches::Lines::new(model.timebase);
    let mut sim = Simulation::new(Arc::clone(&model), 1);
    sim.set_trace(Box::new(sink.clone()));
    sim.run_until(hours * 3600.0);
    let lines = sink.lines();
    let n = lines.len();
    println!("recording: {hours} h of the bottling line, {n} events");
    let window = model.timebase.start_unix_s * 1000;
    let names: Vec<String> = assets_of(&model).into_iter().map(|(a, _)| a).collect();

    // Warm the allocator and caches once before timing.
    let _ = lines.iter().filter(|l| event::parse(l).is_ok()).count();
    let t = Instant::now();
    let parsed: Vec<_> = lines.iter().filter_map(|l| event::parse(l).ok()).collect();
    println!(
        "parse and check, 1 core   {}",
        rate(n, t.elapsed().as_secs_f64())
    );
    assert_eq!(parsed.len(), n);

    let t = Instant::now();
    let mut mirror = Mirror::new(&names, window, MirrorConfig::default());
    for l in &lines {
        if let Ok(c) = event::parse(l) {
            mirror.offer(c);
        }
    }
    println!(
        "parse, check, mirror, 1 core {}",
        rate(n, t.elapsed().as_secs_f64())
    );

    let t = Instant::now();
    let mut mirror = Mirror::new(&names, window, MirrorConfig::default());
    for c in parsed {
        mirror.offer(c);
    }
    println!(
        "mirror only (parsed)      {}",
        rate(n, t.elapsed().as_secs_f64())
    );

    let ingest = |store: Store| -> f64 {
        let mut twin = match Twin::open(&model, store, window, MirrorConfig::default()) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let t = Instant::now();
        for chunk in refs.chunks(1000) {
            if let Err(e) = twin.ingest_lines("bench", chunk, 0) {
                panic!("{e}");
            }
        }
        let s = t.elapsed().as_secs_f64();
        assert_eq!(twin.counters().accepted as usize, n);
        s
    };
    let s = ingest(Store::memory().unwrap_or_else(|e| panic!("{e}")));
    println!(
        "replay into the mirror (takt replay, no --db) {}",
        rate(n, s)
    );
    let dir = std::env::temp_dir().join(format!("takt-twin-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    for (label, durability) in [
        ("ingest, WAL NORMAL       ", Durability::Normal),
        ("ingest, WAL FULL         ", Durability::Full),
    ] {
        let path = dir.join(format!("{label}.db").replace(' ', "").replace(',', "-"));
        let _ = std::fs::remove_file(&path);
        let store = Store::open(&path, durability).unwrap_or_else(|e| panic!("{e}"));
        println!("{label} {}", rate(n, ingest(store)));
    }
    let _ = std::fs::remove_dir_all(&dir);
    mqtt_rate(&model, &lines, window);
}

/// MQTT ingestion against a real mosquitto on loopback (when installed: `scripts/setup.sh`):
/// `n` messages of QoS 1 published as fast as the broker takes them, stored durably (WAL, FULL) in
/// batches, acknowledged after each commit. Rate = messages / time from the first publish until
/// the twin has stored the last.
fn mqtt_rate(model: &Arc<takt_model::Model>, lines: &[String], window: i64) {
    use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
    use std::sync::atomic::{AtomicBool, Ordering};
    let Some(bin) = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists())
    else {
        println!("mqtt: skipped (mosquitto not installed; scripts/setup.sh installs it)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("takt-mqtt-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18830);
    let conf = dir.join("mosquitto.conf");
    let _ = std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 5000\nmax_queued_messages 10000000\nuser root\n"
        ),
    );
    let mut broker = match std::process::Command::new(&bin)
        .arg("-c")
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            println!("mqtt: skipped ({e})");
            return;
        }
    };
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let n = lines.len().min(200_000);
    let store =
        Store::open(&dir.join("mqtt.db"), Durability::Full).unwrap_or_else(|e| panic!("{e}"));
    let mut twin =
        Twin::open(model, store, window, MirrorConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let stop = Arc::new(AtomicBool::new(false));
    let config = takt_twin::mqtt::MqttConfig {
        host: "127.0.0.1".into(),
        port,
        site: "bench".into(),
        client_id: "takt-bench".into(),
        batch: 5000,
        batch_wait: std::time::Duration::from_millis(50),
    };
    let started = Arc::new(Mutex::new(None::<Instant>));
    let stored = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let listener = {
        let stop = Arc::clone(&stop);
        let stored = Arc::clone(&stored);
        std::thread::spawn(move || {
            let mut done = 0u64;
            let mut finished = None;
            let stats = takt_twin::mqtt::listen(&mut twin, &config, &stop, |r| {
                done += r.accepted;
                stored.store(done, Ordering::Relaxed);
                if done as usize >= n && finished.is_none() {
                    finished = Some(Instant::now());
                    stop.store(true, Ordering::Relaxed);
                }
            });
            (stats, finished)
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut options = MqttOptions::new("takt-bench-pub", "127.0.0.1", port);
    options.set_inflight(1000);
    let (client, mut connection) = Client::new(options, 10_000);
    let payloads: Vec<(String, String)> = lines[..n]
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap_or_default();
            (
                format!(
                    "takt/bench/line/{}/{}",
                    v["asset"].as_str().unwrap_or_default(),
                    v["kind"].as_str().unwrap_or_default()
                ),
                l.clone(),
            )
        })
        .collect();
    if let Ok(mut s) = started.lock() {
        *s = Some(Instant::now());
    }
    let t0 = Instant::now();
    let publisher = std::thread::spawn(move || {
        for (topic, payload) in payloads {
            if client
                .publish(topic, QoS::AtLeastOnce, false, payload)
                .is_err()
            {
                break;
            }
        }
        client
    });
    let mut acked = 0;
    // Pings also arrive here: the wait ends 10 s after the last acknowledgement, whatever else comes.
    let mut last_ack = Instant::now();
    while acked < n && last_ack.elapsed() < std::time::Duration::from_secs(10) {
        match connection.recv_timeout(std::time::Duration::from_secs(10)) {
            Ok(Ok(Event::Incoming(Packet::PubAck(_)))) => {
                acked += 1;
                last_ack = Instant::now();
            }
            Ok(Err(e)) => {
                println!("mqtt: publisher failed: {e}");
                break;
            }
            Err(_) => break,
            _ => {}
        }
    }
    // Everything is published and acknowledged by the broker: give the twin 30 s more to store the
    // rest, then stop it and say how far it got rather than wait forever.
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    while (stored.load(Ordering::Relaxed) as usize) < n && Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    let (stats, finished) = listener.join().unwrap_or((Ok(Default::default()), None));
    let accepted = stats.as_ref().map_or(0, |s| s.accepted);
    // A publisher stuck on a full request queue would never return: joined only if it finished.
    if acked >= n {
        let _ = publisher.join();
    } else {
        println!("mqtt: the broker acknowledged {acked} of {n} publications");
    }
    let _ = broker.kill();
    let _ = broker.wait();
    let _ = std::fs::remove_dir_all(&dir);
    match finished {
        Some(f) => println!(
            "mqtt (mosquitto, QoS 1, WAL FULL) {}",
            rate(accepted as usize, (f - t0).as_secs_f64())
        ),
        None => println!(
            "mqtt: only {accepted} of {n} messages stored in time ({:?})",
            stats.map(|s| (s.messages, s.duplicates, s.rejected, s.reconnects))
        ),
    }
}
