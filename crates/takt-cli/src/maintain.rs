//! `takt maintain --scenario S --horizon 14d`: when to service each machine over the coming days.
//! Builds the window problem from the plant (`takt_maintenance::plant`), solves it (the MILP in the
//! `milp` build, else greedy), prints the windows and, with `--compare N`, runs the plant under
//! run to failure, a fixed interval and the plan in the simulator.

use anyhow::{Context, Result};
use comfy_table::{ContentArrangement, Table};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use takt_maintenance::maintain::{PlanFrom, PlanOutput, PlanRequest, Solver, plan_plant, steps};
use takt_maintenance::plant::{Costs, Settings};
use takt_model::quantity::{Quantity, duration, money, percent, wrap};
use takt_twin::Twin;
use takt_twin::mirror::MirrorConfig;

#[derive(clap::Args)]
pub struct MaintainArgs {
    /// Scenario file (TOML); calibrate it from history first (`takt calibrate`) to plan on fitted
    /// lifetimes.
    #[arg(long)]
    scenario: PathBuf,
    /// The live twin's event store: plan from now (its newest event) with the ages of every
    /// failure mode as mirrored. Without it (or --history) the plan starts at the scenario's
    /// start, as new.
    #[arg(long, conflicts_with = "history", value_name = "FILE|URL")]
    db: Option<String>,
    #[command(flatten)]
    plant: crate::store_args::PlantArg,
    /// A recorded history (takt events, JSON Lines): mirrored in memory, then planned from its
    /// last event with the ages it shows, as with --db.
    #[arg(long)]
    history: Option<PathBuf>,
    /// How far ahead to plan, e.g. 14d.
    #[arg(long, default_value = "14d", value_parser = crate::parse_secs)]
    horizon: f64,
    /// Length of a planning bucket, e.g. 4h.
    #[arg(long, default_value = "4h", value_parser = crate::parse_secs)]
    bucket: f64,
    /// Cost of one repair after a failure (parts and labour).
    #[arg(long, allow_hyphen_values = true, default_value_t = 800.0)]
    repair_cost: f64,
    /// Cost of one planned service (parts and labour).
    #[arg(long, allow_hyphen_values = true, default_value_t = 300.0)]
    service_cost: f64,
    /// Margin lost per hour a station stands in production time.
    #[arg(long, allow_hyphen_values = true, default_value_t = 1000.0)]
    downtime_cost: f64,
    /// A service's length for stations without a maintenance spec, e.g. 1h.
    #[arg(long, default_value = "1h", value_parser = crate::parse_secs)]
    service_duration: f64,
    /// The largest acceptable probability of a failure between two renewals of a machine.
    #[arg(long, allow_hyphen_values = true, default_value_t = 1.0)]
    max_risk: f64,
    /// Crew members for services at any time (default: the crews the planned stations name).
    #[arg(long)]
    crew: Option<u32>,
    /// `milp` (exact, in the `milp` build) or `greedy`.
    #[arg(long, default_value = "auto", value_parser = ["auto", "milp", "greedy"])]
    solver: String,
    /// Time limit of the MILP; the best plan found by then is kept.
    #[arg(long, default_value = "20s", value_parser = crate::parse_secs)]
    time_limit: f64,
    /// Replications of the baseline run that measures how fast each mode ages.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    baseline_replications: u32,
    /// Compare run to failure, a fixed interval and the plan in the simulator, N replications
    /// each over the same random numbers, from where the plan starts (with --db or --history:
    /// the plant as mirrored).
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..=10_000))]
    compare: Option<u32>,
    /// Seed of the baseline and --compare runs (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Write the scenario with the plan's windows as each planned station's `maintenance.at`, so
    /// that `takt schedule`, `takt run` and `takt whatif` take them as planned stops.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// The currency the costs are in, shown beside every amount.
    #[arg(long, default_value = "EUR")]
    currency: String,
    /// The plan as JSON (times in seconds from the start, risks as fractions, costs as numbers).
    #[arg(long)]
    json: bool,
}

fn right_aligned(t: &mut Table, columns: std::ops::Range<usize>) {
    for c in columns {
        if let Some(col) = t.column_mut(c) {
            col.set_cell_alignment(comfy_table::CellAlignment::Right);
        }
    }
}

