//! The fixed interval of least expected cost per hour for a machine: block replacement (Barlow and
//! Proschan, Mathematical Theory of Reliability, 1965, ch. 4). A service every T renews every mode
//! of the machine, and a failure in between renews the failed mode (its repair), so over a long run
//! the expected cost per calendar second is
//!
//! g(T) = (c_s + Σ_k c_k M_k(a_k T)) / T,
//!
//! with M_k the renewal function of mode k (`renewal.rs`), a_k how fast the mode ages per calendar
//! second over the plan's horizon (its rate, at the horizon's mean share of production time if it
//! ages only in production), c_k the cost of its failure and c_s a service's cost with the
//! production it stops (its length at the line's mean value per second of the horizon: a service
//! at a fixed interval falls in production time as often as the horizon is production time).
//! Running to failure costs
//! Σ_k c_k a_k / mean_k per second (the renewal rate). This is the fixed interval the simulator
//! compares the plan with: a fixed interval chosen to cost least, not a rule of thumb such as the
//! B10 life, which services a machine whose hazard rises slowly every few hours.

use crate::renewal::expected_failures;
use crate::windows::{MachineInput, ModeInput, WindowProblem};

/// A machine's interval of least expected cost, and what it and running to failure cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeastCostInterval {
    pub interval_s: f64,
    /// The expected cost per hour with a service every `interval_s`.
    pub cost_per_hour: f64,
    /// The expected cost per hour of running to failure.
    pub run_to_failure_per_hour: f64,
}

/// Candidate intervals between the shortest allowed and `limit_s`.
const CANDIDATES: usize = 4000;

/// How fast `mode` ages per calendar second over the plan's horizon, in its basis.
pub fn ageing_per_calendar_second(p: &WindowProblem, mode: &ModeInput) -> f64 {
    let production = if mode.production_only && !p.production.is_empty() {
        p.production.iter().sum::<f64>() / p.production.len() as f64
    } else {
        1.0
    };
    mode.per_second * production
}

/// The interval of least expected cost per hour for `machine`, whose service takes `service_s`,
/// searched up to `limit_s` (and longer than twice a service); `None` when no interval costs less
/// than running to failure (a hazard that does not rise enough, or a service dearer than the
/// failures it saves).
pub fn least_cost_interval(
    p: &WindowProblem,
    machine: &MachineInput,
    service_s: f64,
    limit_s: f64,
) -> Option<LeastCostInterval> {
    if !(limit_s.is_finite() && limit_s > 0.0) || machine.modes.is_empty() {
        return None;
    }
    let value_per_s = p
        .line_value
        .iter()
        .find(|(line, _)| *line == machine.line)
        .map_or(0.0, |(_, values)| {
            values.iter().sum::<f64>() / values.len().max(1) as f64 / p.bucket_s
        });
    let service_cost = machine.maintenance_cost + value_per_s * service_s;
    let step = limit_s / CANDIDATES as f64;
    let mut failures_cost = vec![0.0; CANDIDATES + 1];
    let mut run_to_failure = 0.0;
    for mode in &machine.modes {
        let rate = ageing_per_calendar_second(p, mode);
        if !(rate > 0.0 && mode.lifetime.mean > 0.0) {
            continue;
        }
        run_to_failure += mode.failure_cost * rate / mode.lifetime.mean;
        let renewals = expected_failures(&mode.lifetime, 0.0, rate * step, CANDIDATES);
        for (cost, m) in failures_cost.iter_mut().zip(&renewals.values) {
            *cost += mode.failure_cost * m;
        }
    }
    let shortest_s = 2.0 * service_s;
    let (best, cost_per_s) = (1..=CANDIDATES)
        .map(|j| j as f64 * step)
        .zip(failures_cost.iter().skip(1))
        .filter(|(t, _)| *t > shortest_s)
        .map(|(t, failures)| (t, (service_cost + failures) / t))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    (cost_per_s < run_to_failure).then_some(LeastCostInterval {
        interval_s: best,
        cost_per_hour: cost_per_s * 3600.0,
        run_to_failure_per_hour: run_to_failure * 3600.0,
    })
}

