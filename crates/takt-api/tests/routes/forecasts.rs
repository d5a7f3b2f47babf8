//! Twin forecasts run a bounded number at a time (`Config::forecasts`): each runs its
//! replications on every core, so a crowd of them at once (a board per screen, each asking every
//! two minutes) would only make every one slower, and all of them run out of time together. A
//! request waits for a permit, then forecasts from the twin as it is by then; the server keeps
//! serving meanwhile.

use crate::harness::*;
use serde_json::Value;

#[test]
fn a_forecast_waits_for_a_permit_while_the_server_keeps_serving() {
    let s = App::new();
    let ingested = post(
        &s,
        "/twin/events",
        None,
        &Value::Array(recording()).to_string(),
    );
    assert_eq!(ingested.status, 200, "{}", ingested.text);
    assert_eq!(
        s.server.forecasts.available_permits(),
        s.server.config.forecasts
    );
    let body = r#"{"replications": 2, "plan_replications": 0, "until": "1m"}"#;
    // Two replications of a minute take milliseconds.
    let answer = answer_after_a_permit(&s, &s.server.forecasts, || {
        post(&s, "/twin/forecast", None, body)
    });
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(
        answer.body["plant_good_at_end"]["mean"].is_number(),
        "{}",
        answer.text
    );
}
