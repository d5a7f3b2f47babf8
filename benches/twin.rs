//! The live twin's ingestion rates, side by side in one run, on a simulated recording of the bottling
//! line (JSON Lines in the takt event schema, as `takt run --trace` writes them):
//! - parse and check only, on one core;
//! - parse, check and mirror (no storage), on one core;
//! - the replay path of `takt replay --speed max` without `--db` (`Twin::ingest_pipelined`): the
//!   whole ingestion path in batches of 1,000, the next batch parsed on the cores while the last is
//!   deduplicated in memory and mirrored (no durability);
//! - the same into a SQLite file in WAL mode (`--db`), one transaction per batch, with
//!   `synchronous = NORMAL` (survives a crash) and `FULL` (survives a power cut).
//!
//! - over MQTT from a real mosquitto on loopback (QoS 1, acknowledged after each durable batch):
//!   a backlog waiting in the broker, and live from a publisher in this process (rumqttc, and a
//!   lean one that stands for gateways on other machines), with the CPU each side used.
//!
//! Run: `cargo bench -p takt-benches --bench twin` (or `benches/run.sh twin`). `TAKT_HOURS` sets the
//! length of the recording (default 8 simulated hours).

use std::sync::Arc;

/// The allocator of the `takt` binary, so that the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::Instant;
use takt_model::load_file;
use takt_sim::Simulation;
use takt_twin::mirror::{Mirror, MirrorConfig};
use takt_twin::store::{Durability, Store};
use takt_twin::{Twin, TwinError, assets_of, event};

