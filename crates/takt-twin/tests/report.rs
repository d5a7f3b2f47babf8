//! The shift report against the simulator that made the events: a day of two shifts is simulated
//! with a trace, the trace is mirrored, and the report of the early shift (the one before the
//! running late shift) must count what the simulator counted in those eight hours, keep the line's
//! order, and add its stops up to a whole Pareto.

mod common;

use common::{Lines, bottling_two_shifts};
use std::sync::Arc;
use takt_sim::Simulation;
use takt_twin::mirror::MirrorConfig;
use takt_twin::store::Store;
use takt_twin::{KpiWindow, Twin};

#[test]
fn the_report_of_a_shift_counts_what_the_simulator_made_in_it() {
    let model = bottling_two_shifts();
    let seed = 17;
    let mut sim = Simulation::new(Arc::clone(&model), seed);
    let lines = Lines(Arc::default(), model.timebase);
    sim.set_trace(Box::new(lines.clone()));
    sim.run_until(10.0 * 3600.0);
    sim.take_trace();
    // The same run to the end of the early shift: what it made there.
    let mut early = Simulation::new(Arc::clone(&model), seed);
    early.run_until(8.0 * 3600.0);
    let made = early.report();

    let mut twin = Twin::open(
        &model,
        Store::memory().expect("store"),
        MirrorConfig::default(),
    )
    .expect("twin");
    let events = lines.0.lock().expect("lines").clone();
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    let received = model.timebase.start_ms() + 11 * 3_600_000;
    twin.ingest_lines("test", &refs, received).expect("ingest");
    let now = model.timebase.start_ms() + 10 * 3_600_000;
    let mut report = twin.shift_report(&model, now, KpiWindow::Previous);
    takt_twin::report::compare_with_plan(&mut report, &model, None, 6, 3, None).expect("plan");

    assert_eq!(report.window, "previous");
    assert_eq!(report.shift.as_deref(), Some("early"));
    assert!(report.ended);
    // In the line's order, and each machine's good parts are the simulator's.
    let names: Vec<&str> = report.stations.iter().map(|s| s.station.as_str()).collect();
    assert_eq!(names, ["Filler", "Labeller", "CasePacker"]);
    for s in &report.stations {
        let simulated = made
            .stations
            .iter()
            .find(|m| m.name == s.station)
            .expect("station");
        assert_eq!(s.good, simulated.good, "{}", s.station);
        assert_eq!(s.scrap, simulated.scrap, "{}", s.station);
        assert!(s.plan_good.is_some_and(|p| p > 0.0), "{}", s.station);
    }
    // Each machine's stops of its own are the simulator's: its failures, how many and how long.
    // Waits are told apart from stops, and time off shift is not among them.
    for s in &report.stations {
        let simulated = made.stations.iter().find(|m| m.name == s.station);
        let simulated = simulated.expect("station");
        let down: Vec<_> = report
            .downtime
            .iter()
            .filter(|d| d.asset == s.asset && d.state == "UNPLANNED_DOWN")
            .collect();
        let failures: u32 = down.iter().map(|d| d.episodes).sum();
        let down_s: f64 = down.iter().map(|d| d.duration_s).sum();
        assert_eq!(u64::from(failures), simulated.failures, "{}", s.station);
        assert!(
            (down_s - simulated.unplanned_downtime_s).abs() < 0.01 * f64::from(failures.max(1)),
            "{}: {down_s} s down, the simulator {} s",
            s.station,
            simulated.unplanned_downtime_s
        );
        for d in &down {
            let mean = d.mean_s.expect("failures began in the shift");
            assert!((mean * f64::from(d.episodes) - d.duration_s).abs() < 0.01);
        }
    }
    for d in &report.downtime {
        let wait = matches!(d.state.as_str(), "STARVED" | "BLOCKED");
        assert_eq!(
            d.kind,
            if wait {
                takt_twin::timeline::StopKind::Wait
            } else {
                takt_twin::timeline::StopKind::Stop
            },
            "{d:?}"
        );
        assert!(!matches!(d.state.as_str(), "OFF" | "UNKNOWN"), "{d:?}");
    }
    // The line's output is what left the plant, counted where the line ends.
    assert_eq!(report.line.end_of_line, "CasePacker");
    assert_eq!(report.line.good, made.completed);
    assert!(report.line.plan_good.is_some_and(|p| p > 0.0));
    // The Pareto: longest first, shares adding up to the whole.
    assert!(!report.downtime.is_empty());
    assert!(
        report
            .downtime
            .windows(2)
            .all(|w| w[0].duration_s >= w[1].duration_s)
    );
    let total: f64 = report.downtime.iter().map(|d| d.share).sum();
    assert!((total - 1.0).abs() < 1e-9, "{total}");
    assert!((report.downtime.last().expect("stops").cumulative_share - 1.0).abs() < 1e-9);
    // takt's own reason codes in words beside the code; a failure by its mode's name alone.
    let starved = report
        .downtime
        .iter()
        .find(|d| d.reason == "no_input")
        .expect("a starved machine");
    assert_eq!(
        starved.reason_text(),
        "no part to take from upstream (no_input)"
    );
    assert!(starved.how_often_text().ends_with(" waits"), "{starved:?}");
    let modes: Vec<&str> = model
        .stations
        .iter()
        .flat_map(|s| s.failure_modes.iter().map(|f| f.name.as_str()))
        .collect();
    let failure = report
        .downtime
        .iter()
        .find(|d| modes.contains(&d.reason.as_str()))
        .expect("a failure");
    assert_eq!(
        (failure.reason_words.as_deref(), failure.reason_text()),
        (None, failure.reason.clone())
    );
    // How many stops, as people read them: the count; and a stop under way when the shift began
    // counts in the shift it began in (`history.rs`), so time lost with no stop begun in the
    // shift reads "carried over", not "0" beside the minutes.
    let jams = report
        .downtime
        .iter()
        .find(|d| (2..1000).contains(&d.episodes))
        .expect("a stop of several episodes");
    assert_eq!(jams.how_often_text(), format!("{} stops", jams.episodes));
    let carried = takt_twin::report::Downtime {
        episodes: 0,
        ..jams.clone()
    };
    assert_eq!(carried.how_often_text(), "carried over");
    // The page says it in the same units and words.
    let page = takt_twin::report::html(&report);
    assert!(page.contains("no part to take from upstream (no_input)"));
    assert!(page.contains("Shift report: shift early, 2026-01-05"));
    assert!(page.contains("<th>how often</th>"));
    assert!(!page.contains("<script") && !page.contains("http"));
}

