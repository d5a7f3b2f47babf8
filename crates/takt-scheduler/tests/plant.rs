//! Scheduling a plant's order book, across crates: the scenario becomes a shop problem, every solver's
//! schedule passes the independent checker (setups, shift breaks, maintenance, releases), and the
//! simulator, following the plan with every random element switched off, finishes each order exactly
//! when the plan says - the plan's arithmetic and the engine's plan mode check each other.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use takt_model::{Model, load_str};
use takt_scheduler::dispatch::{Rule, dispatch};
use takt_scheduler::objective::Objective;
use takt_scheduler::plant::{PlantError, from_model};
use takt_scheduler::robustness::{plan_of, run_plan};
use takt_scheduler::tabu::{Limits, solve};
use takt_scheduler::{Schedule, check, decode};

/// Two presses with changeovers and a daily maintenance window, a mill or a lathe, a packing bench
/// that works around the clock; two shifts on weekdays with a break; nine orders over a week.
fn scenario(randomness: &str) -> String {
    format!(
        r#"
schema_version = 1
name = "plan check"
[run]
start = 2026-01-05T00:00:00+00:00
horizon = "2w"
seed = 7

[[products]]
name = "A"
routing = [
  {{ station = "Press", process_time = "30s" {scrap} }},
  {{ stations = ["Mill", "Lathe"], process_time = "45s" }},
  {{ station = "Pack", process_time = "10s" }},
]
[[products]]
name = "B"
routing = [
  {{ station = "Press", process_time = "20s" }},
  {{ station = "Mill", process_time = {mill} }},
  {{ station = "Pack", process_time = "12s" }},
]

[[stations]]
name = "Press"
machines = 2
changeover = {{ default = "30m", matrix = [{{ from = "A", to = "B", time = "10m" }}] }}
maintenance = {{ interval = "1d", first = "10h", duration = "2h" }}
{failures}

[[stations]]
name = "Mill"
changeover = {{ default = "15m" }}

[[stations]]
name = "Lathe"

[[stations]]
name = "Pack"
follows_calendar = false

[calendar]
shifts = [
  {{ name = "early", days = "mon-fri", start = "06:00", end = "14:00" }},
  {{ name = "late", days = "mon-fri", start = "14:00", end = "22:00" }},
]
breaks = [{{ days = "mon-fri", start = "12:00", duration = "30m" }}]

[demand]
orders = [
  {{ id = "O1", product = "A", quantity = 400, release = "0h", due = "30h" }},
  {{ id = "O2", product = "B", quantity = 300, release = "0h", due = "40h" }},
  {{ id = "O3", product = "A", quantity = 250, release = "6h", due = "34h", priority = 3 }},
  {{ id = "O4", product = "B", quantity = 500, release = "10h", due = "60h" }},
  {{ id = "O5", product = "A", quantity = 600, release = "24h", due = "55h" }},
  {{ id = "O6", product = "B", quantity = 200, release = "26h", due = "50h", priority = 2 }},
  {{ id = "O7", product = "A", quantity = 350, release = "30h", due = "80h" }},
  {{ id = "O8", product = "B", quantity = 450, release = "48h", due = "90h" }},
  {{ id = "O9", product = "A", quantity = 300, release = "50h", due = "100h" }},
]
"#,
        scrap = randomness_field(randomness, ", scrap = 0.03"),
        mill = if randomness.is_empty() {
            "\"60s\"".to_string()
        } else {
            "{ dist = \"lognormal\", mean = \"60s\", sd = \"20s\" }".to_string()
        },
        failures = randomness_field(
            randomness,
            "failures = [{ name = \"jam\", ttf = { dist = \"exponential\", mean = \"6h\" }, ttr = { dist = \"exponential\", mean = \"40m\" } }]"
        ),
    )
}

fn randomness_field(randomness: &str, text: &str) -> String {
    if randomness.is_empty() {
        String::new()
    } else {
        text.to_string()
    }
}

fn model(randomness: &str) -> Model {
    match load_str(&scenario(randomness), Path::new("plan-check.toml"), None) {
        Ok(l) => l.model,
        Err(e) => panic!("{e}"),
    }
}

