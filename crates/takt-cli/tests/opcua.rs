//! Live ingestion over OPC UA against an independent server: Python's asyncua (installed by
//! `scripts/setup.sh` into `target/tools-venv`) serving `scripts/opcua_machine.py`, a filling
//! machine's controller, on a free loopback port, with Basic256Sha256 Sign&Encrypt and a login.
//! The server logs every value it writes; the test compares what takt stored with that log: every
//! stored event is a value the server wrote, at its source time, and none written while the twin
//! was connected is missing. The server is killed and started again mid-stream: the twin reconnects
//! on its own, and a second listener on the same store finds the values it is sent again stored
//! already (duplicates by `asset` + `seq`).

use serde_json::Value;
use std::collections::BTreeSet;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv's Python with asyncua, or `None` where scripts/setup.sh has not made it (the test is
/// then skipped; CI must have it).
fn python() -> Option<PathBuf> {
    let python = root().join("target/tools-venv/bin/python");
    let works = Command::new(&python)
        .args(["-c", "import asyncua"])
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        assert!(
            std::env::var_os("CI").is_none(),
            "asyncua missing in CI: scripts/setup.sh installs it into target/tools-venv"
        );
        eprintln!("skipped: asyncua is not installed (scripts/setup.sh installs it)");
    }
    works.then_some(python)
}

/// An empty folder of this test process's own, `tag` telling the tests apart.
fn fresh_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a folder");
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

const USER: &str = "operator";
const PASSWORD: &str = "filler-2026";

/// The test machine: its certificates, its log and its part counter live in `dir`, so a restart
/// keeps all three.
struct Machine(Child);

impl Machine {
    /// With a login required.
    fn start(python: &Path, dir: &Path, port: u16) -> Machine {
        Machine::start_with(python, dir, port, true)
    }

