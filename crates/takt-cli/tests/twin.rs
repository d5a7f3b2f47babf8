//! The live twin as a user runs it: a simulated shift's trace replayed into the twin gives the
//! simulator's own OEE; a replay killed with SIGKILL loses no acknowledged event and rebuilds the
//! state it had; a restarted replay recognises what it already stored.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn takt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_takt"))
        .args(args)
        .output()
        .expect("takt runs")
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "takt failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn scenario(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("takt-twin-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A simulated trace of `horizon` of the bottling line.
fn trace(dir: &Path, horizon: &str) -> PathBuf {
    let path = dir.join("trace.jsonl");
    let out = takt(&[
        "run",
        &scenario("bottling-line.toml"),
        "--horizon",
        horizon,
        "--trace",
        &path.to_string_lossy(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// The asset `name` of a twin's state (`takt replay --json`).
fn asset_named<'a>(state: &'a Value, name: &str) -> &'a Value {
    state["assets"]
        .as_array()
        .and_then(|assets| assets.iter().find(|a| a["asset"] == name))
        .unwrap_or_else(|| panic!("{name} mirrored"))
}

/// The twin's good pieces and ISO 22400 KPIs of an asset (`mirrored`) are the simulator's for its
/// station: equal counts, KPIs within 1e-3 (time stamps carry milliseconds: the twin's clock is the
/// simulator's, rounded).
fn assert_same_kpis(mirrored: &Value, station: &Value, what: &str) {
    assert_eq!(mirrored["good"], station["good"], "{what}: good");
    for kpi in ["availability", "performance", "quality", "oee"] {
        let (a, b) = (
            mirrored[kpi].as_f64().expect("twin kpi"),
            station[kpi].as_f64().expect("sim kpi"),
        );
        assert!(
            (a - b).abs() < 1e-3,
            "{what} {kpi}: twin {a}, simulator {b}"
        );
    }
}

#[test]
fn a_replayed_trace_gives_the_simulators_own_kpis() {
    let dir = temp("kpis");
    let report = json(&takt(&[
        "run",
        &scenario("bottling-line.toml"),
        "--horizon",
        "2h",
        "--json",
    ]));
    let path = trace(&dir, "2h");
    let state = json(&takt(&[
        "replay",
        &path.to_string_lossy(),
        "--scenario",
        &scenario("bottling-line.toml"),
        "--at",
        "2h",
        "--json",
    ]));
    for station in report["stations"].as_array().expect("stations") {
        let name = station["name"].as_str().expect("name");
        let mirrored = asset_named(&state, name);
        assert_eq!(mirrored["scrap"], station["scrap"], "{name} scrap");
        assert_same_kpis(mirrored, station, name);
    }
}

/// A day replayed whole: at its end the twin shows the late shift alone (14:00-22:00 local),
/// which the simulator reports when its statistics reset at the end of the early shift, and the
/// early shift whole as the shift before.
#[test]
fn a_replayed_day_gives_the_late_shifts_own_kpis() {
    let dir = temp("day");
    let path = dir.join("day.jsonl");
    // The shipped line with an order for the late shift: the early shift's orders are done by 14:00.
    let day = dir.join("bottling-day.toml");
    let text = std::fs::read_to_string(scenario("bottling-line.toml")).expect("scenario");
    std::fs::write(
        &day,
        text + "\n[[demand.orders]]\nid = \"SO-4730\"\nproduct = \"cola-033\"\n\
                quantity = 20000\nrelease = \"8h\"\ndue = \"16h\"\n",
    )
    .expect("day scenario");
    let report = json(&takt(&[
        "run",
        &day.to_string_lossy(),
        "--horizon",
        "16h",
        "--warmup",
        "8h",
        "--trace",
        &path.to_string_lossy(),
        "--json",
    ]));
    let db = dir.join("day.sqlite");
    let state = json(&takt(&[
        "replay",
        &path.to_string_lossy(),
        "--scenario",
        &scenario("bottling-line.toml"),
        "--db",
        &db.to_string_lossy(),
        "--at",
        "2026-01-05T22:00:00+01:00",
        "--json",
    ]));
    assert_eq!(state["shift"], "late");
    assert_eq!(state["window_start"], "2026-01-05T14:00:00.000+01:00");
    assert_eq!(state["window_end"], "2026-01-05T22:00:00.000+01:00");
    let mut late_good = 0;
    for station in report["stations"].as_array().expect("stations") {
        let name = station["name"].as_str().expect("name");
        let mirrored = asset_named(&state, name);
        assert_eq!(mirrored["scrap"], station["scrap"], "{name} scrap");
        late_good += station["good"].as_u64().expect("good");
        assert_same_kpis(mirrored, station, name);
    }
    // A busy late shift: an idle one would prove little.
    assert!(
        late_good > 30_000,
        "{late_good} good pieces in the late shift"
    );
    // The early shift, kept whole for the handover: the simulator's first 8 hours.
    let early = json(&takt(&[
        "run",
        &day.to_string_lossy(),
        "--horizon",
        "8h",
        "--json",
    ]));
    for station in early["stations"].as_array().expect("stations") {
        let name = station["name"].as_str().expect("name");
        let before = &asset_named(&state, name)["previous_shift"];
        assert_eq!(before["shift"], "early");
        assert_eq!(before["start"], "2026-01-05T06:00:00.000+01:00");
        assert_same_kpis(before, station, &format!("{name}, early shift"));
    }
    // The ended shifts from the store: the early one, the same figures, per machine.
    let shifts = json(&takt(&[
        "twin",
        "shifts",
        "--db",
        &db.to_string_lossy(),
        "--scenario",
        &scenario("bottling-line.toml"),
        "--json",
    ]));
    let ended = shifts["shifts"].as_array().expect("shifts");
    assert_eq!(ended.len(), 1, "{shifts}");
    assert_eq!(ended[0]["shift"], "early");
    for station in early["stations"].as_array().expect("stations") {
        let name = station["name"].as_str().expect("name");
        let machine = ended[0]["machines"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["asset"] == name))
            .expect("machine");
        assert_eq!(machine["good"], station["good"], "{name}");
        assert_same_kpis(machine, station, &format!("{name}, ended early shift"));
    }
    // The day's figures from the store: both shifts together are the simulator's whole day, its
    // ratios over the summed times (not an average of the two shifts').
    let whole_day = json(&takt(&[
        "run",
        &day.to_string_lossy(),
        "--horizon",
        "16h",
        "--json",
    ]));
    let totals = json(&takt(&[
        "twin",
        "totals",
        "--db",
        &db.to_string_lossy(),
        "--scenario",
        &scenario("bottling-line.toml"),
        "--period",
        "day",
        "--json",
    ]));
    let counted: Vec<&str> = totals["shifts"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["shift"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(counted, ["early", "late"], "{totals}");
    for station in whole_day["stations"].as_array().expect("stations") {
        let name = station["name"].as_str().expect("name");
        let machine = totals["machines"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["asset"] == name))
            .expect("machine");
        assert_same_kpis(machine, station, &format!("{name}, the day"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_killed_replay_loses_no_acknowledged_event_and_rebuilds_its_state() {
    let dir = temp("kill");
    let path = trace(&dir, "3h");
    let lines: Vec<String> = std::fs::read_to_string(&path)
        .expect("trace")
        .lines()
        .map(String::from)
        .collect();
    assert!(lines.len() > 20_000, "{}", lines.len());
    let db = dir.join("twin.db");
    // Paced so that it is still running when killed: 3 h of data at 3600x is 3 s.
    let mut child = Command::new(env!("CARGO_BIN_EXE_takt"))
        .args([
            "replay",
            &path.to_string_lossy(),
            "--scenario",
            &scenario("bottling-line.toml"),
            "--db",
            &db.to_string_lossy(),
            "--speed",
            "3600x",
            "--batch",
            "500",
            "--print-acks",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("replay starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut acked = 0u64;
    let mut acks = 0;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(n) = line.strip_prefix("acked ") {
            acked = n.parse().expect("count");
            acks += 1;
            if acks == 5 {
                break;
            }
        }
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert!(
        acked > 0 && (acked as usize) < lines.len(),
        "killed mid-stream: {acked}"
    );

    // Rebuilt from the store: every acknowledged event is there.
    let rebuilt = json(&takt(&[
        "twin",
        "state",
        "--db",
        &db.to_string_lossy(),
        "--scenario",
        &scenario("bottling-line.toml"),
        "--json",
    ]));
    let stored = rebuilt["counters"]["accepted"].as_u64().expect("accepted");
    assert!(stored >= acked, "stored {stored} < acknowledged {acked}");
    // The store holds exactly the first `stored` events (batches commit whole and in order), and the
    // rebuilt twin is the twin those events make.
    let prefix = dir.join("prefix.jsonl");
    std::fs::write(&prefix, lines[..stored as usize].join("\n") + "\n").expect("prefix");
    let direct = json(&takt(&[
        "replay",
        &prefix.to_string_lossy(),
        "--scenario",
        &scenario("bottling-line.toml"),
        "--json",
    ]));
    assert_eq!(rebuilt["assets"], direct["assets"]);
    assert_eq!(rebuilt["now"], direct["now"]);

    // Restarted on the same store with the whole recording: what was stored is a duplicate, the rest
    // is accepted, and the end state is that of one uninterrupted replay.
    let resumed = json(&takt(&[
        "replay",
        &path.to_string_lossy(),
        "--scenario",
        &scenario("bottling-line.toml"),
        "--db",
        &db.to_string_lossy(),
        "--json",
    ]));
    assert_eq!(resumed["counters"]["duplicates"].as_u64(), Some(stored));
    assert_eq!(
        resumed["counters"]["accepted"].as_u64(),
        Some(lines.len() as u64)
    );
    let whole = json(&takt(&[
        "replay",
        &path.to_string_lossy(),
        "--scenario",
        &scenario("bottling-line.toml"),
        "--json",
    ]));
    assert_eq!(resumed["assets"], whole["assets"]);
}

#[test]
fn bad_lines_and_unknown_assets_are_rejected_with_their_place_and_kept_aside() {
    let dir = temp("bad");
    let file = dir.join("mixed.jsonl");
    std::fs::write(
        &file,
        [
            r#"{"ts":"2026-01-05T06:00:00+01:00","asset":"Filler","kind":"state","seq":1,"state":"RUNNING"}"#,
            r#"{"ts":"2026-01-05T06:00:01+01:00","asset":"Filler","kind":"state","seq":2,"state":"DANCING"}"#,
            r#"{"ts":"2026-01-05T06:00:02+01:00","asset":"Mixer","kind":"count","seq":3,"good":1}"#,
            r#"not json"#,
            r#"{"ts":"2026-01-05T06:00:03+01:00","asset":"Filler","kind":"count","seq":4,"good":2}"#,
            r#"{"ts":"2026-01-05T06:00:03+01:00","asset":"Filler","kind":"count","seq":4,"good":2}"#,
        ]
        .join("\n"),
    )
    .expect("write");
    let db = dir.join("twin.db");
    let out = takt(&[
        "replay",
        &file.to_string_lossy(),
        "--scenario",
        &scenario("bottling-line.toml"),
        "--db",
        &db.to_string_lossy(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("2 accepted, 1 duplicates, 3 rejected"),
        "{text}"
    );
    assert!(
        text.contains("mixed.jsonl:2: state: unknown variant `DANCING`"),
        "{text}"
    );
    assert!(
        text.contains("mixed.jsonl:3: asset: unknown asset `Mixer`"),
        "{text}"
    );
    assert!(text.contains("mixed.jsonl:4: expected ident"), "{text}");
    let state = json(&takt(&[
        "twin",
        "state",
        "--db",
        &db.to_string_lossy(),
        "--scenario",
        &scenario("bottling-line.toml"),
        "--json",
    ]));
    assert_eq!(state["counters"]["rejected"], 3);
    let filler = state["assets"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["asset"] == "Filler"))
        .expect("Filler");
    assert_eq!(filler["good"], 2);
    assert_eq!(filler["state"], "RUNNING");
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// The shipped extracts of real recordings replay cleanly, and when the public data sets are beside
/// the checkout, the adapters regenerate the extracts byte for byte.
#[test]
fn real_recordings_convert_and_replay() {
    let state = json(&takt(&[
        "replay",
        &repo("replay/okuma-mtconnect.jsonl").to_string_lossy(),
        "--scenario",
        &repo("scenarios/okuma-cell.toml").to_string_lossy(),
        "--json",
    ]));
    assert_eq!(state["counters"]["rejected"], 0);
    let okuma = &state["assets"][0];
    assert_eq!(okuma["asset"], "Okuma");
    assert!(okuma["good"].as_u64() >= Some(3), "{okuma}");
    assert!(
        okuma["state_s"]["RUNNING"].as_f64() > Some(600.0),
        "{okuma}"
    );
    assert!(okuma["signals"]["S1load"]["unit"] == "%", "{okuma}");

    let shared = repo("../shared/data");
    if !shared.exists() {
        eprintln!(
            "skipped the regeneration check: {} not present",
            shared.display()
        );
        return;
    }
    let dir = temp("adapt");
    // Converts with `args` (the output file last) and compares with the shipped extract.
    let regenerates = |args: &[&str], shipped: &str| {
        let out = dir.join("regenerated.jsonl");
        let mut all: Vec<&str> = args.to_vec();
        let path = out.to_string_lossy().into_owned();
        all.extend(["-o", &path]);
        let run = takt(&all);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert_eq!(
            std::fs::read(&out).expect("converted"),
            std::fs::read(repo(shipped)).expect("shipped"),
            "{shipped} no longer regenerates"
        );
    };
    let data = |p: &str| shared.join(p).to_string_lossy().into_owned();
    regenerates(
        &[
            "adapt",
            "mtconnect",
            &data("mtconnect/okuma_imts2022.shdr.txt"),
            "--devices",
            &data("mtconnect/Devices.xml"),
            "--asset",
            "Okuma",
        ],
        "replay/okuma-mtconnect.jsonl",
    );
    regenerates(
        &["adapt", "azure", &data("azure_pdm"), "--machines", "1"],
        "replay/azure-pdm-machine1.jsonl",
    );
    // The job-shop log (not redistributed here): every row converts.
    let out = dir.join("jobshop.jsonl");
    let run = takt(&[
        "adapt",
        "jobshop",
        &shared
            .join("production_4tu/Production_Data.csv")
            .to_string_lossy(),
        "-o",
        &out.to_string_lossy(),
    ]);
    assert!(run.status.success());
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(!text.contains("skipped"), "{text}");
    let events = std::fs::read_to_string(&out).expect("events");
    assert!(
        events.lines().count() > 4 * 4543,
        "{}",
        events.lines().count()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_flat_csv_form_replays_with_line_numbers() {
    let dir = temp("csv");
    let file = dir.join("events.csv");
    std::fs::write(
        &file,
        "ts,asset,kind,seq,state,reason,good,signal,value,unit\n\
         2026-01-05T06:00:00+01:00,Filler,state,1,RUNNING,production,,,,\n\
         2026-01-05T06:00:01+01:00,Filler,count,2,,,3,,,\n\
         2026-01-05T06:00:02+01:00,Filler,sample,3,,,,vibration,loud,mm/s\n\
         2026-01-05T06:00:03+01:00,Filler,sample,4,,,,vibration,4.5,mm/s\n",
    )
    .expect("write");
    let out = takt(&[
        "replay",
        &file.to_string_lossy(),
        "--scenario",
        &scenario("bottling-line.toml"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("3 accepted, 0 duplicates, 1 rejected"),
        "{text}"
    );
    assert!(
        text.contains("events.csv:4: signals.vibration.value"),
        "{text}"
    );
}

#[test]
fn a_forecast_from_the_replayed_state_reaches_the_end_of_the_shift_and_refuses_bad_moments() {
    let dir = temp("forecast");
    let recording = trace(&dir, "2h30m");
    let db = dir.join("twin.db");
    let (db_s, rec_s, sc) = (
        db.to_string_lossy().into_owned(),
        recording.to_string_lossy().into_owned(),
        scenario("bottling-line.toml"),
    );
    json(&takt(&[
        "replay",
        &rec_s,
        "--scenario",
        &sc,
        "--db",
        &db_s,
        "--json",
    ]));
    let f = json(&takt(&[
        "twin",
        "forecast",
        "--db",
        &db_s,
        "--scenario",
        &sc,
        "--replications",
        "20",
        "--plan-replications",
        "10",
        "--json",
    ]));
    // From the newest event (2 h 30 min in, 08:30 local) to the end of the shift (14:00).
    assert!(
        f["now"]
            .as_str()
            .is_some_and(|s| s.starts_with("2026-01-05T08:29")),
        "{}",
        f["now"]
    );
    assert_eq!(f["until"], "2026-01-05T14:00:00.000+01:00");
    let so_far = f["plant_good_so_far"].as_f64().expect("so far");
    let at_end = &f["plant_good_at_end"];
    let (p05, p95) = (
        at_end["p05"].as_f64().expect("p05"),
        at_end["p95"].as_f64().expect("p95"),
    );
    assert!(
        so_far > 5000.0 && so_far < p05 && p05 <= p95 && p95 <= 24_500.0,
        "{f}"
    );
    assert_eq!(f["stations"].as_array().map(Vec::len), Some(3));
    assert_eq!(f["orders"].as_array().map(Vec::len), Some(3));
    assert!(
        f["initial_state"]["buffers"]
            .as_array()
            .is_some_and(|b| !b.is_empty())
    );
    assert_eq!(f["warnings"], serde_json::json!([]));

    // A moment before the scenario's start, a horizon already past, a horizon that is no time:
    // clear errors, exit code 2.
    for (flag, value, message) in [
        (
            "--at",
            "2025-12-31T00:00:00Z",
            "before the scenario's start",
        ),
        (
            "--until",
            "2026-01-05T07:00:00+01:00",
            "is not after the moment",
        ),
        ("--until", "soon", "--until: `soon` is neither"),
    ] {
        let out = takt(&[
            "twin",
            "forecast",
            "--db",
            &db_s,
            "--scenario",
            &sc,
            flag,
            value,
        ]);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{flag} {value}: {err}");
    }

    // The plant's own order book: none at first, a bad one refused field by field, then the
    // forecast is of the book's orders.
    let orders = |extra: &[&str]| {
        let mut args = vec!["twin", "orders", "--db", &db_s, "--scenario", &sc];
        args.extend(extra);
        takt(&args)
    };
    let none = orders(&[]);
    assert!(none.status.success());
    assert!(String::from_utf8_lossy(&none.stdout).contains("no live order book"));
    let bad = dir.join("bad-book.json");
    std::fs::write(
        &bad,
        r#"{"orders": [{"id": "WO-1", "product": "lemonade", "quantity": 0}]}"#,
    )
    .expect("file");
    let out = orders(&["--set", &bad.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("orders[0].product") && err.contains("orders[0].quantity"),
        "{err}"
    );
    let good = dir.join("book.json");
    std::fs::write(
        &good,
        r#"{"orders": [
            {"id": "WO-9", "product": "cola-050", "quantity": 4000, "due": "2026-01-05T12:00:00+01:00"},
            {"id": "WO-8", "product": "cola-033", "quantity": 2000, "good": 1500,
             "due": "2026-01-05T09:00:00+01:00"}
        ]}"#,
    )
    .expect("file");
    let given = orders(&["--set", &good.to_string_lossy()]);
    let table = String::from_utf8_lossy(&given.stdout);
    assert!(given.status.success(), "{table}");
    assert!(
        table.contains("live order book as of 2026-01-05 08:29") && table.contains("1,500"),
        "{table}"
    );
    let kept = json(&orders(&["--json"]));
    assert_eq!(kept["orders"][1]["good"], 1500);
    let args = ["twin", "forecast", "--db", &db_s, "--scenario", &sc];
    let f = json(&takt(
        &[&args[..], &["--replications", "8", "--json"]].concat(),
    ));
    assert_eq!(f["orders_as_of"], kept["as_of"], "{f}");
    let ids: Vec<&str> = f["orders"]
        .as_array()
        .map(|o| o.iter().filter_map(|o| o["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["WO-9", "WO-8"]);
    let out = takt(&[&args[..], &["--replications", "8"]].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("orders of the live order book as of 2026-01-05 08:29"),
        "{text}"
    );
    // Dropped: the forecast is of the scenario's orders again.
    let dropped = orders(&["--clear"]);
    assert!(dropped.status.success());
    assert!(String::from_utf8_lossy(&dropped.stdout).contains("dropped"));
    assert!(String::from_utf8_lossy(&orders(&[]).stdout).contains("no live order book"));
    let f = json(&takt(
        &[&args[..], &["--replications", "8", "--json"]].concat(),
    ));
    assert!(f["orders_as_of"].is_null(), "{f}");
    assert_eq!(f["orders"].as_array().map(Vec::len), Some(3), "{f}");
}

/// `takt twin listen` refuses a login without a password and TLS files it cannot use, naming
/// what is wrong, before it opens (or creates) the event store.
#[test]
fn listen_checks_its_login_and_tls_files_first() {
    let dir = temp("listen-settings");
    let db = dir.join("events.db");
    let listen = |extra: &[&str]| {
        let mut args = vec!["twin", "listen", "--site", "plant", "--scenario"];
        let bottling = scenario("bottling-line.toml");
        args.push(&bottling);
        let db = db.to_string_lossy().into_owned();
        args.extend(["--db", &db, "--duration", "1s"]);
        args.extend(extra);
        Command::new(env!("CARGO_BIN_EXE_takt"))
            .args(&args)
            .env_remove("TAKT_MQTT_PASSWORD")
            .output()
            .expect("takt runs")
    };
    let stderr = |out: &Output| String::from_utf8_lossy(&out.stderr).into_owned();

    let out = listen(&["--mqtt-user", "twin"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("TAKT_MQTT_PASSWORD"),
        "{}",
        stderr(&out)
    );

    let empty = dir.join("password");
    std::fs::write(&empty, "\n").expect("file");
    let empty_arg = empty.to_string_lossy().into_owned();
    let out = listen(&["--mqtt-user", "twin", "--mqtt-password-file", &empty_arg]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(&empty_arg), "{}", stderr(&out));

    let missing = dir.join("missing-ca.pem").to_string_lossy().into_owned();
    let out = listen(&["--mqtt-ca", &missing]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(&missing), "{}", stderr(&out));

    let not_pem = dir.join("ca.pem");
    std::fs::write(&not_pem, "not a certificate\n").expect("file");
    let not_pem = not_pem.to_string_lossy().into_owned();
    let out = listen(&["--mqtt-ca", &not_pem]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(&not_pem), "{}", stderr(&out));

    let out = listen(&["--mqtt-cert", &not_pem]);
    assert!(!out.status.success(), "a certificate without its key");
    assert!(!db.exists(), "nothing was opened");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A twin fed live from a scenario whose plan is over by the clock says so: its KPIs still count
/// per shift, but its forecasts see none of the plan's orders.
#[test]
fn listen_warns_when_the_scenarios_plan_is_over() {
    let dir = temp("listen-over");
    let db = dir.join("events.db").to_string_lossy().into_owned();
    // A port nobody listens on: the twin retries in the background for the short duration.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let broker = format!("127.0.0.1:{port}");
    let out = takt(&[
        "twin",
        "listen",
        "--mqtt",
        &broker,
        "--site",
        "plant",
        "--scenario",
        &scenario("bottling-line.toml"),
        "--db",
        &db,
        "--duration",
        "0.3s",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // The bottling line's plan is the shift of 2026-01-05 06:00-14:00 (+01:00).
    assert!(
        stderr.contains(
            "the scenario's plan (2026-01-05T06:00:00.000+01:00 .. 2026-01-05T14:00:00.000+01:00) is over"
        ),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