/// How long, in calendar seconds at the horizon's ageing rates, the oldest of `machine`'s modes has
/// aged: a machine that starts old reaches its next service that much sooner.
pub fn oldest_mode_s(p: &WindowProblem, machine: &MachineInput) -> f64 {
    machine
        .modes
        .iter()
        .filter_map(|m| {
            let rate = ageing_per_calendar_second(p, m);
            (rate > 0.0).then(|| m.age / rate)
        })
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use takt_model::fit::Fit;

    fn problem(machine: MachineInput) -> WindowProblem {
        WindowProblem {
            bucket_s: 60.0,
            buckets: 10,
            machines: vec![machine],
            line_value: Vec::new(),
            allowed: vec![true; 10],
            crew: vec![1; 10],
            production: vec![1.0; 10],
            max_risk: 1.0,
        }
    }

    fn machine(life: Fit, service: f64, failure: f64) -> MachineInput {
        MachineInput {
            name: "M".into(),
            line: "line".into(),
            modes: vec![ModeInput {
                name: "wear".into(),
                lifetime: life,
                age: 0.0,
                per_second: 1.0,
                production_only: false,
                failure_cost: failure,
            }],
            duration_buckets: 1,
            service_s: 60.0,
            crew: 1,
            maintenance_cost: service,
        }
    }

    /// Expected failures within `t` of a part renewed at each failure, counted over `runs` lives
    /// drawn by inversion (an estimate independent of `renewal.rs`).
    fn counted_failures(shape: f64, scale: f64, t: f64, runs: usize, seed: u64) -> f64 {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut total = 0usize;
        for _ in 0..runs {
            let mut clock = 0.0;
            loop {
                let u: f64 = rng.random();
                clock += scale * (-(1.0 - u).ln()).powf(1.0 / shape);
                if clock > t {
                    break;
                }
                total += 1;
            }
        }
        total as f64 / runs as f64
    }

    /// Weibull lives of shape 2.5 and scale 100 h, a service at 100 and a failure at 1,000: the
    /// interval found is where the cost per hour, with failures counted by drawing lives, is least
    /// (within the grid's and the count's error), and it costs less than running to failure.
    #[test]
    fn the_interval_is_where_counted_failures_cost_least() {
        let (shape, scale) = (2.5, 100.0 * 3600.0);
        let m = machine(Fit::known_weibull(shape, scale), 100.0, 1000.0);
        let p = problem(m.clone());
        let found = least_cost_interval(&p, &m, 60.0, 10.0 * scale).expect("an interval pays");
        assert!(found.cost_per_hour < found.run_to_failure_per_hour);
        // The same cost curve from counted failures, on its own grid of 2 h.
        let cost_per_hour =
            |t: f64| (100.0 + 1000.0 * counted_failures(shape, scale, t, 40_000, 7)) / (t / 3600.0);
        let (counted_best, _) = (10..=100)
            .map(|h| f64::from(h) * 2.0 * 3600.0)
            .map(|t| (t, cost_per_hour(t)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("candidates");
        let gap = (found.interval_s - counted_best).abs() / counted_best;
        assert!(
            gap < 0.1,
            "renewal function: {} h, counted: {} h",
            found.interval_s / 3600.0,
            counted_best / 3600.0
        );
        // The curve is flat near its least: what the counts say it costs there is within 2 %.
        let at_found = cost_per_hour(found.interval_s);
        assert!(
            (at_found - found.cost_per_hour).abs() < 0.02 * found.cost_per_hour,
            "{at_found} vs {}",
            found.cost_per_hour
        );
    }

    /// Lives without wear-out (exponential), or a service dearer than the failures it saves: no
    /// interval pays.
    #[test]
    fn no_interval_pays_without_wear_out_or_for_dear_services() {
        let exponential = machine(Fit::known_exponential(100.0 * 3600.0), 10.0, 1000.0);
        assert_eq!(
            least_cost_interval(&problem(exponential.clone()), &exponential, 60.0, 1e7),
            None
        );
        let dear = machine(Fit::known_weibull(2.5, 100.0 * 3600.0), 5000.0, 1000.0);
        assert_eq!(
            least_cost_interval(&problem(dear.clone()), &dear, 60.0, 1e7),
            None
        );
    }
}
