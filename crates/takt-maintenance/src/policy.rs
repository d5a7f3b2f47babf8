//! Maintenance policies compared in the simulator over the same random numbers: run to failure,
//! a fixed interval, and an optimized plan, each as a change of the planned stations'
//! `maintenance`, run for the plan's horizon from the scenario's start.
//!
//! Replication r of every policy uses the same seed, and the engine keys its random streams by
//! name, so the policies see the same process times and, until a service changes a part's age,
//! the same lives (common random numbers); differences to run to failure are paired by replication.
//! The cost counted in each run is the optimizer's: repairs and services at their cost, and the
//! hours the planned stations stood in production time (repairs of the planned modes, services)
//! at the downtime cost.

use crate::plant::{Costs, PlannedMachine};
use crate::windows::{MachineInput, MaintenancePlan};
use rayon::prelude::*;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use takt_model::quantity::Quantity;
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
}

/// A policy: its name, what it does, and each planned station's maintenance under it.
pub struct Policy {
    pub name: String,
    pub description: String,
    pub maintenance: Vec<(usize, Option<MaintenanceSpec>)>,
}

/// The calendar time from as good as new until a machine's risk of any planned failure reaches
/// `risk` (its B10 life for 0.1), by bisection; `None` if it stays below within `limit_s`.
pub fn life_at_risk(machine: &MachineInput, risk: f64, limit_s: f64) -> Option<f64> {
    if machine.risk(limit_s, true) < risk {
        return None;
    }
    let (mut low, mut high) = (0.0, limit_s);
    for _ in 0..80 {
        let mid = 0.5 * (low + high);
        if machine.risk(mid, true) < risk {
            low = mid;
        } else {
            high = mid;
        }
    }
    Some(high)
}

fn service_spec(
    scenario: &Scenario,
    m: &PlannedMachine,
    interval: Option<f64>,
    at: Vec<f64>,
) -> MaintenanceSpec {
    let own = scenario.stations[m.station].maintenance.as_ref();
    MaintenanceSpec {
        interval: interval.map(Secs),
        at: at.into_iter().map(Secs).collect(),
        duration: own.map_or(DistributionSpec::constant(m.service_s), |o| {
            o.duration.clone()
        }),
        first: interval.map(Secs),
        crew: m.crew.clone(),
        renews: true,
    }
}

/// The three policies: run to failure (no planned service on the planned stations), a fixed
/// interval at each machine's B10 life (the age by which 10% of machines would have failed of a
/// planned mode), and the plan's windows (`start_s` of the plan added to each window's start).
pub fn standard_policies(
    scenario: &Scenario,
    machines: &[PlannedMachine],
    inputs: &[MachineInput],
    plan: &MaintenancePlan,
    start_s: f64,
    horizon_s: f64,
) -> Vec<Policy> {
    let run_to_failure = Policy {
        name: "run to failure".into(),
        description: "no planned service on the planned stations; repair on failure".into(),
        maintenance: machines.iter().map(|m| (m.station, None)).collect(),
    };
    let fixed = Policy {
        name: "fixed interval".into(),
        description: "a service every B10 life (10% would have failed by then) of each machine"
            .into(),
        maintenance: machines
            .iter()
            .zip(inputs)
            .map(|(m, input)| {
                let spec = life_at_risk(input, 0.1, 10.0 * horizon_s)
                    .map(|b10| service_spec(scenario, m, Some(b10), Vec::new()));
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
                let spec = (!at.is_empty()).then(|| service_spec(scenario, m, None, at));
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

/// How the policies are run: replication r of each with seed `replication_seed(seed, r)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Runs {
    pub horizon_s: f64,
    pub replications: u32,
    pub seed: u64,
}

/// Runs every policy `runs.replications` times over `runs.horizon_s` from the scenario's start.
/// Once `stop` is set, no further run starts and the comparison ends with [`PolicyError::Stopped`].
pub fn compare(
    scenario: &Scenario,
    machines: &[PlannedMachine],
    policies: &[Policy],
    costs: &Costs,
    runs: Runs,
    progress: &(dyn Fn() + Sync),
    stop: &AtomicBool,
) -> Result<Comparison, PolicyError> {
    let Runs {
        horizon_s,
        replications,
        seed,
    } = runs;
    if replications < 2 {
        return Err(PolicyError::Invalid(
            "a comparison needs at least 2 replications for its intervals".into(),
        ));
    }
    let mut models: Vec<Arc<Model>> = Vec::new();
    for p in policies {
        let mut s = scenario.clone();
        s.run.horizon = Secs(horizon_s);
        s.run.warmup = Secs(0.0);
        // The order book, if read from a file, is already in `demand.orders`.
        s.demand.orders_csv = None;
        for (station, spec) in &p.maintenance {
            s.stations[*station].maintenance = spec.clone();
        }
        let model = compile(&s).map_err(|problems| PolicyError::Scenario {
            policy: p.name.clone(),
            detail: problems
                .iter()
                .map(|q| format!("{}: {}", q.path, q.message))
                .collect::<Vec<_>>()
                .join("; "),
        })?;
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
            let mut sim = Simulation::new(Arc::clone(&models[p]), rng::replication_seed(seed, r));
            sim.run_guarded(horizon_s, &takt_model::RunLimits::default(), &[stop])
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