    fn start_with(python: &Path, dir: &Path, port: u16, login: bool) -> Machine {
        let mut command = Command::new(python);
        if login {
            command
                .env("TAKT_TEST_OPCUA_USER", USER)
                .env("TAKT_TEST_OPCUA_PASSWORD", PASSWORD);
        }
        let child = command
            .arg(root().join("scripts/opcua_machine.py"))
            .args([
                "--port",
                &port.to_string(),
                "--tick-ms",
                "100",
                "--cycle",
                "20",
            ])
            .arg("--certs")
            .arg(dir.join("server-certs"))
            .arg("--log")
            .arg(dir.join("written.jsonl"))
            .arg("--counter-file")
            .arg(dir.join("counter"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the OPC UA test server starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the OPC UA test server did not open port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Machine(child)
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `takt serve` of the bottling line on `http`, its stores in `dir`, fed by the machine on `port`.
fn serve_command(http: u16, dir: &Path, port: u16) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_takt"));
    c.args(["serve", "--insecure-no-auth", "--listen"])
        .arg(format!("127.0.0.1:{http}"))
        .arg("--scenario")
        .arg(root().join("scenarios/bottling-line.toml"))
        .arg("--data")
        .arg(dir.join("data"))
        .arg("--opcua")
        .arg(format!("opc.tcp://127.0.0.1:{port}/takt/"))
        .arg("--map")
        .arg(shipped_map());
    c
}

fn shipped_map() -> PathBuf {
    root().join("scenarios/maps/bottling-line.opcua.toml")
}

fn listen_command(port: u16, dir: &Path, password: &str, seconds: &str, map: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_takt"));
    c.args(["twin", "listen", "--opcua"])
        .arg(format!("opc.tcp://127.0.0.1:{port}/takt/"))
        .arg("--map")
        .arg(map)
        .arg("--scenario")
        .arg(root().join("scenarios/bottling-line.toml"))
        .arg("--db")
        .arg(dir.join("twin.db"))
        .arg("--opcua-pki")
        .arg(dir.join("pki"))
        .args(["--opcua-security", "sign-and-encrypt", "--opcua-user", USER])
        .args(["--alerts", "none", "--duration", seconds, "--json"])
        .env("TAKT_OPCUA_PASSWORD", password)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn stats(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "takt twin listen failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the listener's JSON")
}

/// A value as the server wrote it, or as takt stored it: (node, value as text, source time µs).
type Written = (String, String, i64);

/// The nodes of the mapping, in its order (the position is part of each event's `seq`).
const NODES: [&str; 5] = [
    "Filler.State",
    "Filler.GoodParts",
    "Filler.Temperature",
    "Filler.SpeedSetpoint",
    "Filler.Overheat",
];

fn written_by_server(dir: &Path) -> Vec<Written> {
    std::fs::read_to_string(dir.join("written.jsonl"))
        .expect("the server's log")
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("a log line");
            let value = match &v["value"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.as_f64().expect("a number").to_string(),
                other => other.to_string(),
            };
            (
                v["node"].as_str().expect("node").to_string(),
                value,
                v["source_us"].as_i64().expect("source_us"),
            )
        })
        .collect()
}

/// Every event in the twin's store, read back as the value it was made from.
fn stored_by_twin(dir: &Path) -> Vec<Written> {
    let store =
        takt_twin::store::Store::open(&dir.join("twin.db"), takt_twin::store::Durability::Full)
            .expect("the store opens");
    let mut out = Vec::new();
    store
        .for_each_text(|_, text| {
            let e: Value = serde_json::from_str(text).expect("a stored event");
            let seq = e["seq"].as_u64().expect("seq");
            let node = NODES[(seq % 1000) as usize].to_string();
            let source_us = (seq / 1000) as i64;
            let value = match e["kind"].as_str() {
                Some("state") => match e["state"].as_str() {
                    Some("UNPLANNED_DOWN") => "FAULT".to_string(),
                    Some(s) => s.to_string(),
                    None => panic!("a state event without a state: {text}"),
                },
                Some("count") => (e["good"].as_u64().expect("good") as f64).to_string(),
                Some("sample") => {
                    let signals = e["signals"].as_object().expect("signals");
                    let (_, s) = signals.iter().next().expect("one signal");
                    s["value"].as_f64().expect("a value").to_string()
                }
                Some("alarm") => (e["action"] == "raised").to_string(),
                other => panic!("unexpected kind {other:?}: {text}"),
            };
            out.push((node, value, source_us));
        })
        .expect("the store reads");
    out
}

#[test]
fn a_machine_over_opc_ua_is_stored_once_through_a_server_restart() {
    let Some(python) = python() else {
        return;
    };
    let dir = fresh_dir("takt-opcua");
    let port = free_port();
    let machine = Machine::start(&python, &dir, port);

    // The server's certificate is unknown: refused, and put where a person decides on it.
    let first = listen_command(port, &dir, PASSWORD, "10s", &shipped_map())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(!first.status.success(), "an untrusted server was accepted");
    assert!(stderr.contains("is not trusted"), "{stderr}");
    let rejected: Vec<PathBuf> = std::fs::read_dir(dir.join("pki/rejected"))
        .expect("the rejected folder")
        .map(|e| e.expect("an entry").path())
        .collect();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(
        stderr.contains(&rejected[0].display().to_string()),
        "{stderr}"
    );
    let trusted = dir
        .join("pki/trusted")
        .join(rejected[0].file_name().expect("a name"));
    std::fs::rename(&rejected[0], &trusted).expect("trusted");

    // A wrong password is refused in words, not retried forever.
    let wrong = listen_command(port, &dir, "not-the-password", "10s", &shipped_map())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(!wrong.status.success(), "a wrong password was accepted");
    assert!(stderr.contains("refused the login"), "{stderr}");

    // A mapped node the server does not have is named, not waited for.
    let unknown = dir.join("unknown-node.toml");
    std::fs::write(
        &unknown,
        "[[node]]\nnode = \"ns=2;s=Filler.Pressure\"\nasset = \"Filler\"\nkind = \"sample\"\nsignal = \"pressure\"\n",
    )
    .expect("a mapping");
    let missing = listen_command(port, &dir, PASSWORD, "10s", &unknown)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success(), "an unknown node was accepted");
    assert!(
        stderr.contains(
            "node[0] `ns=2;s=Filler.Pressure` of the mapping cannot be monitored (BadNodeIdUnknown)"
        ),
        "{stderr}"
    );

