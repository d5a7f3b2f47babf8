//! The HTTP API under load on loopback: events ingested per second in batches of 1,000 with
//! durable storage (SQLite WAL, fsync on every commit), and the latency of `GET /twin/state` while
//! ingestion goes on (targets: over 100,000 events/s; p99 under 5 ms).
//!
//! The events are a simulated shift of the bottling line (`--trace` lines), sent in order by two
//! client threads taking batches in turn over keep-alive connections. The server is the real one
//! (`takt_api::run`), in this process, on a free port, its stores in a fresh temporary folder.
//! Phase 1 ingests alone; phase 2 ingests the same events into a fresh server while one client
//! reads the state as fast as it is answered.
//!
//! Run: `cargo bench -p takt-benches --bench api` (or `benches/run.sh api`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use takt_sim::Simulation;

const BATCH: usize = 1000;
const SENDERS: usize = 2;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[k]
}

fn main() {
    let model = takt_benches::load("bottling-line.toml");
    let sink = takt_benches::Lines::new(model.timebase);
    let mut sim = Simulation::new(Arc::clone(&model), 1);
    sim.set_trace(Box::new(sink.clone()));
    sim.run();
    let lines = sink.lines();
    let batches: Arc<Vec<String>> = Arc::new(
        lines
            .chunks(BATCH)
            .map(|c| format!("[{}]", c.join(",")))
            .collect(),
    );
    println!(
        "bottling line, one simulated shift: {} events in {} batches of {BATCH}; {SENDERS} senders; durable (fsync per commit)",
        lines.len(),
        batches.len()
    );

    // Phase 1: ingestion alone.
    let addr = takt_benches::start_server("alone", None);
    let took = takt_benches::ingest(&[addr; SENDERS], &batches);
    println!(
        "ingestion alone:        {:>9.0} events/s ({:.2} s; target at least 100,000)",
        lines.len() as f64 / took.as_secs_f64(),
        took.as_secs_f64()
    );

    // Phase 2: ingestion with a reader of the state.
    let addr = takt_benches::start_server("with-reader", None);
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let agent = takt_benches::agent();
            let url = format!("http://{addr}/twin/state");
            let mut latencies_ms = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let t = Instant::now();
                match agent.get(&url).call() {
                    Ok(mut r) if r.status().as_u16() == 200 => {
                        let _ = r.body_mut().read_to_string();
                    }
                    Ok(r) => panic!("state answered {}", r.status()),
                    Err(e) => panic!("state failed: {e}"),
                }
                latencies_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            latencies_ms
        })
    };
    let took = takt_benches::ingest(&[addr; SENDERS], &batches);
    done.store(true, Ordering::Relaxed);
    let mut latencies = reader.join().expect("reader");
    latencies.sort_by(f64::total_cmp);
    println!(
        "ingestion with reader:  {:>9.0} events/s ({:.2} s)",
        lines.len() as f64 / took.as_secs_f64(),
        took.as_secs_f64()
    );
    println!(
        "GET /twin/state while ingesting: {} requests, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms (target under 5 ms), max {:.2} ms",
        latencies.len(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.90),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
}
