//! The screens: the page and its assets come from inside the binary, open to anyone (they hold no
//! data), with a policy that keeps the page on this server; the data behind them needs a token.

use crate::harness::{App, OPERATE, READ, WRITE, assert_problem, get, post};

#[test]
fn the_page_and_its_assets_are_served_from_the_binary_and_the_data_needs_a_token() {
    let app = App::with_tokens();
    let page = get(&app, "/", None);
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.content_type.starts_with("text/html"),
        "{}",
        page.content_type
    );
    let policy = page.headers["content-security-policy"]
        .to_str()
        .expect("ascii");
    assert!(policy.contains("default-src 'self'") && policy.contains("connect-src 'self'"));
    assert_eq!(page.headers["cache-control"], "no-cache");
    // Every script and style the page names is there, and nothing it names is elsewhere.
    let assets: Vec<&str> = page
        .text
        .split('"')
        .filter(|s| s.starts_with("/assets/"))
        .collect();
    assert!(assets.iter().any(|a| a.ends_with(".js")), "{}", page.text);
    for asset in &assets {
        let a = get(&app, asset, None);
        assert_eq!(a.status, 200, "{asset}");
        assert!(
            a.headers["cache-control"]
                .to_str()
                .expect("ascii")
                .contains("immutable")
        );
    }
    assert!(!page.text.contains("http://") && !page.text.contains("https://"));
    // Revalidation by the page's ETag.
    let etag = page.headers["etag"].to_str().expect("ascii").to_string();
    let again = app.send(axum::http::Method::GET, "/", None, None, None);
    assert_eq!(again.headers["etag"].to_str().expect("ascii"), etag);
    // A name that is not in the bundle is a 404, whatever it tries.
    for name in [
        "/assets/nothing.js",
        "/assets/../../Cargo.toml",
        "/assets/%2e%2e/%2e%2e/Cargo.toml",
        "/assets//etc/passwd",
    ] {
        let a = get(&app, name, None);
        assert_eq!(a.status, 404, "{name}: {}", a.text);
    }
    // The data is not open: the layout needs a token like the state.
    assert_eq!(get(&app, "/twin/layout", None).status, 401);
    let layout = get(&app, "/twin/layout", Some(READ));
    assert_eq!(layout.status, 200);
    let names: Vec<&str> = layout.body["stations"]
        .as_array()
        .expect("stations")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["Filler", "Labeller", "CasePacker"]);
}

/// The board's buffer levels are the forecast's starting state: the same inference, read live.
#[test]
fn buffer_levels_are_what_a_forecast_starts_from() {
    use axum::http::{Method, StatusCode};
    use serde_json::{Value, json};
    let app = App::new();
    let (status, empty) = app.call(Method::GET, "/twin/buffers", None);
    assert_eq!(status, StatusCode::OK);
    assert!(
        empty["buffers"]
            .as_array()
            .expect("buffers")
            .iter()
            .all(|b| b["parts"].is_null())
    );
    let events: Vec<Value> = crate::harness::RECORDING
        .lines()
        .map(|l| serde_json::from_str(l).expect("event"))
        .collect();
    for chunk in events.chunks(2000) {
        let (status, body) = app.call(Method::POST, "/twin/events", Some(&json!(chunk)));
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, levels) = app.call(Method::GET, "/twin/buffers", None);
    assert_eq!(status, StatusCode::OK, "{levels}");
    let (status, forecast) = app.call(
        Method::POST,
        "/twin/forecast",
        Some(&json!({"replications": 2, "plan_replications": 0})),
    );
    assert_eq!(status, StatusCode::OK, "{forecast}");
    let queued = |name: &str| {
        forecast["initial_state"]["buffers"]
            .as_array()
            .expect("buffers")
            .iter()
            .find(|b| b["buffer"] == name)
            .map_or(0, |b| b["parts"].as_array().map_or(0, Vec::len))
    };
    let buffers = levels["buffers"].as_array().expect("buffers");
    assert_eq!(buffers.len(), 3, "{levels}");
    for b in buffers {
        let name = b["buffer"].as_str().expect("name");
        let parts = b["parts"].as_u64().expect("inferred");
        assert_eq!(parts as usize, queued(name), "{name}");
        if let Some(capacity) = b["capacity"].as_u64() {
            assert!(parts <= capacity, "{name}: {parts} > {capacity}");
        }
    }
}

