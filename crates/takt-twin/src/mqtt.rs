//! Live ingestion over MQTT. The twin subscribes to `takt/<site>/+/+/+`: topics
//! `takt/<site>/<line>/<asset>/<kind>`, each payload one event in the takt schema whose `asset` and
//! `kind` match the topic (or a JSON array of such events). Messages arrive with QoS 1 and manual
//! acknowledgement: a batch is acknowledged only after it is stored, and the session persists
//! (`clean_session = false`), so the broker redelivers what was not acknowledged; redelivered events
//! are duplicates by `asset` + `seq` and counted as such. A bad payload is counted, logged and kept
//! as a dead letter; it never stops the good ones. A lost connection is retried with exponential
//! backoff (0.1 s doubling to 5 s).
//!
//! Broker settings matter for throughput and loss: mosquitto sends at most `max_inflight_messages`
//! (default 20) unacknowledged messages per client, and queues at most `max_queued_messages`
//! (default 1000) for a slow or disconnected client, dropping the rest. For a plant feed raise both
//! (the window to a few batches, e.g. 4000 for batches of 1000, so the broker sends the next batch
//! while the twin stores the last; the queue to e.g. 1000000) and enable `persistence`; see README.

use crate::event::{self, Checked, EventError};
use crate::{IngestReport, Twin, TwinError};
use rumqttc::{Client, Connection, ConnectionError, Event, MqttOptions, Packet, Publish, QoS};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct MqttConfig {
    pub host: String,
    pub port: u16,
    pub site: String,
    pub client_id: String,
    /// At most this many messages per stored batch.
    pub batch: usize,
    /// A batch is stored at the latest this long after its first message.
    pub batch_wait: Duration,
}

impl MqttConfig {
    pub fn topic_filter(&self) -> String {
        format!("takt/{}/+/+/+", self.site)
    }
}

/// What a listening session did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListenStats {
    pub messages: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub reconnects: u64,
}

const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A pause in the stream this long stores the partial batch.
const IDLE: Duration = Duration::from_millis(2);

