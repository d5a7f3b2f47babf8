//! Maintenance windows: a case solved by hand (two machines of one line served by one planned stop),
//! the risk limit, located input errors, and random instances on which every plan keeps every rule
//! (checked independently) and the MILP is never worse than the greedy heuristic.

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use takt_maintenance::renewal::expected_failures;
use takt_maintenance::windows::{
    MachineInput, MaintenancePlan, ModeInput, WindowProblem, check, solve_greedy,
};
use takt_model::fit::Fit;

const HOUR: f64 = 3600.0;

fn machine(name: &str, line: &str, age_h: f64) -> MachineInput {
    MachineInput {
        name: name.into(),
        line: line.into(),
        // Wear-out: shape 3, scale 100 h.
        modes: vec![ModeInput {
            name: "wear".into(),
            lifetime: Fit::known_weibull(3.0, 100.0 * HOUR),
            age: age_h * HOUR,
            per_second: 1.0,
            production_only: false,
            failure_cost: 200.0,
        }],
        duration_buckets: 1,
        service_s: 8.0 * HOUR,
        crew: 1,
        maintenance_cost: 5.0,
    }
}

/// Six 8-hour buckets; the line stands anyway in bucket 2 (a planned stop).
fn two_machines(crew_in_stop: u32) -> WindowProblem {
    WindowProblem {
        bucket_s: 8.0 * HOUR,
        buckets: 6,
        machines: vec![machine("A", "L", 30.0), machine("B", "L", 35.0)],
        line_value: vec![("L".into(), vec![40.0, 40.0, 0.0, 40.0, 40.0, 40.0])],
        allowed: vec![true; 6],
        crew: vec![2, 2, crew_in_stop, 2, 2, 2],
        production: vec![1.0; 6],
        max_risk: 1.0,
    }
}

/// The plan's expected cost recomputed from its windows alone: per machine, the spans between
/// renewals (now, each service's end, the horizon) and their expected failures by the renewal
/// function; each service's cost; the line's value in every bucket it stands.
fn cost_of(p: &WindowProblem, plan: &MaintenancePlan) -> f64 {
    let mut cost = 0.0;
    // Per line, the spans (seconds) it stands for a service: from its start, its length.
    let mut stands: std::collections::BTreeMap<String, Vec<(f64, f64)>> = Default::default();
    let horizon = p.buckets as f64 * p.bucket_s;
    for m in &p.machines {
        let expected = |span_s: f64, fresh: bool| -> f64 {
            m.modes
                .iter()
                .map(|mode| {
                    let age = if fresh { 0.0 } else { mode.age };
                    let step = span_s * mode.per_second / 1000.0;
                    if step <= 0.0 {
                        return 0.0;
                    }
                    mode.failure_cost
                        * expected_failures(&mode.lifetime, age, step, 1000).at_step(1000)
                })
                .sum()
        };
        let mut mine: Vec<_> = plan
            .windows
            .iter()
            .filter(|w| w.machine == m.name)
            .collect();
        mine.sort_by_key(|w| w.start_bucket);
        let mut since = (0.0, false);
        for w in mine {
            cost += m.maintenance_cost + expected(w.start_s - since.0, since.1);
            // Renewed the service's length after its start, within its buckets.
            let length = m.service_s.min(w.duration_s);
            since = (w.start_s + length, true);
            stands
                .entry(m.line.clone())
                .or_default()
                .push((w.start_s, w.start_s + length));
        }
        cost += expected(horizon - since.0, since.1);
    }
    // The line's value of each bucket for the time it stands in it, its services' spans joined.
    for (line, mut spans) in stands {
        let values = &p
            .line_value
            .iter()
            .find(|(l, _)| *l == line)
            .expect("line")
            .1;
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut joined: Vec<(f64, f64)> = Vec::new();
        for (a, b) in spans {
            match joined.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => joined.push((a, b)),
            }
        }
        for (a, b) in joined {
            for (t, value) in values.iter().enumerate() {
                let (from, to) = (t as f64 * p.bucket_s, (t + 1) as f64 * p.bucket_s);
                let overlap = (b.min(to) - a.max(from)).max(0.0);
                cost += value * overlap / p.bucket_s;
            }
        }
    }
    cost
}

