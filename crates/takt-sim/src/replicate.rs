//! Independent replications in parallel (rayon, one World per job), and the statistics over them
//! (Student-t 95% half-widths, quantiles); their typed summary is [`crate::summary`]. Replication
//! `r` always gets the same seed, whatever the number of threads, so results do not depend on the
//! machine.

use crate::engine::Simulation;
use crate::guard::RunStopped;
use crate::kpi::Report;
use crate::rng;
use rayon::prelude::*;
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
}
