//! takt's HTTP API: one process that keeps the live twin of one plant (its events durable in
//! SQLite), stores scenarios, runs simulations and maintenance plans as jobs, and answers with JSON
//! (errors as RFC 9457 problem+json). `serve` binds and runs until a shutdown signal; `router`
//! builds the routes over a `Server` for tests and embedding.
//!
//! - `problem.rs`: problem details and the JSON extractor that produces them.
//! - `auth.rs`: bearer tokens with a read, an operate (shift leader) and a write role, compared in
//!   constant time.
//! - `db.rs`: the server's own store (scenarios, jobs and their results).
//! - `jobs.rs`: the bounded worker pool for long work.
//! - `twin.rs`: the twin behind the API: ingestion, a state snapshot readers never wait for,
//!   changes for the stream.
//! - `routes.rs`: the handlers and the OpenAPI document.
//! - `metrics.rs`: request counts and latencies in Prometheus' text format.
//! - `alerts.rs`: alert changes POSTed to webhooks, retried with backoff.

pub mod alerts;
pub mod auth;
pub mod db;
pub mod jobs;
pub mod metrics;
pub mod problem;
pub mod routes;
pub mod twin;
pub mod web;
pub mod worker;

use auth::Auth;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use takt_model::{Model, Scenario};

/// A CORS origin that is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OriginError(pub String);

/// The wall clock, Unix milliseconds: when the server received or stored something.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Holds `twin.sqlite` (events) and `server.sqlite` (scenarios, jobs), unless `store` names
    /// a PostgreSQL database.
    pub data_dir: PathBuf,
    /// A PostgreSQL database holding both stores, shared by the servers of a site; `None`: the
    /// SQLite files in `data_dir`.
    pub store: Option<takt_twin::store::PostgresLocation>,
    pub auth: Auth,
    /// The largest request body, bytes.
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    /// Worker threads for jobs (with a shared store 0 leaves them to the site's other nodes), and
    /// how many jobs may wait.
    pub workers: usize,
    pub queue: usize,
    /// The most replications one request may ask for.
    pub max_replications: u32,
    /// The most variants one simulation request may compare with its base.
    pub max_variants: usize,
    /// Ingestion requests per second per client (token or address), with a burst of twice that.
    pub ingest_per_s: f64,
    /// Origins allowed by CORS; empty: no CORS headers.
    pub cors_origins: Vec<String>,
    /// How far out of order events may arrive and still be applied in order.
    pub reorder_window: Duration,
    /// How long one job may run before it is stopped (and fails, naming this limit).
    pub job_time_limit: Duration,
    /// How long this server's jobs stay its own without a heartbeat (a shared store): then
    /// another node of the site takes them over.
    pub job_lease: Duration,
    /// On shutdown: how long requests, then jobs, may take to finish before they are cut off.
    pub shutdown_grace: Duration,
    /// How far ahead of the server's clock an event's time stamp may be (sensor clocks drift).
    pub max_clock_skew: Duration,
    /// The alert rules judged after every batch; `None`: the default rules
    /// (`takt_twin::alerts::rules::defaults`); empty: no alerts.
    pub alert_rules: Option<Vec<takt_twin::alerts::Rule>>,
    /// URLs every alert change is POSTed to (`alerts::check_webhook`).
    pub alert_webhooks: Vec<String>,
}

impl Config {
    pub fn new(listen: SocketAddr, data_dir: PathBuf, auth: Auth) -> Config {
        Config {
            listen,
            data_dir,
            store: None,
            auth,
            body_limit_bytes: 16 << 20,
            request_timeout: Duration::from_secs(60),
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            queue: 32,
            max_replications: 1000,
            max_variants: 100,
            ingest_per_s: 500.0,
            cors_origins: Vec::new(),
            reorder_window: Duration::from_secs(2),
            job_time_limit: Duration::from_secs(3600),
            job_lease: db::DEFAULT_LEASE,
            shutdown_grace: Duration::from_secs(10),
            max_clock_skew: Duration::from_secs(300),
            alert_rules: None,
            alert_webhooks: Vec::new(),
        }
    }
}

