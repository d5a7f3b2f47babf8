//! Twin forecasts run a bounded number at a time (`Config::forecasts`): each runs its
//! replications on every core, so a crowd of them at once (a board per screen, each asking every
//! two minutes) would only make every one slower, and all of them run out of time together. A
//! request waits for a permit, then forecasts from the twin as it is by then; the server keeps
//! serving meanwhile.

use crate::harness::*;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

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
    let gate = Arc::clone(&s.server.forecasts);
    let permits = s.server.config.forecasts;
    assert!(permits >= 1);
    // Every permit taken, as by forecasts running.
    let held: Vec<_> = (0..permits)
        .map(|_| {
            Arc::clone(&gate)
                .try_acquire_owned()
                .expect("a free permit")
        })
        .collect();
    // What needs no forecast is answered at once.
    assert_eq!(get(&s, "/twin/state", None).status, 200);
    let body = r#"{"replications": 2, "plan_replications": 0, "until": "1m"}"#;
    std::thread::scope(|scope| {
        let forecasting = scope.spawn(|| post(&s, "/twin/forecast", None, body));
        // Two replications of a minute take milliseconds; it waits for a permit instead.
        std::thread::sleep(Duration::from_millis(400));
        assert!(
            !forecasting.is_finished(),
            "the forecast ran while every permit was taken"
        );
        drop(held);
        let answer = forecasting.join().expect("the request");
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert!(
            answer.body["plant_good_at_end"]["mean"].is_number(),
            "{}",
            answer.text
        );
    });
    // The request gave its permit back.
    assert_eq!(gate.available_permits(), permits);
}
