//! The routes, their handlers and the OpenAPI document generated from them (utoipa). Handlers
//! check what they are sent before any work starts (a 4xx that names the field), run blocking work
//! off the async runtime, and answer JSON.

use crate::Server;
use crate::jobs::{JobView, Work};
use crate::problem::{Body, FieldError, Problem, non_negative};
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use takt_model::{
    Loaded, ScenarioError, compile_located, parse_duration, parse_override, parse_scenario,
};
use takt_scheduler::planning::{
    self, PlanningError, PlantScheduleRequest, ScheduleSolver, SolveRequest, schedule_plant,
};
use takt_twin::{KpiReport, KpiWindow, TwinState};
use tokio_stream::StreamExt;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;
use utoipa::{OpenApi, ToSchema};

type Shared = Arc<Server>;

/// Runs blocking work (SQLite, compiling a scenario, simulating) on tokio's blocking pool, so the
/// runtime's threads keep serving; a panic in the work becomes a 500 instead of a dropped connection.
async fn blocking<R: Send + 'static>(
    work: impl FnOnce() -> R + Send + 'static,
) -> Result<R, Problem> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Problem::internal(e.to_string()))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Per-client token buckets for ingestion: `rate` requests per second, bursts of twice that.
pub struct RateLimiter {
    rate: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(rate: f64) -> RateLimiter {
        RateLimiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `client`, or says how many seconds until one is free.
    fn take(&self, client: &str) -> Result<(), u64> {
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return Ok(());
        }
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        let burst = 2.0 * self.rate;
        let (tokens, at) = buckets.entry(client.to_string()).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

// ----- health, readiness, metrics -----

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

#[utoipa::path(get, path = "/health", responses((status = 200, description = "OK", body = Health)))]
async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// What anyone may learn without a token: that the server is ready, nothing of the plant.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    pub ready: bool,
}

/// Ready once the twin is rebuilt (the server answers only after that). Open to probes without a
/// token, so it says nothing else; the counts are in `/metrics` and `/twin/state`.
#[utoipa::path(get, path = "/ready", responses((status = 200, description = "OK", body = Readiness), (status = 503, description = "Busy or not ready (problem+json, Retry-After)", body = Problem)))]
async fn ready() -> Json<Readiness> {
    Json(Readiness { ready: true })
}

/// Prometheus text format: requests and latencies per route, events accepted / duplicate /
/// rejected, jobs queued and running, and the twin's lag behind the wall clock.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
async fn metrics(State(s): State<Shared>) -> Response {
    let state = s.twin.snapshot();
    let (queued, running) = s.jobs.load();
    let newest_ms = takt_model::time::parse_rfc3339_ms(&state.now).unwrap_or(0);
    let lag_s = if state.counters.accepted > 0 {
        (now_ms() - newest_ms) as f64 / 1000.0
    } else {
        0.0
    };
    let text = s.metrics.render(&[
        (
            "takt_twin_events_accepted_total",
            "counter",
            "Events stored and mirrored.",
            state.counters.accepted as f64,
        ),
        (
            "takt_twin_events_duplicate_total",
            "counter",
            "Events already stored (same asset and seq).",
            state.counters.duplicates as f64,
        ),
        (
            "takt_twin_events_rejected_total",
            "counter",
            "Events refused (malformed, unknown asset), kept as dead letters.",
            state.counters.rejected as f64,
        ),
        (
            "takt_jobs_queued",
            "gauge",
            "Jobs waiting for a worker.",
            queued as f64,
        ),
        (
            "takt_jobs_running",
            "gauge",
            "Jobs running.",
            running as f64,
        ),
        (
            "takt_twin_lag_seconds",
            "gauge",
            "Wall clock minus the newest event's time stamp.",
            lag_s,
        ),
    ]);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "the OpenAPI 3.1 document", body = Object)))]
async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

// ----- scenarios -----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScenario {
    /// The scenario file (TOML), as `takt validate` reads it.
    pub toml: String,
}

#[derive(Serialize, ToSchema)]
pub struct ScenarioCheck {
    pub valid: bool,
    pub name: String,
    pub stations: usize,
    pub products: usize,
    pub horizon_s: f64,
}

fn scenario_problem(e: ScenarioError) -> Problem {
    match e {
        ScenarioError::Invalid(diags) => Problem::validation(
            format!("the scenario has {} problem(s)", diags.len()),
            diags
                .iter()
                .map(|d| FieldError {
                    field: if d.line > 0 {
                        format!("{}:{}:{}: {}", d.file.display(), d.line, d.column, d.path)
                    } else {
                        d.path.clone()
                    },
                    message: d.message.clone(),
                })
                .collect(),
        ),
        other => Problem::bad_request(other.to_string()),
    }
}

