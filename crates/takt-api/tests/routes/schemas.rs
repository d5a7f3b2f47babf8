//! Typed results: a schedule job against the library's plan, field-by-field validation, and every
//! answer against its schema in the API document.

use crate::harness::{App, BODY_IN_WHITE, BOTTLING};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// `POST /schedules` gives the library's plan, field for field: the same typed result that
/// `takt schedule --json` prints (dispatching is deterministic, so the two can be compared).
#[test]
fn a_schedule_job_returns_the_librarys_plan() {
    let app = App::new();
    let (status, accepted) = app.call(
        Method::POST,
        "/schedules",
        Some(
            &json!({"scenario": BODY_IN_WHITE, "solver": "dispatch", "seed": 3,
            "robustness_replications": 2}),
        ),
    );
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    let view = app.finished(accepted["id"].as_str().expect("id"));
    assert_eq!(view["status"], "done", "{view}");
    let mut from_api = view["result"].clone();

    let loaded = takt_model::load_str(BODY_IN_WHITE, Path::new("biw.toml"), None).expect("biw");
    let model = Arc::new(loaded.model);
    let plant = takt_scheduler::plant::from_model(&model).expect("plant");
    let request = takt_scheduler::planning::PlantScheduleRequest {
        solve: takt_scheduler::planning::SolveRequest {
            objective: "tardiness".parse().expect("objective"),
            solver: takt_scheduler::planning::ScheduleSolver::Dispatch,
            time_limit_s: 5.0,
            iterations: u64::MAX,
            searches: 1,
            seed: 3,
        },
        robustness_replications: Some(2),
    };
    let (plan, _) = takt_scheduler::planning::schedule_plant(
        &model,
        &plant,
        &request,
        Instant::now(),
        &|| {},
        &AtomicBool::new(false),
    )
    .expect("plan");
    let mut direct = serde_json::to_value(&plan).expect("json");
    // Only the time spent differs.
    for v in [&mut from_api, &mut direct] {
        v["seconds"] = json!(0);
    }
    assert_eq!(from_api, direct);
    assert!(plan.operations.len() > 10);
    assert_eq!(
        plan.robustness.as_ref().map(|r| r.orders.len()),
        Some(plan.orders.len())
    );
    // Each machine's breaks lie within the plan.
    for m in &plan.machines {
        assert!(
            m.breaks
                .iter()
                .all(|b| b.start_s < b.end_s && b.end_s <= plan.makespan_s)
        );
    }
}

/// What the request gets wrong is named field by field, before any job is queued.
#[test]
fn a_bad_schedule_request_names_its_fields() {
    let app = App::new();
    let (status, problem) = app.call(
        Method::POST,
        "/schedules",
        Some(
            &json!({"scenario": BODY_IN_WHITE, "objective": "tardiness", "solver": "milp",
            "time_limit": "2h", "robustness_replications": 0}),
        ),
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        ["time_limit", "robustness_replications", "solver"],
        "{problem}"
    );
    let (status, problem) = app.call(
        Method::POST,
        "/schedules",
        Some(&json!({"scenario": BODY_IN_WHITE, "solver": "fastest"})),
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "solver", "{problem}");
}