impl Config {
    /// How this server runs jobs.
    pub fn pool(&self) -> jobs::PoolConfig {
        jobs::PoolConfig {
            workers: self.workers,
            queue: self.queue,
            time_limit: self.job_time_limit,
            lease: self.job_lease,
        }
    }
}

/// Checks an origin for CORS: `http://` or `https://`, a host, an optional port, nothing after.
/// `*` is refused: the API writes, so the browsers' pages that may call it are named one by one.
pub fn check_origin(origin: &str) -> Result<(), OriginError> {
    check_origin_message(origin).map_err(OriginError)
}

fn check_origin_message(origin: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("--cors `{origin}`: {why}"));
    if origin.contains('*') {
        return bad("a wildcard is not accepted; name each origin (e.g. https://board.example)");
    }
    let Some(rest) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return bad("an origin starts with http:// or https://");
    };
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return bad("an origin is a scheme, a host and an optional port, with no path");
    }
    if axum::http::HeaderValue::from_str(origin).is_err() {
        return bad("not a valid header value");
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error(transparent)]
    Twin(#[from] takt_twin::TwinError),
    #[error(transparent)]
    Store(#[from] takt_twin::store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Everything the handlers share.
pub struct Server {
    pub config: Config,
    pub scenario: Scenario,
    pub model: Arc<Model>,
    pub db: Arc<db::Db>,
    pub jobs: Arc<jobs::Jobs>,
    pub twin: Arc<twin::TwinHandle>,
    pub metrics: metrics::Metrics,
    pub limiter: routes::RateLimiter,
    /// The plan's runs for the forecasts' deviation flags: the same for every forecast of a shift.
    pub plans: Arc<takt_twin::forecast::PlanCache>,
    /// The plans of shifts whose report was asked for (`GET /twin/report`).
    pub report_plans: Arc<takt_twin::report::PlanMemo>,
}

impl Server {
    /// Opens the stores (in `config.data_dir`, creating it, or in `config.store`) and rebuilds the
    /// twin from its events.
    pub fn open(
        config: Config,
        scenario: Scenario,
        model: Model,
    ) -> Result<Arc<Server>, ServeError> {
        if config.store.is_none() {
            std::fs::create_dir_all(&config.data_dir).map_err(|source| ServeError::Io {
                path: config.data_dir.display().to_string(),
                source,
            })?;
        }
        let model = Arc::new(model);
        use takt_twin::store::StoreLocation;
        let (server_store, twin_store) = match &config.store {
            Some(pg) => (
                StoreLocation::Postgres(pg.clone()),
                StoreLocation::Postgres(pg.clone()),
            ),
            None => (
                StoreLocation::File(config.data_dir.join("server.sqlite")),
                StoreLocation::File(config.data_dir.join("twin.sqlite")),
            ),
        };
        let db = Arc::new(db::Db::connect(&server_store, now_ms())?);
        let jobs = jobs::Jobs::start(Arc::clone(&db), config.pool());
        let twin = Arc::new(twin::TwinHandle::open(
            Arc::clone(&model),
            &twin_store,
            config.reorder_window,
            config.max_clock_skew,
        )?);
        let rules = config
            .alert_rules
            .clone()
            .unwrap_or_else(|| takt_twin::alerts::rules::defaults(&model));
        let lifetimes = takt_twin::alerts::Lifetimes::new(&model, |si, fi| {
            takt_maintenance::plant::wear_out_lifetime(&scenario, si, fi)
        });
        twin.enable_alerts(rules, lifetimes)?;
        if let Some(pg) = &config.store {
            twin.follow(pg.clone()).map_err(|source| ServeError::Io {
                path: "the thread that follows other servers' events".into(),
                source,
            })?;
        }
        let limiter = routes::RateLimiter::new(config.ingest_per_s);
        Ok(Arc::new(Server {
            config,
            scenario,
            model,
            db,
            jobs,
            twin,
            metrics: metrics::Metrics::default(),
            limiter,
            plans: Arc::default(),
            report_plans: Arc::default(),
        }))
    }
}

impl Server {
    /// Stores the twin's own scenario file among the scenarios (once), so that the screens and
    /// scripts can run what-ifs, schedules and maintenance plans on the plant without uploading it.
    /// A file that names other files (an order book CSV) cannot run from the store and stays out.
    pub fn store_twin_scenario(&self, text: &str) -> Result<Option<String>, ServeError> {
        let origin = std::path::Path::new("scenario.toml");
        let Ok(scenario) = takt_model::parse_scenario(text, origin) else {
            return Ok(None);
        };
        if takt_model::compile_located(scenario, text, origin, None).is_err() {
            tracing::info!("the twin's scenario names other files: not stored for jobs");
            return Ok(None);
        }
        Ok(Some(self.db.add_scenario_once(
            &self.model.name,
            text,
            now_ms(),
        )?))
    }
}

/// Binds, prints nothing, serves until `shutdown` resolves, then drains requests and jobs.
pub async fn serve(
    server: Arc<Server>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let app = routes::router(Arc::clone(&server));
    for url in &server.config.alert_webhooks {
        alerts::spawn_webhook(Arc::clone(&server.twin), url.clone());
    }
    let addr = server.config.listen;
    let grace = server.config.shutdown_grace;
    let (signalled, mut on_signal) = tokio::sync::watch::channel(false);
    let shutdown = async move {
        shutdown.await;
        let _ = signalled.send(true);
    };
    let serving = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown);
    // In-flight requests get the grace period; a stream that never ends (an open
    // `/twin/stream`, a forecast whose client stays) is cut off after it.
    let cut_off = async move {
        let _ = on_signal.wait_for(|s| *s).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        served = serving => served.map_err(|source| ServeError::Bind { addr, source })?,
        () = cut_off => tracing::warn!("requests still open after the grace period: closing them"),
    }
    // Let running jobs finish and store their results, within the grace period; then stop them.
    let jobs = Arc::clone(&server.jobs);
    let _ = tokio::task::spawn_blocking(move || jobs.shutdown(grace)).await;
    Ok(())
}

/// How often a live plant's alert rules are judged on the clock between batches.
const ALERT_CLOCK: Duration = Duration::from_secs(15);

/// A recording to feed into the twin while serving: its lines, paced at `speed`.
pub struct Replay {
    pub lines: Vec<String>,
    pub speed: takt_twin::replay::Speed,
}

/// Builds the runtime, binds `server.config.listen`, calls `ready` with the bound address, feeds
/// the replay if any, and serves until Ctrl-C or SIGTERM; then drains requests and jobs.
pub fn run(
    server: Arc<Server>,
    replay: Option<Replay>,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| ServeError::Io {
            path: "the async runtime".into(),
            source,
        })?;
    let grace = server.config.shutdown_grace;
    let served = runtime.block_on(async move {
        let addr = server.config.listen;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| ServeError::Bind { addr, source })?;
        ready(bound);
        let live = replay.is_none();
        if let Some(r) = replay {
            tokio::spawn(twin::replay(Arc::clone(&server.twin), r.lines, r.speed));
        }
        // The rules are judged on the clock too: orders against a fresh forecast when one is
        // due, and for a live plant every rule at the clock's time, so that a machine that fell
        // silent, or a stop that goes on with no event, is noticed.
        let twin = Arc::clone(&server.twin);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(ALERT_CLOCK);
            loop {
                every.tick().await;
                let twin = Arc::clone(&twin);
                let _ = tokio::task::spawn_blocking(move || {
                    if live {
                        twin.judge_alerts_at(now_ms());
                    }
                    twin.judge_orders();
                })
                .await;
            }
        });
        serve(server, listener, shutdown_signal()).await
    });
    // Blocking work still under way (a forecast told to stop) gets the grace period, not forever.
    runtime.shutdown_timeout(grace);
    served
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: draining requests and jobs");
}
