//! Live ingestion over MQTT against a real broker: Debian's mosquitto (installed by
//! `scripts/setup.sh`), started here on a free loopback port with persistence. A publisher sends a
//! recorded stretch of the bottling line, some duplicates and some bad payloads; the broker is
//! restarted in the middle. The twin must store every good event exactly once, count the
//! duplicates, keep the bad payloads as dead letters, and reconnect on its own.

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use serde_json::Value;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn mosquitto() -> Option<PathBuf> {
    ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// mosquitto, or `None` where it is not installed (outside CI: scripts/setup.sh installs it, and
/// CI must have it).
fn mosquitto_or_skip() -> Option<PathBuf> {
    let found = mosquitto();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "mosquitto missing in CI: scripts/setup.sh installs it"
        );
        eprintln!("skipped: mosquitto is not installed (scripts/setup.sh installs it)");
    }
    found
}

struct Broker(Child);

impl Broker {
    /// A broker on a free loopback port, without persistence, configured in `dir`: anonymous, or
    /// (`anonymous` false, and no password file) refusing every login.
    fn plain(bin: &Path, dir: &Path, anonymous: bool) -> (Broker, u16) {
        let port = free_port();
        let config = dir.join("mosquitto.conf");
        std::fs::write(
            &config,
            format!("listener {port} 127.0.0.1\nallow_anonymous {anonymous}\nuser root\n"),
        )
        .expect("config");
        (Broker::start(bin, &config, port), port)
    }

    fn start(bin: &Path, config: &Path, port: u16) -> Broker {
        let child = Command::new(bin)
            .arg("-c")
            .arg(config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto did not open port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Broker(child)
    }

    /// SIGTERM: mosquitto saves its persistent sessions and queued messages.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let _ = self.0.wait();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Publishes `(topic, payload)` with QoS 1 and waits for every acknowledgement.
fn publish(port: u16, id: &str, messages: &[(String, String)]) {
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    options.set_keep_alive(Duration::from_secs(5));
    let (client, mut connection) = Client::new(options, 100);
    let sender = std::thread::spawn({
        let messages = messages.to_vec();
        move || {
            for (topic, payload) in messages {
                client
                    .publish(topic, QoS::AtLeastOnce, false, payload)
                    .expect("publish");
            }
            client
        }
    });
    let mut acked = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked < messages.len() {
        assert!(Instant::now() < deadline, "publisher timed out at {acked}");
        match connection.recv_timeout(Duration::from_millis(200)) {
            Ok(Ok(Event::Incoming(Packet::PubAck(_)))) => acked += 1,
            Ok(Err(e)) => panic!("publisher: {e}"),
            _ => {}
        }
    }
    let client = sender.join().expect("sender");
    let _ = client.disconnect();
}

fn scenario() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/bottling-line.toml")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn the_twin_ingests_from_a_real_broker_and_survives_its_restart() {
    let Some(bin) = mosquitto_or_skip() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("takt-mqtt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let port = free_port();
    let config = dir.join("mosquitto.conf");
    std::fs::write(
        &config,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\n\
             max_inflight_messages 1000\nmax_queued_messages 1000000\n\
             # run as root drops to user `mosquitto`, which could not write the test's directory\n\
             user root\n",
            dir.display()
        ),
    )
    .expect("config");
    let broker = Broker::start(&bin, &config, port);

    let db = dir.join("twin.db");
    let listener = Command::new(env!("CARGO_BIN_EXE_takt"))
        .args([
            "twin",
            "listen",
            "--mqtt",
            &format!("127.0.0.1:{port}"),
            "--site",
            "test",
            "--scenario",
            &scenario(),
            "--db",
            &db.to_string_lossy(),
            "--client-id",
            &format!("takt-test-{}", std::process::id()),
            "--duration",
            "8s",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("listener starts");
    // Let it connect and subscribe.
    std::thread::sleep(Duration::from_millis(1500));

    let recording = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../replay/bottling-line-5min.jsonl"),
    )
    .expect("recording");
    let events: Vec<(String, String)> = recording
        .lines()
        .take(2000)
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("json");
            let topic = format!(
                "takt/test/line1/{}/{}",
                v["asset"].as_str().unwrap_or_default(),
                v["kind"].as_str().unwrap_or_default()
            );
            (topic, line.to_string())
        })
        .collect();
    publish(port, "pub-1", &events[..1000]);
    // Restart the broker: the twin must reconnect by itself.
    broker.stop();
    let broker = Broker::start(&bin, &config, port);
    let mut rest = events[1000..].to_vec();
    rest.extend_from_slice(&events[900..1000]); // resent: duplicates
    rest.push(("takt/test/line1/Filler/state".into(), "{not json".into()));
    rest.push((
        "takt/test/line1/Mixer/count".into(),
        r#"{"ts":"2026-01-05T06:00:00+01:00","asset":"Mixer","kind":"count","seq":1,"good":1}"#
            .into(),
    ));
    rest.push((
        "takt/test/line1/Filler/state".into(),
        r#"{"ts":"2026-01-05T06:00:00+01:00","asset":"Labeller","kind":"state","seq":99999,"state":"RUNNING"}"#.into(),
    ));
    publish(port, "pub-2", &rest);

