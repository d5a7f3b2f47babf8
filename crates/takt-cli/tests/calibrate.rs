//! Calibration round trip: simulate a press with known distributions, record the trace, calibrate
//! from it, and find the true parameters inside the fitted 95% intervals; the calibrated scenario is
//! valid and runs.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn takt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_takt"))
        .args(args)
        .output()
        .expect("takt runs")
}

const PRESS: &str = r#"
schema_version = 1
name = "calibration round trip"
[run]
horizon = "300h"
seed = 3
[[products]]
name = "bracket"
routing = [{ station = "Press", process_time = { dist = "lognormal", mean = "60s", sd = "10s" }, scrap = 0.05 }]
[[stations]]
name = "Press"
failures = [{ name = "jam", ttf = { dist = "weibull", shape = 1.5, scale = "2h" }, ttr = { dist = "lognormal", mean = "10m", sd = "4m" } }]
[demand]
arrivals = { interarrival = { dist = "exponential", mean = "75s" }, mix = { bracket = 1 } }
"#;

fn fit_of<'a>(results: &'a [Value], what: &str, family: &str) -> &'a Value {
    let r = results
        .iter()
        .find(|r| r["what"].as_str().is_some_and(|w| w.contains(what)))
        .unwrap_or_else(|| panic!("{what} calibrated"));
    std::iter::once(&r["fit"])
        .chain(r["alternatives"].as_array().into_iter().flatten())
        .find(|f| f["family"] == family)
        .unwrap_or_else(|| panic!("{what}: no {family} fit"))
}

