//! Remaining useful life on NASA C-MAPSS (FD001-FD004): RMSE against the published truth and against
//! the truth capped at 125, the 90 % intervals' coverage, and the training time (the interval's
//! calibration folds included) beside the targets (training under 60 s; FD002 at most 18 and FD004
//! at most 20 RMSE; coverage 85-95 %) and the published deep models.
//!
//! Run: `cargo bench -p takt-benches --bench pdm` (or `benches/run.sh pdm`); needs
//! `../shared/data/cmapss` (skipped when absent). `TAKT_SUBSETS=FD002,FD004` narrows it.

use std::path::Path;
use takt_maintenance::boost::BoostConfig;
use takt_maintenance::cmapss::evaluate;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/cmapss");
    if !dir.join("train_FD001.txt").exists() {
        println!("skipped: {} is not present", dir.display());
        return;
    }
    let subsets: Vec<String> = std::env::var("TAKT_SUBSETS")
        .ok()
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect())
        .unwrap_or_else(|| {
            ["FD001", "FD002", "FD003", "FD004"]
                .map(String::from)
                .to_vec()
        });
    println!(
        "{} threads; RMSE in cycles at each test engine's last cycle",
        rayon::current_num_threads()
    );
    println!(
        "subset | RMSE | capped truth (target) | floor of the cap | published: CNN 2016 / LSTM 2017 / deep CNN 2018 | 90 % interval coverage (85-95 %) | width | training s (< 60)"
    );
    for subset in subsets {
        let e = match evaluate(&dir, &subset, BoostConfig::default()) {
            Ok(e) => e,
            Err(err) => panic!("{subset}: {err}"),
        };
        let target = match subset.as_str() {
            "FD002" => "18",
            "FD004" => "20",
            _ => "-",
        };
        let published = ["CNN (Babu 2016)", "LSTM (Zheng 2017)", "deep CNN (Li 2018)"]
            .iter()
            .map(|k| {
                e.anchors
                    .get(k)
                    .map_or("-".to_string(), |v| format!("{v:.2}"))
            })
            .collect::<Vec<_>>()
            .join(" / ");
        println!(
            "{subset} | {:.2} | {:.2} ({target}) | {:.2} | {published} | {:.1} % | {:.0} | {:.1}",
            e.rmse,
            e.rmse_capped,
            e.rmse_floor_of_the_cap,
            e.interval_coverage.unwrap_or(f64::NAN) * 100.0,
            e.mean_interval_width.unwrap_or(f64::NAN),
            e.train_seconds
        );
    }
}
