//! What the what-if studio asks of the API: the fields a variant may change, sweeps and precision
//! targets as jobs, and the finished study's HTML report.

use crate::harness::*;
use serde_json::{Value, json};

#[test]
fn validation_offers_the_paths_a_variant_may_change() {
    let s = App::with_tokens();
    let a = post(
        &s,
        "/scenarios/validate",
        Some(WRITE),
        &json!({ "toml": BOTTLING }).to_string(),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    let paths = a.body["override_paths"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let find = |path: &str| -> Value {
        paths
            .iter()
            .find(|p| p["path"] == path)
            .cloned()
            .unwrap_or_else(|| panic!("`{path}` not offered: {}", a.text))
    };
    assert_eq!(
        find("buffers.conveyor-label-pack.capacity"),
        json!({"path": "buffers.conveyor-label-pack.capacity", "value": "300", "kind": "integer", "written": true})
    );
    assert_eq!(find("stations.CasePacker.machines")["written"], false);
    assert_eq!(
        find("stations.Filler.failures.breakdown.ttr")["kind"],
        "distribution"
    );
}

#[test]
fn the_twins_own_scenario_is_stored_once_for_the_screens() {
    let s = App::with_tokens();
    let first = s
        .server
        .store_twin_scenario(s.server.plant(), BOTTLING)
        .expect("stores");
    let again = s
        .server
        .store_twin_scenario(s.server.plant(), BOTTLING)
        .expect("stores");
    assert!(first.is_some());
    assert_eq!(first, again);
    let listed = get(&s, "/scenarios", Some(READ));
    assert_eq!(
        listed.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.text
    );
    assert_eq!(listed.body[0]["name"], "Bottling line - one shift");
    // A plant whose order book is a CSV file cannot run from the store: it stays out.
    assert_eq!(
        s.server
            .store_twin_scenario(s.server.plant(), MOULDING)
            .expect("no error"),
        None
    );
}

const MOULDING: &str = include_str!("../../../../scenarios/injection-moulding.toml");
const MOULDING_BOOK: &str = include_str!("../../../../scenarios/injection-moulding-orders.csv");

/// A scenario that names its order book as a CSV runs when the book is sent beside it; a bad book is
/// refused at its line; without the book the scenario is refused, naming `orders_csv`.
#[test]
fn an_order_book_sent_beside_its_scenario_is_planned() {
    let s = App::with_tokens();
    let check = post(
        &s,
        "/scenarios/validate",
        Some(WRITE),
        &json!({ "toml": MOULDING, "order_book": MOULDING_BOOK }).to_string(),
    );
    assert_eq!(check.status, 200, "{}", check.text);
    let without = post(
        &s,
        "/scenarios/validate",
        Some(WRITE),
        &json!({ "toml": MOULDING }).to_string(),
    );
    assert_problem(&without, 422, "validation");
    assert!(
        without.text.contains("demand.orders_csv"),
        "{}",
        without.text
    );
    let bad_book = MOULDING_BOOK.replacen("PO-1001,cap-38,1500", "PO-1001,cap-38,lots", 1);
    let bad = post(
        &s,
        "/schedules",
        Some(WRITE),
        &json!({"scenario": MOULDING, "order_book": bad_book}).to_string(),
    );
    assert_problem(&bad, 422, "validation");
    assert_eq!(
        bad.body["errors"][0]["field"], "order_book.csv:3:0: quantity",
        "{}",
        bad.text
    );
    let job = post(
        &s,
        "/schedules",
        Some(WRITE),
        &json!({"scenario": MOULDING, "order_book": MOULDING_BOOK, "solver": "dispatch"})
            .to_string(),
    );
    assert_eq!(job.status, 202, "{}", job.text);
    let done = s.finished(job.body["id"].as_str().unwrap_or(""));
    assert_eq!(done["status"], "done", "{done}");
    let orders = MOULDING_BOOK.lines().count() - 1;
    assert_eq!(
        done["result"]["orders"].as_array().map(Vec::len),
        Some(orders)
    );
}

#[test]
fn a_sweep_to_a_precision_runs_as_a_job_and_its_report_downloads() {
    let s = App::with_tokens();
    let sim = post(
        &s,
        "/simulations",
        Some(WRITE),
        &json!({"scenario": REFERENCE, "horizon": "20000s", "replications": 4,
                "precision": 0.2, "max_replications": 8,
                "sweeps": ["buffers.B1.capacity=2,8"]})
        .to_string(),
    );
    assert_eq!(sim.status, 202, "{}", sim.text);
    let id = sim.body["id"].as_str().unwrap_or("").to_string();
    let done = s.finished(&id);
    assert_eq!(done["status"], "done", "{done}");
    let result = &done["result"];
    let names: Vec<&str> = result["variants"]
        .as_array()
        .map(|v| v.iter().filter_map(|x| x["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["base", "capacity=2", "capacity=8"], "{result}");
    assert_eq!(result["precision"], 0.2);
    let n = result["replications"].as_u64().unwrap_or(0);
    assert!((4..=8).contains(&n), "{n} replications");
    // The progress counted every replication run, whatever the rounds.
    assert_eq!(
        done["progress"]["done"], done["progress"]["total"],
        "{done}"
    );
    assert_eq!(done["progress"]["total"].as_u64(), Some(3 * n), "{done}");

    let report = get(&s, &format!("/jobs/{id}/report"), Some(READ));
    assert_eq!(report.status, 200, "{}", report.text);
    assert_eq!(report.content_type, "text/html; charset=utf-8");
    assert!(
        report.text.starts_with("<!DOCTYPE html>") || report.text.starts_with("<!doctype html>")
    );
    assert!(
        report.text.contains("capacity=8"),
        "the report names the variants"
    );
    assert!(
        !report.text.contains("<script"),
        "the report runs no script"
    );
    let disposition = report.headers["content-disposition"].to_str().unwrap_or("");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        report.headers["content-security-policy"]
            .to_str()
            .unwrap_or("")
            .starts_with("default-src 'none'")
    );
    // No report before the end, nor of another kind of job, nor of a job that does not exist.
    assert_problem(&get(&s, "/jobs/j404/report", Some(READ)), 404, "not-found");
    assert_problem(
        &get(&s, &format!("/jobs/{id}/report"), None),
        401,
        "unauthorized",
    );
    let sch = post(
        &s,
        "/schedules",
        Some(WRITE),
        &json!({"scenario": BODY_IN_WHITE, "solver": "dispatch"}).to_string(),
    );
    assert_eq!(sch.status, 202, "{}", sch.text);
    let schedule = sch.body["id"].as_str().unwrap_or("");
    s.finished(schedule);
    assert_problem(
        &get(&s, &format!("/jobs/{schedule}/report"), Some(READ)),
        409,
        "conflict",
    );
}

#[test]
fn study_fields_are_refused_at_their_name() {
    let s = App::with_tokens();
    for (body, field) in [
        (
            json!({"scenario": REFERENCE, "sweeps": ["buffers.B1.capacity=1..x:1"]}),
            "sweeps[0]",
        ),
        (
            json!({"scenario": REFERENCE, "sweeps": ["a=1", "b=1", "c=1"]}),
            "sweeps",
        ),
        (
            json!({"scenario": REFERENCE, "sweeps": ["buffers.B1.capacity=1..200:1"]}),
            "sweeps",
        ),
        (
            json!({"scenario": REFERENCE, "precision": 1.5}),
            "precision",
        ),
        (
            json!({"scenario": REFERENCE, "max_replications": 40}),
            "max_replications",
        ),
        (
            json!({"scenario": REFERENCE, "precision": 0.05, "max_replications": 5000}),
            "max_replications",
        ),
        (
            json!({"scenario": REFERENCE, "replications": 1}),
            "replications",
        ),
        (
            json!({"scenario": REFERENCE, "sweeps": ["buffers.nowhere.capacity=1,2"]}),
            "variants[0].overrides: buffers.nowhere.capacity",
        ),
    ] {
        let a = post(&s, "/simulations", Some(WRITE), &body.to_string());
        assert_problem(&a, 422, "validation");
        assert_eq!(a.body["errors"][0]["field"], field, "{body}: {}", a.text);
    }
}

/// What the maintenance planner's page draws: the plan's start in plant time, its windows, the
/// production time per bucket, risk over time with and without the plan, the policies compared,
/// and the scenario with the plan in it (which validates).
#[test]
fn a_maintenance_plan_gives_its_calendar_risk_and_planned_scenario() {
    let s = App::with_tokens();
    let forging = include_str!("../../../../scenarios/forging-shop.toml");
    let job = post(
        &s,
        "/maintenance-plans",
        Some(WRITE),
        &json!({"scenario": forging, "solver": "greedy", "compare": 2}).to_string(),
    );
    assert_eq!(job.status, 202, "{}", job.text);
    let done = s.finished(job.body["id"].as_str().unwrap_or(""));
    assert_eq!(done["status"], "done", "{done}");
    let r = &done["result"];
    assert!(
        r["start"].as_str().is_some_and(|t| t.len() == 25),
        "{}",
        r["start"]
    );
    let buckets = (r["settings"]["horizon_s"].as_f64().unwrap_or(0.0)
        / r["settings"]["bucket_s"].as_f64().unwrap_or(1.0))
    .round() as usize;
    let calendar = &r["calendar"];
    assert_eq!(
        calendar["production_share"].as_array().map(Vec::len),
        Some(buckets)
    );
    let curves = calendar["risk"].as_array().cloned().unwrap_or_default();
    assert_eq!(curves.len(), r["machines"].as_array().map_or(0, Vec::len));
    for c in &curves {
        let n = c["at_s"].as_array().map_or(0, Vec::len);
        assert!(n > 2);
        assert_eq!(c["with_plan"].as_array().map(Vec::len), Some(n));
        assert_eq!(c["without_plan"].as_array().map(Vec::len), Some(n));
    }
    let policies: Vec<&str> = r["comparison"]["policies"]
        .as_array()
        .map(|p| p.iter().filter_map(|x| x["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        policies,
        ["run to failure", "fixed interval", "optimized plan"]
    );
    let planned = r["planned_scenario"].as_str().unwrap_or("");
    assert!(planned.contains("at = ["), "{planned}");
    let check = post(
        &s,
        "/scenarios/validate",
        Some(WRITE),
        &json!({ "toml": planned }).to_string(),
    );
    assert_eq!(check.status, 200, "{}", check.text);
}

/// The studio lists a planner's jobs, newest first, a page at a time, without their results.
#[test]
fn jobs_are_listed_newest_first_a_page_at_a_time() {
    let s = App::with_tokens();
    let mut ids = Vec::new();
    let variants = json!([
        {"name": "two M2", "overrides": ["stations.M2.machines=2"]},
        {"name": "two M3", "overrides": ["stations.M3.machines=2"]},
        {"name": "two M1", "overrides": ["stations.M1.machines=2"]},
        {"name": "all two", "overrides": ["stations.M1.machines=2", "stations.M2.machines=2"]},
    ]);
    for horizon in ["2000s", "3000s", "4000s"] {
        let mut request = json!({"scenario": REFERENCE, "horizon": horizon, "replications": 2});
        if horizon == "4000s" {
            request["variants"] = variants.clone();
        }
        let sim = post(&s, "/simulations", Some(WRITE), &request.to_string());
        assert_eq!(sim.status, 202, "{}", sim.text);
        ids.push(sim.body["id"].as_str().unwrap_or("").to_string());
    }
    for id in &ids {
        s.finished(id);
    }
    let page = get(&s, "/jobs?limit=2", Some(READ));
    assert_eq!(page.status, 200, "{}", page.text);
    let listed = |body: &Value| -> Vec<String> {
        body["jobs"]
            .as_array()
            .map(|j| {
                j.iter()
                    .filter_map(|x| x["id"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(listed(&page.body), [ids[2].clone(), ids[1].clone()]);
    let first = &page.body["jobs"][0];
    assert_eq!(first["kind"], "simulation");
    assert_eq!(first["status"], "done");
    assert!(first.get("result").is_none(), "{first}");
    assert!(first["finished_ms"].as_i64() >= first["created_ms"].as_i64());
    // What each was, in a line: the plant, what it compared (four variants, three named), the
    // runs and the horizon.
    assert_eq!(
        first["title"],
        "Reference serial line · 4 variants: two M2, two M3, two M1, 1 more · 2 runs each · 1 h 07 min"
    );
    assert_eq!(
        page.body["jobs"][1]["title"],
        "Reference serial line · the scenario as it is · 2 runs each · 50 min"
    );
    assert_eq!(
        get(&s, &format!("/jobs/{}", ids[2]), Some(READ)).body["title"],
        first["title"]
    );
    // The next page: the oldest, and no page after it.
    let next = page.body["next"].as_str().expect("a next page").to_string();
    let rest = get(&s, &next, Some(READ));
    assert_eq!(listed(&rest.body), [ids[0].clone()]);
    assert!(rest.body["next"].is_null(), "{}", rest.text);
    // Of one kind: no schedule was made.
    let schedules = get(&s, "/jobs?kind=schedule", Some(READ));
    assert_eq!(schedules.status, 200, "{}", schedules.text);
    assert!(listed(&schedules.body).is_empty(), "{}", schedules.text);
    let simulations = get(&s, "/jobs?kind=simulation&limit=3", Some(READ));
    assert_eq!(listed(&simulations.body).len(), 3);
    assert_eq!(
        simulations.body["next"],
        format!("/jobs?before={}&limit=3&kind=simulation", ids[0])
    );
    assert_problem(&get(&s, "/jobs?kind=study", Some(READ)), 400, "bad-request");
    // Refused in words: a page too long, a job that is not there; and only with a token.
    assert_problem(&get(&s, "/jobs?limit=500", Some(READ)), 400, "bad-request");
    assert_problem(&get(&s, "/jobs?before=j0", Some(READ)), 400, "bad-request");
    assert_eq!(get(&s, "/jobs", None).status, 401);
}
