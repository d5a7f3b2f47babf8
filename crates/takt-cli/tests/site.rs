//! The servers of a site on one PostgreSQL (a throwaway cluster on loopback): `takt serve
//! --store postgres://…` twice, as processes over real HTTP. An event accepted by either is
//! mirrored by both within a second, each event once; the same event sent to both is stored
//! once; a server killed (SIGKILL) in the middle of a stream of ingestion requests loses no
//! acknowledged event, and the other goes on with the same plant as a single server fed the
//! same events. A site of two plants on the two servers keeps each plant's events apart.

mod common;
#[path = "../../takt-twin/tests/common/postgres.rs"]
mod postgres;

use common::{READ, Server, WRITE, data_dir, get, post, recording};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Waits, at most 5 s, until `s` has mirrored `accepted` events; how long that took.
fn wait_for_accepted(s: &Server, accepted: u64) -> Duration {
    let started = Instant::now();
    loop {
        let state = get(s, "/twin/state", Some(READ)).body;
        let have = state["counters"]["accepted"].as_u64().unwrap_or(0);
        if have >= accepted {
            assert_eq!(have, accepted, "more events mirrored than stored");
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{} mirrored {have} of {accepted} events after 5 s",
            s.base
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The state a single server on SQLite shows after `batches`: the reference.
fn reference(batches: &[String]) -> Value {
    let s = Server::start(&data_dir("site-reference"), &[]);
    for b in batches {
        assert_eq!(post(&s, "/twin/events", Some(WRITE), b).status, 200);
    }
    get(&s, "/twin/state", Some(READ)).body
}

fn batches_of(events: &[Value], size: usize) -> Vec<String> {
    events
        .chunks(size)
        .map(|c| Value::Array(c.to_vec()).to_string())
        .collect()
}

#[test]
fn two_servers_on_one_postgres_mirror_every_event_once() {
    let Some(cluster) = postgres::Cluster::start() else {
        return;
    };
    let url = cluster.database("site");
    let store = ["--store", url.as_str()];
    let a = Server::start(&data_dir("site-a"), &store);
    let b = Server::start(&data_dir("site-b"), &store);
    let events = recording();
    let batches = batches_of(&events, 20);
    // Batches in turn through A and B; after each, the other server has it within a second.
    let mut sent = 0u64;
    let mut slowest = Duration::ZERO;
    for (k, batch) in batches.iter().enumerate() {
        let (to, other) = if k % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let answer = post(to, "/twin/events", Some(WRITE), batch);
        assert_eq!(answer.status, 200, "{}", answer.text);
        sent += answer.body["accepted"].as_u64().unwrap_or(0);
        if k % 25 == 0 {
            let took = wait_for_accepted(other, sent);
            assert!(took < Duration::from_secs(1), "{took:?} to see a batch");
            slowest = slowest.max(took);
        }
    }
    assert_eq!(sent, events.len() as u64);
    // The same batch through both: stored once, a duplicate the second time.
    let again = post(&b, "/twin/events", Some(WRITE), &batches[0]);
    assert_eq!(
        (
            again.body["accepted"].as_u64(),
            again.body["duplicates"].as_u64()
        ),
        (Some(0), Some(20))
    );
    wait_for_accepted(&a, sent);
    wait_for_accepted(&b, sent);
    let reference = reference(&batches);
    for s in [&a, &b] {
        let state = get(s, "/twin/state", Some(READ)).body;
        assert_eq!(state["assets"], reference["assets"], "{}", s.base);
        assert_eq!(state["now"], reference["now"]);
    }
    assert_eq!(
        cluster.sql("site", "SELECT count(*) FROM events"),
        events.len().to_string()
    );
    println!("the slowest of the batches checked reached the other server in {slowest:?}");
}

/// A site of two plants served by two servers on one PostgreSQL (`--plant`): an event of the
/// body shop accepted by A shows at B's `/plants/press/twin/state` within a second, in the
/// schema of its own plant only; the default plant keeps the database's default schema; each
/// plant has exactly one judge of its alert rules among the servers.
#[test]
fn a_site_of_two_plants_on_two_servers_keeps_each_plant_apart() {
    let Some(cluster) = postgres::Cluster::start() else {
        return;
    };
    let url = cluster.database("site");
    let site = [
        "--store",
        url.as_str(),
        "--plant-id",
        "bottling",
        "--plant",
        "press=scenarios/body-in-white.toml",
    ];
    let a = Server::start(&data_dir("plants-a"), &site);
    let b = Server::start(&data_dir("plants-b"), &site);
    let press = |seq: u64, state: &str| {
        format!(
            r#"[{{"ts":"2026-01-05T06:00:{seq:02}+01:00","asset":"Press","kind":"state","seq":{seq},"state":"{state}"}}]"#
        )
    };
    let started = Instant::now();
    let answer = post(
        &a,
        "/plants/press/twin/events",
        Some(WRITE),
        &press(1, "RUNNING"),
    );
    assert_eq!(answer.body["accepted"], 1, "{}", answer.text);
    let seen = loop {
        let state = get(&b, "/plants/press/twin/state", Some(READ)).body;
        if state["counters"]["accepted"] == 1 {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "B never showed the press's event: {state}"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(seen < Duration::from_secs(1), "{seen:?} to see the event");
    // The same event through B: a duplicate of its plant.
    let again = post(
        &b,
        "/plants/press/twin/events",
        Some(WRITE),
        &press(1, "RUNNING"),
    );
    assert_eq!(again.body["duplicates"], 1, "{}", again.text);
    // The bottling line (the default plant, at /twin too) saw none of it.
    for s in [&a, &b] {
        for path in ["/twin/state", "/plants/bottling/twin/state"] {
            let state = get(s, path, Some(READ)).body;
            assert_eq!(state["counters"]["accepted"], 0, "{path}: {state}");
        }
    }
    let events = wait_for_default(&a, &b);
    assert_eq!(
        cluster.sql("site", "SELECT count(*) FROM plant_press.events"),
        "1"
    );
    assert_eq!(
        cluster.sql("site", "SELECT count(*) FROM public.events"),
        events.to_string()
    );
    // One judge per plant among the two servers (each plant's lock is its own).
    std::thread::sleep(Duration::from_millis(200));
    for plant in ["bottling", "press"] {
        let judges: usize = [&a, &b]
            .iter()
            .map(|s| {
                let text = get(s, "/metrics", Some(READ)).text;
                let prefix = format!("takt_alerts_judge{{plant=\"{plant}\"}} ");
                match text.lines().find_map(|l| l.strip_prefix(&prefix)) {
                    Some("1") => 1,
                    Some("0") => 0,
                    other => panic!("{prefix}: {other:?}\n{text}"),
                }
            })
            .sum();
        assert_eq!(judges, 1, "judges of {plant}");
    }
    // The command-line tools reach a plant's events with --plant.
    let twin_state = |plant: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_takt"))
            .current_dir(common::root())
            .args(["twin", "state", "--db", url.as_str(), "--json"])
            .args(["--scenario", "scenarios/body-in-white.toml"])
            .args(plant)
            .output()
            .expect("takt twin state runs")
    };
    let out = twin_state(&["--plant", "press"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let state: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(state["counters"]["accepted"], 1, "{state}");
    // The default plant named by its id has no schema of its own: refused, none created.
    let out = twin_state(&["--plant", "bottling"]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("holds no such plant"), "{said}");
    assert_eq!(
        cluster.sql(
            "site",
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'plant_bottling'"
        ),
        "0"
    );
    // Without it, the default plant's: the 40 events of the bottling line.
    let out = twin_state(&[]);
    let state: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(state["counters"]["accepted"], events, "{state}");
    println!("the press's event reached the other server in {seen:?}");
}

/// Feeds the default plant through A, and waits until B mirrors it too: how many events.
fn wait_for_default(a: &Server, b: &Server) -> u64 {
    let batch = batches_of(&recording()[..40], 40).remove(0);
    let answer = post(a, "/twin/events", Some(WRITE), &batch);
    assert_eq!(answer.status, 200, "{}", answer.text);
    let n = answer.body["accepted"].as_u64().unwrap_or(0);
    assert_eq!(n, 40);
    wait_for_accepted(b, n);
    let press = get(b, "/plants/press/twin/state", Some(READ)).body;
    assert_eq!(press["counters"]["accepted"], 1, "{press}");
    n
}

#[test]
fn a_server_killed_mid_ingestion_loses_no_acknowledged_event() {
    let Some(cluster) = postgres::Cluster::start() else {
        return;
    };
    let url = cluster.database("site");
    let store = ["--store", url.as_str()];
    let mut a = Server::start(&data_dir("kill-a"), &store);
    let b = Server::start(&data_dir("kill-b"), &store);
    let events = recording();
    let batches = batches_of(&events, 20);
    let acknowledged = common::stream_and_kill(&mut a, &batches);
    // B has every acknowledged event: sent to it again, each is a duplicate.
    for batch in &batches[..acknowledged] {
        let again = post(&b, "/twin/events", Some(WRITE), batch);
        assert_eq!(
            again.body["accepted"], 0,
            "an acknowledged batch was lost: {}",
            again.text
        );
    }
    // The rest through B (one may have been stored unacknowledged): the plant is the
    // reference's, every event once.
    for batch in &batches[acknowledged..] {
        assert_eq!(post(&b, "/twin/events", Some(WRITE), batch).status, 200);
    }
    wait_for_accepted(&b, events.len() as u64);
    let state = get(&b, "/twin/state", Some(READ)).body;
    let reference = reference(&batches);
    assert_eq!(state["assets"], reference["assets"]);
    assert_eq!(state["now"], reference["now"]);
    // A server started again on the store rebuilds the same plant.
    let again = Server::start(&data_dir("kill-a2"), &store);
    let rebuilt = get(&again, "/twin/state", Some(READ)).body;
    assert_eq!(rebuilt["assets"], reference["assets"]);
    assert_eq!(
        rebuilt["counters"]["accepted"].as_u64(),
        Some(events.len() as u64)
    );
}

/// Events as the plant sends them: `(minutes after t0, asset, state, seq)`.
fn states(t0_ms: i64, events: &[(i64, &str, &str, u64)]) -> String {
    let list: Vec<Value> = events
        .iter()
        .map(|(minute, asset, state, seq)| {
            let ts = chrono::DateTime::from_timestamp_millis(t0_ms + minute * 60_000)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                .unwrap_or_default();
            serde_json::json!({"ts": ts, "asset": asset, "kind": "state", "seq": seq, "state": state})
        })
        .collect();
    Value::Array(list).to_string()
}

fn alerts(s: &Server) -> Vec<Value> {
    get(s, "/twin/alerts", Some(READ)).body["alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A webhook's receiver on loopback: every body POSTed to it, as JSON.
fn webhook() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("http://{}/alerts", listener.local_addr().expect("address"));
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = std::sync::Arc::clone(&bodies);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_ok()
                && let Ok(v) = serde_json::from_slice(&body)
            {
                kept.lock().expect("bodies").push(v);
            }
            let _ = (&stream)
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, bodies)
}

/// Of the servers on one store, one judges the alert rules: an alert is raised once, with one id
/// (its webhook hears of it once), and both show it; taken on through the other server, it stays taken on when the judge clears
/// it; when the judge is killed, the other judges on, numbering on.
#[test]
fn one_server_of_a_site_judges_the_alerts_and_another_takes_over() {
    let Some(cluster) = postgres::Cluster::start() else {
        return;
    };
    let url = cluster.database("site");
    let dir = data_dir("judge");
    std::fs::create_dir_all(&dir).expect("dir");
    let rules = dir.join("rules.toml");
    std::fs::write(&rules, "[[rule]]\nwhen = \"down\"\nlonger_than = \"10m\"\n").expect("rules");
    let rules = rules.display().to_string();
    let (hook, delivered) = webhook();
    let args = [
        "--store",
        url.as_str(),
        "--alerts",
        rules.as_str(),
        "--alert-webhook",
        hook.as_str(),
    ];
    let a = Server::start(&data_dir("judge-a"), &args);
    let b = Server::start(&data_dir("judge-b"), &args);
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
        - 40 * 60_000;
    let send = |s: &Server, events: &[(i64, &str, &str, u64)]| {
        let answer = post(s, "/twin/events", Some(WRITE), &states(t0, events));
        assert_eq!(
            answer.body["accepted"].as_u64(),
            Some(events.len() as u64),
            "{}",
            answer.text
        );
    };
    send(
        &a,
        &[
            (0, "Filler", "UNPLANNED_DOWN", 1),
            (0, "Labeller", "RUNNING", 1),
            (0, "CasePacker", "RUNNING", 1),
        ],
    );
    send(&a, &[(12, "Labeller", "RUNNING", 2)]);
    wait_for_accepted(&b, 4);
    let (on_a, on_b) = (alerts(&a), alerts(&b));
    assert_eq!(on_a.len(), 1, "{on_a:?}");
    assert_eq!(on_a, on_b);
    let id = on_a[0]["id"].as_u64().expect("an id");
    assert_eq!(on_a[0]["asset"], "Filler");
    // Which server judges is whichever took the lock first; exactly one does.
    let judges = |s: &Server| {
        let text = get(s, "/metrics", Some(READ)).text;
        match text
            .lines()
            .filter(|l| l.starts_with("takt_alerts_judge{"))
            .find_map(|l| l.rsplit_once(' ').map(|(_, v)| v))
        {
            Some("1") => true,
            Some("0") => false,
            other => panic!("takt_alerts_judge: {other:?}"),
        }
    };
    let mut servers = [a, b];
    let j = match (judges(&servers[0]), judges(&servers[1])) {
        (true, false) => 0,
        (false, true) => 1,
        both => panic!("judges: {both:?}"),
    };
    let (judge, other) = (&servers[j], &servers[1 - j]);
    // Both servers deliver to the webhook; only the judge raised it, so it is heard of once.
    std::thread::sleep(Duration::from_millis(500));
    let raised: Vec<Value> = delivered
        .lock()
        .expect("deliveries")
        .iter()
        .filter(|d| d["change"] == "raised")
        .cloned()
        .collect();
    assert_eq!(raised.len(), 1, "{raised:?}");
    // Taken on through the server that does not judge.
    let taken = post(
        other,
        &format!("/twin/alerts/{id}/acknowledge"),
        Some(WRITE),
        r#"{"by": "Ana (shift leader)", "note": "fitter on the way"}"#,
    );
    assert_eq!(taken.status, 200, "{}", taken.text);
    // The filler runs again (an event through the other server): the judge clears the alert,
    // and the acknowledgement stays.
    send(other, &[(13, "Filler", "RUNNING", 3)]);
    wait_for_accepted(judge, 5);
    let cleared = alerts(other);
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    assert!(cleared[0]["cleared_ms"].is_i64(), "{cleared:?}");
    assert_eq!(cleared[0]["acknowledged"]["by"], "Ana (shift leader)");
    // The judge stops; the other judges on.
    servers[j].kill();
    // PostgreSQL ends the killed server's sessions, and with them the judge's lock.
    let started = Instant::now();
    while cluster.sql(
        "site",
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'",
    ) != "0"
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the judge's lock outlives it"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let other = &servers[1 - j];
    send(
        other,
        &[
            (14, "Labeller", "UNPLANNED_DOWN", 3),
            (26, "CasePacker", "RUNNING", 2),
        ],
    );
    let after = alerts(other);
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(after[0]["asset"], "Labeller");
    assert_eq!(after[0]["id"].as_u64(), Some(id + 1));
    assert!(after[0]["cleared_ms"].is_null());
    assert!(judges(other));
}

/// Waits, at most 20 s, until `/ready` answers `status`.
fn wait_for_ready(s: &Server, status: u16) {
    let started = Instant::now();
    loop {
        let ready = get(s, "/ready", None);
        if ready.status == status {
            assert_eq!(ready.body["ready"], status == 200, "{}", ready.text);
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "/ready answered {} for 20 s, not {status}",
            ready.status
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// PostgreSQL restarts under two servers: while it is down, `/ready` says so (503) and no event is
/// acknowledged; when it is back, the servers connect again by themselves, are ready, take events
/// again, and the other server mirrors them.
#[test]
fn the_servers_ride_out_a_restart_of_postgres() {
    let Some(cluster) = postgres::Cluster::start() else {
        return;
    };
    let url = cluster.database("site");
    let store = ["--store", url.as_str()];
    let a = Server::start(&data_dir("restart-a"), &store);
    let b = Server::start(&data_dir("restart-b"), &store);
    let events = recording();
    let batches = batches_of(&events, 100);
    assert_eq!(
        post(&a, "/twin/events", Some(WRITE), &batches[0]).status,
        200
    );
    wait_for_ready(&a, 200);
    cluster.stop();
    wait_for_ready(&a, 503);
    wait_for_ready(&b, 503);
    let refused = post(&a, "/twin/events", Some(WRITE), &batches[1]);
    assert!(
        refused.status >= 500,
        "accepted without a store: {}",
        refused.text
    );
    assert_eq!(
        get(&a, "/health", None).status,
        200,
        "the server keeps serving"
    );
    cluster.start_again();
    wait_for_ready(&a, 200);
    wait_for_ready(&b, 200);
    // What was refused is sent again, with the rest.
    for batch in &batches[1..] {
        let answer = post(&a, "/twin/events", Some(WRITE), batch);
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    wait_for_accepted(&a, events.len() as u64);
    wait_for_accepted(&b, events.len() as u64);
}

/// A store's password never comes from a command line, and is never shown: a URL holding one is
/// refused on the command line (it stays usable from TAKT_STORE), and the help hides TAKT_STORE.
#[test]
fn a_store_password_never_comes_from_the_command_line() {
    let takt = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_takt"));
        c.current_dir(common::root()).env_remove("TAKT_STORE");
        c
    };
    let refused = takt()
        .args([
            "serve",
            "--scenario",
            "scenarios/bottling-line.toml",
            "--insecure-no-auth",
            "--store",
        ])
        .arg("postgres://takt:s3cret@127.0.0.1:1/site")
        .output()
        .expect("takt runs");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(said.contains("TAKT_STORE_PASSWORD"), "{said}");
    assert!(!said.contains("s3cret"), "{said}");
    for command in [
        &[
            "replay",
            "--scenario",
            "scenarios/bottling-line.toml",
            "--db",
        ][..],
        &[
            "twin",
            "state",
            "--scenario",
            "scenarios/bottling-line.toml",
            "--db",
        ],
    ] {
        let refused = takt()
            .args(command)
            .arg("postgres://takt:s3cret@127.0.0.1:1/site")
            .args(if command[0] == "replay" {
                &["replay/bottling-line-5min.jsonl"][..]
            } else {
                &[]
            })
            .output()
            .expect("takt runs");
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "{command:?}");
        assert!(
            said.contains("TAKT_STORE_PASSWORD") && !said.contains("s3cret"),
            "{said}"
        );
    }
    let help = takt()
        .env("TAKT_STORE", "postgres://takt:s3cret@db/site")
        .args(["serve", "--help"])
        .output()
        .expect("takt runs");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("TAKT_STORE") && !help.contains("s3cret"),
        "{help}"
    );
}
