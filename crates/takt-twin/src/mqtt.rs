//! Live ingestion over MQTT. The twin subscribes to `takt/<site>/+/+/+` (one plant of a site with
//! several: `takt/<site>/<plant id>/+/+`): topics
//! `takt/<site>/<line>/<asset>/<kind>`, each payload one event in the takt schema whose `asset` and
//! `kind` match the topic (or a JSON array of such events). Messages arrive with QoS 1 and manual
//! acknowledgement: a batch is acknowledged only after it is stored, and the session persists
//! (`clean_session = false`), so the broker redelivers what was not acknowledged; redelivered events
//! are duplicates by `asset` + `seq` and counted as such. A bad payload is counted, logged and kept
//! as a dead letter; it never stops the good ones. A lost connection is retried with exponential
//! backoff (0.1 s doubling to 5 s).
//!
//! A plant's broker usually wants a login and TLS: [`MqttConfig::credentials`] sends a user name and
//! password, [`MqttConfig::tls`] connects over TLS (rustls with the *ring* provider) trusting a CA
//! file or the operating system's roots, with a client certificate where the broker requires one.
//! A refusal that no retry can mend (bad user name or password, not authorized, a certificate that
//! does not verify) ends [`listen`] with an error that says so, instead of retrying forever.
//!
//! Broker settings matter for throughput and loss: mosquitto sends at most `max_inflight_messages`
//! (default 20) unacknowledged messages per client, and queues at most `max_queued_messages`
//! (default 1000) for a slow or disconnected client, dropping the rest. For a plant feed raise both
//! (the window to a few batches, e.g. 4000 for batches of 1000, so the broker sends the next batch
//! while the twin stores the last; the queue to e.g. 1000000) and enable `persistence`; see README.

use crate::batching::Batching;
use crate::event::{self, Checked, EventError};
use crate::{IngestReport, ListenStats, Sink, TwinError};
use rumqttc::{
    Client, ConnectReturnCode, Connection, ConnectionError, Event, MqttOptions, Packet, Publish,
    QoS, TlsConfiguration, Transport,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct MqttConfig {
    pub host: String,
    pub port: u16,
    pub site: String,
    /// Only this line's topics (`takt/<site>/<line>/+/+`: a site's plants each take their own);
    /// `None`: every line's.
    pub line: Option<String>,
    pub client_id: String,
    /// At most this many messages per stored batch.
    pub batch: usize,
    /// A batch is stored at the latest this long after its first message.
    pub batch_wait: Duration,
    /// User name and password sent on CONNECT; `None` connects anonymously.
    pub credentials: Option<MqttCredentials>,
    /// Connect over TLS; `None` is plain TCP.
    pub tls: Option<MqttTls>,
    /// How often `listen` calls back with an empty report while no batch comes
    /// ([`QUIET_TICK`] by default).
    pub quiet_tick: Duration,
}

/// A login at the broker. `Debug` does not show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct MqttCredentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for MqttCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttCredentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// TLS to the broker. The broker's certificate must verify against `ca_file` (PEM, one or more
/// certificates) or, without one, the operating system's trusted roots, and name the host the
/// twin connects to (a DNS name or an IP address in its subject alternative names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MqttTls {
    pub ca_file: Option<PathBuf>,
    /// The twin's certificate chain and private key (PEM files), for brokers that require a client
    /// certificate (`require_certificate true` in mosquitto).
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

/// Why listening could not start or cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    #[error("MQTT TLS: {}: {problem}", path.display())]
    TlsFile { path: PathBuf, problem: String },
    #[error("MQTT TLS settings: {0}")]
    Tls(String),
    #[error("MQTT: the broker at {broker} refused the connection: {reason}")]
    Refused { broker: String, reason: String },
}

impl MqttConfig {
    pub fn topic_filter(&self) -> String {
        format!(
            "takt/{}/{}/+/+",
            self.site,
            self.line.as_deref().unwrap_or("+")
        )
    }
}

const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often `listen` calls back with an empty report while no batch comes, by default.
pub const QUIET_TICK: Duration = Duration::from_secs(15);

