//! Scenarios sent in requests are parsed and compiled a bounded number at a time
//! (`Config::scenario_loads`): each holds many times its text while it is parsed, and the blocking
//! pool would otherwise run them all at once. A request waits for a permit; the server keeps
//! serving meanwhile.

use crate::harness::*;
use serde_json::json;

#[test]
fn a_scenario_waits_for_a_load_permit_while_the_server_keeps_serving() {
    let s = App::new();
    assert_eq!(
        s.server.scenario_loads.available_permits(),
        s.server.config.scenario_loads
    );
    let body = json!({ "toml": BOTTLING }).to_string();
    // Validating the bottling line takes a few milliseconds.
    let answer = answer_after_a_permit(&s, &s.server.scenario_loads, || {
        post(&s, "/scenarios/validate", None, &body)
    });
    assert_eq!(answer.status, 200, "{}", answer.text);
}