/// A scenario sent in a request. It may not name files on the server (an order book CSV): the
/// model's loader refuses one when it is given no directory to read from.
fn load_scenario(text: &str, origin: &str) -> Result<Loaded, Problem> {
    let path = std::path::Path::new(origin);
    let scenario = parse_scenario(text, path).map_err(scenario_problem)?;
    compile_located(scenario, text, path, None).map_err(scenario_problem)
}

fn check_of(l: &Loaded) -> ScenarioCheck {
    ScenarioCheck {
        valid: true,
        name: l.model.name.clone(),
        stations: l.model.stations.len(),
        products: l.model.products.len(),
        horizon_s: l.model.horizon_s,
    }
}

/// Checks a scenario without storing it: every problem with its line, column and field.
#[utoipa::path(post, path = "/scenarios/validate", request_body = NewScenario,
    responses((status = 200, description = "OK", body = ScenarioCheck), (status = 422, description = "Does not validate: the failing fields (problem+json)", body = Problem)))]
async fn validate_scenario(Body(req): Body<NewScenario>) -> Result<Json<ScenarioCheck>, Problem> {
    let loaded = blocking(move || load_scenario(&req.toml, "scenario.toml")).await??;
    Ok(Json(check_of(&loaded)))
}

#[derive(Serialize, ToSchema)]
pub struct ScenarioCreated {
    pub id: String,
    pub name: String,
    pub location: String,
}

/// Stores a scenario once it validates.
#[utoipa::path(post, path = "/scenarios", request_body = NewScenario,
    responses((status = 201, description = "Created", body = ScenarioCreated), (status = 422, description = "Does not validate: the failing fields (problem+json)", body = Problem)))]