#[test]
fn two_machines_of_one_line_are_serviced_in_its_planned_stop() {
    let p = two_machines(2);
    let plan = solve_greedy(&p).expect("plan");
    assert_eq!(check(&p, &plan), Vec::<String>::new());
    let starts: Vec<(String, usize)> = plan
        .windows
        .iter()
        .map(|w| (w.machine.clone(), w.start_bucket))
        .collect();
    assert_eq!(starts, vec![("A".into(), 2), ("B".into(), 2)]);
    assert!((plan.expected_cost - cost_of(&p, &plan)).abs() < 1e-3 * plan.expected_cost);
    assert!(plan.expected_cost < plan.run_to_failure_cost);
}

/// P(a Weibull life of `shape`, `scale_h` fails within `span_h` after reaching `age_h`).
fn weibull_risk(shape: f64, scale_h: f64, age_h: f64, span_h: f64) -> f64 {
    let h = |t: f64| (t / scale_h).powf(shape);
    1.0 - (-(h(age_h + span_h) - h(age_h))).exp()
}

#[test]
fn each_window_states_the_risks_of_the_spans_beside_it() {
    // A at 60 h of a 100 h wear-out life, a limit that takes several services: each window's risk
    // before is the span from the renewal before it (now, at A's age, or the service before, new),
    // its risk after the span to the next service or the horizon, new, and its risk without the
    // same span from the age it would have reached without this service. Computed here from the
    // Weibull itself.
    let mut p = two_machines(2);
    p.machines = vec![machine("A", "L", 60.0)];
    p.max_risk = 0.12;
    let plan = solve_greedy(&p).expect("plan");
    assert_eq!(check(&p, &plan), Vec::<String>::new());
    assert!(plan.windows.len() >= 2, "{:?}", plan.windows);
    let horizon_h = p.buckets as f64 * 8.0;
    let hours = |s: f64| s / HOUR;
    for (k, w) in plan.windows.iter().enumerate() {
        let (since_h, age_h) = match k {
            0 => (0.0, 60.0),
            _ => {
                let before = &plan.windows[k - 1];
                (hours(before.start_s + before.duration_s), 0.0)
            }
        };
        let end_h = hours(w.start_s + w.duration_s);
        let next_h = plan
            .windows
            .get(k + 1)
            .map_or(horizon_h, |n| hours(n.start_s));
        let before = weibull_risk(3.0, 100.0, age_h, hours(w.start_s) - since_h);
        let after = weibull_risk(3.0, 100.0, 0.0, next_h - end_h);
        let without = weibull_risk(3.0, 100.0, age_h + end_h - since_h, next_h - end_h);
        for (what, plan_says, expected) in [
            ("before", w.risk_before, before),
            ("after", w.risk_after, after),
            ("without", w.risk_without, without),
        ] {
            assert!(
                (plan_says - expected).abs() < 1e-9,
                "window {k}: risk {what} {plan_says} but {expected}"
            );
        }
    }
}

#[test]
fn the_risk_limit_forces_an_early_service_or_is_reported_infeasible() {
    // B at 35 h of a 100 h wear-out life: P(fail within 8 h) = 0.036, within 16 h = 0.086; A at 30 h:
    // 0.028 and 0.068. A limit of 0.05 forces both first services into bucket 0 or 1, together (one
    // line stop). After a service in bucket 0 the 40 h left would reach 0.062, so a service in
    // bucket 0 needs another later; whichever the plan, `check` holds it to the limit.
    let mut p = two_machines(2);
    p.max_risk = 0.05;
    let plan = solve_greedy(&p).expect("plan");
    assert_eq!(check(&p, &plan), Vec::<String>::new());
    let first = |name: &str| {
        plan.windows
            .iter()
            .find(|w| w.machine == name)
            .map(|w| w.start_bucket)
    };
    assert!(
        first("A").is_some_and(|s| s <= 1) && first("A") == first("B"),
        "{:?}",
        plan.windows
    );
    for w in &plan.windows {
        assert!(w.risk_before <= 0.05 && w.risk_after <= 0.05, "{w:?}");
        assert!(w.risk_without >= w.risk_after, "{w:?}");
    }
    // Closed until bucket 3: A cannot be serviced in time.
    p.allowed = vec![false, false, false, true, true, true];
    let e = solve_greedy(&p)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.starts_with("no plan meets the risk limit 0.05: A reaches risk"),
        "{e}"
    );
}