/// Posts the first `n` events of the shipped recording (all of it for `usize::MAX`).
fn post_recording(app: &App, n: usize) {
    let events: Vec<serde_json::Value> = crate::harness::recording().into_iter().take(n).collect();
    let answer = crate::harness::post(
        app,
        "/twin/events",
        Some(crate::harness::WRITE),
        &serde_json::Value::Array(events).to_string(),
    );
    assert_eq!(answer.status, 200, "{}", answer.text);
}

/// The names a Prometheus exposition defines: each family (`# TYPE name kind`) and the series
/// names it writes (`name_total`, `name_bucket`...).
fn exported_names(exposition: &str) -> std::collections::BTreeSet<String> {
    exposition
        .lines()
        .filter_map(|l| {
            if let Some(rest) = l.strip_prefix("# TYPE ") {
                rest.split_whitespace().next()
            } else if l.starts_with('#') || l.trim().is_empty() {
                None
            } else {
                l.split(['{', ' ']).next()
            }
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn metrics_export_the_plant_and_the_shipped_dashboard_asks_only_for_them() {
    let app = App::new();
    post_recording(&app, 400);
    // Two feeds, as `takt serve --mqtt` registers them: one listening, one that gave up.
    let feeds = &app.server.feeds;
    feeds.listening(
        "bottling-line-one-shift",
        "mqtt",
        "broker:1883 takt/plant1/+/+/+",
    );
    let refused = feeds.listening("bottling-line-one-shift", "opcua", "opc.tcp://plc:4840");
    feeds.stopped(refused, "the server does not trust our certificate");
    let metrics = get(&app, "/metrics", Some(READ));
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .content_type
            .starts_with("application/openmetrics-text")
    );
    let text = &metrics.text;
    assert!(text.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
    for (protocol, up) in [("mqtt", 1), ("opcua", 0)] {
        assert!(
            text.lines().any(|l| l.starts_with("takt_feed_up{")
                && l.contains(&format!("protocol=\"{protocol}\""))
                && l.ends_with(&format!(" {up}"))),
            "{protocol} feed: {text}"
        );
    }
    // Every machine of the line has exactly one state at 1.
    for station in ["Filler", "Labeller", "CasePacker"] {
        let on: Vec<&str> = text
            .lines()
            .filter(|l| {
                l.starts_with("takt_machine_state{")
                    && l.contains(&format!("station=\"{station}\""))
                    && l.ends_with(" 1.0")
            })
            .collect();
        assert_eq!(on.len(), 1, "{station}: {on:?}\n{text}");
    }
    for name in [
        "takt_shift_oee_ratio{",
        "takt_shift_availability_ratio{",
        "takt_shift_good_parts{",
        // Each plant's figures carry its id (a site serves several).
        "takt_buffer_parts{plant=\"bottling-line-one-shift\",buffer=\"conveyor-fill-label\"}",
        "takt_twin_events_accepted_total{plant=\"bottling-line-one-shift\"} 400",
        "takt_twin_last_accepted_timestamp_seconds{plant=\"bottling-line-one-shift\"} ",
        "takt_twin_newest_event_timestamp_seconds{plant=\"bottling-line-one-shift\"} ",
    ] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
    // Ratios are fractions, never percent; one above 1 comes with its flag (in these first
    // minutes the Filler beats its standard cycle).
    let value = |l: &str| -> f64 {
        l.rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("a number")
    };
    for l in text
        .lines()
        .filter(|l| l.starts_with("takt_shift_oee_ratio{"))
    {
        let labels = &l[l.find('{').expect("labels")..=l.find('}').expect("labels")];
        let flag = text
            .lines()
            .find(|f| f.starts_with(&format!("takt_shift_performance_above_standard{labels}")))
            .map(value);
        assert!(
            (0.0..=1.0).contains(&value(l)) || flag == Some(1.0),
            "{l} without its flag"
        );
    }
    // Each query of the shipped Grafana dashboard names only metrics takt exports.
    let exported = exported_names(text);
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../../../../docs/grafana-dashboard.json"))
            .expect("the dashboard is JSON");
    let mut queries = 0;
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("a query");
            queries += 1;
            let names: Vec<&str> = expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("takt_"))
                .collect();
            assert!(!names.is_empty(), "{expr}");
            for name in names {
                assert!(
                    exported.contains(name),
                    "panel `{}` asks for {name}, which takt does not export",
                    panel["title"]
                );
                // A panel of one plant (the dashboard's `plant` choice) asks for a plant's figure.
                if expr.contains("plant=\"$plant\"") {
                    assert!(
                        text.lines().any(|l| l.starts_with(name)
                            && l.contains("plant=\"bottling-line-one-shift\"")),
                        "panel `{}` asks for {name} of a plant, which has no plant label",
                        panel["title"]
                    );
                }
            }
        }
    }
    assert!(queries >= 10);
}

