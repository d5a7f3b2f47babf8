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
