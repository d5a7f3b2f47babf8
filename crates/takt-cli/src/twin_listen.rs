//! `takt twin listen`: the live twin fed by an MQTT broker or an OPC UA server, judging the alert
//! rules after every stored batch and on the clock.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use takt_model::Model;
use takt_twin::alerts::publish::AlertPublisher;
use takt_twin::alerts::{AlertEngine, Lifetimes};
use takt_twin::mirror::MirrorConfig;
use takt_twin::store::Durability;
use takt_twin::{IngestReport, Twin};

use crate::mqtt_args::MqttArgs;
use crate::opcua_args::OpcuaArgs;
use crate::twin::{chrono_now_ms, print_state, warn_if_past_the_plan};

#[derive(clap::Args)]
pub struct ListenArgs {
    #[command(flatten)]
    mqtt: MqttArgs,
    #[command(flatten)]
    opcua: OpcuaArgs,
    /// The plant the broker's events come from (TOML): its machines are the assets.
    #[arg(long)]
    scenario: PathBuf,
    /// Event store: a SQLite file, or a PostgreSQL URL (`postgres://user@host/db`, `?sslmode=verify-full` for TLS; the password in TAKT_STORE_PASSWORD).
    #[arg(long, value_name = "FILE|URL")]
    db: String,
    #[command(flatten)]
    plant: crate::store_args::PlantArg,
    /// Alert rules (TOML, see docs/alerts.md), `default` or `none`: judged after each stored
    /// batch and on the clock, stored, and published to `takt/<site>/alerts/<asset>`.
    #[arg(long, default_value = "default")]
    alerts: String,
    /// Stop after this long (e.g. 8h); default: run until killed.
    #[arg(long, value_parser = crate::parse_secs)]
    duration: Option<f64>,
    /// Messages per stored batch.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Longest wait before a partial batch is stored, e.g. 50ms.
    #[arg(long, default_value = "0.05s", value_parser = crate::parse_secs)]
    batch_wait: f64,
    /// How far out of order events may arrive and still be applied in order, e.g. 2s.
    #[arg(long, default_value = "2s", value_parser = crate::parse_secs)]
    reorder_window: f64,
    /// At the end, print the counts as JSON instead of a line and the mirrored plant.
    #[arg(long)]
    json: bool,
}

/// A password for `user`: the first line of `file`, or the environment variable `env`.
pub(crate) fn password(option: &str, file: Option<&Path>, env: &str) -> Result<String> {
    match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!("{option}-password-file: cannot read {}", path.display())
            })?;
            match text.lines().next() {
                Some(line) if !line.is_empty() => Ok(line.to_string()),
                _ => bail!(
                    "{option}-password-file: {} has no password on its first line",
                    path.display()
                ),
            }
        }
        None => std::env::var(env).map_err(|_| {
            anyhow::anyhow!("{option}-user needs a password: {option}-password-file FILE or {env}")
        }),
    }
}

/// Judges the alert rules after a batch, at the moment `Twin::judging_moment` gives, and publishes
/// what changed.
fn judge(
    twin: &mut Twin,
    report: &IngestReport,
    engine: &mut AlertEngine,
    model: &Arc<Model>,
    lifetimes: &Lifetimes,
    publisher: Option<&AlertPublisher>,
) {
    let Some(now) = twin.judging_moment(report, chrono_now_ms()) else {
        return;
    };
    match twin.judge_alerts(engine, model, Some(lifetimes), now) {
        Ok(changes) => {
            for c in &changes {
                let a = c.alert();
                tracing::info!(alert = a.id, change = c.kind(), asset = %a.asset, message = %a.message, "alert");
                if let Some(p) = publisher {
                    p.publish(c);
                }
            }
        }
        Err(e) => tracing::error!(error = %e, "alerts: the store failed"),
    }
}

