//! The `takt` binary as a user runs it: every shipped scenario validates and runs, the JSON contract
//! holds, bad input gets located errors and a non-zero exit, never a panic.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn takt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_takt"))
        .args(args)
        .output()
        .expect("takt runs")
}

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios")
}

fn shipped() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// Writes Fisher and Thompson's ft06 (optimum 55) into `dir`.
fn write_ft06(dir: &Path) -> PathBuf {
    let path = dir.join("ft06.txt");
    std::fs::write(&path, "6 6\n2 1 0 3 1 6 3 7 5 3 4 6\n1 8 2 5 4 10 5 10 0 10 3 4\n2 5 3 4 5 8 0 9 1 1 4 7\n1 5 0 5 2 5 3 3 4 8 5 9\n2 9 1 3 4 5 5 4 0 3 3 1\n1 3 3 3 5 9 0 10 4 4 2 1\n").expect("write ft06");
    path
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "takt failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn assert_contract(r: &Value, replicated: bool) {
    let number = |v: &Value| {
        if replicated {
            v.get("mean").is_some_and(Value::is_number) && v.get("ci95").is_some()
        } else {
            v.is_number()
        }
    };
    for key in ["throughput_per_hour", "wip_mean", "events"] {
        assert!(number(&r[key]), "{key}: {}", r[key]);
    }
    assert!(number(&r["lead_time_mean_s"]) || r["lead_time_mean_s"].is_null());
    let stations = r["stations"].as_array().expect("stations");
    assert!(!stations.is_empty());
    for s in stations {
        assert!(s["name"].is_string());
        for key in [
            "oee",
            "availability",
            "performance",
            "quality",
            "mtbf_s",
            "mttr_s",
        ] {
            assert!(s.get(key).is_some(), "station lacks {key}");
            assert!(s[key].is_null() || number(&s[key]), "{key}: {}", s[key]);
        }
        for key in [
            "processing",
            "setup",
            "starved",
            "blocked",
            "down",
            "planned_down",
            "off_shift",
        ] {
            assert!(number(&s["state_fractions"][key]), "state_fractions.{key}");
        }
    }
}

#[test]
fn every_shipped_scenario_validates_and_runs() {
    let files = shipped();
    assert!(files.len() >= 5, "{files:?}");
    for f in files {
        let path = f.to_string_lossy().to_string();
        let v = takt(&["validate", &path]);
        assert!(
            v.status.success(),
            "{path}: {}",
            String::from_utf8_lossy(&v.stderr)
        );
        let horizon = if path.contains("reference") {
            "2e4"
        } else {
            "2d"
        };
        let r = json(&takt(&["run", &path, "--json", "--horizon", horizon]));
        assert_contract(&r, false);
        assert!(
            r["completed"].as_u64().unwrap_or(0) > 0,
            "{path}: nothing produced"
        );
        // The human table too.
        let t = takt(&["run", &path, "--horizon", horizon]);
        assert!(t.status.success() && String::from_utf8_lossy(&t.stdout).contains("OEE"));
    }
}

#[test]
fn replications_give_means_with_confidence_intervals() {
    let f = scenarios_dir().join("bottling-line.toml");
    let r = json(&takt(&[
        "run",
        &f.to_string_lossy(),
        "--replications",
        "4",
        "--json",
    ]));
    assert_contract(&r, true);
    assert_eq!(r["replications"], 4);
    assert!(
        r["throughput_per_hour"]["ci95"]
            .as_f64()
            .is_some_and(|h| h > 0.0)
    );
    // The table of a summary shows the buffers' capacities (a summary holds them as means).
    let t = takt(&["run", &f.to_string_lossy(), "--replications", "2"]);
    let table = String::from_utf8_lossy(&t.stdout);
    let row = table
        .lines()
        .find(|l| l.contains("conveyor-fill-label"))
        .unwrap_or_else(|| panic!("no buffer row in\n{table}"));
    let capacity = row.split('┆').nth(1).map(str::trim);
    assert_eq!(capacity, Some("240"), "{row}");
}

#[test]
fn same_seed_gives_identical_json() {
    let f = scenarios_dir().join("body-in-white.toml");
    let f = f.to_string_lossy();
    let a = takt(&["run", &f, "--json", "--seed", "5", "--horizon", "2d"]);
    let b = takt(&["run", &f, "--json", "--seed", "5", "--horizon", "2d"]);
    let c = takt(&["run", &f, "--json", "--seed", "6", "--horizon", "2d"]);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
    assert_ne!(a.stdout, c.stdout);
}