#[test]
fn bad_input_is_refused_with_what_is_wrong() {
    let mut p = two_machines(2);
    p.crew.pop();
    let e = solve_greedy(&p).err().map(|e| e.to_string());
    assert_eq!(
        e,
        Some("allowed, crew and production need 6 buckets, have 6, 5 and 6".into())
    );
    let mut p = two_machines(2);
    p.machines[1].modes[0].failure_cost = f64::NAN;
    let e = solve_greedy(&p).err().map(|e| e.to_string());
    assert_eq!(
        e,
        Some("B (wear): failure_cost must be a number >= 0, not NaN".into())
    );
    let mut p = two_machines(2);
    p.machines[0].line = "M".into();
    let e = solve_greedy(&p).err().map(|e| e.to_string());
    assert_eq!(e, Some("A: no value for line `M`".into()));
}

fn random_problem(seed: u64) -> WindowProblem {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let buckets = 42; // two weeks of 8-hour shifts
    let lines = ["L1", "L2", "L3"];
    let machines = (0..6)
        .map(|i| {
            let duration_buckets: usize = rng.random_range(1..3);
            MachineInput {
                name: format!("M{i}"),
                line: lines[i % 3].into(),
                // A wear-out mode in calendar time and a random one counted in cycles (10 per hour).
                modes: vec![
                    ModeInput {
                        name: "wear".into(),
                        lifetime: Fit::known_weibull(
                            rng.random_range(1.2..4.0),
                            rng.random_range(150.0..600.0) * HOUR,
                        ),
                        age: rng.random_range(0.0..400.0) * HOUR,
                        per_second: 1.0,
                        production_only: false,
                        failure_cost: rng.random_range(50.0..500.0),
                    },
                    ModeInput {
                        name: "jam".into(),
                        lifetime: Fit::known_weibull(1.0, rng.random_range(500.0..5000.0)),
                        age: rng.random_range(0.0..2000.0),
                        per_second: 10.0 / HOUR,
                        production_only: false,
                        failure_cost: rng.random_range(5.0..50.0),
                    },
                ],
                duration_buckets,
                // Shorter than its buckets: renewed within its last one.
                service_s: rng.random_range(0.2..1.0) * duration_buckets as f64 * 8.0 * HOUR,
                crew: 1,
                maintenance_cost: rng.random_range(2.0..20.0),
            }
        })
        .collect();
    let line_value = lines
        .iter()
        .map(|l| {
            let values = (0..buckets)
                .map(|t| {
                    if t % 3 == 2 {
                        2.0
                    } else {
                        rng.random_range(10.0..60.0)
                    }
                })
                .collect();
            (l.to_string(), values)
        })
        .collect();
    WindowProblem {
        bucket_s: 8.0 * HOUR,
        buckets,
        machines,
        line_value,
        allowed: (0..buckets).map(|t| t % 7 != 6).collect(),
        crew: vec![1; buckets],
        production: vec![1.0; buckets],
        max_risk: 0.9,
    }
}

#[test]
fn greedy_plans_keep_every_rule_and_their_stated_cost() {
    for seed in 0..30 {
        let p = random_problem(seed);
        let plan = solve_greedy(&p).expect("plan");
        assert_eq!(check(&p, &plan), Vec::<String>::new(), "seed {seed}");
        assert!(
            (plan.expected_cost - cost_of(&p, &plan)).abs() < 2e-3 * plan.expected_cost,
            "seed {seed}"
        );
    }
}

