//! Scheduling as `takt schedule` and `POST /schedules` ask for it, from end to end: the solver
//! chosen (dispatching, tabu search, the exact MILP, or auto), the time limit over all of it, the
//! schedule decoded and checked by the independent checker, and for a plant its operations and
//! orders in plant time, optionally run in the simulator for robustness. Front-ends parse, call
//! [`schedule_plant`] or [`schedule_instance`], and render the typed result.
//!
//! Wire shape (`--json`, the job's result): SI units, every duration and time from the plant's
//! t = 0 in seconds (`_s`) beside its RFC 3339 form in the plant's offset. A benchmark instance has
//! no plant and no clock: its times are in the instance's own units.

use crate::bounds::{Figures, lower_bounds};
use crate::objective::{Criterion, Objective};
use crate::plant::PlantProblem;
use crate::problem::{ProblemError, Schedule, ShopProblem};
use crate::robustness::{EvaluateError, PlanRun, evaluate};
use crate::tabu::{Limits, solve_until_stopped};
use crate::{Solution, check, decode};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use takt_model::Model;

/// How a schedule is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ScheduleSolver {
    /// The search, then (with the `milp` build feature) an attempt to prove optimality on small
    /// makespan problems.
    #[default]
    Auto,
    /// The best dispatching rule only (instant).
    Dispatch,
    /// Tabu search from the best dispatching rule.
    Search,
    /// The exact MILP (makespan only, the `milp` build feature), warm-started by dispatching.
    Milp,
}

impl FromStr for ScheduleSolver {
    type Err = SolverError;
    fn from_str(text: &str) -> Result<Self, SolverError> {
        parse_solver(text).map_err(SolverError)
    }
}

fn parse_solver(text: &str) -> Result<ScheduleSolver, String> {
    match text {
        "auto" => Ok(ScheduleSolver::Auto),
        "dispatch" => Ok(ScheduleSolver::Dispatch),
        "search" => Ok(ScheduleSolver::Search),
        "milp" => Ok(ScheduleSolver::Milp),
        other => Err(format!(
            "`{other}` is not a solver: auto, dispatch, search or milp"
        )),
    }
}

/// A solver that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SolverError(pub String);

/// What to solve for and within what.
#[derive(Debug, Clone, PartialEq)]
pub struct SolveRequest {
    pub objective: Objective,
    pub solver: ScheduleSolver,
    /// Counted from the `started` instant given with the request: everything is in it.
    pub time_limit_s: f64,
    /// Iteration cap per search (with it, a result is reproducible for a seed).
    pub iterations: u64,
    /// Independent searches in parallel.
    pub searches: u32,
    pub seed: u64,
}