async fn create_scenario(
    State(s): State<Shared>,
    Body(req): Body<NewScenario>,
) -> Result<Response, Problem> {
    let created = blocking(move || {
        let loaded = load_scenario(&req.toml, "scenario.toml")?;
        let id =
            s.db.add_scenario(&loaded.model.name, &req.toml, now_ms())
                .map_err(|e| Problem::internal(e.to_string()))?;
        Ok::<_, Problem>(ScenarioCreated {
            location: format!("/scenarios/{id}"),
            id,
            name: loaded.model.name,
        })
    })
    .await??;
    let mut response = (StatusCode::CREATED, Json(&created)).into_response();
    if let Ok(v) = HeaderValue::from_str(&created.location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

#[utoipa::path(get, path = "/scenarios", responses((status = 200, description = "OK", body = Vec<crate::db::ScenarioSummary>)))]
async fn list_scenarios(
    State(s): State<Shared>,
) -> Result<Json<Vec<crate::db::ScenarioSummary>>, Problem> {
    s.db.scenarios()
        .map(Json)
        .map_err(|e| Problem::internal(e.to_string()))
}

#[utoipa::path(get, path = "/scenarios/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "OK", body = crate::db::StoredScenario), (status = 404, description = "Not found (problem+json)", body = Problem)))]
async fn get_scenario(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<crate::db::StoredScenario>, Problem> {
    s.db.scenario(&id)
        .map_err(|e| Problem::internal(e.to_string()))?
        .map(Json)
        .ok_or_else(|| Problem::not_found(format!("no scenario `{id}`")))
}

/// The scenario of a request: a stored one by id, or TOML in the request; exactly one.
fn scenario_text(
    s: &Server,
    id: &Option<String>,
    toml: &Option<String>,
) -> Result<(String, String), Problem> {
    match (id, toml) {
        (Some(id), None) => {
            let stored =
                s.db.scenario(id)
                    .map_err(|e| Problem::internal(e.to_string()))?
                    .ok_or_else(|| {
                        Problem::validation(
                            format!("no scenario `{id}`"),
                            vec![FieldError {
                                field: "scenario_id".into(),
                                message: format!("no scenario `{id}` is stored"),
                            }],
                        )
                    })?;
            Ok((stored.toml, format!("{id}.toml")))
        }
        (None, Some(t)) => Ok((t.clone(), "scenario.toml".into())),
        _ => Err(Problem::validation(
            "give `scenario_id` or `scenario`, not both or neither",
            vec![FieldError {
                field: "scenario_id".into(),
                message: "give exactly one of `scenario_id` and `scenario`".into(),
            }],
        )),
    }
}

// ----- jobs -----

#[derive(Serialize, ToSchema)]
pub struct JobAccepted {
    pub id: String,
    pub status: String,
    pub location: String,
}

fn accepted(id: String) -> Response {
    let location = format!("/jobs/{id}");
    let mut response = (
        StatusCode::ACCEPTED,
        Json(JobAccepted {
            id,
            status: "queued".into(),
            location: location.clone(),
        }),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

fn replications_ok(field: &str, n: u32, max: u32, errors: &mut Vec<FieldError>) {
    if n == 0 || n > max {
        errors.push(FieldError {
            field: field.into(),
            message: format!("must be between 1 and {max}, not {n}"),
        });
    }
}

fn duration_of(field: &str, text: &Option<String>, errors: &mut Vec<FieldError>) -> Option<f64> {
    let t = text.as_ref()?;
    match parse_duration(t) {
        Ok(d) if d > 0.0 => Some(d),
        Ok(d) => {
            errors.push(FieldError {
                field: field.into(),
                message: format!("must be > 0, not {d} s"),
            });
            None
        }
        Err(e) => {
            errors.push(FieldError {
                field: field.into(),
                message: e,
            });
            None
        }
    }
}

fn reject(errors: Vec<FieldError>) -> Result<(), Problem> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::validation(
            format!("{} field(s) do not validate", errors.len()),
            errors,
        ))
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantRequest {
    pub name: String,
    /// `path=value` overrides, as `takt whatif --variant` takes them.
    pub overrides: Vec<String>,
}

fn default_replications() -> u32 {
    10
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulationRequest {
    /// A stored scenario's id...
    pub scenario_id: Option<String>,
    /// ...or a scenario file (TOML).
    pub scenario: Option<String>,
    #[serde(default = "default_replications")]
    pub replications: u32,
    pub seed: Option<u64>,
    /// Simulated span, e.g. `8h` (default: the scenario's).
    pub horizon: Option<String>,
    /// What-if variants compared with the base over common random numbers.
    #[serde(default)]
    pub variants: Vec<VariantRequest>,
}

/// Runs a scenario (and its variants) as a job: KPIs with 95% intervals, paired differences to the
/// base. The result is `takt whatif --json`'s.
#[utoipa::path(post, path = "/simulations", request_body = SimulationRequest,
    responses((status = 202, description = "Accepted: the job is queued", body = JobAccepted), (status = 422, description = "Does not validate: the failing fields (problem+json)", body = Problem), (status = 503, description = "Busy or not ready (problem+json, Retry-After)", body = Problem)))]
async fn create_simulation(
    State(s): State<Shared>,
    Body(req): Body<SimulationRequest>,
) -> Result<Response, Problem> {
    let mut errors = Vec::new();
    replications_ok(
        "replications",
        req.replications,
        s.config.max_replications,
        &mut errors,
    );
    let horizon_s = duration_of("horizon", &req.horizon, &mut errors);
    if req.variants.len() > s.config.max_variants {
        errors.push(FieldError {
            field: "variants".into(),
            message: format!(
                "{} variants; one request may compare at most {}",
                req.variants.len(),
                s.config.max_variants
            ),
        });
    }
    let mut variants = Vec::new();
    for (k, v) in req.variants.iter().enumerate() {
        let mut overrides = Vec::new();
        for (j, o) in v.overrides.iter().enumerate() {
            match parse_override(o) {
                Ok(o) => overrides.push(o),
                Err(e) => errors.push(FieldError {
                    field: format!("variants[{k}].overrides[{j}]"),
                    message: e,
                }),
            }
        }
        variants.push(takt_experiments::VariantSpec {
            name: v.name.clone(),
            description: None,
            overrides,
            sweep_point: Vec::new(),
        });
    }
    reject(errors)?;
    let (text, origin) = scenario_text(&s, &req.scenario_id, &req.scenario)?;
    let check_text = text.clone();
    let check_origin = origin.clone();
    let check_variants = variants.clone();
    blocking(move || check_simulation(&check_text, &check_origin, &check_variants, horizon_s))
        .await??;
    let spec = takt_experiments::ExperimentSpec {
        base_text: text,
        origin: origin.into(),
        base_dir: None,
        variants,
        replications: takt_experiments::Replications::Fixed(req.replications),
        warmup: takt_experiments::WarmupChoice::Scenario,
        seed: req.seed,
        horizon_s,
        series_points: 24,
        goal: None,
    };
    let work: Work = Box::new(move |progress| {
        progress.set_total(u64::from(req.replications) * (1 + spec.variants.len() as u64));
        let x = takt_experiments::run_cancellable(
            &spec,
            &|_, _| progress.step(),
            progress.cancel_flag(),
        )
        .map_err(|e| e.to_string())?;
        serde_json::to_value(&x).map_err(|e| e.to_string())
    });
    let id = blocking(move || s.jobs.submit("simulation", work)).await??;
    Ok(accepted(id))
}

/// The base and each variant compile before a simulation job is accepted, so a bad override is a
/// 422 naming its variant, not a failed job.
fn check_simulation(
    text: &str,
    origin: &str,
    variants: &[takt_experiments::VariantSpec],
    horizon_s: Option<f64>,
) -> Result<(), Problem> {
    let base = load_scenario(text, origin)?;
    let mut errors = Vec::new();
    if let Some(h) = horizon_s
        && let Err(message) = takt_model::limits::check_horizon(&base.model, h)
    {
        errors.push(FieldError {
            field: "horizon".into(),
            message,
        });
    }
    for (k, v) in variants.iter().enumerate() {
        let origin = std::path::Path::new(origin);
        if let Err(e) = takt_model::load_with_overrides(text, origin, None, &v.overrides) {
            let diagnostics = e.diagnostics();
            errors.extend(diagnostics.iter().map(|d| FieldError {
                field: format!("variants[{k}].overrides: {}", d.path),
                message: d.message.clone(),
            }));
            if diagnostics.is_empty() {
                errors.push(FieldError {
                    field: format!("variants[{k}].overrides"),
                    message: e.to_string(),
                });
            }
        }
    }
    reject(errors)
}

fn default_horizon() -> String {
    "14d".into()
}
fn default_bucket() -> String {
    "4h".into()
}
fn default_service() -> String {
    "1h".into()
}
fn default_repair_cost() -> f64 {
    800.0
}
fn default_service_cost() -> f64 {
    300.0
}
fn default_downtime_cost() -> f64 {
    1000.0
}
fn default_max_risk() -> f64 {
    1.0
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceRequest {
    pub scenario_id: Option<String>,
    pub scenario: Option<String>,
    /// Plan from the twin's state now (the ages it has mirrored); the scenario must be the twin's.
    #[serde(default)]
    pub from_twin: bool,
    #[serde(default = "default_horizon")]
    pub horizon: String,
    #[serde(default = "default_bucket")]
    pub bucket: String,
    #[serde(default = "default_repair_cost")]
    pub repair_cost: f64,
    #[serde(default = "default_service_cost")]
    pub service_cost: f64,
    /// Lost margin per hour a station stands in production time.
    #[serde(default = "default_downtime_cost")]
    pub downtime_cost: f64,
    #[serde(default = "default_service")]
    pub service_duration: String,
    #[serde(default = "default_max_risk")]
    pub max_risk: f64,
    pub crew: Option<u32>,
    /// `greedy` or `milp` (the default in a build with the MILP).
    pub solver: Option<String>,
    /// Replications per policy for the comparison in the simulator.
    pub compare: Option<u32>,
    pub seed: Option<u64>,
}

/// Maintenance windows for a plant as a job (`takt maintain --json`'s result).
#[utoipa::path(post, path = "/maintenance-plans", request_body = MaintenanceRequest,
    responses((status = 202, description = "Accepted: the job is queued", body = JobAccepted), (status = 422, description = "Does not validate: the failing fields (problem+json)", body = Problem), (status = 503, description = "Busy or not ready (problem+json, Retry-After)", body = Problem)))]
async fn create_maintenance_plan(
    State(s): State<Shared>,
    Body(req): Body<MaintenanceRequest>,
) -> Result<Response, Problem> {
    use takt_maintenance::maintain::{PlanRequest, Solver, plan_plant, steps};
    use takt_maintenance::plant::{Costs, Settings};
    let mut errors = Vec::new();
    let horizon_s = duration_of("horizon", &Some(req.horizon.clone()), &mut errors);
    let bucket_s = duration_of("bucket", &Some(req.bucket.clone()), &mut errors);
    let service_s = duration_of(
        "service_duration",
        &Some(req.service_duration.clone()),
        &mut errors,
    );
    non_negative("repair_cost", req.repair_cost, &mut errors);
    non_negative("service_cost", req.service_cost, &mut errors);
    non_negative("downtime_cost", req.downtime_cost, &mut errors);
    if !(0.0..=1.0).contains(&req.max_risk) {
        errors.push(FieldError {
            field: "max_risk".into(),
            message: format!("must be in [0, 1], not {}", req.max_risk),
        });
    }
    if let Some(n) = req.compare {
        replications_ok("compare", n, s.config.max_replications, &mut errors);
    }
    let solver = match req.solver.as_deref() {
        Some("greedy") => Some(Solver::Greedy),
        None | Some("milp") => Some(Solver::Milp { time_limit_s: 20.0 }),
        Some(other) => {
            errors.push(FieldError {
                field: "solver".into(),
                message: format!("`{other}` is not `greedy` or `milp`"),
            });
            None
        }
    };
    if req.from_twin && req.compare.is_some() {
        errors.push(FieldError {
            field: "compare".into(),
            message: "a plan from the twin's state cannot be compared in the simulator yet".into(),
        });
    }
    if req.from_twin && (req.scenario.is_some() || req.scenario_id.is_some()) {
        errors.push(FieldError {
            field: "from_twin".into(),
            message: "plans from the twin use the twin's own scenario: drop `scenario`".into(),
        });
    }
    reject(errors)?;
    let (Some(horizon_s), Some(bucket_s), Some(service_s), Some(solver)) =
        (horizon_s, bucket_s, service_s, solver)
    else {
        return Err(Problem::internal("validated fields missing"));
    };
    let (scenario, model, ages, start_s) = if req.from_twin {
        let (now, view) = s.twin.view();
        let now = now.ok_or_else(|| {
            Problem::validation(
                "the twin has no events yet",
                vec![FieldError {
                    field: "from_twin".into(),
                    message: "no events to take ages from".into(),
                }],
            )
        })?;
        let ages = takt_twin::forecast::failure_ages(&s.model, &view, now);
        let start_s = s.model.timebase.model_s(now);
        (s.scenario.clone(), (*s.model).clone(), ages, start_s)
    } else {
        let (text, origin) = scenario_text(&s, &req.scenario_id, &req.scenario)?;
        let loaded = blocking(move || load_scenario(&text, &origin)).await??;
        (loaded.scenario, loaded.model, Default::default(), 0.0)
    };
    let request = PlanRequest {
        settings: Settings {
            start_s,
            horizon_s,
            bucket_s,
            costs: Costs {
                repair: req.repair_cost,
                service: req.service_cost,
                downtime_per_hour: req.downtime_cost,
            },
            service_s,
            max_risk: req.max_risk,
            crew: req.crew,
        },
        baseline_replications: 5,
        seed: req.seed.unwrap_or(model.seed),
        solver,
        compare: req.compare,
    };
    let work: Work = Box::new(move |progress| {
        progress.set_total(steps(&request));
        // A cancelled job starts no further simulation run.
        let out = plan_plant(
            &scenario,
            &model,
            &ages,
            &request,
            &|| progress.step(),
            progress.cancel_flag(),
        )
        .map_err(|e| e.to_string())?;
        serde_json::to_value(&out).map_err(|e| e.to_string())
    });
    let id = blocking(move || s.jobs.submit("maintenance-plan", work)).await??;
    Ok(accepted(id))
}

fn default_objective() -> String {
    "tardiness".into()
}
fn default_time_limit() -> String {
    "5s".into()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    pub scenario_id: Option<String>,
    /// A scenario with an order book (`[demand] orders`).
    pub scenario: Option<String>,
    /// `makespan`, `tardiness`, `late`, `setup`; `+` for a weighted sum, `,` for a ranking.
    #[serde(default = "default_objective")]
    pub objective: String,
    /// `auto` (default), `dispatch`, `search` or `milp` (makespan only, in a build with it).
    #[serde(default)]
    pub solver: ScheduleSolver,
    /// The time budget of the whole solve, at most 60 s.
    #[serde(default = "default_time_limit")]
    pub time_limit: String,
    pub seed: Option<u64>,
    /// Run the plan this many times in the simulator (failures, repairs and scrap as in the
    /// scenario): each order's chance to be on time.
    pub robustness_replications: Option<u32>,
}

/// A detailed schedule of the scenario's order book on its machines, checked for feasibility
/// before it is stored: `takt schedule`'s plan (`takt_scheduler::planning::schedule_plant`), the
/// same JSON as `takt schedule --json` (`PlantSchedule`).
#[utoipa::path(post, path = "/schedules", request_body = ScheduleRequest,
    responses((status = 202, description = "Accepted: the job is queued; its result is a `PlantSchedule`", body = JobAccepted), (status = 422, description = "Does not validate: the failing fields (problem+json)", body = Problem), (status = 503, description = "Busy or not ready (problem+json, Retry-After)", body = Problem)))]
