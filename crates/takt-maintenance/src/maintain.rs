//! A plant's maintenance plan from end to end, as `takt maintain` and `POST /maintenance-plans`
//! ask for it: a baseline run for the ageing rates, the window problem, the solver, the plan
//! checked against its own rules, and optionally the policies compared in the simulator.

use crate::calendar::{PlanCalendar, calendar};
use crate::plant::{PlannedMachine, PlantError, Settings, plant_problem};
use crate::policy::{Comparison, PolicyError, Runs, compare, standard_policies};
use crate::windows::{MaintenancePlan, WindowError, check, solve_greedy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use takt_model::{Model, Scenario};
use takt_sim::PlantCondition;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Solver {
    Greedy,
    /// The MILP with a time limit (the `milp` feature); greedy in a build without it.
    Milp {
        time_limit_s: f64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanRequest {
    pub settings: Settings,
    /// Replications of the baseline run that measures how fast each mode ages.
    pub baseline_replications: u32,
    pub seed: u64,
    pub solver: Solver,
    /// Replications per policy in the simulator, from where the plan starts.
    pub compare: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanOutput {
    pub scenario: String,
    /// The plan's start (its time 0) in plant time, RFC 3339 with the plant's offset.
    pub start: String,
    pub settings: Settings,
    pub machines: Vec<PlannedMachine>,
    pub notes: Vec<String>,
    pub plan: MaintenancePlan,
    pub comparison: Option<Comparison>,
    /// Production time per bucket and each machine's risk over the horizon, with and without the
    /// plan (what the planner's calendar draws).
    pub calendar: PlanCalendar,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Plant(#[from] PlantError),
    #[error(transparent)]
    Window(#[from] WindowError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("no machine to plan: {0}")]
    NothingToPlan(String),
    #[error("the plan breaks its own rules: {0}")]
    Broken(String),
}

/// Where a plan starts.
#[derive(Debug, Clone, Copy)]
pub enum PlanFrom<'a> {
    /// The scenario's t = 0, every machine as good as new.
    ScenarioStart,
    /// A plant as observed (the live twin's `takt_twin::condition::observe`), at
    /// `settings.start_s`: its failure ages start the plan, and the policies' runs start from the
    /// condition, in `model` (the scenario's, or one with a live order book's orders: those the
    /// condition counts). What had to be assumed to read the condition (`assumed`) goes into the
    /// plan's notes when the policies are compared.
    Plant {
        condition: &'a PlantCondition,
        model: &'a Model,
        assumed: &'a [String],
    },
}

impl PlanFrom<'_> {
    /// The plan's time 0 in the scenario's seconds.
    pub fn start_s(&self) -> f64 {
        match self {
            PlanFrom::ScenarioStart => 0.0,
            PlanFrom::Plant { condition, .. } => condition.now_s,
        }
    }

    /// Per machine and failure mode, its age in the mode's basis (absent: new).
    fn ages(&self) -> BTreeMap<String, BTreeMap<String, f64>> {
        match self {
            PlanFrom::ScenarioStart => BTreeMap::new(),
            PlanFrom::Plant { condition, .. } => condition
                .machines
                .iter()
                .map(|m| (m.machine.clone(), m.failure_ages.clone()))
                .collect(),
        }
    }
}

/// The most buckets a plan's horizon is cut into (two weeks in minutes are 20,160; a year in
/// five-minute buckets 105,120).
pub const MAX_BUCKETS: usize = 100_000;

/// Steps `plan_plant` reports through `progress`: the baseline runs and three policies' runs.
pub fn steps(req: &PlanRequest) -> u64 {
    u64::from(req.baseline_replications) + 3 * u64::from(req.compare.unwrap_or(0))
}

/// Plans `scenario` (compiled as `model`) from where it starts (`from`); `progress` is called
/// once per simulation run. Once `stop` is set (a cancelled job), no further simulation run starts
/// and the plan ends with [`PolicyError::Stopped`].
pub fn plan_plant(
    scenario: &Scenario,
    model: &Model,
    from: PlanFrom<'_>,
    req: &PlanRequest,
    progress: &(dyn Fn() + Sync),
    stop: &AtomicBool,
) -> Result<PlanOutput, PlanError> {
    let start_s = from.start_s();
    if req.settings.start_s != start_s {
        return Err(PlantError::Invalid(format!(
            "the plan starts at {} s but the plant it starts from is at {start_s} s",
            req.settings.start_s
        ))
        .into());
    }
    if req.baseline_replications == 0 {
        return Err(
            PlantError::Invalid("the baseline needs at least one replication".into()).into(),
        );
    }
    // Sizes before any run: the buckets the windows are placed in, and the parts the baseline's
    // horizon releases.
    let buckets = req.settings.horizon_s / req.settings.bucket_s;
    // (A bucket of no length is refused with its own words by `plant_problem`.)
    if buckets.is_finite() && buckets > MAX_BUCKETS as f64 {
        return Err(PlantError::Invalid(format!(
            "a horizon of {} s in buckets of {} s is {buckets:.3e} buckets; at most {MAX_BUCKETS} \
             are planned: give longer buckets or a shorter horizon",
            req.settings.horizon_s, req.settings.bucket_s
        ))
        .into());
    }
    takt_model::limits::check_horizon(model, req.settings.horizon_s)
        .map_err(|m| PlantError::Invalid(format!("the horizon: {m}")))?;
    let mut baseline_model = model.clone();
    baseline_model.horizon_s = req.settings.horizon_s;
    baseline_model.warmup_s = 0.0;
    let baseline_model = Arc::new(baseline_model);
    let baseline = takt_sim::run_replications(
        &baseline_model,
        req.seed,
        req.baseline_replications,
        progress,
        Some(stop),
    )
    .map_err(|e| match e {
        takt_sim::RunStopped::Stopped { .. } => PolicyError::Stopped,
        budget => PolicyError::Run(budget),
    })?;
    if stop.load(Ordering::Relaxed) {
        return Err(PolicyError::Stopped.into());
    }
    let plant = plant_problem(scenario, model, &baseline, &from.ages(), &req.settings)?;
    if plant.machines.is_empty() {
        return Err(PlanError::NothingToPlan(if plant.notes.is_empty() {
            "no station has a failure mode".into()
        } else {
            plant.notes.join("; ")
        }));
    }
    let plan = match req.solver {
        Solver::Greedy => solve_greedy(&plant.problem)?,
        #[cfg(feature = "milp")]
        Solver::Milp { time_limit_s } => crate::windows::solve_milp(&plant.problem, time_limit_s)?,
        #[cfg(not(feature = "milp"))]
        Solver::Milp { .. } => solve_greedy(&plant.problem)?,
    };
    let violations = check(&plant.problem, &plan);
    if !violations.is_empty() {
        return Err(PlanError::Broken(violations.join("; ")));
    }
    let mut notes = plant.notes;
    let comparison = match req.compare {
        None => None,
        Some(n) => {
            if let PlanFrom::Plant { assumed, .. } = from {
                notes.extend(
                    assumed
                        .iter()
                        .map(|a| format!("the plant's condition: {a}")),
                );
            }
            let runs = Runs {
                from,
                horizon_s: req.settings.horizon_s,
                replications: n,
                seed: req.seed,
            };
            let policies =
                standard_policies(scenario, &plant.machines, &plant.problem, &plan, &runs);
            Some(compare(
                scenario,
                &plant.machines,
                &policies,
                &req.settings.costs,
                runs,
                progress,
                stop,
            )?)
        }
    };
    Ok(PlanOutput {
        scenario: model.name.clone(),
        start: takt_model::time::format_ms(
            model.timebase.unix_ms(req.settings.start_s),
            model.timebase.utc_offset_min,
            takt_model::time::Precision::Seconds,
        ),
        calendar: calendar(&plant.problem, &plan),
        settings: req.settings.clone(),
        machines: plant.machines,
        notes,
        plan,
        comparison,
    })
}