pub(crate) fn listen(args: ListenArgs) -> Result<ExitCode> {
    let loaded = match crate::load(&args.scenario)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let model = loaded.model;
    let rules = match takt_twin::alerts::rules::chosen(&args.alerts, &model) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if args.batch == 0 {
        bail!("--batch must be at least 1");
    }
    // The mapping is checked against the plant before anything connects.
    let opcua = match args.opcua.resolve(
        &model,
        beside_the_store(&args.db),
        args.batch,
        args.batch_wait,
    ) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(2));
        }
    };
    let mqtt = match (
        args.mqtt.resolve(args.batch, args.batch_wait, false)?,
        &opcua,
    ) {
        (Some(mqtt), _) => Some(mqtt),
        (None, None) => bail!("--site is needed to listen over MQTT (or give --opcua and --map)"),
        (None, Some(_)) => None,
    };
    let store = crate::store_args::open(&args.db, &args.plant, Durability::Full)?;
    let mut twin = Twin::open(
        &model,
        store,
        MirrorConfig::with_reorder_window_s(args.reorder_window),
    )?;
    // A live feed: events more than five minutes ahead of this machine's clock are refused.
    twin.set_time_gate(takt_twin::TimeGate::LIVE);
    let stop = Arc::new(AtomicBool::new(false));
    if let Some(seconds) = args.duration {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs_f64(seconds.max(0.0)));
            stop.store(true, Ordering::Relaxed);
        });
    }
    warn_if_past_the_plan(&model);
    let lifetimes = Lifetimes::new(&model, |si, fi| {
        takt_maintenance::plant::wear_out_lifetime(&loaded.scenario, si, fi)
    });
    let publisher = match &mqtt {
        Some(mqtt) if !rules.is_empty() => Some(AlertPublisher::connect(mqtt, &model.name)?),
        _ => None,
    };
    let mut engine = twin.alert_engine(rules)?;
    let shared_model = Arc::new(model.clone());
    let started = Instant::now();
    let mut on_batch = |twin: &mut Twin, report: &IngestReport| {
        judge(
            twin,
            report,
            &mut engine,
            &shared_model,
            &lifetimes,
            publisher.as_ref(),
        )
    };
    let (what, stats) = match (&opcua, &mqtt) {
        (Some((config, map)), _) => {
            let how = match &config.login {
                Some(l) => format!(" as {}", l.username),
                None => String::new(),
            };
            eprintln!(
                "takt twin: listening to {} ({} nodes, security {:?}{how}; certificates in {}) \
                 (store {}); stop with Ctrl-C",
                config.endpoint,
                map.nodes.len(),
                config.security,
                config.pki_dir.display(),
                args.db
            );
            let s = takt_twin::opcua::listen(&mut twin, config, map, &stop, &mut on_batch)?;
            ("values", s)
        }
        (None, Some(mqtt)) => {
            tracing::info!(
                "listening on {}:{} for {}",
                mqtt.host,
                mqtt.port,
                mqtt.topic_filter()
            );
            let how = match (&mqtt.tls, &mqtt.credentials) {
                (Some(_), Some(c)) => format!(" over TLS as {}", c.username),
                (Some(_), None) => " over TLS".to_string(),
                (None, Some(c)) => format!(" as {}", c.username),
                (None, None) => String::new(),
            };
            eprintln!(
                "takt twin: listening on {}:{}{how} to {} (store {}); stop with Ctrl-C",
                mqtt.host,
                mqtt.port,
                mqtt.topic_filter(),
                args.db
            );
            let s = takt_twin::mqtt::listen(&mut twin, mqtt, &stop, &mut on_batch)?;
            ("messages", s)
        }
        (None, None) => unreachable!("checked above"),
    };
    let seconds = started.elapsed().as_secs_f64();
    let mut out = serde_json::json!({
        "accepted": stats.accepted,
        "duplicates": stats.duplicates,
        "rejected": stats.rejected,
        "reconnects": stats.reconnects,
        "seconds": seconds,
    });
    out[what] = stats.received.into();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "{} {what} in {seconds:.1} s: {} accepted, {} duplicates, {} rejected, {} reconnects",
            stats.received, stats.accepted, stats.duplicates, stats.rejected, stats.reconnects
        );
        let now = twin.newest_ms().unwrap_or(model.timebase.start_ms());
        print_state(&twin.state(now));
    }
    Ok(ExitCode::SUCCESS)
}

/// Where files go "beside the store" (the OPC UA certificates): the file's folder, or the working
/// folder for a database.
fn beside_the_store(db: &str) -> &std::path::Path {
    if takt_twin::store::PostgresLocation::is_url(db) {
        std::path::Path::new("store")
    } else {
        std::path::Path::new(db)
    }
}
