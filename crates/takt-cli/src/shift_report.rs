//! `takt twin report`: the shift report from the twin's event store, for the handover (the
//! library's `takt_twin::report`): a table, `--json`, or `--html FILE`, a self-contained page.

use crate::table::narrow;
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use takt_model::quantity::{FASTER_THAN_STANDARD, Quantity, count, duration, percent, wrap};
use takt_twin::mirror::MirrorConfig;
use takt_twin::report::ShiftReport;

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The twin's event store, filled by `takt replay --db` or `takt twin listen`: a SQLite file, or a PostgreSQL URL (`postgres://user@host/db`, `?sslmode=verify-full` for TLS; the password in TAKT_STORE_PASSWORD).
    #[arg(long, value_name = "FILE|URL")]
    db: String,
    #[command(flatten)]
    plant: crate::store_args::PlantArg,
    /// The plant the store mirrors (TOML); its orders are the plan the shift is compared with.
    #[arg(long)]
    scenario: PathBuf,
    /// Which shift: `previous` (the one before the running shift, complete) or `shift` (the
    /// running one, so far).
    #[arg(long, default_value = "previous", value_parser = ["previous", "shift"])]
    shift: String,
    /// Runs of the plan averaged for the comparison (0: none).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(0..=1000))]
    plan_replications: u32,
    /// Seed of the plan's runs; by default the scenario's.
    #[arg(long)]
    seed: Option<u64>,
    /// Also write the report as a self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Print the report as JSON (seconds, fractions) instead of tables.
    #[arg(long)]
    json: bool,
}

pub fn run(args: ReportArgs) -> Result<ExitCode> {
    let (model, twin) = match crate::twin::open_twin(
        &args.scenario,
        &args.db,
        &args.plant,
        MirrorConfig::default(),
    )? {
        Ok(opened) => opened,
        Err(code) => return Ok(code),
    };
    let Some(now) = twin.newest_ms() else {
        bail!("{}: the event store holds no events", args.db);
    };
    let window = args
        .shift
        .parse::<takt_twin::KpiWindow>()
        .map_err(|e| anyhow::anyhow!("--shift: {e}"))?;
    let seed = args.seed.unwrap_or(model.seed);
    let model = Arc::new(model);
    let mut report = twin.shift_report(&model, now, window);
    if args.plan_replications > 0 {
        let start = twin.shift_start(report.start_ms, twin.order_book_versioned()?);
        takt_twin::report::compare_with_plan(
            &mut report,
            &model,
            start.as_ref(),
            args.plan_replications,
            seed,
            None,
        )?;
    }
    if let Some(path) = &args.html {
        std::fs::write(path, takt_twin::report::html(&report))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print(&report);
        if let Some(path) = &args.html {
            println!("report: {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print(r: &ShiftReport) {
    let plant = takt_twin::report::plant_time;
    println!(
        "{}",
        wrap(
            &format!(
                "shift report for {}: {}{} to {} (plant time, {}){}",
                r.plant,
                r.shift
                    .as_deref()
                    .map_or(String::new(), |s| format!("shift `{s}`, ")),
                plant(&r.start),
                plant(&r.end),
                takt_twin::report::offset_text(&r.start),
                if r.ended {
                    String::new()
                } else {
                    format!(
                        ", still running: figures up to {}, the plan's too",
                        plant(&r.until).get(11..).unwrap_or_default()
                    )
                }
            ),
            100
        )
    );
    println!(
        "{}",
        wrap(
            &format!(
                "the line ({}): {}; OEE {}{}",
                r.line.end_of_line,
                takt_twin::report::against_plan(r.line.good, r.line.plan_good),
                Quantity::Share.maybe(r.line.oee),
                if r.line.performance_above_standard {
                    " ⚑"
                } else {
                    ""
                }
            ),
            100
        )
    );
    for n in &r.plan_notes {
        println!("{}", wrap(n, 100));
    }
    let mut t = narrow(
        &[
            "machine",
            "OEE",
            "availability",
            "performance",
            "quality",
            "good",
            "scrap",
            "plan (good)",
        ],
        1,
    );
    let mut flagged = false;
    for s in &r.stations {
        flagged |= s.performance_above_standard;
        t.add_row(vec![
            s.asset.clone(),
            Quantity::Share.maybe(s.oee),
            Quantity::Share.maybe(s.availability),
            format!(
                "{}{}",
                Quantity::Share.maybe(s.performance),
                if s.performance_above_standard {
                    " ⚑"
                } else {
                    ""
                }
            ),
            Quantity::Share.maybe(s.quality),
            count(s.good),
            count(s.scrap),
            s.plan_good
                .map_or("–".into(), |p| Quantity::Count.value(p.round())),
        ]);
    }
    println!("{t}");
    if flagged || r.line.performance_above_standard {
        println!(
            "{}",
            wrap(
                &format!("⚑ performance above 100 %: {FASTER_THAN_STANDARD}"),
                100
            )
        );
    }
    if r.downtime.is_empty() {
        println!("no stops or waits recorded in the shift");
    } else {
        let mut t = narrow(
            &[
                "where the time went",
                "state",
                "reason",
                "time",
                "how often",
                "each, on average",
                "share",
                "cumulative",
            ],
            3,
        );
        for d in &r.downtime {
            t.add_row(vec![
                d.asset.clone(),
                d.state.clone(),
                d.reason_text(),
                duration(d.duration_s),
                d.how_often_text(),
                d.mean_text(),
                percent(d.share),
                percent(d.cumulative_share),
            ]);
        }
        println!("{t}");
        println!(
            "{}",
            wrap(
                "stops are the machine's own (down, setup, planned, idle); waits (starved, blocked) \
                 are the line's: a machine faster than its feed waits many short times",
                100
            )
        );
    }
    if r.alerts.is_empty() {
        println!("no alert recorded in the shift");
        println!("(alerts are judged by takt serve, takt twin listen and takt replay --alerts)");
    } else {
        let mut t = narrow(
            &["alert raised", "cleared", "severity", "what", "taken on by"],
            5,
        );
        for a in &r.alerts {
            t.add_row(vec![
                a.raised.clone(),
                a.cleared.clone().unwrap_or_else(|| "open".into()),
                a.alert.severity.name().to_string(),
                a.alert.message.clone(),
                a.alert.acknowledged.as_ref().map_or("–".into(), |k| {
                    if k.note.is_empty() {
                        k.by.clone()
                    } else {
                        format!("{}: {}", k.by, k.note)
                    }
                }),
            ]);
        }
        println!("{t}");
    }
    for n in &r.notes {
        println!("{}", wrap(&format!("note: {n}"), 100));
    }
}
