//! Engine behaviour: reproducibility, snapshot and restore, thread independence, exact order timing
//! on a deterministic model, and bounded state over long runs.

mod common;
use common::*;
use std::sync::Arc;
use takt_sim::components::{BufferQueue, Machine, Waiter};
use takt_sim::{Simulation, Snapshot, VecSink, run_replications};

fn reference_text() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/reference-line.toml"
    ))
    .expect("shipped scenario")
}

/// A line with every mechanism on: shifts, maintenance with a crew, three failure bases, changeovers,
/// scrap and rework, alternatives, finite buffers, orders and arrivals.
const BUSY_PLANT: &str = r#"
schema_version = 1
name = "everything"
[run]
horizon = "2w"
warmup = "1d"
seed = 9
[[products]]
name = "A"
routing = [
  { station = "Cut", process_time = { dist = "gamma", shape = 4, scale = "5s" } },
  { stations = ["WeldL", "WeldR"], process_time = { dist = "triangular", min = 30, mode = 40, max = 60 }, scrap = 0.02, rework = 0.05 },
  { station = "Pack", process_time = { dist = "uniform", min = 5, max = 15 } },
]
[[products]]
name = "B"
routing = [
  { station = "Cut", process_time = { dist = "weibull", shape = 2, scale = "25s" } },
  { stations = ["WeldL", "WeldR"], process_time = { dist = "erlang", k = 3, mean = "45s" } },
  { station = "Pack", process_time = { dist = "empirical", values = [8, 10, 12], weights = [1, 2, 1] } },
]
[[stations]]
name = "Cut"
dispatch = "same_product"
changeover = { default = "5m", matrix = [{ from = "A", to = "B", time = { dist = "normal", mean = "8m", sd = "1m" } }] }
failures = [
  { name = "jam", basis = "cycles", ttf = { dist = "exponential", mean = 200 }, ttr = "2m" },
  { name = "motor", basis = "operating", ttf = { dist = "weibull", shape = 1.5, scale = "20h" }, ttr = { dist = "lognormal", mean = "1h", sd = "20m" }, crew = "fitters" },
]
maintenance = { interval = "3d", first = "80h", duration = "2h", crew = "fitters" }
power_kw = { processing = 15, setup = 5, idle = 2, down = 1, off = 0.2 }
[[stations]]
name = "WeldL"
input_buffer = "Q1"
dispatch = "edd"
failures = [{ name = "tip", ttf = { dist = "exponential", mean = "4h" }, ttr = { dist = "exponential", mean = "10m" }, crew = "fitters" }]
[[stations]]
name = "WeldR"
input_buffer = "Q2"
dispatch = "spt"
failures = [{ name = "tip", ttf = { dist = "exponential", mean = "4h" }, ttr = { dist = "exponential", mean = "10m" }, crew = "fitters" }]
[[stations]]
name = "Pack"
machines = 2
input_buffer = "Q3"
follows_calendar = false
[[buffers]]
name = "Q1"
capacity = 4
[[buffers]]
name = "Q2"
capacity = 4
[[buffers]]
name = "Q3"
capacity = 10
[[crews]]
name = "fitters"
count = 1
[calendar]
shifts = [{ days = "mon-fri", start = "06:00", end = "14:00" }, { days = "mon-fri", start = "14:00", end = "22:00" }]
breaks = [{ days = "mon-fri", start = "12:00", duration = "30m" }]
[demand.arrivals]
interarrival = { dist = "exponential", mean = "150s" }
mix = { A = 2, B = 1 }
due_in = "8h"
[[demand.orders]]
id = "O-1"
product = "B"
quantity = 30
release = "2d"
due = "3d"
"#;

fn json(report: &takt_sim::Report) -> String {
    serde_json::to_string(report).expect("report serializes")
}

#[test]
fn same_seed_same_results_bit_for_bit() {
    let m = model(BUSY_PLANT);
    let run = |seed| {
        let mut s = Simulation::new(Arc::clone(&m), seed);
        s.run();
        json(&s.report())
    };
    let a = run(1);
    assert_eq!(a, run(1));
    assert_ne!(a, run(2));
    // Every mechanism actually happened in this model.
    let r: takt_sim::Report = serde_json::from_str(&a).expect("parses");
    let cut = &r.stations[0];
    assert!(
        cut.setups > 0 && cut.failure_modes.iter().all(|f| f.failures > 0),
        "{cut:?}"
    );
    assert!(cut.planned_downtime_s > 0.0 && cut.state_fractions.off_shift > 0.0);
    assert!(r.stations[1].scrap > 0 && r.stations[1].rework > 0);
    assert!(r.stations.iter().any(|s| s.state_fractions.blocked > 0.0));
    assert!(r.crews[0].utilisation > 0.0);
    assert!(
        r.orders.as_ref().is_some_and(|o| o.completed == 1),
        "{:?}",
        r.orders
    );
    assert!(r.energy_kwh > 0.0);
}