impl SolveRequest {
    /// The default for a plant's order book: weighted tardiness.
    pub fn plant_objective() -> Objective {
        Objective {
            levels: vec![vec![(1.0, Criterion::Tardiness)]],
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanningError {
    #[error("the problem cannot be scheduled: {0}")]
    ShopProblem(#[from] ProblemError),
    #[error("the MILP minimises makespan only: choose the makespan objective, or the search")]
    MilpNeedsMakespan,
    #[error(
        "this takt was built without the MILP solver: build with `cargo build --release -p takt-cli --features milp` (scripts/setup.sh installs what HiGHS needs)"
    )]
    NoMilp,
    #[error("the MILP: {0}")]
    Milp(String),
    #[error("robustness needs between 1 and {max} replications, got {got}")]
    Replications { got: u32, max: u32 },
    #[error("running the plan in the simulator: {0}")]
    Simulation(#[from] takt_sim::PlanError),
    #[error("stopped")]
    Stopped,
    /// A solver bug: the checker refused the schedule (never expected).
    #[error("internal error: {0}")]
    Internal(String),
}

/// A schedule found and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Solved {
    pub schedule: Schedule,
    /// `Some` when the MILP ran: whether it proved the schedule optimal.
    pub proven_optimal: Option<bool>,
    /// Time spent solving (from the call, not from `started`).
    pub seconds: f64,
}

/// Solves `problem` for `req` within `req.time_limit_s` counted from `started`; once `stop` is set
/// the searches return the best found so far. The schedule is checked before it is returned.
pub fn solve_problem(
    problem: &ShopProblem,
    req: &SolveRequest,
    started: Instant,
    stop: &AtomicBool,
) -> Result<Solved, PlanningError> {
    problem.validate()?;
    let called = Instant::now();
    let left = || {
        // Held to takt's longest duration (an infinite limit included: a deadline must be an
        // instant); NaN or below 0 is no time at all.
        let limit_s = req
            .time_limit_s
            .clamp(0.0, takt_model::limits::MAX_DURATION_S);
        Duration::try_from_secs_f64(limit_s)
            .unwrap_or(Duration::ZERO)
            .saturating_sub(started.elapsed())
    };
    let limits = Limits {
        time: left(),
        iterations: req.iterations,
    };
    let quick = Limits {
        time: limits.time,
        iterations: 0,
    };
    let search =
        |l: Limits| solve_until_stopped(problem, &req.objective, req.seed, req.searches, l, stop);
    let (solution, proven_optimal) = match req.solver {
        ScheduleSolver::Dispatch => (search(quick), None),
        ScheduleSolver::Search => (search(limits), None),
        ScheduleSolver::Milp => {
            if !req.objective.is_makespan() {
                return Err(PlanningError::MilpNeedsMakespan);
            }
            let warm = search(quick);
            let (s, proven) =
                exact(problem, &warm, left().as_secs_f64(), true)?.unwrap_or((warm, false));
            (s, Some(proven))
        }
        ScheduleSolver::Auto => {
            // On small makespan problems half the budget to the search and the rest to proving
            // it optimal; otherwise all of it to the search.
            let prove =
                cfg!(feature = "milp") && problem.n_ops() <= 60 && req.objective.is_makespan();
            let found = search(Limits {
                time: if prove { limits.time / 2 } else { limits.time },
                iterations: limits.iterations,
            });
            let makespan = |x: &Solution| decode(problem, x).map_or(i64::MAX, |d| d.makespan());
            let attempt = if prove && !stop.load(Ordering::Relaxed) {
                exact(problem, &found, left().as_secs_f64(), false)?
            } else {
                None
            };
            match attempt {
                Some((s, proven)) if makespan(&s) <= makespan(&found) => (s, Some(proven)),
                _ => (found, None),
            }
        }
    };
    let schedule = decode(problem, &solution)
        .ok_or_else(|| PlanningError::Internal("the solver returned a cyclic solution".into()))?;
    let violations = check(problem, &schedule);
    if !violations.is_empty() {
        return Err(PlanningError::Internal(format!(
            "infeasible schedule: {violations:?}"
        )));
    }
    Ok(Solved {
        schedule,
        proven_optimal,
        seconds: called.elapsed().as_secs_f64(),
    })
}

/// Tries to prove `warm` optimal (or improve it) with the exact model; `None` when not applicable.
#[cfg(feature = "milp")]
fn exact(
    problem: &ShopProblem,
    warm: &Solution,
    seconds: f64,
    required: bool,
) -> Result<Option<(Solution, bool)>, PlanningError> {
    match crate::milp::solve(problem, seconds, Some(warm)) {
        Ok(r) => Ok(Some((r.solution, r.proven_optimal))),
        Err(e) if required => Err(PlanningError::Milp(e.to_string())),
        Err(_) => Ok(None),
    }
}

#[cfg(not(feature = "milp"))]
fn exact(
    _: &ShopProblem,
    _: &Solution,
    _: f64,
    required: bool,
) -> Result<Option<(Solution, bool)>, PlanningError> {
    if required {
        return Err(PlanningError::NoMilp);
    }
    Ok(None)
}

/// A benchmark instance's schedule. Times are in the instance's units.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceSchedule {
    pub instance: String,
    pub objective: String,
    pub solver: ScheduleSolver,
    pub makespan: i64,
    pub weighted_tardiness: f64,
    pub late_jobs: usize,
    pub setup: i64,
    pub proven_optimal: Option<bool>,
    /// What no schedule can beat, and this one's distance to it.
    pub lower_bound: InstanceBound,
    /// Seconds spent solving.
    pub seconds: f64,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub schedule: Vec<crate::ScheduledOp>,
}

/// What no schedule of an instance can beat (`takt_scheduler::bounds`: each job's own path and the
/// machines' load; setups and unavailability left out), in the instance's units.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceBound {
    /// The objective's first level.
    pub objective: f64,
    /// (schedule − bound) / schedule of the objective's first level: at most this share of it could
    /// still be won; null when the bound is 0 and the schedule is not (the bound cannot say).
    pub gap: Option<f64>,
    pub makespan: i64,
    pub weighted_tardiness: f64,
    pub late_jobs: usize,
}

