//! Alerts in a replay, against what the events themselves say: a 16-hour bottling day from the
//! simulator raises a `down` alert for exactly the stops that lasted the allowance (found here by
//! reading the recording's state events, not by the engine), at the moment each passed it, cleared
//! when it ended; the shorter stops raise nothing (no storm). The shipped Okuma recording, a demo
//! machine mostly idle for 53 minutes, raises nothing under the default rules and one OEE alert
//! when OEE is judged after half an hour.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn takt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_takt"))
        .args(args)
        .output()
        .expect("takt runs")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ok(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// (machine, start ms, end ms) of every UNPLANNED_DOWN in a recording, read from its events.
fn stops(trace: &Path) -> Vec<(String, i64, i64)> {
    let text = std::fs::read_to_string(trace).expect("trace");
    let mut open: std::collections::BTreeMap<String, i64> = Default::default();
    let mut out = Vec::new();
    for line in text.lines() {
        let e: Value = serde_json::from_str(line).expect("event");
        if e["kind"] != "state" {
            continue;
        }
        let asset = e["asset"].as_str().expect("asset").to_string();
        let ms = takt_model::time::parse_rfc3339_ms(e["ts"].as_str().expect("ts")).expect("time");
        if let Some(start) = open.remove(&asset) {
            out.push((asset.clone(), start, ms));
        }
        if e["state"] == "UNPLANNED_DOWN" {
            open.insert(asset, ms);
        }
    }
    out
}

fn replay(trace: &Path, scenario: &Path, alerts: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "replay".to_string(),
        trace.to_string_lossy().into_owned(),
        "--scenario".into(),
        scenario.to_string_lossy().into_owned(),
        "--alerts".into(),
        alerts.to_string_lossy().into_owned(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    takt(&refs)
}

/// `takt run scenario --trace trace` with `extra` options; it must succeed.
fn simulate(scenario: &Path, trace: &Path, extra: &[&str]) {
    let (scenario, trace) = (scenario.to_string_lossy(), trace.to_string_lossy());
    let mut args = vec!["run", &scenario, "--trace", &trace, "--json"];
    args.extend_from_slice(extra);
    let run = takt(&args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn a_replayed_day_raises_one_alert_per_long_stop_and_none_for_the_short_ones() {
    let dir = std::env::temp_dir().join(format!("takt-alerts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let trace = dir.join("day.jsonl");
    let scenario = root().join("scenarios/bottling-line.toml");
    simulate(&scenario, &trace, &["--horizon", "16h"]);
    let rules = dir.join("rules.toml");
    std::fs::write(&rules, "[[rule]]\nwhen = \"down\"\nlonger_than = \"5m\"\n").expect("rules");
    let state = ok(&replay(&trace, &scenario, &rules, &["--json"]));
    let alerts = state["alerts"].as_array().expect("alerts");
    let all = stops(&trace);
    let long: Vec<&(String, i64, i64)> = all.iter().filter(|s| s.2 - s.1 >= 300_000).collect();
    eprintln!(
        "{} stops, {} of at least 5 min, {} alerts",
        all.len(),
        long.len(),
        alerts.len()
    );
    assert!(
        all.len() > 10 && !long.is_empty(),
        "a day with short and long stops"
    );
    assert_eq!(alerts.len(), long.len(), "{alerts:#?}");
    for (alert, (machine, start, end)) in alerts.iter().zip(&long) {
        assert_eq!(alert["asset"], machine.as_str());
        assert_eq!(alert["kind"], "down");
        assert_eq!(alert["raised_ms"].as_i64(), Some(start + 300_000));
        assert_eq!(alert["cleared_ms"].as_i64(), Some(*end));
    }
    // Batches of 7 events judge far more often: the same alerts, to the millisecond.
    let fine = ok(&replay(
        &trace,
        &scenario,
        &rules,
        &["--batch", "7", "--json"],
    ));
    assert_eq!(&fine["alerts"], &state["alerts"]);
    // A rules file with a mistake is refused with its place.
    std::fs::write(
        &rules,
        "[[rule]]\nwhen = \"down\"\nlonger_than = \"five\"\n",
    )
    .expect("rules");
    let bad = replay(&trace, &scenario, &rules, &[]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("rules.toml: rule[0].longer_than:"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_okuma_recording_raises_the_one_alert_its_idle_hour_deserves() {
    let okuma = |rules: &Path| {
        ok(&replay(
            &root().join("replay/okuma-mtconnect.jsonl"),
            &root().join("scenarios/okuma-cell.toml"),
            rules,
            &["--json"],
        ))
    };
    // 53 minutes of a demo machine, never down, never silent while running: the default rules
    // (OEE judged after an hour watched) have nothing to say.
    let quiet = okuma(Path::new("default"));
    assert_eq!(quiet["alerts"], serde_json::json!([]));
    // Judged after half an hour, its OEE (mostly idle) is an alert, once.
    let dir = std::env::temp_dir().join(format!("takt-alerts-okuma-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let rules = dir.join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nwhen = \"oee_below\"\nbelow = 0.5\nafter = \"30m\"\n",
    )
    .expect("rules");
    let state = okuma(&rules);
    let alerts = state["alerts"].as_array().expect("alerts");
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0]["kind"], "oee_below");
    assert_eq!(alerts[0]["asset"], "Okuma");
    let oee = alerts[0]["value"].as_f64().expect("oee");
    assert!(oee < 0.5, "{oee}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A press that makes one bracket a minute, and two orders: 100 brackets due in an hour (they take
/// 100 minutes: late, whatever happens) and 10 due in four hours (on time, whatever happens).
const PRESS_ORDERS: &str = r#"
schema_version = 1
name = "press with orders"
[run]
start = 2026-01-05T06:00:00+01:00
horizon = "4h"
seed = 5
[[products]]
name = "bracket"
routing = [{ station = "Press", process_time = "60s" }]
[[stations]]
name = "Press"
[[demand.orders]]
id = "RUSH-1"
product = "bracket"
quantity = 100
release = "0h"
due = "1h"
[[demand.orders]]
id = "EASY-2"
product = "bracket"
quantity = 10
release = "0h"
due = "4h"
"#;

#[test]
fn an_order_that_cannot_make_its_due_date_is_alerted_and_one_that_can_is_not() {
    let dir = std::env::temp_dir().join(format!("takt-alerts-orders-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let scenario = dir.join("press.toml");
    std::fs::write(&scenario, PRESS_ORDERS).expect("scenario");
    let trace = dir.join("press.jsonl");
    simulate(&scenario, &trace, &[]);
    let rules = dir.join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nwhen = \"order_late\"\nprobability = 0.5\nevery = \"10m\"\nahead = \"2h\"\nreplications = 20\n",
    )
    .expect("rules");
    let state = ok(&replay(
        &trace,
        &scenario,
        &rules,
        &["--batch", "20", "--json"],
    ));
    let alerts = state["alerts"].as_array().expect("alerts");
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let rush = &alerts[0];
    assert_eq!(rush["kind"], "order_late");
    assert_eq!(rush["order"], "RUSH-1");
    assert_eq!(rush["asset"], "");
    assert!(rush["value"].as_f64().is_some_and(|p| p >= 0.5), "{rush}");
    assert!(
        rush["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("order RUSH-1 (100 pieces, due 2026-01-05 07:00): ")),
        "{rush}"
    );
    // Raised within the first forecast period, long before the due date.
    let start = takt_model::time::parse_rfc3339_ms("2026-01-05T06:00:00+01:00").expect("start");
    let raised = rush["raised_ms"].as_i64().expect("raised");
    assert!(
        raised - start <= 11 * 60_000,
        "raised {} min in",
        (raised - start) / 60_000
    );
    // Cleared once the order is complete (100 minutes in), within a forecast period.
    let cleared = rush["cleared_ms"].as_i64().expect("cleared");
    assert!(
        (100 * 60_000..=112 * 60_000).contains(&(cleared - start)),
        "cleared {} min in",
        (cleared - start) / 60_000
    );
    let _ = std::fs::remove_dir_all(&dir);
}