/// Listens until `stop` is set; `on_batch` sees every stored batch.
///
/// rumqttc's event loop runs on a thread of its own that only ever waits on it, never with a
/// timeout: a poll cut short by a timeout can drop a request it has already taken (an
/// acknowledgement or a subscription), and a loop that both polls and acknowledges deadlocks once
/// more acknowledgements wait than the request queue holds (it blocks in `ack` while nobody
/// polls). The events come over a channel, which waits with a timeout safely.
pub fn listen(
    twin: &mut Twin,
    config: &MqttConfig,
    stop: &AtomicBool,
    mut on_batch: impl FnMut(&IngestReport),
) -> Result<ListenStats, TwinError> {
    let mut options = MqttOptions::new(&config.client_id, &config.host, config.port);
    options
        .set_keep_alive(Duration::from_secs(10))
        .set_manual_acks(true)
        .set_clean_session(false)
        .set_max_packet_size(1 << 20, 1 << 20);
    let (client, connection) = Client::new(options, 10_000);
    let done = Arc::new(AtomicBool::new(false));
    let events = spawn_connection(connection, config, Arc::clone(&done));
    let filter = config.topic_filter();
    let mut stats = ListenStats::default();
    let mut batch: Vec<Publish> = Vec::with_capacity(config.batch);
    let mut first_at: Option<Instant> = None;
    let mut connected_once = false;
    let result = (|| {
        while !stop.load(Ordering::Relaxed) {
            // A partial batch is stored as soon as the stream pauses: the broker sends no more
            // than its in-flight window (mosquitto: `max_inflight_messages`, 20 by default)
            // before we ack.
            let wait = first_at.map_or(Duration::from_millis(100), |t| {
                IDLE.min(config.batch_wait.saturating_sub(t.elapsed()))
            });
            let mut idle = false;
            match events.recv_timeout(wait) {
                Ok(Ok(Event::Incoming(Packet::Publish(p)))) => {
                    first_at.get_or_insert_with(Instant::now);
                    batch.push(p);
                }
                Ok(Ok(Event::Incoming(Packet::ConnAck(ack)))) => {
                    if connected_once {
                        stats.reconnects += 1;
                        tracing::info!("MQTT: reconnected to {}:{}", config.host, config.port);
                    }
                    connected_once = true;
                    if !ack.session_present
                        && let Err(e) = client.subscribe(&filter, QoS::AtLeastOnce)
                    {
                        tracing::warn!("MQTT: cannot subscribe to {filter}: {e}");
                    }
                }
                Ok(Ok(_)) => {}
                Ok(Err(())) => {
                    // Whatever arrived is stored; its acknowledgements died with the connection,
                    // so the broker sends it again and it counts as duplicates.
                    store(
                        twin,
                        config,
                        &client,
                        &mut batch,
                        false,
                        &mut stats,
                        &mut on_batch,
                    )?;
                    first_at = None;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => idle = true,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            let due = idle || first_at.is_some_and(|t| t.elapsed() >= config.batch_wait);
            if batch.len() >= config.batch || (due && !batch.is_empty()) {
                store(
                    twin,
                    config,
                    &client,
                    &mut batch,
                    true,
                    &mut stats,
                    &mut on_batch,
                )?;
                first_at = None;
            }
        }
        store(
            twin,
            config,
            &client,
            &mut batch,
            true,
            &mut stats,
            &mut on_batch,
        )
    })();
    // The connection thread ends at its next event: the DISCONNECT going out, or the request
    // queue closing when `client` is dropped here.
    done.store(true, Ordering::Relaxed);
    let _ = client.disconnect();
    result.map(|()| stats)
}

/// What the connection thread passes on: an event, or `Err(())` for a lost connection (logged
/// there, and retried after a backoff).
type Incoming = Result<Event, ()>;

/// Runs the event loop on its own thread until `done` is set, the request queue closes or the
/// listener is gone. A lost connection is retried with exponential backoff, reset on CONNACK.
/// The channel is unbounded: the broker's in-flight window bounds what QoS 1 delivers before we
/// acknowledge.
fn spawn_connection(
    mut connection: Connection,
    config: &MqttConfig,
    done: Arc<AtomicBool>,
) -> mpsc::Receiver<Incoming> {
    let (tx, rx) = mpsc::channel();
    let (host, port) = (config.host.clone(), config.port);
    let spawned = std::thread::Builder::new()
        .name("takt-mqtt".into())
        .spawn(move || {
            let mut backoff = Duration::from_millis(100);
            while !done.load(Ordering::Relaxed) {
                let Ok(event) = connection.recv() else {
                    break;
                };
                let event = match event {
                    Ok(e) => {
                        if matches!(e, Event::Incoming(Packet::ConnAck(_))) {
                            backoff = Duration::from_millis(100);
                        }
                        Ok(e)
                    }
                    Err(e) => {
                        log_connection_error(&e, &host, port, backoff);
                        Err(e)
                    }
                };
                let failed = event.is_err();
                if tx.send(event.map_err(|_| ())).is_err() {
                    break;
                }
                if failed {
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        });
    if let Err(e) = spawned {
        // Without the thread no event arrives: the receiver reports the sender gone at once.
        tracing::error!("MQTT: cannot start the connection thread: {e}");
    }
    rx
}

fn log_connection_error(e: &ConnectionError, host: &str, port: u16, backoff: Duration) {
    tracing::warn!(
        "MQTT: connection to {host}:{port} failed ({e}); retrying in {:.1} s",
        backoff.as_secs_f64()
    );
}

/// Stores a batch (durably), then acknowledges its messages.
fn store(
    twin: &mut Twin,
    config: &MqttConfig,
    client: &Client,
    batch: &mut Vec<Publish>,
    ack: bool,
    stats: &mut ListenStats,
    on_batch: &mut impl FnMut(&IngestReport),
) -> Result<(), TwinError> {
    if batch.is_empty() {
        return Ok(());
    }
    // Decoding and parsing need only the message: spread over the cores, in order (as in
    // `Twin::ingest_lines`). One result per message, collected in place; the events then move
    // once into the batch for the twin.
    use rayon::prelude::*;
    let decoded: Vec<_> = batch
        .par_iter()
        .with_min_len(256)
        .map(|p| decode(&config.site, &p.topic, &p.payload))
        .collect();
    let mut parsed = Vec::with_capacity(decoded.iter().map(Vec::len).sum());
    for (p, events) in batch.iter().zip(decoded) {
        let source = format!("mqtt:{}", p.topic);
        parsed.extend(
            events
                .into_iter()
                .map(|(result, raw)| (source.clone(), result, raw)),
        );
    }
    stats.messages += batch.len() as u64;
    let report = twin.ingest_parsed(parsed, now_ms())?;
    if !report.rejected.is_empty() {
        tracing::warn!(
            "MQTT: {} event(s) rejected, first: {}",
            report.rejected.len(),
            report.rejected[0].reason
        );
    }
    stats.accepted += report.accepted;
    stats.duplicates += report.duplicates;
    stats.rejected += report.rejected.len() as u64;
    on_batch(&report);
    if ack {
        for p in batch.iter() {
            if let Err(e) = client.ack(p) {
                tracing::warn!("MQTT: cannot acknowledge: {e}");
            }
        }
    }
    batch.clear();
    Ok(())
}

/// The events of one message, each checked against the topic it came on.
pub fn decode(
    site: &str,
    topic: &str,
    payload: &[u8],
) -> Vec<(Result<Checked, EventError>, String)> {
    let text = String::from_utf8_lossy(payload).into_owned();
    let mut parts = topic.split('/');
    let mut next = || parts.next();
    let levels = [next(), next(), next(), next(), next(), next()];
    let (asset, kind) = match levels {
        [
            Some("takt"),
            Some(s),
            Some(_line),
            Some(asset),
            Some(kind),
            None,
        ] if s == site => (asset, kind),
        _ => {
            let e = EventError {
                field: String::new(),
                message: format!("topic `{topic}` is not takt/{site}/<line>/<asset>/<kind>"),
            };
            return vec![(Err(e), text)];
        }
    };
    // A batch of events is a JSON array; anything else is read as one event.
    let items: Vec<String> = if text.trim_start().starts_with('[') {
        match serde_json::from_str::<Vec<Box<serde_json::value::RawValue>>>(&text) {
            Ok(items) => items.iter().map(|v| v.get().to_string()).collect(),
            Err(_) => vec![text],
        }
    } else {
        vec![text]
    };
    items
        .into_iter()
        .map(|raw| {
            let result = event::parse(&raw).and_then(|c| {
                let mismatch = [
                    ("asset", c.event.asset.as_str(), asset),
                    ("kind", c.event.body.kind(), kind),
                ]
                .into_iter()
                .find(|(_, got, want)| got != want);
                match mismatch {
                    Some((field, got, want)) => Err(EventError {
                        field: field.into(),
                        message: format!("`{got}` does not match the topic's {field} `{want}`"),
                    }),
                    None => Ok(c),
                }
            });
            (result, raw)
        })
        .collect()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_must_match_their_payload() {
        let ok =
            r#"{"ts":"2026-01-05T06:00:00Z","asset":"Filler","kind":"count","seq":1,"good":1}"#;
        let d = decode("plant", "takt/plant/line1/Filler/count", ok.as_bytes());
        assert!(d[0].0.is_ok());
        let d = decode("plant", "takt/plant/line1/Labeller/count", ok.as_bytes());
        assert_eq!(
            d[0].0.as_ref().err().map(|e| e.field.as_str()),
            Some("asset")
        );
        let d = decode("plant", "takt/plant/line1/Filler/state", ok.as_bytes());
        assert_eq!(
            d[0].0.as_ref().err().map(|e| e.field.as_str()),
            Some("kind")
        );
        for topic in [
            "other/topic",
            "takt/plant/line1/Filler/count/extra",
            "takt/elsewhere/line1/Filler/count",
            "takt/plant/line1/Filler",
        ] {
            let d = decode("plant", topic, ok.as_bytes());
            assert!(d[0].0.is_err(), "{topic}");
        }
        let batch = format!("[{ok},{}]", ok.replace("\"seq\":1", "\"seq\":2"));
        let d = decode("plant", "takt/plant/line1/Filler/count", batch.as_bytes());
        assert_eq!(d.iter().filter(|x| x.0.is_ok()).count(), 2);
    }
}
