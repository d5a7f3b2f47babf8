//! A plant that locks up says so, with the moment and the machines; a plant that only blocks for a
//! while does not.

mod common;

use std::sync::Arc;
use takt_sim::Simulation;

/// Each part visits S1, S2, S1, S2, through buffers of one: S2 soon holds a part for S1 while S1
/// holds one for S2, and both buffers are full.
const LOOP: &str = r#"schema_version = 1
name = "loop"
[run]
horizon = "8h"
[[products]]
name = "A"
routing = [
  { station = "S1", process_time = "30s" },
  { station = "S2", process_time = "30s" },
  { station = "S1", process_time = "30s" },
  { station = "S2", process_time = "30s" },
]
[[stations]]
name = "S1"
input_buffer = "B1"
[[stations]]
name = "S2"
input_buffer = "B2"
[[buffers]]
name = "B1"
capacity = 1
[[buffers]]
name = "B2"
capacity = 1
[demand.arrivals]
interarrival = "20s"
mix = { A = 1 }
"#;

#[test]
fn a_cyclic_routing_that_locks_up_is_reported_with_its_moment_and_machines() {
    let model = common::model(LOOP);
    let mut sim = Simulation::new(Arc::clone(&model), 7);
    sim.run();
    let report = sim.report();
    let d = report.deadlock.expect("the loop locks up");
    assert_eq!(d.stations, ["S1", "S2"]);
    assert_eq!(d.machines, ["S1", "S2"]);
    // Constant times: the parts come back to S1 from 60 s on, while new ones arrive every 20 s;
    // within a few cycles both machines hold a part for the other's full buffer (at 138 s).
    assert!((60.0..=300.0).contains(&d.since_s), "{}", d.since_s);
    assert_eq!(report.completed, 0);
    let words = d.in_words("");
    assert!(
        words.starts_with(&format!("DEADLOCK: from {:.1} min", d.since_s / 60.0)),
        "{words}"
    );
    // Summaries of replications count them.
    let summary = takt_sim::summarize(&common::reps(&model, 4), 1);
    let deadlock = summary.deadlock.expect("counted");
    assert_eq!(deadlock.replications, 4, "{deadlock:?}");
    assert!(
        deadlock
            .in_words()
            .starts_with("DEADLOCK in 4 of 4 replications"),
    );
    // Parts every 150 s instead of every 20 s (the loop's load 0.4 instead of 3), and it flows.
    let open = common::model(&LOOP.replace(r#"interarrival = "20s""#, r#"interarrival = "150s""#));
    let mut sim = Simulation::new(open, 7);
    sim.run();
    let report = sim.report();
    assert!(report.deadlock.is_none(), "{:?}", report.deadlock);
    assert!(report.completed > 100, "{}", report.completed);
}

#[test]
fn plants_that_block_for_a_while_are_not_deadlocked() {
    // The validation line: buffers of five, failures; machines block and unblock all the time.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios");
    for name in [
        "reference-line",
        "bottling-line",
        "body-in-white",
        "forging-shop",
    ] {
        let path = std::path::Path::new(dir).join(format!("{name}.toml"));
        let model = Arc::new(takt_model::load_file(&path).expect("shipped").model);
        for seed in 0..3 {
            let mut sim = Simulation::new(Arc::clone(&model), seed);
            sim.run_until(model.horizon_s.min(8.0 * 3600.0));
            assert!(sim.deadlock().is_none(), "{name}, seed {seed}");
        }
    }
}
