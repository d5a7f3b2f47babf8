//! Remaining useful life: on synthetic run-to-failure data with a known degradation (always), and on
//! NASA C-MAPSS FD001 against the literature's anchors (when `../shared/data/cmapss` is present).

use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::path::Path;
use takt_maintenance::boost::BoostConfig;
use takt_maintenance::cmapss::{Engine, RUL_CAP, RulModel, evaluate};

/// Engines whose sensors drift exponentially towards failure, with noise; lives 150-350 cycles.
fn synthetic(n: usize, seed: u64, truncate: bool) -> Vec<(Engine, f64)> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let noise = Normal::new(0.0, 0.05).expect("sd");
    (0..n)
        .map(|u| {
            let life = rng.random_range(150..350usize);
            let stop = if truncate {
                rng.random_range(30..life)
            } else {
                life
            };
            let cycles = (0..stop)
                .map(|t| {
                    let wear = ((t as f64 / life as f64) * 4.0).exp() / 4.0f64.exp();
                    let mut row = [0.0; 24];
                    row[2] = 100.0;
                    for s in 0..21 {
                        let gain = if s < 8 { 1.0 + s as f64 * 0.1 } else { 0.0 };
                        row[3 + s] = 10.0 + s as f64 + gain * wear + noise.sample(&mut rng);
                    }
                    row
                })
                .collect();
            (
                Engine {
                    unit: u as u32 + 1,
                    cycles,
                },
                (life - stop) as f64,
            )
        })
        .collect()
}

#[test]
fn remaining_life_is_learned_from_a_known_degradation() {
    let train: Vec<Engine> = synthetic(60, 1, false)
        .into_iter()
        .map(|(e, _)| e)
        .collect();
    let test = synthetic(40, 2, true);
    let config = BoostConfig {
        trees: 150,
        ..BoostConfig::default()
    };
    let model = RulModel::train(&train, config).expect("trains");
    let truth: Vec<f64> = test.iter().map(|(_, r)| r.min(RUL_CAP)).collect();
    let rmse = |pred: &dyn Fn(&Engine) -> f64| {
        (test
            .iter()
            .zip(&truth)
            .map(|((e, _), t)| (pred(e) - t).powi(2))
            .sum::<f64>()
            / test.len() as f64)
            .sqrt()
    };
    let mean = truth.iter().sum::<f64>() / truth.len() as f64;
    let constant = rmse(&|_| mean);
    let learned = rmse(&|e| model.predict(e));
    eprintln!("synthetic: RMSE {learned:.1}, constant {constant:.1}");
    assert!(
        learned < 0.5 * constant,
        "RMSE {learned} vs constant {constant}"
    );
}

#[test]
fn cmapss_fd001_reaches_the_random_forest_anchor() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cmapss");
    if !dir.join("train_FD001.txt").exists() {
        eprintln!("skipped: {} is not present", dir.display());
        return;
    }
    let e = evaluate(&dir, "FD001", BoostConfig::default()).expect("evaluates");
    eprintln!(
        "FD001: RMSE {:.2}, score {:.0}, mean error {:.2}, trained in {:.1} s",
        e.rmse, e.score, e.mean_error, e.train_seconds
    );
    assert_eq!((e.train_engines, e.test_engines), (100, 100));
    assert!(e.rmse <= 18.0, "RMSE {}", e.rmse);
}

#[test]
fn azure_component_failures_are_predicted_a_day_ahead() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/azure_pdm");
    if !dir.join("PdM_failures.csv").exists() {
        eprintln!("skipped: {} is not present", dir.display());
        return;
    }
    let config = BoostConfig {
        trees: 100,
        depth: 4,
        ..BoostConfig::default()
    };
    let e = takt_maintenance::azure::evaluate(&dir, "2015-09-01 00:00:00", 3, config)
        .expect("evaluates");
    for c in &e.components {
        eprintln!(
            "{}: precision {:?}, recall {:?} ({} of {} failing rows flagged, {} flagged)",
            c.component, c.precision, c.recall, c.true_positives, c.positives, c.flagged
        );
        // Far above chance: fewer than 1% of rows precede a failure of a given component.
        assert!(c.precision.is_some_and(|p| p > 0.5), "{c:?}");
        assert!(c.recall.is_some_and(|r| r > 0.5), "{c:?}");
    }
}
