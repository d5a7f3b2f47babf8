//! Live ingestion over OPC UA: the twin subscribes to a machine controller's nodes (monitored items
//! of one subscription) and turns every data change into a takt event through a mapping file
//! ([`map`]). The client is async-opcua's; it runs on a thread of its own with a small tokio
//! runtime, and hands the changes over a channel to the caller's thread, which batches, stores
//! (durably) and mirrors them as the MQTT listener does.
//!
//! Security: `None` (for tests and closed networks), or Basic256Sha256 with Sign or Sign&Encrypt.
//! The twin's application instance certificate and key are created in the PKI folder on first use
//! (`own/cert.der`, `private/private.pem`); the server's operator trusts that certificate. The
//! server's certificate must be in `trusted/`: an unknown one is put in `rejected/` and the
//! connection refused, with a message saying where it is, so that a person decides to trust it (the
//! usual OPC UA practice). A user name and password log in where the server asks for one.
//!
//! A lost connection (a server restarted, a cable pulled) is retried with exponential backoff
//! (0.1 s doubling to 5 s) and the subscription created again on the new session. The server then
//! sends every node's current value: values already stored are duplicates by `asset` + `seq` (see
//! [`map`]), and counters, as running totals, count what was made during the outage. State changes
//! that began and ended while the connection was down are not seen: OPC UA keeps no history for a
//! subscription that is gone.
//!
//! A refusal no retry can mend (the server's certificate not trusted, the twin's refused, a bad
//! login, no endpoint with the chosen security, a node that does not exist) ends [`listen`] with
//! an error that says so.

pub mod map;

use crate::batching::Batching;
use crate::{IngestReport, ListenStats, Sink, TwinError};
use map::{NodeMap, Reading, Tallies};
use opcua::client::{ClientBuilder, DataChangeCallback, IdentityToken, SessionPollResult};
use opcua::types::{
    DataValue, MessageSecurityMode, MonitoredItemCreateRequest, NodeId, StatusCode,
    TimestampsToReturn, UserTokenPolicy, Variant,
};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Security {
    /// No signature, no encryption.
    #[default]
    None,
    /// Basic256Sha256, signed.
    Sign,
    /// Basic256Sha256, signed and encrypted.
    SignAndEncrypt,
}

impl Security {
    fn policy_and_mode(self) -> (&'static str, MessageSecurityMode) {
        match self {
            Security::None => ("None", MessageSecurityMode::None),
            Security::Sign => ("Basic256Sha256", MessageSecurityMode::Sign),
            Security::SignAndEncrypt => ("Basic256Sha256", MessageSecurityMode::SignAndEncrypt),
        }
    }
}

/// A login at the server. `Debug` does not show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct OpcuaLogin {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for OpcuaLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpcuaLogin")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct OpcuaConfig {
    /// `opc.tcp://host:4840/path`.
    pub endpoint: String,
    pub security: Security,
    /// `None` connects anonymously.
    pub login: Option<OpcuaLogin>,
    /// The twin's certificates: `own/`, `private/`, `trusted/`, `rejected/`.
    pub pki_dir: PathBuf,
    /// At most this many values per stored batch.
    pub batch: usize,
    /// A batch is stored at the latest this long after its first value.
    pub batch_wait: Duration,
    /// How often `listen` calls back with an empty report while no batch comes.
    pub quiet_tick: Duration,
}

/// Why listening could not start or cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum OpcuaError {
    #[error("OPC UA: the client cannot be set up: {0}")]
    Setup(String),
    #[error("OPC UA: {endpoint}: {reason}")]
    Refused { endpoint: String, reason: String },
}

/// What the client thread hands over.
enum Incoming {
    Value(usize, DataValue),
    Reconnected,
    Fatal(OpcuaError),
}

/// Changes a server keeps per node between two publications.
const QUEUE_SIZE: u32 = 100;
/// At most this many changes in one publication (the server sends the rest in the next).
const MAX_PER_PUBLISH: u32 = 10_000;
/// Changes received and not yet stored, at most.
const CHANNEL: usize = 100_000;

