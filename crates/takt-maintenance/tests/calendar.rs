//! The planner's risk curves against the plan's own figures: with the plan the risk falls to 0 at
//! each service's end, stays within the plan's risk limit and never above the curve without the
//! plan; without the plan it ends at the machine's risk over the whole horizon.

use takt_maintenance::calendar::calendar;
use takt_maintenance::windows::{MachineInput, ModeInput, WindowProblem, solve_greedy};
use takt_model::fit::Fit;

const HOUR: f64 = 3600.0;

fn machine(name: &str, age_h: f64) -> MachineInput {
    MachineInput {
        name: name.into(),
        line: "L".into(),
        modes: vec![ModeInput {
            name: "wear".into(),
            lifetime: Fit::known_weibull(3.0, 100.0 * HOUR),
            age: age_h * HOUR,
            per_second: 1.0,
            production_only: false,
            failure_cost: 200.0,
        }],
        duration_buckets: 1,
        service_s: 4.0 * HOUR,
        crew: 1,
        maintenance_cost: 5.0,
    }
}

#[test]
fn risk_with_the_plan_resets_at_each_service_and_keeps_the_limit() {
    let buckets = 42;
    let p = WindowProblem {
        bucket_s: 4.0 * HOUR,
        buckets,
        machines: vec![machine("A", 30.0), machine("B", 70.0)],
        line_value: vec![(
            "L".into(),
            (0..buckets)
                .map(|t| if t % 6 == 5 { 0.0 } else { 30.0 })
                .collect(),
        )],
        allowed: vec![true; buckets],
        crew: vec![2; buckets],
        production: (0..buckets)
            .map(|t| if t % 6 == 5 { 0.0 } else { 1.0 })
            .collect(),
        max_risk: 0.3,
    };
    let plan = solve_greedy(&p).expect("plan");
    assert!(!plan.windows.is_empty(), "worn machines are serviced");
    let view = calendar(&p, &plan);
    assert_eq!(view.production_share, p.production);
    assert_eq!(view.maintenance_allowed, p.allowed);
    let horizon = buckets as f64 * p.bucket_s;
    for (curve, m) in view.risk.iter().zip(&p.machines) {
        assert_eq!(curve.machine, m.name);
        assert_eq!(curve.at_s.first(), Some(&0.0));
        assert_eq!(curve.at_s.last(), Some(&horizon));
        assert!(curve.at_s.windows(2).all(|w| w[0] < w[1]));
        for k in 0..curve.at_s.len() {
            let (with, without) = (curve.with_plan[k], curve.without_plan[k]);
            assert!((0.0..=1.0).contains(&with) && (0.0..=1.0).contains(&without));
            assert!(
                with <= without + 1e-12,
                "{} at {} s: {with} > {without}",
                m.name,
                curve.at_s[k]
            );
            assert!(
                with <= p.max_risk + 1e-9,
                "{} at {} s: {with} over the limit",
                m.name,
                curve.at_s[k]
            );
        }
        // Without any service the curve ends at the machine's risk over the horizon (computed
        // from its ages directly, not from the bucket clocks).
        let end = *curve.without_plan.last().expect("points");
        assert!(
            (end - m.risk(horizon, false)).abs() < 1e-9,
            "{end} vs {}",
            m.risk(horizon, false)
        );
        for w in plan.windows.iter().filter(|w| w.machine == m.name) {
            let at = |s: f64| {
                curve
                    .at_s
                    .iter()
                    .position(|&t| (t - s).abs() < 1e-6)
                    .expect("window edges are points")
            };
            // Just as the service starts, the risk is the plan's own `risk_before`; as it ends, 0.
            let start = at(w.start_s);
            assert!(
                (curve.with_plan[start] - w.risk_before).abs() < 1e-9,
                "{w:?}: {}",
                curve.with_plan[start]
            );
            assert_eq!(curve.with_plan[at(w.start_s + w.duration_s)], 0.0, "{w:?}");
        }
    }
}