async fn create_schedule(
    State(s): State<Shared>,
    Body(req): Body<ScheduleRequest>,
) -> Result<Response, Problem> {
    let mut errors = Vec::new();
    let objective = match req
        .objective
        .parse::<takt_scheduler::objective::Objective>()
    {
        Ok(o) => Some(o),
        Err(e) => {
            errors.push(FieldError {
                field: "objective".into(),
                message: e.to_string(),
            });
            None
        }
    };
    let limit_s = duration_of("time_limit", &Some(req.time_limit.clone()), &mut errors);
    if limit_s.is_some_and(|l| l > 60.0) {
        errors.push(FieldError {
            field: "time_limit".into(),
            message: "must be at most 60 s".into(),
        });
    }
    if let Some(n) = req.robustness_replications {
        replications_ok(
            "robustness_replications",
            n,
            s.config.max_replications,
            &mut errors,
        );
    }
    if req.solver == ScheduleSolver::Milp && objective.as_ref().is_some_and(|o| !o.is_makespan()) {
        errors.push(FieldError {
            field: "solver".into(),
            message: PlanningError::MilpNeedsMakespan.to_string(),
        });
    }
    reject(errors)?;
    let (Some(objective), Some(limit_s)) = (objective, limit_s) else {
        return Err(Problem::internal("validated fields missing"));
    };
    let (text, origin) = scenario_text(&s, &req.scenario_id, &req.scenario)?;
    let (model, plant) = blocking(move || {
        let loaded = load_scenario(&text, &origin)?;
        let plant = takt_scheduler::plant::from_model(&loaded.model).map_err(|e| {
            Problem::validation(
                e.to_string(),
                vec![FieldError {
                    field: "scenario".into(),
                    message: e.to_string(),
                }],
            )
        })?;
        plant
            .problem
            .validate()
            .map_err(|e| Problem::validation(e.to_string(), vec![]))?;
        Ok::<_, Problem>((Arc::new(loaded.model), plant))
    })
    .await??;
    let request = PlantScheduleRequest {
        solve: SolveRequest {
            objective,
            solver: req.solver,
            time_limit_s: limit_s,
            iterations: u64::MAX,
            // One job, one worker of the pool.
            searches: 1,
            seed: req.seed.unwrap_or(model.seed),
        },
        robustness_replications: req.robustness_replications,
    };
    let work: Work = Box::new(move |progress| {
        progress.set_total(planning::steps(&request));
        // The limit counts from the job's start: a queued job has all of its time.
        let (plan, _) = schedule_plant(
            &model,
            &plant,
            &request,
            std::time::Instant::now(),
            &|| progress.step(),
            progress.cancel_flag(),
        )
        .map_err(|e| e.to_string())?;
        serde_json::to_value(&plan).map_err(|e| e.to_string())
    });
    let id = blocking(move || s.jobs.submit("schedule", work)).await??;
    Ok(accepted(id))
}