fn limits(iterations: u64) -> Limits {
    Limits {
        time: Duration::from_secs(60),
        iterations,
    }
}

fn feasible(p: &takt_scheduler::ShopProblem, s: &takt_scheduler::Solution) -> Schedule {
    let schedule = decode(p, s).expect("acyclic");
    let v = check(p, &schedule);
    assert!(v.is_empty(), "{v:?}");
    schedule
}

#[test]
fn every_solver_schedules_the_order_book_feasibly() {
    let m = model("");
    let plant = from_model(&m).expect("plant problem");
    let p = &plant.problem;
    p.validate().expect("valid");
    assert_eq!(p.machines, 5);
    assert_eq!(p.machine_names[0], "Press.1");
    assert!(
        p.breaks[0].len() > 5,
        "shifts and maintenance lay out breaks"
    );
    assert!(p.breaks[4].is_empty(), "Pack works around the clock");
    for rule in [
        Rule::MostWorkRemaining,
        Rule::EarliestDueDate,
        Rule::ShortestProcessing,
        Rule::Atcs,
    ] {
        feasible(p, &dispatch(p, rule));
    }
    for objective in [
        "makespan",
        "tardiness",
        "late,tardiness",
        "tardiness+0.2*setup",
    ] {
        let o: Objective = objective.parse().expect("objective");
        let s = feasible(p, &solve(p, &o, 3, 2, limits(300)));
        // The search never ends worse than the best dispatching rule it starts from.
        let best_rule = [
            Rule::MostWorkRemaining,
            Rule::EarliestDueDate,
            Rule::ShortestProcessing,
            Rule::Atcs,
        ]
        .into_iter()
        .map(|r| decode(p, &dispatch(p, r)).expect("acyclic"))
        .map(|d| (d.late_jobs(p), d.total_weighted_tardiness(p), d.makespan()))
        .collect::<Vec<_>>();
        match objective {
            "makespan" => assert!(s.makespan() <= best_rule.iter().map(|b| b.2).min().unwrap_or(0)),
            "tardiness" => assert!(
                s.total_weighted_tardiness(p)
                    <= best_rule.iter().map(|b| b.1).fold(f64::INFINITY, f64::min)
            ),
            _ => {}
        }
    }
}

#[test]
fn the_simulator_following_the_plan_finishes_each_order_when_planned() {
    let m = Arc::new(model(""));
    let plant = from_model(&m).expect("plant problem");
    let p = &plant.problem;
    let o: Objective = "tardiness".parse().expect("objective");
    let schedule = feasible(p, &solve(p, &o, 1, 1, limits(200)));
    let planned = schedule.completions(p);
    let plan = plan_of(&plant, &schedule);
    let outcome = run_plan(&m, &plan, 11, 0, 30.0 * 86_400.0).expect("plan runs");
    assert_eq!(outcome.unfinished, 0);
    for (j, c) in outcome.completions_s.iter().enumerate() {
        assert_eq!(
            *c,
            Some(planned[j] as f64),
            "order {} completes in the simulator at {c:?}, planned {}",
            p.jobs[j].name,
            planned[j]
        );
    }
    assert_eq!(outcome.late_orders as usize, schedule.late_jobs(p));
    assert!(
        (outcome.weighted_tardiness_s - schedule.total_weighted_tardiness(p)).abs() < 1e-6,
        "{} vs {}",
        outcome.weighted_tardiness_s,
        schedule.total_weighted_tardiness(p)
    );
}

#[test]
fn with_failures_and_scrap_the_plan_still_completes_and_is_reproducible() {
    let m = Arc::new(model("random"));
    let plant = from_model(&m).expect("plant problem");
    let p = &plant.problem;
    let schedule = feasible(p, &solve(p, &Objective::makespan(), 1, 1, limits(100)));
    let plan = plan_of(&plant, &schedule);
    let cap = 60.0 * 86_400.0;
    let runs: Vec<_> = (0..6)
        .map(|r| run_plan(&m, &plan, 5, r, cap).expect("plan runs"))
        .collect();
    for r in &runs {
        assert_eq!(r.unfinished, 0, "scrap shrinks lots; nothing waits forever");
        // Failures only delay: no run beats the plan by more than the process-time noise allows.
        assert!(
            r.makespan_s
                .is_some_and(|ms| ms > 0.5 * schedule.makespan() as f64)
        );
    }
    assert!(
        runs.windows(2).any(|w| w[0].makespan_s != w[1].makespan_s),
        "replications differ"
    );
    assert_eq!(runs[3], run_plan(&m, &plan, 5, 3, cap).expect("plan runs"));
}