#[test]
fn the_shift_report_comes_as_json_or_as_a_page_that_runs_nothing() {
    let app = App::with_tokens();
    post_recording(&app, usize::MAX);
    let report = get(&app, "/twin/report?window=shift", Some(READ));
    assert_eq!(report.status, 200, "{}", report.text);
    let r = &report.body;
    assert_eq!(r["window"], "shift");
    assert_eq!(r["ended"], false);
    assert_eq!(r["line"]["end_of_line"], "CasePacker");
    let stations: Vec<&str> = r["stations"]
        .as_array()
        .expect("stations")
        .iter()
        .filter_map(|s| s["station"].as_str())
        .collect();
    assert_eq!(
        stations,
        ["Filler", "Labeller", "CasePacker"],
        "in line order"
    );
    assert!(
        r["line"]["plan_good"].as_f64().is_some_and(|p| p > 0.0),
        "{r}"
    );
    assert_eq!(r["plan_replications"], 30);
    assert_eq!(r["plan_basis"], "scenario", "within the scenario's horizon");
    // The same shift again: the plan is kept, the figures are the same.
    let again = get(&app, "/twin/report?window=shift", Some(READ));
    assert_eq!(again.body["line"]["plan_good"], r["line"]["plan_good"]);
    let page = get(&app, "/twin/report?window=shift&format=html", Some(READ));
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("text/html"));
    assert!(
        page.headers["content-security-policy"]
            .to_str()
            .expect("ascii")
            .starts_with("default-src 'none'")
    );
    assert!(
        page.headers["content-disposition"]
            .to_str()
            .expect("ascii")
            .starts_with("attachment")
    );
    assert!(page.text.contains("Where the time went") && !page.text.contains("<script"));
    assert_eq!(get(&app, "/twin/report?format=pdf", Some(READ)).status, 400);
    assert_eq!(
        get(&app, "/twin/report?window=week", Some(READ)).status,
        400
    );
    assert_eq!(get(&app, "/twin/report", None).status, 401);
}