/// Listens until `stop` is set; `on_batch` sees every stored batch, and an empty report every
/// `config.quiet_tick` without one.
pub fn listen<S: Sink>(
    twin: &mut S,
    config: &OpcuaConfig,
    map: &NodeMap,
    stop: &AtomicBool,
    mut on_batch: impl FnMut(&mut S, &IngestReport),
) -> Result<ListenStats, TwinError> {
    let done = Arc::new(AtomicBool::new(false));
    // Bounded: when the twin cannot keep up, the client's thread waits in the callback, its
    // publish requests wait with it, and the server keeps (or drops the oldest of) the changes:
    // memory stays bounded whatever the server sends.
    let (tx, rx) = mpsc::sync_channel(CHANNEL);
    let client = {
        let (config, map, done) = (config.clone(), map.clone(), Arc::clone(&done));
        std::thread::Builder::new()
            .name("takt-opcua".into())
            .spawn(move || run_client(config, map, tx, done))
            .map_err(|e| OpcuaError::Setup(format!("cannot start the client thread: {e}")))?
    };
    let mut stats = ListenStats::default();
    let mut batch: Vec<(usize, DataValue)> = Vec::with_capacity(config.batch);
    let mut batching = Batching::new(config.batch, config.batch_wait, config.quiet_tick);
    let mut tallies = Tallies::default();
    let result = (|| {
        while !stop.load(Ordering::Relaxed) {
            let mut idle = false;
            match rx.recv_timeout(batching.wait()) {
                Ok(Incoming::Value(index, value)) => {
                    batching.arrived();
                    batch.push((index, value));
                }
                Ok(Incoming::Reconnected) => stats.reconnects += 1,
                Ok(Incoming::Fatal(e)) => {
                    store(
                        twin,
                        map,
                        &mut batch,
                        &mut tallies,
                        &mut stats,
                        &mut on_batch,
                    )?;
                    return Err(e.into());
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
                    map,
                    &mut batch,
                    &mut tallies,
                    &mut stats,
                    &mut on_batch,
                )?;
                batching.stored();
            }
        }
        store(
            twin,
            map,
            &mut batch,
            &mut tallies,
            &mut stats,
            &mut on_batch,
        )
    })();
    done.store(true, Ordering::Relaxed);
    drop(rx);
    let _ = client.join();
    result.map(|()| stats)
}

/// Stores a batch of data changes (durably).
fn store<S: Sink>(
    twin: &mut S,
    map: &NodeMap,
    batch: &mut Vec<(usize, DataValue)>,
    tallies: &mut Tallies,
    stats: &mut ListenStats,
    on_batch: &mut impl FnMut(&mut S, &IngestReport),
) -> Result<(), TwinError> {
    if batch.is_empty() {
        return Ok(());
    }
    let received_ms = now_ms();
    let offset = twin.utc_offset_min();
    stats.received += batch.len() as u64;
    let parsed: Vec<_> = batch
        .drain(..)
        .filter_map(|(index, value)| {
            let source = format!("opcua:{}", map.nodes[index].node);
            let (result, raw) = match reading_of(&value) {
                Ok(reading) => map.event(
                    index,
                    &reading,
                    time_us(&value, received_ms),
                    offset,
                    tallies,
                )?,
                Err(problem) => (
                    Err(crate::event::EventError {
                        field: "value".into(),
                        message: format!("node `{}`: {problem}", map.nodes[index].node),
                    }),
                    format!("{value:?}"),
                ),
            };
            Some((source, result, raw))
        })
        .collect();
    let report = twin.ingest_parsed(parsed, received_ms)?;
    if !report.rejected.is_empty() {
        tracing::warn!(
            "OPC UA: {} value(s) refused, first: {}",
            report.rejected.len(),
            report.rejected[0].reason
        );
    }
    stats.accepted += report.accepted;
    stats.duplicates += report.duplicates;
    stats.rejected += report.rejected.len() as u64;
    on_batch(twin, &report);
    Ok(())
}

/// The value's time: its source time stamp, else the server's, else when it was received; in
/// microseconds since the Unix epoch.
fn time_us(value: &DataValue, received_ms: i64) -> i64 {
    value
        .source_timestamp
        .as_ref()
        .or(value.server_timestamp.as_ref())
        .map(|t| {
            let c = t.as_chrono();
            c.timestamp_micros()
        })
        .unwrap_or(received_ms * 1000)
}

/// What the mapping reads of a data value, or why it cannot (a bad status, no value, an array).
fn reading_of(value: &DataValue) -> Result<Reading, String> {
    if let Some(status) = value.status
        && status.is_bad()
    {
        return Err(format!("the server sent no usable value ({status})"));
    }
    match &value.value {
        None | Some(Variant::Empty) => Err("the server sent no value".into()),
        Some(Variant::Boolean(b)) => Ok(Reading::Bool(*b)),
        Some(Variant::String(s)) => Ok(Reading::Text(s.as_ref().to_string())),
        Some(Variant::LocalizedText(t)) => Ok(Reading::Text(t.text.as_ref().to_string())),
        Some(v) => match v.as_f64() {
            Some(x) => Ok(Reading::Number(x)),
            None => Err(format!(
                "a value of type {:?} is not read by takt",
                v.type_id()
            )),
        },
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The client thread: a tokio runtime of its own that connects, subscribes and forwards every data
/// change until `done` is set or the listener is gone.
fn run_client(
    config: OpcuaConfig,
    map: NodeMap,
    tx: mpsc::SyncSender<Incoming>,
    done: Arc<AtomicBool>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Incoming::Fatal(OpcuaError::Setup(format!(
                "cannot start its runtime: {e}"
            ))));
            return;
        }
    };
    runtime.block_on(async move {
        if let Err(e) = session(&config, &map, &tx, &done).await {
            let _ = tx.send(Incoming::Fatal(e));
        }
    });
}

