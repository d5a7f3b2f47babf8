//! `GET /metrics` in the Prometheus (OpenMetrics) text format, with the `prometheus-client` crate:
//! the server's own figures (requests and latencies per route) kept between scrapes, and the
//! plant's read from the twin at each scrape (`routes::operations`): each machine's state, the
//! running shift's OEE and its factors, good and scrap parts, buffer levels, the event counters
//! and when the newest event happened and arrived. Names follow Prometheus' advice: a `takt_`
//! prefix, base units in the name (`_seconds`, `_ratio` for 0 to 1), `_total` on counters,
//! timestamps rather than ages (PromQL takes `time() - ...`).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// Latency histogram bounds, seconds.
const BOUNDS_S: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(BOUNDS_S)
}

/// The server's figures, kept between scrapes. Routes are templates (`/jobs/{id}`), so the label
/// sets stay few.
#[derive(Debug)]
pub struct Metrics {
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: Family::default(),
            durations: Family::new_with_constructor(latency_histogram),
        }
    }
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabels {
                method: method.to_string(),
                route: route.to_string(),
            })
            .observe(seconds);
    }

    /// The exposition: the server's figures and whatever `scrape` registers in the same registry
    /// (prefixed `takt_`).
    pub fn render(&self, scrape: impl FnOnce(&mut Registry)) -> String {
        let mut registry = Registry::with_prefix("takt");
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            self.requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer, by method and route",
            Unit::Seconds,
            self.durations.clone(),
        );
        scrape(&mut registry);
        let mut out = String::new();
        // Writing into a String does not fail.
        let _ = encode(&mut out, &registry);
        out
    }
}

/// The content type of the exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
