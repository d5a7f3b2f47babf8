//! `takt maintain` on the shipped forging shop as a planner runs it: a two-week plan whose windows
//! keep every rule, whose expected cost the simulator confirms, and which beats running to failure
//! in the simulator with a 95% interval; and clear errors for impossible settings.

use serde_json::Value;
use std::process::{Command, Output};

fn takt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_takt"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .args(args)
        .output()
        .expect("takt runs")
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// `takt maintain` with `args`, its JSON answer.
fn maintain_json(args: &[&str]) -> Value {
    let out = takt(&[&["maintain"], args, &["--json"]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// A policy's estimate of `key` (mean, 95% half-width, difference to run to failure).
fn estimate(policy: &Value, key: &str) -> Value {
    policy["estimates"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["key"] == key).cloned())
        .unwrap_or(Value::Null)
}

/// The renewal model's figure against the simulator's `estimate`: within its 99% interval (the
/// 95% half-width x 2.58 / 1.96).
fn within_99(what: &str, simulated: &Value, model: f64) {
    let (mean, h95) = (f(&simulated["mean"]), f(&simulated["ci95"]));
    assert!(
        (mean - model).abs() <= h95 * 2.58 / 1.96,
        "{what}: simulated {mean} ± {h95}, model {model}"
    );
}

#[test]
fn the_plan_for_the_forging_shop_beats_run_to_failure_in_the_simulator() {
    let planned_file =
        std::env::temp_dir().join(format!("takt-planned-{}.toml", std::process::id()));
    let planned_arg = planned_file.to_string_lossy().to_string();
    let v = maintain_json(&[
        "--scenario",
        "scenarios/forging-shop.toml",
        "--horizon",
        "14d",
        "--solver",
        "greedy",
        "--compare",
        "30",
        "-o",
        &planned_arg,
    ]);
    let plan = &v["plan"];
    let windows = plan["windows"].as_array().cloned().unwrap_or_default();
    assert!(!windows.is_empty(), "{plan}");
    // Exponential lives are left out, and said so; the wear-out stations are planned.
    let notes = v["notes"].to_string();
    assert!(notes.contains("Heater `coil`: not planned"), "{notes}");
    let planned: Vec<&str> = v["machines"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(planned, ["Saw", "Press", "Trim"]);
    // Windows inside the horizon, off shift where they cost nothing: every window here falls
    // in a stop the calendar already has (the shop works Mon-Fri two shifts, Sat morning).
    for w in &windows {
        assert!(
            f(&w["start_s"]) + f(&w["duration_s"]) <= 14.0 * 86_400.0,
            "{w}"
        );
        assert_eq!(f(&w["production_cost"]), 0.0, "{w}");
    }
    let policies = v["comparison"]["policies"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = policies.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(
        names,
        ["run to failure", "fixed interval", "optimized plan"]
    );
    // The renewal model's expected costs against the simulator's, for running to failure and
    // for the plan.
    within_99(
        "cost run to failure",
        &estimate(&policies[0], "cost"),
        f(&plan["run_to_failure_cost"]),
    );
    within_99(
        "cost with the plan",
        &estimate(&policies[2], "cost"),
        f(&plan["expected_cost"]),
    );
    // The plan fails less and costs less than running to failure, paired over the same random
    // numbers, each difference's 95% interval below 0.
    for key in ["failures", "cost"] {
        let d = &estimate(&policies[2], key)["difference"];
        assert!(f(&d["mean"]) + f(&d["ci95"]) < 0.0, "{key}: {d}");
    }
    // Every planned service happened in the simulator.
    let services = estimate(&policies[2], "maintenances");
    assert_eq!(f(&services["mean"]), windows.len() as f64, "{services}");
    // The scenario written with the plan's windows runs them: as many services in a run of it.
    let out = takt(&["run", &planned_arg, "--horizon", "14d", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: Value = serde_json::from_slice(&out.stdout).expect("json");
    let ran: f64 = run["stations"]
        .as_array()
        .map(|s| s.iter().map(|s| f(&s["maintenances"])).sum())
        .unwrap_or(0.0);
    assert_eq!(ran, windows.len() as f64, "{}", run["stations"]);
    let _ = std::fs::remove_file(&planned_file);
}

/// The bottling line's Filler: one-hour services in four-hour buckets, so the machine is as good
/// as new an hour after a service starts and ages for the rest of the bucket. The window model's
/// expected failures and costs meet the simulator's (before session 38 it renewed at the bucket's
/// end, expected 15 failures with the plan where the simulator counted 22, and promised a saving
/// of 8,250 EUR the simulator did not find).
#[test]
fn the_plan_for_the_bottling_line_costs_what_the_simulator_finds() {
    let v = maintain_json(&[
        "--scenario",
        "scenarios/bottling-line.toml",
        "--horizon",
        "14d",
        "--solver",
        "greedy",
        "--compare",
        "30",
    ]);
    let plan = &v["plan"];
    let policies = v["comparison"]["policies"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let filler = &plan["machines"][0];
    within_99(
        "failures with the plan",
        &estimate(&policies[2], "failures"),
        f(&filler["expected_failures"]),
    );
    within_99(
        "failures run to failure",
        &estimate(&policies[0], "failures"),
        f(&filler["run_to_failure_failures"]),
    );
    within_99(
        "cost with the plan",
        &estimate(&policies[2], "cost"),
        f(&plan["expected_cost"]),
    );
    within_99(
        "cost run to failure",
        &estimate(&policies[0], "cost"),
        f(&plan["run_to_failure_cost"]),
    );
}

/// The forging shop working around the clock (its calendar left out), with a risk limit that
/// forces services into production time: the Press's six-hour service takes two four-hour
/// buckets, the Saw's and the Trim's one-hour services one each. The line is charged for the
/// services' length, not their buckets', and the plan's expected cost meets the simulator's
/// (charged for whole buckets, the model expected 75,986 EUR where the simulator found 56,485 ±
/// 2,374).
#[test]
fn a_plan_in_production_time_costs_the_services_length_not_their_buckets() {
    let shop = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/forging-shop.toml"
    ))
    .expect("the shipped forging shop");
    let (from, to) = (
        shop.find("[calendar]").expect("a calendar"),
        shop.find("# Orders from 5").expect("the orders"),
    );
    let around_the_clock = format!("{}{}", &shop[..from], &shop[to..]);
    let file = std::env::temp_dir().join(format!("takt-forging-247-{}.toml", std::process::id()));
    std::fs::write(&file, around_the_clock).expect("written");
    let v = maintain_json(&[
        "--scenario",
        &file.to_string_lossy(),
        "--horizon",
        "14d",
        "--solver",
        "greedy",
        "--max-risk",
        "0.2",
        "--compare",
        "30",
    ]);
    let _ = std::fs::remove_file(&file);
    let plan = &v["plan"];
    let windows = plan["windows"].as_array().cloned().unwrap_or_default();
    // Each service stands its line for its length at 1,000 EUR an hour: 6 h for the Press, 1 h
    // for the others.
    assert!(windows.len() >= 3, "{plan}");
    for w in &windows {
        let hours = if w["machine"] == "Press" { 6.0 } else { 1.0 };
        assert!(
            (f(&w["production_cost"]) - hours * 1000.0).abs() < 1e-6,
            "{w}"
        );
    }
    let policies = v["comparison"]["policies"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    within_99(
        "cost with the plan",
        &estimate(&policies[2], "cost"),
        f(&plan["expected_cost"]),
    );
}

#[test]
fn impossible_settings_are_refused_with_what_is_wrong() {
    for (args, needle) in [
        (
            vec!["--max-risk", "1.5"],
            "the risk limit must be in [0, 1], not 1.5",
        ),
        (
            vec!["--repair-cost", "-3"],
            "the repair cost must be a number >= 0, not -3",
        ),
        (vec!["--bucket", "0"], "the bucket must be > 0"),
        // Buckets of a millisecond over two weeks: refused before any run.
        (vec!["--bucket", "1ms"], "at most 100000 are planned"),
        (
            vec!["--db", "no-such.db"],
            "no-such.db: no such event store",
        ),
    ] {
        let mut all = vec!["maintain", "--scenario", "scenarios/forging-shop.toml"];
        all.extend(args.iter().copied());
        let out = takt(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(needle), "{err}");
    }
    // A plant without a wear-out mode has nothing to plan, and says why.
    let out = takt(&["maintain", "--scenario", "scenarios/reference-line.toml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no machine to plan"), "{err}");
}

#[test]
fn reliability_and_plans_come_from_a_recorded_history() {
    // A shift of the bottling line recorded as events, as a plant would have logged it.
    let trace = std::env::temp_dir().join(format!("takt-maintain-{}.jsonl", std::process::id()));
    let trace_arg = trace.to_string_lossy().to_string();
    let out = takt(&[
        "run",
        "scenarios/bottling-line.toml",
        "--seed",
        "3",
        "--horizon",
        "5d",
        "--trace",
        &trace_arg,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `pdm fit`: the filler's breakdowns (Weibull shape 1.3, scale 12 h of calendar time: mean
    // 39,900 s) are fitted from the history, and the risk over the next 6 hours follows from it.
    let out = takt(&[
        "pdm",
        "fit",
        "--history",
        &trace_arg,
        "--scenario",
        "scenarios/bottling-line.toml",
        "--window",
        "6h",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let modes = v["modes"].as_array().cloned().unwrap_or_default();
    let valve = modes
        .iter()
        .find(|m| m["machine"] == "Filler" && m["mode"] == "breakdown")
        .cloned()
        .unwrap_or(Value::Null);
    assert!(f(&valve["failures"]) >= 5.0, "{valve}");
    // From 7 failures the fitted mean's 95% interval spans a factor of about 4; the fit is within
    // a factor of 2 of the truth, and the risk over the next 6 hours is a probability in between.
    let mean = f(&valve["fit"]["mean"]);
    assert!((19_950.0..79_800.0).contains(&mean), "{valve}");
    let risk = f(&valve["failure_within_window"]);
    assert!(risk > 0.05 && risk < 0.9, "{valve}");
    // `maintain --history`: the plan starts at the history's last event, with the ages it shows,
    // and its policies are compared from the plant as the history leaves it.
    let out = takt(&[
        "maintain",
        "--scenario",
        "scenarios/bottling-line.toml",
        "--history",
        &trace_arg,
        "--horizon",
        "1d",
        "--solver",
        "greedy",
        "--compare",
        "3",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        f(&v["settings"]["start_s"]) > 7.0 * 3600.0,
        "{}",
        v["settings"]
    );
    assert_eq!(v["machines"][0]["name"], "Filler", "{}", v["machines"]);
    let comparison = &v["comparison"];
    assert_eq!(comparison["replications"], 3, "{comparison}");
    assert_eq!(
        comparison["policies"].as_array().map(Vec::len),
        Some(3),
        "{comparison}"
    );
    let _ = std::fs::remove_file(&trace);
}