fn rate(n: usize, seconds: f64) -> String {
    format!("{:>12.0} events/s ({seconds:.3} s)", n as f64 / seconds)
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let loaded = match load_file(&root.join("scenarios/bottling-line.toml")) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    let hours: f64 = std::env::var("TAKT_HOURS")
        .ok()
        .and_then(|h| h.parse().ok())
        .unwrap_or(8.0);
    let model = Arc::new(loaded.model);
    let sink = takt_benches::Lines::new(model.timebase);
    let mut sim = Simulation::new(Arc::clone(&model), 1);
    sim.set_trace(Box::new(sink.clone()));
    sim.run_until(hours * 3600.0);
    let lines = sink.lines();
    let n = lines.len();
    println!("recording: {hours} h of the bottling line, {n} events");
    let names: Vec<String> = assets_of(&model).into_iter().map(|(a, _)| a).collect();

    // Warm the allocator and caches once before timing.
    let _ = lines.iter().filter(|l| event::parse(l).is_ok()).count();
    // Parsed and dropped, as ingestion does once an event is mirrored (collecting 220,000 parsed
    // events would time the allocator's growth instead).
    let t = Instant::now();
    let ok = lines.iter().filter(|l| event::parse(l).is_ok()).count();
    println!(
        "parse and check, 1 core   {}",
        rate(n, t.elapsed().as_secs_f64())
    );
    assert_eq!(ok, n);
    let parsed: Vec<_> = lines.iter().filter_map(|l| event::parse(l).ok()).collect();

    let t = Instant::now();
    let mut mirror = Mirror::new(&names, model.shift_clock(), MirrorConfig::default());
    for l in &lines {
        if let Ok(c) = event::parse(l) {
            mirror.offer(c);
        }
    }
    println!(
        "parse, check, mirror, 1 core {}",
        rate(n, t.elapsed().as_secs_f64())
    );

    let t = Instant::now();
    let mut mirror = Mirror::new(&names, model.shift_clock(), MirrorConfig::default());
    for c in parsed {
        mirror.offer(c);
    }
    println!(
        "mirror only (parsed)      {}",
        rate(n, t.elapsed().as_secs_f64())
    );

    let ingest = |store: Store| -> f64 {
        let mut twin = match Twin::open(&model, store, MirrorConfig::default()) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        let t = Instant::now();
        // As `takt replay --speed max`: batches of 1,000, the next read while the last is stored.
        // The batches are copied from the recording on the reading side, as the CLI reads them
        // from the file there.
        let done =
            |_: &mut Twin, _: usize, _: usize, _: &takt_twin::IngestReport| Ok::<_, TwinError>(());
        let batches = lines.chunks(1000).map(<[String]>::to_vec);
        if let Err(e) = twin.ingest_pipelined("bench", batches, || 0, done) {
            panic!("{e}");
        }
        let s = t.elapsed().as_secs_f64();
        assert_eq!(twin.counters().accepted as usize, n);
        s
    };
    let s = ingest(Store::memory().unwrap_or_else(|e| panic!("{e}")));
    println!(
        "replay into the mirror (takt replay, no --db) {}",
        rate(n, s)
    );
    let dir = std::env::temp_dir().join(format!("takt-twin-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    for (label, durability) in [
        ("ingest, WAL NORMAL       ", Durability::Normal),
        ("ingest, WAL FULL         ", Durability::Full),
    ] {
        let path = dir.join(format!("{label}.db").replace(' ', "").replace(',', "-"));
        let _ = std::fs::remove_file(&path);
        let store = Store::open(&path, durability).unwrap_or_else(|e| panic!("{e}"));
        println!("{label} {}", rate(n, ingest(store)));
    }
    let _ = std::fs::remove_dir_all(&dir);
    mqtt_rate(&model, &lines);
    whole_process_replay(&root);
}

/// `takt replay` as a user runs it, a whole process (start-up, reading the file, parsing,
/// deduplicating, storing with `--durability full`, mirroring, printing the plant), on five days of
/// the bottling line: each day the shift's order book in the early shift and 30 % of it in the late
/// one (about 1.4 million events). Target (issue 24): 1 million events/s. Needs the release binary
/// (`benches/run.sh twin` builds it).
fn whole_process_replay(root: &std::path::Path) {
    let takt = root.join("target/release/takt");
    if !takt.exists() {
        println!(
            "takt replay, whole process: skipped (build target/release/takt: benches/run.sh twin)"
        );
        return;
    }
    let Ok(base) = std::fs::read_to_string(root.join("scenarios/bottling-line.toml")) else {
        return;
    };
    // The base book without its orders, then five days of books.
    let mut text = base
        .split("[[demand.orders]]")
        .next()
        .unwrap_or_default()
        .replace("horizon = \"8h\"", "horizon = \"5d\"");
    let book = [
        ("cola-033", 11_000, 3.0),
        ("cola-050", 9_000, 5.5),
        ("water-100", 4_500, 8.0),
    ];
    for day in 0..5 {
        for (shift, share) in [(0.0, 1.0), (8.0, 0.3)] {
            for (i, (product, quantity, due_h)) in book.iter().enumerate() {
                let release_h = day as f64 * 24.0 + shift;
                let _ = std::fmt::Write::write_fmt(
                    &mut text,
                    format_args!(
                        "\n[[demand.orders]]\nid = \"D{day}S{shift}-{i}\"\nproduct = \"{product}\"\nquantity = {}\nrelease = \"{release_h}h\"\ndue = \"{}h\"\n",
                        (*quantity as f64 * share) as u64,
                        release_h + due_h
                    ),
                );
            }
        }
    }
    let dir = std::env::temp_dir().join(format!("takt-replay-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let (scenario, recording, db) = (
        dir.join("five-days.toml"),
        dir.join("five-days.jsonl"),
        dir.join("twin.sqlite"),
    );
    if std::fs::write(&scenario, &text).is_err() {
        return;
    }
    let run = std::process::Command::new(&takt)
        .args(["run", "--horizon", "5d", "--trace"])
        .arg(&recording)
        .arg(&scenario)
        .output();
    if !run.as_ref().is_ok_and(|o| o.status.success()) {
        println!("takt replay, whole process: the five-day run failed: {run:?}");
        return;
    }
    let events = std::fs::read_to_string(&recording).map_or(0, |t| t.lines().count());
    for durable in [true, false] {
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            // A fresh store for each durable run; the last stays for `start_from_saved_mirror`.
            for ext in ["", "-wal", "-shm"].iter().filter(|_| durable) {
                let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
            }
            let mut replay = std::process::Command::new(&takt);
            replay.args(["replay", "--scenario"]).arg(&scenario);
            if durable {
                replay.args(["--durability", "full", "--db"]).arg(&db);
            }
            let t = Instant::now();
            let out = replay.arg(&recording).output();
            if !out.as_ref().is_ok_and(|o| o.status.success()) {
                println!("takt replay, whole process: failed: {out:?}");
                return;
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "takt replay, whole process, five days ({events} events), {}, best of 3: {}{}",
            if durable {
                "--db (SQLite, --durability full)"
            } else {
                "no --db (in memory)"
            },
            rate(events, best),
            if durable { " (target 1,000,000)" } else { "" }
        );
    }
    start_from_saved_mirror(&scenario, &db, events);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A twin opened over the five days' store (`db`, as the last durable replay left it, with the
/// mirror it saved at its end), best of 3: from every stored event, and from the saved mirror.
/// Every event is read when the saved mirror's fingerprint differs; a reorder window of 2.001 s
/// instead of 2 s makes it differ at the same cost as a twin that never saved one.
fn start_from_saved_mirror(scenario: &std::path::Path, db: &std::path::Path, events: usize) {
    let Ok(loaded) = load_file(scenario) else {
        return;
    };
    let open = |reorder_window_ms: i64| {
        let config = MirrorConfig {
            reorder_window_ms,
            ..MirrorConfig::default()
        };
        let t = Instant::now();
        let twin = Store::open(db, Durability::Full)
            .map_err(TwinError::from)
            .and_then(|store| Twin::open(&loaded.model, store, config));
        let seconds = t.elapsed().as_secs_f64();
        twin.map(|t| (seconds, t.resumed_through().is_some()))
    };
    let mut best = [f64::INFINITY; 2];
    for _ in 0..3 {
        for (k, window) in [2_001, 2_000].into_iter().enumerate() {
            match open(window) {
                Ok((seconds, resumed)) if resumed == (k == 1) => best[k] = best[k].min(seconds),
                other => {
                    println!("twin start: unexpected {other:?}");
                    return;
                }
            }
        }
    }
    println!(
        "twin start over the five days' store ({events} events): from every event {:.3} s, from the saved mirror {:.3} s ({:.0}x)",
        best[0],
        best[1],
        best[0] / best[1]
    );
}

/// MQTT ingestion against a real mosquitto on loopback (when installed: `scripts/setup.sh`), `n`
/// messages of QoS 1, stored durably (WAL, FULL) in batches of 5,000 and acknowledged after each
/// commit; the broker's in-flight window is four batches, so it sends the next batch while the twin
/// stores the last (as README advises). Two rates:
/// - **backlog**: the messages wait in the broker for the twin's persistent session, then the twin
///   connects and takes them all; rate = messages / time from connecting until the last is stored.
///   This is the twin's own sustained rate: no publisher shares the two cores.
/// - **live**: the twin listens while a publisher in this process sends the messages as fast as
///   the broker acknowledges them; rate = messages / time from the first publish until the last
///   is stored. Publisher, broker and twin share the two cores, and the row says how much CPU
///   each side used: the rumqttc publisher takes more than the twin (~13 against ~7 µs a
///   message), mosquitto ~15 µs (it takes, acknowledges and sends on every message).
/// - **live, lean publisher**: the same, from pre-encoded packets written on a plain socket (the
///   `lean` module), as the plant's gateways, which run on machines of their own, cost the twin's
///   host nothing.
///
/// Each row also says in how many batches (transactions) the events were stored: live, the twin
/// stores what arrived while it stored the last batch (group commit), so its batches are smaller.
fn mqtt_rate(model: &Arc<takt_model::Model>, lines: &[String]) {
    let Some(bin) = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists())
    else {
        println!("mqtt: skipped (mosquitto not installed; scripts/setup.sh installs it)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("takt-mqtt-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18830);
    let conf = dir.join("mosquitto.conf");
    let _ = std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 20000\nmax_queued_messages 10000000\nuser root\n"
        ),
    );
    let mut broker = match std::process::Command::new(&bin)
        .arg("-c")
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            println!("mqtt: skipped ({e})");
            return;
        }
    };
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let n = lines.len().min(200_000);
    let payloads: Vec<(String, String)> = lines[..n]
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap_or_default();
            (
                format!(
                    "takt/bench/line/{}/{}",
                    v["asset"].as_str().unwrap_or_default(),
                    v["kind"].as_str().unwrap_or_default()
                ),
                l.clone(),
            )
        })
        .collect();

    // Backlog: subscribe once (the session persists), leave, publish everything, come back.
    let db = dir.join("backlog.db");
    let ready = Listener::start(model, &db, port, "takt-bench-backlog", 0);
    let _ = ready.finish();
    let acked = publish(port, "takt-bench-pub-1", payloads.clone());
    if acked < n {
        println!("mqtt: the broker acknowledged {acked} of {n} publications");
    }
    let broker_pid = broker.id().to_string();
    let cpu = CpuMark::now(&broker_pid);
    let t0 = Instant::now();
    let drain = Listener::start(model, &db, port, "takt-bench-backlog", n);
    report("mqtt backlog (mosquitto, QoS 1, WAL FULL)", n, t0, drain);
    cpu.print("twin");

    // Live: the twin listens while the publisher sends.
    let live = Listener::start(model, &dir.join("live.db"), port, "takt-bench-live", n);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let cpu = CpuMark::now(&broker_pid);
    let t0 = Instant::now();
    let lean_payloads = payloads.clone();
    let acked = publish(port, "takt-bench-pub-2", payloads);
    if acked < n {
        println!("mqtt: the broker acknowledged {acked} of {n} publications");
    }
    report("mqtt live (mosquitto, QoS 1, WAL FULL)   ", n, t0, live);
    // Where the two cores went meanwhile: is it CPU that bounds the live rate?
    cpu.print("twin and publisher");

    // Live again, the same messages from a publisher that costs next to no CPU: pre-encoded
    // packets written on a plain socket. The plant's gateways run on machines of their own; the
    // rumqttc publisher above takes more of these two cores than the twin does.
    let live = Listener::start(
        model,
        &dir.join("live-lean.db"),
        port,
        "takt-bench-live-lean",
        n,
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    let cpu = CpuMark::now(&broker_pid);
    let t0 = Instant::now();
    match lean::publish(port, "takt-bench-pub-3", &lean_payloads) {
        Ok(acked) if acked < n => {
            println!("mqtt: the broker acknowledged {acked} of {n} publications")
        }
        Ok(_) => {}
        Err(e) => println!("mqtt: the lean publisher failed: {e}"),
    }
    report("mqtt live, lean publisher (QoS 1, WAL FULL)", n, t0, live);
    cpu.print("twin and publisher");

    let _ = broker.kill();
    let _ = broker.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The CPU seconds this process and the broker had used at a moment, to tell how the two cores
/// were shared over a row.
struct CpuMark<'a> {
    broker_pid: &'a str,
    this_s: f64,
    broker_s: f64,
    at: Instant,
}