#[utoipa::path(get, path = "/jobs/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "OK", body = JobView), (status = 404, description = "Not found (problem+json)", body = Problem)))]
async fn get_job(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<JobView>, Problem> {
    let jobs = Arc::clone(&s.jobs);
    let key = id.clone();
    blocking(move || jobs.get(&key))
        .await??
        .map(Json)
        .ok_or_else(|| Problem::not_found(format!("no job `{id}`")))
}

/// Cancels a job: a queued one never runs; a running one's result is dropped.
#[utoipa::path(delete, path = "/jobs/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "OK", body = JobView), (status = 404, description = "Not found (problem+json)", body = Problem)))]
async fn cancel_job(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<JobView>, Problem> {
    let jobs = Arc::clone(&s.jobs);
    let key = id.clone();
    blocking(move || jobs.cancel(&key))
        .await??
        .map(Json)
        .ok_or_else(|| Problem::not_found(format!("no job `{id}`")))
}

/// Server-sent events: the job's view every half second until it ends (`event: end`).
#[utoipa::path(get, path = "/jobs/{id}/events", params(("id" = String, Path)),
    responses((status = 200, description = "text/event-stream of JobView", content_type = "text/event-stream"), (status = 404, description = "Not found (problem+json)", body = Problem)))]
async fn job_events(State(s): State<Shared>, Path(id): Path<String>) -> Result<Response, Problem> {
    if s.jobs.get(&id)?.is_none() {
        return Err(Problem::not_found(format!("no job `{id}`")));
    }
    let jobs = Arc::clone(&s.jobs);
    let stream = async_stream(jobs, id);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

fn async_stream(
    jobs: Arc<crate::jobs::Jobs>,
    id: String,
) -> impl tokio_stream::Stream<Item = Result<Event, std::convert::Infallible>> {
    let ticks = tokio_stream::wrappers::IntervalStream::new(tokio::time::interval(
        std::time::Duration::from_millis(500),
    ));
    let mut ended = false;
    ticks
        .map(move |_| jobs.get(&id).ok().flatten())
        .take_while(move |view| {
            let go = !ended;
            ended = view
                .as_ref()
                .is_none_or(|v| !matches!(v.status.as_str(), "queued" | "running"));
            go
        })
        .map(|view| {
            let done = view
                .as_ref()
                .is_none_or(|v| !matches!(v.status.as_str(), "queued" | "running"));
            let data = serde_json::to_string(&view).unwrap_or_default();
            Ok(Event::default()
                .event(if done { "end" } else { "progress" })
                .data(data))
        })
}

// ----- twin -----

#[derive(Serialize, ToSchema)]
pub struct IngestResult {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: Vec<RejectedEvent>,
}

#[derive(Serialize, ToSchema)]
pub struct RejectedEvent {
    /// Position in the batch (0-based).
    pub index: usize,
    pub reason: String,
}

/// Ingests a batch of events in the takt schema (a JSON array; see `docs/events.md`). Each event
/// is checked on its own: bad ones are refused with their index and reason and kept as dead
/// letters, good ones are stored durably before the answer (idempotent by asset + seq).
#[utoipa::path(post, path = "/twin/events", request_body(content = Vec<Object>, description = "events in the takt schema"),
    responses((status = 200, description = "OK", body = IngestResult), (status = 400, description = "Malformed request (problem+json)", body = Problem), (status = 413, description = "Body too large (problem+json)", body = Problem), (status = 429, description = "Rate limited (problem+json, Retry-After)", body = Problem)))]
