//! Alerts through the API: the default rules raise a stop that lasts 10 minutes, the list and the
//! stream show it, a shift leader (an operate token) acknowledges it, and a webhook that fails once gets
//! it on the retry.

use crate::harness::{App, OPERATE, READ, WRITE, assert_problem, get, post};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The Filler stops at 06:00 and stays down; the CasePacker counts at `minute`.
fn stop_and_count(minute: u32) -> (String, String) {
    let stop = json!([{"ts": "2026-01-05T06:00:00.000+01:00", "asset": "Filler", "seq": 900001,
        "kind": "state", "state": "UNPLANNED_DOWN", "reason": "breakdown"}]);
    let count = json!([{"ts": format!("2026-01-05T06:{minute:02}:00.000+01:00"), "asset": "CasePacker",
        "seq": 900002 + u64::from(minute), "kind": "count", "good": 1}]);
    (stop.to_string(), count.to_string())
}

fn open_alerts(app: &App) -> Vec<Value> {
    let a = get(app, "/twin/alerts?open=true", Some(READ));
    assert_eq!(a.status, 200, "{}", a.text);
    a.body["alerts"].as_array().expect("alerts").clone()
}

#[test]
fn a_long_stop_is_listed_streamed_and_acknowledged() {
    let app = App::with_tokens();
    // The rules in force: the defaults, in words.
    let list = get(&app, "/twin/alerts", Some(READ));
    let rules = list.body["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 3, "{}", list.text);
    assert_eq!(rules[0]["when"], "down");
    assert_eq!(
        rules[0]["description"],
        "a machine in UNPLANNED_DOWN longer than 10 min"
    );
    let (stop, count) = stop_and_count(5);
    assert_eq!(post(&app, "/twin/events", Some(WRITE), &stop).status, 200);
    assert_eq!(post(&app, "/twin/events", Some(WRITE), &count).status, 200);
    assert!(open_alerts(&app).is_empty(), "5 minutes is not 10");
    // The stream is open when the alert is raised: it carries it as an `alert` event.
    let streamed = std::thread::scope(|scope| {
        let reader = scope.spawn(|| app.read_stream("/twin/stream", "event: alert"));
        std::thread::sleep(Duration::from_millis(300));
        let (_, later) = stop_and_count(11);
        assert_eq!(post(&app, "/twin/events", Some(WRITE), &later).status, 200);
        reader.join().expect("reader")
    });
    let data = streamed
        .split("event: alert")
        .nth(1)
        .and_then(|rest| rest.lines().find_map(|l| l.strip_prefix("data: ")))
        .expect("an alert event");
    let event: Value = serde_json::from_str(data).expect("json");
    assert_eq!(event["change"], "raised");
    assert_eq!(event["alert"]["asset"], "Filler");
    let open = open_alerts(&app);
    assert_eq!(open.len(), 1, "{open:?}");
    let alert = &open[0];
    assert_eq!(alert["kind"], "down");
    assert_eq!(alert["severity"], "critical");
    assert_eq!(alert["id"], event["alert"]["id"]);
    assert!(
        alert["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Filler down (breakdown) since 2026-01-05 06:00")),
        "{alert}"
    );
    let id = alert["id"].as_u64().expect("id");
    // Acknowledging needs a shift leader's (operate) or a write token, a name, and an alert that
    // exists.
    let path = format!("/twin/alerts/{id}/acknowledge");
    let body = r#"{"by": "shift leader A. Meyer", "note": "fitter on the way"}"#;
    assert_problem(&post(&app, &path, Some(READ), body), 403, "forbidden");
    assert_problem(
        &post(&app, &path, Some(WRITE), r#"{"by": "  "}"#),
        422,
        "validation",
    );
    assert_problem(
        &post(&app, &path, Some(WRITE), r#"{"by": "x", "urgent": true}"#),
        422,
        "validation",
    );
    assert_problem(
        &post(&app, "/twin/alerts/999/acknowledge", Some(WRITE), body),
        404,
        "not-found",
    );
    let ack = post(&app, &path, Some(OPERATE), body);
    assert_eq!(ack.status, 200, "{}", ack.text);
    assert_eq!(ack.body["acknowledged"]["by"], "shift leader A. Meyer");
    assert_eq!(
        open_alerts(&app)[0]["acknowledged"]["note"],
        "fitter on the way"
    );
    assert_problem(
        &get(&app, "/twin/alerts?limit=0", Some(READ)),
        422,
        "validation",
    );
    // Running again: cleared, and listed with all, no longer open.
    let running = json!([{"ts": "2026-01-05T06:14:00.000+01:00", "asset": "Filler", "seq": 900100,
        "kind": "state", "state": "RUNNING"}]);
    assert_eq!(
        post(&app, "/twin/events", Some(WRITE), &running.to_string()).status,
        200
    );
    assert!(open_alerts(&app).is_empty());
    let all = get(&app, "/twin/alerts", Some(READ));
    assert_eq!(all.body["alerts"][0]["id"], id);
    assert!(all.body["alerts"][0]["cleared_ms"].as_i64().is_some());
}

#[test]
fn a_webhook_that_fails_once_gets_the_alert_on_the_retry() {
    let app = App::new();
    // A receiver on loopback: 503 to the first call, 200 after; it keeps every body.
    let calls: Arc<Mutex<Vec<Value>>> = Arc::default();
    let listener = app.within(|| {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.set_nonblocking(true).expect("nonblocking");
        tokio::net::TcpListener::from_std(l).expect("listener")
    });
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::clone(&calls);
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::Json<Value>| {
            let seen = Arc::clone(&seen);
            async move {
                let mut calls = seen.lock().expect("lock");
                calls.push(body.0);
                if calls.len() == 1 {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    app.spawn(async move { axum::serve(listener, receiver).await });
    app.within(|| {
        takt_api::alerts::spawn_webhook(app.server.plant(), format!("http://{addr}/hook"))
    });
    let (stop, count) = stop_and_count(12);
    assert_eq!(post(&app, "/twin/events", None, &stop).status, 200);
    assert_eq!(post(&app, "/twin/events", None, &count).status, 200);
    let started = Instant::now();
    while calls.lock().expect("lock").len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no retry: {:?}",
            calls.lock().expect("lock")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let calls = calls.lock().expect("lock").clone();
    // The same notification twice: refused, then delivered after the first backoff.
    assert_eq!(calls[0], calls[1]);
    assert_eq!(calls[1]["change"], "raised");
    assert_eq!(calls[1]["plant"], "Bottling line - one shift");
    assert_eq!(calls[1]["alert"]["asset"], "Filler");
    assert_eq!(calls[1]["alert"]["kind"], "down");
}