/// Schedules a benchmark instance.
pub fn schedule_instance(
    problem: &ShopProblem,
    req: &SolveRequest,
    started: Instant,
    stop: &AtomicBool,
) -> Result<InstanceSchedule, PlanningError> {
    let solved = solve_problem(problem, req, started, stop)?;
    let figures = Figures::of(&solved.schedule, problem);
    let bound = lower_bounds(problem);
    let (objective, gap) = bound.first_level_gap(&figures, &req.objective);
    Ok(InstanceSchedule {
        instance: problem.name.clone(),
        objective: req.objective.to_string(),
        solver: req.solver,
        makespan: figures.makespan,
        weighted_tardiness: figures.weighted_tardiness,
        late_jobs: figures.late_jobs,
        setup: figures.setup,
        proven_optimal: solved.proven_optimal,
        lower_bound: InstanceBound {
            objective,
            gap,
            makespan: bound.makespan,
            weighted_tardiness: bound.weighted_tardiness,
            late_jobs: bound.late_jobs,
        },
        seconds: solved.seconds,
        schedule: solved.schedule.operations,
    })
}

/// What to plan for a plant's order book.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantScheduleRequest {
    pub solve: SolveRequest,
    /// Replications of the plan in the simulator (failures, repairs and scrap as in the scenario).
    pub robustness_replications: Option<u32>,
}

/// At most this many robustness replications.
pub const MAX_ROBUSTNESS_REPLICATIONS: u32 = takt_model::limits::MAX_REPLICATIONS;

/// Steps [`schedule_plant`] reports through its progress callback: one per robustness run.
pub fn steps(req: &PlantScheduleRequest) -> u64 {
    u64::from(req.robustness_replications.unwrap_or(0))
}

/// One operation of a plant's schedule (a lot of an order at one step of its routing).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlannedOperation {
    pub order: String,
    /// The routing step, from 1.
    pub operation: usize,
    pub product: String,
    /// Pieces in the lot.
    pub quantity: u32,
    pub station: String,
    /// `Station.k`, the k-th machine of the station from 1.
    pub machine: String,
    /// Start of the setup before the lot (equal to `start_s` without one).
    pub setup_start_s: i64,
    pub start_s: i64,
    pub end_s: i64,
    /// The same times in RFC 3339, the plant's offset.
    pub setup_start: String,
    pub start: String,
    pub end: String,
}

/// A machine of the plan and the times it does not work, up to the plan's end.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduledMachine {
    /// `Station.k`.
    pub machine: String,
    pub station: String,
    /// Off-shift time and planned maintenance: work pauses over them.
    pub breaks: Vec<TimeSpan>,
    /// Times the machine may not be used at all.
    pub unavailable: Vec<TimeSpan>,
}

/// From `start_s` to `end_s`, seconds from the plant's t = 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeSpan {
    pub start_s: i64,
    pub end_s: i64,
}

/// One order of a plant's schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlannedOrder {
    pub order: String,
    pub product: String,
    pub quantity: u32,
    pub release_s: i64,
    pub release: String,
    pub due_s: Option<i64>,
    pub due: Option<String>,
    pub completion_s: i64,
    pub completion: String,
    /// Completion minus due (negative: early).
    pub lateness_s: Option<i64>,
    pub late: bool,
    /// The weight of its tardiness.
    pub priority: f64,
}

