//! The servers of a site on one PostgreSQL (a throwaway cluster on loopback, fsync on as
//! installed): events per second ingested in batches of 1,000 by one server and by two sharing
//! the database, and by one server holding two plants (a schema each), SQLite's single server side
//! by side in the same run; how long the other server
//! takes to mirror what one took; and the bytes PostgreSQL stores per event (for
//! docs/scaling.md).
//!
//! The events are a simulated shift of the bottling line (`--trace` lines), sent by two client
//! threads over keep-alive connections: both to the one server, or one to each of the two. The
//! servers are the real ones (`takt_api::run`), in this process, on free ports.
//!
//! Then a 200-variant sweep on one and two `takt worker`s (`site_sweep.rs`).
//!
//! Run: `benches/run.sh site` (`TAKT_SITE=sweep` or `TAKT_SITE=ingest` runs one part only) (or `cargo bench -p takt-benches --bench site`).

#[path = "../crates/takt-twin/tests/common/postgres.rs"]
mod postgres;
#[path = "site_sweep.rs"]
mod sweep;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use takt_sim::Simulation;

const BATCH: usize = 1000;

/// How many events a server has mirrored.
fn mirrored(addr: SocketAddr) -> u64 {
    let mut r = takt_benches::agent()
        .get(format!("http://{addr}/twin/state"))
        .call()
        .expect("the state");
    let body: serde_json::Value =
        serde_json::from_str(&r.body_mut().read_to_string().unwrap_or_default())
            .unwrap_or_default();
    body["counters"]["accepted"].as_u64().unwrap_or(0)
}

/// Waits until every server has mirrored `events`; how long after the call.
fn converged(servers: &[SocketAddr], events: u64) -> Duration {
    let started = Instant::now();
    while servers.iter().any(|s| mirrored(*s) < events) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the servers do not converge"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    started.elapsed()
}

fn main() {
    let Some(cluster) = postgres::Cluster::start() else {
        eprintln!("PostgreSQL is not installed: scripts/setup.sh installs it");
        return;
    };
    let part = std::env::var("TAKT_SITE").unwrap_or_default();
    if part != "sweep" {
        ingestion(&cluster);
    }
    if part != "ingest" {
        sweep::run(&cluster);
    }
}

/// Events/s into one and two servers, SQLite beside them; mirroring; bytes per event.
fn ingestion(cluster: &postgres::Cluster) {
    let model = takt_benches::load("bottling-line.toml");
    let sink = takt_benches::Lines::new(model.timebase);
    let mut sim = Simulation::new(Arc::clone(&model), 1);
    sim.set_trace(Box::new(sink.clone()));
    sim.run();
    let lines = sink.lines();
    let events = lines.len() as u64;
    let batches: Arc<Vec<String>> = Arc::new(
        lines
            .chunks(BATCH)
            .map(|c| format!("[{}]", c.join(",")))
            .collect(),
    );
    println!(
        "bottling line, one simulated shift: {events} events in {} batches of {BATCH}; two senders; durable (SQLite fsync per commit; PostgreSQL {} as installed)",
        batches.len(),
        cluster.sql("postgres", "SELECT 'fsync=' || current_setting('fsync') || ', synchronous_commit=' || current_setting('synchronous_commit')"),
    );
    let rate = |took: Duration| events as f64 / took.as_secs_f64();

    let sqlite = takt_benches::start_server("sqlite", None);
    let took = takt_benches::ingest(&[sqlite, sqlite], &batches);
    println!(
        "one server, SQLite:          {:>9.0} events/s ({:.2} s)",
        rate(took),
        took.as_secs_f64()
    );

    let one = cluster.database("one");
    let server = takt_benches::start_server("pg-one", Some(&one));
    let took = takt_benches::ingest(&[server, server], &batches);
    println!(
        "one server, PostgreSQL:      {:>9.0} events/s ({:.2} s)",
        rate(took),
        took.as_secs_f64()
    );

    let shared = cluster.database("two");
    let a = takt_benches::start_server("pg-a", Some(&shared));
    let b = takt_benches::start_server("pg-b", Some(&shared));
    let took = takt_benches::ingest(&[a, b], &batches);
    let behind = converged(&[a, b], events);
    println!(
        "two servers, one PostgreSQL: {:>9.0} events/s ({:.2} s); both had mirrored every event {:.0} ms after the last answer",
        rate(took),
        took.as_secs_f64(),
        behind.as_secs_f64() * 1000.0
    );
    // Two plants in one database: each its own appends' lock (a schema of its own).
    let plants = cluster.database("plants");
    let site = takt_benches::start_site("pg-plants", Some(&plants), &["line-a", "line-b"], |_| {});
    let urls: Vec<String> = ["line-a", "line-b"]
        .iter()
        .map(|id| format!("http://{site}/plants/{id}/twin/events"))
        .collect();
    let took = takt_benches::ingest_to(&urls, &batches);
    println!(
        "two plants, one server and PostgreSQL, a sender each: {:>9.0} events/s ({:.2} s)",
        rate(took),
        took.as_secs_f64()
    );
    // One event through A, timed until B shows it.
    let mut latencies_ms = Vec::new();
    for k in 0..20u64 {
        let ts = 1_767_600_000_000i64 + 8 * 3_600_000 + k as i64 * 1000;
        let body = format!(
            r#"[{{"ts":"{}","asset":"Filler","kind":"count","seq":{},"good":1}}]"#,
            chrono::DateTime::from_timestamp_millis(ts)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                .unwrap_or_default(),
            10_000_000 + k
        );
        let started = Instant::now();
        let r = takt_benches::agent()
            .post(format!("http://{a}/twin/events"))
            .header("Content-Type", "application/json")
            .send(body.as_str())
            .expect("an answer");
        assert_eq!(r.status().as_u16(), 200);
        converged(&[b], events + k + 1);
        latencies_ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    latencies_ms.sort_by(f64::total_cmp);
    println!(
        "an event sent to A, until B shows it (20 events): median {:.1} ms, max {:.1} ms",
        latencies_ms[latencies_ms.len() / 2],
        latencies_ms[latencies_ms.len() - 1]
    );
    let bytes: f64 = cluster
        .sql(
            "two",
            "SELECT (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass)
                  + pg_total_relation_size('event_keys')",
        )
        .parse()
        .unwrap_or(f64::NAN);
    let stored: f64 = cluster
        .sql("two", "SELECT count(*) FROM events")
        .parse()
        .unwrap_or(f64::NAN);
    println!(
        "stored in PostgreSQL: {:.0} bytes per event (events with their indexes and keys, {stored} events, {:.1} MB)",
        bytes / stored,
        bytes / 1e6
    );
}
