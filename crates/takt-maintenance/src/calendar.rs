//! What a maintenance planner's screen draws beside the windows: per bucket of the horizon, how much
//! of it is production time and whether a service may run; per machine, the chance of a failure
//! since its last renewal over the horizon, with the plan and without any service.

use crate::windows::{MaintenancePlan, WindowProblem, ageing, span_risk};
use serde::{Deserialize, Serialize};

/// The most points of a risk curve (the horizon's buckets are sampled evenly; window edges always).
pub const MAX_POINTS: usize = 600;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanCalendar {
    pub bucket_s: f64,
    /// The share of each bucket that is production time (0: off shift, a break, a holiday).
    pub production_share: Vec<f64>,
    /// Whether a service may start in each bucket (the shift calendar's rule).
    pub maintenance_allowed: Vec<bool>,
    pub risk: Vec<RiskCurve>,
}

/// A machine's chance of at least one failure (any mode) since its last renewal, from now to each
/// point: with the plan it falls to 0 at the end of each service; without, it only grows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RiskCurve {
    pub machine: String,
    /// Seconds from the plan's start.
    pub at_s: Vec<f64>,
    pub with_plan: Vec<f64>,
    pub without_plan: Vec<f64>,
}

/// The calendar and the risk curves of `plan` for problem `p`.
pub fn calendar(p: &WindowProblem, plan: &MaintenancePlan) -> PlanCalendar {
    let stride = p.buckets.div_ceil(MAX_POINTS).max(1);
    let risk = p
        .machines
        .iter()
        .map(|m| {
            let clocks: Vec<Vec<f64>> = m.modes.iter().map(|mode| ageing(p, mode)).collect();
            // Each service's start and its renewal (its length after the start), in buckets.
            let end = p.buckets as f64;
            let mut services: Vec<(f64, f64)> = plan
                .windows
                .iter()
                .filter(|w| w.machine == m.name)
                .map(|w| {
                    let start = w.start_bucket.min(p.buckets) as f64;
                    (start, (start + m.renewed_after(p.bucket_s)).min(end))
                })
                .collect();
            services.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut points: Vec<f64> = (0..=p.buckets).step_by(stride).map(|b| b as f64).collect();
            points.push(end);
            points.extend(services.iter().flat_map(|&(s, e)| [s, e]));
            points.sort_by(f64::total_cmp);
            points.dedup();
            let mut with_plan = Vec::with_capacity(points.len());
            let mut without_plan = Vec::with_capacity(points.len());
            for &b in &points {
                without_plan.push(span_risk(m, &clocks, 0.0, b, false));
                // The last service begun before b: during it the machine stands (its risk holds at
                // the start's); from its renewal, its length after its start, it is as good as new.
                let risk = match services.iter().rev().find(|&&(s, _)| s < b) {
                    None => span_risk(m, &clocks, 0.0, b, false),
                    Some(&(_, renewed)) if renewed <= b => span_risk(m, &clocks, renewed, b, true),
                    Some(&(start, _)) => match services.iter().rev().find(|&&(_, e)| e <= start) {
                        Some(&(_, before)) => span_risk(m, &clocks, before, start, true),
                        None => span_risk(m, &clocks, 0.0, start, false),
                    },
                };
                with_plan.push(risk);
            }
            RiskCurve {
                machine: m.name.clone(),
                at_s: points.iter().map(|&b| b * p.bucket_s).collect(),
                with_plan,
                without_plan,
            }
        })
        .collect();
    PlanCalendar {
        bucket_s: p.bucket_s,
        production_share: p.production.clone(),
        maintenance_allowed: p.allowed.clone(),
        risk,
    }
}
