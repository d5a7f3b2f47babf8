//! Twin forecasts run a bounded number at a time (`Config::forecasts`): each runs its
//! replications on every core, so a crowd of them at once (a board per screen, each asking every
//! two minutes) would only make every one slower, and all of them run out of time together. A
//! request waits for a permit, then forecasts from the twin as it is by then; the server keeps
//! serving meanwhile.

use crate::harness::*;
use serde_json::Value;
use std::sync::Arc;

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

/// Boards ask for the same forecast every two minutes, and boards that open together ask
/// together: within the same plant minute (the twin's newest event), the same request is answered
/// from the last forecast, with its `Age`, and without waiting for a permit.
#[test]
fn the_same_forecast_within_a_plant_minute_is_made_once() {
    let s = App::new();
    let events = recording();
    // Up to 06:02:xx first, the rest (to 06:04:59) later.
    let (first, rest): (Vec<Value>, Vec<Value>) = events.into_iter().partition(|e| {
        e["ts"]
            .as_str()
            .is_some_and(|ts| ts < "2026-01-05T06:03:00")
    });
    let ingest = |batch: Vec<Value>| {
        let a = post(&s, "/twin/events", None, &Value::Array(batch).to_string());
        assert_eq!(a.status, 200, "{}", a.text);
    };
    ingest(first);
    let body = r#"{"replications": 2, "plan_replications": 0, "until": "1m"}"#;
    let made = post(&s, "/twin/forecast", None, body);
    assert_eq!(made.status, 200, "{}", made.text);
    assert!(made.headers.get("age").is_none());
    // Asked again while every permit is taken: answered at once, the same forecast.
    let gate = &s.server.forecasts;
    let held: Vec<_> = (0..gate.available_permits())
        .map(|_| Arc::clone(gate).try_acquire_owned().expect("a free permit"))
        .collect();
    let again = post(&s, "/twin/forecast", None, body);
    assert_eq!(again.status, 200, "{}", again.text);
    assert!(again.headers.get("age").is_some(), "{:?}", again.headers);
    assert_eq!(again.text, made.text);
    drop(held);
    // Another request is another forecast.
    let other = post(
        &s,
        "/twin/forecast",
        None,
        r#"{"replications": 3, "plan_replications": 0, "until": "1m"}"#,
    );
    assert_eq!(other.status, 200, "{}", other.text);
    assert!(other.headers.get("age").is_none());
    // Events of a later minute: the same request is forecast again, from the newer state.
    ingest(rest);
    let later = post(&s, "/twin/forecast", None, body);
    assert_eq!(later.status, 200, "{}", later.text);
    assert!(later.headers.get("age").is_none());
    assert_ne!(later.body["now"], made.body["now"], "{}", later.text);
}
