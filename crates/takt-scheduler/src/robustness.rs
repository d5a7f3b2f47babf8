//! How a plan holds up in the twin: the simulator runs the plant with every machine following the
//! planned sequence (see `takt_sim::plan`), with processing times, failures, repairs, changeovers
//! and scrap drawn as the scenario says, over independent replications in parallel. Each run goes
//! on until every order is complete (or a cap far beyond the plan), and reports makespan, weighted
//! tardiness, late orders and the on-time rate, to set beside the deterministic plan.

use crate::plant::PlantProblem;
use crate::problem::Schedule;
use rayon::prelude::*;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use takt_model::Model;
use takt_sim::{Plan, PlanError, Simulation, rng::replication_seed};

/// What one replication of the plan did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanRun {
    /// Completion of the last order, seconds from t = 0 (`None` if some order never finished).
    pub makespan_s: Option<f64>,
    /// Σ priority × tardiness over orders with due dates, seconds.
    pub weighted_tardiness_s: f64,
    pub late_orders: u32,
    /// Share of orders with a due date finished by it (`None` without due dates).
    pub on_time_rate: Option<f64>,
    /// Orders not finished when the run stopped.
    pub unfinished: u32,
    /// Completion of every order (model order), seconds.
    pub completions_s: Vec<Option<f64>>,
}

/// The machine sequences of a schedule of a plant problem.
pub fn plan_of(plant: &PlantProblem, schedule: &Schedule) -> Plan {
    let mut lots: Vec<Vec<(i64, u32, u32)>> = vec![Vec::new(); plant.machines.len()];
    for o in &schedule.operations {
        lots[o.machine].push((o.start, o.job as u32, o.operation as u32));
    }
    Plan {
        lots: lots
            .into_iter()
            .map(|mut l| {
                l.sort_unstable();
                l.into_iter().map(|(_, j, k)| (j, k)).collect()
            })
            .collect(),
    }
}

/// Runs replication `replication` of the plan until all orders are complete or `cap_s`.
pub fn run_plan(
    model: &Arc<Model>,
    plan: &Plan,
    seed: u64,
    replication: u32,
    cap_s: f64,
) -> Result<PlanRun, PlanError> {
    let mut sim = Simulation::with_plan(
        Arc::clone(model),
        replication_seed(seed, replication),
        plan.clone(),
    )?;
    // Step a day at a time and stop as soon as the book is done.
    let mut t = 0.0;
    while !sim.orders_complete() && t < cap_s {
        t = (t + 86_400.0).min(cap_s);
        sim.run_guarded(t, &takt_model::RunLimits::default(), &[])?;
    }
    let report = sim.report();
    let orders = report.orders.map(|o| o.orders).unwrap_or_default();
    let (mut tardiness, mut late, mut with_due, mut unfinished) = (0.0, 0u32, 0u32, 0u32);
    let mut completions = Vec::with_capacity(orders.len());
    for (o, spec) in orders.iter().zip(&model.orders) {
        completions.push(o.completed_at_s);
        unfinished += u32::from(o.completed_at_s.is_none());
        if let Some(due) = spec.due_s {
            with_due += 1;
            // An unfinished order is late by at least the time to the end of the run.
            let done = o.completed_at_s.unwrap_or(sim.now().max(due));
            let tardy = (done - due).max(0.0);
            tardiness += spec.priority * tardy;
            late += u32::from(o.completed_at_s.is_none() || tardy > 0.0);
        }
    }
    let makespan = completions
        .iter()
        .try_fold(0.0f64, |m, c| c.map(|c| m.max(c)));
    Ok(PlanRun {
        makespan_s: makespan,
        weighted_tardiness_s: tardiness,
        late_orders: late,
        on_time_rate: (with_due > 0).then(|| f64::from(with_due - late) / f64::from(with_due)),
        unfinished,
        completions_s: completions,
    })
}

/// Why [`evaluate`] gave no runs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvaluateError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// `stop` was raised before every run had started.
    #[error("stopped")]
    Stopped,
}

/// `replications` runs of the plan in parallel (replication r has the same seed whatever the threads).
/// A run stops once every order is done, at the latest far beyond any plausible delay: ten times
/// the plan's makespan and four weeks more. `on_done` is called after each run. Once `stop` is
/// set, no further run starts.
pub fn evaluate(
    model: &Arc<Model>,
    plant: &PlantProblem,
    schedule: &Schedule,
    replications: u32,
    seed: u64,
    on_done: &(dyn Fn() + Sync),
    stop: &AtomicBool,
) -> Result<Vec<PlanRun>, EvaluateError> {
    let cap_s = 10.0 * schedule.makespan() as f64 + 4.0 * 604_800.0;
    let plan = plan_of(plant, schedule);
    (0..replications)
        .into_par_iter()
        .map(|r| {
            if stop.load(Ordering::Relaxed) {
                return Err(EvaluateError::Stopped);
            }
            let out = run_plan(model, &plan, seed, r, cap_s)?;
            on_done();
            Ok(out)
        })
        .collect()
}