/// Writes the scenario with the plan's windows as each planned station's `maintenance.at`.
fn write_plan(
    scenario: &std::path::Path,
    output: &std::path::Path,
    machines: &[takt_maintenance::plant::PlannedMachine],
    plan: &takt_maintenance::windows::MaintenancePlan,
    start_s: f64,
) -> Result<()> {
    let text = std::fs::read_to_string(scenario)
        .with_context(|| format!("cannot read {}", scenario.display()))?;
    let out = takt_maintenance::planned::planned_scenario(
        &text,
        output,
        scenario.parent(),
        machines,
        plan,
        start_s,
    )
    .with_context(|| format!("{}", scenario.display()))?;
    std::fs::write(output, out).with_context(|| format!("cannot write {}", output.display()))?;
    Ok(())
}

pub fn run(args: MaintainArgs) -> Result<ExitCode> {
    let loaded = match crate::load(&args.scenario)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let model = Arc::new(loaded.model);
    let seed = args.seed.unwrap_or(model.seed);
    // The plan starts from the plant as the twin mirrors it, or at the scenario's start with
    // every part new.
    let twin = match (&args.db, &args.history) {
        (Some(db), _) => {
            let store = crate::store_args::open_existing(db, &args.plant)?;
            Some(Twin::open(
                &model,
                store,
                MirrorConfig::with_reorder_window_s(5.0),
            )?)
        }
        (None, Some(history)) => {
            let text = std::fs::read_to_string(history)
                .with_context(|| format!("cannot read {}", history.display()))?;
            let (twin, rejected) =
                Twin::from_history(&model, &text, MirrorConfig::with_reorder_window_s(5.0))?;
            if rejected > 0 {
                tracing::warn!(
                    rejected,
                    "history: events refused (malformed or unknown assets)"
                );
            }
            Some(twin)
        }
        (None, None) => None,
    };
    let observed = match twin {
        None => None,
        Some(twin) => {
            let now_ms = twin
                .newest_ms()
                .context("the event store holds no events: no ages to plan from")?;
            let book = twin.order_book()?;
            let observed =
                takt_twin::condition::observe(&model, &twin.view(now_ms), now_ms, book.as_deref())
                    .context("the plant as mirrored")?;
            Some(observed)
        }
    };
    let (from, start_s) = match &observed {
        None => (PlanFrom::ScenarioStart, 0.0),
        Some(o) => (
            PlanFrom::Plant {
                condition: &o.condition,
                model: &o.model,
                assumed: &o.warnings,
            },
            o.condition.now_s,
        ),
    };
    let solver = match args.solver.as_str() {
        "greedy" => Solver::Greedy,
        #[cfg(not(feature = "milp"))]
        "milp" => anyhow::bail!("this build has no MILP solver: build with `--features milp`"),
        #[cfg(not(feature = "milp"))]
        _ => Solver::Greedy,
        #[cfg(feature = "milp")]
        _ => Solver::Milp {
            time_limit_s: args.time_limit,
        },
    };
    let request = PlanRequest {
        settings: Settings {
            start_s,
            horizon_s: args.horizon,
            bucket_s: args.bucket,
            costs: Costs {
                repair: args.repair_cost,
                service: args.service_cost,
                downtime_per_hour: args.downtime_cost,
            },
            service_s: args.service_duration,
            max_risk: args.max_risk,
            crew: args.crew,
        },
        baseline_replications: args.baseline_replications,
        seed,
        solver,
        compare: args.compare,
    };
    let bar = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(steps(&request)).with_style(
            ProgressStyle::with_template(
                "{spinner} simulation runs {pos}/{len} [{bar:30}] {elapsed}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    };
    let never = std::sync::atomic::AtomicBool::new(false);
    let output = plan_plant(
        &loaded.scenario,
        &model,
        from,
        &request,
        &|| bar.inc(1),
        &never,
    );
    bar.finish_and_clear();
    let output = output?;
    if let Some(path) = &args.output {
        write_plan(
            &args.scenario,
            path,
            &output.machines,
            &output.plan,
            start_s,
        )?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&output)?);
        return Ok(ExitCode::SUCCESS);
    }
    let PlanOutput {
        settings,
        machines,
        notes,
        plan,
        comparison,
        ..
    } = output;
    let when = |s: f64| model.timebase.plant_minute(start_s + s);
    let offset = model.timebase.offset_text();
    let currency = &args.currency;
    println!(
        "{}",
        wrap(
            &format!(
                "maintenance plan for {}: {} over {} from {} (plant time, {offset}), solver {}",
                model.name,
                match plan.windows.len() {
                    1 => "1 service".to_string(),
                    n => format!("{n} services"),
                },
                duration(settings.horizon_s),
                when(0.0),
                plan.solver
            ),
            100
        )
    );
    let mut t = Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(100)
        .set_header([
            "machine",
            "start",
            "length",
            "crew",
            "risk before",
            "risk after",
            "risk without",
            "production lost",
        ]);
    for w in &plan.windows {
        t.add_row([
            w.machine.clone(),
            when(w.start_s),
            duration(w.duration_s),
            w.crew.to_string(),
            percent(w.risk_before),
            percent(w.risk_after),
            percent(w.risk_without),
            money(w.production_cost, currency),
        ]);
    }
    right_aligned(&mut t, 2..8);
    println!("{t}");
    println!(
        "{}",
        wrap(
            "A service renews the machine's planned modes (below). Each risk is the chance of a failure of those modes in one span of the machine's \
             life: before = from the renewal before this service (its age now, or the previous \
             service) to this service; after = from this service to the next one (or the end of \
             the horizon); without = that same span had this service been skipped, so after \
             against without is the risk the service removes. Two services close together say \
             that a planned stop made the second one cheaper than the failures it prevents.",
            100
        )
    );
    let mut t = Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(100)
        .set_header([
            "machine",
            "modes planned",
            "services",
            "expected failures",
            "run to failure",
        ]);
    for (m, p) in machines.iter().zip(&plan.machines) {
        t.add_row([
            m.name.clone(),
            m.modes.join(", "),
            p.services.to_string(),
            takt_model::quantity::grouped(p.expected_failures, 2),
            takt_model::quantity::grouped(p.run_to_failure_failures, 2),
        ]);
    }
    right_aligned(&mut t, 2..5);
    println!("{t}");
    println!(
        "expected cost {} (run to failure: {}), failures over the horizon as expected values",
        money(plan.expected_cost, currency),
        money(plan.run_to_failure_cost, currency)
    );
    for n in &notes {
        println!("{}", wrap(&format!("note: {n}"), 100));
    }
    if let Some(c) = &comparison {
        println!(
            "\npolicies in the simulator: {} replications each over {}, seed {}, the same random numbers",
            c.replications,
            duration(c.horizon_s),
            c.seed
        );
        let mut t = Table::new();
        t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(100);
        let mut header = vec!["KPI".to_string()];
        header.extend(c.policies.iter().map(|p| p.name.clone()));
        t.set_header(header);
        for (k, e) in c.policies[0].estimates.iter().enumerate() {
            let mut row = vec![e.label.to_string()];
            for p in &c.policies {
                let e = &p.estimates[k];
                let with_currency = |text: String| {
                    if e.quantity == Quantity::Money {
                        format!("{text} {currency}")
                    } else {
                        text
                    }
                };
                let mut cell = with_currency(e.quantity.estimate(e.mean, e.ci95));
                if let Some(d) = &e.difference {
                    cell.push_str(&format!(
                        "\n{}{}",
                        with_currency(e.quantity.change_within(d.mean, d.ci95)),
                        if d.significant { " *" } else { "" }
                    ));
                }
                row.push(cell);
            }
            t.add_row(row);
        }
        right_aligned(&mut t, 1..c.policies.len() + 1);
        println!("{t}");
        println!(
            "(second line: paired difference to run to failure with its 95% interval; * where it excludes 0)"
        );
        for p in &c.policies {
            println!("{}", wrap(&format!("{}: {}", p.name, p.description), 100));
        }
    }
    Ok(ExitCode::SUCCESS)
}
