//! A site of several plants on one server: each plant's twin at `/plants/{plant}/twin/…` with its
//! own events and store, the default plant at `/twin/…` too.

use crate::harness::*;
use serde_json::Value;
use std::path::Path;
use takt_api::auth::Auth;
use takt_api::plant::PlantSource;

fn plant(id: &str, text: &str) -> PlantSource {
    let loaded = takt_model::load_str(text, Path::new("plant.toml"), None).expect("shipped");
    PlantSource {
        id: id.into(),
        scenario: loaded.scenario,
        model: loaded.model,
        alert_rules: None,
    }
}

fn site(dir: tempfile::TempDir) -> App {
    App::site(
        dir,
        Auth::Insecure,
        vec![
            plant("bottling", BOTTLING),
            plant("body-shop", BODY_IN_WHITE),
        ],
    )
}

fn accepted(app: &App, path: &str) -> u64 {
    let a = get(app, path, None);
    assert_eq!(a.status, 200, "{path}: {}", a.text);
    a.body["counters"]["accepted"].as_u64().expect("a count")
}

#[test]
fn each_plant_of_a_site_has_its_own_twin_and_store() {
    let app = site(tempfile::tempdir().expect("dir"));
    let events = Value::Array(recording()).to_string();
    let n = recording().len() as u64;

    // The bottling line's events are the body shop's unknown assets: refused there, each named.
    let refused = post(&app, "/plants/body-shop/twin/events", None, &events);
    assert_eq!(refused.status, 200, "{}", refused.text);
    assert_eq!(refused.body["accepted"], 0);
    let rejected = refused.body["rejected"].as_array().expect("rejected");
    assert_eq!(rejected.len() as u64, n);
    assert!(
        rejected[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("Filler")),
        "{}",
        rejected[0]
    );
    let taken = post(&app, "/plants/bottling/twin/events", None, &events);
    assert_eq!(taken.body["accepted"].as_u64(), Some(n), "{}", taken.text);

    // The default plant is the same twin at both addresses; the other one saw none of it.
    assert_eq!(accepted(&app, "/twin/state"), n);
    assert_eq!(
        get(&app, "/twin/state", None).text,
        get(&app, "/plants/bottling/twin/state", None).text
    );
    assert_eq!(accepted(&app, "/plants/body-shop/twin/state"), 0);
    let layout = get(&app, "/plants/body-shop/twin/layout", None);
    let stations: Vec<&str> = layout.body["stations"]
        .as_array()
        .expect("stations")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(stations.contains(&"Press"), "{stations:?}");
    assert!(!get(&app, "/twin/layout", None).text.contains("\"Press\""));

    // The list names both, the default first, with what each has seen.
    let list = get(&app, "/plants", None);
    assert_eq!(list.status, 200, "{}", list.text);
    let plants = list.body["plants"].as_array().expect("plants");
    let ids: Vec<&str> = plants.iter().filter_map(|p| p["id"].as_str()).collect();
    assert_eq!(ids, ["bottling", "body-shop"]);
    assert_eq!(plants[0]["default"], true);
    assert_eq!(plants[1]["default"], false);
    assert_eq!(plants[0]["events_accepted"].as_u64(), Some(n));
    assert_eq!(plants[1]["events_accepted"], 0);
    assert!(plants[1]["newest_event"].is_null());
    assert_eq!(plants[0]["name"], "Bottling line - one shift");

    // An unknown plant is a 404 that lists the site's plants, on every twin route.
    for path in [
        "/plants/paint-shop/twin/state",
        "/plants/Bottling/twin/kpis",
        "/plants/..%2F..%2Fetc/twin/state",
    ] {
        let a = get(&app, path, None);
        assert_problem(&a, 404, "not-found");
        assert!(
            a.body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("bottling, body-shop")),
            "{}",
            a.text
        );
    }
    let a = post(
        &app,
        "/plants/paint-shop/twin/alerts/1/acknowledge",
        None,
        r#"{"by":"Ann"}"#,
    );
    assert_problem(&a, 404, "not-found");

    // Each plant judges its own rules (the defaults, for its own machines).
    let alerts = get(&app, "/plants/body-shop/twin/alerts", None);
    assert_eq!(alerts.status, 200, "{}", alerts.text);
    let assets = alerts.body["rules"].to_string();
    assert!(
        assets.contains("Press") && !assets.contains("Filler"),
        "{assets}"
    );
    let a = post(
        &app,
        "/plants/body-shop/twin/alerts/999/acknowledge",
        None,
        r#"{"by":"Ann"}"#,
    );
    assert_problem(&a, 404, "not-found");

    // Metrics carry the plant.
    let metrics = get(&app, "/metrics", None).text;
    for line in [
        format!("takt_twin_events_accepted_total{{plant=\"bottling\"}} {n}"),
        "takt_twin_events_accepted_total{plant=\"body-shop\"} 0".to_string(),
        format!("takt_twin_events_rejected_total{{plant=\"body-shop\"}} {n}"),
    ] {
        assert!(metrics.contains(&line), "{line} missing:\n{metrics}");
    }
    assert!(metrics.contains(
        "takt_http_requests_total{method=\"GET\",route=\"/plants/{plant}/twin/state\",status=\"200\"}"
    ));

    // A maintenance plan from a twin names a plant the site has.
    let bad = post(
        &app,
        "/maintenance-plans",
        None,
        r#"{"from_twin": true, "plant": "paint-shop"}"#,
    );
    assert_problem(&bad, 422, "validation");
    assert!(bad.text.contains("\"plant\""), "{}", bad.text);

    // Opened again, each plant's events come back from its own store.
    let dir = app.close();
    assert!(dir.path().join("twin.sqlite").exists());
    assert!(dir.path().join("twin-body-shop.sqlite").exists());
    let again = site(dir);
    assert_eq!(accepted(&again, "/plants/bottling/twin/state"), n);
    assert_eq!(accepted(&again, "/plants/body-shop/twin/state"), 0);
}

