//! `takt schedule`: schedule a plant's order book (`takt schedule SCENARIO [--orders CSV]`) or a
//! benchmark instance (`--instance FILE --format jssp|fjsp|fjsp-sdst`), check the schedule, print it
//! (table, `--json`, `--csv`, `--gantt`), and with `--evaluate N` run it in the simulator.

use anyhow::{Context, Result, bail};
use comfy_table::Table;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;
use takt_model::load::{compile_located, parse_scenario};
use takt_model::quantity::{Quantity, count, duration, percent, wrap};
use takt_model::{Model, ScenarioError};
use takt_scheduler::instances::{Format, read};
use takt_scheduler::objective::Objective;
use takt_scheduler::planning::{
    InstanceSchedule, MAX_ROBUSTNESS_REPLICATIONS, PlantSchedule, PlantScheduleRequest, Robustness,
    ScheduleSolver, SolveRequest, schedule_instance, schedule_plant, steps,
};
use takt_scheduler::plant::{PlantError, PlantProblem, from_model};
use takt_scheduler::{Schedule, ShopProblem};

#[derive(clap::Args)]
pub struct ScheduleArgs {
    /// A plant scenario (TOML): its order book is scheduled on its stations, changeovers and shifts.
    #[arg(conflicts_with = "instance")]
    scenario: Option<PathBuf>,
    /// An order book (CSV: id,product,quantity,release,due[,priority]) instead of the scenario's own.
    #[arg(long, requires = "scenario")]
    orders: Option<PathBuf>,
    /// A benchmark instance file instead of a scenario.
    #[arg(long)]
    instance: Option<PathBuf>,
    /// Format of --instance: jssp (OR-Library), fjsp (Brandimarte) or fjsp-sdst (Fattahi, with setups).
    #[arg(long, default_value = "jssp")]
    format: Format,
    /// What to minimise: makespan, tardiness (weighted by priority), late (orders), setup; `+` for a
    /// weighted sum (tardiness+0.5*setup), `,` for a ranking (late,tardiness). Default: tardiness for a
    /// scenario, makespan for an instance.
    #[arg(long)]
    objective: Option<Objective>,
    /// Time budget of the search, e.g. 10s.
    #[arg(long, default_value = "10s", value_parser = crate::parse_secs)]
    time_limit: f64,
    /// Iteration cap per search (with it, results are reproducible for a seed).
    #[arg(long, default_value_t = u64::MAX)]
    iterations: u64,
    /// Independent searches in parallel (default: the machine's cores).
    #[arg(long)]
    searches: Option<u32>,
    /// Seed of the search and of the --evaluate runs: the same seed, the same plan.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// dispatch (instant), search (tabu), milp (exact, makespan only, needs the `milp` build
    /// feature), or auto (search, then with `milp` an attempt to prove optimality on small instances).
    #[arg(long, default_value = "auto")]
    solver: ScheduleSolver,
    /// Print the plan as JSON (times in RFC 3339 and in seconds from the start) instead of tables.
    #[arg(long)]
    json: bool,
    /// Write the schedule as an SVG Gantt chart.
    #[arg(long, value_name = "FILE")]
    gantt: Option<PathBuf>,
    /// Write the schedule as CSV (one row per operation), e.g. for the ERP.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Run the schedule N times in the simulator (failures, repairs and scrap as in the scenario) and
    /// report makespan, tardiness and on-time rate beside the plan's.
    #[arg(long, value_name = "N", requires = "scenario")]
    evaluate: Option<u32>,
    /// Instead of a detailed schedule, the aggregate plan (an LP, needs the `milp` build feature):
    /// each order's steps assigned to shifts within each station's capacity - for large books.
    #[arg(long, requires = "scenario")]
    aggregate: bool,
    /// Length of the aggregate plan's buckets (shifts), e.g. 8h.
    #[arg(long, default_value = "8h", value_parser = crate::parse_secs)]
    bucket: f64,
    /// Where buckets start, from the scenario start: e.g. 6h when shifts begin at 06:00.
    #[arg(long, default_value = "0s", value_parser = crate::parse_secs)]
    bucket_offset: f64,
}

/// A plant's problem with what maps it back to the plant.
struct PlantSource {
    model: Arc<Model>,
    plant: PlantProblem,
}

