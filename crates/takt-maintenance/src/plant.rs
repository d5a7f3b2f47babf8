//! From a plant to a window problem: which machines and failure modes a service can help, how
//! fast each mode ages, what a failure, a service and a stop cost, over which buckets.
//!
//! - Only wear-out modes are planned: a service renews a part, which lowers the risk only if the
//!   hazard rises with age. Modes with a constant or falling hazard (exponential lives, most
//!   short stops) are listed in `notes` and left out.
//! - Lifetimes are the scenario's time-to-failure distributions (calibrate the scenario from
//!   history first, `takt calibrate`, to plan on fitted ones). Exponential, Weibull and lognormal
//!   are taken as they are; other families are matched by a Weibull of the same mean and standard
//!   deviation (said in `notes`).
//! - Modes age in their own basis at rates measured in a baseline simulation of the plant: 1 for
//!   calendar time less the time down, the utilisation for operating time, the cycles per second
//!   for counted cycles.
//! - Each station is its own line here: a scenario's buffers decouple its stations, so one
//!   station's stop does not stand the others. A stop costs the downtime cost per production hour
//!   that the shift calendar puts in the bucket (nothing off shift).
//! - Stations with several machines are not planned yet (their machines share one maintenance
//!   spec in the engine); they are listed in `notes`.

use crate::windows::{MachineInput, ModeInput, WindowProblem};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use takt_model::fit::Fit;
use takt_model::{DistributionSpec, FailureBasis, Model, Scenario};
use takt_sim::Report;

/// What failures, services and stops cost, in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Costs {
    /// Parts and labour of one repair after a failure.
    pub repair: f64,
    /// Parts and labour of one planned service.
    pub service: f64,
    /// Margin lost per hour a station stands in production time.
    pub downtime_per_hour: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settings {
    /// Simulation time the plan starts at (0: the scenario's start), seconds.
    pub start_s: f64,
    pub horizon_s: f64,
    pub bucket_s: f64,
    pub costs: Costs,
    /// A service's length where the station has no maintenance spec of its own, seconds.
    pub service_s: f64,
    pub max_risk: f64,
    /// Crew members for services per bucket; default: the members of the crews the planned
    /// stations name (or one per machine when they name none).
    pub crew: Option<u32>,
}

/// A planned machine: its station in the model and the modes in the problem.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlannedMachine {
    pub station: usize,
    pub name: String,
    pub modes: Vec<String>,
    pub service_s: f64,
    pub crew: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlantProblem {
    pub problem: WindowProblem,
    pub machines: Vec<PlannedMachine>,
    /// What was left out or assumed, and why.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlantError {
    #[error("{0}")]
    Invalid(String),
}

/// The Weibull shape whose coefficient of variation is `cv` (bisection on Γ(1 + 2/k) / Γ(1 +
/// 1/k)² - 1 = cv², which falls as k grows), capped at 50 for nearly constant lives.
fn weibull_shape_for_cv(cv: f64) -> f64 {
    use statrs::function::gamma::gamma;
    let cv2 = |k: f64| gamma(1.0 + 2.0 / k) / gamma(1.0 + 1.0 / k).powi(2) - 1.0;
    let (mut low, mut high) = (0.2_f64, 50.0_f64);
    if cv2(high) >= cv * cv {
        return high;
    }
    for _ in 0..100 {
        let mid = 0.5 * (low + high);
        if cv2(mid) > cv * cv {
            low = mid;
        } else {
            high = mid;
        }
    }
    0.5 * (low + high)
}

/// The lifetime of failure mode `fi` of station `si` as the scenario gives it, if the mode wears
/// out (a service lowers its risk): the twin's `failure_risk` alerts judge these only, since a
/// mode that fails at random has the same risk whatever its age, and nothing to act on
/// (`takt_twin::alerts::Lifetimes::new`).
pub fn wear_out_lifetime(scenario: &Scenario, si: usize, fi: usize) -> Option<Fit> {
    let spec = &scenario.stations.get(si)?.failures.get(fi)?.ttf;
    lifetime_of(spec).map(|(life, _)| life).filter(wears_out)
}

