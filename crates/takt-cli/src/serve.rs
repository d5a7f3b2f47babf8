//! `takt serve --scenario S`: the HTTP API with the live twin of one plant (or of a site's plants,
//! `--plant ID=FILE`), its stores in `--data` or a site's PostgreSQL, optionally replaying a
//! recording into the twin so there is something to see, or fed by a machine's OPC UA server
//! (`--opcua URL --map FILE`) or an MQTT broker (`--site S`) as well as over HTTP.

use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use takt_api::auth::Auth;
use takt_api::{Config, Replay, Server};
use takt_twin::alerts::publish::AlertPublisher;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The plant the twin mirrors (TOML): the default plant, at /twin/… and /plants/ID/twin/….
    #[arg(long)]
    scenario: PathBuf,
    /// The --scenario plant's id in the API and MQTT topics (default: from its name, `Bottling
    /// line` is `bottling-line`): lower-case letters, digits and -.
    #[arg(long)]
    plant_id: Option<String>,
    /// Another plant of the site, `ID=FILE` (its scenario); repeat for several. Each has its own
    /// twin and events (twin-ID.sqlite, or the schema plant_ID with --store) at
    /// /plants/ID/twin/…; with --site, each takes its MQTT line's topics, takt/SITE/ID/+/+.
    #[arg(long = "plant", value_name = "ID=FILE")]
    plants: Vec<String>,
    /// Where the stores live (twin.sqlite: events; server.sqlite: scenarios and jobs), unless
    /// --store names a PostgreSQL database.
    #[arg(long, default_value = "takt-data")]
    data: PathBuf,
    #[command(flatten)]
    store: crate::store_args::StoreArgs,
    /// Where to listen, address:port (loopback by default; TLS belongs to a proxy in front).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Bearer tokens: lines `read <token>`, `operate <token>` (a shift leader: take alerts on, run
    /// the forecast) or `write <token>`; TAKT_READ_TOKENS, TAKT_OPERATE_TOKENS and
    /// TAKT_WRITE_TOKENS (comma-separated) add to them.
    #[arg(long)]
    tokens: Option<PathBuf>,
    /// Serve without authentication. Local use only.
    #[arg(long)]
    insecure_no_auth: bool,
    /// Replay a recording (takt events, JSON Lines) into the default plant's twin while serving.
    #[arg(long)]
    replay: Option<PathBuf>,
    #[command(flatten)]
    mqtt: crate::mqtt_args::MqttArgs,
    #[command(flatten)]
    opcua: crate::opcua_args::OpcuaArgs,
    /// Replay pace: `60x` (60 times real time) or `max`.
    #[arg(long, default_value = "60x")]
    speed: String,
    /// Alert rules (TOML, see docs/alerts.md): a file, `default` (a machine down 10 min, a
    /// running machine silent 10 min, the line's OEE below 50 % after an hour) or `none`.
    #[arg(long, default_value = "default")]
    alerts: String,
    /// POST every alert raised, cleared or acknowledged to this URL (JSON, retried with backoff);
    /// repeat for several.
    #[arg(long)]
    alert_webhook: Vec<String>,
    /// Origins allowed to call the API from a browser (CORS); repeat for several.
    #[arg(long)]
    cors: Vec<String>,
    /// The largest request body, MiB.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    body_limit_mib: u32,
    /// Ingestion requests per second per client (its token; without authentication, its
    /// address), with bursts of twice that.
    #[arg(long, default_value_t = 500.0)]
    ingest_rate: f64,
    /// Connections open at once; more wait in the listen backlog until one closes.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_connections: u32,
    /// Connections open at once from one address; more are closed as they come. Behind a proxy
    /// every client shares its address: raise this to --max-connections there.
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    connections_per_client: u32,
    /// How long a connection may take to send a request's headers, from its opening or the end
    /// of its last response (so also how long it may stay idle); then it is closed.
    #[arg(long, default_value = "20s", value_parser = positive_duration)]
    header_timeout: Duration,
    /// How long an answer may wait for its client to take any of it; then the connection is
    /// closed (a client that asked for much and stopped reading).
    #[arg(long, default_value = "30s", value_parser = positive_duration)]
    write_timeout: Duration,
    #[command(flatten)]
    jobs: JobArgs,
    /// Jobs that may wait for a worker (with --store: in the site's queue); more are refused with
    /// 503.
    #[arg(long, default_value_t = 32)]
    queue: usize,
    /// The most variants one simulation request may compare with its base (a sweep's points
    /// count); each is compiled when the request arrives.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    max_variants: u32,
    /// The most replications per variant one request may ask for (with a precision target, the
    /// cap of its rounds).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(2..=100_000))]
    max_replications: u32,
    /// How many scenarios sent in requests are parsed and compiled at once (default: one per
    /// core); more wait their turn. Each holds up to about 50 times its text while it is parsed.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    scenario_loads: Option<u32>,
    /// How many twin forecasts run at once (default: one per core); more wait their turn, within
    /// the request's time limit. Each runs its replications on every core.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    forecasts: Option<u32>,
    /// How far ahead of this machine's clock an event's time stamp may be; later ones are
    /// rejected (a sensor clock gone wrong would otherwise move the twin's clock on).
    #[arg(long, default_value = "5m", value_parser = positive_duration)]
    max_clock_skew: Duration,
    /// On Ctrl-C or SIGTERM: how long open requests, then running jobs, may take to finish before
    /// they are cut off (jobs cut off end `interrupted`; with --store they go back to the queue).
    #[arg(long, default_value = "10s", value_parser = positive_duration)]
    shutdown_grace: Duration,
}