async fn ingest(
    State(s): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<IngestResult>, Problem> {
    // JSON only, as on every other route (the body is read raw here, for speed).
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        });
    if !json {
        return Err(Problem::not_json());
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(e.body_text())
        } else {
            Problem::bad_request(e.body_text())
        }
    })?;
    let client = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| peer.ip().to_string(), |t| t.to_string());
    if let Err(wait) = s.limiter.take(&client) {
        return Err(Problem::rate_limited(
            format!(
                "more than {} ingestion requests per second",
                s.config.ingest_per_s
            ),
            wait,
        ));
    }
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_slice(&body).map_err(|e| {
        Problem::bad_request(format!("the body must be a JSON array of events: {e}"))
    })?;
    let lines: Vec<String> = items.iter().map(|r| r.get().to_string()).collect();
    let twin = Arc::clone(&s.twin);
    let report = blocking(move || {
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        twin.ingest("http", &refs, now_ms())
    })
    .await?
    .map_err(|e| Problem::internal(format!("the event store failed: {e}")))?;
    Ok(Json(IngestResult {
        accepted: report.accepted,
        duplicates: report.duplicates,
        rejected: report
            .rejected
            .into_iter()
            .map(|r| RejectedEvent {
                index: r.index,
                reason: r.reason,
            })
            .collect(),
    }))
}