#[test]
fn the_board_reads_which_feeds_of_its_plant_stopped_and_why() {
    let app = App::with_tokens();
    let plant = "bottling-line-one-shift";
    let feeds = &app.server.feeds;
    feeds.listening(plant, "mqtt", "broker:1883 takt/plant1/+/+/+");
    let refused = feeds.listening(plant, "opcua", "opc.tcp://plc:4840");
    feeds.stopped_at(
        refused,
        "the server does not trust our certificate",
        1_765_000_000_000,
    );
    // Another plant's feed is not this plant's.
    let other = feeds.listening("press-shop", "mqtt", "broker:1883 takt/plant2/+/+/+");
    feeds.stopped(other, "refused the login");
    for path in ["/twin/feeds", &format!("/plants/{plant}/twin/feeds")] {
        let answer = get(&app, path, Some(READ));
        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
        let listed = answer.body["feeds"].as_array().expect("a list of feeds");
        assert_eq!(listed.len(), 2, "{path}: {}", answer.text);
        assert_eq!(listed[0]["protocol"], "mqtt");
        assert_eq!(listed[0]["listening"], true);
        assert!(
            listed[0].get("stopped_because").is_none(),
            "{}",
            answer.text
        );
        assert_eq!(listed[1]["source"], "opc.tcp://plc:4840");
        assert_eq!(listed[1]["listening"], false);
        assert_eq!(
            listed[1]["stopped_because"],
            "the server does not trust our certificate"
        );
        assert_eq!(listed[1]["stopped_at_ms"], 1_765_000_000_000_i64);
    }
    // Feeds are read with a read token, like the rest of the twin.
    assert_eq!(get(&app, "/twin/feeds", None).status, 401);
    // A shift leader starts the plant's stopped feeds again (an operate token; a read token may
    // not): the refused one is asked, the listening one and the other plant's are not.
    let denied = post(&app, "/twin/feeds/restart", Some(READ), "{}");
    assert_eq!(denied.status, 403, "{}", denied.text);
    let asked = post(&app, "/twin/feeds/restart", Some(OPERATE), "{}");
    assert_eq!(asked.status, 202, "{}", asked.text);
    let sources: Vec<&str> = asked.body["feeds"]
        .as_array()
        .map(|f| f.iter().filter_map(|f| f["source"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(sources, ["opc.tcp://plc:4840"], "{}", asked.text);
    // Asked, the feed starts again on its own thread, which says so when it listens.
    let stop = std::sync::atomic::AtomicBool::new(false);
    assert!(feeds.wait_for_restart(refused, &stop));
    let listed = get(&app, "/twin/feeds", Some(READ));
    assert_eq!(
        listed.body["feeds"][1]["listening"], true,
        "{}",
        listed.text
    );
}

/// The shifts that ended, newest first, each machine's pieces and KPIs complete to its shift's
/// end: none before a shift ends; the early shift once the late one runs; both, newest first,
/// the next morning.
#[test]
fn ended_shifts_come_newest_first_with_each_machines_figures() {
    let app = App::new();
    let mut seq = 0;
    let mut events = |at: &str, good: u64| {
        seq += 2;
        serde_json::json!([
            {"ts": format!("2026-01-0{at}+01:00"), "asset": "Filler", "seq": seq - 1,
             "kind": "state", "state": "RUNNING", "reason": "production"},
            {"ts": format!("2026-01-0{at}+01:00"), "asset": "Filler", "seq": seq,
             "kind": "count", "good": good, "product": "cola-033"}
        ])
        .to_string()
    };
    let shifts = |app: &App| {
        let a = get(app, "/twin/shifts", Some(READ));
        assert_eq!(a.status, 200, "{}", a.text);
        a.body["shifts"].as_array().cloned().unwrap_or_default()
    };
    assert_eq!(
        post(&app, "/twin/events", Some(WRITE), &events("5T06:10:00", 40)).status,
        200
    );
    assert!(shifts(&app).is_empty());
    assert_eq!(
        post(&app, "/twin/events", Some(WRITE), &events("5T14:10:00", 25)).status,
        200
    );
    let one = shifts(&app);
    assert_eq!(one.len(), 1, "{one:?}");
    assert_eq!(one[0]["shift"], "early");
    assert_eq!(one[0]["start"], "2026-01-05T06:00:00.000+01:00");
    assert_eq!(one[0]["machines"][0]["asset"], "Filler");
    assert_eq!(one[0]["machines"][0]["good"], 40);
    assert_eq!(
        post(&app, "/twin/events", Some(WRITE), &events("6T06:10:00", 7)).status,
        200
    );
    let two = shifts(&app);
    let names: Vec<&str> = two.iter().filter_map(|s| s["shift"].as_str()).collect();
    assert_eq!(names, ["late", "early"], "newest first");
    assert_eq!(two[0]["machines"][0]["good"], 25);
    assert_eq!(two[1]["machines"][0]["good"], 40);
    // Running from its first event, 06:10, to the early shift's end: 470 min, all of it running.
    let early = &two[1]["machines"][0];
    assert_eq!(early["state_s"]["RUNNING"], 470.0 * 60.0, "{early}");
    assert_eq!(early["availability"], 1.0, "{early}");
    // The day and the week of the running shift (Tuesday's early, ten minutes in): the running
    // shift so far, and for the week Monday's two as well; running all the time there was a
    // state, 470 + 480 + 10 minutes.
    let totals = |period: &str| {
        let a = get(&app, &format!("/twin/totals?period={period}"), Some(READ));
        assert_eq!(a.status, 200, "{}", a.text);
        a.body
    };
    let day = totals("day");
    assert_eq!(day["start"], "2026-01-06T00:00:00.000+01:00", "{day}");
    assert_eq!(day["before_date"], "2026-01-05", "{day}");
    assert_eq!(day["shifts"].as_array().map(Vec::len), Some(1), "{day}");
    assert_eq!(day["shifts"][0]["running"], true);
    assert_eq!(day["machines"][0]["good"], 7);
    let week = totals("week");
    assert_eq!(week["start"], "2026-01-05T00:00:00.000+01:00", "{week}");
    assert_eq!(week["before_date"], "2025-12-29", "{week}");
    let names: Vec<&str> = week["shifts"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["shift"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["early", "late", "early"], "oldest first");
    let filler = &week["machines"][0];
    assert_eq!(filler["asset"], "Filler");
    assert_eq!(filler["good"], 40 + 25 + 7);
    assert_eq!(
        filler["state_s"]["RUNNING"],
        (470.0 + 480.0 + 10.0) * 60.0,
        "{filler}"
    );
    assert_eq!(filler["availability"], 1.0, "{filler}");
    assert_eq!(get(&app, "/twin/totals", Some(READ)).body["period"], "day");
    // An earlier day by its plant date: Monday's two shifts, whole.
    let monday = get(&app, "/twin/totals?period=day&date=2026-01-05", Some(READ));
    assert_eq!(monday.status, 200, "{}", monday.text);
    let names: Vec<&str> = monday.body["shifts"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["shift"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["early", "late"], "{}", monday.body);
    assert_eq!(monday.body["start"], "2026-01-05T00:00:00.000+01:00");
    assert_eq!(monday.body["machines"][0]["good"], 40 + 25);
    assert_eq!(monday.body["notes"], serde_json::json!([]));
    // A day of the same week gives the week; a day to come says so.
    assert_eq!(
        get(&app, "/twin/totals?period=week&date=2026-01-11", Some(READ)).body,
        week
    );
    let later = get(&app, "/twin/totals?date=2026-01-09", Some(READ));
    assert!(later.body["shifts"].as_array().is_some_and(Vec::is_empty));
    assert_eq!(
        later.body["notes"][0],
        "the day begins after the twin's newest event: nothing to count yet"
    );
    assert_problem(
        &get(&app, "/twin/totals?date=2026-02-30", Some(READ)),
        400,
        "bad-request",
    );
    assert_problem(
        &get(&app, "/twin/totals?period=month", Some(READ)),
        400,
        "bad-request",
    );
    // The same under the plant's own path.
    let plants = get(&app, "/plants", Some(READ));
    let id = plants.body["plants"][0]["id"].as_str().unwrap_or_default();
    let own = get(
        &app,
        &format!("/plants/{id}/twin/totals?period=week"),
        Some(READ),
    );
    assert_eq!(own.body, week);
    let own = get(&app, &format!("/plants/{id}/twin/shifts"), Some(READ));
    assert_eq!(
        own.body["shifts"].as_array().map(Vec::len),
        Some(2),
        "{}",
        own.text
    );
}