#[test]
fn a_scenario_without_orders_is_refused_and_a_broken_plan_too() {
    let full = scenario("");
    let head = full.split("[demand]").next().unwrap_or_default();
    let text =
        format!("{head}[demand]\narrivals = {{ interarrival = \"1m\", mix = {{ A = 1 }} }}\n");
    let loaded = load_str(&text, Path::new("x.toml"), None).expect("a valid scenario");
    assert_eq!(from_model(&loaded.model).err(), Some(PlantError::NoOrders));
    // Lots of no time: named, not an "internal error" about the plan afterwards.
    let mut zero = model("");
    for p in &mut zero.products {
        for step in &mut p.routing {
            step.process_mean_s = 0.0;
        }
    }
    match from_model(&zero) {
        Err(e @ PlantError::NoWork { .. }) => {
            assert!(e.to_string().contains("takes no time"), "{e}")
        }
        other => panic!("{:?}", other.err()),
    }
    let m = Arc::new(model(""));
    let plant = from_model(&m).expect("plant problem");
    let schedule = feasible(
        &plant.problem,
        &dispatch(&plant.problem, Rule::EarliestDueDate),
    );
    let mut plan = plan_of(&plant, &schedule);
    let lot = plan.lots[0].pop().expect("a lot on press 1");
    assert!(run_plan(&m, &plan, 1, 0, 1e6).is_err(), "a lot left out");
    plan.lots[2].push(lot);
    let err = run_plan(&m, &plan, 1, 0, 1e6).expect_err("press lot on the mill");
    assert!(err.to_string().contains("not eligible"), "{err}");
}

/// The aggregate plan (an LP through HiGHS) is a relaxation of every detailed schedule: its weighted
/// lateness is at most that of a detailed schedule counted by the end of the bucket each order
/// completes in. Every step is planned once, within capacity, never ahead of the step before it.
#[cfg(feature = "milp")]
#[test]
fn the_aggregate_plan_is_a_capacity_feasible_relaxation() {
    use takt_scheduler::aggregate::plan;
    let m = model("");
    let plant = from_model(&m).expect("plant problem");
    let p = &plant.problem;
    let names: Vec<String> = m.stations.iter().map(|s| s.name.clone()).collect();
    let bucket = 8 * 3600;
    let agg = plan(&plant, &names, bucket, 6 * 3600).expect("aggregate plan");
    assert_eq!(
        agg.bucket_starts_s[0],
        -2 * 3600,
        "aligned to 06:00, covering t = 0"
    );
    for g in &agg.groups {
        for (w, c) in g.work_s.iter().zip(&g.capacity_s) {
            assert!(*w <= c + 1e-6, "{}: {w} > {c}", g.group);
        }
    }
    for o in &agg.orders {
        let mut before: Option<Vec<(usize, f64)>> = None;
        for step in &o.steps {
            let total: f64 = step.iter().map(|s| s.1).sum();
            assert!((total - 1.0).abs() < 1e-6, "{}: {total}", o.order);
            if let Some(prev) = &before {
                for b in 0..agg.bucket_starts_s.len() {
                    let cum = |s: &[(usize, f64)]| {
                        s.iter().filter(|x| x.0 <= b).map(|x| x.1).sum::<f64>()
                    };
                    assert!(
                        cum(step) <= cum(prev) + 1e-6,
                        "{} ahead of its previous step",
                        o.order
                    );
                }
            }
            before = Some(step.clone());
        }
    }
    let detailed = feasible(
        p,
        &solve(
            p,
            &"tardiness".parse().expect("objective"),
            1,
            1,
            limits(200),
        ),
    );
    let completions = detailed.completions(p);
    let bound: f64 = p
        .jobs
        .iter()
        .zip(&completions)
        .filter_map(|(j, &c)| {
            let due = j.due?;
            let b = agg.bucket_starts_s.partition_point(|&s| s < c).max(1) - 1;
            let end = agg.bucket_starts_s[0] + (b as i64 + 1) * bucket;
            Some(j.weight * (end - due).max(0) as f64)
        })
        .sum();
    let slack = p.n_ops() as f64 * 1e-3 * bucket as f64;
    assert!(
        agg.objective <= bound + slack,
        "{} > {bound}",
        agg.objective
    );
}