/// The mirrored plant as of the newest event: every machine's state and since when, counts,
/// current product, live OEE over the KPI window, and the ingestion counters.
#[utoipa::path(get, path = "/twin/state", responses((status = 200, description = "the twin's state", body = TwinState)))]
async fn twin_state(State(s): State<Shared>) -> Response {
    Json(&*s.twin.snapshot()).into_response()
}

#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
pub struct KpiQuery {
    /// `shift` (the default): the running shift, from its start to now. `previous`: the shift
    /// before it, complete.
    pub window: Option<String>,
}

/// ISO 22400 KPIs per machine over the running shift, or the shift before it.
#[utoipa::path(get, path = "/twin/kpis", params(KpiQuery),
    responses((status = 200, description = "OK", body = KpiReport), (status = 400, description = "Malformed request (problem+json)", body = Problem)))]
async fn twin_kpis(
    State(s): State<Shared>,
    Query(q): Query<KpiQuery>,
) -> Result<Json<KpiReport>, Problem> {
    let window: KpiWindow = q
        .window
        .as_deref()
        .unwrap_or("shift")
        .parse()
        .map_err(Problem::bad_request)?;
    Ok(Json(s.twin.snapshot().kpis(window)))
}

fn default_forecast_replications() -> u32 {
    100
}
fn default_plan_replications() -> u32 {
    30
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForecastRequest {
    /// Until when: an RFC 3339 time or a span from now (`2h`); default the end of the running shift.
    pub until: Option<String>,
    #[serde(default = "default_forecast_replications")]
    pub replications: u32,
    /// Runs of the plan for the deviation flags (0 skips them).
    #[serde(default = "default_plan_replications")]
    pub plan_replications: u32,
    pub seed: Option<u64>,
}

/// Forks the twin's state into the simulator and forecasts output, OEE and orders to the end of the
/// running shift (or `until`) with intervals, and flags deviations from plan (`takt twin forecast --json`'s result).
#[utoipa::path(post, path = "/twin/forecast", request_body = ForecastRequest,
    responses((status = 200, description = "the forecast", body = takt_twin::forecast::Forecast), (status = 422, description = "Does not validate: the failing fields (problem+json)", body = Problem)))]
