//! takt's HTTP API: one process that keeps the live twins of a site's plants (one by default;
//! their events durable in SQLite or a site's PostgreSQL), stores scenarios, runs simulations and
//! maintenance plans as jobs, and answers with JSON (errors as RFC 9457 problem+json). `serve`
//! binds and runs until a shutdown signal; `router` builds the routes over a `Server` for tests
//! and embedding.
//!
//! - `problem.rs`: problem details and the JSON extractor that produces them.
//! - `auth.rs`: bearer tokens with a read, an operate (shift leader) and a write role, compared in
//!   constant time.
//! - `db.rs`: the server's own store (scenarios, jobs and their results).
//! - `jobs.rs`: the bounded worker pool for long work.
//! - `plant.rs`: the site's plants, each with its scenario, twin and store, addressed by id.
//! - `twin.rs`: the twin behind the API: ingestion, a state snapshot readers never wait for,
//!   changes for the stream.
//! - `routes.rs`: the handlers and the OpenAPI document.
//! - `metrics.rs`: request counts and latencies in Prometheus' text format.
//! - `alerts.rs`: alert changes POSTed to webhooks, retried with backoff.

pub mod alerts;
pub mod auth;
mod connections;
pub mod db;
pub mod feeds;
pub mod jobs;
pub mod metrics;
pub mod plant;
pub mod problem;
pub mod routes;
pub mod twin;
pub mod web;
pub mod worker;

pub use connections::ConnectionLimits;

use auth::Auth;
use std::collections::BTreeMap;
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
    /// How many scenarios sent in requests are parsed and compiled at once; more wait their turn
    /// (within the request's time limit). A scenario holds up to about 50 times its text while it
    /// is parsed (`takt_model`'s `tests/parse_memory.rs`): 16 MiB of TOML, 0.6 to 0.8 GiB. The
    /// blocking pool would otherwise run every such request at once.
    pub scenario_loads: usize,
    /// How many twin forecasts run at once; more wait their turn (within the request's time
    /// limit). A forecast runs its replications on every core, so more at once would not finish
    /// sooner: each would take longer, each would hold its forks of the twin meanwhile, and a
    /// crowd of them would all run out of time together.
    pub forecasts: usize,
    /// Ingestion requests per second per client (its token; without authentication, its
    /// address), with a burst of twice that.
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
    /// Connections at once, per client, and how long one may take to send a request's headers.
    pub connections: ConnectionLimits,
}

