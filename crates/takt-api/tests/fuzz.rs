//! Structure-aware fuzzing on the stable toolchain: mutated scenarios, events, order books,
//! job-shop files and HTTP requests go through the same code as a user's, and none may panic,
//! run without bound or take the server down. Each target runs `TAKT_FUZZ_CASES` inputs (600 by
//! default, a few thousand in all for CI); `scripts/fuzz.sh` runs the long campaign.
//!
//! The properties, beyond "no panic": a scenario that loads runs within its budgets; a schedule
//! of a job-shop file that reads is feasible by the independent checker; an HTTP request is never
//! answered 500, and the server answers `/health` after every one.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tower::ServiceExt;

/// How many inputs of a target got how far: printed at its end, so a campaign shows what it
/// reached (inputs that only ever fail to parse test little).
struct Reach(&'static str, [AtomicU64; 3]);

impl Reach {
    const fn new(name: &'static str) -> Reach {
        Reach(
            name,
            [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)],
        )
    }
    fn count(&self, stage: usize) {
        self.1[stage].fetch_add(1, Ordering::Relaxed);
    }
    fn print(&self, stages: [&str; 3]) {
        let n: Vec<String> = self
            .1
            .iter()
            .zip(stages)
            .map(|(c, s)| format!("{} {s}", c.load(Ordering::Relaxed)))
            .collect();
        eprintln!("fuzz {}: {}", self.0, n.join(", "));
    }
}

static SCENARIOS: Reach = Reach::new("scenarios");
static EVENTS_REACH: Reach = Reach::new("events");
static BOOKS: Reach = Reach::new("order books");
static SHOPS: Reach = Reach::new("job shops");
static REQUESTS: Reach = Reach::new("http");

const BOTTLING: &str = include_str!("../../../scenarios/bottling-line.toml");
const REFERENCE: &str = include_str!("../../../scenarios/reference-line.toml");
const FORGING: &str = include_str!("../../../scenarios/forging-shop.toml");
const EVENTS: &str = include_str!("../../../replay/bottling-line-5min.jsonl");

fn runner() -> TestRunner {
    let cases = std::env::var("TAKT_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(600);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Values a careless writer or an attacker puts where a number or a word belongs.
const HOSTILE: &[&str] = &[
    "0",
    "-1",
    "1e308",
    "-1e308",
    "1e-9",
    "4294967296",
    "18446744073709551616",
    "nan",
    "inf",
    "\"\"",
    "\"1e308w\"",
    "\"99999999999999999999999w\"",
    "100000000",
    "\"/etc/passwd\"",
    "\"../../../../proc/self/environ\"",
    "[]",
    "{}",
    "true",
    "\"\\u0000\"",
    "\"9999-12-31T23:59:59Z\"",
    "\"0001-01-01T00:00:00Z\"",
];

/// Lines a mutation may insert into a scenario.
const SNIPPETS: &[&str] = &[
    "machines = 100000000",
    "machines = 0",
    "capacity = 0",
    "capacity = 1",
    "[[stations]]\nname = \"X\"",
    "[[buffers]]\nname = \"B\"\ncapacity = 1",
    "[demand]\norders_csv = \"/etc/passwd\"",
    "interarrival = 1e-9",
    "horizon = \"1e308\"",
    "horizon = 1e-9",
    "warmup = \"1000y\"",
    "seed = 18446744073709551615",
    "replications = 4294967295",
    "process_time = { dist = \"weibull\", shape = 1e-300, scale = 1e300 }",
    "process_time = { dist = \"empirical\", values = [] }",
    "ttf = \"1ms\"\nttr = \"1ms\"",
    "[[demand.orders]]\nid = \"x\"\nproduct = \"cola-033\"\nquantity = 4294967295",
    "[calendar]\nshifts = [{ days = \"daily\", start = \"00:00\", end = \"00:00\" }]",
    "start = 9999-12-31T23:59:59Z",
    "\u{feff}",
];

#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the k-th number or quoted word with a hostile value.
    Replace(usize, usize),
    DeleteLine(usize),
    DuplicateLine(usize),
    Insert(usize, usize),
    Truncate(usize),
    Bytes(usize, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Mostly changes that keep the file readable, so that many inputs get past the parser into
    // the checks and the engine.
    prop_oneof![
        6 => (any::<usize>(), 0..HOSTILE.len()).prop_map(|(k, h)| Mutation::Replace(k, h)),
        2 => any::<usize>().prop_map(Mutation::DeleteLine),
        2 => any::<usize>().prop_map(Mutation::DuplicateLine),
        3 => (any::<usize>(), 0..SNIPPETS.len()).prop_map(|(k, s)| Mutation::Insert(k, s)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), ".{0,12}").prop_map(|(k, b)| Mutation::Bytes(k, b)),
    ]
}

/// The places in `text` where a value starts: after `= ` or `, ` or `[`.
fn value_spans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if matches!(b[i], b'0'..=b'9' | b'"') && i > 0 && matches!(b[i - 1], b' ' | b'[' | b'=') {
            let start = i;
            if b[i] == b'"' {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += 1;
                }
                i = (i + 1).min(b.len());
            } else {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
            }
            spans.push((start, i));
        } else {
            i += 1;
        }
    }
    spans
}