/// A lifetime for planning from a scenario distribution, and whether it was matched by moments.
pub fn lifetime_of(spec: &DistributionSpec) -> Option<(Fit, bool)> {
    use DistributionSpec::*;
    let gamma = statrs::function::gamma::gamma;
    let matched = |mean: f64, sd: f64| -> Option<(Fit, bool)> {
        if !(mean > 0.0 && sd >= 0.0) {
            return None;
        }
        let shape = weibull_shape_for_cv((sd / mean).max(1e-3));
        Some((
            Fit::known_weibull(shape, mean / gamma(1.0 + 1.0 / shape)),
            true,
        ))
    };
    match spec {
        Exponential { mean } if *mean > 0.0 => Some((Fit::known_exponential(*mean), false)),
        Weibull { shape, scale } if *shape > 0.0 && *scale > 0.0 => {
            Some((Fit::known_weibull(*shape, *scale), false))
        }
        Lognormal { mean, sd } if *mean > 0.0 && *sd > 0.0 => {
            Some((Fit::known_lognormal(*mean, *sd), false))
        }
        Constant { value } => matched(*value, 0.0),
        Normal { mean, sd } => matched(*mean, *sd),
        Uniform { min, max } => matched((min + max) / 2.0, (max - min) / 12f64.sqrt()),
        Triangular { min, mode, max } => {
            let var =
                (min * min + mode * mode + max * max - min * mode - min * max - mode * max) / 18.0;
            matched((min + mode + max) / 3.0, var.max(0.0).sqrt())
        }
        Gamma { shape, scale } => matched(shape * scale, shape.sqrt() * scale),
        Erlang { k, mean } => matched(*mean, mean / f64::from(*k).sqrt()),
        _ => None,
    }
}

/// Whether a service lowers the risk: the hazard at the mean life is at least 10% above the
/// hazard at a quarter of it.
pub fn wears_out(life: &Fit) -> bool {
    let h = |t: f64| life.hazard(t);
    h(life.mean) > 1.1 * h(0.25 * life.mean)
}

/// Production seconds the calendar puts in `[a, b)` (all of it without a calendar).
fn production_s(model: &Model, a: f64, b: f64) -> f64 {
    let Some(cal) = &model.calendar else {
        return b - a;
    };
    let (mut t, mut on_s) = (a, 0.0);
    while t < b {
        let (on, next) = cal.at(&model.timebase, t);
        let end = next.min(b).max(t + 1e-9);
        if on {
            on_s += end - t;
        }
        t = end;
    }
    on_s
}

