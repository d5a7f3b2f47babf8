//! Calibration says what it leaves out: a hand-written record with a first failure of unknown age,
//! a stop whose reason names no failure mode, a repair still running at the end, events of an asset
//! the scenario does not know, and too few observations for a fit. Every one is reported with its
//! reason and count, and none is used as if it were an observation.

use std::path::Path;
use takt_twin::calibrate::{ObserveOptions, Observed, Skipped, calibrate, observe};
use takt_twin::event;

const PRESS: &str = r#"
schema_version = 1
name = "press"
[run]
horizon = "8h"
start = 2026-01-05T06:00:00+01:00
[[products]]
name = "bracket"
routing = [
  { station = "Press", process_time = { dist = "constant", value = "60s" } },
  { station = "Oven", process_time = { dist = "constant", value = "50s" } },
]
[[stations]]
name = "Press"
failures = [
  { name = "jam", ttf = { dist = "exponential", mean = "2h" }, ttr = { dist = "constant", value = "5m" } },
  { name = "motor", basis = "operating", ttf = { dist = "exponential", mean = "20h" }, ttr = { dist = "constant", value = "1h" } },
]
[[stations]]
name = "Oven"
[demand]
arrivals = { interarrival = { dist = "exponential", mean = "75s" }, mix = { bracket = 1 } }
"#;

/// A state event of `asset` at `t_s` seconds after 06:00.
fn state(asset: &str, seq: u64, t_s: u64, state: &str, reason: &str) -> String {
    let (h, m, s) = (6 + t_s / 3600, t_s / 60 % 60, t_s % 60);
    format!(
        r#"{{"asset":"{asset}","kind":"state","seq":{seq},"state":"{state}","reason":"{reason}","ts":"2026-01-05T{h:02}:{m:02}:{s:02}.000+01:00"}}"#
    )
}

fn record() -> Vec<event::Checked> {
    let lines = [
        state("Press", 1, 0, "RUNNING", "initial"),
        // The first jam: the machine's age at the start is unknown.
        state("Press", 2, 100, "UNPLANNED_DOWN", "jam"),
        state("Press", 3, 110, "RUNNING", ""),
        // A jam 190 s after the repair: an observed time to failure.
        state("Press", 4, 300, "UNPLANNED_DOWN", "jam"),
        state("Press", 5, 320, "RUNNING", ""),
        // A reason the scenario has no failure mode for.
        state("Press", 6, 400, "UNPLANNED_DOWN", "coolant leak"),
        state("Press", 7, 410, "RUNNING", ""),
        state("Robot", 1, 420, "RUNNING", "initial"),
        state("Robot", 2, 430, "STARVED", ""),
        // The motor fails and is still down when the record ends.
        state("Press", 8, 500, "UNPLANNED_DOWN", "motor"),
    ];
    lines
        .iter()
        .map(|l| event::parse(l).expect("a valid event"))
        .collect()
}

fn model() -> takt_model::Model {
    takt_model::load_str(PRESS, Path::new("press.toml"), None)
        .expect("a valid scenario")
        .model
}

fn find<'a>(skipped: &'a [Skipped], what: &str) -> &'a Skipped {
    skipped
        .iter()
        .find(|s| s.what == what)
        .unwrap_or_else(|| panic!("`{what}` is not reported among {skipped:#?}"))
}

#[test]
fn every_observation_left_out_is_reported_with_its_reason() {
    let model = model();
    let observed: Observed = observe(&model, &record(), ObserveOptions::default());
    let press = &observed.stations[&0];
    // Only the second jam is a time to failure; the first's age is unknown.
    assert_eq!(press.ttf["jam"].observed, vec![190.0]);
    assert_eq!(press.first_failures["jam"], 1);
    assert_eq!(press.first_failures["motor"], 1);
    assert_eq!(press.ttr["jam"], vec![10.0, 20.0]);
    assert!(!press.ttr.contains_key("motor"), "{:?}", press.ttr);
    assert_eq!(press.open_repairs["motor"], 1);

    let calibration = calibrate(&model, &observed);
    let skipped = &calibration.skipped;
    let robot = find(skipped, "events of `Robot`");
    assert_eq!(robot.observations, 2);
    assert!(robot.reason.contains("not a machine of the scenario"));

    let leak = find(skipped, "Press stops `coolant leak`");
    assert_eq!(leak.observations, 1);
    assert!(leak.reason.contains("`jam`, `motor`"), "{}", leak.reason);

    let jam = find(skipped, "Press `jam` time to failure");
    assert_eq!(jam.path.as_deref(), Some("stations.Press.failures[0].ttf"));
    // One observed, one left out, one censored by the end of the record.
    assert_eq!(jam.observations, 3);
    assert!(
        jam.reason
            .starts_with("1 failure observed, 1 more left out (the first of a machine"),
        "{}",
        jam.reason
    );
    assert!(jam.reason.contains("1 interval censored"), "{}", jam.reason);
    assert!(jam.reason.ends_with("a fit needs at least 5 failures"));

    let motor_repair = find(skipped, "Press `motor` time to repair");
    assert!(
        motor_repair
            .reason
            .starts_with("no repair usable: 1 left out (still down"),
        "{}",
        motor_repair.reason
    );

    let oven = find(skipped, "station Oven");
    assert!(oven.reason.starts_with("no events of its machines"));
    // Nothing is both fitted and left out for too few observations.
    for c in &calibration.calibrated {
        assert!(
            !skipped
                .iter()
                .any(|s| s.path.as_deref() == Some(&c.path) && s.reason.contains("a fit needs")),
            "{} is fitted and skipped",
            c.path
        );
    }
}

#[test]
fn machines_new_at_the_start_count_their_first_failure() {
    let model = model();
    let observed = observe(&model, &record(), ObserveOptions { new_at_start: true });
    let press = &observed.stations[&0];
    assert_eq!(press.ttf["jam"].observed, vec![100.0, 190.0]);
    // The motor (operating basis) ran 100 + 190 + 80 + 90 s before it failed.
    assert_eq!(press.ttf["motor"].observed, vec![460.0]);
    assert!(
        press.first_failures.is_empty(),
        "{:?}",
        press.first_failures
    );
}

#[test]
fn enough_failures_are_fitted_and_the_first_is_still_reported() {
    let model = model();
    let mut lines = vec![state("Press", 1, 0, "RUNNING", "initial")];
    let mut t = 0;
    for (k, gap) in [100u64, 150, 90, 200, 130, 170, 110]
        .into_iter()
        .enumerate()
    {
        t += gap;
        let seq = 2 + 2 * k as u64;
        lines.push(state("Press", seq, t, "UNPLANNED_DOWN", "jam"));
        t += 30 + k as u64;
        lines.push(state("Press", seq + 1, t, "RUNNING", ""));
    }
    let events: Vec<_> = lines
        .iter()
        .map(|l| event::parse(l).expect("event"))
        .collect();
    let calibration = calibrate(&model, &observe(&model, &events, ObserveOptions::default()));
    let fitted = calibration
        .calibrated
        .iter()
        .find(|c| c.path == "stations.Press.failures[0].ttf")
        .expect("the jam's time to failure is fitted from 6 failures");
    // Six observed after the first; the record ends at the last repair, so nothing is censored.
    assert_eq!(fitted.observations, 6);
    let first = find(&calibration.skipped, "Press `jam` time to failure");
    assert_eq!(first.observations, 1);
    assert!(
        first.reason.starts_with("1 failure left out (the first"),
        "{}",
        first.reason
    );
}
