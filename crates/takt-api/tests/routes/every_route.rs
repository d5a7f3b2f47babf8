//! Every route's behaviour, with tokens in two roles: answers, refusals as problem+json, ingestion,
//! the twin's state, KPIs, stream and forecast, scenarios, and each kind of job. On the router,
//! without a socket; what needs the process (the wire, SIGKILL, SIGTERM) stays in
//! `crates/takt-cli/tests/serve.rs`.

use crate::harness::*;
use axum::http::Method;
use serde_json::{Value, json};

#[test]
fn every_route_answers_and_every_error_is_a_problem() {
    let s = App::with_tokens();
    let events = recording();

    // Open routes, and the roles.
    assert_eq!(get(&s, "/health", None).body["status"], "ok");
    // Probes without a token learn that the server is ready, and nothing of the plant.
    let ready = get(&s, "/ready", None);
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body, json!({"ready": true}), "{}", ready.text);
    assert_problem(&get(&s, "/twin/state", None), 401, "unauthorized");
    assert_problem(
        &get(&s, "/twin/state", Some("wrong-token-0123456789")),
        401,
        "unauthorized",
    );
    assert_problem(
        &post(&s, "/twin/events", Some(READ), "[]"),
        403,
        "forbidden",
    );
    // A shift leader's token reads, but does not feed the twin or run jobs.
    assert_eq!(get(&s, "/twin/state", Some(OPERATE)).status, 200);
    let refused = post(&s, "/twin/events", Some(OPERATE), "[]");
    assert_problem(&refused, 403, "forbidden");
    assert!(
        refused
            .text
            .contains("needs a token with the write role (this one has the operate role)"),
        "{}",
        refused.text
    );
    assert_problem(
        &post(&s, "/simulations", Some(OPERATE), "{}"),
        403,
        "forbidden",
    );

    // Ingestion: accepted, then the same batch again is all duplicates; bad events are refused
    // one by one with their reason while the good ones are stored.
    let batch = Value::Array(events[..1000].to_vec()).to_string();
    let a = post(&s, "/twin/events", Some(WRITE), &batch);
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        (a.body["accepted"].as_u64(), a.body["duplicates"].as_u64()),
        (Some(1000), Some(0))
    );
    let a = post(&s, "/twin/events", Some(WRITE), &batch);
    assert_eq!(
        (a.body["accepted"].as_u64(), a.body["duplicates"].as_u64()),
        (Some(0), Some(1000))
    );
    let mixed = json!([
        events[1000],
        {"asset": "Mixer", "kind": "state", "seq": 1, "state": "RUNNING", "ts": "2026-01-05T06:01:00+01:00"},
        {"asset": "Filler", "kind": "state", "seq": 99999, "state": "FLYING", "ts": "2026-01-05T06:01:00+01:00"},
        {"asset": "Filler", "kind": "count", "seq": 99998, "good": -3, "ts": "2026-01-05T06:01:00+01:00"},
        {"asset": "Filler", "kind": "state", "seq": 99997, "state": "RUNNING", "ts": "yesterday"},
        // A sensor clock gone wrong, and a counter that would wrap: refused, they change nothing.
        {"asset": "Filler", "kind": "state", "seq": 99996, "state": "UNPLANNED_DOWN", "ts": "9999-12-31T23:59:59Z"},
        {"asset": "Filler", "kind": "count", "seq": 99995, "good": 18446744073709551516u64, "ts": "2026-01-05T06:01:00+01:00"},
    ]);
    let a = post(&s, "/twin/events", Some(WRITE), &mixed.to_string());
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["accepted"], 1, "{}", a.text);
    let rejected = a.body["rejected"].as_array().cloned().unwrap_or_default();
    let indexes: Vec<u64> = rejected
        .iter()
        .filter_map(|r| r["index"].as_u64())
        .collect();
    assert_eq!(indexes, [1, 2, 3, 4, 5, 6], "{}", a.text);
    assert!(
        rejected[4]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("ahead of the receiving clock")),
        "{}",
        a.text
    );
    assert!(
        rejected[5]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("good:")),
        "{}",
        a.text
    );
    // The body is JSON on this route as on every other.
    let plain = s.send(
        Method::POST,
        "/twin/events",
        Some(WRITE),
        Some("text/plain"),
        Some(batch.clone()),
    );
    assert_problem(&plain, 415, "media-type");
    assert!(
        rejected[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("unknown asset `Mixer`")),
        "{}",
        a.text
    );
    for r in &rejected {
        assert!(r["reason"].as_str().is_some_and(|r| !r.is_empty()));
    }
    assert_problem(
        &post(&s, "/twin/events", Some(WRITE), "[{\"asset\": "),
        400,
        "bad-request",
    );
    assert_problem(
        &post(&s, "/twin/events", Some(WRITE), "{\"asset\": \"Filler\"}"),
        400,
        "bad-request",
    );

    // State, KPIs, the stream.
    let state = get(&s, "/twin/state", Some(READ));
    assert_eq!(state.status, 200);
    assert_eq!(state.body["counters"]["accepted"], 1001, "{}", state.text);
    assert_eq!(state.body["counters"]["rejected"], 6, "{}", state.text);
    // The refused stamp of year 9999 moved nothing: the twin's clock is the recording's.
    assert!(
        state.body["now"]
            .as_str()
            .is_some_and(|n| n.starts_with("2026-01-05T06:0")),
        "{}",
        state.text
    );
    let assets: Vec<&str> = state.body["assets"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["asset"].as_str()).collect())
        .unwrap_or_default();
    // In the line's order, as people read it.
    assert_eq!(assets, ["Filler", "Labeller", "CasePacker"]);
    let kpis = get(&s, "/twin/kpis?window=shift", Some(READ));
    assert_eq!(kpis.status, 200, "{}", kpis.text);
    // The events are of the early shift (06:00-14:00 +01:00) of the scenario's calendar.
    assert_eq!(kpis.body["shift"], "early", "{}", kpis.text);
    assert_eq!(kpis.body["window_start"], "2026-01-05T06:00:00.000+01:00");
    assert_eq!(kpis.body["window_end"], "2026-01-05T14:00:00.000+01:00");
    // No shift has ended yet: no figures of a previous one.
    let previous = get(&s, "/twin/kpis?window=previous", Some(READ));
    assert_eq!(previous.status, 200, "{}", previous.text);
    assert_eq!(
        previous.body["window_start"],
        Value::Null,
        "{}",
        previous.text
    );
    assert_eq!(previous.body["assets"].as_array().map(Vec::len), Some(0));
    assert!(
        kpis.body["assets"][1]["availability"]
            .as_f64()
            .is_some_and(|a| a > 0.0 && a <= 1.0)
    );
    assert_problem(
        &get(&s, "/twin/kpis?window=week", Some(READ)),
        400,
        "bad-request",
    );
    let stream = s.read_stream("/twin/stream", "\n\n");
    assert!(stream.starts_with("event: state\ndata: {"), "{stream}");

    // Forecast from the mirrored state: a shift leader's token runs it, a read token does not.
    let refused = post(&s, "/twin/forecast", Some(READ), "{}");
    assert_problem(&refused, 403, "forbidden");
    assert!(
        refused
            .text
            .contains("needs a token with the operate role or write"),
        "{}",
        refused.text
    );
    let f = post(
        &s,
        "/twin/forecast",
        Some(OPERATE),
        r#"{"replications": 20, "plan_replications": 0, "until": "30m"}"#,
    );
    assert_eq!(f.status, 200, "{}", f.text);
    assert!(
        f.body["plant_good_at_end"]["mean"]
            .as_f64()
            .is_some_and(|m| m > 0.0),
        "{}",
        f.text
    );
    let bad = post(
        &s,
        "/twin/forecast",
        Some(WRITE),
        r#"{"replications": 0, "until": "soon"}"#,
    );
    assert_problem(&bad, 422, "validation");
    let fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["replications", "until"], "{}", bad.text);
    // A horizon past what any duration may be, or further ahead than a forecast looks, is refused
    // at once rather than run.
    for (until, says) in [
        ("1e308", "longest duration"),
        ("99999999999999999999999w", "longest duration"),
        ("30d", "at most 168 h ahead"),
    ] {
        let far = post(
            &s,
            "/twin/forecast",
            Some(WRITE),
            &json!({"replications": 2, "until": until}).to_string(),
        );
        assert_problem(&far, 422, "validation");
        assert!(far.text.contains(says), "{until}: {}", far.text);
    }

    // Scenarios: validate, store, list, get; errors located in the file.
    let toml = REFERENCE.to_string();
    let body = json!({ "toml": toml }).to_string();
    let v = post(&s, "/scenarios/validate", Some(WRITE), &body);
    assert_eq!(
        (v.status, v.body["valid"].as_bool()),
        (200, Some(true)),
        "{}",
        v.text
    );
    let broken = json!({ "toml": toml.replace("machines = 1", "machines = \"one\"") }).to_string();
    let v = post(&s, "/scenarios/validate", Some(WRITE), &broken);
    if toml.contains("machines = 1") {
        assert_problem(&v, 422, "validation");
        assert!(
            v.body["errors"][0]["field"]
                .as_str()
                .is_some_and(|f| f.starts_with("scenario.toml:")),
            "{}",
            v.text
        );
    }
    let c = post(&s, "/scenarios", Some(WRITE), &body);
    assert_eq!(c.status, 201, "{}", c.text);
    let id = c.body["id"].as_str().unwrap_or("").to_string();
    assert_eq!(
        c.headers.get("location").and_then(|l| l.to_str().ok()),
        Some(format!("/scenarios/{id}").as_str())
    );
    assert_eq!(get(&s, "/scenarios", Some(READ)).body[0]["id"], id.as_str());
    assert_eq!(
        get(&s, &format!("/scenarios/{id}"), Some(READ)).body["toml"],
        toml.as_str()
    );
    assert_problem(&get(&s, "/scenarios/s999", Some(READ)), 404, "not-found");
    assert_problem(
        &post(
            &s,
            "/scenarios",
            Some(WRITE),
            r#"{"toml": "schema_version = 1"}"#,
        ),
        422,
        "validation",
    );
    assert_problem(
        &post(&s, "/scenarios", Some(WRITE), r#"{"text": "x"}"#),
        422,
        "validation",
    );

    // A simulation job with a variant, followed to its end.
    let sim = post(
        &s,
        "/simulations",
        Some(WRITE),
        &json!({"scenario_id": id, "replications": 4, "horizon": "20000s",
                "variants": [{"name": "two M2", "overrides": ["stations.M2.machines=2"]}]})
        .to_string(),
    );
    assert_eq!(sim.status, 202, "{}", sim.text);
    let job = sim.body["id"].as_str().unwrap_or("").to_string();
    // Job ids are 128 random bits: one tells nothing of the next.
    assert!(
        job.len() == 33 && job.starts_with('j') && job[1..].chars().all(|c| c.is_ascii_hexdigit()),
        "{job}"
    );
    let events_text = s.read_stream(&format!("/jobs/{job}/events"), "event: end");
    assert!(events_text.contains("event: end"), "{events_text}");
    let done = wait_for_job(&s, &job);
    assert_eq!(done["status"], "done", "{done}");
    let variants: Vec<&str> = done["result"]["variants"]
        .as_array()
        .map(|v| v.iter().filter_map(|x| x["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(variants, ["base", "two M2"]);
    assert_eq!(delete(&s, &format!("/jobs/{job}")).body["status"], "done");
    assert_problem(&get(&s, "/jobs/j999", Some(READ)), 404, "not-found");
    // Wrong types, out-of-range counts, bad durations and overrides: 422 naming the field.
    for (body, field) in [
        (
            json!({"scenario_id": id, "replications": "ten"}),
            "replications",
        ),
        (
            json!({"scenario_id": id, "replications": 100000}),
            "replications",
        ),
        (json!({"scenario_id": id, "horizon": "-5h"}), "horizon"),
        (
            json!({"scenario_id": id, "variants": [{"name": "x", "overrides": ["nonsense"]}]}),
            "variants[0].overrides[0]",
        ),
        (json!({"scenario_id": "s404"}), "scenario_id"),
        (json!({"replications": 3}), "scenario_id"),
        // Sizes past their limits are refused before a job is queued: a horizon that would
        // release billions of parts, too many variants, a variant of a hundred million machines.
        (json!({"scenario_id": id, "horizon": "300000d"}), "horizon"),
        (
            json!({"scenario_id": id, "variants": (0..101)
                .map(|k| json!({"name": format!("v{k}"), "overrides": []}))
                .collect::<Vec<_>>()}),
            "variants",
        ),
        (
            json!({"scenario_id": id, "variants": [{"name": "huge", "overrides": ["stations.M1.machines=100000000"]}]}),
            "variants[0].overrides: stations[0].machines",
        ),
    ] {
        let a = post(&s, "/simulations", Some(WRITE), &body.to_string());
        assert_problem(&a, 422, "validation");
        assert_eq!(a.body["errors"][0]["field"], field, "{}", a.text);
    }
    assert_problem(
        &post(&s, "/simulations", Some(WRITE), "{\"replications\": 1e999}"),
        400,
        "bad-request",
    );

    // A schedule of the body-in-white order book, as a job; the plan's operations come back.
    let biw = BODY_IN_WHITE;
    let sch = post(
        &s,
        "/schedules",
        Some(WRITE),
        &json!({"scenario": biw, "objective": "tardiness", "time_limit": "1s"}).to_string(),
    );
    assert_eq!(sch.status, 202, "{}", sch.text);
    let done = wait_for_job(&s, sch.body["id"].as_str().unwrap_or(""));
    assert_eq!(done["status"], "done", "{done}");
    assert!(
        done["result"]["operations"]
            .as_array()
            .is_some_and(|o| o.len() > 10),
        "{done}"
    );
    // A scenario that names a file on the server (an order book CSV) is refused.
    let moulding = include_str!("../../../../scenarios/injection-moulding.toml");
    let sch = post(
        &s,
        "/schedules",
        Some(WRITE),
        &json!({"scenario": moulding}).to_string(),
    );
    assert_problem(&sch, 422, "validation");
    assert!(
        sch.body["errors"][0]["field"]
            .as_str()
            .is_some_and(|f| f.ends_with("demand.orders_csv")),
        "{}",
        sch.text
    );
    // Nor through a what-if override: the server opens no path it is sent, and says nothing of
    // the file (not even whether it exists).
    for path in ["/proc/self/environ", "/etc/passwd", "/no/such/file.csv"] {
        let sim = post(
            &s,
            "/simulations",
            Some(WRITE),
            &json!({"scenario": biw, "replications": 2,
                "variants": [{"name": "x", "overrides": [format!("demand.orders_csv=\"{path}\"")]}]})
            .to_string(),
        );
        assert_problem(&sim, 422, "validation");
        assert!(
            sim.text.contains("may not name a file")
                && !sim.text.contains("root:")
                && !sim.text.contains("PATH=")
                && !sim.text.contains("No such file"),
            "{}",
            sim.text
        );
    }
    let bad = post(
        &s,
        "/schedules",
        Some(WRITE),
        r#"{"scenario": "x", "objective": "fastest", "time_limit": "2h"}"#,
    );
    assert_problem(&bad, 422, "validation");
    assert_eq!(
        bad.body["errors"].as_array().map(Vec::len),
        Some(2),
        "{}",
        bad.text
    );

    // A maintenance plan from the twin's state, as a job, its policies compared from the plant
    // as mirrored.
    let m = post(
        &s,
        "/maintenance-plans",
        Some(WRITE),
        r#"{"from_twin": true, "horizon": "2d", "solver": "greedy", "compare": 3}"#,
    );
    assert_eq!(m.status, 202, "{}", m.text);
    let done = wait_for_job(&s, m.body["id"].as_str().unwrap_or(""));
    assert_eq!(done["status"], "done", "{done}");
    let result = &done["result"];
    assert_eq!(result["machines"][0]["name"], "Filler", "{done}");
    assert!(
        result["settings"]["start_s"].as_f64().unwrap_or(0.0) > 0.0,
        "{done}"
    );
    let policies = result["comparison"]["policies"]
        .as_array()
        .map(|p| p.iter().map(|p| p["name"].clone()).collect::<Vec<_>>())
        .unwrap_or_default();
    assert_eq!(
        policies,
        ["run to failure", "fixed interval", "optimized plan"],
        "{done}"
    );
    assert_eq!(result["comparison"]["replications"], 3, "{done}");
    let bad = post(
        &s,
        "/maintenance-plans",
        Some(WRITE),
        r#"{"from_twin": true, "max_risk": 2, "repair_cost": -1}"#,
    );
    assert_problem(&bad, 422, "validation");

    // Metrics and the API document: every route is in it.
    let metrics = get(&s, "/metrics", Some(READ));
    assert!(
        metrics
            .text
            .contains("takt_twin_events_accepted_total{plant=\"bottling-line-one-shift\"} 1001"),
        "{}",
        metrics.text
    );
    assert!(metrics.text.contains(
        "takt_http_requests_total{method=\"POST\",route=\"/twin/events\",status=\"200\"}"
    ));
    // Refusals are counted too: the two 401s on /twin/state at the start.
    assert!(
        metrics.text.contains(
            "takt_http_requests_total{method=\"GET\",route=\"/twin/state\",status=\"401\"} 2"
        ),
        "{}",
        metrics.text
    );
    let doc = get(&s, "/openapi.json", None);
    assert_eq!(doc.body["openapi"], "3.1.0");
    for path in [
        "/health",
        "/ready",
        "/metrics",
        "/openapi.json",
        "/scenarios",
        "/scenarios/validate",
        "/scenarios/{id}",
        "/simulations",
        "/schedules",
        "/maintenance-plans",
        "/jobs/{id}",
        "/jobs/{id}/events",
        "/twin/events",
        "/twin/state",
        "/twin/kpis",
        "/twin/forecast",
        "/twin/stream",
    ] {
        assert!(
            doc.body["paths"][path].is_object(),
            "{path} is not in the document"
        );
    }
    assert_problem(&get(&s, "/no/such/route", Some(READ)), 404, "not-found");
    // The server still serves after all of that.
    assert_eq!(get(&s, "/health", None).status, 200);
}