    let out = listener.wait_with_output().expect("listener ends");
    assert!(out.status.success());
    let stats: Value = serde_json::from_slice(&out.stdout).expect("listener JSON");
    drop(broker);
    assert_eq!(stats["accepted"], 2000, "{stats}");
    assert_eq!(stats["rejected"], 3, "{stats}");
    assert!(stats["duplicates"].as_u64() >= Some(100), "{stats}");
    assert!(stats["reconnects"].as_u64() >= Some(1), "{stats}");

    // The store holds the same plant as a replay of those 2000 events.
    let state = Command::new(env!("CARGO_BIN_EXE_takt"))
        .args([
            "twin",
            "state",
            "--db",
            &db.to_string_lossy(),
            "--scenario",
            &scenario(),
            "--json",
        ])
        .output()
        .expect("state");
    let state: Value = serde_json::from_slice(&state.stdout).expect("state JSON");
    let prefix = dir.join("first-2000.jsonl");
    std::fs::write(
        &prefix,
        recording.lines().take(2000).collect::<Vec<_>>().join("\n"),
    )
    .expect("prefix");
    let replay = Command::new(env!("CARGO_BIN_EXE_takt"))
        .args([
            "replay",
            &prefix.to_string_lossy(),
            "--scenario",
            &scenario(),
            "--json",
        ])
        .output()
        .expect("replay");
    let replay: Value = serde_json::from_slice(&replay.stdout).expect("replay JSON");
    let counts = |s: &Value| -> Vec<(Value, Value, Value)> {
        s["assets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| (a["asset"].clone(), a["good"].clone(), a["scrap"].clone()))
            .collect()
    };
    assert_eq!(counts(&state), counts(&replay));
    assert_eq!(state["counters"]["rejected"], 3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn alerts_are_published_back_to_the_broker() {
    let Some(bin) = mosquitto_or_skip() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("takt-mqtt-alerts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (_broker, port) = Broker::plain(&bin, &dir, true);
    let rules = dir.join("rules.toml");
    std::fs::write(&rules, "[[rule]]\nwhen = \"down\"\nlonger_than = \"1m\"\n").expect("rules");
    let listener = Command::new(env!("CARGO_BIN_EXE_takt"))
        .args([
            "twin",
            "listen",
            "--mqtt",
            &format!("127.0.0.1:{port}"),
            "--site",
            "test",
            "--scenario",
            &scenario(),
            "--db",
            &dir.join("twin.db").to_string_lossy(),
            "--client-id",
            &format!("takt-alerts-{}", std::process::id()),
            "--alerts",
            &rules.to_string_lossy(),
            "--duration",
            "6s",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("listener starts");
    let reader = AlertReader::subscribe(port, "takt/test/alerts/#");
    std::thread::sleep(Duration::from_millis(1500));
    let line = Line {
        port,
        site: "test",
        line: "line1",
    };
    line.send(&line.event("Filler", "state", 1, 0, DOWN));
    std::thread::sleep(Duration::from_millis(300));
    line.down_for_two_minutes_then_running();
    let received = reader.alerts(2);
    let _ = listener.wait_with_output();
    assert_raised_and_cleared(&received, "takt/test/alerts/Filler");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The filler's breakdown, as its PLC reports it.
const DOWN: &str = r#","state":"UNPLANNED_DOWN","reason":"breakdown""#;

/// A line of a site on the broker at `port`: where its machines publish.
struct Line {
    port: u16,
    site: &'static str,
    line: &'static str,
}

impl Line {
    /// An event of `asset` at 06:`minute` on 2026-01-05 and its topic; `rest` is the body's tail.
    fn event(
        &self,
        asset: &str,
        kind: &str,
        seq: u64,
        minute: u32,
        rest: &str,
    ) -> (String, String) {
        (
            format!("takt/{}/{}/{asset}/{kind}", self.site, self.line),
            format!(
                r#"{{"ts":"2026-01-05T06:{minute:02}:00+01:00","asset":"{asset}","kind":"{kind}","seq":{seq}{rest}}}"#
            ),
        )
    }

    fn send(&self, message: &(String, String)) {
        publish(self.port, "pub-alerts", std::slice::from_ref(message));
    }

    /// After the filler went down at 06:00: a count at 06:02 moves the twin's clock past the
    /// rule's minute (the alert is raised), and the filler runs again at 06:03 (it is cleared).
    fn down_for_two_minutes_then_running(&self) {
        self.send(&self.event("CasePacker", "count", 2, 2, r#","good":1"#));
        std::thread::sleep(Duration::from_millis(300));
        self.send(&self.event("Filler", "state", 3, 3, r#","state":"RUNNING""#));
    }
}

/// A subscriber to the alerts, as a plant's notification service would be.
struct AlertReader {
    client: Client,
    arrived: std::sync::mpsc::Receiver<rumqttc::Publish>,
}

impl AlertReader {
    fn subscribe(port: u16, filter: &str) -> AlertReader {
        let mut options = MqttOptions::new("alert-reader", "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(5));
        let (client, mut connection) = Client::new(options, 100);
        client
            .subscribe(filter, QoS::AtLeastOnce)
            .expect("subscribe");
        // Its connection is driven from the start, so the subscription is in place before any
        // alert.
        let (alerts, arrived) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for event in connection.iter() {
                match event {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if alerts.send(p).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        });
        AlertReader { client, arrived }
    }

    /// Up to `n` alerts (topic, JSON) that arrive within 15 s.
    fn alerts(self, n: usize) -> Vec<(String, Value)> {
        let mut received = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(15);
        while received.len() < n && Instant::now() < deadline {
            if let Ok(p) = self.arrived.recv_timeout(Duration::from_millis(200)) {
                received.push((
                    p.topic.clone(),
                    serde_json::from_slice(&p.payload).expect("alert JSON"),
                ));
            }
        }
        let _ = self.client.disconnect();
        received
    }
}

/// The filler's down alert, raised then cleared, on `topic`.
fn assert_raised_and_cleared(received: &[(String, Value)], topic: &str) {
    assert_eq!(received.len(), 2, "{received:?}");
    assert_eq!(received[0].0, topic);
    assert_eq!(received[0].1["change"], "raised");
    assert_eq!(received[0].1["alert"]["kind"], "down");
    assert_eq!(received[0].1["alert"]["asset"], "Filler");
    assert_eq!(received[1].1["change"], "cleared");
    assert_eq!(received[0].1["alert"]["id"], received[1].1["alert"]["id"]);
}

/// The server's own twin fed by the broker (`takt serve --site S --mqtt HOST:PORT`): an event a
/// machine publishes shows in `GET /twin/state`, without a bridge.
#[test]
fn the_served_twin_is_fed_by_the_broker() {
    let Some(bin) = mosquitto_or_skip() else {
        return;
    };
    let fed = serve_fed(&bin, "serve", "takt-serve-test", &[]);
    let (http, port) = (fed.http, fed.port);
    let event = r#"{"ts":"2026-01-05T06:00:00+01:00","asset":"Filler","kind":"state","seq":1,"state":"UNPLANNED_DOWN","reason":"valve fault"}"#;
    let filler = fed.send_until_down(&(
        "takt/plant1/line1/Filler/state".to_string(),
        event.to_string(),
    ));
    // The feed says it listens (`takt_feed_up` 1), for the plant's monitoring.
    let metrics = feed_metric(http).expect("the metrics");
    assert!(
        metrics.contains(&format!(
            r#"takt_feed_up{{plant="bottling-line-one-shift",protocol="mqtt",source="127.0.0.1:{port} takt/plant1/+/+/+"}} 1"#
        )),
        "{metrics}"
    );
    drop(fed);
    assert_eq!(filler["reason"], "valve fault", "{filler}");
    assert_eq!(filler["events"], 1, "{filler}");
}

/// The lines of `GET /metrics` about feeds.
fn feed_metric(http: u16) -> Option<String> {
    let text = ureq::get(&format!("http://127.0.0.1:{http}/metrics"))
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()?;
    Some(
        text.lines()
            .filter(|l| l.starts_with("takt_feed_up"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// A broker that refuses the twin's login for good (anonymous logins are off, and the server
/// gives none): the feed gives up, and the server, which goes on serving, says so in `/metrics`
/// (`takt_feed_up` 0) instead of only in its log.
#[test]
fn a_feed_refused_for_good_shows_in_the_metrics() {
    let Some(bin) = mosquitto_or_skip() else {
        return;
    };
    let fed = serve_fed_by(&bin, false, "refused", "takt-refused-test", &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let down = format!(
        r#"takt_feed_up{{plant="bottling-line-one-shift",protocol="mqtt",source="127.0.0.1:{} takt/plant1/+/+/+"}} 0"#,
        fed.port
    );
    let mut seen = String::new();
    while !seen.contains(&down) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        seen = feed_metric(fed.http).unwrap_or_default();
    }
    assert!(seen.contains(&down), "the metrics said: {seen}");
    // The server still serves the twin it has.
    let state = ureq::get(&format!("http://127.0.0.1:{}/twin/state", fed.http)).call();
    assert_eq!(state.map(|r| r.status().as_u16()).ok(), Some(200));
}

/// The broker's password was changed and the server's password file was not: the feed is refused
/// and gives up. Once the file holds the new password, the board's "start it again" (`POST
/// /twin/feeds/restart`) reads it, the feed listens again (`takt_feed_up` 1) and the plant's
/// events reach the twin, without a restart of the server.
#[test]
fn a_stopped_feed_started_again_reads_its_password_anew() {
    let Some(bin) = mosquitto_or_skip() else {
        return;
    };
    let dir = fed_dir("restart");
    // The broker's login for the twin, hashed by mosquitto's own tool; the line's gateways
    // publish anonymously.
    let logins = dir.join("passwd");
    let made = Command::new("mosquitto_passwd")
        .arg("-c")
        .arg("-b")
        .arg(&logins)
        .args(["twin", "n3w-s3cret"])
        .status()
        .expect("mosquitto_passwd runs");
    assert!(made.success());
    let port = free_port();
    let config = dir.join("mosquitto.conf");
    std::fs::write(
        &config,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npassword_file {}\nuser root\n",
            logins.display()
        ),
    )
    .expect("config");
    let broker = Broker::start(&bin, &config, port);
    let password_file = dir.join("mqtt-password");
    std::fs::write(&password_file, "0ld-s3cret\n").expect("password file");
    let login = [
        "--mqtt-user".to_string(),
        "twin".to_string(),
        "--mqtt-password-file".to_string(),
        password_file.display().to_string(),
    ];
    let fed = serve_on(broker, port, dir, "takt-restart-test", &login);
    let http = fed.http;
    let up = |value: u8| {
        format!(
            r#"takt_feed_up{{plant="bottling-line-one-shift",protocol="mqtt",source="127.0.0.1:{port} takt/plant1/+/+/+"}} {value}"#
        )
    };
    let wait_for = |line: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = String::new();
        while !seen.contains(line) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            seen = feed_metric(http).unwrap_or_default();
        }
        assert!(seen.contains(line), "the metrics said: {seen}");
    };
    wait_for(&up(0));
    // The password file mended, the feed is started again and listens.
    std::fs::write(&password_file, "n3w-s3cret\n").expect("password file");
    let asked: Value = ureq::post(&format!("http://127.0.0.1:{http}/twin/feeds/restart"))
        .send_json(serde_json::json!({}))
        .expect("restart answered")
        .body_mut()
        .read_json()
        .expect("json");
    assert_eq!(asked["feeds"].as_array().map(Vec::len), Some(1), "{asked}");
    wait_for(&up(1));
    // And the plant's events reach the twin again.
    let line = Line {
        port,
        site: "plant1",
        line: "line1",
    };
    let filler = fed.send_until_down(&line.event("Filler", "state", 1, 0, DOWN));
    assert_eq!(filler["state"], "UNPLANNED_DOWN");
}

/// `takt serve` of the bottling line on a fresh broker of its own (`--site plant1`), with `extra`
/// arguments; stopped, and its folder removed, when dropped.
struct Fed {
    _broker: Broker,
    server: Child,
    dir: PathBuf,
    http: u16,
    port: u16,
}

fn serve_fed(bin: &Path, tag: &str, client_id: &str, extra: &[String]) -> Fed {
    serve_fed_by(bin, true, tag, client_id, extra)
}

/// [`serve_fed`], the broker anonymous or refusing every login.
fn serve_fed_by(bin: &Path, anonymous: bool, tag: &str, client_id: &str, extra: &[String]) -> Fed {
    let dir = fed_dir(tag);
    let (broker, port) = Broker::plain(bin, &dir, anonymous);
    serve_on(broker, port, dir, client_id, extra)
}

/// A fresh folder for a served twin and its broker.
fn fed_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("takt-mqtt-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `takt serve` of the bottling line (`--site plant1`) on `broker`, at `port`, with `extra`
/// arguments, keeping its data in `dir`.
fn serve_on(broker: Broker, port: u16, dir: PathBuf, client_id: &str, extra: &[String]) -> Fed {
    let http = free_port();
    let server = Command::new(env!("CARGO_BIN_EXE_takt"))
        .args(["serve", "--insecure-no-auth", "--listen"])
        .arg(format!("127.0.0.1:{http}"))
        .args(["--scenario", &scenario()])
        .args(extra)
        .arg("--data")
        .arg(dir.join("data"))
        .args(["--site", "plant1", "--client-id", client_id, "--mqtt"])
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("takt serve starts");
    Fed {
        _broker: broker,
        server,
        dir,
        http,
        port,
    }
}

impl Fed {
    /// Sends `message`, a state event of the filler going down, until the served twin shows the
    /// filler down, and returns the filler's state. The server subscribes once it is up; a message
    /// published before that is not retained, so the event is sent again (it is the same event: a
    /// duplicate, stored once).
    fn send_until_down(&self, message: &(String, String)) -> Value {
        let http = self.http;
        let state = || -> Option<Value> {
            ureq::get(&format!("http://127.0.0.1:{http}/twin/state"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_json().ok())
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while state().is_none() {
            assert!(Instant::now() < deadline, "takt serve did not answer");
            std::thread::sleep(Duration::from_millis(100));
        }
        loop {
            publish(self.port, "filler-plc", std::slice::from_ref(message));
            let filler = state().and_then(|s| {
                s["assets"]
                    .as_array()
                    .and_then(|a| a.iter().find(|a| a["asset"] == "Filler").cloned())
            });
            if let Some(f) = filler.filter(|f| f["state"] == "UNPLANNED_DOWN") {
                return f;
            }
            assert!(
                Instant::now() < deadline,
                "the served twin never showed the published event"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

/// The served twin's alerts go back to the broker that feeds it (`takt/<site>/alerts/<asset>`),
/// as those of `takt twin listen` do.
#[test]
fn the_served_twin_publishes_its_alerts_to_the_broker() {
    let Some(bin) = mosquitto_or_skip() else {
        return;
    };
    let rules = std::env::temp_dir().join(format!(
        "takt-serve-alert-rules-{}.toml",
        std::process::id()
    ));
    std::fs::write(&rules, "[[rule]]\nwhen = \"down\"\nlonger_than = \"1m\"\n").expect("rules");
    let fed = serve_fed(
        &bin,
        "serve-alerts",
        "takt-serve-alerts",
        &["--alerts".to_string(), rules.display().to_string()],
    );
    let reader = AlertReader::subscribe(fed.port, "takt/plant1/alerts/#");
    let line = Line {
        port: fed.port,
        site: "plant1",
        line: "line1",
    };
    fed.send_until_down(&line.event("Filler", "state", 1, 0, DOWN));
    line.down_for_two_minutes_then_running();
    let received = reader.alerts(2);
    drop(fed);
    let _ = std::fs::remove_file(&rules);
    assert_raised_and_cleared(&received, "takt/plant1/alerts/Filler");
    assert_eq!(
        received[0].1["plant"], "Bottling line - one shift",
        "{:?}",
        received[0]
    );
}

impl Drop for Fed {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A site's plants on one server (`--plant`), fed by one broker: each plant takes its own line's
/// topics (`takt/<site>/<plant id>/+/+`), so a plant never sees, or refuses, another's events.
#[test]
fn each_plant_of_a_site_takes_its_own_line_s_topics() {
    let Some(bin) = mosquitto_or_skip() else {
        return;
    };
    let body_shop = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/body-in-white.toml")
        .to_string_lossy()
        .into_owned();
    let plants = ["--plant-id", "bottling", "--plant"].map(String::from);
    let press_plant = format!("press={body_shop}");
    let fed = serve_fed(
        &bin,
        "plants",
        "takt-plants-test",
        &[plants.as_slice(), &[press_plant]].concat(),
    );
    let (http, port) = (fed.http, fed.port);
    let state = |plant: &str| -> Option<Value> {
        ureq::get(&format!(
            "http://127.0.0.1:{http}/plants/{plant}/twin/state"
        ))
        .call()
        .ok()
        .and_then(|mut r| r.body_mut().read_json().ok())
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while state("press").is_none() {
        assert!(Instant::now() < deadline, "takt serve did not answer");
        std::thread::sleep(Duration::from_millis(100));
    }
    let filler = r#"{"ts":"2026-01-05T06:00:00+01:00","asset":"Filler","kind":"state","seq":1,"state":"UNPLANNED_DOWN","reason":"valve fault"}"#;
    let press = r#"{"ts":"2026-01-05T06:00:00+01:00","asset":"Press","kind":"state","seq":1,"state":"UNPLANNED_DOWN","reason":"die change"}"#;
    // Sent again until both show (the server subscribes once it is up; duplicates are stored once).
    let down = |plant: &str, asset: &str| {
        state(plant).and_then(|s| {
            s["assets"]
                .as_array()
                .and_then(|a| a.iter().find(|a| a["asset"] == asset).cloned())
                .filter(|a| a["state"] == "UNPLANNED_DOWN")
        })
    };
    loop {
        publish(
            port,
            "plant1-plcs",
            &[
                (
                    "takt/plant1/bottling/Filler/state".to_string(),
                    filler.to_string(),
                ),
                (
                    "takt/plant1/press/Press/state".to_string(),
                    press.to_string(),
                ),
            ],
        );
        if down("bottling", "Filler").is_some() && down("press", "Press").is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the plants never showed their events: {:?} {:?}",
            state("bottling"),
            state("press")
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let (bottling, press) = (state("bottling"), state("press"));
    drop(fed);
    for s in [bottling, press] {
        let s = s.expect("a state");
        // Each plant accepted its own event and refused nothing: the other's never reached it.
        assert_eq!(s["counters"]["accepted"], 1, "{s}");
        assert_eq!(s["counters"]["rejected"], 0, "{s}");
    }
}