/// Checks `value` against `schema` of the API document `doc`: types, required fields, and that an
/// object has no field the schema does not name. Returns where it disagrees.
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        if target.is_null() {
            return vec![format!("{at}: {reference} is not in the document")];
        }
        return conforms(doc, target, value, at);
    }
    if let Some(options) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        let fits = options
            .iter()
            .map(|o| conforms(doc, o, value, at))
            .collect::<Vec<_>>();
        return if fits.iter().any(Vec::is_empty) {
            Vec::new()
        } else {
            vec![format!(
                "{at}: fits none of its {} forms: {fits:?}",
                options.len()
            )]
        };
    }
    // An object's parts (allOf, from flattened fields) together name its fields.
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    let mut parts = vec![schema.clone()];
    while let Some(part) = parts.pop() {
        if let Some(reference) = part["$ref"].as_str() {
            let name = reference.trim_start_matches("#/components/schemas/");
            parts.push(doc["components"]["schemas"][name].clone());
            continue;
        }
        if let Some(all) = part["allOf"].as_array() {
            parts.extend(all.iter().cloned());
        }
        if let Some(p) = part["properties"].as_object() {
            properties.extend(p.clone());
        }
        if let Some(r) = part["required"].as_array() {
            required.extend(r.iter().filter_map(|x| x.as_str().map(String::from)));
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ if !properties.is_empty() => vec!["object"],
        _ => Vec::new(),
    };
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let allowed = types.is_empty()
        || types.contains(&kind)
        || (kind == "integer" && types.contains(&"number"));
    if !allowed {
        return vec![format!("{at}: a {kind}, documented as {types:?}")];
    }
    let mut problems = Vec::new();
    match value {
        Value::Object(fields) if !properties.is_empty() => {
            for name in &required {
                if !fields.contains_key(name) {
                    problems.push(format!("{at}.{name}: required, absent"));
                }
            }
            for (name, v) in fields {
                match properties.get(name) {
                    Some(s) => problems.extend(conforms(doc, s, v, &format!("{at}.{name}"))),
                    None => problems.push(format!("{at}.{name}: not in the document")),
                }
            }
        }
        Value::Object(fields) if schema["additionalProperties"].is_object() => {
            for (name, v) in fields {
                problems.extend(conforms(
                    doc,
                    &schema["additionalProperties"],
                    v,
                    &format!("{at}.{name}"),
                ));
            }
        }
        Value::Array(items) if schema["items"].is_object() => {
            for (i, v) in items.iter().enumerate() {
                problems.extend(conforms(doc, &schema["items"], v, &format!("{at}[{i}]")));
            }
        }
        _ => {}
    }
    problems
}

