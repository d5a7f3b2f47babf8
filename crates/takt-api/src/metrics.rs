//! Request counts and latencies, exposed with the twin's and the job queue's figures in
//! Prometheus' text format (`GET /metrics`).

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Latency histogram bounds, seconds.
const BOUNDS_S: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default)]
struct Route {
    /// Per status code.
    count: BTreeMap<u16, u64>,
    /// Per bound (cumulative when printed), then the sum.
    buckets: [u64; BOUNDS_S.len()],
    sum_s: f64,
    total: u64,
}

#[derive(Debug, Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(String, String), Route>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let Ok(mut routes) = self.routes.lock() else {
            return;
        };
        let r = routes
            .entry((method.to_string(), route.to_string()))
            .or_default();
        *r.count.entry(status).or_default() += 1;
        if let Some(k) = BOUNDS_S.iter().position(|b| seconds <= *b) {
            r.buckets[k] += 1;
        }
        r.sum_s += seconds;
        r.total += 1;
    }

    /// The text exposition: requests, latencies, and the `extra` gauges and counters given as
    /// (name, type, help, value).
    pub fn render(&self, extra: &[(&str, &str, &str, f64)]) -> String {
        let mut out = String::new();
        out += "# HELP takt_http_requests_total HTTP requests by method, route and status.\n";
        out += "# TYPE takt_http_requests_total counter\n";
        let routes = self.routes.lock().map(|r| {
            r.iter()
                .map(|(k, v)| (k.clone(), v.count.clone(), v.buckets, v.sum_s, v.total))
                .collect::<Vec<_>>()
        });
        let routes = routes.unwrap_or_default();
        for ((method, route), count, _, _, _) in &routes {
            for (status, n) in count {
                out += &format!(
                    "takt_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}\n"
                );
            }
        }
        out += "# HELP takt_http_request_duration_seconds Time to answer, by method and route.\n";
        out += "# TYPE takt_http_request_duration_seconds histogram\n";
        for ((method, route), _, buckets, sum, total) in &routes {
            let mut cumulative = 0;
            for (b, n) in BOUNDS_S.iter().zip(buckets) {
                cumulative += n;
                out += &format!(
                    "takt_http_request_duration_seconds_bucket{{method=\"{method}\",route=\"{route}\",le=\"{b}\"}} {cumulative}\n"
                );
            }
            out += &format!(
                "takt_http_request_duration_seconds_bucket{{method=\"{method}\",route=\"{route}\",le=\"+Inf\"}} {total}\n"
            );
            out += &format!(
                "takt_http_request_duration_seconds_sum{{method=\"{method}\",route=\"{route}\"}} {sum}\n"
            );
            out += &format!(
                "takt_http_request_duration_seconds_count{{method=\"{method}\",route=\"{route}\"}} {total}\n"
            );
        }
        for (name, kind, help, value) in extra {
            out += &format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n");
        }
        out
    }
}