fn mutate(base: &str, mutations: &[Mutation]) -> String {
    let mut text = base.to_string();
    for m in mutations {
        let lines: Vec<&str> = text.lines().collect();
        let n = lines.len().max(1);
        text = match m {
            Mutation::Replace(k, h) => {
                let spans = value_spans(&text);
                match spans.get(k % spans.len().max(1)) {
                    Some(&(a, b)) => format!("{}{}{}", &text[..a], HOSTILE[*h], &text[b..]),
                    None => text,
                }
            }
            Mutation::DeleteLine(k) => {
                let mut l = lines.clone();
                if !l.is_empty() {
                    l.remove(k % n);
                }
                l.join("\n")
            }
            Mutation::DuplicateLine(k) => {
                let mut l = lines.clone();
                if let Some(&line) = l.get(k % n) {
                    l.insert(k % n, line);
                }
                l.join("\n")
            }
            Mutation::Insert(k, s) => {
                let mut l = lines.clone();
                l.insert(k % (l.len() + 1), SNIPPETS[*s]);
                l.join("\n")
            }
            Mutation::Truncate(k) => {
                let mut at = k % (text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                text[..at].to_string()
            }
            Mutation::Bytes(k, bytes) => {
                let mut at = k % (text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                format!("{}{bytes}{}", &text[..at], &text[at..])
            }
        };
    }
    text
}

/// A scenario that loads runs within small budgets and reports (deadlock included); one with a
/// small order book is scheduled too, and its schedule must pass the checker.
fn exercise_scenario(text: &str) {
    SCENARIOS.count(0);
    let Ok(loaded) = takt_model::load_str(text, Path::new("fuzz.toml"), None) else {
        return;
    };
    SCENARIOS.count(1);
    exercise_model(loaded.model, &SCENARIOS);
}

fn exercise_model(model: takt_model::Model, reach: &Reach) {
    let model = Arc::new(model);
    let limits = takt_model::RunLimits {
        max_events: 20_000,
        max_parts_in_plant: 5_000,
    };
    let mut sim = takt_sim::Simulation::new(Arc::clone(&model), 1);
    let _ = sim.run_guarded(model.horizon_s, &limits, &[]);
    let report = sim.report();
    let _ = serde_json::to_string(&report);
    if let Ok(plant) = takt_scheduler::plant::from_model(&model)
        && plant.problem.n_ops() <= 200
        && plant.problem.validate().is_ok()
    {
        reach.count(2);
        let sol = takt_scheduler::tabu::solve(
            &plant.problem,
            &takt_scheduler::objective::Objective::makespan(),
            1,
            1,
            takt_scheduler::tabu::Limits {
                time: std::time::Duration::from_millis(50),
                iterations: 20,
            },
        );
        let schedule = takt_scheduler::decode(&plant.problem, &sol).expect("acyclic");
        assert!(takt_scheduler::check(&plant.problem, &schedule).is_empty());
    }
}

#[test]
fn mutated_scenarios_load_or_are_refused_and_run_within_budgets() {
    let bases = [BOTTLING, REFERENCE, FORGING];
    runner()
        .run(
            &(0..bases.len(), prop::collection::vec(mutation(), 1..3)),
            |(b, mutations)| {
                exercise_scenario(&mutate(bases[b], &mutations));
                Ok(())
            },
        )
        .expect("no input may break the loader or the engine");
    SCENARIOS.print(["inputs", "loaded and ran", "scheduled"]);
}

/// JSON values, nested a little: what a sender may put in any field.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<u64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>().prop_map(|x| serde_json::json!(x)),
        ".{0,20}".prop_map(serde_json::Value::String),
        (0..HOSTILE.len()).prop_map(|h| serde_json::from_str(HOSTILE[h]).unwrap_or_default()),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

const EVENT_FIELDS: &[&str] = &[
    "ts",
    "asset",
    "seq",
    "kind",
    "state",
    "reason",
    "good",
    "scrap",
    "rework",
    "mode",
    "product",
    "signals",
    "code",
    "action",
    "work_order",
    "quantity",
    "t_s",
];

/// A recorded event with some of its fields replaced or removed.
fn event_line() -> impl Strategy<Value = String> {
    let recorded: Vec<&'static str> = EVENTS.lines().filter(|l| !l.is_empty()).collect();
    (
        0..recorded.len(),
        prop::collection::vec(
            (0..EVENT_FIELDS.len(), prop::option::of(json_value())),
            0..4,
        ),
        any::<bool>(),
        ".{0,40}",
    )
        .prop_map(move |(k, changes, raw, text)| {
            if raw {
                return text;
            }
            let mut v: serde_json::Value = serde_json::from_str(recorded[k]).unwrap_or_default();
            for (f, value) in changes {
                if let Some(map) = v.as_object_mut() {
                    match value {
                        Some(value) => map.insert(EVENT_FIELDS[f].to_string(), value),
                        None => map.remove(EVENT_FIELDS[f]),
                    };
                }
            }
            v.to_string()
        })
}

#[test]
fn mutated_events_are_checked_and_never_poison_the_twin() {
    let model = takt_model::load_str(BOTTLING, Path::new("bottling.toml"), None)
        .expect("shipped")
        .model;
    runner()
        .run(&prop::collection::vec(event_line(), 1..20), |lines| {
            let store = takt_twin::store::Store::memory().expect("store");
            let mut twin =
                takt_twin::Twin::open(&model, store, takt_twin::mirror::MirrorConfig::default())
                    .expect("twin");
            twin.set_time_gate(takt_twin::TimeGate::LIVE);
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            EVENTS_REACH.1[0].fetch_add(lines.len() as u64, Ordering::Relaxed);
            let report = twin
                .ingest_lines("fuzz", &refs, 1_767_600_000_000)
                .expect("a memory store does not fail");
            EVENTS_REACH.1[1].fetch_add(report.accepted, Ordering::Relaxed);
            EVENTS_REACH.1[2].fetch_add(report.rejected.len() as u64, Ordering::Relaxed);
            prop_assert_eq!(
                report.accepted as usize + report.duplicates as usize + report.rejected.len(),
                lines.iter().filter(|l| !l.trim().is_empty()).count()
            );
            // Nothing accepted is ahead of the receiving clock by more than the skew.
            if let Some(newest) = twin.newest_ms() {
                prop_assert!(newest <= 1_767_600_000_000 + 5 * 60_000);
            }
            let state = twin.state(twin.newest_ms().unwrap_or(1_767_600_000_000));
            let _ = serde_json::to_string(&state);
            Ok(())
        })
        .expect("no event may break the twin");
    EVENTS_REACH.print(["events", "accepted", "rejected"]);
}

/// Order books: plausible rows, some with one cell made hostile, under a header that may be
/// wrong.
fn order_book() -> impl Strategy<Value = String> {
    let hostile_cell = prop_oneof![
        Just("nosuch".to_string()),
        Just(String::new()),
        Just("0".to_string()),
        Just("-3".to_string()),
        Just("1e308s".to_string()),
        Just("4294967296".to_string()),
        Just("O1".to_string()),
        (0..HOSTILE.len()).prop_map(|h| HOSTILE[h].trim_matches('"').to_string()),
        ".{0,8}",
    ];
    let row = (
        0..3usize,
        1u32..500,
        0u32..28_800,
        0u32..86_400,
        prop::option::weighted(0.3, (0..6usize, hostile_cell)),
    )
        .prop_map(|(p, q, release, slack, bad)| {
            let product = ["cola-033", "cola-050", "water-100"][p];
            let mut cells = vec![
                String::new(),
                product.to_string(),
                q.to_string(),
                format!("{release}s"),
                format!("{}s", release + slack),
                "1".to_string(),
            ];
            if let Some((c, text)) = bad {
                cells[c] = text;
            }
            cells
        });
    let header = prop_oneof![
        8 => Just("id,product,quantity,release,due,priority".to_string()),
        1 => Just("\u{feff}id,product,quantity,release,due,priority".to_string()),
        1 => Just("product,id,due,quantity".to_string()),
        1 => Just("id;product;quantity".to_string()),
        1 => ".{0,20}",
    ];
    (header, prop::collection::vec(row, 0..12)).prop_map(|(h, rows)| {
        let mut text = h;
        for (i, mut r) in rows.into_iter().enumerate() {
            if r[0].is_empty() {
                r[0] = format!("O{i}");
            }
            text.push('\n');
            text.push_str(&r.join(","));
        }
        text
    })
}

#[test]
fn mutated_order_books_are_read_or_refused_at_their_line() {
    let dir = tempfile::tempdir().expect("dir");
    let head = BOTTLING
        .split("[[demand.orders]]")
        .next()
        .unwrap_or_default();
    let scenario = format!("{head}\n[demand]\norders_csv = \"orders.csv\"\n");
    runner()
        .run(&order_book(), |csv| {
            std::fs::write(dir.path().join("orders.csv"), &csv).expect("write");
            BOOKS.count(0);
            match takt_model::load_str(&scenario, &dir.path().join("s.toml"), Some(dir.path())) {
                Ok(loaded) => {
                    BOOKS.count(1);
                    exercise_model(loaded.model, &BOOKS)
                }
                Err(e) => {
                    for d in e.diagnostics() {
                        prop_assert!(!d.message.is_empty());
                    }
                }
            }
            Ok(())
        })
        .expect("no order book may break the loader");
    BOOKS.print(["books", "loaded and ran", "scheduled"]);
}

/// Job-shop files in each format: well formed (a header that agrees with its job lines, every
/// machine index in range), then, in a third of them, one number or line made wrong.
fn job_shop() -> impl Strategy<Value = (String, usize)> {
    (
        1usize..5,
        1usize..4,
        0usize..3,
        prop::collection::vec(0i64..12, 64),
        prop::option::weighted(0.35, (any::<usize>(), -3i64..40, any::<bool>())),
    )
        .prop_map(|(jobs, machines, format, numbers, corrupt)| {
            let mut draw = numbers.into_iter().cycle();
            let mut next = |below: i64| draw.next().unwrap_or(0).rem_euclid(below.max(1));
            let base = usize::from(format == 2) as i64;
            let mut lines = vec![format!("{jobs} {machines}")];
            for _ in 0..jobs {
                let mut words = Vec::new();
                if format == 0 {
                    for m in 0..machines {
                        words.push(format!("{} {}", m as i64, next(10)));
                    }
                } else {
                    let ops = 1 + next(3);
                    words.push(ops.to_string());
                    for _ in 0..ops {
                        let k = 1 + next(machines as i64);
                        words.push(k.to_string());
                        for _ in 0..k {
                            words.push(format!("{} {}", base + next(machines as i64), next(10)));
                        }
                    }
                }
                lines.push(words.join(" "));
            }
            if format == 2 {
                // One setup matrix per machine, a row and a column per operation.
                let ops: usize = lines[1..]
                    .iter()
                    .map(|l| {
                        l.split(' ')
                            .next()
                            .and_then(|w| w.parse::<usize>().ok())
                            .unwrap_or(0)
                    })
                    .sum();
                for _ in 0..machines * ops {
                    lines.push(
                        (0..ops)
                            .map(|_| next(5).to_string())
                            .collect::<Vec<_>>()
                            .join(" "),
                    );
                }
            }
            let mut text = lines.join("\n");
            if let Some((at, value, whole_line)) = corrupt {
                let spans: Vec<(usize, usize)> = text
                    .match_indices(|c: char| c.is_ascii_digit())
                    .map(|(i, _)| (i, i + 1))
                    .collect();
                if whole_line {
                    text.push_str(&format!("\n{value} {value}"));
                } else if let Some(&(a, b)) = spans.get(at % spans.len().max(1)) {
                    text = format!("{}{value}{}", &text[..a], &text[b..]);
                }
            }
            (text + "\n", format)
        })
}

#[test]
fn job_shop_files_read_or_are_refused_and_their_schedules_are_feasible() {
    use takt_scheduler::instances::{Format, read};
    runner()
        .run(&job_shop(), |(text, f)| {
            let format = [Format::Jssp, Format::Fjsp, Format::FjspSdst][f];
            SHOPS.count(0);
            // As `takt schedule` reads a file: the format, then what the solvers assume.
            if let Ok(p) = read(&text, format, "fuzz").and_then(|p| {
                p.validate()
                    .map_err(|e| takt_scheduler::instances::InstanceError {
                        line: 0,
                        message: e.to_string(),
                    })?;
                Ok(p)
            }) {
                SHOPS.count(1);
                let sol = takt_scheduler::tabu::solve(
                    &p,
                    &takt_scheduler::objective::Objective::makespan(),
                    1,
                    1,
                    takt_scheduler::tabu::Limits {
                        time: std::time::Duration::from_millis(50),
                        iterations: 30,
                    },
                );
                let schedule = takt_scheduler::decode(&p, &sol);
                prop_assert!(schedule.is_some(), "cyclic: {text}");
                if let Some(s) = schedule {
                    let v = takt_scheduler::check(&p, &s);
                    prop_assert!(v.is_empty(), "{text}: {v:?}");
                }
            }
            Ok(())
        })
        .expect("no job-shop file may break the scheduler");
    SHOPS.print(["files", "read and scheduled", "-"]);
}

const ROUTES: &[(&str, &str)] = &[
    ("POST", "/twin/events"),
    ("POST", "/scenarios/validate"),
    ("POST", "/scenarios"),
    ("POST", "/simulations"),
    ("POST", "/schedules"),
    ("POST", "/maintenance-plans"),
    ("POST", "/twin/forecast"),
    ("GET", "/twin/kpis?window=previous"),
    ("GET", "/twin/kpis?window=%00"),
    ("GET", "/jobs/j00000000000000000000000000000000"),
    ("DELETE", "/jobs/../../etc/passwd"),
    ("GET", "/scenarios/s1"),
    ("GET", "/scenarios/%2e%2e%2f"),
    ("GET", "/nowhere"),
];

const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "text/plain",
    "application/json; charset=utf-8",
    "",
];

/// A request body: JSON from the fields the routes take, or anything.
fn body() -> impl Strategy<Value = String> {
    let fields = prop::collection::btree_map(
        prop_oneof![
            Just("scenario".to_string()),
            Just("scenario_id".to_string()),
            Just("toml".to_string()),
            Just("replications".to_string()),
            Just("horizon".to_string()),
            Just("until".to_string()),
            Just("variants".to_string()),
            Just("objective".to_string()),
            Just("time_limit".to_string()),
            Just("seed".to_string()),
            ".{0,6}",
        ],
        json_value(),
        0..5,
    )
    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect()).to_string());
    prop_oneof![
        fields,
        json_value().prop_map(|v| v.to_string()),
        prop::collection::vec(event_line(), 0..5).prop_map(|l| format!("[{}]", l.join(","))),
        ".{0,64}",
    ]
}