/// The answers of the routes, as served, against the schemas the API document gives them: what a
/// client generated from `/openapi.json` would read.
#[test]
fn every_answer_matches_its_schema_in_the_api_document() {
    let app = App::new();
    let (_, doc) = app.call(Method::GET, "/openapi.json", None);
    let schema_of = |path: &str, method: &str, status: &str| {
        doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
            .clone()
    };
    let check = |path: &str, method: &str, status: &str, value: &Value| {
        let schema = schema_of(path, method, status);
        assert!(schema.is_object(), "{method} {path} {status}: no schema");
        let problems = conforms(&doc, &schema, value, &format!("{method} {path}"));
        assert!(problems.is_empty(), "{problems:#?}");
    };
    // Feed the twin five minutes of the bottling line.
    let recording = crate::harness::RECORDING;
    let events: Vec<Value> = recording
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    for chunk in events.chunks(2000) {
        let (status, body) = app.call(Method::POST, "/twin/events", Some(&json!(chunk)));
        assert_eq!(status, StatusCode::OK, "{body}");
        check("/twin/events", "post", "200", &body);
    }
    for (path, status) in [
        ("/health", "200"),
        ("/ready", "200"),
        ("/scenarios", "200"),
        ("/twin/layout", "200"),
        ("/twin/state", "200"),
        ("/twin/kpis", "200"),
        ("/twin/kpis?window=previous", "200"),
        ("/twin/timeline", "200"),
        ("/twin/timeline?window=previous", "200"),
        ("/twin/shifts", "200"),
        ("/twin/totals", "200"),
        ("/twin/totals?period=week", "200"),
        ("/twin/buffers", "200"),
        ("/twin/report?window=shift", "200"),
        ("/twin/report", "200"),
    ] {
        let (code, body) = app.call(Method::GET, path, None);
        assert_eq!(code.as_str(), status, "{path}: {body}");
        check(path.split('?').next().unwrap_or(path), "get", status, &body);
    }
    // The site's plants, and a plant's routes under the document's `/plants/{plant}`.
    let (code, plants) = app.call(Method::GET, "/plants", None);
    assert_eq!(code, StatusCode::OK, "{plants}");
    check("/plants", "get", "200", &plants);
    let id = plants["plants"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for route in ["/twin/state", "/twin/layout", "/twin/kpis", "/twin/alerts"] {
        let (code, body) = app.call(Method::GET, &format!("/plants/{id}{route}"), None);
        assert_eq!(code, StatusCode::OK, "{route}: {body}");
        check(&format!("/plants/{{plant}}{route}"), "get", "200", &body);
    }
    let (code, state) = app.call(Method::GET, "/twin/state", None);
    assert_eq!(code, StatusCode::OK);
    assert!(
        state["assets"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["good"].as_u64() > Some(0))),
        "{state}"
    );
    let (code, forecast) = app.call(
        Method::POST,
        "/twin/forecast",
        Some(&json!({"replications": 4, "until": "10min"})),
    );
    assert_eq!(code, StatusCode::OK, "{forecast}");
    check("/twin/forecast", "post", "200", &forecast);
    let (code, problem) = app.call(Method::GET, "/twin/kpis?window=week", None);
    assert_eq!(code, StatusCode::BAD_REQUEST);
    check("/twin/kpis", "get", "400", &problem);
    // The live order book: none yet, a bad one, a good one, and the forecast of its orders.
    let (code, problem) = app.call(Method::GET, "/twin/orders", None);
    assert_eq!(code, StatusCode::NOT_FOUND, "{problem}");
    let book = |product: &str| {
        json!({"orders": [{"id": "WO-1", "product": product, "quantity": 100, "good": 10,
            "due": "2026-01-05T09:00:00+01:00"}]})
    };
    let (code, problem) = app.call(Method::PUT, "/twin/orders", Some(&book("lemonade")));
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    check("/twin/orders", "put", "422", &problem);
    let (code, given) = app.call(Method::PUT, "/twin/orders", Some(&book("cola-033")));
    assert_eq!(code, StatusCode::OK, "{given}");
    check("/twin/orders", "put", "200", &given);
    let (_, kept) = app.call(Method::GET, "/twin/orders", None);
    check("/twin/orders", "get", "200", &kept);
    let (code, forecast) = app.call(
        Method::POST,
        "/twin/forecast",
        Some(&json!({"replications": 4, "until": "10min"})),
    );
    assert_eq!(code, StatusCode::OK, "{forecast}");
    assert_eq!(forecast["orders"][0]["id"], "WO-1", "{forecast}");
    check("/twin/forecast", "post", "200", &forecast);

    // Each kind of job's result against `JobView`'s.
    for (path, request) in [
        (
            "/schedules",
            json!({"scenario": BODY_IN_WHITE, "solver": "dispatch", "robustness_replications": 2}),
        ),
        (
            "/simulations",
            json!({"scenario": BOTTLING, "replications": 2, "horizon": "1h",
                "variants": [{"name": "faster", "overrides": ["stations.Filler.machines=2"]}]}),
        ),
        (
            "/maintenance-plans",
            json!({"scenario": BOTTLING, "horizon": "2d"}),
        ),
    ] {
        let (code, accepted) = app.call(Method::POST, path, Some(&request));
        assert_eq!(code, StatusCode::ACCEPTED, "{path}: {accepted}");
        check(path, "post", "202", &accepted);
        let view = app.finished(accepted["id"].as_str().expect("id"));
        assert_eq!(view["status"], "done", "{path}: {view}");
        check("/jobs/{id}", "get", "200", &view);
    }
}

/// The screens are typed from the API document: `web/openapi.json` is this server's document, and
/// `web/src/api-schema.d.ts` is generated from it (scripts/web.sh). A change to an answer's type
/// shows here first; `TAKT_UPDATE_WEB_API=1 cargo test -p takt-api` writes the new document,
/// then scripts/web.sh regenerates the types and type-checks the pages against them.
#[test]
fn the_screens_are_typed_from_this_api_document() {
    use utoipa::OpenApi;
    let document = takt_api::routes::ApiDoc::openapi()
        .to_pretty_json()
        .expect("document")
        + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/openapi.json");
    if std::env::var_os("TAKT_UPDATE_WEB_API").is_some() {
        std::fs::write(&path, &document).expect("write web/openapi.json");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == document,
        "web/openapi.json is not this server's API document: run \
         `TAKT_UPDATE_WEB_API=1 cargo test -p takt-api --test routes` and scripts/web.sh"
    );
}
