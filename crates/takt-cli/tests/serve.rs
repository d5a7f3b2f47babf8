//! `takt serve` as a process over real HTTP on a loopback port: the limits (body size, rate, a full
//! job queue), a schedule and a maintenance plan cancelled while they run, SIGTERM within the grace
//! period (the twin's mirror saved as it stops), the kill test (SIGKILL in the middle of a stream
//! of ingestion requests, a restart, and every acknowledged event there, the same twin state as a server that was never killed, no
//! duplicate), and the API document through an independent validator. Every route's behaviour is
//! tested on the router, in `crates/takt-api/tests/routes/`.

use serde_json::{Value, json};
use std::io::Read;

use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{
    READ, Server, WRITE, agent, assert_problem, data_dir, delete, get, post, recording, root,
};

/// Waits, at most `within`, for job `id` to have `status`, and returns the job.
fn wait_for_status(s: &Server, id: &str, status: &str, within: Duration) -> Value {
    let started = Instant::now();
    loop {
        let job = get(s, &format!("/jobs/{id}"), Some(READ)).body;
        if job["status"] == status {
            return job;
        }
        assert!(
            started.elapsed() < within,
            "job {id} not {status} after {within:?}: {job}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Posts a job to `route`, cancels it once it runs, and returns it once it is cancelled, which
/// must take well under its own length.
fn cancel_while_running(s: &Server, route: &str, body: &str) -> Value {
    let a = post(s, route, Some(WRITE), body);
    assert_eq!(a.status, 202, "{}", a.text);
    let id = a.body["id"].as_str().unwrap_or("").to_string();
    wait_for_status(s, &id, "running", Duration::from_secs(20));
    assert_eq!(delete(s, &format!("/jobs/{id}")).status, 200);
    wait_for_status(s, &id, "cancelled", Duration::from_secs(15))
}

#[test]
fn limits_answer_413_429_and_503_and_the_server_keeps_serving() {
    let dir = data_dir("limits");
    let s = Server::start(
        &dir,
        &[
            "--body-limit-mib",
            "1",
            "--ingest-rate",
            "2",
            "--workers",
            "1",
            "--queue",
            "1",
            "--max-variants",
            "3",
            "--max-replications",
            "300",
        ],
    );
    // A 2 MiB body announced by its Content-Length is refused before it is read: 413 (over raw
    // TCP, since a client that writes the whole body first sees the connection closed).
    {
        use std::io::Write;
        let addr = s.base.trim_start_matches("http://");
        let mut tcp = std::net::TcpStream::connect(addr).expect("connect");
        write!(
            tcp,
            "POST /twin/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {WRITE}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n[",
            2 << 20
        )
        .expect("write");
        let mut head = [0u8; 12];
        tcp.read_exact(&mut head).expect("answer");
        assert_eq!(&head, b"HTTP/1.1 413", "{}", String::from_utf8_lossy(&head));
    }
    // A burst of 4 ingestion requests per second is allowed; the next ones wait.
    let mut limited = None;
    for _ in 0..10 {
        let a = post(&s, "/twin/events", Some(WRITE), "[]");
        if a.status == 429 {
            limited = Some(a);
            break;
        }
    }
    let limited = limited.expect("rate limited");
    assert_problem(&limited, 429, "rate-limited");
    assert!(limited.headers.get("retry-after").is_some());
    // One worker, a queue of one: a third long job is refused with Retry-After.
    let toml = std::fs::read_to_string(root().join("scenarios/reference-line.toml")).expect("toml");
    let long = json!({"scenario": toml, "replications": 200}).to_string();
    let mut ids = Vec::new();
    let mut busy = None;
    for _ in 0..4 {
        let a = post(&s, "/simulations", Some(WRITE), &long);
        match a.status {
            202 => ids.push(a.body["id"].as_str().unwrap_or("").to_string()),
            _ => {
                busy = Some(a);
                break;
            }
        }
    }
    let busy = busy.expect("a full queue");
    assert_problem(&busy, 503, "busy");
    assert!(busy.headers.get("retry-after").is_some());
    // The server's own limits on one simulation: 4 sweep points are more than 3 variants, 400
    // replications more than 300 (each refused before anything runs).
    let wide = json!({"scenario": toml, "sweeps": ["buffers.B1.capacity=1..4:1"]}).to_string();
    let refused = post(&s, "/simulations", Some(WRITE), &wide);
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("at most 3"), "{}", refused.text);
    let many = json!({"scenario": toml, "replications": 400}).to_string();
    let refused = post(&s, "/simulations", Some(WRITE), &many);
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("300"), "{}", refused.text);
    // Cancel what was accepted: a queued job is cancelled at once and never runs; a running
    // simulation stops within a step of its replications (not after its 200 replications, a
    // minute and more of work), which frees its worker.
    assert!(!ids.is_empty());
    for id in &ids {
        let a = delete(&s, &format!("/jobs/{id}"));
        assert_eq!(a.status, 200, "{}", a.text);
        let status = a.body["status"].as_str().unwrap_or("").to_string();
        assert!(status == "cancelled" || status == "running", "{}", a.text);
        if status == "cancelled" {
            std::thread::sleep(Duration::from_millis(300));
            assert_eq!(
                get(&s, &format!("/jobs/{id}"), Some(READ)).body["status"],
                "cancelled"
            );
        }
    }
    for id in &ids {
        wait_for_status(&s, id, "cancelled", Duration::from_secs(15));
    }
    // A running schedule stops searching when cancelled, not at its 60 s time limit.
    let bottling =
        std::fs::read_to_string(root().join("scenarios/bottling-line.toml")).expect("toml");
    let plan = json!({"scenario": bottling, "time_limit": "60s"}).to_string();
    cancel_while_running(&s, "/schedules", &plan);
    // A running maintenance plan starts no further simulation run once cancelled: its progress
    // stops short of the 5 + 3 x 100 runs it announced (computed to its end, they all count).
    let plan = json!({"scenario": bottling, "horizon": "14d", "solver": "greedy", "compare": 100})
        .to_string();
    let job = cancel_while_running(&s, "/maintenance-plans", &plan);
    assert_eq!(job["progress"]["total"], 305, "{job}");
    assert!(
        job["progress"]["done"].as_u64().is_some_and(|d| d < 305),
        "{job}"
    );
    assert_eq!(get(&s, "/health", None).status, 200);
}

/// A connection to `s` from the loopback address `from`, that has sent `request`.
fn connect_from(s: &Server, from: [u8; 4], request: &str) -> std::net::TcpStream {
    use socket2::{Domain, Socket, Type};
    let to: std::net::SocketAddr = s
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("address");
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket
        .bind(&std::net::SocketAddr::from((from, 0)).into())
        .expect("bind");
    socket.connect(&to.into()).expect("connect");
    let mut stream = std::net::TcpStream::from(socket);
    std::io::Write::write_all(&mut stream, request.as_bytes()).expect("write");
    stream
}

/// Whether the server has closed `stream` (read to its end) within `within`.
fn closed_within(stream: &mut std::net::TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).expect("timeout");
    let mut rest = Vec::new();
    match stream.read_to_end(&mut rest) {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

#[test]
fn slow_and_greedy_connections_are_closed_and_the_server_keeps_serving() {
    let dir = data_dir("connections");
    let s = Server::start(
        &dir,
        &[
            "--max-connections",
            "8",
            "--connections-per-client",
            "4",
            "--header-timeout",
            "2s",
        ],
    );
    let half = "GET /health HTTP/1.1\r\nHost: takt\r\n";
    // One address sends half a request on four connections: a fifth is closed as it comes, and
    // everyone else is served meanwhile.
    let mut slow: Vec<_> = (0..4)
        .map(|_| connect_from(&s, [127, 0, 0, 2], half))
        .collect();
    let mut fifth = connect_from(&s, [127, 0, 0, 2], half);
    let opened = Instant::now();
    assert!(closed_within(&mut fifth, Duration::from_secs(5)));
    // Closed as it came, not by the header timeout: the four are still open.
    for c in &mut slow {
        assert!(!closed_within(c, Duration::from_millis(1)));
    }
    assert_eq!(get(&s, "/health", None).status, 200);
    // The four never finish their headers: each is closed after the header timeout.
    for c in &mut slow {
        assert!(closed_within(c, Duration::from_secs(10)));
    }
    assert!(
        opened.elapsed() > Duration::from_millis(1500),
        "the slow connections were closed before their time: {:?}",
        opened.elapsed()
    );
    // A connection idle after its answer is closed after the header timeout as well.
    let mut idle = connect_from(
        &s,
        [127, 0, 0, 2],
        "GET /health HTTP/1.1\r\nHost: takt\r\n\r\n",
    );
    assert!(closed_within(&mut idle, Duration::from_secs(10)));

    // Two addresses fill every place: a new client waits until the header timeout frees one,
    // then is served.
    let mut crowd: Vec<_> = (0..8)
        .map(|i| connect_from(&s, [127, 0, 0, 3 + (i % 2)], half))
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(get(&s, "/health", None).status, 200);
    // Served only once places were freed: some of the crowd's connections are closed by now.
    let freed = crowd
        .iter_mut()
        .map(|c| closed_within(c, Duration::from_millis(1)))
        .filter(|closed| *closed)
        .count();
    assert!(freed > 0, "served while all eight places were held");
}

/// A client that asks for large answers and then reads none of them is closed once its answer
/// has waited the write timeout, and everyone else is served meanwhile; before, it held its
/// connection for as long as it liked.
#[test]
fn a_client_that_stops_reading_its_answers_is_closed_after_the_write_timeout() {
    let dir = data_dir("slow-reader");
    let s = Server::start(&dir, &["--write-timeout", "2s"]);
    let size = get(&s, "/openapi.json", None).text.len();
    // A hundred answers of about 190 KB each, more than the sockets' buffers hold.
    let asked = 100;
    let requests = "GET /openapi.json HTTP/1.1\r\nHost: takt\r\n\r\n".repeat(asked);
    let mut reader = connect_from(&s, [127, 0, 0, 5], &requests);
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(get(&s, "/health", None).status, 200);
    // What the kernel held is still read, then the connection ends, long before the rest.
    reader
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut got = Vec::new();
    let ended = match reader.read_to_end(&mut got) {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    };
    assert!(ended, "the connection is still open");
    assert!(
        got.len() < asked * size / 2,
        "{} of {} bytes came: the answers were not cut off",
        got.len(),
        asked * size
    );
}

#[test]
fn sigterm_ends_the_server_within_its_grace_period_whatever_is_open() {
    let dir = data_dir("sigterm");
    let mut s = Server::start(&dir, &["--shutdown-grace", "1s", "--workers", "1"]);
    for batch in recording().chunks(500) {
        let body = Value::Array(batch.to_vec()).to_string();
        assert_eq!(post(&s, "/twin/events", Some(WRITE), &body).status, 200);
    }
    let twin_before = get(&s, "/twin/state", Some(READ)).body;
    let bottling =
        std::fs::read_to_string(root().join("scenarios/bottling-line.toml")).expect("toml");
    // A job of an hour's work, and a stream that never ends by itself.
    let sim = post(
        &s,
        "/simulations",
        Some(WRITE),
        &json!({"scenario": bottling, "replications": 1000, "horizon": "30d"}).to_string(),
    );
    assert_eq!(sim.status, 202, "{}", sim.text);
    let id = sim.body["id"].as_str().unwrap_or("").to_string();
    wait_for_status(&s, &id, "running", Duration::from_secs(20));
    let stream_base = s.base.clone();
    std::thread::spawn(move || {
        let r = agent()
            .get(format!("{stream_base}/twin/stream"))
            .header("Authorization", format!("Bearer {READ}"))
            .call();
        if let Ok(mut r) = r {
            let _ = std::io::copy(&mut r.body_mut().as_reader(), &mut std::io::sink());
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let t = std::time::Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = loop {
        if let Some(status) = s.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "still running {:?} after SIGTERM",
            t.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    // Grace for the requests, then for the job: about two seconds, never the job's hour.
    assert!(t.elapsed() < Duration::from_secs(6), "{:?}", t.elapsed());
    // The twin's mirror was saved as it stopped, through its last event; the next start reads
    // it (and nothing after it) into the same state.
    let store =
        takt_twin::store::Store::open(&dir.join("twin.sqlite"), takt_twin::store::Durability::Full)
            .expect("store");
    let saved = store.saved_mirror().expect("read").expect("saved");
    let mut last_id = i64::MIN;
    store
        .for_each_text(|id, _| last_id = last_id.max(id))
        .expect("read");
    assert!(
        saved.read_through >= last_id,
        "{} < {last_id}",
        saved.read_through
    );
    let again = Server::start(&dir, &[]);
    let job = get(&again, &format!("/jobs/{id}"), Some(READ));
    assert_eq!(job.body["status"], "interrupted", "{}", job.text);
    let twin_after = get(&again, "/twin/state", Some(READ)).body;
    assert_eq!(twin_after["assets"], twin_before["assets"]);
    assert_eq!(twin_after["counters"], twin_before["counters"]);
}

#[test]
fn a_killed_server_keeps_every_acknowledged_event_and_rebuilds_the_same_state() {
    let events = recording();
    let batches: Vec<String> = events
        .chunks(20)
        .map(|c| Value::Array(c.to_vec()).to_string())
        .collect();
    // A server that is never killed, fed every batch: the reference state.
    let reference = {
        let s = Server::start(&data_dir("reference"), &[]);
        for b in &batches {
            assert_eq!(post(&s, "/twin/events", Some(WRITE), b).status, 200);
        }
        get(&s, "/twin/state", Some(READ)).body
    };
    // Stream batches from another thread and SIGKILL the server in the middle.
    let dir = data_dir("kill");
    let mut s = Server::start(&dir, &[]);
    let acknowledged = common::stream_and_kill(&mut s, &batches);
    let s = Server::start(&dir, &[]);
    // Every acknowledged event is there: sent again, each is a duplicate.
    let acked_events: u64 = events
        .chunks(20)
        .take(acknowledged)
        .map(|c| c.len() as u64)
        .sum();
    let state = get(&s, "/twin/state", Some(READ)).body;
    let stored = state["counters"]["accepted"].as_u64().unwrap_or(0);
    assert!(
        stored >= acked_events,
        "{stored} stored < {acked_events} acknowledged"
    );
    for b in &batches[..acknowledged] {
        let a = post(&s, "/twin/events", Some(WRITE), b);
        assert_eq!(
            a.body["accepted"], 0,
            "an acknowledged batch was lost: {}",
            a.text
        );
    }
    // The rest sent again (one may have been stored unacknowledged): then the state is the
    // reference's, with every event once.
    for b in &batches[acknowledged..] {
        assert_eq!(post(&s, "/twin/events", Some(WRITE), b).status, 200);
    }
    let state = get(&s, "/twin/state", Some(READ)).body;
    assert_eq!(
        state["counters"]["accepted"].as_u64(),
        Some(events.len() as u64)
    );
    assert_eq!(state["assets"], reference["assets"]);
    assert_eq!(state["now"], reference["now"]);
}

#[test]
fn the_api_document_validates_with_an_openapi_validator() {
    // openapi-spec-validator from PyPI, installed by scripts/setup.sh (which the test command runs).
    let validator = root().join("target/tools-venv/bin/openapi-spec-validator");
    if !validator.exists() {
        assert!(
            std::env::var("CI").is_err(),
            "{} is missing: scripts/setup.sh installs it",
            validator.display()
        );
        eprintln!("skipped: no {} (run scripts/setup.sh)", validator.display());
        return;
    }
    let s = Server::start(&data_dir("openapi"), &[]);
    let doc = get(&s, "/openapi.json", None);
    assert_eq!(doc.status, 200);
    let file = std::env::temp_dir().join(format!("takt-openapi-{}.json", std::process::id()));
    std::fs::write(&file, &doc.text).expect("write");
    let out = Command::new(&validator)
        .arg(&file)
        .output()
        .expect("validator runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
