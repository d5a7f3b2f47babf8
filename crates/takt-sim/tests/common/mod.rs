//! Helpers for the validation tests: build a model from TOML, run replications, and check a KPI's
//! confidence interval against a value from theory.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use takt_model::Model;
use takt_sim::replicate::t_quantile;
use takt_sim::{Report, run_replications};

pub fn model(toml: &str) -> Arc<Model> {
    match takt_model::load_str(toml, Path::new("test.toml"), None) {
        Ok(l) => Arc::new(l.model),
        Err(e) => panic!("test scenario does not load: {e}"),
    }
}

pub fn reps(model: &Arc<Model>, n: u32) -> Vec<Report> {
    run_replications(model, model.seed, n, &|| {}, None).expect("runs")
}

/// Mean and 99% Student-t half-width.
pub fn ci99(xs: &[f64]) -> (f64, f64) {
    let n = xs.len();
    let mean = xs.iter().sum::<f64>() / n as f64;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (mean, t_quantile(0.995, n - 1) * (var / n as f64).sqrt())
}

/// Asserts that the 99% confidence interval of `xs` covers `theory`, and that it is narrower than
/// `max_rel_width` of the theoretical value (so that the check has teeth).
pub fn assert_covers(what: &str, xs: &[f64], theory: f64, max_rel_width: f64) {
    let (mean, h) = ci99(xs);
    eprintln!("{what}: {mean:.5} ± {h:.5} (theory {theory:.5})");
    assert!(
        (mean - theory).abs() <= h,
        "{what}: theory {theory} outside the 99% CI {mean} ± {h}"
    );
    assert!(
        h <= max_rel_width * theory.abs(),
        "{what}: CI half-width {h} too wide to test against {theory}"
    );
}

/// Little's law on one run: time-average WIP = departure rate x mean time in the plant.
pub fn assert_little(r: &Report) {
    let lambda = r.departures_per_hour / 3600.0;
    let w = r.sojourn_mean_s.unwrap_or(0.0);
    let l = r.wip_mean;
    assert!(
        (l - lambda * w).abs() <= 0.01 * l + 0.01,
        "Little's law: L = {l}, lambda x W = {lambda} x {w} = {}",
        lambda * w
    );
}

pub fn col(reports: &[Report], f: impl Fn(&Report) -> f64) -> Vec<f64> {
    reports.iter().map(f).collect()
}

/// A single-station queue: Poisson arrivals at `lambda`, `machines` parallel servers with the given
/// process-time distribution (TOML), extra station fields in `station_extra`.
pub fn queue(
    lambda: f64,
    machines: u32,
    process: &str,
    station_extra: &str,
    horizon: f64,
    warmup: f64,
) -> String {
    format!(
        r#"
schema_version = 1
name = "queue"
[run]
horizon = {horizon}
warmup = {warmup}
seed = 11
[[products]]
name = "p"
routing = [{{ station = "S", process_time = {process} }}]
[[stations]]
name = "S"
machines = {machines}
{station_extra}
[demand.arrivals]
interarrival = {{ dist = "exponential", mean = {mean} }}
mix = {{ p = 1 }}
"#,
        mean = 1.0 / lambda
    )
}