#[test]
fn a_site_refuses_plants_it_cannot_address() {
    let open = |plants| {
        let dir = tempfile::tempdir().expect("dir");
        let config = takt_api::Config::new(
            "127.0.0.1:0".parse().expect("addr"),
            dir.path().into(),
            Auth::Insecure,
        );
        takt_api::Server::open_site(config, plants).map(|_| ())
    };
    let twice = open(vec![plant("line", BOTTLING), plant("line", BODY_IN_WHITE)]);
    assert!(
        twice
            .as_ref()
            .is_err_and(|e| e.to_string().contains("two plants have the id `line`")),
        "{twice:?}"
    );
    let bad = open(vec![plant("Line 1", BOTTLING)]);
    assert!(
        bad.as_ref()
            .is_err_and(|e| e.to_string().contains("plant id `Line 1`")),
        "{bad:?}"
    );
    assert!(open(vec![]).is_err());
}

/// Tokens are the site's: a shift leader's operate token runs any plant's forecast and takes its
/// alerts on, and writes to no plant.
#[test]
fn a_plant_s_routes_need_the_roles_the_default_plant_s_do() {
    use takt_api::auth::Role;
    let app = App::site(
        tempfile::tempdir().expect("dir"),
        Auth::Tokens(vec![
            (Role::Read, READ.to_string()),
            (Role::Operate, OPERATE.to_string()),
            (Role::Write, WRITE.to_string()),
        ]),
        vec![
            plant("bottling", BOTTLING),
            plant("body-shop", BODY_IN_WHITE),
        ],
    );
    assert_problem(&get(&app, "/plants", None), 401, "unauthorized");
    assert_eq!(
        get(&app, "/plants/body-shop/twin/state", Some(READ)).status,
        200
    );
    // Past the role check: the forecast has no events to start from, the alert is not there.
    let forecast = post(&app, "/plants/body-shop/twin/forecast", Some(OPERATE), "{}");
    assert_problem(&forecast, 422, "validation");
    let ack = post(
        &app,
        "/plants/body-shop/twin/alerts/1/acknowledge",
        Some(OPERATE),
        r#"{"by":"Ann"}"#,
    );
    assert_problem(&ack, 404, "not-found");
    let write = post(&app, "/plants/body-shop/twin/events", Some(OPERATE), "[]");
    assert_problem(&write, 403, "forbidden");
    let read = post(&app, "/plants/body-shop/twin/forecast", Some(READ), "{}");
    assert_problem(&read, 403, "forbidden");
}
