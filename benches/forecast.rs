//! The live twin's forecast: 100 replications from the mirrored state to the end of the shift on the
//! bottling line (target: under 1 s), at several moments of the shift. The mirror is fed a simulated
//! recording up to the moment; the time measured is the whole forecast: reading the mirror into a
//! starting state (WIP by conservation, residual times) and running the replications in parallel.
//!
//! Run: `cargo bench -p takt-benches --bench forecast` (or `benches/run.sh forecast`);
//! `TAKT_MOMENTS=1,3` narrows the moments. Besides elapsed time it reports the CPU seconds used,
//! which do not depend on how busy the shared machine is.

use std::sync::Arc;

/// The allocator of the `takt` binary, so that the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::Instant;
use takt_model::load_file;
use takt_sim::Simulation;
use takt_twin::assets_of;
use takt_twin::condition::condition_of;
use takt_twin::forecast::{ForecastOptions, forecast};
use takt_twin::mirror::{Mirror, MirrorConfig};

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let model = match load_file(&root.join("scenarios/bottling-line.toml")) {
        Ok(l) => Arc::new(l.model),
        Err(e) => panic!("{e}"),
    };
    let start_ms = model.timebase.start_ms();
    let names: Vec<String> = assets_of(&model).into_iter().map(|(a, _)| a).collect();
    println!(
        "bottling line, horizon {} h, {} threads",
        model.horizon_s / 3600.0,
        rayon::current_num_threads()
    );
    println!(
        "moment | condition (ms) | forecast of 100 replications to the end of the shift (median of 5, s)"
    );
    let mut worst: f64 = 0.0;
    let mut worst_cpu: f64 = 0.0;
    // TAKT_MOMENTS=1,3 narrows the moments (hours into the shift).
    let moments: Vec<u32> = std::env::var("TAKT_MOMENTS")
        .ok()
        .map(|m| m.split(',').filter_map(|h| h.trim().parse().ok()).collect())
        .unwrap_or_else(|| (1..=7).collect());
    for hour in moments {
        let cut_s = f64::from(hour) * 3600.0;
        let sink = takt_benches::Lines::new(model.timebase);
        let mut sim = Simulation::new(Arc::clone(&model), 1);
        sim.set_trace(Box::new(sink.clone()));
        sim.run_until(cut_s);
        let mut mirror = Mirror::new(&names, model.shift_clock(), MirrorConfig::default());
        for line in sink.lines() {
            if let Ok(c) = takt_twin::event::parse(&line) {
                mirror.offer(c);
            }
        }
        let now_ms = start_ms + (cut_s * 1000.0) as i64;
        let view = mirror.view(now_ms);
        let t = Instant::now();
        let condition = condition_of(&model, &view, now_ms);
        let condition_ms = t.elapsed().as_secs_f64() * 1000.0;
        if let Err(e) = condition {
            panic!("{e}");
        }
        if let Ok((c, _)) = &condition_of(&model, &view, now_ms) {
            let t = Instant::now();
            for r in 0..20 {
                let _ = Simulation::from_condition(Arc::clone(&model), r, c);
            }
            let build = t.elapsed().as_secs_f64() / 20.0;
            let t = Instant::now();
            for r in 0..5 {
                if let Ok(mut s) = Simulation::from_condition(Arc::clone(&model), r, c) {
                    s.run_until(model.horizon_s);
                }
            }
            let run = t.elapsed().as_secs_f64() / 5.0;
            println!(
                "  build {:.2} ms, build+run {:.2} ms per replication",
                build * 1e3,
                run * 1e3
            );
        }
        let options = ForecastOptions {
            replications: 100,
            seed: 7,
            until_s: None,
            plan_replications: 0,
            min_deviation: takt_twin::forecast::DEFAULT_MIN_DEVIATION,
        };
        let mut times: Vec<(f64, f64)> = (0..5)
            .map(|_| {
                let cpu = takt_benches::cpu_seconds();
                let t = Instant::now();
                if let Err(e) = forecast(&model, &view, now_ms, options) {
                    panic!("{e}");
                }
                (t.elapsed().as_secs_f64(), takt_benches::cpu_seconds() - cpu)
            })
            .collect();
        times.sort_by(|a, b| a.0.total_cmp(&b.0));
        worst = worst.max(times[2].0);
        let mut cpu: Vec<f64> = times.iter().map(|t| t.1).collect();
        cpu.sort_by(f64::total_cmp);
        worst_cpu = worst_cpu.max(cpu[2]);
        println!(
            "{hour} h | {condition_ms:.2} | {:.3} s elapsed, {:.2} CPU s",
            times[2].0, cpu[2]
        );
    }
    println!(
        "slowest median: {worst:.3} s elapsed (target < 1 s); {worst_cpu:.2} CPU s, i.e. {:.3} s on {} free cores",
        worst_cpu / rayon::current_num_threads() as f64,
        rayon::current_num_threads()
    );
}
