//! Engine benchmark on the reference line (scenarios/reference-line.toml): events per second,
//! instructions per event, peak memory against the horizon, parallel scaling of replications, and the
//! same model in SimPy side by side (speed ratio and statistical agreement), and a hand-written
//! plain-Rust loop of that one line (`takt_benches::plain_line`): the ceiling for this model.
//!
//! Run: `benches/run.sh` (installs SimPy from PyPI into target/bench-venv, then runs this), or
//! `cargo bench -p takt-benches --bench engine` (SimPy part skipped when `TAKT_PYTHON` is unset and
//! no `python3` with simpy is found). Figures are measured side by side in one run.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

/// The allocator of the `takt` binary, so that the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use takt_benches::{load, mean_ci, peak_rss_kib, plain_line};
use takt_sim::{Simulation, rng, run_replications};

const CHILD: &str = "TAKT_BENCH_CHILD_HORIZON";

fn main() {
    // Child mode: one run at a horizon, then report events and peak memory (for memory vs horizon and
    // for counting instructions under valgrind).
    if let Ok(h) = std::env::var(CHILD) {
        let horizon: f64 = h.parse().unwrap_or(1e5);
        let model = load("reference-line.toml");
        let mut sim = Simulation::new(model, rng::replication_seed(1, 0));
        sim.run_until(horizon);
        println!("{} {}", sim.events(), peak_rss_kib());
        return;
    }
    let model = load("reference-line.toml");
    let mut summary = serde_json::Map::new();

    // 1. Events per second at horizon 1e6: median of 3 runs.
    let mut rates = Vec::new();
    let mut wall_1e6 = Vec::new();
    for r in 0..3 {
        let mut sim = Simulation::new(Arc::clone(&model), rng::replication_seed(1, r));
        let t = Instant::now();
        sim.run_until(1e6);
        let secs = t.elapsed().as_secs_f64();
        wall_1e6.push(secs);
        rates.push(sim.events() as f64 / secs);
    }
    rates.sort_by(f64::total_cmp);
    wall_1e6.sort_by(f64::total_cmp);
    println!(
        "reference line, horizon 1e6: {:.2} M events/s (median of 3; {:.3} s per run)",
        rates[1] / 1e6,
        wall_1e6[1]
    );
    summary.insert("events_per_s".into(), rates[1].into());

    // 2. Peak memory against the horizon, each in a fresh process.
    let exe = std::env::current_exe().expect("own path");
    let mut mem = Vec::new();
    for h in ["1e5", "1e6", "4e6"] {
        let out = Command::new(&exe)
            .env(CHILD, h)
            .output()
            .expect("child runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut it = text.split_whitespace();
        let events: u64 = it.next().and_then(|v| v.parse().ok()).unwrap_or(0);
        let kib: u64 = it.next().and_then(|v| v.parse().ok()).unwrap_or(0);
        println!(
            "peak memory at horizon {h}: {:.1} MiB ({events} events)",
            kib as f64 / 1024.0
        );
        mem.push(kib);
    }
    let growth = mem[2] as f64 / mem[0].max(1) as f64;
    println!("peak memory ratio 4e6 / 1e5 (40x the events): {growth:.2} (target: flat, about 1)");
    summary.insert("peak_rss_kib".into(), serde_json::json!(mem));

    // 3. Instructions per event (valgrind counts instructions: stable on a loaded machine). The
    // difference between two horizons removes start-up.
    match instructions_per_event(&exe) {
        Some(ipe) => {
            println!("instructions per event: {ipe:.0} (target at most 900)");
            summary.insert("instructions_per_event".into(), ipe.into());
        }
        None => println!("instructions per event: skipped (valgrind not found)"),
    }

    // 4. Parallel scaling: 16 replications of horizon 1e5 on 1 thread and on all cores.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let time_pool = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        let m = {
            let mut m = (*model).clone();
            m.horizon_s = 1e5;
            Arc::new(m)
        };
        let t = Instant::now();
        pool.install(|| run_replications(&m, 1, 16, &|| {}, None).expect("the bench plant runs"));
        t.elapsed().as_secs_f64()
    };
    let one = time_pool(1);
    let all = time_pool(cores);
    println!(
        "16 replications x 1e5: {one:.2} s on 1 thread, {all:.2} s on {cores} -> speed-up {:.2}",
        one / all
    );
    summary.insert("speedup".into(), (one / all).into());
    summary.insert("cores".into(), cores.into());

    // 5. SimPy, same model, same horizon.
    match simpy_comparison(&model) {
        Some((ratio, plain_ratio, agree)) => {
            summary.insert("simpy_ratio".into(), ratio.into());
            summary.insert("plain_rust_simpy_ratio".into(), plain_ratio.into());
            summary.insert("simpy_agrees".into(), agree.into());
        }
        None => println!(
            "SimPy comparison: skipped (set TAKT_PYTHON to a python with simpy, or run benches/run.sh)"
        ),
    }
    println!("{}", serde_json::Value::Object(summary));
}

