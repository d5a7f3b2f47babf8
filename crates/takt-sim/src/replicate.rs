//! Independent replications in parallel (rayon, one World per job) and their summary: every number of
//! the report becomes `{"mean": x, "ci95": h}` with a Student-t 95% half-width. Replication `r` always
//! gets the same seed, whatever the number of threads, so results do not depend on the machine.

use crate::engine::Simulation;
use crate::guard::RunStopped;
use crate::kpi::Report;
use crate::rng;
use rayon::prelude::*;
use serde_json::{Map, Value, json};
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use takt_model::Model;

/// Runs replication `replication` of `model` to its horizon within the default budgets, stopped
/// when any of `stop` is raised.
pub fn run_one(
    model: Arc<Model>,
    seed: u64,
    replication: u32,
    stop: &[&AtomicBool],
) -> Result<Report, RunStopped> {
    let mut sim = Simulation::new(model, rng::replication_seed(seed, replication));
    sim.run_to_horizon(stop)?;
    Ok(sim.report())
}

/// Runs `n` replications in parallel, each within the default budgets; `on_done` is called as each
/// finishes (progress bars). The first replication stopped by a budget stops the others and is the
/// error; `cancel`, when raised, stops them all.
pub fn run_replications(
    model: &Arc<Model>,
    seed: u64,
    n: u32,
    on_done: &(dyn Fn() + Sync),
    cancel: Option<&AtomicBool>,
) -> Result<Vec<Report>, RunStopped> {
    let stop = AtomicBool::new(false);
    let never = AtomicBool::new(false);
    let cancel = cancel.unwrap_or(&never);
    let reports = (0..n)
        .into_par_iter()
        .map(|r| {
            let report = run_one(Arc::clone(model), seed, r, &[&stop, cancel]);
            if report.is_err() {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            on_done();
            report
        })
        .collect::<Vec<_>>();
    // The budget's own error, not the `Stopped` it caused in the others.
    if let Some(e) = reports
        .iter()
        .filter_map(|r| r.as_ref().err())
        .min_by_key(|e| matches!(e, RunStopped::Stopped { .. }))
    {
        return Err(e.clone());
    }
    reports.into_iter().collect()
}

/// Mean and 95% confidence half-width (Student t, n - 1 degrees of freedom); the half-width is `None`
/// for fewer than two values.
pub fn mean_ci95(xs: &[f64]) -> (f64, Option<f64>) {
    let n = xs.len();
    if n == 0 {
        return (f64::NAN, None);
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, None);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let h = t_quantile(0.975, n - 1) * (var / n as f64).sqrt();
    // Rounding noise of summing equal values is not variability.
    (mean, Some(if h <= 1e-12 * mean.abs() { 0.0 } else { h }))
}

/// Quantile `p` (0 to 1) of sorted values, by linear interpolation between order statistics
/// (type 7 of Hyndman and Fan, the default of R and numpy): takt's one quantile definition, used by
/// forecasts, schedule robustness and reports alike. `NaN` for no values.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Quantile `p` of Student's t with `df` degrees of freedom.
pub fn t_quantile(p: f64, df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64).map_or(1.959_964, |t| t.inverse_cdf(p))
}

/// Summarises replications into one JSON document shaped like a single report, with every number
/// replaced by `{"mean", "ci95"}`; strings take their most frequent value; `seed` is the base seed.
pub fn summarize(reports: &[Report], base_seed: u64) -> Value {
    let values: Vec<Value> = reports
        .iter()
        .map(|r| serde_json::to_value(r).unwrap_or(Value::Null))
        .collect();
    summarize_json(&values, base_seed)
}