/// The window problem of a plant. `baseline` are reports of the plant simulated as it runs (for
/// the rates modes age at); `ages` per machine and mode name, in the mode's basis (absent: new).
pub fn plant_problem(
    scenario: &Scenario,
    model: &Model,
    baseline: &[Report],
    ages: &BTreeMap<String, BTreeMap<String, f64>>,
    settings: &Settings,
) -> Result<PlantProblem, PlantError> {
    let invalid = |m: String| Err(PlantError::Invalid(m));
    for (what, x) in [
        ("horizon", settings.horizon_s),
        ("bucket", settings.bucket_s),
        ("service duration", settings.service_s),
    ] {
        if !(x.is_finite() && x > 0.0) {
            return invalid(format!("the {what} must be > 0, not {x}"));
        }
    }
    let c = settings.costs;
    for (what, x) in [
        ("repair cost", c.repair),
        ("service cost", c.service),
        ("downtime cost", c.downtime_per_hour),
    ] {
        if !(x.is_finite() && x >= 0.0) {
            return invalid(format!("the {what} must be a number >= 0, not {x}"));
        }
    }
    if !(0.0..=1.0).contains(&settings.max_risk) {
        return invalid(format!(
            "the risk limit must be in [0, 1], not {}",
            settings.max_risk
        ));
    }
    if baseline.is_empty() {
        return invalid("a baseline simulation is needed for the ageing rates".into());
    }
    let buckets = (settings.horizon_s / settings.bucket_s).ceil() as usize;
    let mut notes = Vec::new();
    let mut machines = Vec::new();
    let mut planned = Vec::new();
    let mut line_value = Vec::new();
    let n = baseline.len() as f64;
    let mean_of = |f: &dyn Fn(&Report) -> f64| baseline.iter().map(f).sum::<f64>() / n;
    // Production time in the baseline's window and in each bucket of the plan.
    let baseline_production_s = mean_of(&|r| production_s(model, r.time_s - r.window_s, r.time_s));
    let production: Vec<f64> = (0..buckets)
        .map(|t| {
            let a = settings.start_s + t as f64 * settings.bucket_s;
            production_s(model, a, a + settings.bucket_s) / settings.bucket_s
        })
        .collect();
    for (si, st) in model.stations.iter().enumerate() {
        let spec = &scenario.stations[si];
        if st.failure_modes.is_empty() {
            continue;
        }
        if st.machines > 1 {
            notes.push(format!(
                "{}: not planned: its {} machines share one maintenance spec in the engine",
                st.name, st.machines
            ));
            continue;
        }
        // Rates per second of the time the station works: production time if it follows the
        // calendar, all the time if it does not.
        let worked_s = |r: &Report| {
            if st.follows_calendar {
                baseline_production_s.max(1.0)
            } else {
                r.window_s.max(1.0)
            }
        };
        let utilisation =
            mean_of(&|r| (r.stations[si].utilisation * r.window_s / worked_s(r)).min(1.0));
        let cycles_per_s = mean_of(&|r| r.stations[si].produced as f64 / worked_s(r));
        let up = mean_of(&|r| {
            let f = &r.stations[si].state_fractions;
            1.0 - f.down - f.planned_down
        });
        let mut modes = Vec::new();
        let mut crew = None;
        for (fi, f) in st.failure_modes.iter().enumerate() {
            let Some((life, matched)) = lifetime_of(&spec.failures[fi].ttf) else {
                notes.push(format!(
                    "{} `{}`: not planned: no lifetime model for its distribution",
                    st.name, f.name
                ));
                continue;
            };
            if !wears_out(&life) {
                notes.push(format!(
                    "{} `{}`: not planned: its hazard does not rise with age, so a service does not lower its risk",
                    st.name, f.name
                ));
                continue;
            }
            if matched {
                notes.push(format!(
                    "{} `{}`: planned with a Weibull of the same mean and sd (shape {:.2})",
                    st.name,
                    f.name,
                    life.parameter("shape").map_or(f64::NAN, |p| p.value)
                ));
            }
            let per_second = match f.basis {
                FailureBasis::Calendar => up,
                FailureBasis::Operating => utilisation,
                FailureBasis::Cycles => cycles_per_s,
            };
            let machine = st.machine_name(0);
            let age = ages
                .get(&machine)
                .and_then(|a| a.get(&f.name))
                .copied()
                .unwrap_or(0.0);
            if !(age.is_finite() && age >= 0.0) {
                return invalid(format!("{machine} `{}`: age {age} is not >= 0", f.name));
            }
            crew = crew.or(spec.failures[fi].crew.clone());
            modes.push(ModeInput {
                name: f.name.clone(),
                lifetime: life,
                age,
                per_second,
                production_only: st.follows_calendar && f.basis != FailureBasis::Calendar,
                failure_cost: c.repair + f.ttr_mean_s / 3600.0 * c.downtime_per_hour,
            });
        }
        if modes.is_empty() {
            continue;
        }
        let service_s = st
            .maintenance
            .as_ref()
            .map_or(settings.service_s, |m| m.duration_mean_s);
        let crew = spec
            .maintenance
            .as_ref()
            .and_then(|m| m.crew.clone())
            .or(crew);
        let hour_fraction = settings.bucket_s / 3600.0 * c.downtime_per_hour;
        let values = production
            .iter()
            .map(|f| {
                if st.follows_calendar {
                    f * hour_fraction
                } else {
                    hour_fraction
                }
            })
            .collect();
        line_value.push((st.name.clone(), values));
        planned.push(PlannedMachine {
            station: si,
            name: st.machine_name(0),
            modes: modes.iter().map(|m| m.name.clone()).collect(),
            service_s,
            crew: crew.clone(),
        });
        machines.push(MachineInput {
            name: st.machine_name(0),
            line: st.name.clone(),
            modes,
            duration_buckets: ((service_s / settings.bucket_s).ceil() as usize).max(1),
            service_s,
            crew: 1,
            maintenance_cost: c.service,
        });
    }
    let crew = settings.crew.unwrap_or_else(|| {
        let mut named: Vec<&String> = planned.iter().filter_map(|m| m.crew.as_ref()).collect();
        named.sort();
        named.dedup();
        if named.is_empty() {
            planned.len().max(1) as u32
        } else {
            named
                .iter()
                .filter_map(|n| model.crews.iter().find(|c| &&c.name == n))
                .map(|c| c.count)
                .sum::<u32>()
                .max(1)
        }
    });
    Ok(PlantProblem {
        problem: WindowProblem {
            bucket_s: settings.bucket_s,
            buckets,
            machines,
            line_value,
            allowed: vec![true; buckets],
            crew: vec![crew; buckets],
            production,
            max_risk: settings.max_risk,
        },
        machines: planned,
        notes,
    })
}
