//! Runs held to budgets: a plant that makes events or parts without end stops with an error that
//! says why and when, and a raised flag stops a run at once.

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use takt_model::RunLimits;
use takt_sim::{RunStopped, Simulation, run_replications};

/// A source far faster than its one machine, into an unlimited buffer: work in progress grows
/// by about 99 parts a second for as long as the run goes.
const FLOOD: &str = r#"schema_version = 1
name = "flood"
[run]
horizon = "10h"
[[products]]
name = "A"
routing = [{ station = "S", process_time = "1s" }]
[[stations]]
name = "S"
[demand.arrivals]
interarrival = { dist = "exponential", mean = 0.01 }
mix = { A = 1 }
"#;

#[test]
fn a_flooded_plant_stops_at_its_parts_budget() {
    let model = common::model(FLOOD);
    let mut sim = Simulation::new(Arc::clone(&model), 1);
    let limits = RunLimits {
        max_parts_in_plant: 50_000,
        ..RunLimits::default()
    };
    let stopped = sim.run_guarded(model.horizon_s, &limits, &[]).unwrap_err();
    let RunStopped::PartsInPlant { limit, at_s } = stopped else {
        panic!("{stopped:?}");
    };
    assert_eq!(limit, 50_000);
    // 99 parts a second pile up: the budget is met after about 505 s, not at the horizon.
    assert!((480.0..560.0).contains(&at_s), "{at_s}");
    assert!(
        sim.plant_stats().wip <= 50_000 + 4096,
        "{:?}",
        sim.plant_stats()
    );
    assert!(stopped.to_string().contains("parts in the plant"));
}

#[test]
fn a_run_stops_at_its_event_budget() {
    let model = common::model(FLOOD);
    let mut sim = Simulation::new(Arc::clone(&model), 1);
    let limits = RunLimits {
        max_events: 100_000,
        ..RunLimits::default()
    };
    match sim.run_guarded(model.horizon_s, &limits, &[]) {
        Err(RunStopped::EventBudget { limit, at_s }) => {
            assert_eq!(limit, 100_000);
            assert!(at_s < model.horizon_s, "{at_s}");
        }
        other => panic!("{other:?}"),
    }
    // Within the budgets the guarded run is the plain run, bit for bit.
    let mut guarded = Simulation::new(Arc::clone(&model), 3);
    let mut plain = Simulation::new(Arc::clone(&model), 3);
    guarded
        .run_guarded(600.0, &RunLimits::default(), &[])
        .expect("within budget");
    plain.run_until(600.0);
    assert_eq!(
        serde_json::to_string(&guarded.report()).ok(),
        serde_json::to_string(&plain.report()).ok()
    );
}

#[test]
fn a_raised_flag_stops_a_run_and_every_replication() {
    let model = common::model(FLOOD);
    let stop = AtomicBool::new(true);
    let mut sim = Simulation::new(Arc::clone(&model), 1);
    let stopped = sim.run_guarded(model.horizon_s, &RunLimits::default(), &[&stop]);
    assert!(
        matches!(stopped, Err(RunStopped::Stopped { at_s }) if at_s < 100.0),
        "{stopped:?}"
    );
    let all = run_replications(&model, 1, 8, &|| {}, Some(&stop));
    assert!(matches!(all, Err(RunStopped::Stopped { .. })), "{all:?}");
}