fn covers(fit: &Value, name: &str, truth: f64) {
    let p = fit["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("{name}"));
    let (lo, hi) = (
        p["low"].as_f64().unwrap_or(f64::NAN),
        p["high"].as_f64().unwrap_or(f64::NAN),
    );
    assert!(
        lo < truth && truth < hi,
        "{name}: {truth} not in [{lo}, {hi}]"
    );
}

/// Simulates `scenario` with a trace in a fresh folder `name`, calibrates from the trace into
/// `calibrated.toml` there: the folder, the calibrated file, the fitted quantities and what was
/// left out.
fn round_trip(name: &str, scenario_text: &str) -> (PathBuf, PathBuf, Vec<Value>, Vec<Value>) {
    let dir = std::env::temp_dir().join(format!("takt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let scenario = dir.join("scenario.toml");
    std::fs::write(&scenario, scenario_text).expect("scenario");
    let trace = dir.join("trace.jsonl");
    let run = takt(&[
        "run",
        &scenario.to_string_lossy(),
        "--trace",
        &trace.to_string_lossy(),
        "--json",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let calibrated = dir.join("calibrated.toml");
    let out = takt(&[
        "calibrate",
        &trace.to_string_lossy(),
        "--scenario",
        &scenario.to_string_lossy(),
        "-o",
        &calibrated.to_string_lossy(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let x: Value = serde_json::from_slice(&out.stdout).expect("json");
    let results = x["calibrated"].as_array().expect("results").clone();
    let skipped = x["skipped"].as_array().expect("skipped").clone();
    (dir, calibrated, results, skipped)
}

#[test]
fn calibration_recovers_the_parameters_a_trace_was_made_with() {
    let (dir, calibrated, results, skipped) = round_trip("calibrate", PRESS);
    let results = &results;
    // The trace starts with new machines, but calibrate cannot know that unless told: each mode's
    // first failure is left out, and said to be.
    assert!(
        skipped
            .iter()
            .any(|s| s["path"].as_str().is_some_and(|p| p.ends_with(".ttf"))
                && s["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("--new-at-start"))),
        "{skipped:?}"
    );

    // Weibull time to failure: shape 1.5, scale 2 h.
    let ttf = fit_of(results, "time to failure", "weibull");
    covers(ttf, "shape", 1.5);
    covers(ttf, "scale", 7200.0);
    // Lognormal repair with mean 600 s and sd 240 s: sigma^2 = ln(1 + 0.16), mu = ln 600 - sigma^2 / 2.
    let s2 = (1.0f64 + 0.16).ln();
    let ttr = fit_of(results, "time to repair", "lognormal");
    covers(ttr, "sigma", s2.sqrt());
    covers(ttr, "mu", 600f64.ln() - s2 / 2.0);
    // Lognormal cycle time with mean 60 s and sd 10 s.
    let c2 = (1.0f64 + 1.0 / 36.0).ln();
    let cycle = fit_of(results, "cycle time", "lognormal");
    covers(cycle, "sigma", c2.sqrt());
    covers(cycle, "mu", 60f64.ln() - c2 / 2.0);
    // Scrap 5%: within three standard errors.
    let scrap = results
        .iter()
        .find(|r| r["what"].as_str().is_some_and(|w| w.contains("scrap")))
        .expect("scrap");
    let n = scrap["observations"].as_f64().expect("n");
    let rate: f64 = scrap["value"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("rate");
    assert!(
        (rate - 0.05).abs() < 3.0 * (0.05f64 * 0.95 / n).sqrt(),
        "{rate}"
    );

    // The calibrated scenario is valid and runs.
    let again = takt(&[
        "run",
        &calibrated.to_string_lossy(),
        "--horizon",
        "8h",
        "--json",
    ]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let text = std::fs::read_to_string(&calibrated).expect("calibrated");
    assert!(text.starts_with("# Calibrated by `takt calibrate`"));
    assert!(Path::new(&calibrated).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A filler whose changeovers depend on the pair of products: each pair of the matrix is fitted
/// from its own setups, and the default from the pairs the matrix does not list.
const FILLER: &str = r#"
schema_version = 1
name = "changeover round trip"
[run]
horizon = "600h"
seed = 11
[[products]]
name = "small"
routing = [{ station = "Filler", process_time = "30s" }]
[[products]]
name = "large"
routing = [{ station = "Filler", process_time = "40s" }]
[[products]]
name = "medium"
routing = [{ station = "Filler", process_time = "35s" }]
[[stations]]
name = "Filler"
changeover = { default = { dist = "lognormal", mean = "5m", sd = "1m" }, matrix = [
  { from = "small", to = "large", time = { dist = "lognormal", mean = "20m", sd = "4m" } },
  { from = "large", to = "small", time = { dist = "lognormal", mean = "10m", sd = "3m" } },
] }
[demand]
arrivals = { interarrival = { dist = "exponential", mean = "15m" }, mix = { small = 0.4, large = 0.4, medium = 0.2 } }
"#;

#[test]
fn changeovers_are_calibrated_per_pair_of_products() {
    let (dir, calibrated, results, _) = round_trip("calibrate-pairs", FILLER);
    let results = &results;
    // Lognormal with mean m and sd s: sigma^2 = ln(1 + (s/m)^2), mu = ln m - sigma^2 / 2.
    for (what, mean_s, sd_s) in [
        ("Filler changeover small -> large", 1200.0f64, 240.0f64),
        ("Filler changeover large -> small", 600.0, 180.0),
        ("Filler changeover, pairs not in the matrix", 300.0, 60.0),
    ] {
        let s2 = (1.0 + (sd_s / mean_s).powi(2)).ln();
        let fit = fit_of(results, what, "lognormal");
        covers(fit, "sigma", s2.sqrt());
        covers(fit, "mu", mean_s.ln() - s2 / 2.0);
    }
    // A constant cycle time is written as the constant (not a lognormal of zero spread).
    let cycle = results
        .iter()
        .find(|r| r["what"] == "small step 1 cycle time")
        .expect("cycle time calibrated");
    assert_eq!(cycle["value"], r#"{ dist = "constant", value = 30 }"#);
    // The calibrated file carries each pair's fit where the scenario listed it.
    let text = std::fs::read_to_string(&calibrated).expect("calibrated");
    let table: toml::Table = toml::from_str(&text).expect("TOML");
    let matrix = &table["stations"][0]["changeover"]["matrix"];
    for (i, (from, mean_s)) in [("small", 1200.0), ("large", 600.0)].iter().enumerate() {
        assert_eq!(matrix[i]["from"].as_str(), Some(*from));
        let time = matrix[i]["time"].to_string();
        let written = results
            .iter()
            .find(|r| r["path"] == format!("stations.Filler.changeover.matrix[{i}].time"))
            .expect("written back");
        assert!(
            time.contains("lognormal"),
            "{time} (from {})",
            written["value"]
        );
        // Seconds, written as a TOML float or integer.
        let mean = match &matrix[i]["time"]["mean"] {
            toml::Value::Float(m) => *m,
            toml::Value::Integer(m) => *m as f64,
            other => panic!("mean {other}"),
        };
        assert!((mean - mean_s).abs() < 0.1 * mean_s, "{time}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