#[test]
fn broken_scenario_lists_every_problem_and_fails() {
    let dir = std::env::temp_dir().join(format!("takt-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("broken.toml");
    std::fs::write(
        &file,
        r#"schema_version = 1
name = "broken"
[run]
horizon = "1d"
[[products]]
name = "A"
routing = [{ station = "Nowhere", process_time = "-3s" }, { station = "S", process_time = { dist = "gamma", shape = 0, scale = 2 } }]
[[stations]]
name = "S"
machines = 0
[demand.arrivals]
interarrival = "1m"
mix = { B = 1 }
"#,
    )
    .expect("write");
    for cmd in ["validate", "run"] {
        let out = takt(&[cmd, &file.to_string_lossy()]);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("broken.toml:7:"), "{err}");
        assert!(err.contains("negative duration"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // With the structural problem fixed, the semantic ones all show, each with its line.
    let text = std::fs::read_to_string(&file)
        .expect("read")
        .replace("\"-3s\"", "\"3s\"");
    std::fs::write(&file, text).expect("write");
    let out = takt(&["validate", &file.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "broken.toml:7:",
        "unknown station `Nowhere`",
        "`shape` must be > 0",
        "broken.toml:10:",
        "at least one machine",
        "broken.toml:13:",
        "unknown product `B`",
        "4 problem(s)",
    ] {
        assert!(err.contains(needle), "missing `{needle}` in:\n{err}");
    }
}

#[test]
fn missing_file_and_bad_flags_are_clear_errors() {
    let out = takt(&["run", "/nonexistent/plant.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/plant.toml"));
    let f = scenarios_dir().join("reference-line.toml");
    let out = takt(&["run", &f.to_string_lossy(), "--horizon", "-5s"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("negative duration"));
    let out = takt(&["run", &f.to_string_lossy(), "--replications", "20000"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("between 1 and 10000,"));
    let out = takt(&["run", &f.to_string_lossy(), "--warmup", "1e9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("warm-up"));
}

#[test]
fn trace_is_json_lines_in_the_event_schema() {
    let dir = std::env::temp_dir().join(format!("takt-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let trace = dir.join("trace.jsonl");
    let f = scenarios_dir().join("bottling-line.toml");
    let r = json(&takt(&[
        "run",
        &f.to_string_lossy(),
        "--json",
        "--horizon",
        "1h",
        "--trace",
        &trace.to_string_lossy(),
    ]));
    let text = std::fs::read_to_string(&trace).expect("trace written");
    let mut counts = 0u64;
    let mut last_seq = 0;
    for line in text.lines() {
        let e: Value = serde_json::from_str(line).expect("each line is JSON");
        let ts = e["ts"].as_str().expect("ts");
        // RFC 3339 with the plant's offset (the bottling line starts 06:00 +01:00).
        assert!(
            ts.starts_with("2026-01-05T") && ts.ends_with("+01:00"),
            "{ts}"
        );
        assert!(e["asset"].is_string());
        let seq = e["seq"].as_u64().expect("seq");
        assert!(seq > last_seq);
        last_seq = seq;
        match e["kind"].as_str() {
            Some("state") => assert!(e["state"].is_string() && e["reason"].is_string()),
            Some("count") if e["asset"] == "CasePacker" => {
                counts += e["good"].as_u64().unwrap_or(0)
            }
            Some("count") => {}
            other => panic!("unknown kind {other:?}"),
        }
    }
    assert_eq!(counts, r["completed"].as_u64().expect("completed"));
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.contains("2026-01-05T06:00:00.000+01:00"))
    );
}

#[test]
fn whatif_compares_variants_and_writes_a_report() {
    let dir = std::env::temp_dir().join(format!("takt-whatif-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let report = dir.join("report.html");
    let f = scenarios_dir().join("bottling-line.toml");
    let out = takt(&[
        "whatif",
        &f.to_string_lossy(),
        "--variant",
        "bigger conveyors: buffers.conveyor-fill-label.capacity=600; buffers.conveyor-label-pack.capacity=600",
        "--variant",
        "same as base: crews.technician.count=1",
        "--replications",
        "6",
        "--goal",
        "min orders.makespan_s",
        "--json",
        "--report",
        &report.to_string_lossy(),
    ]);
    let x = json(&out);
    assert_eq!(x["replications"], 6);
    let variants = x["variants"].as_array().expect("variants");
    assert_eq!(variants.len(), 3);
    // The variant identical to the base differs by exactly zero on every KPI.
    for e in variants[2]["estimates"].as_array().expect("estimates") {
        assert_eq!(e["difference"]["mean"], 0.0, "{}", e["key"]);
    }
    assert!(x["ranking"]["best"].is_string());
    let page = std::fs::read_to_string(&report).expect("report written");
    assert!(
        page.starts_with("<!DOCTYPE html>")
            && page.contains("<svg")
            && page.contains("bigger conveyors")
    );
    // Downtime by reason: the bottling line's failure modes, each with its time lost.
    let downtime = &page[page.find("id=\"downtime\"").expect("a downtime table")..];
    for reason in ["valve fault", "label jam", "carton jam"] {
        assert!(downtime.contains(reason), "{reason}");
    }

    let bad = takt(&[
        "whatif",
        &f.to_string_lossy(),
        "--variant",
        "oops: stations.Filer.machines=2",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("variant `oops`") && err.contains("no item named `Filer`"),
        "{err}"
    );
}

#[test]
fn schedule_solves_a_benchmark_instance_and_rejects_bad_files() {
    let dir = std::env::temp_dir().join(format!("takt-schedule-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ft06 = write_ft06(&dir);
    let x = json(&takt(&[
        "schedule",
        "--instance",
        &ft06.to_string_lossy(),
        "--format",
        "jssp",
        "--iterations",
        "5000",
        "--searches",
        "2",
        "--json",
    ]));
    assert_eq!(x["makespan"], 55);
    assert_eq!(x["schedule"].as_array().map(Vec::len), Some(36));
    // The bound is below the optimum (55), and the gap is the share above it.
    let bound = &x["lower_bound"];
    let m = bound["makespan"].as_i64().expect("bound");
    assert!((45..=55).contains(&m), "{bound}");
    assert_eq!(bound["objective"].as_f64(), Some(m as f64));
    let gap = bound["gap"].as_f64().expect("gap");
    assert!((gap - (55 - m) as f64 / 55.0).abs() < 1e-12, "{bound}");
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "2 2\n0 3 1 2\n1 x 0 1\n").expect("write");
    let out = takt(&["schedule", "--instance", &bad.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 3") && err.contains("`x` is not a whole number"),
        "{err}"
    );
}

#[cfg(feature = "milp")]
#[test]
fn schedule_with_the_milp_proves_ft06_optimal() {
    let dir = std::env::temp_dir().join(format!("takt-milp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ft06 = write_ft06(&dir);
    let gantt = dir.join("ft06.svg");
    let x = json(&takt(&[
        "schedule",
        "--instance",
        &ft06.to_string_lossy(),
        "--solver",
        "milp",
        "--time-limit",
        "60s",
        "--json",
        "--gantt",
        &gantt.to_string_lossy(),
    ]));
    assert_eq!(x["makespan"], 55);
    assert_eq!(x["proven_optimal"], true);
    assert!(
        std::fs::read_to_string(&gantt)
            .expect("gantt")
            .starts_with("<svg")
    );
}

#[test]
fn schedule_plans_an_order_book_and_evaluates_it_in_the_simulator() {
    let dir = std::env::temp_dir().join(format!("takt-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (csv, gantt) = (dir.join("plan.csv"), dir.join("plan.svg"));
    let scenario = scenarios_dir().join("injection-moulding.toml");
    let x = json(&takt(&[
        "schedule",
        &scenario.to_string_lossy(),
        "--objective",
        "late,tardiness",
        "--iterations",
        "40",
        "--searches",
        "1",
        "--evaluate",
        "3",
        "--json",
        "--csv",
        &csv.to_string_lossy(),
        "--gantt",
        &gantt.to_string_lossy(),
    ]));
    let orders = x["orders"].as_array().expect("orders");
    assert_eq!(orders.len(), 40);
    let ops = x["operations"].as_array().expect("operations");
    assert!(ops.len() > 80, "{}", ops.len());
    for op in ops {
        assert!(op["start_s"].as_i64() <= op["end_s"].as_i64());
        assert!(
            op["start"]
                .as_str()
                .is_some_and(|s| s.starts_with("2026-01"))
        );
    }
    let late = orders.iter().filter(|o| o["late"] == true).count();
    assert_eq!(x["late_orders"].as_u64(), Some(late as u64));
    // What no plan can beat: the objective's first level is the late orders.
    let bound = &x["lower_bound"];
    let late_bound = bound["late_orders"].as_u64().expect("bound");
    assert!(late_bound <= late as u64, "{bound}");
    assert_eq!(bound["objective"].as_f64(), Some(late_bound as f64));
    assert!(bound["makespan_s"].as_i64() <= x["makespan_s"].as_i64());
    assert!(
        bound["weighted_tardiness_s"].as_f64().expect("tardiness")
            <= x["weighted_tardiness_s"].as_f64().expect("tardiness")
    );
    let e = &x["robustness"];
    assert_eq!(e["replications"], 3);
    assert!(
        e["simulated"]["makespan_s"]["mean"]
            .as_f64()
            .is_some_and(|m| m > 0.0)
    );
    assert_eq!(e["orders"].as_array().map(Vec::len), Some(40));
    let rows = std::fs::read_to_string(&csv).expect("csv");
    assert!(
        rows.starts_with(
            "order,operation,product,quantity,station,machine,setup_start,start,end,due"
        )
    );
    assert_eq!(rows.lines().count(), ops.len() + 1);
    assert!(
        std::fs::read_to_string(&gantt)
            .expect("svg")
            .contains("IMM-150t.1")
    );

    // An order book with a due date before the release: the CSV line and field, exit code 1.
    let bad = dir.join("bad-orders.csv");
    std::fs::write(
        &bad,
        "id,product,quantity,release,due\nPO-1,clip,100,10h,12h\nPO-2,clip,100,10h,2h\n",
    )
    .expect("write");
    let out = takt(&[
        "schedule",
        &scenario.to_string_lossy(),
        "--orders",
        &bad.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad-orders.csv:3") && err.contains("due"),
        "{err}"
    );
    // An unknown objective is refused by the argument parser.
    let out = takt(&[
        "schedule",
        &scenario.to_string_lossy(),
        "--objective",
        "speed",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown criterion"));
}

#[cfg(feature = "milp")]
#[test]
fn schedule_aggregate_assigns_orders_to_shifts_within_capacity() {
    let scenario = scenarios_dir().join("injection-moulding.toml");
    let x = json(&takt(&[
        "schedule",
        &scenario.to_string_lossy(),
        "--aggregate",
        "--bucket-offset",
        "6h",
        "--json",
    ]));
    assert_eq!(x["orders"].as_array().map(Vec::len), Some(40));
    let groups = x["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 5);
    for g in groups {
        let work = g["work_s"].as_array().expect("work");
        let cap = g["capacity_s"].as_array().expect("capacity");
        for (w, c) in work.iter().zip(cap) {
            assert!(w.as_f64() <= Some(c.as_f64().unwrap_or(0.0) + 1e-6), "{g}");
        }
    }
    assert!(
        x["bucket_starts"][1]
            .as_str()
            .is_some_and(|s| s.starts_with("2026-01-05T06:00"))
    );
}

#[test]
fn hostile_command_lines_end_with_a_word_not_a_panic_or_a_hang() {
    // Durations past 1,000 years are refused where they are parsed.
    let reference = scenarios_dir().join("reference-line.toml");
    let reference = reference.to_str().unwrap_or_default();
    for horizon in ["1e308", "99999999999999999999999w"] {
        let out = takt(&["run", reference, "--horizon", horizon]);
        assert_eq!(out.status.code(), Some(2), "{horizon}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("longest duration takt accepts"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // A wildcard origin is refused before the server says where it listens.
    let bottling = scenarios_dir().join("bottling-line.toml");
    let out = takt(&[
        "serve",
        "--scenario",
        bottling.to_str().unwrap_or_default(),
        "--listen",
        "127.0.0.1:0",
        "--insecure-no-auth",
        "--cors",
        "*",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("wildcard"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("line board"));
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    // `takt twin schema | true`: the reader is gone before the first line is written.
    let mut child = Command::new(env!("CARGO_BIN_EXE_takt"))
        .args(["twin", "schema"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("takt runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("ends");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn a_replay_of_which_every_line_is_rejected_fails() {
    let dir = std::env::temp_dir().join(format!("takt-cli-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("bad.jsonl");
    std::fs::write(
        &file,
        "{\"ts\":\"2026-01-05T06:00:00+01:00\",\"asset\":\"Mixer\",\"seq\":1,\"kind\":\"state\",\"state\":\"RUNNING\"}\nnot json\n",
    )
    .expect("write");
    let bottling = scenarios_dir().join("bottling-line.toml");
    let out = takt(&[
        "replay",
        file.to_str().unwrap_or_default(),
        "--scenario",
        bottling.to_str().unwrap_or_default(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("every one of the 2 event(s)"), "{err}");
}