#[cfg(feature = "milp")]
#[test]
fn the_milp_keeps_every_rule_and_is_never_worse_than_greedy() {
    use takt_maintenance::windows::solve_milp;
    // The hand-solved case, with room for one service only in the planned stop: the second one
    // goes where it costs least, and the MILP finds it.
    let p = two_machines(1);
    let milp = solve_milp(&p, 20.0).expect("milp");
    assert_eq!(check(&p, &milp), Vec::<String>::new());
    assert!(milp.expected_cost <= solve_greedy(&p).expect("greedy").expected_cost + 1e-9);
    let mut gaps = Vec::new();
    for seed in 0..12 {
        let p = random_problem(seed);
        let greedy = solve_greedy(&p).expect("greedy");
        let milp = solve_milp(&p, 20.0).expect("milp");
        assert_eq!(check(&p, &milp), Vec::<String>::new(), "seed {seed}");
        assert!(
            (milp.expected_cost - cost_of(&p, &milp)).abs() < 2e-3 * milp.expected_cost,
            "seed {seed}"
        );
        assert!(
            milp.expected_cost <= greedy.expected_cost + 1e-6,
            "seed {seed}"
        );
        gaps.push(greedy.expected_cost / milp.expected_cost - 1.0);
    }
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    eprintln!("greedy is {:.1}% above the MILP on average", 100.0 * mean);
}

#[test]
fn modes_age_in_their_own_basis_and_any_of_them_counts_for_the_risk() {
    // Weibull shape 1 is exponential: a wear mode of mean 100 h in calendar time, a jam of mean
    // 1,000 cycles at 10 cycles per hour. Over 100 h: P(wear) = P(jam) = 1 - 1/e.
    let m = MachineInput {
        name: "M".into(),
        line: "L".into(),
        modes: vec![
            ModeInput {
                name: "wear".into(),
                lifetime: Fit::known_weibull(1.0, 100.0 * HOUR),
                age: 50.0 * HOUR,
                per_second: 1.0,
                production_only: false,
                failure_cost: 100.0,
            },
            ModeInput {
                name: "jam".into(),
                lifetime: Fit::known_weibull(1.0, 1000.0),
                age: 300.0,
                per_second: 10.0 / HOUR,
                production_only: false,
                failure_cost: 10.0,
            },
        ],
        duration_buckets: 1,
        service_s: HOUR,
        crew: 1,
        maintenance_cost: 1.0,
    };
    let p = 1.0 - (-1.0f64).exp();
    let risk = m.risk(100.0 * HOUR, false);
    assert!(
        (risk - (1.0 - (1.0 - p) * (1.0 - p))).abs() < 1e-12,
        "{risk}"
    );
    // Repairs renew: exponential lives fail at a constant rate, one expected failure of each mode
    // in 100 h, whatever the age. Planned alone over 100 one-hour buckets with no service worth
    // its cost, the plan expects 1 + 1 failures at 100 + 10.
    let problem = WindowProblem {
        bucket_s: HOUR,
        buckets: 100,
        machines: vec![MachineInput {
            maintenance_cost: 1000.0,
            ..m
        }],
        line_value: vec![("L".into(), vec![0.0; 100])],
        allowed: vec![true; 100],
        crew: vec![1; 100],
        production: vec![1.0; 100],
        max_risk: 1.0,
    };
    let plan = solve_greedy(&problem).expect("plan");
    assert!(plan.windows.is_empty());
    assert!(
        (plan.machines[0].expected_failures - 2.0).abs() < 2e-3,
        "{plan:?}"
    );
    assert!((plan.expected_cost - 110.0).abs() < 0.2, "{plan:?}");
}

#[test]
fn modes_counted_in_production_time_do_not_age_off_shift() {
    // Two 8-hour shifts then a night off, twice: a cycle-counted mode at 100 cycles per
    // production hour ages 800 per shift and nothing at night; a calendar mode ages 8 h per bucket.
    let mut p = two_machines(2);
    p.production = vec![1.0, 1.0, 0.0, 1.0, 1.0, 0.0];
    let mode = |production_only| ModeInput {
        name: "m".into(),
        lifetime: Fit::known_weibull(2.0, 5000.0),
        age: 0.0,
        per_second: 100.0 / HOUR,
        production_only,
        failure_cost: 1.0,
    };
    let clock = takt_maintenance::windows::ageing(&p, &mode(true));
    let expected = [0.0, 800.0, 1600.0, 1600.0, 2400.0, 3200.0, 3200.0];
    assert!(
        clock
            .iter()
            .zip(expected)
            .all(|(a, b)| (a - b).abs() < 1e-9),
        "{clock:?}"
    );
    let clock = takt_maintenance::windows::ageing(&p, &mode(false));
    assert!((clock[6] - 4800.0).abs() < 1e-9, "{clock:?}");
}