#[test]
fn hostile_http_requests_are_answered_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().expect("dir");
    let loaded = takt_model::load_str(BOTTLING, Path::new("bottling.toml"), None).expect("shipped");
    let mut config = takt_api::Config::new(
        "127.0.0.1:0".parse().expect("addr"),
        dir.path().to_path_buf(),
        takt_api::auth::Auth::Insecure,
    );
    config.workers = 1;
    config.queue = 2;
    config.body_limit_bytes = 1 << 16;
    config.ingest_per_s = 1e9;
    let server = takt_api::Server::open(config, loaded.scenario, loaded.model).expect("server");
    let app = takt_api::routes::router(Arc::clone(&server));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let peer: SocketAddr = "127.0.0.1:9".parse().expect("addr");
    let send = |method: &str, path: &str, content_type: &str, body: String| {
        let mut request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("method"))
            .uri(path);
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        let mut request = request.body(Body::from(body)).expect("request");
        request.extensions_mut().insert(ConnectInfo(peer));
        runtime
            .block_on(app.clone().oneshot(request))
            .expect("infallible")
    };
    runner()
        .run(
            &(0..ROUTES.len(), 0..CONTENT_TYPES.len(), body()),
            |(r, c, body)| {
                let (method, path) = ROUTES[r];
                let answer = send(method, path, CONTENT_TYPES[c], body.clone());
                REQUESTS.count(0);
                REQUESTS.count(if answer.status().is_success() { 1 } else { 2 });
                prop_assert_ne!(
                    answer.status(),
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "{} {} {}",
                    method,
                    path,
                    body
                );
                let health = send("GET", "/health", "", String::new());
                prop_assert_eq!(health.status(), StatusCode::OK);
                Ok(())
            },
        )
        .expect("no request may break the server");
    REQUESTS.print(["requests", "2xx", "refused (4xx, 503)"]);
    // Jobs the fuzz queued are stopped, not waited for.
    server.jobs.shutdown(std::time::Duration::from_millis(100));
}