#[test]
fn restored_snapshot_continues_bit_identically() {
    for text in [
        BUSY_PLANT.to_string(),
        reference_text().replace("horizon = 1e6", "horizon = 2e5"),
    ] {
        let m = model(&text);
        let horizon = m.horizon_s;
        let mut straight = Simulation::new(Arc::clone(&m), 77);
        straight.run();

        let mut first = Simulation::new(Arc::clone(&m), 77);
        first.run_until(horizon * 0.37);
        // Through JSON, as a twin would store it.
        let stored = serde_json::to_string(&first.snapshot()).expect("snapshot serializes");
        let snap: Snapshot = serde_json::from_str(&stored).expect("snapshot parses");
        let mut restored = Simulation::restore(Arc::clone(&m), &snap).expect("restores");
        restored.run();
        assert_eq!(json(&straight.report()), json(&restored.report()));

        // A fork on another thread, while the original goes on too.
        let mut forked = first.fork();
        let handle = std::thread::spawn(move || {
            forked.run();
            json(&forked.report())
        });
        first.run();
        assert_eq!(json(&first.report()), handle.join().expect("thread"));
    }
}

#[test]
fn restore_rejects_a_snapshot_of_another_plant() {
    let a = model(BUSY_PLANT);
    let b = model(&reference_text());
    let snap = Simulation::new(Arc::clone(&a), 1).snapshot();
    let err = Simulation::restore(b, &snap).err().expect("must not fit");
    assert!(err.to_string().contains("does not fit"), "{err}");
}

#[test]
fn replications_do_not_depend_on_the_number_of_threads() {
    let m = model(BUSY_PLANT);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool")
        .install(|| run_replications(&m, 5, 6, &|| {}, None).expect("runs"));
    let many = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .expect("pool")
        .install(|| run_replications(&m, 5, 6, &|| {}, None).expect("runs"));
    assert_eq!(
        one.iter().map(json).collect::<Vec<_>>(),
        many.iter().map(json).collect::<Vec<_>>()
    );
}

#[test]
fn deterministic_orders_finish_when_arithmetic_says() {
    // One machine, 10 s per part, FIFO. O1: 5 parts due at 40 s -> done at 50 s, 10 s late.
    // O2: 2 parts released at 0 after O1 -> done at 70 s, due 100 s: on time. O3 released at 200 s.
    let m = model(
        r#"
schema_version = 1
name = "orders"
[run]
horizon = 1000
[[products]]
name = "p"
routing = [{ station = "S", process_time = "10s" }]
[[stations]]
name = "S"
ideal_cycle_time = "8s"
[[demand.orders]]
id = "O1"
product = "p"
quantity = 5
due = 40
[[demand.orders]]
id = "O2"
product = "p"
quantity = 2
due = 100
[[demand.orders]]
id = "O3"
product = "p"
quantity = 1
release = 200
due = 300
"#,
    );
    let mut s = Simulation::new(m, 1);
    s.run();
    let r = s.report();
    let o = r.orders.as_ref().expect("orders");
    let done: Vec<Option<f64>> = o.orders.iter().map(|o| o.completed_at_s).collect();
    assert_eq!(done, vec![Some(50.0), Some(70.0), Some(210.0)]);
    assert_eq!(o.orders[0].tardiness_s, Some(10.0));
    assert_eq!(o.on_time_rate, Some(2.0 / 3.0));
    assert_eq!(o.makespan_s, Some(210.0));
    let st = &r.stations[0];
    assert_eq!((st.produced, st.actual_production_time_s), (8, 80.0));
    // Performance = 8 x 8 s / 80 s; availability = 80 / 1000.
    assert_eq!(st.performance, Some(0.8));
    assert_eq!(st.availability, Some(0.08));
    assert_eq!(
        r.lead_time_mean_s,
        Some((10.0 + 20.0 + 30.0 + 40.0 + 50.0 + 60.0 + 70.0 + 10.0) / 8.0)
    );
}