/// Listens until `stop` is set; `on_batch` sees every stored batch, and an empty report every
/// `config.quiet_tick` without one (so that what depends on the clock, an alert on a machine gone
/// silent, is judged while the plant says nothing).
///
/// rumqttc's event loop runs on a thread of its own that only ever waits on it, never with a
/// timeout: a poll cut short by a timeout can drop a request it has already taken (an
/// acknowledgement or a subscription), and a loop that both polls and acknowledges deadlocks once
/// more acknowledgements wait than the request queue holds (it blocks in `ack` while nobody
/// polls). The events come over a channel, which waits with a timeout safely.
pub fn listen<S: Sink>(
    twin: &mut S,
    config: &MqttConfig,
    stop: &AtomicBool,
    mut on_batch: impl FnMut(&mut S, &IngestReport),
) -> Result<ListenStats, TwinError> {
    let mut options = options(config, &config.client_id)?;
    options.set_manual_acks(true);
    let (client, connection) = Client::new(options, 10_000);
    let done = Arc::new(AtomicBool::new(false));
    let events = spawn_connection(connection, config, Arc::clone(&done));
    let filter = config.topic_filter();
    let mut stats = ListenStats::default();
    let mut batch: Vec<Publish> = Vec::with_capacity(config.batch);
    let mut batching = Batching::new(config.batch, config.batch_wait, config.quiet_tick);
    let mut connected_once = false;
    let result = (|| {
        while !stop.load(Ordering::Relaxed) {
            // A partial batch is stored as soon as the stream pauses: the broker sends no more
            // than its in-flight window (mosquitto: `max_inflight_messages`, 20 by default)
            // before we ack.
            let mut idle = false;
            match events.recv_timeout(batching.wait()) {
                Ok(Ok(Event::Incoming(Packet::Publish(p)))) => {
                    batching.arrived();
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
                Ok(Err(fatal)) => {
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
                    batching.stored();
                    if let Some(e) = fatal {
                        return Err(e.into());
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    idle = true;
                    if batching.quiet_tick_due(batch.len()) {
                        on_batch(twin, &IngestReport::default());
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if batching.store_due(batch.len(), idle) {
                store(
                    twin,
                    config,
                    &client,
                    &mut batch,
                    true,
                    &mut stats,
                    &mut on_batch,
                )?;
                batching.stored();
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

/// What the connection thread passes on: an event, or an error for a lost connection: `None` when
/// it is retried after a backoff (logged there), the reason when no retry can mend it (the thread
/// then ends).
type Incoming = Result<Event, Option<MqttError>>;

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
                    Err(e) => match fatal_reason(&e) {
                        Some(reason) => {
                            let broker = format!("{host}:{port}");
                            tracing::error!("MQTT: the broker at {broker} refused: {reason}");
                            let _ = tx.send(Err(Some(MqttError::Refused { broker, reason })));
                            break;
                        }
                        None => {
                            log_connection_error(&e, &host, port, backoff);
                            Err(None)
                        }
                    },
                };
                let failed = event.is_err();
                if tx.send(event).is_err() {
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

/// Why a failed connection cannot succeed on a retry, or `None` when it may (the broker away, the
/// network down, a connection cut).
pub(crate) fn fatal_reason(e: &ConnectionError) -> Option<String> {
    match e {
        ConnectionError::ConnectionRefused(code) => match code {
            ConnectReturnCode::BadUserNamePassword => Some("bad user name or password".into()),
            ConnectReturnCode::NotAuthorized => Some(
                "not authorized (check the user name and password, or the broker's ACL)".into(),
            ),
            ConnectReturnCode::BadClientId => Some("client id rejected".into()),
            ConnectReturnCode::RefusedProtocolVersion => Some("MQTT 3.1.1 not accepted".into()),
            // The broker is up but cannot serve now: worth retrying.
            ConnectReturnCode::ServiceUnavailable | ConnectReturnCode::Success => None,
        },
        ConnectionError::Tls(rumqttc::TlsError::DNSName(e)) => {
            Some(format!("TLS: the host is not a valid server name ({e})"))
        }
        // A TLS handshake that failed on a certificate or a protocol alert: the same settings fail
        // the same way next time. It may come at the handshake or, with TLS 1.3, at the first
        // read (the broker rejecting the twin's certificate), wrapped in I/O errors.
        other => rustls_error(other).map(|e| format!("TLS: {e}")),
    }
}

/// The rustls error somewhere in `e`'s chain of causes. An `io::Error` wrapping another error does
/// not list it as its source, so each level is also opened as an `io::Error`.
fn rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut level: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = level {
        if let Some(found) = err.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        if let Some(found) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(found);
        }
        level = err.source();
    }
    None
}

/// The rustls client settings of `tls`: the trusted roots, and the client certificate if any.
pub fn tls_client_config(tls: &MqttTls) -> Result<rustls::ClientConfig, MqttError> {
    let client_cert = tls
        .client_cert
        .as_ref()
        .map(|(cert, key)| (cert.as_path(), key.as_path()));
    crate::tls::client_config(tls.ca_file.as_deref(), client_cert, "MQTT").map_err(|e| match e {
        crate::tls::TlsSetupError::File { path, problem } => MqttError::TlsFile { path, problem },
        crate::tls::TlsSetupError::Settings(words) => MqttError::Tls(words),
    })
}

fn log_connection_error(e: &ConnectionError, host: &str, port: u16, backoff: Duration) {
    tracing::warn!(
        "MQTT: connection to {host}:{port} failed ({e}); retrying in {:.1} s",
        backoff.as_secs_f64()
    );
}

/// Stores a batch (durably), then acknowledges its messages.
fn store<S: Sink>(
    twin: &mut S,
    config: &MqttConfig,
    client: &Client,
    batch: &mut Vec<Publish>,
    ack: bool,
    stats: &mut ListenStats,
    on_batch: &mut impl FnMut(&mut S, &IngestReport),
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
    stats.received += batch.len() as u64;
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
    on_batch(twin, &report);
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

/// The connection settings of `config` (broker, login, TLS) for a client named `client_id`, with
/// a persistent session.
pub(crate) fn options(config: &MqttConfig, client_id: &str) -> Result<MqttOptions, MqttError> {
    let mut options = MqttOptions::new(client_id, &config.host, config.port);
    options
        .set_keep_alive(Duration::from_secs(10))
        .set_clean_session(false)
        .set_max_packet_size(1 << 20, 1 << 20);
    if let Some(login) = &config.credentials {
        options.set_credentials(&login.username, &login.password);
    }
    if let Some(tls) = &config.tls {
        let client_config = tls_client_config(tls)?;
        options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
            Arc::new(client_config),
        )));
    }
    Ok(options)
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