async fn twin_forecast(
    State(s): State<Shared>,
    Body(req): Body<ForecastRequest>,
) -> Result<Response, Problem> {
    let mut errors = Vec::new();
    replications_ok(
        "replications",
        req.replications,
        s.config.max_replications,
        &mut errors,
    );
    if req.plan_replications > s.config.max_replications {
        errors.push(FieldError {
            field: "plan_replications".into(),
            message: format!(
                "must be at most {}, not {}",
                s.config.max_replications, req.plan_replications
            ),
        });
    }
    let (now, view) = s.twin.view();
    let Some(now_ms) = now else {
        return Err(Problem::validation(
            "the twin has no events yet: nothing to forecast from",
            vec![],
        ));
    };
    let until_s = match &req.until {
        None => None,
        Some(text) => match takt_model::time::parse_moment_after(text, now_ms) {
            Ok(ms) => Some(s.model.timebase.model_s(ms)),
            Err(e) => {
                errors.push(FieldError {
                    field: "until".into(),
                    message: e,
                });
                None
            }
        },
    };
    reject(errors)?;
    let options = takt_twin::forecast::ForecastOptions {
        replications: req.replications,
        seed: req.seed.unwrap_or(s.model.seed),
        until_s,
        plan_replications: req.plan_replications,
    };
    let model = Arc::clone(&s.model);
    let plans = Arc::clone(&s.plans);
    // The forecast runs while this request does: when the client goes away or the request's
    // time is up, the handler is dropped, and with it this guard, which stops the forecast.
    let stop = StopOnDrop::default();
    let flag = Arc::clone(&stop.0);
    let f = blocking(move || {
        takt_twin::forecast::forecast_with_plans(
            &model,
            &view,
            now_ms,
            options,
            Some(&plans),
            &flag,
        )
    })
    .await?
    .map_err(|e| Problem::validation(e.to_string(), vec![]))?;
    Ok(Json(f).into_response())
}

/// Raises its flag when dropped: blocking work a request started stops with the request.
#[derive(Default)]
struct StopOnDrop(Arc<std::sync::atomic::AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Server-sent events of the twin's state, one `state` event per accepted batch.
#[utoipa::path(get, path = "/twin/stream", responses((status = 200, description = "text/event-stream of the twin's state", content_type = "text/event-stream")))]
async fn twin_stream(State(s): State<Shared>) -> Response {
    let first = s.twin.snapshot();
    let changes =
        tokio_stream::wrappers::BroadcastStream::new(s.twin.subscribe()).filter_map(|r| r.ok());
    let stream = tokio_stream::once(first).chain(changes).map(|state| {
        Ok::<_, std::convert::Infallible>(
            Event::default()
                .event("state")
                .data(serde_json::to_string(&*state).unwrap_or_default()),
        )
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[derive(OpenApi)]
#[openapi(
    info(title = "takt", version = takt_twin::WIRE_VERSION, description = "A factory digital twin: simulation, what-if, schedules, maintenance plans and the live twin.\n\nCompatibility: within a major version, fields of answers are only added, never removed, renamed or given another meaning; clients ignore fields they do not know. Times come as RFC 3339 in the plant's offset and as Unix milliseconds (`_ms`); durations are seconds (`_s`); fractions are 0 to 1."),
    paths(
        health, ready, metrics, openapi, validate_scenario, create_scenario, list_scenarios, get_scenario,
        create_simulation, create_schedule, create_maintenance_plan, get_job, cancel_job, job_events, ingest,
        twin_state, twin_kpis, twin_forecast, twin_stream
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// Counts and times every request by its route template.
async fn observe(State(s): State<Shared>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = Instant::now();
    let response = next.run(request).await;
    s.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

fn too_large(detail: String) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        "The body is too large",
        detail,
    )
}

/// Refuses a body whose announced length is over the limit before reading it (a longer body
/// without a length is cut off at the limit by `DefaultBodyLimit`).
async fn announced_length(State(s): State<Shared>, request: Request, next: Next) -> Response {
    let limit = s.config.body_limit_bytes;
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = announced
        && n > limit as u64
    {
        return too_large(format!("{n} bytes announced; the limit is {limit}")).into_response();
    }
    next.run(request).await
}

async fn not_found(request: Request) -> Problem {
    Problem::not_found(format!(
        "no route {} {} (see /openapi.json)",
        request.method(),
        request.uri().path()
    ))
}

pub fn router(server: Shared) -> Router {
    let auth = Arc::new(server.config.auth.clone());
    let mut app = Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/scenarios", post(create_scenario).get(list_scenarios))
        .route("/scenarios/validate", post(validate_scenario))
        .route("/scenarios/{id}", get(get_scenario))
        .route("/simulations", post(create_simulation))
        .route("/schedules", post(create_schedule))
        .route("/maintenance-plans", post(create_maintenance_plan))
        .route("/jobs/{id}", get(get_job).delete(cancel_job))
        .route("/jobs/{id}/events", get(job_events))
        .route("/twin/events", post(ingest))
        .route("/twin/state", get(twin_state))
        .route("/twin/kpis", get(twin_kpis))
        .route("/twin/forecast", post(twin_forecast))
        .route("/twin/stream", get(twin_stream))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(auth, crate::auth::require))
        .layer(DefaultBodyLimit::max(server.config.body_limit_bytes))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&server),
            announced_length,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            server.config.request_timeout,
        ))
        // Outermost, so that refusals (auth, size, timeout) are counted too.
        .layer(middleware::from_fn_with_state(Arc::clone(&server), observe));
    if !server.config.cors_origins.is_empty() {
        let origins: Vec<HeaderValue> = server
            .config
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        app = app.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST, Method::DELETE])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
        );
    }
    app.with_state(server)
}