#[test]
fn active_periods_end_only_when_a_machine_waits() {
    // Roser's active-period method: an active period ends only when the machine waits. A part
    // arrives every second; M1 takes 0.5 s and then waits 0.5 s for the next; M2 takes 1.2 s, so
    // after the first part it never waits: one period from 1.5 s to the horizon; it is the bottleneck.
    // (Ending a period at every cycle end, as takt did before, gave M2 a mean of 1.2 s.)
    let m = model(
        r#"
schema_version = 1
name = "one bottleneck"
[run]
horizon = 1000
[[products]]
name = "p"
routing = [{ station = "M1", process_time = 0.5 }, { station = "M2", process_time = 1.2 }]
[[stations]]
name = "M1"
[[stations]]
name = "M2"
input_buffer = "B"
[[buffers]]
name = "B"
[demand.arrivals]
interarrival = 1
mix = { p = 1 }
"#,
    );
    let mut s = Simulation::new(m, 1);
    s.run();
    let r = s.report();
    let mean = |k: usize| r.stations[k].active_period_mean_s.expect("active periods");
    // Parts arrive at 1, 2, ... 1,000 s. M1: 999 periods of 0.5 s, and one opening at the horizon.
    assert!((mean(0) - 499.5 / 1000.0).abs() < 1e-9, "M1: {}", mean(0));
    assert!((mean(1) - 998.5).abs() < 1e-6, "M2: {}", mean(1));
    assert_eq!(r.bottleneck.as_deref(), Some("M2"));
}

#[test]
fn state_stays_bounded_over_long_runs() {
    // The World holds the plant; the parts in it are data in its buffers and on its machines, so
    // nothing grows with the horizon, and every part counted in the plant is in one place.
    let m = model(&reference_text().replace("horizon = 1e6", "horizon = 3e5"));
    let mut s = Simulation::new(Arc::clone(&m), 3);
    // The plant itself (source, buffers, machines) and whatever bevy keeps for itself.
    let fixed = s.world().entity_count();
    assert!(fixed >= 1 + 3 + 3, "{fixed}");
    for k in 1..=3 {
        s.run_until(1e5 * f64::from(k));
        assert_eq!(s.world().entity_count(), fixed);
        let held: usize = s
            .world()
            .iter_entities()
            .map(|e| {
                let queued = e.get::<BufferQueue>().map_or(0, |q| {
                    q.parts.len()
                        + q.waiting
                            .iter()
                            .filter(|w| matches!(w, Waiter::Release(_)))
                            .count()
                });
                queued
                    + e.get::<Machine>()
                        .map_or(0, |m| usize::from(m.part.is_some()))
            })
            .sum();
        let wip = s.plant_stats().wip;
        assert!(wip > 0, "the reference line has parts in it");
        assert_eq!(held as u64, wip, "parts held {held}, wip {wip}");
    }
}

#[test]
fn trace_rebuilds_the_reported_state_times_and_counts() {
    let text = BUSY_PLANT.replace("warmup = \"1d\"", "warmup = 0");
    let m = model(&text);
    let mut s = Simulation::new(Arc::clone(&m), 4);
    let sink = VecSink::default();
    s.set_trace(Box::new(sink.clone()));
    s.run();
    let report = s.report();
    let records = sink.records();
    assert!(
        records
            .windows(2)
            .all(|w| w[0].seq < w[1].seq && w[0].time_s <= w[1].time_s)
    );
    // Machines start starved at t = 0 (or off-shift, which the trace reports at t = 0).
    for (si, st) in report.stations.iter().enumerate() {
        if m.stations[si].machines != 1 {
            continue;
        }
        let mut totals = std::collections::HashMap::new();
        let (mut state, mut since) = (takt_sim::MachineState::Starved, 0.0);
        let (mut good, mut scrap, mut rework) = (0u64, 0u64, 0u64);
        for r in records.iter().filter(|r| r.asset == st.name) {
            if let Some((next, _)) = &r.state {
                *totals.entry(state.key()).or_insert(0.0) += r.time_s - since;
                (state, since) = (*next, r.time_s);
            }
            if let Some((g, s, w)) = r.count {
                good += u64::from(g);
                scrap += u64::from(s);
                rework += u64::from(w);
            }
        }
        *totals.entry(state.key()).or_insert(0.0) += report.time_s - since;
        let f = &st.state_fractions;
        for (key, fraction) in [
            ("processing", f.processing),
            ("setup", f.setup),
            ("starved", f.starved),
            ("blocked", f.blocked),
            ("down", f.down),
            ("planned_down", f.planned_down),
            ("off_shift", f.off_shift),
        ] {
            let from_trace = totals.get(key).copied().unwrap_or(0.0) / report.window_s;
            assert!(
                (from_trace - fraction).abs() < 1e-9,
                "{} {key}: trace {from_trace} vs report {fraction}",
                st.name
            );
        }
        assert_eq!(
            (good, scrap, rework),
            (st.good, st.scrap, st.rework),
            "{}",
            st.name
        );
    }
    // Tracing does not change the run.
    let mut quiet = Simulation::new(m, 4);
    quiet.run();
    assert_eq!(json(&report), json(&quiet.report()));
}