/// A plant's schedule: the figures of the plan, its operations and orders, and how it held up in
/// the simulator when asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlantSchedule {
    pub scenario: String,
    pub objective: String,
    pub solver: ScheduleSolver,
    /// `Some` when the MILP ran: whether it proved the plan optimal.
    pub proven_optimal: Option<bool>,
    /// Seconds spent solving.
    pub seconds: f64,
    /// The plant's t = 0, RFC 3339.
    pub start: String,
    pub makespan_s: i64,
    /// When the last lot ends, RFC 3339.
    pub ends: String,
    /// Σ priority × tardiness.
    pub weighted_tardiness_s: f64,
    pub late_orders: usize,
    pub orders_with_due: usize,
    pub setup_s: i64,
    /// What no plan of this book can beat, and this plan's distance to it.
    pub lower_bound: PlanBound,
    /// Every machine with the times it does not work up to the makespan.
    pub machines: Vec<ScheduledMachine>,
    /// By machine, then start.
    pub operations: Vec<PlannedOperation>,
    /// In the book's order.
    pub orders: Vec<PlannedOrder>,
    pub robustness: Option<Robustness>,
}

/// What no plan of an order book can beat (`takt_scheduler::bounds`: each order's own path through
/// the plant and the machines' load, over the shift calendar and maintenance; changeovers and
/// unavailability left out).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanBound {
    /// The objective's first level (seconds for makespan and tardiness, a count for late orders).
    pub objective: f64,
    /// (plan − bound) / plan of the objective's first level: at most this share of it could still
    /// be won by a better plan; null when the bound is 0 and the plan is not (the bound cannot
    /// say).
    pub gap: Option<f64>,
    pub makespan_s: i64,
    pub weighted_tardiness_s: f64,
    pub late_orders: usize,
}

/// Mean with its 95% confidence half-width, and the 10/50/90% quantiles of replications.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Spread {
    pub mean: Option<f64>,
    pub ci95: Option<f64>,
    pub p10: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
}

impl Spread {
    /// The spread of `xs` (`None` everywhere without values).
    pub fn of(xs: &[f64]) -> Spread {
        let (mean, ci95) = takt_sim::mean_ci95(xs);
        let mut sorted = xs.to_vec();
        sorted.sort_by(f64::total_cmp);
        let q = |p: f64| Some(takt_sim::quantile(&sorted, p)).filter(|x| x.is_finite());
        Spread {
            mean: Some(mean).filter(|x| x.is_finite()),
            ci95,
            p10: q(0.1),
            p50: q(0.5),
            p90: q(0.9),
        }
    }
}

/// The plan's own figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanFigures {
    pub makespan_s: f64,
    pub weighted_tardiness_s: f64,
    pub late_orders: usize,
    /// Share of orders with a due date on time (`None` without due dates).
    pub on_time_rate: Option<f64>,
}

/// The same figures over the simulated runs of the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SimulatedFigures {
    /// Over the runs that finished every order.
    pub makespan_s: Spread,
    pub weighted_tardiness_s: Spread,
    pub late_orders: Spread,
    pub on_time_rate: Spread,
    /// Runs stopped before every order was finished (their open orders count late).
    pub runs_with_unfinished_orders: usize,
}

/// One order over the simulated runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderRobustness {
    pub order: String,
    /// Over the runs that finished it.
    pub completion_s: Spread,
    /// Share of runs that finished it by its due date (`None` without one).
    pub on_time_probability: Option<f64>,
}

/// The plan run in the simulator.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Robustness {
    pub replications: usize,
    pub plan: PlanFigures,
    pub simulated: SimulatedFigures,
    pub orders: Vec<OrderRobustness>,
}

impl Robustness {
    /// Orders on time in under `threshold` of the runs, least likely first.
    pub fn at_risk(&self, threshold: f64) -> Vec<&OrderRobustness> {
        let mut risky: Vec<&OrderRobustness> = self
            .orders
            .iter()
            .filter(|o| o.on_time_probability.is_some_and(|p| p < threshold))
            .collect();
        risky.sort_by(|a, b| {
            a.on_time_probability
                .unwrap_or(1.0)
                .total_cmp(&b.on_time_probability.unwrap_or(1.0))
        });
        risky
    }
}