fn instructions_per_event(exe: &std::path::Path) -> Option<f64> {
    let count = |h: &str| -> Option<(u64, u64)> {
        let out = Command::new("valgrind")
            .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
            .arg(exe)
            .env(CHILD, h)
            .output()
            .ok()?;
        let err = String::from_utf8_lossy(&out.stderr);
        let ir: u64 = err
            .lines()
            .find_map(|l| l.split("Collected :").nth(1))?
            .trim()
            .parse()
            .ok()?;
        let events: u64 = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        Some((ir, events))
    };
    let (ir0, ev0) = count("1")?;
    let (ir1, ev1) = count("1e5")?;
    Some((ir1 - ir0) as f64 / (ev1 - ev0) as f64)
}

/// Runs the SimPy twin of the reference line and takt on the same horizon and replications; prints
/// the wall-time ratio and whether the KPIs agree (95% CI of the difference covers 0).
fn simpy_comparison(model: &Arc<takt_model::Model>) -> Option<(f64, f64, bool)> {
    let python = std::env::var("TAKT_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("simpy/reference_line.py");
    let (horizon, reps) = (1e5, 8u32);
    // SimPy and takt take turns, a replication each, so that both see the same load of a shared
    // machine (run one after the other, a change in the load moved the ratio from 49x to 90x).
    let mut simpy: Vec<serde_json::Value> = Vec::new();
    let mut takt_wall = Vec::new();
    let mut takt = Vec::new();
    let mut plain_wall = Vec::new();
    let mut plain = Vec::new();
    for r in 0..reps {
        let out = Command::new(&python)
            .arg(&script)
            .args([
                "--horizon",
                &horizon.to_string(),
                "--replications",
                "1",
                "--seed",
                &(1 + r).to_string(),
            ])
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
            return None;
        }
        simpy.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok()),
        );
        // A takt replication takes tens of milliseconds, where a shared machine's noise shows: each
        // is run five times (the same seed, the same run) and its median time kept.
        let mut last = None;
        takt_wall.push(median_of_5(|| {
            let mut sim = Simulation::new(Arc::clone(model), rng::replication_seed(1, r));
            let t = Instant::now();
            sim.run_until(horizon);
            let secs = t.elapsed().as_secs_f64();
            last = Some(sim);
            secs
        }));
        takt.push(last.expect("five runs").report());
        let mut last = None;
        plain_wall.push(median_of_5(|| {
            let t = Instant::now();
            last = Some(plain_line::run(horizon, rng::replication_seed(1, r)));
            t.elapsed().as_secs_f64()
        }));
        plain.push(last.expect("five runs"));
    }
    let simpy_wall: Vec<f64> = simpy.iter().filter_map(|v| v["wall_s"].as_f64()).collect();
    let (sw, _) = mean_ci(&simpy_wall);
    let (tw, _) = mean_ci(&takt_wall);
    let ratio = sw / tw;
    // Each replication's pair, SimPy's run and takt's right after it: their spread says how much
    // of the ratio is the machine's load.
    let mut pairs: Vec<f64> = simpy_wall
        .iter()
        .zip(&takt_wall)
        .map(|(s, t)| s / t)
        .collect();
    pairs.sort_by(f64::total_cmp);
    if pairs.is_empty() {
        eprintln!("SimPy printed no replication");
        return None;
    }
    println!(
        "SimPy vs takt, reference line, horizon {horizon:e}, {reps} replications each, taking turns (takt: the median of 5 runs of each): {sw:.3} s vs {tw:.4} s per replication -> takt {ratio:.1}x faster (target at least 100x); by replication: median {:.1}x, range {:.1}-{:.1}x",
        pairs[pairs.len() / 2],
        pairs[0],
        pairs[pairs.len() - 1]
    );
    let (pw, _) = mean_ci(&plain_wall);
    let (plain_throughput, _) =
        mean_ci(&plain.iter().map(|p| p.throughput_per_s).collect::<Vec<_>>());
    let (plain_wip, _) = mean_ci(&plain.iter().map(|p| p.wip_mean).collect::<Vec<_>>());
    println!(
        "plain Rust, a hand-written loop of this line only (no scenario, no ECS, no state clocks or percentiles), taking turns too: {pw:.4} s per replication -> {:.1}x SimPy (throughput {plain_throughput:.4}/s, WIP {plain_wip:.2}); takt takes {:.2}x its time (100x SimPy needs at most {:.2}x)",
        sw / pw,
        tw / pw,
        sw / pw / 100.0
    );
    let mut all_agree = true;
    let mut compare = |name: &str, a: Vec<f64>, b: Vec<f64>| {
        let (ma, _) = mean_ci(&a);
        let (mb, _) = mean_ci(&b);
        // Welch: difference of means with its 95% half-width.
        let va =
            a.iter().map(|x| (x - ma).powi(2)).sum::<f64>() / (a.len() - 1) as f64 / a.len() as f64;
        let vb =
            b.iter().map(|x| (x - mb).powi(2)).sum::<f64>() / (b.len() - 1) as f64 / b.len() as f64;
        let df = (va + vb).powi(2)
            / (va.powi(2) / (a.len() - 1) as f64 + vb.powi(2) / (b.len() - 1) as f64);
        let h =
            takt_sim::replicate::t_quantile(0.975, df.max(1.0).floor() as usize) * (va + vb).sqrt();
        let agree = (ma - mb).abs() <= h;
        all_agree &= agree;
        println!(
            "  {name:<14} takt {ma:>9.4}  SimPy {mb:>9.4}  difference {:+.4} ± {h:.4}  {}",
            ma - mb,
            if agree { "agree" } else { "DIFFER" }
        );
    };
    let sv = |f: &dyn Fn(&serde_json::Value) -> Option<f64>| {
        simpy.iter().filter_map(f).collect::<Vec<f64>>()
    };
    compare(
        "throughput/s",
        takt.iter()
            .map(|r| r.throughput_per_hour / 3600.0)
            .collect(),
        sv(&|v| v["throughput"].as_f64()),
    );
    compare(
        "WIP",
        takt.iter().map(|r| r.wip_mean).collect(),
        sv(&|v| v["wip_mean"].as_f64()),
    );
    for i in 0..3 {
        compare(
            &format!("M{} busy", i + 1),
            takt.iter()
                .map(|r| r.stations[i].state_fractions.processing)
                .collect(),
            sv(&|v| v["busy"][i].as_f64()),
        );
        compare(
            &format!("M{} down", i + 1),
            takt.iter()
                .map(|r| r.stations[i].state_fractions.down)
                .collect(),
            sv(&|v| v["down"][i].as_f64()),
        );
    }
    Some((ratio, sw / pw, all_agree))
}

/// The median of five timings of the same replication (`timed_run` returns the seconds it ran).
fn median_of_5(mut timed_run: impl FnMut() -> f64) -> f64 {
    let mut times: Vec<f64> = (0..5).map(|_| timed_run()).collect();
    times.sort_by(f64::total_cmp);
    times[2]
}