/// How a node runs jobs: `takt serve`'s and `takt worker`'s flags.
#[derive(clap::Args)]
pub struct JobArgs {
    /// Threads that run jobs (default: one per core). With --store, 0 leaves them to the site's
    /// other servers and workers.
    #[arg(long)]
    pub workers: Option<usize>,
    /// How long one job may run before it is stopped (and fails, naming the limit).
    #[arg(long, default_value = "1h", value_parser = positive_duration)]
    pub job_time_limit: Duration,
    /// With --store: how long this node's jobs stay its own without its heartbeat (once a
    /// second); after that another node of the site takes them over and runs them again.
    #[arg(long, default_value = "30s", value_parser = lease)]
    pub job_lease: Duration,
}

impl JobArgs {
    /// The pool: `workers` threads (at least one for a server alone), `queue` waiting.
    pub fn pool(&self, queue: usize, shared: bool) -> takt_api::jobs::PoolConfig {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = self.workers.unwrap_or(cores);
        takt_api::jobs::PoolConfig {
            workers: if shared { workers } else { workers.max(1) },
            queue,
            time_limit: self.job_time_limit,
            lease: self.job_lease,
        }
    }
}

/// A lease outlasts a few heartbeats (one a second), or a busy node would lose its jobs.
fn lease(text: &str) -> Result<Duration, String> {
    match positive_duration(text)? {
        d if d >= Duration::from_secs(3) => Ok(d),
        _ => Err("must be at least 3s (a node renews its leases once a second)".into()),
    }
}

pub(crate) fn positive_duration(text: &str) -> Result<Duration, String> {
    match takt_model::parse_duration(text).map_err(|e| e.0)? {
        s if s > 0.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err("must be > 0".into()),
    }
}

/// One plant to serve: where its scenario came from and what it compiled to.
struct PlantFile {
    path: PathBuf,
    source: takt_api::plant::PlantSource,
}