/// Schedules a plant's order book (`plant`, built from `model`) for `req`, the time limit counted
/// from `started`. `progress` is called once per robustness run; once `stop` is set the search
/// returns its best, and no further robustness run starts ([`PlanningError::Stopped`]).
///
/// Returns the typed result and the schedule itself (for a chart of it).
pub fn schedule_plant(
    model: &Arc<Model>,
    plant: &PlantProblem,
    req: &PlantScheduleRequest,
    started: Instant,
    progress: &(dyn Fn() + Sync),
    stop: &AtomicBool,
) -> Result<(PlantSchedule, Schedule), PlanningError> {
    if let Some(n) = req.robustness_replications
        && (n == 0 || n > MAX_ROBUSTNESS_REPLICATIONS)
    {
        return Err(PlanningError::Replications {
            got: n,
            max: MAX_ROBUSTNESS_REPLICATIONS,
        });
    }
    let problem = &plant.problem;
    let solved = solve_problem(problem, &req.solve, started, stop)?;
    let s = &solved.schedule;
    let tb = &model.timebase;
    let at = |t: i64| tb.rfc3339(t as f64);
    let describe = |job: usize, machine: usize| {
        let order = &model.orders[job];
        (
            model.stations[plant.machines[machine].0].name.clone(),
            model.products[order.product].name.clone(),
            order.quantity,
        )
    };
    let mut ops: Vec<_> = s.operations.iter().collect();
    ops.sort_by_key(|o| (o.machine, o.start));
    let operations = ops
        .iter()
        .map(|o| {
            let (station, product, quantity) = describe(o.job, o.machine);
            PlannedOperation {
                order: problem.jobs[o.job].name.clone(),
                operation: o.operation + 1,
                product,
                quantity,
                station,
                machine: problem.machine_name(o.machine),
                setup_start_s: o.setup_start,
                start_s: o.start,
                end_s: o.end,
                setup_start: at(o.setup_start),
                start: at(o.start),
                end: at(o.end),
            }
        })
        .collect();
    let orders = s
        .completions(problem)
        .iter()
        .zip(&problem.jobs)
        .zip(&model.orders)
        .map(|((&c, j), spec)| PlannedOrder {
            order: j.name.clone(),
            product: model.products[spec.product].name.clone(),
            quantity: spec.quantity,
            release_s: j.release,
            release: at(j.release),
            due_s: j.due,
            due: j.due.map(at),
            completion_s: c,
            completion: at(c),
            lateness_s: j.due.map(|d| c - d),
            late: j.due.is_some_and(|d| c > d),
            priority: j.weight,
        })
        .collect();
    let figures = Figures::of(s, problem);
    let robustness = match req.robustness_replications {
        Some(n) => Some(robustness(
            model,
            plant,
            s,
            n,
            req.solve.seed,
            progress,
            stop,
        )?),
        None => None,
    };
    let end = figures.makespan;
    let within = |spans: &[(i64, i64)]| -> Vec<TimeSpan> {
        spans
            .iter()
            .filter(|w| w.0 < end)
            .map(|&(a, b)| TimeSpan {
                start_s: a,
                end_s: b.min(end),
            })
            .collect()
    };
    let machines = plant
        .machines
        .iter()
        .enumerate()
        .map(|(m, &(station, _))| ScheduledMachine {
            machine: problem.machine_name(m),
            station: model.stations[station].name.clone(),
            breaks: within(&problem.breaks[m]),
            unavailable: within(&problem.unavailable[m]),
        })
        .collect();
    let bound = lower_bounds(problem);
    let (bound_objective, gap) = bound.first_level_gap(&figures, &req.solve.objective);
    let result = PlantSchedule {
        scenario: model.name.clone(),
        objective: req.solve.objective.to_string(),
        solver: req.solve.solver,
        proven_optimal: solved.proven_optimal,
        seconds: solved.seconds,
        start: at(0),
        makespan_s: figures.makespan,
        ends: at(figures.makespan),
        weighted_tardiness_s: figures.weighted_tardiness,
        late_orders: figures.late_jobs,
        orders_with_due: problem.jobs.iter().filter(|j| j.due.is_some()).count(),
        setup_s: figures.setup,
        lower_bound: PlanBound {
            objective: bound_objective,
            gap,
            makespan_s: bound.makespan,
            weighted_tardiness_s: bound.weighted_tardiness,
            late_orders: bound.late_jobs,
        },
        machines,
        operations,
        orders,
        robustness,
    };
    Ok((result, solved.schedule))
}

