//! The routes, their handlers and the OpenAPI document generated from them (utoipa). Handlers
//! check what they are sent before any work starts (a 4xx that names the field), run blocking work
//! off the async runtime, and answer JSON.

use crate::jobs::{JobList, JobSpec, JobView, PlantAtStart};
use crate::problem::{Body, FieldError, Problem, non_negative};
use crate::{Server, now_ms};
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
use takt_scheduler::planning::{PlanningError, ScheduleSolver};
use takt_twin::{KpiReport, KpiWindow, TwinState};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
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

/// Parses and compiles a scenario sent in a request (with whatever else `work` does) on the
/// blocking pool, once one of the server's permits for it is free (`Config::scenario_loads`): the
/// memory a parse holds is bounded per request, and this bounds how many hold it at once.
async fn loading<R: Send + 'static>(
    s: &Server,
    work: impl FnOnce() -> R + Send + 'static,
) -> Result<R, Problem> {
    let permit = permit(&s.scenario_loads).await?;
    gated(permit, work).await
}

/// Waits for one of a gate's permits (requests wait in the order they came).
async fn permit(gate: &Arc<Semaphore>) -> Result<OwnedSemaphorePermit, Problem> {
    Arc::clone(gate)
        .acquire_owned()
        .await
        .map_err(|e| Problem::internal(e.to_string()))
}

/// Runs `work` on the blocking pool holding `permit` until the work ends, even if the request
/// gave up waiting for it.
async fn gated<R: Send + 'static>(
    permit: OwnedSemaphorePermit,
    work: impl FnOnce() -> R + Send + 'static,
) -> Result<R, Problem> {
    blocking(move || {
        let result = work();
        drop(permit);
        result
    })
    .await
}

/// A self-contained report page sent as a download named `filename`: it is data, not a page of
/// this server, so no script runs in it (`default-src 'none'`) and the browser saves it.
fn html_download(html: String, filename: &str) -> Response {
    let mut response = html.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let safe: String = filename
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// Per-client token buckets for ingestion: `rate` requests per second, bursts of twice that.
pub struct RateLimiter {
    rate: f64,
    buckets: Mutex<Buckets>,
}

/// The clients' token buckets, and the size past which the full ones are dropped.
struct Buckets {
    by_client: HashMap<String, (f64, Instant)>,
    prune_above: usize,
}

/// The fewest buckets kept before full ones are dropped.
const BUCKETS_KEPT: usize = 1024;

impl RateLimiter {
    pub fn new(rate: f64) -> RateLimiter {
        RateLimiter {
            rate,
            buckets: Mutex::new(Buckets {
                by_client: HashMap::new(),
                prune_above: BUCKETS_KEPT,
            }),
        }
    }

    /// Takes a token for `client`, or says how many seconds until one is free.
    fn take(&self, client: &str) -> Result<(), u64> {
        self.take_at(client, Instant::now())
    }

    /// [`RateLimiter::take`] at `now`. A full bucket is the same as none, so once there are more
    /// than `prune_above` the full ones are dropped: the buckets kept are those of the clients
    /// that sent in the last `2 / rate` seconds (the time to refill), however many sent before.
    fn take_at(&self, client: &str, now: Instant) -> Result<(), u64> {
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return Ok(());
        }
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        let (rate, burst) = (self.rate, 2.0 * self.rate);
        let refilled = |(tokens, at): (f64, Instant)| {
            (tokens + now.saturating_duration_since(at).as_secs_f64() * rate).min(burst)
        };
        if buckets.by_client.len() > buckets.prune_above {
            buckets.by_client.retain(|_, b| refilled(*b) < burst);
            buckets.prune_above = BUCKETS_KEPT.max(2 * buckets.by_client.len());
        }
        let bucket = buckets
            .by_client
            .entry(client.to_string())
            .or_insert((burst, now));
        let tokens = refilled(*bucket);
        if tokens >= 1.0 {
            *bucket = (tokens - 1.0, now);
            Ok(())
        } else {
            *bucket = (tokens, now);
            Err(((1.0 - tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

pub(super) fn replications_ok(field: &str, n: u32, max: u32, errors: &mut Vec<FieldError>) {
    if n == 0 || n > max {
        errors.push(FieldError {
            field: field.into(),
            message: format!("must be between 1 and {max}, not {n}"),
        });
    }
}

pub(super) fn duration_of(
    field: &str,
    text: &Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<f64> {
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
                message: e.to_string(),
            });
            None
        }
    }
}

pub(super) fn reject(errors: Vec<FieldError>) -> Result<(), Problem> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::validation(
            format!("{} field(s) do not validate", errors.len()),
            errors,
        ))
    }
}

mod jobs;
mod last_forecast;
mod operations;
mod orders;
mod plants;
mod scenarios;
mod twin;
pub use crate::jobs::MaintenanceResult;
use jobs::*;
pub use last_forecast::LastForecast;
use operations::*;
use orders::*;
use plants::*;
use scenarios::*;
use twin::*;