/// The plants: `--scenario` (the default) and each `--plant ID=FILE`, loaded and checked, with
/// their alert rules. `Err(code)`: a scenario or rules file does not validate (said on stderr).
fn plants(args: &ServeArgs) -> Result<Result<Vec<PlantFile>, ExitCode>> {
    let mut files = vec![(args.plant_id.clone(), args.scenario.clone())];
    for given in &args.plants {
        let Some((id, file)) = given.split_once('=') else {
            anyhow::bail!("--plant `{given}`: write ID=FILE, e.g. --plant press=press-line.toml");
        };
        files.push((Some(id.to_string()), PathBuf::from(file)));
    }
    let mut plants = Vec::new();
    for (id, path) in files {
        let loaded = match crate::load(&path)? {
            Ok(l) => l,
            Err(code) => return Ok(Err(code)),
        };
        let id = id.unwrap_or_else(|| takt_api::plant::id_from_name(&loaded.model.name));
        takt_api::plant::check_id(&id).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let rules = match takt_twin::alerts::rules::chosen(&args.alerts, &loaded.model) {
            Ok(rules) => rules,
            Err(e) => {
                eprintln!("error: --alerts for plant `{id}` ({}): {e}", path.display());
                return Ok(Err(ExitCode::from(2)));
            }
        };
        plants.push(PlantFile {
            path,
            source: takt_api::plant::PlantSource {
                id,
                scenario: loaded.scenario,
                model: loaded.model,
                alert_rules: Some(rules),
            },
        });
    }
    Ok(Ok(plants))
}

