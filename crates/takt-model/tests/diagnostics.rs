//! A broken scenario gets every problem at once, each with its line and field path.

use std::path::Path;
use takt_model::{ScenarioError, load_str};

const BROKEN: &str = r#"schema_version = 1
name = "broken"
[run]
horizon = "8h"
warmup = "9h"
[[products]]
name = "A"
routing = [
  { station = "Press", process_time = "30s" },
  { station = "Paint", process_time = { dist = "uniform", min = 5, max = 1 } },
]
[[stations]]
name = "Press"
machnes = 2
[[stations]]
name = "Weld"
input_buffer = "B9"
changeover = { default = "5m", matrix = [{ from = "A", to = "Z", time = "1m" }] }
failures = [{ name = "f", ttf = { dist = "weibull", shape = -1, scale = "3h" }, ttr = "-5m" }]
[[stations]]
name = "Trim"
failures = [{ name = "f", ttf = { dist = "exponential", mean = 0 }, ttr = "5m" }]
[[buffers]]
name = "B1"
capacity = 5
[demand.arrivals]
interarrival = { dist = "exponential", mean = "1m" }
mix = { A = 1, Q = 2 }
"#;

fn problems(text: &str) -> Vec<(usize, String, String)> {
    match load_str(text, Path::new("plant.toml"), None) {
        Ok(_) => panic!("must not load"),
        Err(ScenarioError::Invalid(d)) => {
            d.into_iter().map(|d| (d.line, d.path, d.message)).collect()
        }
        Err(e) => panic!("unexpected {e}"),
    }
}

/// Asserts that a problem with this line, field path and message text was reported.
fn assert_has(found: &[(usize, String, String)], line: usize, path: &str, needle: &str) {
    assert!(
        found
            .iter()
            .any(|(l, p, m)| *l == line && p == path && m.contains(needle)),
        "missing line {line} {path} `{needle}` in {found:?}"
    );
}

#[test]
fn structural_problems_are_all_reported_with_lines() {
    let found = problems(BROKEN);
    for p in &found {
        eprintln!("{p:?}");
    }
    let has = |line: usize, path: &str, needle: &str| assert_has(&found, line, path, needle);
    // Structural problems in separate items are all found in one pass.
    has(14, "stations[0].machnes", "unknown field");
    has(19, "stations[1].failures[0].ttr", "negative duration");
}

#[test]
fn semantic_problems_are_all_reported_with_lines() {
    // Fix the structural ones; the semantic ones remain, all of them.
    let text = BROKEN
        .replace("machnes = 2", "machines = 2")
        .replace("ttr = \"-5m\"", "ttr = \"5m\"")
        + "[stop_reasons]\nE1043 = \"bottle jam\"\nE2210 = \" \"\n";
    let found = problems(&text);
    for p in &found {
        eprintln!("{p:?}");
    }
    let has = |line: usize, path: &str, needle: &str| assert_has(&found, line, path, needle);
    has(5, "run.warmup", "shorter than the horizon");
    has(
        10,
        "products[0].routing[1].station",
        "unknown station `Paint`",
    );
    has(10, "products[0].routing[1].process_time", "min <= max");
    has(17, "stations[1].input_buffer", "unknown buffer `B9`");
    has(
        18,
        "stations[1].changeover.matrix[0].to",
        "unknown product `Z`",
    );
    has(
        19,
        "stations[1].failures[0].ttf",
        "`scale` must be > 0".replace("scale", "shape").as_str(),
    );
    has(22, "stations[2].failures[0].ttf", "`mean` must be > 0");
    has(24, "buffers[0].name", "not the input_buffer of any station");
    has(28, "demand.arrivals.mix.Q", "unknown product `Q`");
    has(31, "stop_reasons.E2210", "not blank");
    assert_eq!(found.len(), 10, "{found:?}");
}

