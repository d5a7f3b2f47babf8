//! `takt schedule --instance FILE --format jssp|fjsp|fjsp-sdst`: solve a benchmark instance.

use anyhow::{Context, Result, bail};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use takt_scheduler::instances::{Format, read};
use takt_scheduler::tabu::{Limits, solve};
use takt_scheduler::{check, decode};

#[derive(clap::Args)]
pub struct ScheduleArgs {
    /// A benchmark instance file.
    #[arg(long)]
    instance: PathBuf,
    /// jssp (OR-Library), fjsp (Brandimarte) or fjsp-sdst (Fattahi, with setups).
    #[arg(long, default_value = "jssp")]
    format: Format,
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
    /// dispatch (instant), search (tabu), milp (exact, needs the `milp` build feature), or auto
    /// (search, then with `milp` an attempt to prove optimality on small instances).
    #[arg(long, default_value = "auto")]
    solver: SolverChoice,
    #[arg(long)]
    json: bool,
    /// Write the schedule as an SVG Gantt chart.
    #[arg(long, value_name = "FILE")]
    gantt: Option<PathBuf>,
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
    problem: &takt_scheduler::Problem,
    warm: &takt_scheduler::Solution,
    seconds: f64,
    required: bool,
) -> Result<Option<(takt_scheduler::Solution, bool)>> {
    match takt_scheduler::milp::solve(problem, seconds, Some(warm)) {
        Ok(r) => Ok(Some((r.solution, r.proven_optimal))),
        Err(e) if required => bail!("{e}"),
        Err(_) => Ok(None),
    }
}

#[cfg(not(feature = "milp"))]
fn exact(
    _: &takt_scheduler::Problem,
    _: &takt_scheduler::Solution,
    _: f64,
    required: bool,
) -> Result<Option<(takt_scheduler::Solution, bool)>> {
    if required {
        bail!(
            "this takt was built without the MILP solver: build with `cargo build --release -p takt-cli --features milp` (scripts/setup.sh installs what HiGHS needs)"
        );
    }
    Ok(None)
}

pub fn run(args: ScheduleArgs) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&args.instance)
        .with_context(|| format!("cannot read {}", args.instance.display()))?;
    let name = args
        .instance
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().to_string());
    let problem =
        read(&text, args.format, &name).with_context(|| format!("{}", args.instance.display()))?;
    let searches = args
        .searches
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u32));
    let started = Instant::now();
    let limits = Limits {
        time: Duration::from_secs_f64(args.time_limit),
        iterations: args.iterations,
    };
    let quick = Limits {
        time: limits.time,
        iterations: 0,
    };
    let mut proven_optimal = None;
    let solution = match args.solver {
        SolverChoice::Dispatch => solve(&problem, args.seed, searches, quick),
        SolverChoice::Search => solve(&problem, args.seed, searches, limits),
        SolverChoice::Milp => {
            let warm = solve(&problem, args.seed, searches, quick);
            let (s, proven) =
                exact(&problem, &warm, args.time_limit, true)?.unwrap_or((warm, false));
            proven_optimal = Some(proven);
            s
        }
        SolverChoice::Auto => {
            // Half the budget to the search; on small instances the rest to proving it optimal.
            let half = Limits {
                time: limits.time / 2,
                iterations: limits.iterations,
            };
            let found = solve(&problem, args.seed, searches, half);
            let makespan = |x: &takt_scheduler::Solution| {
                decode(&problem, x).map_or(i64::MAX, |d| d.makespan())
            };
            let attempt = if problem.n_ops() <= 60 {
                exact(&problem, &found, args.time_limit / 2.0, false)?
            } else {
                None
            };
            match attempt {
                Some((s, proven)) if makespan(&s) <= makespan(&found) => {
                    proven_optimal = Some(proven);
                    s
                }
                _ => found,
            }
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    let Some(schedule) = decode(&problem, &solution) else {
        bail!("internal error: the solver returned a cyclic solution");
    };
    let violations = check(&problem, &schedule);
    if !violations.is_empty() {
        bail!("internal error: infeasible schedule: {:?}", violations);
    }
    if let Some(path) = &args.gantt {
        std::fs::write(path, takt_scheduler::gantt::svg(&problem, &schedule))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json {
        let out = json!({
            "instance": name,
            "makespan": schedule.makespan(),
            "total_setup": schedule.total_setup(),
            "proven_optimal": proven_optimal,
            "seconds": elapsed,
            "schedule": schedule.operations,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "{name}: {} jobs, {} machines, {} operations -> makespan {}{} (setups {}), {elapsed:.2} s, feasible",
            problem.jobs.len(),
            problem.machines,
            problem.n_ops(),
            schedule.makespan(),
            match proven_optimal {
                Some(true) => ", proven optimal",
                Some(false) => ", optimality not proven",
                None => "",
            },
            schedule.total_setup()
        );
        for m in 0..problem.machines {
            let mut on: Vec<_> = schedule
                .operations
                .iter()
                .filter(|o| o.machine == m)
                .collect();
            on.sort_by_key(|o| o.start);
            let seq: Vec<String> = on
                .iter()
                .map(|o| format!("J{}.{}@{}", o.job + 1, o.operation + 1, o.start))
                .collect();
            println!("  M{m}: {}", seq.join(" "));
        }
    }
    Ok(ExitCode::SUCCESS)
}
