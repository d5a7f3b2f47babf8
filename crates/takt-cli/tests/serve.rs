//! `takt serve` over real HTTP on a loopback port: every route, every class of error, the two
//! token roles, the limits (body size, rate, a full job queue), and the kill test: SIGKILL in the
//! middle of a stream of ingestion requests, a restart, and every acknowledged event there, the
//! same twin state as a server that was never killed, and no duplicate.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const READ: &str = "read-token-0123456789abcdef";
const WRITE: &str = "write-token-0123456789abcdef";

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// Starts `takt serve` on a free loopback port with the bottling line and the test tokens.
    fn start(data: &Path, extra: &[&str]) -> Server {
        let tokens = data.with_extension("tokens");
        std::fs::write(
            &tokens,
            format!("# test tokens\nread {READ}\nwrite {WRITE}\n"),
        )
        .expect("tokens");
        let mut child = Command::new(env!("CARGO_BIN_EXE_takt"))
            .current_dir(root())
            .args([
                "serve",
                "--scenario",
                "scenarios/bottling-line.toml",
                "--listen",
            ])
            .arg("127.0.0.1:0")
            .arg("--data")
            .arg(data)
            .arg("--tokens")
            .arg(&tokens)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("takt serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        reader.read_line(&mut line).expect("first line");
        // Keep reading what the server prints, so that it never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line `{line}`"))
            .to_string();
        Server { child, base }
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL on Unix
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

struct Answer {
    status: u16,
    content_type: String,
    headers: ureq::http::HeaderMap,
    body: Value,
    text: String,
}

fn answer(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut r = r.expect("the server answers");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        content_type,
        headers,
        body,
        text,
    }
}

fn get(s: &Server, path: &str, token: Option<&str>) -> Answer {
    let mut req = agent().get(format!("{}{path}", s.base));
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    answer(req.call())
}

fn post(s: &Server, path: &str, token: Option<&str>, body: &str) -> Answer {
    let mut req = agent()
        .post(format!("{}{path}", s.base))
        .header("Content-Type", "application/json");
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    answer(req.send(body))
}

fn delete(s: &Server, path: &str) -> Answer {
    answer(
        agent()
            .delete(format!("{}{path}", s.base))
            .header("Authorization", format!("Bearer {WRITE}"))
            .call(),
    )
}

fn assert_problem(a: &Answer, status: u16, kind: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(a.content_type, "application/problem+json", "{}", a.text);
    assert_eq!(a.body["type"], format!("/problems/{kind}"), "{}", a.text);
    assert_eq!(a.body["status"], status, "{}", a.text);
    assert!(a.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

/// The shipped recording of five minutes on the bottling line, as JSON values.
fn recording() -> Vec<Value> {
    let text =
        std::fs::read_to_string(root().join("replay/bottling-line-5min.jsonl")).expect("recording");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("event"))
        .collect()
}

fn data_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("takt-serve-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn wait_for_job(s: &Server, id: &str) -> Value {
    let started = Instant::now();
    loop {
        let a = get(s, &format!("/jobs/{id}"), Some(READ));
        assert_eq!(a.status, 200, "{}", a.text);
        let status = a.body["status"].as_str().unwrap_or("").to_string();
        if !matches!(status.as_str(), "queued" | "running") {
            return a.body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "job {id} hangs"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits, at most `within`, for job `id` to have `status`, and returns the job.
fn wait_for_status(s: &Server, id: &str, status: &str, within: Duration) -> Value {
    let started = Instant::now();
    loop {
        let job = get(s, &format!("/jobs/{id}"), Some(READ)).body;
        if job["status"] == status {
            return job;
        }
        assert!(
            started.elapsed() < within,
            "job {id} not {status} after {within:?}: {job}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Posts a job to `route`, cancels it once it runs, and returns it once it is cancelled, which
/// must take well under its own length.
fn cancel_while_running(s: &Server, route: &str, body: &str) -> Value {
    let a = post(s, route, Some(WRITE), body);
    assert_eq!(a.status, 202, "{}", a.text);
    let id = a.body["id"].as_str().unwrap_or("").to_string();
    wait_for_status(s, &id, "running", Duration::from_secs(20));
    assert_eq!(delete(s, &format!("/jobs/{id}")).status, 200);
    wait_for_status(s, &id, "cancelled", Duration::from_secs(15))
}

/// Reads a server-sent event stream until `until` appears in it (or a limit), returning the text.
fn read_stream(s: &Server, path: &str, until: &str) -> String {
    let mut r = agent()
        .get(format!("{}{path}", s.base))
        .header("Authorization", format!("Bearer {READ}"))
        .call()
        .expect("stream");
    assert_eq!(r.status().as_u16(), 200);
    let mut reader = r.body_mut().as_reader();
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    while !text.contains(until) && text.len() < 1 << 20 {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => text.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    text
}

#[test]
fn every_route_answers_over_http_and_every_error_is_a_problem() {
    let dir = data_dir("routes");
    let s = Server::start(&dir, &[]);
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
    let plain = answer(
        agent()
            .post(format!("{}/twin/events", s.base))
            .header("Content-Type", "text/plain")
            .header("Authorization", format!("Bearer {WRITE}"))
            .send(batch.as_str()),
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
    assert_eq!(assets, ["CasePacker", "Filler", "Labeller"]);
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
    let stream = read_stream(&s, "/twin/stream", "\n\n");
    assert!(stream.starts_with("event: state\ndata: {"), "{stream}");

    // Forecast from the mirrored state.
    let f = post(
        &s,
        "/twin/forecast",
        Some(WRITE),
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
    let toml = std::fs::read_to_string(root().join("scenarios/reference-line.toml")).expect("toml");
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
    let events_text = read_stream(&s, &format!("/jobs/{job}/events"), "event: end");
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
    let biw = std::fs::read_to_string(root().join("scenarios/body-in-white.toml")).expect("toml");
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
    let moulding =
        std::fs::read_to_string(root().join("scenarios/injection-moulding.toml")).expect("toml");
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

    // A maintenance plan from the twin's ages, as a job.
    let m = post(
        &s,
        "/maintenance-plans",
        Some(WRITE),
        r#"{"from_twin": true, "horizon": "2d", "solver": "greedy"}"#,
    );
    assert_eq!(m.status, 202, "{}", m.text);
    let done = wait_for_job(&s, m.body["id"].as_str().unwrap_or(""));
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["result"]["machines"][0]["name"], "Filler", "{done}");
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
            .contains("takt_twin_events_accepted_total 1001"),
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

#[test]
fn limits_answer_413_429_and_503_and_the_server_keeps_serving() {
    let dir = data_dir("limits");
    let s = Server::start(
        &dir,
        &[
            "--body-limit-mib",
            "1",
            "--ingest-rate",
            "2",
            "--workers",
            "1",
            "--queue",
            "1",
        ],
    );
    // A 2 MiB body announced by its Content-Length is refused before it is read: 413 (over raw
    // TCP, since a client that writes the whole body first sees the connection closed).
    {
        use std::io::Write;
        let addr = s.base.trim_start_matches("http://");
        let mut tcp = std::net::TcpStream::connect(addr).expect("connect");
        write!(
            tcp,
            "POST /twin/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {WRITE}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n[",
            2 << 20
        )
        .expect("write");
        let mut head = [0u8; 12];
        tcp.read_exact(&mut head).expect("answer");
        assert_eq!(&head, b"HTTP/1.1 413", "{}", String::from_utf8_lossy(&head));
    }
    // A burst of 4 ingestion requests per second is allowed; the next ones wait.
    let mut limited = None;
    for _ in 0..10 {
        let a = post(&s, "/twin/events", Some(WRITE), "[]");
        if a.status == 429 {
            limited = Some(a);
            break;
        }
    }
    let limited = limited.expect("rate limited");
    assert_problem(&limited, 429, "rate-limited");
    assert!(limited.headers.get("retry-after").is_some());
    // One worker, a queue of one: a third long job is refused with Retry-After.
    let toml = std::fs::read_to_string(root().join("scenarios/reference-line.toml")).expect("toml");
    let long = json!({"scenario": toml, "replications": 200}).to_string();
    let mut ids = Vec::new();
    let mut busy = None;
    for _ in 0..4 {
        let a = post(&s, "/simulations", Some(WRITE), &long);
        match a.status {
            202 => ids.push(a.body["id"].as_str().unwrap_or("").to_string()),
            _ => {
                busy = Some(a);
                break;
            }
        }
    }
    let busy = busy.expect("a full queue");
    assert_problem(&busy, 503, "busy");
    assert!(busy.headers.get("retry-after").is_some());
    // Cancel what was accepted: a queued job is cancelled at once and never runs; a running
    // simulation stops within a step of its replications (not after its 200 replications, a
    // minute and more of work), which frees its worker.
    assert!(!ids.is_empty());
    for id in &ids {
        let a = delete(&s, &format!("/jobs/{id}"));
        assert_eq!(a.status, 200, "{}", a.text);
        let status = a.body["status"].as_str().unwrap_or("").to_string();
        assert!(status == "cancelled" || status == "running", "{}", a.text);
        if status == "cancelled" {
            std::thread::sleep(Duration::from_millis(300));
            assert_eq!(
                get(&s, &format!("/jobs/{id}"), Some(READ)).body["status"],
                "cancelled"
            );
        }
    }
    for id in &ids {
        wait_for_status(&s, id, "cancelled", Duration::from_secs(15));
    }
    // A running schedule stops searching when cancelled, not at its 60 s time limit.
    let bottling =
        std::fs::read_to_string(root().join("scenarios/bottling-line.toml")).expect("toml");
    let plan = json!({"scenario": bottling, "time_limit": "60s"}).to_string();
    cancel_while_running(&s, "/schedules", &plan);
    // A running maintenance plan starts no further simulation run once cancelled: its progress
    // stops short of the 5 + 3 x 100 runs it announced (computed to its end, they all count).
    let plan = json!({"scenario": bottling, "horizon": "14d", "solver": "greedy", "compare": 100})
        .to_string();
    let job = cancel_while_running(&s, "/maintenance-plans", &plan);
    assert_eq!(job["progress"]["total"], 305, "{job}");
    assert!(
        job["progress"]["done"].as_u64().is_some_and(|d| d < 305),
        "{job}"
    );
    assert_eq!(get(&s, "/health", None).status, 200);
}

#[test]
fn sigterm_ends_the_server_within_its_grace_period_whatever_is_open() {
    let dir = data_dir("sigterm");
    let mut s = Server::start(&dir, &["--shutdown-grace", "1s", "--workers", "1"]);
    let bottling =
        std::fs::read_to_string(root().join("scenarios/bottling-line.toml")).expect("toml");
    // A job of an hour's work, and a stream that never ends by itself.
    let sim = post(
        &s,
        "/simulations",
        Some(WRITE),
        &json!({"scenario": bottling, "replications": 1000, "horizon": "30d"}).to_string(),
    );
    assert_eq!(sim.status, 202, "{}", sim.text);
    let id = sim.body["id"].as_str().unwrap_or("").to_string();
    wait_for_status(&s, &id, "running", Duration::from_secs(20));
    let stream_base = s.base.clone();
    std::thread::spawn(move || {
        let r = agent()
            .get(format!("{stream_base}/twin/stream"))
            .header("Authorization", format!("Bearer {READ}"))
            .call();
        if let Ok(mut r) = r {
            let _ = std::io::copy(&mut r.body_mut().as_reader(), &mut std::io::sink());
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let t = std::time::Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = loop {
        if let Some(status) = s.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "still running {:?} after SIGTERM",
            t.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    // Grace for the requests, then for the job: about two seconds, never the job's hour.
    assert!(t.elapsed() < Duration::from_secs(6), "{:?}", t.elapsed());
    let again = Server::start(&dir, &[]);
    let job = get(&again, &format!("/jobs/{id}"), Some(READ));
    assert_eq!(job.body["status"], "interrupted", "{}", job.text);
}

#[test]
fn a_killed_server_keeps_every_acknowledged_event_and_rebuilds_the_same_state() {
    let events = recording();
    let batches: Vec<String> = events
        .chunks(20)
        .map(|c| Value::Array(c.to_vec()).to_string())
        .collect();
    // A server that is never killed, fed every batch: the reference state.
    let reference = {
        let s = Server::start(&data_dir("reference"), &[]);
        for b in &batches {
            assert_eq!(post(&s, "/twin/events", Some(WRITE), b).status, 200);
        }
        get(&s, "/twin/state", Some(READ)).body
    };
    // Stream batches from another thread and SIGKILL the server in the middle.
    let dir = data_dir("kill");
    let mut s = Server::start(&dir, &[]);
    let base = s.base.clone();
    let to_send = batches.clone();
    let progress = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&progress);
    let sender = std::thread::spawn(move || {
        let mut acknowledged = 0usize;
        for b in &to_send {
            let r = agent()
                .post(format!("{base}/twin/events"))
                .header("Content-Type", "application/json")
                .header("Authorization", format!("Bearer {WRITE}"))
                .send(b.as_str());
            match r {
                Ok(r) if r.status().as_u16() == 200 => {
                    acknowledged += 1;
                    seen.store(acknowledged, std::sync::atomic::Ordering::SeqCst);
                }
                _ => break,
            }
        }
        acknowledged
    });
    // Kill once a tenth of the batches are acknowledged, while the sender is still sending.
    let started = Instant::now();
    while progress.load(std::sync::atomic::Ordering::SeqCst) < batches.len() / 10 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "ingestion stalls"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    s.kill();
    let acknowledged = sender.join().expect("sender");
    assert!(
        acknowledged > 0 && acknowledged < batches.len(),
        "the kill came at {acknowledged} of {} batches: not in the middle",
        batches.len()
    );
    let s = Server::start(&dir, &[]);
    // Every acknowledged event is there: sent again, each is a duplicate.
    let acked_events: u64 = events
        .chunks(20)
        .take(acknowledged)
        .map(|c| c.len() as u64)
        .sum();
    let state = get(&s, "/twin/state", Some(READ)).body;
    let stored = state["counters"]["accepted"].as_u64().unwrap_or(0);
    assert!(
        stored >= acked_events,
        "{stored} stored < {acked_events} acknowledged"
    );
    for b in &batches[..acknowledged] {
        let a = post(&s, "/twin/events", Some(WRITE), b);
        assert_eq!(
            a.body["accepted"], 0,
            "an acknowledged batch was lost: {}",
            a.text
        );
    }
    // The rest sent again (one may have been stored unacknowledged): then the state is the
    // reference's, with every event once.
    for b in &batches[acknowledged..] {
        assert_eq!(post(&s, "/twin/events", Some(WRITE), b).status, 200);
    }
    let state = get(&s, "/twin/state", Some(READ)).body;
    assert_eq!(
        state["counters"]["accepted"].as_u64(),
        Some(events.len() as u64)
    );
    assert_eq!(state["assets"], reference["assets"]);
    assert_eq!(state["now"], reference["now"]);
}

#[test]
fn the_api_document_validates_with_an_openapi_validator() {
    // openapi-spec-validator from PyPI, installed by scripts/setup.sh (which the test command runs).
    let validator = root().join("target/tools-venv/bin/openapi-spec-validator");
    if !validator.exists() {
        assert!(
            std::env::var("CI").is_err(),
            "{} is missing: scripts/setup.sh installs it",
            validator.display()
        );
        eprintln!("skipped: no {} (run scripts/setup.sh)", validator.display());
        return;
    }
    let s = Server::start(&data_dir("openapi"), &[]);
    let doc = get(&s, "/openapi.json", None);
    assert_eq!(doc.status, 200);
    let file = std::env::temp_dir().join(format!("takt-openapi-{}.json", std::process::id()));
    std::fs::write(&file, &doc.text).expect("write");
    let out = Command::new(&validator)
        .arg(&file)
        .output()
        .expect("validator runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
