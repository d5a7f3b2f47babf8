//! `takt twin forecast`: the rest of the shift forecast from the twin's store (the library's
//! `takt_twin::forecast`), as tables in plant time or `--json`.

use crate::twin::pct;
use anyhow::{Context, Result};
use comfy_table::Table;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use takt_model::quantity::count;
use takt_twin::mirror::MirrorConfig;

#[derive(clap::Args)]
pub struct ForecastArgs {
    /// The twin's event store, filled by `takt replay --db` or `takt twin listen`: a SQLite file, or a PostgreSQL URL (`postgres://user@host/db`, `?sslmode=verify-full` for TLS; the password in TAKT_STORE_PASSWORD).
    #[arg(long, value_name = "FILE|URL")]
    db: String,
    #[command(flatten)]
    plant: crate::store_args::PlantArg,
    /// The plant the store mirrors (TOML); its orders are the plan the forecast is compared with.
    #[arg(long)]
    scenario: PathBuf,
    /// The moment to forecast from (RFC 3339); by default the newest event stored.
    #[arg(long)]
    at: Option<String>,
    /// Forecast to this moment (RFC 3339) or this long after `--at` (`2h`); by default the end of the
    /// running shift (of the scenario's calendar; without one, of its horizon).
    #[arg(long)]
    until: Option<String>,
    /// Forecast runs, each a replication of the rest of the window.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    replications: u32,
    /// Replications of the plan (the scenario from its start) to compare with; 0 skips it.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    plan_replications: u32,
    /// Seed of the forecast's random streams; by default the scenario's.
    #[arg(long)]
    seed: Option<u64>,
    /// How far out of order events may arrive and still be applied in order, e.g. 2s.
    #[arg(long, default_value = "2s", value_parser = crate::parse_secs)]
    reorder_window: f64,
    /// The smallest gap to the plan flagged as a deviation, as a share of the plan (e.g. 2%): a
    /// gap the forecast can detect but nobody would act on is not flagged.
    #[arg(long, default_value = "1%", value_parser = crate::whatif::parse_percent)]
    min_deviation: f64,
    /// Print the forecast as JSON (seconds, fractions) instead of tables.
    #[arg(long)]
    json: bool,
}

pub fn run(args: ForecastArgs) -> Result<ExitCode> {
    let config = MirrorConfig::with_reorder_window_s(args.reorder_window);
    let (model, twin) = match crate::twin::open_twin(&args.scenario, &args.db, &args.plant, config)?
    {
        Ok(opened) => opened,
        Err(code) => return Ok(code),
    };
    let now_ms = match &args.at {
        Some(ts) => {
            takt_model::time::parse_rfc3339_ms(ts).map_err(|e| anyhow::anyhow!("--at: {e}"))?
        }
        None => twin
            .newest_ms()
            .context("the event store holds no events: nothing to forecast from")?,
    };
    let until_s = match &args.until {
        None => None,
        Some(text) => Some(
            model.timebase.model_s(
                takt_model::time::parse_moment_after(text, now_ms)
                    .map_err(|e| anyhow::anyhow!("--until: {e}"))?,
            ),
        ),
    };
    let options = takt_twin::forecast::ForecastOptions {
        replications: args.replications,
        seed: args.seed.unwrap_or(model.seed),
        until_s,
        plan_replications: args.plan_replications,
        min_deviation: args.min_deviation,
    };
    let model = std::sync::Arc::new(model);
    let started = Instant::now();
    let view = twin.view(now_ms);
    let basis = twin.forecast_basis(now_ms)?;
    let f = takt_twin::forecast::forecast_with_plans(
        &model,
        &view,
        now_ms,
        options,
        basis.inputs(None),
        &std::sync::atomic::AtomicBool::new(false),
    )?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "forecast"
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&f)?);
    } else {
        print_forecast(&f, &model.timebase);
    }
    Ok(ExitCode::SUCCESS)
}