/// Loads the scenario with its order book (or the one given), without random arrivals: the order book
/// is the demand being planned.
fn load_plant(scenario: &Path, orders: Option<&Path>) -> Result<Result<PlantSource, ExitCode>> {
    let text = std::fs::read_to_string(scenario)
        .with_context(|| format!("cannot read {}", scenario.display()))?;
    let parsed = parse_scenario(&text, scenario).and_then(|mut s| {
        if orders.is_none() && s.demand.orders.is_empty() && s.demand.orders_csv.is_none() {
            return Ok(Err(PlantError::NoOrders));
        }
        s.demand.arrivals = None;
        if let Some(csv) = orders {
            s.demand.orders.clear();
            s.demand.orders_csv = Some(csv.to_string_lossy().into_owned());
        }
        // --orders is relative to the working directory, the scenario's own CSV to the scenario.
        let base = if orders.is_some() {
            Path::new(".")
        } else {
            scenario.parent().unwrap_or(Path::new("."))
        };
        compile_located(s, &text, scenario, Some(base)).map(Ok)
    });
    let loaded = match parsed {
        Ok(Ok(l)) => l,
        Ok(Err(e)) => bail!("{}: {e}", scenario.display()),
        Err(ScenarioError::Invalid(diags)) => {
            for d in &diags {
                eprintln!("{d}");
            }
            eprintln!("{}: {} problem(s)", scenario.display(), diags.len());
            return Ok(Err(ExitCode::from(1)));
        }
        Err(e) => return Err(e.into()),
    };
    let plant = from_model(&loaded.model).with_context(|| format!("{}", scenario.display()))?;
    Ok(Ok(PlantSource {
        model: Arc::new(loaded.model),
        plant,
    }))
}

pub fn run(args: ScheduleArgs) -> Result<ExitCode> {
    // The time limit counts from here: reading the book and building the problem are in it.
    let began = Instant::now();
    if let Some(n) = args.evaluate
        && (n == 0 || n > MAX_ROBUSTNESS_REPLICATIONS)
    {
        bail!("--evaluate needs between 1 and {MAX_ROBUSTNESS_REPLICATIONS} replications, got {n}");
    }
    let searches = args
        .searches
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u32));
    let solve = |objective: Objective| SolveRequest {
        objective: args.objective.clone().unwrap_or(objective),
        solver: args.solver,
        time_limit_s: args.time_limit,
        iterations: args.iterations,
        searches,
        seed: args.seed,
    };
    let never = AtomicBool::new(false);
    match (&args.scenario, &args.instance) {
        (Some(path), _) => {
            let src = match load_plant(path, args.orders.as_deref())? {
                Ok(s) => s,
                Err(code) => return Ok(code),
            };
            if args.aggregate {
                return aggregate(&src, &args);
            }
            let request = PlantScheduleRequest {
                solve: solve(SolveRequest::plant_objective()),
                robustness_replications: args.evaluate,
            };
            let bar = ProgressBar::new(steps(&request)).with_style(
                ProgressStyle::with_template(
                    "{spinner} running the plan {pos}/{len} [{bar:30}] {elapsed}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            if steps(&request) == 0 {
                bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            let (plan, schedule) = schedule_plant(
                &src.model,
                &src.plant,
                &request,
                began,
                &|| bar.inc(1),
                &never,
            )
            .with_context(|| format!("{}", path.display()))?;
            bar.finish_and_clear();
            if let Some(gantt) = &args.gantt {
                let timebase = &src.model.timebase;
                let clock = |t: i64| timebase.plant_minute(t as f64);
                let axis = takt_scheduler::gantt::TimeAxis::Plant {
                    seconds_past_midnight: timebase.seconds_past_midnight(),
                    label: &clock,
                };
                std::fs::write(
                    gantt,
                    takt_scheduler::gantt::svg(&src.plant.problem, &schedule, &axis),
                )
                .with_context(|| format!("cannot write {}", gantt.display()))?;
            }
            if let Some(csv) = &args.csv {
                write_plant_csv(csv, &plan)
                    .with_context(|| format!("cannot write {}", csv.display()))?;
            }
            if args.json {
                println!("{}", serde_json::to_string_pretty(&plan)?);
            } else {
                print_plant(&plan, &src.model, src.plant.problem.machines);
                if let Some(r) = &plan.robustness {
                    print_robustness(r);
                }
            }
        }
        (None, Some(path)) => {
            if args.aggregate {
                bail!("--aggregate plans a scenario's order book");
            }
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let name = path
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().to_string());
            let problem =
                read(&text, args.format, &name).with_context(|| format!("{}", path.display()))?;
            let plan = schedule_instance(&problem, &solve(Objective::makespan()), began, &never)
                .with_context(|| format!("{}", path.display()))?;
            if let Some(gantt) = &args.gantt {
                let schedule = Schedule {
                    operations: plan.schedule.clone(),
                };
                std::fs::write(
                    gantt,
                    takt_scheduler::gantt::svg(
                        &problem,
                        &schedule,
                        &takt_scheduler::gantt::TimeAxis::Units,
                    ),
                )
                .with_context(|| format!("cannot write {}", gantt.display()))?;
            }
            if let Some(csv) = &args.csv {
                write_instance_csv(csv, &problem, &plan)
                    .with_context(|| format!("cannot write {}", csv.display()))?;
            }
            if args.json {
                println!("{}", serde_json::to_string_pretty(&plan)?);
            } else {
                print_instance(&problem, &plan);
            }
        }
        (None, None) => bail!("give a scenario (takt schedule plant.toml) or --instance FILE"),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "milp")]