/// A plant's scenario file as it is stored for jobs: a book it names beside it is written in, so
/// the stored copy names no file.
fn stored_text(path: &std::path::Path, scenario: &takt_model::Scenario) -> Result<String> {
    let mut text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if let Some(book) = &scenario.demand.orders_csv {
        let dir = path.parent().unwrap_or(std::path::Path::new("."));
        let csv = std::fs::read_to_string(dir.join(book))
            .with_context(|| format!("cannot read {}", dir.join(book).display()))?;
        text = takt_model::order_book::inline_order_book(&text, path, &csv, book)?;
    }
    Ok(text)
}

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    let plants = match plants(&args)? {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    for origin in &args.cors {
        takt_api::check_origin(origin).map_err(anyhow::Error::msg)?;
    }
    let auth = if args.insecure_no_auth {
        tracing::warn!(
            "AUTHENTICATION IS OFF (--insecure-no-auth): anyone who reaches {} can read and write. Use it on your own machine only.",
            args.listen
        );
        eprintln!("warning: authentication is off (--insecure-no-auth): local use only");
        Auth::Insecure
    } else {
        Auth::load(args.tokens.as_deref())?
    };
    let speed: takt_twin::replay::Speed = args
        .speed
        .parse()
        .map_err(|e| anyhow::anyhow!("--speed: {e}"))?;
    let default_model = &plants[0].source.model;
    if args.replay.is_none() {
        crate::twin::warn_if_past_the_plan(default_model);
    }
    let replay = match &args.replay {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Some(Replay {
                lines: text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(String::from)
                    .collect(),
                speed,
            })
        }
    };
    for url in &args.alert_webhook {
        takt_api::alerts::check_webhook(url).map_err(anyhow::Error::msg)?;
    }
    // A plant's controller or broker feeding the twin: the mapping, the login and TLS files
    // are checked before anything is served. OPC UA feeds the default plant.
    let opcua = match args
        .opcua
        .resolve(default_model, &args.data.join("twin"), 1000, 0.05)
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(2));
        }
    };
    let mqtt = args.mqtt.resolve(1000, 0.05, args.store.store.is_some())?;
    let mut config = Config::new(args.listen, args.data.clone(), auth);
    config.store = args.store.postgres()?;
    let stores = match &config.store {
        Some(pg) => format!("the PostgreSQL database {pg}"),
        None => args.data.display().to_string(),
    };
    config.alert_webhooks = args.alert_webhook.clone();
    config.body_limit_bytes = args.body_limit_mib as usize * (1 << 20);
    config.ingest_per_s = args.ingest_rate;
    config.connections = connection_limits(&args)?;
    config.cors_origins = args.cors.clone();
    let pool = args.jobs.pool(args.queue, config.store.is_some());
    config.workers = pool.workers;
    config.queue = pool.queue;
    config.job_time_limit = pool.time_limit;
    config.job_lease = pool.lease;
    config.max_variants = args.max_variants as usize;
    config.max_replications = args.max_replications;
    if let Some(n) = args.scenario_loads {
        config.scenario_loads = n as usize;
    }
    if let Some(n) = args.forecasts {
        config.forecasts = n as usize;
    }
    config.request_timeout = Duration::from_secs(120);
    config.max_clock_skew = args.max_clock_skew;
    config.shutdown_grace = args.shutdown_grace;
    let mut texts = Vec::new();
    for p in &plants {
        texts.push((
            p.source.id.clone(),
            stored_text(&p.path, &p.source.scenario)?,
        ));
    }
    let server = Server::open_site(config, plants.into_iter().map(|p| p.source).collect())?;
    for (id, text) in &texts {
        if let Some(plant) = server.plants.get(id) {
            server.store_twin_scenario(plant, text)?;
        }
    }
    let default = Arc::clone(server.plant());
    let several = server.plants.len() > 1;
    let replaying = args.replay.as_ref().map(|p| p.display().to_string());
    let stop = Arc::new(AtomicBool::new(false));
    let mut feeding = Vec::new();
    let mut listeners = Vec::new();
    if let Some((config, map)) = opcua {
        feeding.push(format!(
            "the OPC UA server {} ({} nodes)",
            config.endpoint,
            map.nodes.len()
        ));
        let mut twin = takt_api::twin::ServedTwin(Arc::clone(&default.twin));
        let id = server
            .feeds
            .listening(&default.id, "opcua", &config.endpoint);
        let stopping = Arc::clone(&stop);
        let password_file = args.opcua.password_file().map(std::path::Path::to_path_buf);
        let mut config = config;
        let mut first = true;
        listeners.push(feed(&server, id, "OPC UA", &stop, move || {
            if !std::mem::take(&mut first) {
                read_password_anew(
                    "--opcua",
                    password_file.as_deref(),
                    "TAKT_OPCUA_PASSWORD",
                    config.login.as_mut().map(|l| &mut l.password),
                )?;
            }
            Ok(takt_twin::opcua::listen(
                &mut twin,
                &config,
                &map,
                &stopping,
                |_, _| {},
            )?)
        }));
    }
    if let Some(config) = mqtt {
        for (plant, config) in server.mqtt_feeds(&config) {
            feeding.push(format!(
                "the MQTT broker {}:{} ({})",
                config.host,
                config.port,
                config.topic_filter()
            ));
            let mut twin = takt_api::twin::ServedTwin(Arc::clone(&plant.twin));
            let source = format!("{}:{} {}", config.host, config.port, config.topic_filter());
            let id = server.feeds.listening(&plant.id, "mqtt", &source);
            // Its alerts go back to the broker, to `takt/<site>/alerts/<asset>`, as `takt twin
            // listen` publishes them (a plant without rules has none: no connection for them).
            if !plant.twin.alert_rules().is_empty() {
                let publisher = AlertPublisher::connect(&config, &plant.model.name)?;
                takt_api::alerts::spawn_mqtt(&plant, publisher);
            }
            let stopping = Arc::clone(&stop);
            let password_file = args.mqtt.password_file().map(std::path::Path::to_path_buf);
            let mut config = config;
            let mut first = true;
            listeners.push(feed(&server, id, "MQTT", &stop, move || {
                if !std::mem::take(&mut first) {
                    read_password_anew(
                        "--mqtt",
                        password_file.as_deref(),
                        "TAKT_MQTT_PASSWORD",
                        config.credentials.as_mut().map(|l| &mut l.password),
                    )?;
                }
                Ok(takt_twin::mqtt::listen(
                    &mut twin,
                    &config,
                    &stopping,
                    |_, _| {},
                )?)
            }));
        }
    }
    let plant_lines: Vec<String> = server
        .plants
        .values()
        .filter(|p| several && !Arc::ptr_eq(p, &default))
        .map(|p| format!("`{}` ({})", p.id, p.model.name))
        .collect();
    takt_api::run(server, replay, |addr| {
        // The first line says where to look: people open it, scripts and tests read it.
        println!("takt: open the line board at http://{addr}/");
        println!(
            "  twin of `{}` (plant `{}`), stores in {stores}",
            default.model.name, default.id
        );
        if let Some(r) = &replaying {
            println!("  replaying {r} at {}", args.speed);
        }
        for source in &feeding {
            println!("  fed by {source}");
        }
        println!(
            "  live state:   http://{addr}/twin/state   (stream: /twin/stream, layout: /twin/layout)"
        );
        println!("  KPIs:         http://{addr}/twin/kpis?window=shift");
        if several {
            println!("  more plants:  {}", plant_lines.join(", "));
            println!("                http://{addr}/plants (each at /plants/ID/twin/…)");
        }
        println!(
            "  API document: http://{addr}/openapi.json   health: /health   metrics: /metrics"
        );
        println!("  stop with Ctrl-C");
        use std::io::Write;
        let _ = std::io::stdout().flush();
    })?;
    stop.store(true, Ordering::Relaxed);
    for l in listeners {
        let _ = l.join();
    }
    Ok(ExitCode::SUCCESS)
}