    // Listening, with the server killed and started again in the middle.
    let listener = listen_command(port, &dir, PASSWORD, "12s", &shipped_map())
        .spawn()
        .expect("the listener starts");
    std::thread::sleep(Duration::from_secs(4));
    drop(machine);
    let killed_us = now_us();
    std::thread::sleep(Duration::from_millis(1500));
    let restarted_us = now_us();
    let machine = Machine::start(&python, &dir, port);
    let first_run = stats(&listener.wait_with_output().expect("the listener ends"));
    // What the first listener stored (the store lists events in the order accepted).
    let stored_by_first = stored_by_twin(&dir).len();
    assert!(first_run["reconnects"].as_u64() >= Some(1), "{first_run}");
    assert_eq!(first_run["rejected"], 0, "{first_run}");
    assert!(first_run["accepted"].as_u64() >= Some(50), "{first_run}");

    // A second listener is sent every node's current value again: the set point, written once
    // when the server started, is stored already.
    let second_run = stats(
        &listen_command(port, &dir, PASSWORD, "2s", &shipped_map())
            .output()
            .expect("runs"),
    );
    assert!(second_run["duplicates"].as_u64() >= Some(1), "{second_run}");
    drop(machine);

    // Every stored event is a value the server wrote, at its source time.
    let written = written_by_server(&dir);
    let stored = stored_by_twin(&dir);
    let written_set: BTreeSet<&Written> = written.iter().collect();
    for s in &stored {
        assert!(written_set.contains(s), "stored but never written: {s:?}");
    }
    let stored_set: BTreeSet<&Written> = stored.iter().collect();
    assert_eq!(stored_set.len(), stored.len(), "a value stored twice");
    // Nothing written while the twin was connected is missing. A subscription starts with each
    // node's value at that moment, so per node and per connection (before the kill, after the
    // restart, the second listener): every value written from the first one stored to the last
    // value stored of any node.
    let (by_first, by_second) = stored.split_at(stored_by_first);
    let segments: [Vec<&Written>; 3] = [
        by_first.iter().filter(|s| s.2 < killed_us).collect(),
        by_first.iter().filter(|s| s.2 >= restarted_us).collect(),
        by_second.iter().collect(),
    ];
    let mut checked = 0;
    for in_segment in segments {
        let last = in_segment
            .iter()
            .map(|s| s.2)
            .max()
            .expect("values stored in each connection");
        for node in NODES {
            // (A node that did not change during the second listener has only its value sent
            // again, which is stored with the first connection's.)
            let Some(first) = in_segment.iter().filter(|s| s.0 == node).map(|s| s.2).min() else {
                continue;
            };
            for w in written
                .iter()
                .filter(|w| w.0 == node && (first..=last).contains(&w.2))
            {
                assert!(
                    stored_set.contains(w),
                    "written while connected, not stored: {w:?} ({node} first stored at \
                     {first}, the last value of the connection at {last}; stored: {:?})",
                    stored.iter().filter(|s| s.0 == node).collect::<Vec<_>>()
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 50, "only {checked} values checked");
    // What a person reads off this test (`cargo test -p takt-cli --test opcua -- --nocapture`).
    let back_us = by_first
        .iter()
        .map(|s| s.2)
        .filter(|&t| t >= restarted_us)
        .min()
        .expect("a value after the restart");
    println!(
        "opcua: first listener {first_run}; second listener {second_run}; {checked} values \
         written while connected, all stored; first value after the restart stored from {:.1} s \
         after the server was started again",
        (back_us - restarted_us) as f64 / 1e6
    );
    // The part counter went on across the restart: the totals stored never go down.
    let totals: Vec<f64> = stored
        .iter()
        .filter(|s| s.0 == "Filler.GoodParts")
        .map(|s| s.1.parse().expect("a total"))
        .collect();
    assert!(totals.windows(2).all(|p| p[0] <= p[1]), "{totals:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// The server's own twin fed by the machine (`takt serve --opcua`): the line board's state shows
/// the filler as the controller says it is, with its temperature, without a bridge.
#[test]
fn the_served_twin_is_fed_by_a_machine_over_opc_ua() {
    let Some(python) = python() else {
        return;
    };
    let dir = fresh_dir("takt-opcua-serve");
    let port = free_port();
    let _machine = Machine::start_with(&python, &dir, port, false);
    let http = free_port();
    let mut server = serve_command(http, &dir, port)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("takt serve starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    let filler = loop {
        let state: Option<Value> = ureq::get(&format!("http://127.0.0.1:{http}/twin/state"))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_json().ok());
        let filler = state.and_then(|s| {
            s["assets"]
                .as_array()
                .and_then(|a| a.iter().find(|a| a["asset"] == "Filler").cloned())
        });
        if let Some(f) = filler.filter(|f| f["signals"]["temperature"].is_object()) {
            break f;
        }
        assert!(
            Instant::now() < deadline,
            "the served twin shows no value from the machine"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        ["RUNNING", "UNPLANNED_DOWN"].contains(&filler["state"].as_str().unwrap_or("")),
        "{filler}"
    );
    assert_eq!(filler["signals"]["temperature"]["unit"], "degC", "{filler}");
    assert!(filler["events"].as_u64() >= Some(5), "{filler}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A served OPC UA feed that gave up (the machine's certificate not yet trusted, and a stale
/// password in its file) is started again once a person has trusted the certificate and mended
/// the file: `POST /twin/feeds/restart`, and the feed logs in with the password as the file says
/// now.
#[test]
fn a_stopped_opc_ua_feed_started_again_reads_its_password_anew() {
    let Some(python) = python() else {
        return;
    };
    let dir = fresh_dir("takt-opcua-restart");
    let port = free_port();
    let _machine = Machine::start(&python, &dir, port);
    let password_file = dir.join("opcua-password");
    std::fs::write(&password_file, "last-years-password\n").expect("password file");
    let http = free_port();
    let endpoint = format!("opc.tcp://127.0.0.1:{port}/takt/");
    let mut server = serve_command(http, &dir, port)
        .arg("--opcua-pki")
        .arg(dir.join("pki"))
        .args(["--opcua-security", "sign-and-encrypt", "--opcua-user", USER])
        .arg("--opcua-password-file")
        .arg(&password_file)
        .env_remove("TAKT_OPCUA_PASSWORD")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("takt serve starts");
    let up = |value: u8| {
        format!(
            r#"takt_feed_up{{plant="bottling-line-one-shift",protocol="opcua",source="{endpoint}"}} {value}"#
        )
    };
    let wait_for = |line: &str| {
        let deadline = Instant::now() + Duration::from_secs(40);
        let mut seen = String::new();
        while !seen.contains(line) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
            seen = ureq::get(&format!("http://127.0.0.1:{http}/metrics"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_string().ok())
                .unwrap_or_default();
        }
        line_seen(&seen, line)
    };
    let stopped = wait_for(&up(0));
    // The machine's certificate waits in rejected/ for a person: trusted, and the file mended.
    let rejected: Vec<PathBuf> = std::fs::read_dir(dir.join("pki/rejected"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    let restarted = if let [certificate] = rejected.as_slice() {
        let trusted = dir
            .join("pki/trusted")
            .join(certificate.file_name().expect("a name"));
        std::fs::rename(certificate, &trusted).expect("trusted");
        std::fs::write(&password_file, format!("{PASSWORD}\n")).expect("password file");
        let asked: Option<Value> =
            ureq::post(&format!("http://127.0.0.1:{http}/twin/feeds/restart"))
                .send_json(serde_json::json!({}))
                .ok()
                .and_then(|mut r| r.body_mut().read_json().ok());
        (asked, wait_for(&up(1)))
    } else {
        (None, Err(format!("rejected certificates: {rejected:?}")))
    };
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    stopped.expect("the feed gave up on an untrusted server");
    let (asked, up_again) = restarted;
    let asked = asked.expect("the restart answered");
    assert_eq!(asked["feeds"].as_array().map(Vec::len), Some(1), "{asked}");
    up_again.expect("the feed listens again, logged in with the mended password");
}

/// Whether the metrics hold `line`, or what they said.
fn line_seen(metrics: &str, line: &str) -> Result<(), String> {
    if metrics.contains(line) {
        Ok(())
    } else {
        Err(format!("the metrics said: {metrics}"))
    }
}