#[derive(OpenApi)]
#[openapi(
    info(title = "takt", version = takt_twin::WIRE_VERSION, description = "A factory digital twin: simulation, what-if, schedules, maintenance plans and the live twin.\n\nCompatibility: within a major version, fields of answers are only added, never removed, renamed or given another meaning; clients ignore fields they do not know. Times come as RFC 3339 in the plant's offset and as Unix milliseconds (`_ms`); durations are seconds (`_s`); fractions are 0 to 1."),
    paths(
        health, ready, metrics, openapi, validate_scenario, create_scenario, list_scenarios, get_scenario,
        create_simulation, create_schedule, create_maintenance_plan, list_jobs, get_job, cancel_job, job_events, job_report, ingest,
        twin_layout, twin_state, twin_kpis, twin_timeline, twin_shifts, twin_totals, twin_report, twin_buffers, twin_forecast, twin_orders, put_twin_orders, delete_twin_orders, twin_stream,
        twin_alerts, acknowledge_alert, twin_feeds, restart_twin_feeds, list_plants
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth, &PlantRoutes)
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

/// A plant's twin: the default plant's at `/twin`, each plant's at `/plants/{plant}/twin` (the
/// handlers find the plant with `At`).
fn twin_routes() -> Router<Shared> {
    Router::new()
        .route("/events", post(ingest))
        .route("/layout", get(twin_layout))
        .route("/state", get(twin_state))
        .route("/kpis", get(twin_kpis))
        .route("/timeline", get(twin_timeline))
        .route("/shifts", get(twin_shifts))
        .route("/totals", get(twin_totals))
        .route("/report", get(twin_report))
        .route("/buffers", get(twin_buffers))
        .route("/forecast", post(twin_forecast))
        .route(
            "/orders",
            get(twin_orders)
                .put(put_twin_orders)
                .delete(delete_twin_orders),
        )
        .route("/stream", get(twin_stream))
        .route("/alerts", get(twin_alerts))
        .route("/alerts/{id}/acknowledge", post(acknowledge_alert))
        .route("/feeds", get(twin_feeds))
        .route("/feeds/restart", post(restart_twin_feeds))
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
        .route("/jobs", get(list_jobs))
        .route("/jobs/{id}", get(get_job).delete(cancel_job))
        .route("/jobs/{id}/events", get(job_events))
        .route("/jobs/{id}/report", get(job_report))
        .route("/plants", get(list_plants))
        .nest("/twin", twin_routes())
        .nest("/plants/{plant}/twin", twin_routes())
        .route("/", get(crate::web::index))
        .route("/assets/{*file}", get(crate::web::asset))
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
                .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
        );
    }
    app.with_state(server)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_rate_limiter_keeps_only_the_buckets_of_recent_clients() {
        // One request a second, a burst of two: a bucket is full again a second after a take.
        let limiter = RateLimiter::new(1.0);
        let start = Instant::now();
        let kept = || {
            limiter
                .buckets
                .lock()
                .map(|b| b.by_client.len())
                .unwrap_or(0)
        };
        // Ten crowds two seconds apart, each of new clients (as addresses from a large network).
        let crowd = 10 * BUCKETS_KEPT;
        let mut most = 0;
        for c in 0..10u64 {
            let at = start + Duration::from_secs(2 * c);
            for i in 0..crowd {
                assert_eq!(limiter.take_at(&format!("{c}/{i}"), at), Ok(()));
                most = most.max(kept());
            }
        }
        // Without dropping full buckets there would be 10 crowds' worth; a crowd's are dropped
        // once it has gone quiet.
        assert!(most <= 3 * crowd, "{most} buckets kept at most");
        assert!(kept() <= 2 * crowd, "{} buckets at the end", kept());
    }

    #[test]
    fn a_client_at_its_limit_keeps_its_bucket_through_a_prune() {
        let limiter = RateLimiter::new(1.0);
        let start = Instant::now();
        for i in 0..BUCKETS_KEPT {
            assert_eq!(limiter.take_at(&format!("client {i}"), start), Ok(()));
        }
        // A second and a half on, the crowd's buckets are full; the busy client's second take
        // finds more than `BUCKETS_KEPT` and prunes, its own bucket half empty.
        let soon = start + Duration::from_millis(1500);
        assert_eq!(limiter.take_at("busy", soon), Ok(()));
        assert_eq!(limiter.take_at("busy", soon), Ok(()));
        assert_eq!(
            limiter.buckets.lock().map(|b| b.by_client.len()).ok(),
            Some(1),
            "the crowd's full buckets were dropped"
        );
        // Still refused: its bucket was kept, not taken for a full one.
        assert_eq!(limiter.take_at("busy", soon), Err(1));
    }
}
