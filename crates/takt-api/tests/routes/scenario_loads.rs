//! Scenarios sent in requests are parsed and compiled a bounded number at a time
//! (`Config::scenario_loads`): each holds many times its text while it is parsed, and the blocking
//! pool would otherwise run them all at once. A request waits for a permit; the server keeps
//! serving meanwhile.

use crate::harness::*;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

#[test]
fn a_scenario_waits_for_a_load_permit_while_the_server_keeps_serving() {
    let s = App::new();
    let gate = Arc::clone(&s.server.scenario_loads);
    let permits = s.server.config.scenario_loads;
    assert!(permits >= 1);
    // Every permit taken, as by scenarios being parsed.
    let held: Vec<_> = (0..permits)
        .map(|_| {
            Arc::clone(&gate)
                .try_acquire_owned()
                .expect("a free permit")
        })
        .collect();
    // What needs no scenario parsed is answered at once.
    assert_eq!(get(&s, "/twin/state", None).status, 200);
    let body = json!({ "toml": BOTTLING }).to_string();
    std::thread::scope(|scope| {
        let validating = scope.spawn(|| post(&s, "/scenarios/validate", None, &body));
        // Validating the bottling line takes a few milliseconds; it waits for a permit instead.
        std::thread::sleep(Duration::from_millis(400));
        assert!(
            !validating.is_finished(),
            "the scenario was parsed while every permit was taken"
        );
        drop(held);
        let answer = validating.join().expect("the request");
        assert_eq!(answer.status, 200, "{}", answer.text);
    });
    // The request gave its permit back.
    assert_eq!(gate.available_permits(), permits);
}
