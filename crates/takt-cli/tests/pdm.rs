//! `takt pdm evaluate` as a user runs it: JSON with the figures, the table, and located errors for
//! missing or malformed files. The data are small trajectories written here, in C-MAPSS's format.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn takt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_takt"))
        .args(args)
        .output()
        .expect("takt runs")
}

/// Engines whose first 8 sensors rise linearly to failure after `life` cycles.
fn write_subset(dir: &Path, engines: &[(usize, usize)], name: &str) {
    let mut text = String::new();
    for (u, &(life, stop)) in engines.iter().enumerate() {
        for t in 0..stop {
            let wear = t as f64 / life as f64;
            let sensors: Vec<String> = (0..21)
                .map(|s| {
                    let jitter = ((u * 31 + t * 17 + s * 7) % 13) as f64 / 1300.0;
                    let drift = if s < 8 { wear } else { 0.0 };
                    format!("{:.4}", 10.0 + s as f64 + drift + jitter)
                })
                .collect();
            text += &format!("{} {} 0.0 0.0 100.0 {} \n", u + 1, t + 1, sensors.join(" "));
        }
    }
    std::fs::write(dir.join(name), text).expect("write");
}

fn fixture(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("takt-pdm-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let train: Vec<(usize, usize)> = (0..30).map(|k| (120 + 7 * k, 120 + 7 * k)).collect();
    let test: Vec<(usize, usize)> = (0..10).map(|k| (130 + 9 * k, 60 + 5 * k)).collect();
    write_subset(&dir, &train, "train_FD001.txt");
    write_subset(&dir, &test, "test_FD001.txt");
    let rul: String = test.iter().map(|(l, s)| format!("{}\n", l - s)).collect();
    std::fs::write(dir.join("RUL_FD001.txt"), rul).expect("write");
    dir
}

#[test]
fn cmapss_evaluation_prints_rmse_and_score() {
    let dir = fixture("ok");
    let out = takt(&[
        "pdm",
        "evaluate",
        "cmapss",
        "--data",
        &dir.to_string_lossy(),
        "--trees",
        "60",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rmse = v["rmse"].as_f64().expect("rmse");
    assert!(v["score"].as_f64().is_some_and(|s| s >= 0.0));
    assert_eq!(v["test_engines"], 10);
    // Each test engine's prediction comes with its interval, around the point.
    let predictions = v["predictions"].as_array().expect("predictions");
    assert_eq!(predictions.len(), 10);
    for p in predictions {
        let (low, rul, high) = (
            p["low"].as_f64().expect("low"),
            p["rul"].as_f64().expect("rul"),
            p["high"].as_f64().expect("high"),
        );
        assert!(low <= rul && rul <= high, "{p}");
    }
    // The drift tells the remaining life: far better than the spread of the truths (about 40).
    assert!(rmse < 20.0, "rmse {rmse}");
    let out = takt(&[
        "pdm",
        "evaluate",
        "cmapss",
        "--data",
        &dir.to_string_lossy(),
        "--trees",
        "20",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("PHM08 score")
            && text.contains("published: linear regression")
            && text.contains("a perfect prediction capped at 125")
            && text.contains("90 % intervals for the true remaining life hold it for"),
        "{text}"
    );
}

#[test]
fn missing_and_malformed_files_are_errors_that_name_the_place() {
    let dir = fixture("bad");
    std::fs::remove_file(dir.join("RUL_FD001.txt")).expect("rm");
    let out = takt(&[
        "pdm",
        "evaluate",
        "cmapss",
        "--data",
        &dir.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("RUL_FD001.txt"), "{err}");
    std::fs::write(dir.join("RUL_FD001.txt"), "12\nmany\n").expect("write");
    let out = takt(&[
        "pdm",
        "evaluate",
        "cmapss",
        "--data",
        &dir.to_string_lossy(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("RUL_FD001.txt:2: `many` is not a number of cycles"),
        "{err}"
    );
}

/// Ten machines over 2015 whose component k fails a day after errors of type k announce it.
fn azure_fixture(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("takt-pdm-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let mut machines = String::from("\"machineID\",\"model\",\"age\"\n");
    let mut errors = String::from("\"datetime\",\"machineID\",\"errorID\"\n");
    let mut failures = String::from("\"datetime\",\"machineID\",\"failure\"\n");
    let mut maint = String::from("\"datetime\",\"machineID\",\"comp\"\n");
    for m in 1..=10 {
        machines += &format!("{m},\"model{}\",{}\n", 1 + m % 4, m);
        for f in 0..12 {
            let month = 1 + f;
            let day = 3 + (m * 2 + f) % 20;
            let k = (m + f) % 4 + 1;
            // Announced twice: 26 h and 12 h before.
            errors += &format!("2015-{month:02}-{day:02} 08:00:00,{m},\"error{k}\"\n");
            errors += &format!("2015-{month:02}-{day:02} 22:00:00,{m},\"error{k}\"\n");
            failures += &format!("2015-{month:02}-{:02} 10:00:00,{m},\"comp{k}\"\n", day + 1);
            maint += &format!("2015-{month:02}-{:02} 10:00:00,{m},\"comp{k}\"\n", day + 1);
        }
    }
    for (file, text) in [
        ("PdM_machines.csv", machines),
        ("PdM_errors.csv", errors),
        ("PdM_failures.csv", failures),
        ("PdM_maint.csv", maint),
    ] {
        std::fs::write(dir.join(file), text).expect("write");
    }
    dir
}

#[test]
fn azure_evaluation_prints_precision_and_recall_per_component() {
    let dir = azure_fixture("azure");
    let data = dir.to_string_lossy().into_owned();
    let out = takt(&[
        "pdm", "evaluate", "azure", "--data", &data, "--trees", "30", "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let components = v["components"].as_array().expect("components");
    assert_eq!(components.len(), 4);
    for c in components {
        // The error announces the failure: every failure is caught, few false alarms.
        assert!(c["recall"].as_f64().is_some_and(|r| r > 0.9), "{c}");
        assert!(c["precision"].as_f64().is_some_and(|p| p > 0.5), "{c}");
    }
    // A bad time: the file and line.
    let errors = dir.join("PdM_errors.csv");
    let mut text = std::fs::read_to_string(&errors).expect("read");
    text += "2015-02-30 25:00:00,1,\"error1\"\n";
    let line = text.lines().count();
    std::fs::write(&errors, text).expect("write");
    let out = takt(&["pdm", "evaluate", "azure", "--data", &data]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "PdM_errors.csv:{line}: datetime: `2015-02-30 25:00:00` is not a YYYY-MM-DD HH:MM:SS time"
    );
    assert!(err.contains(&expected), "{err}");
}