fn aggregate(src: &PlantSource, args: &ScheduleArgs) -> Result<ExitCode> {
    let names: Vec<String> = src.model.stations.iter().map(|s| s.name.clone()).collect();
    let started = Instant::now();
    let plan = takt_scheduler::aggregate::plan(
        &src.plant,
        &names,
        args.bucket.round() as i64,
        args.bucket_offset.round() as i64,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        let mut out = serde_json::to_value(&plan)?;
        out["seconds"] = serde_json::json!(seconds);
        out["bucket_starts"] = serde_json::json!(
            plan.bucket_starts_s
                .iter()
                .map(|&s| src.model.timebase.rfc3339(s as f64))
                .collect::<Vec<_>>()
        );
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}: aggregate plan of {} orders in {} buckets of {}, solved in {}; weighted lateness {}; times in plant time ({})",
        src.model.name,
        plan.orders.len(),
        plan.bucket_starts_s.len(),
        duration(plan.bucket_s as f64),
        duration(seconds),
        duration(plan.objective),
        src.model.timebase.offset_text()
    );
    let mut t = Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    let mut header = vec!["bucket".to_string()];
    header.extend(plan.groups.iter().map(|g| format!("{} load", g.group)));
    t.set_header(header);
    for (b, &start) in plan.bucket_starts_s.iter().enumerate() {
        let mut row = vec![src.model.timebase.plant_minute(start as f64)];
        for g in &plan.groups {
            row.push(if g.capacity_s[b] > 0.0 {
                format!("{:.0} %", 100.0 * g.work_s[b] / g.capacity_s[b])
            } else if g.work_s[b] > 0.0 {
                "over".into()
            } else {
                "-".into()
            });
        }
        t.add_row(row);
    }
    println!("{t}");
    let mut o = Table::new();
    o.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    o.set_header(["order", "due", "done by (bucket end)", "weighted lateness"]);
    for order in &plan.orders {
        o.add_row([
            order.order.clone(),
            order
                .due_s
                .map_or(String::new(), |d| src.model.timebase.plant_minute(d as f64)),
            src.model
                .timebase
                .plant_minute(order.completion_by_s as f64),
            Quantity::Duration.change(order.weighted_lateness_s),
        ]);
    }
    println!("{o}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "milp"))]
fn aggregate(_: &PlantSource, _: &ScheduleArgs) -> Result<ExitCode> {
    bail!(
        "the aggregate plan needs the LP solver: build with `cargo build --release -p takt-cli --features milp` (scripts/setup.sh installs what HiGHS needs)"
    )
}

/// One row per operation, by start, e.g. for the ERP.
fn write_plant_csv(path: &Path, plan: &PlantSchedule) -> Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "order",
        "operation",
        "product",
        "quantity",
        "station",
        "machine",
        "setup_start",
        "start",
        "end",
        "due",
    ])?;
    let due: std::collections::HashMap<&str, &str> = plan
        .orders
        .iter()
        .filter_map(|o| Some((o.order.as_str(), o.due.as_deref()?)))
        .collect();
    let mut ops: Vec<_> = plan.operations.iter().collect();
    ops.sort_by(|a, b| (a.start_s, &a.machine).cmp(&(b.start_s, &b.machine)));
    for o in ops {
        w.write_record([
            o.order.as_str(),
            &o.operation.to_string(),
            &o.product,
            &o.quantity.to_string(),
            &o.station,
            &o.machine,
            &o.setup_start,
            &o.start,
            &o.end,
            due.get(o.order.as_str()).copied().unwrap_or(""),
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn write_instance_csv(path: &Path, p: &ShopProblem, plan: &InstanceSchedule) -> Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(["job", "operation", "machine", "setup_start", "start", "end"])?;
    for o in &plan.schedule {
        w.write_record([
            p.jobs[o.job].name.clone(),
            (o.operation + 1).to_string(),
            p.machine_name(o.machine),
            o.setup_start.to_string(),
            o.start.to_string(),
            o.end.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// The objective's first level in words ("late,tardiness" -> "the late orders").
fn first_level(objective: &str) -> &'static str {
    match objective.split(',').next().unwrap_or_default() {
        "makespan" => "the makespan",
        "tardiness" => "the weighted tardiness",
        "late" => "the late orders",
        "setup" => "the setups",
        _ => "the objective",
    }
}

/// What a better plan (or schedule) could win at most; without a gap, the bound cannot say.
fn could_cut(what: &str, objective: &str, gap: Option<f64>) -> String {
    match gap {
        None => format!(
            "the bound of {} is 0, so it cannot say how much a better {what} could win",
            first_level(objective)
        ),
        Some(gap) => format!(
            "a better {what} could cut {} by at most {}",
            first_level(objective),
            percent(gap)
        ),
    }
}

fn print_instance(p: &ShopProblem, plan: &InstanceSchedule) {
    println!(
        "{}: {} jobs, {} machines, {} operations -> makespan {}{} (setups {}), {:.2} s, feasible",
        plan.instance,
        p.jobs.len(),
        p.machines,
        p.n_ops(),
        plan.makespan,
        match plan.proven_optimal {
            Some(true) => ", proven optimal",
            Some(false) => ", optimality not proven",
            None => "",
        },
        plan.setup,
        plan.seconds,
    );
    let b = &plan.lower_bound;
    println!(
        "whatever the schedule: makespan at least {}, weighted tardiness at least {}, at least {} \
         jobs late; {}",
        b.makespan,
        b.weighted_tardiness,
        b.late_jobs,
        could_cut("schedule", &plan.objective, b.gap).replace("orders", "jobs"),
    );
    for m in 0..p.machines {
        let mut on: Vec<_> = plan.schedule.iter().filter(|o| o.machine == m).collect();
        on.sort_by_key(|o| o.start);
        let seq: Vec<String> = on
            .iter()
            .map(|o| format!("J{}.{}@{}", o.job + 1, o.operation + 1, o.start))
            .collect();
        println!("  {}: {}", p.machine_name(m), seq.join(" "));
    }
}

/// The plan for a terminal: times in plant time (the offset named once), durations in h and min,
/// within 100 columns.
fn print_plant(plan: &PlantSchedule, model: &Model, machines: usize) {
    let timebase = &model.timebase;
    let at = |rfc3339: &str| {
        takt_model::time::parse_rfc3339_ms(rfc3339).map_or_else(
            |_| rfc3339.to_string(),
            |ms| timebase.plant_minute(timebase.model_s(ms)),
        )
    };
    // A time on the same day as `day` as its clock alone.
    let clock_if_same_day = |time: String, day: &str| match time.split_once(' ') {
        Some((d, clock)) if day.starts_with(d) => clock.to_string(),
        _ => time,
    };
    println!(
        "{}",
        wrap(
            &format!(
                "{}: {} orders, {} operations on {machines} machines, objective {}, solved in {}, feasible; times in plant time ({})",
                plan.scenario,
                plan.orders.len(),
                plan.operations.len(),
                plan.objective,
                duration(plan.seconds),
                timebase.offset_text(),
            ),
            100
        )
    );
    println!(
        "{}",
        wrap(
            &format!(
                "plan: makespan {} (ends {}), weighted tardiness {}, {} of {} orders late, setups {}",
                duration(plan.makespan_s as f64),
                at(&plan.ends),
                duration(plan.weighted_tardiness_s),
                plan.late_orders,
                plan.orders_with_due,
                duration(plan.setup_s as f64),
            ),
            100
        )
    );
    let b = &plan.lower_bound;
    println!(
        "{}",
        wrap(
            &format!(
                "whatever the plan: at least {} late, weighted tardiness at least {}, makespan at \
                 least {} (each order's own path and the machines' load; changeovers left out); {}",
                if b.late_orders == 1 {
                    "1 order".to_string()
                } else {
                    format!("{} orders", count(b.late_orders as u64))
                },
                duration(b.weighted_tardiness_s),
                duration(b.makespan_s as f64),
                could_cut("plan", &plan.objective, b.gap),
            ),
            100
        )
    );
    let mut ops = Table::new();
    ops.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(100)
        .set_header([
            "machine", "order", "op", "product", "qty", "setup", "start", "end",
        ]);
    for o in &plan.operations {
        let start = at(&o.start);
        ops.add_row([
            o.machine.clone(),
            o.order.clone(),
            o.operation.to_string(),
            o.product.clone(),
            count(o.quantity.into()),
            if o.start_s > o.setup_start_s {
                clock_if_same_day(at(&o.setup_start), &start)
            } else {
                String::new()
            },
            start.clone(),
            clock_if_same_day(at(&o.end), &start),
        ]);
    }
    println!("{ops}");
    let mut orders = Table::new();
    orders
        .load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(100)
        .set_header(["order", "release", "due", "completion", "lateness", ""]);
    for o in &plan.orders {
        orders.add_row([
            o.order.clone(),
            timebase.plant_minute(o.release_s as f64),
            o.due.as_deref().map_or(String::new(), at),
            at(&o.completion),
            o.lateness_s
                .map_or(String::new(), |l| Quantity::Duration.change(l as f64)),
            if o.late { "LATE".into() } else { String::new() },
        ]);
    }
    println!("{orders}");
}

fn print_robustness(r: &Robustness) {
    println!(
        "{}",
        wrap(
            &format!(
                "robustness: the plan run {} times in the simulator (failures, repairs, scrap and process times drawn as in the scenario)",
                r.replications
            ),
            100
        )
    );
    let mut t = Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(100)
        .set_header(["", "plan", "simulated mean ± 95% CI", "p10", "p50", "p90"]);
    let s = &r.simulated;
    for (label, d, quantity, plan_value) in [
        (
            "makespan",
            &s.makespan_s,
            Quantity::Duration,
            Some(r.plan.makespan_s),
        ),
        (
            "weighted tardiness",
            &s.weighted_tardiness_s,
            Quantity::Duration,
            Some(r.plan.weighted_tardiness_s),
        ),
        (
            "late orders",
            &s.late_orders,
            Quantity::Count,
            Some(r.plan.late_orders as f64),
        ),
        (
            "on-time rate",
            &s.on_time_rate,
            Quantity::Share,
            r.plan.on_time_rate,
        ),
    ] {
        t.add_row([
            label.to_string(),
            quantity.maybe(plan_value),
            d.mean.map_or("–".into(), |m| quantity.estimate(m, d.ci95)),
            quantity.maybe(d.p10),
            quantity.maybe(d.p50),
            quantity.maybe(d.p90),
        ]);
    }
    for c in 1..6 {
        if let Some(col) = t.column_mut(c) {
            col.set_cell_alignment(comfy_table::CellAlignment::Right);
        }
    }
    println!("{t}");
    if s.runs_with_unfinished_orders > 0 {
        println!(
            "{} run(s) stopped before every order was finished (counted late)",
            s.runs_with_unfinished_orders
        );
    }
    let risky = r.at_risk(0.9);
    if !risky.is_empty() {
        let list: Vec<String> = risky
            .iter()
            .take(10)
            .map(|o| {
                format!(
                    "{} {}",
                    o.order,
                    percent(o.on_time_probability.unwrap_or(1.0))
                )
            })
            .collect();
        println!(
            "{}",
            wrap(
                &format!(
                    "orders at risk (on time in under 90 % of runs): {}",
                    list.join(", ")
                ),
                100
            )
        );
    }
}