/// Time without news is not known: it is said in a note, not shown as a stop or a wait, and time
/// off shift is not lost time.
#[test]
fn time_without_news_is_said_apart_from_the_stops() {
    let model = bottling_two_shifts();
    let mut twin = Twin::open(
        &model,
        Store::memory().expect("store"),
        MirrorConfig::default(),
    )
    .expect("twin");
    let start = model.timebase.start_ms();
    let ts = |ms: i64| model.timebase.format_ms(ms);
    let event = |asset: &str, seq: u32, ms: i64, state: &str| {
        format!(
            r#"{{"ts":"{}","asset":"{asset}","kind":"state","seq":{seq},"state":"{state}","reason":"r"}}"#,
            ts(ms)
        )
    };
    // The Filler runs, and is down 10 min; the Labeller says it runs once, then nothing more.
    let lines = [
        event("Filler", 1, start, "RUNNING"),
        event("Labeller", 1, start, "RUNNING"),
        event("Filler", 2, start + 3_600_000, "UNPLANNED_DOWN"),
        event("Filler", 3, start + 4_200_000, "RUNNING"),
        event("Filler", 4, start + 7_000_000, "RUNNING"),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    twin.ingest_lines("test", &refs, start + 7_200_000)
        .expect("ingest");
    let report = twin.shift_report(&model, start + 7_200_000, KpiWindow::Shift);
    assert!(
        report
            .downtime
            .iter()
            .all(|d| d.state != "UNKNOWN" && d.state != "OFF"),
        "{:?}",
        report.downtime
    );
    let down = report.downtime.iter().find(|d| d.asset == "Filler");
    let down = down.expect("the Filler's stop");
    assert_eq!(
        (down.state.as_str(), down.how_often_text(), down.mean_text()),
        ("UNPLANNED_DOWN", "1 stop".to_string(), "10 min".to_string())
    );
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.starts_with("Labeller: no news for 1 h 45 min")),
        "{:?}",
        report.notes
    );
}
