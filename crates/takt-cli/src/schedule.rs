//! `takt schedule`: schedule a plant's order book (`takt schedule SCENARIO [--orders CSV]`) or a
//! benchmark instance (`--instance FILE --format jssp|fjsp|fjsp-sdst`), check the schedule, print it
//! (table, `--json`, `--csv`, `--gantt`), and with `--evaluate N` run it in the simulator.

use anyhow::{Context, Result, bail};
use comfy_table::Table;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use takt_model::load::{compile_located, parse_scenario};
use takt_model::{Model, ScenarioError};
use takt_scheduler::instances::{Format, read};
use takt_scheduler::objective::Objective;
use takt_scheduler::plant::{PlantError, PlantProblem, from_model};
use takt_scheduler::robustness::{Outcome, evaluate};
use takt_scheduler::tabu::{Limits, solve};
use takt_scheduler::{Problem, Schedule, Solution, check, decode};

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
    #[arg(long, value_parser = parse_objective)]
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
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// dispatch (instant), search (tabu), milp (exact, makespan only, needs the `milp` build
    /// feature), or auto (search, then with `milp` an attempt to prove optimality on small instances).
    #[arg(long, default_value = "auto")]
    solver: SolverChoice,
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

fn parse_objective(text: &str) -> Result<Objective, String> {
    text.parse()
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SolverChoice {
    Auto,
    Dispatch,
    Search,
    Milp,
}

/// Tries to prove `warm` optimal (or improve it) with the exact model; `None` when not applicable.
#[cfg(feature = "milp")]
fn exact(
    problem: &Problem,
    warm: &Solution,
    seconds: f64,
    required: bool,
) -> Result<Option<(Solution, bool)>> {
    match takt_scheduler::milp::solve(problem, seconds, Some(warm)) {
        Ok(r) => Ok(Some((r.solution, r.proven_optimal))),
        Err(e) if required => bail!("{e}"),
        Err(_) => Ok(None),
    }
}

#[cfg(not(feature = "milp"))]
fn exact(_: &Problem, _: &Solution, _: f64, required: bool) -> Result<Option<(Solution, bool)>> {
    if required {
        bail!(
            "this takt was built without the MILP solver: build with `cargo build --release -p takt-cli --features milp` (scripts/setup.sh installs what HiGHS needs)"
        );
    }
    Ok(None)
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
    let (problem, source, name) = match (&args.scenario, &args.instance) {
        (Some(path), _) => {
            let src = match load_plant(path, args.orders.as_deref())? {
                Ok(s) => s,
                Err(code) => return Ok(code),
            };
            let name = src.model.name.clone();
            (src.plant.problem.clone(), Some(src), name)
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let name = path
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().to_string());
            let p =
                read(&text, args.format, &name).with_context(|| format!("{}", path.display()))?;
            (p, None, name)
        }
        (None, None) => bail!("give a scenario (takt schedule plant.toml) or --instance FILE"),
    };
    problem
        .validate()
        .with_context(|| format!("{name}: the problem cannot be scheduled"))?;
    if args.aggregate {
        return match &source {
            Some(src) => aggregate(src, &args),
            None => bail!("--aggregate plans a scenario's order book"),
        };
    }
    let objective = args.objective.clone().unwrap_or_else(|| {
        if source.is_some() {
            Objective {
                levels: vec![vec![(1.0, takt_scheduler::objective::Criterion::Tardiness)]],
            }
        } else {
            Objective::makespan()
        }
    });
    if let Some(n) = args.evaluate
        && (n == 0 || n > crate::MAX_REPLICATIONS)
    {
        bail!(
            "--evaluate needs between 1 and {} replications, got {n}",
            crate::MAX_REPLICATIONS
        );
    }
    let searches = args
        .searches
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u32));
    let started = Instant::now();
    let (solution, proven_optimal) =
        solve_with(&problem, &objective, &args, searches, began).context("solving")?;
    let elapsed = started.elapsed().as_secs_f64();
    let Some(schedule) = decode(&problem, &solution) else {
        bail!("internal error: the solver returned a cyclic solution");
    };
    let violations = check(&problem, &schedule);
    if !violations.is_empty() {
        bail!("internal error: infeasible schedule: {:?}", violations);
    }
    let clock = |t: i64| match &source {
        Some(s) => short_time(&s.model, t),
        None => t.to_string(),
    };
    if let Some(path) = &args.gantt {
        std::fs::write(
            path,
            takt_scheduler::gantt::svg(&problem, &schedule, &clock),
        )
        .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.csv {
        write_csv(path, &problem, &schedule, source.as_ref())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let robustness = match (&source, args.evaluate) {
        (Some(src), Some(n)) => Some(run_evaluation(src, &schedule, n, args.seed)?),
        _ => None,
    };
    let summary = json!({
        "instance": name,
        "objective": objective.to_string(),
        "makespan": schedule.makespan(),
        "weighted_tardiness": schedule.total_weighted_tardiness(&problem),
        "late_jobs": schedule.late_jobs(&problem),
        "total_setup": schedule.total_setup(&problem),
        "proven_optimal": proven_optimal,
        "seconds": elapsed,
    });
    if args.json {
        let mut out = summary;
        if let Some(src) = &source {
            out["time_unit"] = json!("s");
            out["start"] = json!(src.model.timebase.rfc3339(0.0));
            out["operations"] = Value::Array(operation_rows(&problem, &schedule, src));
            out["orders"] = Value::Array(order_rows(&problem, &schedule, src));
        } else {
            out["schedule"] = serde_json::to_value(&schedule.operations)?;
        }
        if let Some((plan, outcomes)) = &robustness {
            out["evaluation"] = evaluation_json(&problem, plan, outcomes);
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else if let Some(src) = &source {
        print_plant(&problem, &schedule, src, &summary, &objective);
        if let Some((plan, outcomes)) = &robustness {
            print_evaluation(&problem, plan, outcomes);
        }
    } else {
        print_instance(&problem, &schedule, &name, elapsed, proven_optimal);
    }
    Ok(ExitCode::SUCCESS)
}

fn solve_with(
    problem: &Problem,
    objective: &Objective,
    args: &ScheduleArgs,
    searches: u32,
    began: Instant,
) -> Result<(Solution, Option<bool>)> {
    let limits = Limits {
        time: Duration::from_secs_f64(args.time_limit).saturating_sub(began.elapsed()),
        iterations: args.iterations,
    };
    let quick = Limits {
        time: limits.time,
        iterations: 0,
    };
    Ok(match args.solver {
        SolverChoice::Dispatch => (solve(problem, objective, args.seed, searches, quick), None),
        SolverChoice::Search => (solve(problem, objective, args.seed, searches, limits), None),
        SolverChoice::Milp => {
            if !objective.is_makespan() {
                bail!(
                    "the MILP minimises makespan only: use --objective makespan, or --solver search"
                );
            }
            let warm = solve(problem, objective, args.seed, searches, quick);
            let (s, proven) =
                exact(problem, &warm, args.time_limit, true)?.unwrap_or((warm, false));
            (s, Some(proven))
        }
        SolverChoice::Auto => {
            // On small makespan problems half the budget to the search and the rest to proving
            // it optimal; otherwise all of it to the search.
            let prove = problem.n_ops() <= 60 && objective.is_makespan();
            let search = Limits {
                time: if prove { limits.time / 2 } else { limits.time },
                iterations: limits.iterations,
            };
            let found = solve(problem, objective, args.seed, searches, search);
            let makespan = |x: &Solution| decode(problem, x).map_or(i64::MAX, |d| d.makespan());
            let attempt = if prove {
                let left = Duration::from_secs_f64(args.time_limit).saturating_sub(began.elapsed());
                exact(problem, &found, left.as_secs_f64(), false)?
            } else {
                None
            };
            match attempt {
                Some((s, proven)) if makespan(&s) <= makespan(&found) => (s, Some(proven)),
                _ => (found, None),
            }
        }
    })
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
        out["seconds"] = json!(seconds);
        out["bucket_starts"] = json!(
            plan.bucket_starts_s
                .iter()
                .map(|&s| src.model.timebase.rfc3339(s as f64))
                .collect::<Vec<_>>()
        );
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}: aggregate plan of {} orders in {} buckets of {} h, {seconds:.2} s; weighted lateness {} h",
        src.model.name,
        plan.orders.len(),
        plan.bucket_starts_s.len(),
        hours(plan.bucket_s as f64),
        hours(plan.objective)
    );
    let mut t = Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    let mut header = vec!["bucket".to_string()];
    header.extend(plan.groups.iter().map(|g| format!("{} load", g.group)));
    t.set_header(header);
    for (b, &start) in plan.bucket_starts_s.iter().enumerate() {
        let mut row = vec![short_time(&src.model, start)];
        for g in &plan.groups {
            row.push(if g.capacity_s[b] > 0.0 {
                format!("{:.0}%", 100.0 * g.work_s[b] / g.capacity_s[b])
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
    o.set_header([
        "order",
        "due",
        "done by (bucket end)",
        "weighted lateness h",
    ]);
    for order in &plan.orders {
        o.add_row([
            order.order.clone(),
            order
                .due_s
                .map_or(String::new(), |d| short_time(&src.model, d)),
            short_time(&src.model, order.completion_by_s),
            hours(order.weighted_lateness_s),
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

/// `01-05 06:00`: month, day and local time of a plan time (tables and charts).
fn short_time(model: &Model, t: i64) -> String {
    let full = model.timebase.rfc3339(t as f64);
    full.get(5..16)
        .map_or(full.clone(), |s| s.replace('T', " "))
}

fn hours(seconds: f64) -> String {
    format!("{:.1}", seconds / 3600.0)
}

/// Station, product and quantity of an operation of a plant problem.
fn describe(src: &PlantSource, job: usize, machine: usize) -> (String, String, u32) {
    let order = &src.model.orders[job];
    let station = &src.model.stations[src.plant.machines[machine].0].name;
    (
        station.clone(),
        src.model.products[order.product].name.clone(),
        order.quantity,
    )
}

fn operation_rows(p: &Problem, s: &Schedule, src: &PlantSource) -> Vec<Value> {
    let tb = &src.model.timebase;
    let mut ops: Vec<_> = s.operations.iter().collect();
    ops.sort_by_key(|o| (o.machine, o.start));
    ops.iter()
        .map(|o| {
            let (station, product, quantity) = describe(src, o.job, o.machine);
            json!({
                "order": p.jobs[o.job].name,
                "operation": o.operation + 1,
                "product": product,
                "quantity": quantity,
                "station": station,
                "machine": p.machine_name(o.machine),
                "setup_start_s": o.setup_start,
                "start_s": o.start,
                "end_s": o.end,
                "setup_start": tb.rfc3339(o.setup_start as f64),
                "start": tb.rfc3339(o.start as f64),
                "end": tb.rfc3339(o.end as f64),
            })
        })
        .collect()
}

fn order_rows(p: &Problem, s: &Schedule, src: &PlantSource) -> Vec<Value> {
    let tb = &src.model.timebase;
    s.completions(p)
        .iter()
        .zip(&p.jobs)
        .map(|(&c, j)| {
            json!({
                "order": j.name,
                "release_s": j.release,
                "due_s": j.due,
                "completion_s": c,
                "completion": tb.rfc3339(c as f64),
                "lateness_s": j.due.map(|d| c - d),
                "late": j.due.is_some_and(|d| c > d),
                "priority": j.weight,
            })
        })
        .collect()
}

fn write_csv(path: &Path, p: &Problem, s: &Schedule, src: Option<&PlantSource>) -> Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    match src {
        Some(src) => {
            let tb = &src.model.timebase;
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
            let mut ops: Vec<_> = s.operations.iter().collect();
            ops.sort_by_key(|o| (o.start, o.machine));
            for o in ops {
                let (station, product, quantity) = describe(src, o.job, o.machine);
                let due = p.jobs[o.job]
                    .due
                    .map_or(String::new(), |d| tb.rfc3339(d as f64));
                w.write_record([
                    p.jobs[o.job].name.clone(),
                    (o.operation + 1).to_string(),
                    product,
                    quantity.to_string(),
                    station,
                    p.machine_name(o.machine),
                    tb.rfc3339(o.setup_start as f64),
                    tb.rfc3339(o.start as f64),
                    tb.rfc3339(o.end as f64),
                    due,
                ])?;
            }
        }
        None => {
            w.write_record(["job", "operation", "machine", "setup_start", "start", "end"])?;
            for o in &s.operations {
                w.write_record([
                    p.jobs[o.job].name.clone(),
                    (o.operation + 1).to_string(),
                    p.machine_name(o.machine),
                    o.setup_start.to_string(),
                    o.start.to_string(),
                    o.end.to_string(),
                ])?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

fn print_instance(
    p: &Problem,
    s: &Schedule,
    name: &str,
    elapsed: f64,
    proven_optimal: Option<bool>,
) {
    println!(
        "{name}: {} jobs, {} machines, {} operations -> makespan {}{} (setups {}), {elapsed:.2} s, feasible",
        p.jobs.len(),
        p.machines,
        p.n_ops(),
        s.makespan(),
        match proven_optimal {
            Some(true) => ", proven optimal",
            Some(false) => ", optimality not proven",
            None => "",
        },
        s.total_setup(p)
    );
    for m in 0..p.machines {
        let mut on: Vec<_> = s.operations.iter().filter(|o| o.machine == m).collect();
        on.sort_by_key(|o| o.start);
        let seq: Vec<String> = on
            .iter()
            .map(|o| format!("J{}.{}@{}", o.job + 1, o.operation + 1, o.start))
            .collect();
        println!("  {}: {}", p.machine_name(m), seq.join(" "));
    }
}

fn print_plant(p: &Problem, s: &Schedule, src: &PlantSource, summary: &Value, obj: &Objective) {
    let completions = s.completions(p);
    println!(
        "{}: {} orders, {} operations on {} machines, objective {obj}, {:.2} s, feasible",
        p.name,
        p.jobs.len(),
        p.n_ops(),
        p.machines,
        summary["seconds"].as_f64().unwrap_or(0.0)
    );
    println!(
        "plan: makespan {} h (ends {}), weighted tardiness {} h, {} of {} orders late, setups {} h",
        hours(s.makespan() as f64),
        short_time(&src.model, s.makespan()),
        hours(s.total_weighted_tardiness(p)),
        s.late_jobs(p),
        p.jobs.iter().filter(|j| j.due.is_some()).count(),
        hours(s.total_setup(p) as f64),
    );
    let mut ops = Table::new();
    ops.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    ops.set_header([
        "machine", "order", "op", "product", "qty", "setup", "start", "end",
    ]);
    let mut sorted: Vec<_> = s.operations.iter().collect();
    sorted.sort_by_key(|o| (o.machine, o.start));
    for o in sorted {
        let (_, product, quantity) = describe(src, o.job, o.machine);
        ops.add_row([
            p.machine_name(o.machine),
            p.jobs[o.job].name.clone(),
            (o.operation + 1).to_string(),
            product,
            quantity.to_string(),
            if o.start > o.setup_start {
                short_time(&src.model, o.setup_start)
            } else {
                String::new()
            },
            short_time(&src.model, o.start),
            short_time(&src.model, o.end),
        ]);
    }
    println!("{ops}");
    let mut orders = Table::new();
    orders.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    orders.set_header(["order", "release", "due", "completion", "lateness h", ""]);
    for (j, job) in p.jobs.iter().enumerate() {
        let c = completions[j];
        orders.add_row([
            job.name.clone(),
            short_time(&src.model, job.release),
            job.due.map_or(String::new(), |d| short_time(&src.model, d)),
            short_time(&src.model, c),
            job.due.map_or(String::new(), |d| hours((c - d) as f64)),
            if job.due.is_some_and(|d| c > d) {
                "LATE".into()
            } else {
                String::new()
            },
        ]);
    }
    println!("{orders}");
}

/// The plan's own figures and the simulated outcomes.
struct PlanFigures {
    makespan_s: f64,
    weighted_tardiness_s: f64,
    late: f64,
    on_time_rate: Option<f64>,
}

fn run_evaluation(
    src: &PlantSource,
    schedule: &Schedule,
    n: u32,
    seed: u64,
) -> Result<(PlanFigures, Vec<Outcome>)> {
    let p = &src.plant.problem;
    let with_due = p.jobs.iter().filter(|j| j.due.is_some()).count();
    let late = schedule.late_jobs(p);
    let plan = PlanFigures {
        makespan_s: schedule.makespan() as f64,
        weighted_tardiness_s: schedule.total_weighted_tardiness(p),
        late: late as f64,
        on_time_rate: (with_due > 0).then(|| (with_due - late) as f64 / with_due as f64),
    };
    // Far beyond any plausible delay: ten times the plan, and four weeks more.
    let cap_s = 10.0 * plan.makespan_s + 4.0 * 604_800.0;
    let bar = ProgressBar::new(u64::from(n)).with_style(
        ProgressStyle::with_template("{spinner} evaluating {pos}/{len} [{bar:30}] {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let outcomes = evaluate(&src.model, &src.plant, schedule, n, seed, cap_s, &|| {
        bar.inc(1)
    })
    .context("running the plan in the simulator")?;
    bar.finish_and_clear();
    Ok((plan, outcomes))
}

/// Mean, 95% CI half-width and the 10/50/90% quantiles.
fn distribution(xs: &[f64]) -> Value {
    let (mean, ci) = takt_sim::mean_ci95(xs);
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let q = |p: f64| {
        if sorted.is_empty() {
            f64::NAN
        } else {
            sorted[((sorted.len() - 1) as f64 * p).round() as usize]
        }
    };
    json!({"mean": mean, "ci95": ci, "p10": q(0.1), "p50": q(0.5), "p90": q(0.9)})
}

fn evaluation_json(p: &Problem, plan: &PlanFigures, outcomes: &[Outcome]) -> Value {
    let col = |f: &dyn Fn(&Outcome) -> Option<f64>| -> Vec<f64> {
        outcomes.iter().filter_map(f).collect()
    };
    let n = outcomes.len().max(1) as f64;
    let per_order: Vec<Value> = p
        .jobs
        .iter()
        .enumerate()
        .map(|(j, job)| {
            let on_time = job.due.map(|d| {
                outcomes
                    .iter()
                    .filter(|o| o.completions_s[j].is_some_and(|c| c <= d as f64))
                    .count() as f64
                    / n
            });
            json!({
                "order": job.name,
                "completion_s": distribution(&col(&|o| o.completions_s[j])),
                "on_time_probability": on_time,
            })
        })
        .collect();
    json!({
        "replications": outcomes.len(),
        "plan": {
            "makespan_s": plan.makespan_s,
            "weighted_tardiness_s": plan.weighted_tardiness_s,
            "late_orders": plan.late,
            "on_time_rate": plan.on_time_rate,
        },
        "simulated": {
            "makespan_s": distribution(&col(&|o| o.makespan_s)),
            "weighted_tardiness_s": distribution(&col(&|o| Some(o.weighted_tardiness_s))),
            "late_orders": distribution(&col(&|o| Some(f64::from(o.late_orders)))),
            "on_time_rate": distribution(&col(&|o| o.on_time_rate)),
            "runs_with_unfinished_orders": outcomes.iter().filter(|o| o.unfinished > 0).count(),
        },
        "orders": per_order,
    })
}

fn print_evaluation(p: &Problem, plan: &PlanFigures, outcomes: &[Outcome]) {
    let e = evaluation_json(p, plan, outcomes);
    println!(
        "robustness: the plan run {} times in the simulator (failures, repairs, scrap and process times drawn as in the scenario)",
        outcomes.len()
    );
    let mut t = Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(["", "plan", "simulated mean ± 95% CI", "p10", "p50", "p90"]);
    let fmt = |v: &Value, scale: f64, digits: usize| {
        v.as_f64()
            .map_or("-".to_string(), |x| format!("{:.*}", digits, x / scale))
    };
    for (label, key, scale, digits, plan_value) in [
        ("makespan h", "makespan_s", 3600.0, 1, Some(plan.makespan_s)),
        (
            "weighted tardiness h",
            "weighted_tardiness_s",
            3600.0,
            1,
            Some(plan.weighted_tardiness_s),
        ),
        ("late orders", "late_orders", 1.0, 1, Some(plan.late)),
        ("on-time rate", "on_time_rate", 1.0, 3, plan.on_time_rate),
    ] {
        let d = &e["simulated"][key];
        let mean = fmt(&d["mean"], scale, digits);
        let ci = d["ci95"]
            .as_f64()
            .map_or(String::new(), |h| format!(" ± {:.*}", digits, h / scale));
        t.add_row([
            label.to_string(),
            plan_value.map_or("-".into(), |v| format!("{:.*}", digits, v / scale)),
            format!("{mean}{ci}"),
            fmt(&d["p10"], scale, digits),
            fmt(&d["p50"], scale, digits),
            fmt(&d["p90"], scale, digits),
        ]);
    }
    println!("{t}");
    let unfinished = e["simulated"]["runs_with_unfinished_orders"]
        .as_u64()
        .unwrap_or(0);
    if unfinished > 0 {
        println!("{unfinished} run(s) stopped before every order was finished (counted late)");
    }
    let mut risky: Vec<(f64, String)> = e["orders"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| {
            Some((
                o["on_time_probability"].as_f64()?,
                o["order"].as_str()?.to_string(),
            ))
        })
        .filter(|(pr, _)| *pr < 0.9)
        .collect();
    risky.sort_by(|a, b| a.0.total_cmp(&b.0));
    if !risky.is_empty() {
        let list: Vec<String> = risky
            .iter()
            .take(10)
            .map(|(pr, o)| format!("{o} {:.0}%", pr * 100.0))
            .collect();
        println!(
            "orders at risk (on time in under 90% of runs): {}",
            list.join(", ")
        );
    }
}