impl<'a> CpuMark<'a> {
    fn now(broker_pid: &'a str) -> Self {
        CpuMark {
            broker_pid,
            this_s: takt_benches::cpu_seconds(),
            broker_s: takt_benches::cpu_seconds_of(broker_pid),
            at: Instant::now(),
        }
    }

    /// Prints what each side used since the mark; `this` names what runs in this process.
    fn print(&self, this: &str) {
        println!(
            "  CPU over {:.2} s: {this} {:.2} s, mosquitto {:.2} s",
            self.at.elapsed().as_secs_f64(),
            takt_benches::cpu_seconds() - self.this_s,
            takt_benches::cpu_seconds_of(self.broker_pid) - self.broker_s
        );
    }
}

/// A twin listening on its own thread until it has stored `n` events (0: until finished).
struct Listener {
    stop: Arc<std::sync::atomic::AtomicBool>,
    stored: Arc<std::sync::atomic::AtomicU64>,
    n: usize,
    thread: std::thread::JoinHandle<(takt_twin::ListenStats, Option<Instant>, u64)>,
}

impl Listener {
    fn start(
        model: &Arc<takt_model::Model>,
        db: &std::path::Path,
        port: u16,
        client_id: &str,
        n: usize,
    ) -> Listener {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        let store = Store::open(db, Durability::Full).unwrap_or_else(|e| panic!("{e}"));
        let mut twin =
            Twin::open(model, store, MirrorConfig::default()).unwrap_or_else(|e| panic!("{e}"));
        let config = takt_twin::mqtt::MqttConfig {
            host: "127.0.0.1".into(),
            port,
            site: "bench".into(),
            line: None,
            client_id: client_id.into(),
            batch: 5000,
            batch_wait: std::time::Duration::from_millis(50),
            credentials: None,
            tls: None,
            quiet_tick: takt_twin::mqtt::QUIET_TICK,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let stored = Arc::new(AtomicU64::new(0));
        let thread = {
            let (stop, stored) = (Arc::clone(&stop), Arc::clone(&stored));
            std::thread::spawn(move || {
                let mut done = 0u64;
                let mut batches = 0u64;
                let mut finished = None;
                let stats = takt_twin::mqtt::listen(&mut twin, &config, &stop, |_, r| {
                    done += r.accepted;
                    batches += 1;
                    stored.store(done, Ordering::Relaxed);
                    if n > 0 && done as usize >= n && finished.is_none() {
                        finished = Some(Instant::now());
                        stop.store(true, Ordering::Relaxed);
                    }
                })
                .unwrap_or_else(|e| panic!("{e}"));
                (stats, finished, batches)
            })
        };
        if n == 0 {
            // Long enough to connect and subscribe.
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        Listener {
            stop,
            stored,
            n,
            thread,
        }
    }

    /// Waits up to 60 s for the `n` events, then stops the twin.
    /// Also returns how many batches (transactions) the events came in.
    fn finish(self) -> (takt_twin::ListenStats, Option<Instant>, u64) {
        use std::sync::atomic::Ordering;
        let deadline = Instant::now() + std::time::Duration::from_secs(60);
        while (self.stored.load(Ordering::Relaxed) as usize) < self.n && Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

fn report(label: &str, n: usize, t0: Instant, listener: Listener) {
    match listener.finish() {
        (stats, Some(f), batches) if stats.accepted as usize == n => {
            println!(
                "{label} {} in {batches} batches",
                rate(n, (f - t0).as_secs_f64())
            );
        }
        (stats, _, _) => println!(
            "{label}: only {} of {n} messages stored within 60 s ({stats:?})",
            stats.accepted
        ),
    }
}

/// Publishes every `(topic, payload)` with QoS 1 and returns how many the broker acknowledged
/// (waiting at most 10 s after the last acknowledgement).
fn publish(port: u16, client_id: &str, payloads: Vec<(String, String)>) -> usize {
    use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
    let n = payloads.len();
    let mut options = MqttOptions::new(client_id, "127.0.0.1", port);
    options.set_inflight(1000);
    let (client, mut connection) = Client::new(options, 10_000);
    // The event loop is polled here, the publications are queued from another thread: a full
    // request queue blocks only the publishing thread.
    let publisher = std::thread::spawn(move || {
        for (topic, payload) in payloads {
            if client
                .publish(topic, QoS::AtLeastOnce, false, payload)
                .is_err()
            {
                break;
            }
        }
        client
    });
    let mut acked = 0;
    let mut last_ack = Instant::now();
    while acked < n && last_ack.elapsed() < std::time::Duration::from_secs(10) {
        match connection.recv_timeout(std::time::Duration::from_secs(10)) {
            Ok(Ok(Event::Incoming(Packet::PubAck(_)))) => {
                acked += 1;
                last_ack = Instant::now();
            }
            Ok(Err(e)) => {
                println!("mqtt: publisher failed: {e}");
                break;
            }
            Err(_) => break,
            _ => {}
        }
    }
    if acked >= n
        && let Ok(client) = publisher.join()
    {
        let _ = client.disconnect();
        let _ = connection.recv_timeout(std::time::Duration::from_secs(1));
    }
    acked
}

/// A publisher of pre-encoded MQTT 3.1.1 QoS 1 PUBLISH packets on a plain socket, at most 1,000
/// unacknowledged (as the rumqttc publisher above). It stands for the plant's gateways, which run
/// on machines of their own: everything is encoded before the clock runs, and writing and counting
/// acknowledgements cost it next to no CPU, so the rate is that of the broker and the twin.
mod lean {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    const INFLIGHT: usize = 1000;

    fn remaining_length(out: &mut Vec<u8>, mut n: usize) {
        loop {
            let mut byte = (n % 128) as u8;
            n /= 128;
            if n > 0 {
                byte |= 0x80;
            }
            out.push(byte);
            if n == 0 {
                break;
            }
        }
    }

    fn string(out: &mut Vec<u8>, s: &[u8]) {
        out.extend_from_slice(&(s.len() as u16).to_be_bytes());
        out.extend_from_slice(s);
    }

    /// Returns how many publications the broker acknowledged.
    pub fn publish(
        port: u16,
        client_id: &str,
        payloads: &[(String, String)],
    ) -> std::io::Result<usize> {
        // One buffer of packets, and where each ends.
        let mut wire = Vec::new();
        let mut ends = Vec::with_capacity(payloads.len());
        for (i, (topic, payload)) in payloads.iter().enumerate() {
            wire.push(0x32); // PUBLISH, QoS 1
            remaining_length(&mut wire, 2 + topic.len() + 2 + payload.len());
            string(&mut wire, topic.as_bytes());
            wire.extend_from_slice(&((i % 65_535) as u16 + 1).to_be_bytes());
            wire.extend_from_slice(payload.as_bytes());
            ends.push(wire.len());
        }
        let mut stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        // CONNECT: protocol MQTT 3.1.1, clean session, keep-alive 60 s.
        let mut connect = vec![0x00, 0x04, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 60];
        string(&mut connect, client_id.as_bytes());
        let mut packet = vec![0x10];
        remaining_length(&mut packet, connect.len());
        packet.extend_from_slice(&connect);
        stream.write_all(&packet)?;
        let mut connack = [0u8; 4];
        stream.read_exact(&mut connack)?;
        if connack[0] != 0x20 || connack[3] != 0 {
            return Err(std::io::Error::other(format!("CONNACK {connack:?}")));
        }
        let acked = Arc::new(AtomicUsize::new(0));
        let reader = {
            let mut stream = stream.try_clone()?;
            let acked = Arc::clone(&acked);
            let n = payloads.len();
            stream.set_read_timeout(Some(Duration::from_secs(10)))?;
            std::thread::spawn(move || {
                // The broker sends this client only PUBACKs: four bytes, 0x40 0x02 and the id.
                let mut buf = vec![0u8; 64 * 1024];
                let mut carry = 0usize;
                while acked.load(Ordering::Relaxed) < n {
                    let Ok(read) = stream.read(&mut buf[carry..]) else {
                        break;
                    };
                    if read == 0 {
                        break;
                    }
                    let have = carry + read;
                    let whole = have / 4 * 4;
                    if buf[..whole].chunks(4).any(|p| p[0] != 0x40) {
                        break;
                    }
                    acked.fetch_add(whole / 4, Ordering::Relaxed);
                    buf.copy_within(whole..have, 0);
                    carry = have - whole;
                }
            })
        };
        let (mut sent, mut start) = (0usize, 0usize);
        let deadline = Instant::now() + Duration::from_secs(120);
        while sent < ends.len() && Instant::now() < deadline {
            let room = INFLIGHT.saturating_sub(sent - acked.load(Ordering::Relaxed));
            if room < 64 {
                // A sleep, not a spin: the cores belong to the broker and the twin.
                std::thread::sleep(Duration::from_micros(200));
                continue;
            }
            let upto = (sent + room.min(256)).min(ends.len());
            stream.write_all(&wire[start..ends[upto - 1]])?;
            start = ends[upto - 1];
            sent = upto;
        }
        let _ = reader.join();
        let _ = stream.write_all(&[0xE0, 0x00]);
        Ok(acked.load(Ordering::Relaxed))
    }
}
