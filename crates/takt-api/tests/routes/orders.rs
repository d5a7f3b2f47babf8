//! The live order book (`PUT /twin/orders`): days into a live plant, the scenario's orders (dated
//! from its start) are all overdue; the plant's own book, dated today, takes their place in the
//! forecast, and its orders are counted from the moment it was given.

use crate::harness::*;
use axum::http::Method;
use serde_json::{Value, json};
use std::path::Path;
use takt_api::auth::{Auth, Role};
use takt_api::plant::PlantSource;

fn put(s: &App, path: &str, token: &str, body: &Value) -> Answer {
    s.send(
        Method::PUT,
        path,
        Some(token),
        Some("application/json"),
        Some(body.to_string()),
    )
}

fn bottling(dir: tempfile::TempDir) -> App {
    let loaded = takt_model::load_str(BOTTLING, Path::new("bottling.toml"), None).expect("shipped");
    App::site(
        dir,
        Auth::Tokens(vec![
            (Role::Read, READ.to_string()),
            (Role::Write, WRITE.to_string()),
        ]),
        vec![PlantSource::named(loaded.scenario, loaded.model)],
    )
}

/// The shipped five minutes of the bottling line, two days after the scenario's start (Monday
/// 06:00): Wednesday's early shift. Split at 06:03.
fn wednesday() -> (Vec<Value>, Vec<Value>) {
    recording()
        .into_iter()
        .map(|mut e| {
            let ts = e["ts"]
                .as_str()
                .unwrap_or_default()
                .replace("2026-01-05", "2026-01-07");
            e["ts"] = Value::String(ts);
            e
        })
        .partition(|e| {
            e["ts"]
                .as_str()
                .is_some_and(|ts| ts < "2026-01-07T06:03:00")
        })
}

/// Parts waiting in `buffer`, as `GET /twin/buffers` infers them.
fn waiting(s: &App, buffer: &str) -> u64 {
    let a = get(s, "/twin/buffers", Some(READ));
    assert_eq!(a.status, 200, "{}", a.text);
    a.body["buffers"]
        .as_array()
        .and_then(|b| b.iter().find(|b| b["buffer"] == buffer))
        .and_then(|b| b["parts"].as_u64())
        .unwrap_or_else(|| panic!("no level of {buffer}: {}", a.text))
}