#[cfg(feature = "milp")]
#[test]
fn the_aggregate_plan_matches_a_hand_solved_case() {
    use takt_scheduler::aggregate::plan;
    use takt_scheduler::plant::PlantProblem;
    use takt_scheduler::{Job, Operation, ShopProblem};
    // One machine, two orders of 6 h due at 8 h, buckets of 8 h: 4 h must spill into the second
    // bucket, late by 8 h for 2/3 of a lot: 16/3 h.
    let job = |name: &str| Job {
        name: name.into(),
        release: 0,
        due: Some(8 * 3600),
        weight: 1.0,
        operations: vec![Operation {
            alternatives: vec![(0, 6 * 3600)],
        }],
    };
    let plant = PlantProblem {
        problem: ShopProblem::new("hand", 1, vec![job("a"), job("b")]),
        machines: vec![(0, 0)],
    };
    let agg = plan(&plant, &["M".into()], 8 * 3600, 0).expect("plan");
    assert!(
        (agg.objective - 16.0 / 3.0 * 3600.0).abs() < 1.0,
        "{}",
        agg.objective
    );
    assert_eq!(agg.groups[0].work_s.len(), 2);
}

/// A plant of many products keeps its setups sparse (a default and the pairs written) and answers
/// every pair as the scenario's changeover means do; a few products keep a dense table.
#[test]
fn setups_of_many_products_are_kept_sparse_and_answer_every_pair() {
    for n in [3, 90] {
        let mut text = String::from(
            "schema_version = 1\nname = \"many products\"\n[run]\nstart = 2026-01-05T00:00:00+00:00\n\
             horizon = \"1w\"\n[[stations]]\nname = \"Press\"\nchangeover = { default = \"10m\", matrix = [\n",
        );
        // Every seventh pair written, and one of them twice (the last counts).
        for a in 0..n {
            for b in (0..n).filter(|&b| b != a && (a * n + b) % 7 == 0) {
                text.push_str(&format!(
                    "  {{ from = \"P{a}\", to = \"P{b}\", time = \"{}s\" }},\n",
                    60 + a * 3 + b
                ));
            }
        }
        text.push_str("  { from = \"P0\", to = \"P1\", time = \"5s\" },\n  { from = \"P0\", to = \"P1\", time = \"6s\" },\n] }\n");
        for a in 0..n {
            text.push_str(&format!(
                "[[products]]\nname = \"P{a}\"\nrouting = [{{ station = \"Press\", process_time = \"1s\" }}]\n"
            ));
        }
        for i in 0..2 * n {
            text.push_str(&format!(
                "[[demand.orders]]\nid = \"O{i}\"\nproduct = \"P{}\"\nquantity = 10\n",
                i % n
            ));
        }
        let loaded = load_str(&text, Path::new("many.toml"), None).expect("loads");
        let model = loaded.model;
        let plant = from_model(&model).expect("a problem");
        let p = &plant.problem;
        p.validate().expect("valid");
        let setups = p.setups.as_ref().expect("setups");
        assert_eq!(
            matches!(setups.tables[0], takt_scheduler::SetupTable::Sparse { .. }),
            n > 64
        );
        let c = model.stations[0].changeover.as_ref().expect("changeover");
        // Operation i is order i's only step: its class is its product.
        for a in 0..2 * n {
            for b in 0..2 * n {
                let want = c
                    .mean_between_s(model.orders[a].product, model.orders[b].product)
                    .round() as i64;
                assert_eq!(p.setup(0, Some(a), b), want, "{n} products: {a} -> {b}");
            }
        }
        assert_eq!(p.setup(0, Some(0), 1), 6);
        let s = decode(p, &dispatch(p, Rule::Atcs)).expect("acyclic");
        assert!(check(p, &s).is_empty());
    }
}
