//! Golden outputs of the CLI: what `takt` prints for the shipped plants, byte for byte, held in
//! `tests/snapshots/` (insta). Same scenario and seed give the same figures whatever the build, so
//! a refactoring that changes one number shows here. A change meant to move them is reviewed and
//! accepted with `cargo insta review` (or `INSTA_UPDATE=always`), and says why in its commit.

use std::path::Path;
use std::process::Command;

/// Runs `takt` in the repository's root and returns its standard output (it must succeed).
fn takt(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_takt"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .args(args)
        .output()
        .expect("takt runs");
    assert!(
        out.status.success(),
        "takt {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn takt_run_prints_the_same_reports() {
    for plant in [
        "bottling-line",
        "reference-line",
        "injection-moulding",
        "body-in-white",
        "okuma-cell",
        "forging-shop",
    ] {
        let path = format!("scenarios/{plant}.toml");
        insta::assert_snapshot!(format!("run-{plant}-json"), takt(&["run", &path, "--json"]));
    }
    insta::assert_snapshot!(
        "run-bottling-line-table",
        takt(&["run", "scenarios/bottling-line.toml"])
    );
    // One replication of the cell beats its standard cycle: the performance is flagged, and said
    // why, under the table.
    insta::assert_snapshot!(
        "run-okuma-cell-table",
        takt(&["run", "scenarios/okuma-cell.toml"])
    );
    // Replications: figures with their intervals, a count as "3 of 3", within 100 columns.
    let replicated = takt(&["run", "scenarios/bottling-line.toml", "--replications", "8"]);
    for line in replicated.lines() {
        assert!(
            line.chars().count() <= 100,
            "wider than 100 columns: {line}"
        );
    }
    insta::assert_snapshot!("run-bottling-line-8-table", replicated);
}

#[test]
fn takt_maintain_prints_the_same_plan_and_says_what_its_risks_mean() {
    // The greedy plan is deterministic; the table names units, plant time and the currency.
    let out = takt(&[
        "maintain",
        "--scenario",
        "scenarios/forging-shop.toml",
        "--horizon",
        "14d",
        "--solver",
        "greedy",
    ]);
    for line in out.lines() {
        assert!(
            line.chars().count() <= 100,
            "wider than 100 columns: {line}"
        );
    }
    insta::assert_snapshot!("maintain-forging-shop-table", out);
}

#[test]
fn takt_whatif_states_its_decision_in_units() {
    // Two variants of the bottling line and a goal: the decision in words first, then every
    // headline KPI in its unit with its paired difference, within 100 columns.
    let out = takt(&[
        "whatif",
        "scenarios/bottling-line.toml",
        "--variant",
        "bigger conveyors: buffers.conveyor-fill-label.capacity=600; buffers.conveyor-label-pack.capacity=600",
        "--variant",
        "second labeller: stations.Labeller.machines=2",
        "--replications",
        "5",
        "--goal",
        "min orders.makespan_s",
    ]);
    for line in out.lines() {
        assert!(
            line.chars().count() <= 100,
            "wider than 100 columns: {line}"
        );
    }
    let best = out
        .find("- Best for the lowest order makespan")
        .expect("the decision");
    assert!(
        best < out.find("KPIs: mean").expect("the table"),
        "the decision first"
    );
    insta::assert_snapshot!("whatif-bottling-decision", out);
}

#[test]
fn takt_twin_report_prints_the_same_shift() {
    // The shipped five minutes of the bottling line, replayed into a store: the running shift's
    // report, machines in line order, the line against the plan, the stops' Pareto.
    let dir = tempfile_dir();
    let db = dir.join("report.db");
    let _ = std::fs::remove_file(&db);
    takt(&[
        "replay",
        "replay/bottling-line-5min.jsonl",
        "--scenario",
        "scenarios/bottling-line.toml",
        "--db",
        &db.to_string_lossy(),
    ]);
    let out = takt(&[
        "twin",
        "report",
        "--db",
        &db.to_string_lossy(),
        "--scenario",
        "scenarios/bottling-line.toml",
        "--shift",
        "shift",
        "--plan-replications",
        "4",
    ]);
    for line in out.lines() {
        assert!(
            line.chars().count() <= 100,
            "wider than 100 columns: {line}"
        );
    }
    insta::assert_snapshot!("twin-report-bottling-5min", out);
}

#[test]
fn takt_schedule_prints_the_same_plan() {
    // Dispatching is deterministic; the time spent is the one figure that varies.
    let mut plan: serde_json::Value = serde_json::from_str(&takt(&[
        "schedule",
        "scenarios/body-in-white.toml",
        "--solver",
        "dispatch",
        "--evaluate",
        "3",
        "--json",
    ]))
    .expect("JSON");
    plan["seconds"] = serde_json::json!("[seconds]");
    insta::assert_json_snapshot!("schedule-body-in-white-dispatch", plan);
}

/// The words of an SVG in order: every `<text>`'s content and every `<title>` (what a reader sees
/// and what the tooltips say).
fn svg_words(svg: &str) -> Vec<String> {
    let mut words = Vec::new();
    for tag in ["<text", "<title>"] {
        let mut rest = svg;
        while let Some(at) = rest.find(tag) {
            let after = &rest[at..];
            let body = &after[after.find('>').map_or(0, |i| i + 1)..];
            let end = body.find('<').unwrap_or(body.len());
            if !body[..end].trim().is_empty() {
                words.push(body[..end].to_string());
            }
            rest = &body[end..];
        }
    }
    words
}

#[test]
fn the_gantt_chart_names_its_units_and_its_times() {
    // The plan of a plant: the title in h and min, ticks at round clock times, a day grid in
    // plant time, each due date marked; the labels guarded as a whole.
    let dir = tempfile_dir();
    let gantt = dir.join("body-in-white.svg");
    takt(&[
        "schedule",
        "scenarios/body-in-white.toml",
        "--solver",
        "dispatch",
        "--gantt",
        &gantt.to_string_lossy(),
    ]);
    let svg = std::fs::read_to_string(&gantt).expect("gantt");
    let words = svg_words(&svg);
    assert!(
        words[0].contains("makespan ") && words[0].contains(" min"),
        "{}",
        words[0]
    );
    assert!(
        words.iter().any(|w| w.contains(" due 20")),
        "due dates marked"
    );
    insta::assert_snapshot!("gantt-body-in-white-words", words.join("\n"));
    // A benchmark's times are units, said so (Fisher and Thompson's ft06).
    let (instance, ft06) = (dir.join("ft06.txt"), dir.join("ft06.svg"));
    std::fs::write(&instance, "6 6\n2 1 0 3 1 6 3 7 5 3 4 6\n1 8 2 5 4 10 5 10 0 10 3 4\n2 5 3 4 5 8 0 9 1 1 4 7\n1 5 0 5 2 5 3 3 4 8 5 9\n2 9 1 3 4 5 5 4 0 3 3 1\n1 3 3 3 5 9 0 10 4 4 2 1\n").expect("write ft06");
    takt(&[
        "schedule",
        "--instance",
        &instance.to_string_lossy(),
        "--format",
        "jssp",
        "--gantt",
        &ft06.to_string_lossy(),
    ]);
    let svg = std::fs::read_to_string(&ft06).expect("gantt");
    assert_eq!(
        svg_words(&svg)[0],
        "ft06: makespan 55 time units, setups 0 time units"
    );
}

#[test]
fn takt_validate_prints_the_same_findings() {
    let dir = tempfile_dir();
    let broken = dir.join("broken.toml");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/reference-line.toml"),
    )
    .expect("shipped")
    .replace(
        "{ station = \"M2\", process_time = 0.85 }",
        "{ station = \"M9\", process_time = 0.85 }",
    )
    .replace("capacity = 5\n\n[[buffers]]", "capacity = 0\n\n[[buffers]]")
    .replace("warmup = 0", "warmup = 2e6");
    std::fs::write(&broken, text).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_takt"))
        .args(["validate", &broken.to_string_lossy()])
        .output()
        .expect("takt runs");
    assert_eq!(out.status.code(), Some(1));
    let findings = String::from_utf8_lossy(&out.stderr).replace(&*dir.to_string_lossy(), "[dir]");
    insta::assert_snapshot!("validate-broken-reference-line", findings);
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("takt-golden-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}