#[test]
fn syntax_errors_name_the_line() {
    let found = problems("schema_version = 1\nname = \"x\"\n[run\nhorizon = 5\n");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, 3);
    assert!(found[0].2.contains("TOML syntax error"), "{found:?}");
}

#[test]
fn missing_sections_are_named() {
    let found = problems("schema_version = 1\nname = \"x\"\n");
    let paths: Vec<&str> = found.iter().map(|f| f.1.as_str()).collect();
    assert_eq!(paths, vec!["run", "products", "stations", "demand"]);
}

/// A plant whose orders come from `orders.csv` beside it.
const CSV_PLANT: &str = r#"schema_version = 1
name = "csv"
[run]
horizon = "1d"
[[products]]
name = "A"
routing = [{ station = "S", process_time = "1m" }]
[[stations]]
name = "S"
[demand]
orders_csv = "orders.csv"
"#;

#[test]
fn orders_csv_problems_name_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("takt-orders-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("orders.csv"),
        "id,product,quantity,release,due\nO1,A,10,0,8h\nO2,A,ten,0,8h\nO3,A,5,1h,soon\nO4,Z,5,0,\n",
    )
    .expect("write csv");
    let text = CSV_PLANT;
    let err = load_str(text, &dir.join("plant.toml"), Some(&dir)).expect_err("must fail");
    let d = err.diagnostics();
    assert!(
        d.iter()
            .any(|d| d.file.ends_with("orders.csv") && d.line == 3 && d.path == "quantity"),
        "{d:?}"
    );
    assert!(
        d.iter()
            .any(|d| d.file.ends_with("orders.csv") && d.line == 4 && d.path == "due"),
        "{d:?}"
    );
    // Good rows load: fix the bad ones and the unknown product is the remaining problem.
    std::fs::write(
        dir.join("orders.csv"),
        "id,product,quantity,release,due\nO1,A,10,0,8h\nO4,Z,5,0,\n",
    )
    .expect("write csv");
    let err = load_str(text, &dir.join("plant.toml"), Some(&dir)).expect_err("must fail");
    assert!(err.to_string().contains("unknown product `Z`"), "{err}");
    std::fs::write(
        dir.join("orders.csv"),
        "id,product,quantity,release,due\nO1,A,10,0,8h\nO2,A,5,1h,\n",
    )
    .expect("write csv");
    let loaded = load_str(text, &dir.join("plant.toml"), Some(&dir)).expect("loads");
    assert_eq!(loaded.model.orders.len(), 2);
    assert_eq!(loaded.model.orders[1].release_s, 3600.0);
    assert_eq!(loaded.model.orders[0].due_s, Some(28_800.0));
}

const SMALL: &str = r#"schema_version = 1
name = "small"
[run]
horizon = "8h"
[[products]]
name = "A"
routing = [{ station = "S", process_time = "1m" }]
[[stations]]
name = "S"
machines = 1
[demand.arrivals]
interarrival = { dist = "exponential", mean = "2m" }
mix = { A = 1 }
"#;

/// `text` is refused with a problem at `line` and `path` whose message says `says`.
fn assert_refused_at(text: &str, line: usize, path: &str, says: &str) {
    let found = problems(text);
    assert!(
        found
            .iter()
            .any(|(l, p, m)| *l == line && p == path && m.contains(says)),
        "{found:?}"
    );
}

