//! Maintenance policies compared in the simulator over the same random numbers: run to failure,
//! a fixed interval, and an optimized plan, each as a change of the planned stations'
//! `maintenance`, run for the plan's horizon from where the plan starts: the scenario's start,
//! or a plant as observed (`Simulation::from_condition`: the machines' ages, what each holds and
//! does, the parts waiting, how far each order has come).
//!
//! Replication r of every policy uses the same seed, and the engine keys its random streams by
//! name, so the policies see the same process times and, until a service changes a part's age,
//! the same lives (common random numbers); differences to run to failure are paired by replication.
//! The cost counted in each run is the optimizer's: repairs and services at their cost, and the
//! hours the planned stations stood in production time (repairs of the planned modes, services)
//! at the downtime cost.

use crate::interval::{least_cost_interval, oldest_mode_s};
use crate::maintain::PlanFrom;
use crate::plant::{Costs, PlannedMachine};
use crate::windows::{MaintenancePlan, WindowProblem};
use rayon::prelude::*;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use takt_model::quantity::{Quantity, duration};
use takt_model::{DistributionSpec, MaintenanceSpec, Model, Scenario, Secs, compile};
use takt_sim::{Report, Simulation, mean_ci95, rng};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyDifference {
    pub mean: f64,
    pub ci95: Option<f64>,
    /// The 95% interval excludes 0.
    pub significant: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyEstimate {
    pub key: &'static str,
    pub label: &'static str,
    /// What it measures, which fixes its unit and format (`money`: in the costs' currency).
    pub quantity: Quantity,
    pub mean: f64,
    pub ci95: Option<f64>,
    /// This policy minus run to failure, paired by replication (absent for run to failure).
    pub difference: Option<PolicyDifference>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyResult {
    pub name: String,
    pub description: String,
    pub estimates: Vec<PolicyEstimate>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Comparison {
    pub replications: u32,
    pub seed: u64,
    pub horizon_s: f64,
    pub policies: Vec<PolicyResult>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy `{policy}`: {detail}")]
    Scenario { policy: String, detail: String },
    #[error("{0}")]
    Invalid(String),
    #[error("stopped before every run was done")]
    Stopped,
    #[error(transparent)]
    Run(takt_sim::RunStopped),
    #[error("the plant's condition: {0}")]
    Condition(#[from] takt_sim::ConditionError),
}

/// A policy: its name, what it does, and each planned station's maintenance under it.
pub struct Policy {
    pub name: String,
    pub description: String,
    pub maintenance: Vec<(usize, Option<MaintenanceSpec>)>,
}

/// When a station's planned services start: every `interval_s` from `first_s`, or at listed times.
enum Starts {
    Every { first_s: f64, interval_s: f64 },
    At(Vec<f64>),
}

fn service_spec(scenario: &Scenario, m: &PlannedMachine, starts: Starts) -> MaintenanceSpec {
    let own = scenario.stations[m.station].maintenance.as_ref();
    let (interval, first, at) = match starts {
        Starts::Every {
            first_s,
            interval_s,
        } => (Some(Secs(interval_s)), Some(Secs(first_s)), Vec::new()),
        Starts::At(at) => (None, None, at.into_iter().map(Secs).collect()),
    };
    MaintenanceSpec {
        interval,
        at,
        duration: own.map_or(DistributionSpec::constant(m.service_s), |o| {
            o.duration.clone()
        }),
        first,
        crew: m.crew.clone(),
        renews: true,
    }
}

/// The three policies: run to failure (no planned service on the planned stations), a fixed
/// interval per machine, the one of least expected cost per hour (`crate::interval`: none where
/// running to failure costs less; the first service sooner by as long as its oldest mode has
/// aged), and the plan's windows (the plan's start added to each window's start).
pub fn standard_policies(
    scenario: &Scenario,
    machines: &[PlannedMachine],
    problem: &WindowProblem,
    plan: &MaintenancePlan,
    runs: &Runs<'_>,
) -> Vec<Policy> {
    let (start_s, horizon_s) = (runs.from.start_s(), runs.horizon_s);
    let intervals: Vec<Option<f64>> = machines
        .iter()
        .zip(&problem.machines)
        .map(|(m, input)| {
            least_cost_interval(problem, input, m.service_s, 10.0 * horizon_s)
                .map(|best| best.interval_s)
        })
        .collect();
    let every: Vec<String> = machines
        .iter()
        .zip(&intervals)
        .map(|(m, interval)| match interval {
            Some(t) => format!("{} every {}", m.name, duration(*t)),
            None => format!("{} none", m.name),
        })
        .collect();
    let run_to_failure = Policy {
        name: "run to failure".into(),
        description: "no planned service on the planned stations; repair on failure".into(),
        maintenance: machines.iter().map(|m| (m.station, None)).collect(),
    };
    let fixed = Policy {
        name: "fixed interval".into(),
        description: format!(
            "a service at a fixed interval per machine, the one of least expected cost per hour, \
             none where running to failure costs less: {}",
            every.join(", ")
        ),
        maintenance: machines
            .iter()
            .zip(&problem.machines)
            .zip(&intervals)
            .map(|((m, input), interval)| {
                let spec = interval.map(|interval_s| {
                    let first = (interval_s - oldest_mode_s(problem, input)).max(0.0);
                    let starts = Starts::Every {
                        first_s: start_s + first,
                        interval_s,
                    };
                    service_spec(scenario, m, starts)
                });
                (m.station, spec)
            })
            .collect(),
    };
    let optimized = Policy {
        name: "optimized plan".into(),
        description: format!(
            "the {} windows of the plan ({})",
            plan.windows.len(),
            plan.solver
        ),
        maintenance: machines
            .iter()
            .map(|m| {
                let at: Vec<f64> = plan
                    .windows
                    .iter()
                    .filter(|w| w.machine == m.name)
                    .map(|w| start_s + w.start_s)
                    .collect();
                let spec = (!at.is_empty()).then(|| service_spec(scenario, m, Starts::At(at)));
                (m.station, spec)
            })
            .collect(),
    };
    vec![run_to_failure, fixed, optimized]
}

struct Outcome {
    good: f64,
    availability: f64,
    oee: f64,
    failures: f64,
    maintenances: f64,
    cost: f64,
}

fn outcome(report: &Report, machines: &[PlannedMachine], costs: &Costs) -> Outcome {
    let mut o = Outcome {
        good: report.completed as f64,
        availability: 0.0,
        oee: 0.0,
        failures: 0.0,
        maintenances: 0.0,
        cost: 0.0,
    };
    for m in machines {
        let s = &report.stations[m.station];
        o.availability += s.availability.unwrap_or(0.0) / machines.len() as f64;
        o.oee += s.oee.unwrap_or(0.0) / machines.len() as f64;
        let mut stood_s = s.planned_downtime_s;
        for f in s.failure_modes.iter().filter(|f| m.modes.contains(&f.name)) {
            o.failures += f.failures as f64;
            stood_s += f.downtime_s;
        }
        o.maintenances += s.maintenances as f64;
        o.cost += stood_s / 3600.0 * costs.downtime_per_hour;
    }
    o.cost += o.failures * costs.repair + o.maintenances * costs.service;
    o
}

/// How the policies are run: from `from`, replication r of each with seed
/// `replication_seed(seed, r)`.
#[derive(Debug, Clone, Copy)]
pub struct Runs<'a> {
    pub from: PlanFrom<'a>,
    pub horizon_s: f64,
    pub replications: u32,
    pub seed: u64,
}

/// The station's maintenance in a policy's run from `from`. A policy without planned services at
/// a station whose machine is in a service when the run starts still lets that service end: its
/// only start is after the run's end (`end_s`), so no new one starts.
fn maintenance_in_run(
    scenario: &Scenario,
    machines: &[PlannedMachine],
    from: PlanFrom<'_>,
    station: usize,
    spec: &Option<MaintenanceSpec>,
    end_s: f64,
) -> Option<MaintenanceSpec> {
    let PlanFrom::Plant { condition, .. } = from else {
        return spec.clone();
    };
    let in_service = |m: &PlannedMachine| {
        condition.machines.iter().any(|c| {
            c.machine == m.name
                && matches!(c.stop, Some(takt_sim::condition::Stop::PlannedDown { .. }))
        })
    };
    match machines.iter().find(|m| m.station == station) {
        Some(m) if spec.is_none() && in_service(m) => {
            Some(service_spec(scenario, m, Starts::At(vec![end_s + 1.0])))
        }
        _ => spec.clone(),
    }
}

/// Runs every policy `runs.replications` times over `runs.horizon_s` from where the plan starts.
/// Once `stop` is set, no further run starts and the comparison ends with [`PolicyError::Stopped`].
pub fn compare(
    scenario: &Scenario,
    machines: &[PlannedMachine],
    policies: &[Policy],
    costs: &Costs,
    runs: Runs<'_>,
    progress: &(dyn Fn() + Sync),
    stop: &AtomicBool,
) -> Result<Comparison, PolicyError> {
    let Runs {
        from,
        horizon_s,
        replications,
        seed,
    } = runs;
    let end_s = from.start_s() + horizon_s;
    if replications < 2 {
        return Err(PolicyError::Invalid(
            "a comparison needs at least 2 replications for its intervals".into(),
        ));
    }
    let mut models: Vec<Arc<Model>> = Vec::new();
    for p in policies {
        let mut s = scenario.clone();
        s.run.horizon = Secs(end_s);
        s.run.warmup = Secs(0.0);
        // The order book, if read from a file, is already in `demand.orders`.
        s.demand.orders_csv = None;
        for (station, spec) in &p.maintenance {
            s.stations[*station].maintenance =
                maintenance_in_run(scenario, machines, from, *station, spec, end_s);
        }
        let mut model = compile(&s).map_err(|problems| PolicyError::Scenario {
            policy: p.name.clone(),
            detail: problems
                .iter()
                .map(|q| format!("{}: {}", q.path, q.message))
                .collect::<Vec<_>>()
                .join("; "),
        })?;
        if let PlanFrom::Plant { model: plant, .. } = from {
            // The orders the plant's condition counts (a live order book's, if one was given).
            model.orders = plant.orders.clone();
        }
        models.push(Arc::new(model));
    }
    let jobs: Vec<(usize, u32)> = (0..policies.len())
        .flat_map(|p| (0..replications).map(move |r| (p, r)))
        .collect();
    let outcomes: Vec<Outcome> = jobs
        .par_iter()
        .map(|&(p, r)| {
            if stop.load(Ordering::Relaxed) {
                return Err(PolicyError::Stopped);
            }
            let model = Arc::clone(&models[p]);
            let seed = rng::replication_seed(seed, r);
            let mut sim = match from {
                PlanFrom::ScenarioStart => Simulation::new(model, seed),
                PlanFrom::Plant { condition, .. } => {
                    Simulation::from_condition(model, seed, condition)?
                }
            };
            sim.run_guarded(end_s, &takt_model::RunLimits::default(), &[stop])
                .map_err(|e| match e {
                    takt_sim::RunStopped::Stopped { .. } => PolicyError::Stopped,
                    budget => PolicyError::Run(budget),
                })?;
            let o = outcome(&sim.report(), machines, costs);
            progress();
            Ok(o)
        })
        .collect::<Result<Vec<Outcome>, PolicyError>>()?;
    let per_policy: Vec<&[Outcome]> = outcomes.chunks(replications as usize).collect();
    type Get = fn(&Outcome) -> f64;
    let kpis: [(&'static str, &'static str, Quantity, Get); 6] = [
        ("good", "good parts", Quantity::Count, |o| o.good),
        (
            "availability",
            "availability (planned stations)",
            Quantity::Share,
            |o| o.availability,
        ),
        ("oee", "OEE (planned stations)", Quantity::Share, |o| o.oee),
        (
            "failures",
            "failures (planned modes)",
            Quantity::Count,
            |o| o.failures,
        ),
        ("maintenances", "planned services", Quantity::Count, |o| {
            o.maintenances
        }),
        ("cost", "cost", Quantity::Money, |o| o.cost),
    ];
    let results = policies
        .iter()
        .enumerate()
        .map(|(pi, p)| {
            let estimates = kpis
                .iter()
                .map(|&(key, label, quantity, get)| {
                    let xs: Vec<f64> = per_policy[pi].iter().map(get).collect();
                    let (mean, ci95) = mean_ci95(&xs);
                    let difference = (pi > 0).then(|| {
                        let d: Vec<f64> = per_policy[pi]
                            .iter()
                            .zip(per_policy[0])
                            .map(|(a, b)| get(a) - get(b))
                            .collect();
                        let (mean, ci95) = mean_ci95(&d);
                        PolicyDifference {
                            mean,
                            ci95,
                            significant: ci95.is_some_and(|h| mean.abs() > h),
                        }
                    });
                    PolicyEstimate {
                        key,
                        quantity,
                        label,
                        mean,
                        ci95,
                        difference,
                    }
                })
                .collect();
            PolicyResult {
                name: p.name.clone(),
                description: p.description.clone(),
                estimates,
            }
        })
        .collect();
    Ok(Comparison {
        replications,
        seed,
        horizon_s,
        policies: results,
    })
}