/// The forecast for a terminal: counts with separators, times in plant time (the offset named
/// once), and a word where a mean lies outside its own 90 % range.
fn print_forecast(f: &takt_twin::forecast::Forecast, timebase: &takt_model::Timebase) {
    use takt_model::quantity::Quantity;
    use takt_twin::forecast::Interval;
    let when = |s: f64| timebase.plant_minute(s);
    let mut outside = false;
    let range = |i: &Interval, outside: &mut bool| {
        let text = format!(
            "{} to {}",
            Quantity::Count.value(i.p05.round()),
            Quantity::Count.value(i.p95.round())
        );
        // Rounded as shown: a mean of 24,496.6 beside a range of 24,497 to 24,500 is inside.
        if i.mean.round() < i.p05.round() || i.mean.round() > i.p95.round() {
            *outside = true;
            format!("{text} †")
        } else {
            text
        }
    };
    let mean = |i: &Interval| Quantity::Count.estimate(i.mean.round(), i.ci95.map(f64::round));
    let plan = |p: Option<f64>| p.map_or("–".into(), |p| Quantity::Count.value(p.round()));
    println!(
        "{}",
        takt_model::quantity::wrap(
            &format!(
                "forecast from {} to {} (plant time, {}), {} replications, seed {}; so far = in the shift{} since {}",
                when(f.now_s),
                when(f.until_s),
                timebase.offset_text(),
                f.replications,
                f.seed,
                f.shift
                    .as_ref()
                    .map(|n| format!(" `{n}`"))
                    .unwrap_or_default(),
                f.shift_start.get(11..16).unwrap_or(&f.shift_start)
            ),
            100
        )
    );
    let mut t = Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(100)
        .set_header([
            "good parts",
            "so far",
            "at end (mean ± 95% CI)",
            "90% range",
            "plan",
            "OEE at end",
            "availability",
        ]);
    let opt_pct = |i: &Option<Interval>| i.as_ref().map_or("–".into(), |i| pct(Some(i.mean)));
    t.add_row([
        "plant".to_string(),
        count(f.plant_good_so_far),
        mean(&f.plant_good_at_end),
        range(&f.plant_good_at_end, &mut outside),
        plan(f.plan_plant_good),
        "–".into(),
        "–".into(),
    ]);
    for s in &f.stations {
        t.add_row([
            s.station.clone(),
            count(s.good_so_far),
            mean(&s.good_at_end),
            range(&s.good_at_end, &mut outside),
            plan(s.plan_good),
            opt_pct(&s.oee_at_end),
            opt_pct(&s.availability_at_end),
        ]);
    }
    for c in 1..7 {
        if let Some(col) = t.column_mut(c) {
            col.set_cell_alignment(comfy_table::CellAlignment::Right);
        }
    }
    println!("{t}");
    if outside {
        println!(
            "{}",
            takt_model::quantity::wrap(
                "† the mean lies outside its 90 % range: most runs end inside the range, and a few \
                 (fewer than one in twenty) end far from it, a failure that stops the line, say, \
                 and pull the mean with them.",
                100
            )
        );
    }
    if !f.orders.is_empty() {
        match &f.orders_as_of {
            Some(as_of) => println!(
                "orders of the live order book as of {}",
                takt_model::time::parse_rfc3339_ms(as_of)
                    .map_or_else(|_| as_of.clone(), |ms| when(timebase.model_s(ms)))
            ),
            None => println!(
                "orders of the scenario, dated from its start (`takt twin orders --set` gives the \
                 plant's own)"
            ),
        }
        let mut t = Table::new();
        t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
            .set_width(100)
            .set_header([
                "order",
                "quantity",
                "due",
                "complete by the end",
                "completion (90% range)",
                "on time",
                "plan on time",
            ]);
        for o in &f.orders {
            let clock = |s: f64| when(s).get(11..).map_or_else(|| when(s), str::to_string);
            t.add_row([
                o.id.clone(),
                count(u64::from(o.quantity)),
                o.due
                    .as_deref()
                    .and_then(|d| takt_model::time::parse_rfc3339_ms(d).ok())
                    .map_or("–".into(), |ms| when(timebase.model_s(ms))),
                if o.complete_now {
                    "done".into()
                } else {
                    pct(Some(o.p_complete))
                },
                o.completion_s.as_ref().map_or("–".into(), |c| {
                    if c.p05 == c.p95 {
                        when(c.mean)
                    } else {
                        format!("{} ({} to {})", when(c.mean), clock(c.p05), clock(c.p95))
                    }
                }),
                if o.overdue {
                    "overdue".into()
                } else {
                    pct(o.p_on_time)
                },
                pct(o.plan_p_on_time),
            ]);
        }
        println!("{t}");
    }
    for d in &f.deviations {
        println!(
            "{}",
            takt_model::quantity::wrap(
                &format!("DEVIATION {} {}: {}", d.subject, d.flag, d.detail),
                100
            )
        );
    }
    for w in &f.warnings {
        println!("{}", takt_model::quantity::wrap(&format!("note: {w}"), 100));
    }
}