/// A feed started again logs in with the password as its file says now (a rotated password is
/// picked up); one from the environment stays as it was.
fn read_password_anew(
    flag: &str,
    file: Option<&std::path::Path>,
    environment: &str,
    password: Option<&mut String>,
) -> anyhow::Result<()> {
    if let (Some(file), Some(password)) = (file, password) {
        *password = crate::twin_listen::password(flag, Some(file), environment)?;
    }
    Ok(())
}

/// Runs a listener feeding the served twin on a thread of its own; when it ends, says how it went
/// in the log and in the server's feeds (`takt_feed_up` in `/metrics`). The server goes on
/// serving what it has either way. A listener that gave up waits to be started again (`POST
/// /twin/feeds/restart`) until the server stops.
fn feed(
    server: &Arc<takt_api::Server>,
    id: takt_api::feeds::FeedId,
    protocol: &'static str,
    stop: &Arc<AtomicBool>,
    mut listen: impl FnMut() -> anyhow::Result<takt_twin::ListenStats> + Send + 'static,
) -> std::thread::JoinHandle<()> {
    let (server, stop) = (Arc::clone(server), Arc::clone(stop));
    std::thread::spawn(move || {
        loop {
            match listen() {
                Ok(s) => {
                    server.feeds.stopped(id, "stopped with the server");
                    tracing::info!(
                        received = s.received,
                        accepted = s.accepted,
                        duplicates = s.duplicates,
                        rejected = s.rejected,
                        reconnects = s.reconnects,
                        "{protocol}: stopped listening"
                    );
                    return;
                }
                Err(e) => {
                    server.feeds.stopped(id, &format!("{e:#}"));
                    tracing::error!("{protocol}: no longer listening: {e:#}");
                }
            }
            if !server.feeds.wait_for_restart(id, &stop) {
                return;
            }
            tracing::info!("{protocol}: started again on request");
        }
    })
}

/// Descriptors kept beside the connections: the stores, MQTT, files.
const DESCRIPTORS_BESIDE_CONNECTIONS: u64 = 256;

/// The bounds on connections, with the process's limit on open files raised to hold them (to its
/// hard limit at most); where it cannot, fewer connections, with a warning.
fn connection_limits(args: &ServeArgs) -> anyhow::Result<takt_api::ConnectionLimits> {
    let wanted = u64::from(args.max_connections) + DESCRIPTORS_BESIDE_CONNECTIONS;
    let files = rlimit::increase_nofile_limit(wanted)
        .map_err(|e| anyhow::anyhow!("cannot read the limit on open files: {e}"))?;
    let mut max = u64::from(args.max_connections);
    if files < wanted {
        max = files.saturating_sub(DESCRIPTORS_BESIDE_CONNECTIONS).max(1);
        tracing::warn!(
            open_files = files,
            "the process may open {files} files: {max} connections at once, not {} (raise `ulimit -n`)",
            args.max_connections
        );
    }
    Ok(takt_api::ConnectionLimits {
        max: max as usize,
        per_client: args.connections_per_client as usize,
        header_timeout: args.header_timeout,
        write_timeout: args.write_timeout,
    })
}