/// Runs the plan `n` times in the simulator (in parallel; run r has the same seed whatever the
/// threads) and sums up what happened.
fn robustness(
    model: &Arc<Model>,
    plant: &PlantProblem,
    schedule: &Schedule,
    n: u32,
    seed: u64,
    progress: &(dyn Fn() + Sync),
    stop: &AtomicBool,
) -> Result<Robustness, PlanningError> {
    let p = &plant.problem;
    let with_due = p.jobs.iter().filter(|j| j.due.is_some()).count();
    let late = schedule.late_jobs(p);
    let plan = PlanFigures {
        makespan_s: schedule.makespan() as f64,
        weighted_tardiness_s: schedule.total_weighted_tardiness(p),
        late_orders: late,
        on_time_rate: (with_due > 0).then(|| (with_due - late) as f64 / with_due as f64),
    };
    let outcomes =
        evaluate(model, plant, schedule, n, seed, progress, stop).map_err(|e| match e {
            EvaluateError::Plan(e) => PlanningError::Simulation(e),
            EvaluateError::Stopped => PlanningError::Stopped,
        })?;
    let col = |f: &dyn Fn(&PlanRun) -> Option<f64>| -> Vec<f64> {
        outcomes.iter().filter_map(f).collect()
    };
    let runs = outcomes.len().max(1) as f64;
    let orders = p
        .jobs
        .iter()
        .enumerate()
        .map(|(j, job)| OrderRobustness {
            order: job.name.clone(),
            completion_s: Spread::of(&col(&|o| o.completions_s[j])),
            on_time_probability: job.due.map(|d| {
                outcomes
                    .iter()
                    .filter(|o| o.completions_s[j].is_some_and(|c| c <= d as f64))
                    .count() as f64
                    / runs
            }),
        })
        .collect();
    Ok(Robustness {
        replications: outcomes.len(),
        plan,
        simulated: SimulatedFigures {
            makespan_s: Spread::of(&col(&|o| o.makespan_s)),
            weighted_tardiness_s: Spread::of(&col(&|o| Some(o.weighted_tardiness_s))),
            late_orders: Spread::of(&col(&|o| Some(f64::from(o.late_orders)))),
            on_time_rate: Spread::of(&col(&|o| o.on_time_rate)),
            runs_with_unfinished_orders: outcomes.iter().filter(|o| o.unfinished > 0).count(),
        },
        orders,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::{Job, Operation};

    #[test]
    fn any_time_limit_is_taken_without_a_panic() {
        let op = |machine: usize, time: i64| Operation {
            alternatives: vec![(machine, time)],
        };
        let job = |name: &str, operations: Vec<Operation>| Job {
            name: name.into(),
            release: 0,
            due: None,
            weight: 1.0,
            operations,
        };
        let problem = ShopProblem::new(
            "two jobs",
            2,
            vec![
                job("a", vec![op(0, 3), op(1, 2)]),
                job("b", vec![op(1, 2), op(0, 4)]),
            ],
        );
        for limit_s in [f64::INFINITY, f64::NAN, -1.0, 1e300, 0.0] {
            let req = SolveRequest {
                objective: Objective::makespan(),
                solver: ScheduleSolver::Search,
                time_limit_s: limit_s,
                iterations: 50,
                searches: 1,
                seed: 1,
            };
            let solved = solve_problem(&problem, &req, Instant::now(), &AtomicBool::new(false))
                .expect("a schedule");
            assert!(solved.schedule.makespan() >= 7, "{limit_s}");
        }
    }
}