fn forecast(s: &App) -> Value {
    let body = r#"{"replications": 4, "plan_replications": 0, "until": "30m"}"#;
    let a = s.send(
        Method::POST,
        "/twin/forecast",
        Some(WRITE),
        Some("application/json"),
        Some(body.into()),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    a.body
}

#[test]
fn a_live_book_puts_the_forecast_on_the_plants_own_orders() {
    let s = bottling(tempfile::tempdir().expect("dir"));
    let (first, rest) = wednesday();
    let ingest = |batch: Vec<Value>| {
        let a = post(
            &s,
            "/twin/events",
            Some(WRITE),
            &Value::Array(batch).to_string(),
        );
        assert_eq!(a.status, 200, "{}", a.text);
    };
    ingest(first);
    // Before a book: the scenario's orders, every one due on Monday, so every one overdue.
    let before = forecast(&s);
    assert!(before["orders_as_of"].is_null(), "{before}");
    let orders = before["orders"].as_array().cloned().unwrap_or_default();
    assert!(!orders.is_empty());
    assert!(orders.iter().all(|o| o["overdue"] == true), "{orders:?}");
    assert_problem(&get(&s, "/twin/orders", Some(READ)), 404, "not-found");
    // The scenario's book: all of its 24,500 pieces but the few hundred made are still waiting.
    let scenarios = waiting(&s, "Filler.queue");
    assert!(scenarios > 24_000, "{scenarios}");

    // A book that does not validate: every failing field, located; nothing is kept.
    let bad = json!({"orders": [
        {"id": "WO-1", "product": "lemonade", "quantity": 10},
        {"id": "WO-1", "product": "cola-033", "quantity": 10, "good": 8, "scrap": 3,
         "due": "Wednesday noon"}
    ]});
    let refused = put(&s, "/twin/orders", WRITE, &bad);
    assert_problem(&refused, 422, "validation");
    let fields: Vec<&str> = refused.body["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        fields,
        [
            "orders[0].product",
            "orders[1].id",
            "orders[1].good",
            "orders[1].due"
        ],
        "{}",
        refused.text
    );
    let unknown = json!({"orders": [{"id": "A", "product": "cola-033", "quantity": 1, "qty": 2}]});
    assert!(put(&s, "/twin/orders", WRITE, &unknown).status / 100 == 4);
    // Giving the book is a write; reading it is not.
    let book = json!({"orders": [
        {"id": "WO-7001", "product": "cola-033", "quantity": 20000, "good": 500, "scrap": 4,
         "due": "2026-01-07T13:30:00+01:00"},
        {"id": "WO-7002", "product": "water-100", "quantity": 3000,
         "release": "2026-01-07T10:00:00+01:00", "due": "2026-01-08T14:00:00+01:00"}
    ]});
    assert_problem(&put(&s, "/twin/orders", READ, &book), 403, "forbidden");
    assert_problem(&get(&s, "/twin/orders", Some(READ)), 404, "not-found");

    let given = put(&s, "/twin/orders", WRITE, &book);
    assert_eq!(given.status, 200, "{}", given.text);
    // As of the newest event, with the pieces out of the plant by then.
    let as_of = given.body["as_of"].as_str().unwrap_or_default().to_string();
    assert!(as_of.starts_with("2026-01-07T06:02"), "{}", given.text);
    let departed_before = given.body["departed_before"]["cola-033"][0]
        .as_u64()
        .expect("a count");
    assert_eq!(get(&s, "/twin/orders", Some(READ)).body, given.body);

    // In front of the Filler: what WO-7001 has left to start (20,000 - 504 done, less the few
    // pieces on the machines), none of the scenario's 24,500, and nothing of WO-7002 yet.
    let at_book = waiting(&s, "Filler.queue");
    assert!((19_490..=19_496).contains(&at_book), "{at_book}");
    ingest(rest);
    assert!(waiting(&s, "Filler.queue") < at_book);
    let after = forecast(&s);
    assert_eq!(after["orders_as_of"], as_of.as_str(), "{after}");
    let ids: Vec<&str> = after["orders"]
        .as_array()
        .map(|o| o.iter().filter_map(|o| o["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["WO-7001", "WO-7002"]);
    for o in after["orders"].as_array().into_iter().flatten() {
        assert_eq!(o["overdue"], false, "{o}");
        assert!(o["plan_p_on_time"].is_null(), "{o}");
    }
    // WO-7001 has what it had done, and every cola-033 piece out since the book.
    let state = &after["initial_state"];
    let wo = state["orders"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["order"] == "WO-7001"))
        .cloned()
        .unwrap_or_default();
    let good = wo["good"].as_u64().expect("good pieces");
    assert!(good > 500, "no piece counted since the book: {wo}");
    assert!(departed_before > 0, "{}", given.text);
    // The second order is released only at 10:00: none of its parts are in the plant yet.
    let in_plant = |id: &str| {
        state["buffers"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|b| b["parts"].as_array().cloned().unwrap_or_default())
            .filter(|p| p["order"] == id)
            .count()
    };
    assert_eq!(in_plant("WO-7002"), 0);
    assert!(in_plant("WO-7001") > 0, "{state}");

    // The same under the plant's own path, and after a restart.
    let plants = get(&s, "/plants", Some(READ));
    let id = plants.body["plants"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let own = get(&s, &format!("/plants/{id}/twin/orders"), Some(READ));
    assert_eq!(own.body, given.body);
    let again = bottling(s.close());
    assert_eq!(get(&again, "/twin/orders", Some(READ)).body, given.body);

    // Dropped, the plant is back on the scenario's orders: the forecast, the buffer levels.
    let by_reader = again.send(Method::DELETE, "/twin/orders", Some(READ), None, None);
    assert_problem(&by_reader, 403, "forbidden");
    for _ in 0..2 {
        let dropped = delete(&again, "/twin/orders");
        assert_eq!(dropped.status, 204, "{}", dropped.text);
        assert_problem(&get(&again, "/twin/orders", Some(READ)), 404, "not-found");
    }
    // The scenario's 24,500 pieces less those made in all five minutes (more than at first).
    let back_on_scenarios = waiting(&again, "Filler.queue");
    assert!(
        (scenarios - 2_000..scenarios).contains(&back_on_scenarios),
        "{back_on_scenarios} against {scenarios} before the events after 06:03"
    );
    let back = forecast(&again);
    assert!(back["orders_as_of"].is_null(), "{back}");
    let orders = back["orders"].as_array().cloned().unwrap_or_default();
    assert!(!orders.is_empty());
    assert!(
        orders
            .iter()
            .all(|o| o["id"].as_str().is_some_and(|id| !id.starts_with("WO-"))),
        "{orders:?}"
    );
    // A book given again is the new one, not a copy kept from before.
    let mut smaller = book.clone();
    smaller["orders"]
        .as_array_mut()
        .expect("orders")
        .truncate(1);
    assert_eq!(put(&again, "/twin/orders", WRITE, &smaller).status, 200);
    let now = get(&again, "/twin/orders", Some(READ));
    assert_eq!(
        now.body["orders"].as_array().map(Vec::len),
        Some(1),
        "{}",
        now.text
    );
}