/// Why a status, met while connecting, cannot be mended by a retry, or `None` when it may be.
fn fatal(status: StatusCode, config: &OpcuaConfig) -> Option<String> {
    let pki = config.pki_dir.display();
    match status {
        StatusCode::BadCertificateUntrusted | StatusCode::BadSecurityChecksFailed => {
            let rejected = newest_file(&config.pki_dir.join("rejected"))
                .map_or(format!("{pki}/rejected/"), |f| f.display().to_string());
            Some(format!(
                "the server's certificate is not trusted ({status}): it is in {rejected}; if it \
                 is the server's, move it to {pki}/trusted/ and start again. If the server \
                 refused ours instead, its operator trusts {pki}/own/cert.der"
            ))
        }
        StatusCode::BadCertificateInvalid
        | StatusCode::BadCertificateTimeInvalid
        | StatusCode::BadCertificateHostNameInvalid
        | StatusCode::BadCertificateUriInvalid
        | StatusCode::BadCertificateRevoked
        | StatusCode::BadCertificateIssuerRevoked
        | StatusCode::BadCertificateRevocationUnknown
        | StatusCode::BadCertificateUseNotAllowed => {
            Some(format!("a certificate does not verify ({status})"))
        }
        StatusCode::BadUserAccessDenied
        | StatusCode::BadIdentityTokenInvalid
        | StatusCode::BadIdentityTokenRejected => Some(format!(
            "the server refused the login ({status}): check the user name and password"
        )),
        StatusCode::BadSecurityPolicyRejected | StatusCode::BadSecurityModeRejected => Some(
            format!("the server does not accept this security ({status})"),
        ),
        _ => None,
    }
}

/// The most recently changed file in `dir`.
fn newest_file(dir: &std::path::Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, path)| path)
}

async fn session(
    config: &OpcuaConfig,
    map: &NodeMap,
    tx: &mpsc::SyncSender<Incoming>,
    done: &AtomicBool,
) -> Result<(), OpcuaError> {
    use futures::StreamExt;
    let refused = |reason: String| OpcuaError::Refused {
        endpoint: config.endpoint.clone(),
        reason,
    };
    let mut client = ClientBuilder::new()
        .application_name("takt twin")
        .application_uri("urn:takt:twin")
        .product_uri("urn:takt")
        .pki_dir(config.pki_dir.clone())
        .create_sample_keypair(true)
        .trust_server_certs(false)
        .session_retry_limit(-1)
        .session_retry_initial(Duration::from_millis(100))
        .session_retry_max(Duration::from_secs(5))
        .client()
        .map_err(|problems| OpcuaError::Setup(problems.join("; ")))?;
    let (policy, mode) = config.security.policy_and_mode();
    let identity = match &config.login {
        None => IdentityToken::Anonymous,
        Some(l) => IdentityToken::new_user_name(l.username.clone(), l.password.clone()),
    };
    // The server's endpoints are read first; a server not up yet is waited for, with backoff.
    let mut backoff = Duration::from_millis(100);
    let (session, event_loop) = loop {
        if done.load(Ordering::Relaxed) {
            return Ok(());
        }
        let endpoint: opcua::types::EndpointDescription = (
            config.endpoint.as_str(),
            policy,
            mode,
            UserTokenPolicy::anonymous(),
        )
            .into();
        // The client retries an unreachable server itself (with the backoff set above): the
        // attempt is watched so that `done` ends it.
        let mut attempt =
            std::pin::pin!(client.connect_to_matching_endpoint(endpoint, identity.clone()));
        let outcome = loop {
            if done.load(Ordering::Relaxed) {
                return Ok(());
            }
            if let Ok(outcome) =
                tokio::time::timeout(Duration::from_millis(100), &mut attempt).await
            {
                break outcome;
            }
        };
        match outcome {
            Ok(connected) => break connected,
            Err(e) => {
                let status = e.status();
                if let Some(reason) = fatal(status, config) {
                    return Err(refused(reason));
                }
                // The server answered with its endpoints, and none has this security.
                if status == StatusCode::BadTcpEndpointUrlInvalid {
                    return Err(refused(format!(
                        "the server offers no endpoint at this address with security {policy} \
                         {mode:?} ({e})"
                    )));
                }
                tracing::warn!(
                    "OPC UA: {} not reachable ({e}); retrying in {:.1} s",
                    config.endpoint,
                    backoff.as_secs_f64()
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    };
    let nodes: HashMap<NodeId, usize> = map
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.node.parse::<NodeId>().ok().map(|id| (id, i)))
        .collect();
    // The event loop is polled by a task of its own: the requests made below (the subscription)
    // are answered only while it runs.
    let (polled, mut poll_results) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut events = std::pin::pin!(event_loop.enter());
        while let Some(result) = events.next().await {
            let end = result.is_err();
            if polled.send(result).is_err() || end {
                break;
            }
        }
    });
    let mut subscribed = false;
    let mut connected_once = false;
    loop {
        if done.load(Ordering::Relaxed) {
            let _ = tokio::time::timeout(Duration::from_secs(2), session.disconnect()).await;
            driver.abort();
            return Ok(());
        }
        let next = tokio::time::timeout(Duration::from_millis(100), poll_results.recv()).await;
        let Ok(next) = next else { continue };
        match next {
            None => return Ok(()),
            Some(Err(status)) => {
                return Err(refused(
                    fatal(status, config)
                        .unwrap_or_else(|| format!("the session ended ({status})")),
                ));
            }
            Some(Ok(SessionPollResult::Reconnected(how))) => {
                if connected_once {
                    tracing::info!("OPC UA: reconnected to {} ({how:?})", config.endpoint);
                    if tx.send(Incoming::Reconnected).is_err() {
                        return Ok(());
                    }
                }
                connected_once = true;
                // async-opcua 0.19 creates the subscription again on a new session before its
                // publishing loop starts, and that loop then waits for a trigger that came
                // already: without this nudge no value would arrive after a server restart.
                session.trigger_publish_now();
                if !subscribed {
                    subscribe(&session, map, &nodes, tx, config).await?;
                    subscribed = true;
                }
            }
            Some(Ok(SessionPollResult::ReconnectFailed(status))) => {
                if let Some(reason) = fatal(status, config) {
                    return Err(refused(reason));
                }
                tracing::warn!(
                    "OPC UA: connecting to {} failed ({status})",
                    config.endpoint
                );
            }
            Some(Ok(SessionPollResult::ConnectionLost(status))) => {
                tracing::warn!(
                    "OPC UA: connection to {} lost ({status}); reconnecting",
                    config.endpoint
                );
            }
            Some(Ok(_)) => {}
        }
    }
}