/// [`summarize`] for reports already in JSON form.
/// A deadlock is not averaged: the summary says in how many replications the plant locked up,
/// and shows the first of them (`{"replications", "of", "first": {"replication", ...}}`).
pub fn summarize_json(reports: &[Value], base_seed: u64) -> Value {
    let mut merged = merge(&reports.iter().collect::<Vec<_>>());
    let deadlocks: Vec<(usize, &Value)> = reports
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.get("deadlock").filter(|d| !d.is_null()).map(|d| (i, d)))
        .collect();
    if let Value::Object(map) = &mut merged {
        map.insert("seed".into(), json!(base_seed));
        map.insert("replications".into(), json!(reports.len()));
        let deadlock = deadlocks.first().map(|(i, first)| {
            let mut first = (*first).clone();
            if let Value::Object(f) = &mut first {
                f.insert("replication".into(), json!(i));
            }
            json!({"replications": deadlocks.len(), "of": reports.len(), "first": first})
        });
        map.insert("deadlock".into(), deadlock.unwrap_or(Value::Null));
    }
    merged
}

fn merge(values: &[&Value]) -> Value {
    let present: Vec<&Value> = values.iter().copied().filter(|v| !v.is_null()).collect();
    let Some(first) = present.first() else {
        return Value::Null;
    };
    match first {
        Value::Number(_) | Value::Bool(_) => {
            let xs: Vec<f64> = present
                .iter()
                .filter_map(|v| match v {
                    Value::Number(n) => n.as_f64(),
                    Value::Bool(b) => Some(f64::from(u8::from(*b))),
                    _ => None,
                })
                .collect();
            let (mean, ci) = mean_ci95(&xs);
            json!({ "mean": mean, "ci95": ci })
        }
        Value::String(_) => {
            // The most frequent value (the first on ties): e.g. the usual bottleneck.
            let mut best: (&Value, usize) = (first, 0);
            for v in &present {
                let count = present.iter().filter(|w| *w == v).count();
                if count > best.1 {
                    best = (v, count);
                }
            }
            best.0.clone()
        }
        Value::Array(first_items) => {
            let same_len = present
                .iter()
                .all(|v| v.as_array().is_some_and(|a| a.len() == first_items.len()));
            if !same_len {
                return (*first).clone();
            }
            Value::Array(
                (0..first_items.len())
                    .map(|i| {
                        let column: Vec<&Value> = present.iter().filter_map(|v| v.get(i)).collect();
                        merge(&column)
                    })
                    .collect(),
            )
        }
        Value::Object(first_map) => {
            let mut out = Map::new();
            for key in first_map.keys() {
                let column: Vec<&Value> = present
                    .iter()
                    .map(|v| v.get(key).unwrap_or(&Value::Null))
                    .collect();
                out.insert(key.clone(), merge(&column));
            }
            Value::Object(out)
        }
        Value::Null => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_matches_textbook_t_interval() {
        // n = 5, mean 3, sd sqrt(2.5): t(0.975, 4) = 2.776 -> half-width 2.776 * sqrt(2.5 / 5) = 1.963.
        let (m, h) = mean_ci95(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(m, 3.0);
        let h = h.expect("n >= 2");
        assert!((h - 1.9629).abs() < 1e-3, "{h}");
        assert_eq!(mean_ci95(&[4.0]).1, None);
        assert_eq!(mean_ci95(&[0.1 + 0.2, 0.3, 0.1 + 0.2]).1, Some(0.0));
    }

    #[test]
    fn merge_keeps_shape() {
        let a = json!({"x": 1.0, "s": "A", "o": null, "v": [1, 2], "b": true});
        let b = json!({"x": 3.0, "s": "B", "o": 2.0, "v": [3, 4], "b": false});
        let c = json!({"x": 2.0, "s": "B", "o": null, "v": [5, 6], "b": true});
        let m = merge(&[&a, &b, &c]);
        assert_eq!(m["x"]["mean"], json!(2.0));
        assert_eq!(m["s"], json!("B"));
        assert_eq!(m["o"]["mean"], json!(2.0));
        assert_eq!(m["o"]["ci95"], Value::Null);
        assert_eq!(m["v"][1]["mean"], json!(4.0));
        assert!((m["b"]["mean"].as_f64().unwrap_or(0.0) - 2.0 / 3.0).abs() < 1e-12);
    }
}
