//! Health, readiness, Prometheus metrics and the API document.

use super::*;

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

#[utoipa::path(get, path = "/health", responses((status = 200, description = "OK", body = Health)))]
pub(super) async fn health() -> Json<Health> {
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
pub(super) async fn ready() -> Json<Readiness> {
    Json(Readiness { ready: true })
}

/// Prometheus text format: requests and latencies per route, events accepted / duplicate /
/// rejected, jobs queued and running, and the twin's lag behind the wall clock.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
pub(super) async fn metrics(State(s): State<Shared>) -> Response {
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
pub(super) async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