/// One subscription with a monitored item per mapped node; the library creates it again on every
/// new session.
async fn subscribe(
    session: &opcua::client::Session,
    map: &NodeMap,
    nodes: &HashMap<NodeId, usize>,
    tx: &mpsc::SyncSender<Incoming>,
    config: &OpcuaConfig,
) -> Result<(), OpcuaError> {
    let refused = |reason: String| OpcuaError::Refused {
        endpoint: config.endpoint.clone(),
        reason,
    };
    let forward = tx.clone();
    let lookup = nodes.clone();
    let subscription = session
        .create_subscription(
            map.publishing_interval,
            60,
            10,
            MAX_PER_PUBLISH,
            0,
            true,
            DataChangeCallback::new(move |value, item| {
                if let Some(&index) = lookup.get(&item.item_to_monitor().node_id) {
                    let _ = forward.send(Incoming::Value(index, value));
                }
            }),
        )
        .await
        .map_err(|e| refused(format!("cannot create a subscription ({e})")))?;
    let items: Vec<MonitoredItemCreateRequest> = map
        .nodes
        .iter()
        .filter_map(|n| n.node.parse::<NodeId>().ok())
        .map(|id| {
            let mut item: MonitoredItemCreateRequest = id.into();
            // Every change between two publications is kept (up to 100 per node), not only the
            // last: a short stop between two publications is still seen.
            item.requested_parameters.queue_size = QUEUE_SIZE;
            item.requested_parameters.discard_oldest = true;
            item
        })
        .collect();
    let created = session
        .create_monitored_items(subscription, TimestampsToReturn::Both, items)
        .await
        .map_err(|e| refused(format!("cannot create the monitored items ({e})")))?;
    // One result per item asked for, in order; a server that answers with another number is not
    // trusted to have made them.
    if created.len() != map.nodes.len() {
        return Err(refused(format!(
            "the server answered {} of the {} monitored items asked for",
            created.len(),
            map.nodes.len()
        )));
    }
    for (i, (result, node)) in created.iter().zip(&map.nodes).enumerate() {
        let status = result.result.status_code;
        if status.is_bad() {
            return Err(refused(format!(
                "node[{i}] `{}` of the mapping cannot be monitored ({status})",
                node.node
            )));
        }
    }
    tracing::info!(
        "OPC UA: subscribed to {} node(s) at {}",
        map.nodes.len(),
        config.endpoint
    );
    Ok(())
}
