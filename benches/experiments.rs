//! What-if experiment throughput: replications per second on every shipped scenario with the parallel
//! speed-up, 1,000 replications of one shift of the bottling line (target: under a minute on 2 cores),
//! and the linearity of cost in replications x horizon. Run: `cargo bench -p takt-benches --bench experiments`.

use std::sync::Arc;
use std::time::Instant;
use takt_benches::{load, scenario_path};
use takt_experiments::{ExperimentSpec, Replications, WarmupChoice};
use takt_sim::run_replications;

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed().as_secs_f64())
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    println!(
        "{:<26} {:>10} {:>14} {:>14} {:>9}",
        "scenario",
        "horizon",
        "reps/s 1 core",
        format!("reps/s {cores} cores"),
        "speed-up"
    );
    for name in [
        "bottling-line.toml",
        "body-in-white.toml",
        "injection-moulding.toml",
        "forging-shop.toml",
        "reference-line.toml",
    ] {
        let mut model = (*load(name)).clone();
        if name == "reference-line.toml" {
            model.horizon_s = 1e5;
        }
        let model = Arc::new(model);
        let n = 16;
        let (_, t1) = timed(|| one.install(|| run_replications(&model, 1, n, &|| {}, None)));
        let (_, tn) = timed(|| run_replications(&model, 1, n, &|| {}, None));
        println!(
            "{name:<26} {:>9.0}s {:>14.1} {:>14.1} {:>9.2}",
            model.horizon_s,
            f64::from(n) / t1,
            f64::from(n) / tn,
            t1 / tn
        );
    }

    // The target: 1,000 replications of one shift of the bottling line, as an experiment.
    let text = std::fs::read_to_string(scenario_path("bottling-line.toml")).expect("scenario");
    let spec = ExperimentSpec {
        base_text: text,
        origin: scenario_path("bottling-line.toml"),
        base_dir: scenario_path("bottling-line.toml").parent().map(Into::into),
        variants: vec![],
        replications: Replications::Fixed(1000),
        warmup: WarmupChoice::Scenario,
        seed: None,
        horizon_s: None,
        series_points: 48,
        goal: None,
    };
    let (x, secs) = timed(|| takt_experiments::run(&spec, &|_, _| {}).expect("runs"));
    println!(
        "bottling line, one shift: {} replications in {secs:.1} s on {cores} cores ({:.0} replications/s; target < 60 s)",
        x.replications,
        f64::from(x.replications) / secs
    );

    // Linearity: seconds per (replication x simulated hour) on the reference line.
    let base = load("reference-line.toml");
    println!(
        "linearity on the reference line (all cores): seconds per replication x 1e5 s simulated"
    );
    for (reps, horizon) in [(8u32, 1e5), (16, 1e5), (8, 2e5), (16, 2e5)] {
        let mut m = (*base).clone();
        m.horizon_s = horizon;
        let m = Arc::new(m);
        let (_, secs) = timed(|| run_replications(&m, 1, reps, &|| {}, None));
        println!(
            "  {reps:>3} x {horizon:e}: {secs:.3} s -> {:.4} s per unit",
            secs / (f64::from(reps) * horizon / 1e5)
        );
    }
}
