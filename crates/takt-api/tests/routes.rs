//! The API's routes on the router, without a socket (tower's `oneshot`), as axum's testing example
//! does. The binary-level tests (`takt-cli/tests/serve.rs`) keep what needs a process: the wire,
//! kill -9, SIGTERM.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const BOTTLING: &str = include_str!("../../../scenarios/bottling-line.toml");
const BODY_IN_WHITE: &str = include_str!("../../../scenarios/body-in-white.toml");

/// A server on a temporary store, its router, and a runtime to drive it.
struct App {
    server: Arc<takt_api::Server>,
    router: axum::Router,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl App {
    fn new() -> App {
        let dir = tempfile::tempdir().expect("dir");
        let loaded =
            takt_model::load_str(BOTTLING, Path::new("bottling.toml"), None).expect("shipped");
        let mut config = takt_api::Config::new(
            "127.0.0.1:0".parse().expect("addr"),
            dir.path().to_path_buf(),
            takt_api::auth::Auth::Insecure,
        );
        config.workers = 1;
        let server = takt_api::Server::open(config, loaded.scenario, loaded.model).expect("server");
        let router = takt_api::routes::router(Arc::clone(&server));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        App {
            server,
            router,
            runtime,
            _dir: dir,
        }
    }

    /// The status and the body (JSON, or the text as a JSON string).
    fn call(&self, method: Method, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let mut request = request
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .expect("request");
        let peer: SocketAddr = "127.0.0.1:9".parse().expect("addr");
        request.extensions_mut().insert(ConnectInfo(peer));
        self.runtime.block_on(async {
            let answer = self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("infallible");
            let status = answer.status();
            let bytes = axum::body::to_bytes(answer.into_body(), 64 << 20)
                .await
                .expect("body");
            let text = String::from_utf8_lossy(&bytes).to_string();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        })
    }

    /// Waits for a job to end, and returns its view.
    fn finished(&self, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (status, view) = self.call(Method::GET, &format!("/jobs/{id}"), None);
            assert_eq!(status, StatusCode::OK, "{view}");
            if !matches!(view["status"].as_str(), Some("queued" | "running")) {
                return view;
            }
            assert!(Instant::now() < deadline, "job {id} still runs: {view}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.server.jobs.shutdown(Duration::from_millis(100));
    }
}

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
            solver: takt_scheduler::planning::Solver::Dispatch,
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