#[test]
fn sizes_past_their_limits_are_refused_at_validation() {
    // A hundred million machines validated and then took the process's memory.
    let machines = SMALL.replace("machines = 1", "machines = 100000000");
    assert_refused_at(&machines, 10, "stations[0].machines", "at most 1000");
    // A part every nanosecond over eight hours: 2.9e13 parts, refused before a run.
    let flood = SMALL.replace(r#"mean = "2m""#, "mean = 1e-9");
    assert_refused_at(&flood, 12, "demand.arrivals.interarrival", "at most 1e8");
    // Horizons past the longest duration: refused where they are written.
    for horizon in ["1e308", r#""99999999999999999999999w""#] {
        let text = SMALL.replace(r#"horizon = "8h""#, &format!("horizon = {horizon}"));
        assert_refused_at(&text, 4, "run.horizon", "longest duration");
    }
    assert!(load_str(SMALL, Path::new("plant.toml"), None).is_ok());
    // A service every millisecond (found by the fuzzer: the scheduler laid out a window per
    // start over five years, until memory ran out) is refused where it is written.
    let services = SMALL.replace(
        "machines = 1",
        "machines = 1\nmaintenance = { interval = \"1ms\", duration = \"10m\" }",
    );
    assert_refused_at(
        &services,
        11,
        "stations[0].maintenance.interval",
        "at least a second",
    );
}

#[test]
fn a_scenario_without_a_directory_may_name_no_file() {
    // Whatever the path says, nothing is opened: the same refusal for a file that exists, one
    // that does not, and one outside any directory.
    let dir = temp_dir("nofile");
    std::fs::write(dir.join("orders.csv"), "id,product,quantity\nO1,A,10\n").expect("csv");
    for path in [
        "orders.csv",
        "/etc/passwd",
        "/proc/self/environ",
        "../../no/such.csv",
    ] {
        let text = SMALL.replace(
            "[demand.arrivals]",
            &format!("[demand]\norders_csv = \"{path}\"\n[demand.arrivals]"),
        );
        let found = problems(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, 12, "{found:?}");
        assert_eq!(found[0].1, "demand.orders_csv");
        assert!(found[0].2.contains("may not name a file"), "{found:?}");
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("takt-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The order book's problems, located in the CSV (not in the scenario), with no word of "no
/// demand" besides.
fn csv_problems(csv: &[u8]) -> Vec<(String, usize, String, String)> {
    let dir = temp_dir(&format!("csv-{}", csv.len()));
    std::fs::write(dir.join("orders.csv"), csv).expect("csv");
    let text = CSV_PLANT;
    match load_str(text, &dir.join("plant.toml"), Some(&dir)) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .diagnostics()
            .iter()
            .map(|d| {
                let file = d.file.file_name().map(|f| f.to_string_lossy().into_owned());
                (
                    file.unwrap_or_default(),
                    d.line,
                    d.path.clone(),
                    d.message.clone(),
                )
            })
            .collect(),
    }
}

#[test]
fn order_book_problems_name_their_csv_line() {
    let found = csv_problems(
        b"id,product,quantity,release,due\nO1,A,0,0,8h\nO2,Z,5,0,\nO3,A,5,0,\nO3,A,6,0,\n",
    );
    let at = |line: usize, field: &str| {
        found
            .iter()
            .any(|(f, l, p, _)| f == "orders.csv" && *l == line && p == field)
    };
    assert!(at(2, "quantity"), "{found:?}");
    assert!(at(3, "product"), "{found:?}");
    assert!(at(5, "id"), "{found:?}");
    assert!(
        found
            .iter()
            .all(|(f, _, _, m)| f == "orders.csv" && !m.contains("no demand")),
        "{found:?}"
    );
    // A byte-order mark (as spreadsheets write it) is not part of the header.
    assert!(csv_problems(b"\xef\xbb\xbfid,product,quantity\nO1,A,3\n").is_empty());
    // Without a header, or without orders, the book is an error, not silently empty.
    let found = csv_problems(b"O1,A,3,0,8h\nO2,A,4,0,8h\n");
    assert!(
        found
            .iter()
            .any(|(f, l, _, m)| f == "orders.csv" && *l == 1 && m.contains("header")),
        "{found:?}"
    );
    let found = csv_problems(b"id,product,quantity\n");
    assert!(
        found
            .iter()
            .any(|(f, _, _, m)| f == "orders.csv" && m.contains("no orders")),
        "{found:?}"
    );
    assert_eq!(found.len(), 1, "{found:?}");
}