impl Config {
    pub fn new(listen: SocketAddr, data_dir: PathBuf, auth: Auth) -> Config {
        // Job workers, scenario loads and forecasts: one per core each.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Config {
            listen,
            data_dir,
            store: None,
            auth,
            body_limit_bytes: 16 << 20,
            request_timeout: Duration::from_secs(60),
            workers: cores,
            queue: 32,
            max_replications: 1000,
            max_variants: 100,
            scenario_loads: cores,
            forecasts: cores,
            ingest_per_s: 500.0,
            cors_origins: Vec::new(),
            reorder_window: Duration::from_secs(2),
            job_time_limit: Duration::from_secs(3600),
            job_lease: db::DEFAULT_LEASE,
            shutdown_grace: Duration::from_secs(10),
            max_clock_skew: Duration::from_secs(300),
            alert_rules: None,
            alert_webhooks: Vec::new(),
            connections: ConnectionLimits::default(),
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
    #[error("{0}")]
    Plant(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Everything the handlers share.
pub struct Server {
    pub config: Config,
    pub db: Arc<db::Db>,
    pub jobs: Arc<jobs::Jobs>,
    pub metrics: metrics::Metrics,
    pub limiter: routes::RateLimiter,
    /// The feeds of the plants' twins and whether each still listens (`takt_feed_up`).
    pub feeds: feeds::Feeds,
    /// Permits to parse and compile a scenario sent in a request (`Config::scenario_loads`).
    pub scenario_loads: Arc<tokio::sync::Semaphore>,
    /// Permits to run a twin forecast (`Config::forecasts`).
    pub forecasts: Arc<tokio::sync::Semaphore>,
    /// The site's plants by id (`plant::Plant`); one of them is the default.
    pub plants: BTreeMap<String, Arc<plant::Plant>>,
    default_plant: Arc<plant::Plant>,
}

impl Server {
    /// A server of one plant, named by its scenario's name: [`Server::open_site`].
    pub fn open(
        config: Config,
        scenario: Scenario,
        model: Model,
    ) -> Result<Arc<Server>, ServeError> {
        Server::open_site(config, vec![plant::PlantSource::named(scenario, model)])
    }

    /// Opens the stores (in `config.data_dir`, creating it, or in `config.store`) and rebuilds
    /// each plant's twin from its events. The first plant is the default (`/twin/…`); ids must
    /// differ.
    pub fn open_site(
        config: Config,
        plants: Vec<plant::PlantSource>,
    ) -> Result<Arc<Server>, ServeError> {
        if plants.is_empty() {
            return Err(ServeError::Plant("a site needs at least one plant".into()));
        }
        let mut seen = std::collections::BTreeSet::new();
        for p in &plants {
            plant::check_id(&p.id).map_err(|e| ServeError::Plant(e.to_string()))?;
            if !seen.insert(p.id.clone()) {
                return Err(ServeError::Plant(format!(
                    "two plants have the id `{}`: give each its own (--plant ID=FILE)",
                    p.id
                )));
            }
        }
        if config.store.is_none() {
            std::fs::create_dir_all(&config.data_dir).map_err(|source| ServeError::Io {
                path: config.data_dir.display().to_string(),
                source,
            })?;
        }
        use takt_twin::store::StoreLocation;
        let server_store = match &config.store {
            Some(pg) => StoreLocation::Postgres(pg.clone()),
            None => StoreLocation::File(config.data_dir.join("server.sqlite")),
        };
        let db = Arc::new(db::Db::connect(&server_store, now_ms())?);
        let jobs = jobs::Jobs::start(Arc::clone(&db), config.pool());
        let mut opened = BTreeMap::new();
        let mut default_plant = None;
        for (i, source) in plants.into_iter().enumerate() {
            let p = Arc::new(plant::Plant::open(&config, source, i == 0)?);
            default_plant.get_or_insert_with(|| Arc::clone(&p));
            opened.insert(p.id.clone(), p);
        }
        let Some(default_plant) = default_plant else {
            unreachable!("checked: at least one plant")
        };
        let limiter = routes::RateLimiter::new(config.ingest_per_s);
        let scenario_loads = Arc::new(tokio::sync::Semaphore::new(config.scenario_loads.max(1)));
        let forecasts = Arc::new(tokio::sync::Semaphore::new(config.forecasts.max(1)));
        Ok(Arc::new(Server {
            feeds: feeds::Feeds::default(),
            scenario_loads,
            forecasts,
            config,
            db,
            jobs,
            metrics: metrics::Metrics::default(),
            limiter,
            plants: opened,
            default_plant,
        }))
    }

    /// The default plant: the one at `/twin/…`.
    pub fn plant(&self) -> &Arc<plant::Plant> {
        &self.default_plant
    }

    /// What each plant takes from the broker `base` names: with one plant, every line's topics
    /// as `base` says; with several, each plant its own line's (`takt/<site>/<plant id>/+/+`)
    /// with a client id (and so a broker session) of its own.
    pub fn mqtt_feeds(
        &self,
        base: &takt_twin::mqtt::MqttConfig,
    ) -> Vec<(Arc<plant::Plant>, takt_twin::mqtt::MqttConfig)> {
        let several = self.plants.len() > 1;
        self.plants
            .values()
            .map(|p| {
                let mut config = base.clone();
                if several {
                    config.line = Some(p.id.clone());
                    config.client_id = format!("{}-{}", base.client_id, p.id);
                }
                (Arc::clone(p), config)
            })
            .collect()
    }

    /// The site's plants as people see them listed: the default first, then by id.
    pub fn plants_listed(&self) -> impl Iterator<Item = &Arc<plant::Plant>> {
        let default = &self.default_plant;
        std::iter::once(default).chain(self.plants.values().filter(|p| !Arc::ptr_eq(p, default)))
    }
}

impl Server {
    /// Stores a plant's own scenario file among the scenarios (once), so that the screens and
    /// scripts can run what-ifs, schedules and maintenance plans on the plant without uploading it.
    /// A file that names other files (an order book CSV) cannot run from the store and stays out.
    pub fn store_twin_scenario(
        &self,
        plant: &plant::Plant,
        text: &str,
    ) -> Result<Option<String>, ServeError> {
        let origin = std::path::Path::new("scenario.toml");
        let Ok(scenario) = takt_model::parse_scenario(text, origin) else {
            return Ok(None);
        };
        if takt_model::compile_located(scenario, text, origin, None).is_err() {
            tracing::info!(plant = %plant.id, "the twin's scenario names other files: not stored for jobs");
            return Ok(None);
        }
        Ok(Some(self.db.add_scenario_once(
            &plant.model.name,
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
        for plant in server.plants.values() {
            alerts::spawn_webhook(plant, url.clone());
        }
    }
    let grace = server.config.shutdown_grace;
    let (signalled, mut on_signal) = tokio::sync::watch::channel(false);
    let shutdown = async move {
        shutdown.await;
        let _ = signalled.send(true);
    };
    let serving = connections::serve(listener, app, server.config.connections, shutdown);
    // In-flight requests get the grace period; a stream that never ends (an open
    // `/twin/stream`, a forecast whose client stays) is cut off after it.
    let cut_off = async move {
        let _ = on_signal.wait_for(|s| *s).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        () = serving => {}
        () = cut_off => tracing::warn!("requests still open after the grace period: closing them"),
    }
    // Let running jobs finish and store their results, within the grace period; then stop them.
    let jobs = Arc::clone(&server.jobs);
    let _ = tokio::task::spawn_blocking(move || jobs.shutdown(grace)).await;
    // Each twin saved as of its last event: the next start reads only what comes after.
    let twins: Vec<_> = server
        .plants
        .values()
        .map(|p| (p.id.clone(), Arc::clone(&p.twin)))
        .collect();
    let _ = tokio::task::spawn_blocking(move || {
        for (plant, twin) in twins {
            match twin.save_mirror() {
                Ok(true) => tracing::info!(plant, "twin: mirror saved"),
                Ok(false) => tracing::info!(
                    plant,
                    "twin: mirror not saved: the store cannot tell through which event it is"
                ),
                Err(e) => tracing::warn!(plant, error = %e, "twin: mirror not saved"),
            }
        }
    })
    .await;
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
            tokio::spawn(twin::replay(
                Arc::clone(&server.plant().twin),
                r.lines,
                r.speed,
            ));
        }
        // The rules are judged on the clock too: orders against a fresh forecast when one is
        // due, and for a live plant every rule at the clock's time, so that a machine that fell
        // silent, or a stop that goes on with no event, is noticed.
        // Only the default plant replays; the others are live.
        let twins: Vec<(Arc<twin::TwinHandle>, bool)> = server
            .plants
            .values()
            .map(|p| (Arc::clone(&p.twin), live || !Arc::ptr_eq(p, server.plant())))
            .collect();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(ALERT_CLOCK);
            loop {
                every.tick().await;
                let twins = twins.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    for (twin, live) in twins {
                        if live {
                            twin.judge_alerts_at(now_ms());
                        }
                        twin.judge_orders();
                    }
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
