//! What the twin's behaviour tests share: the shipped bottling line, a trace sink that collects
//! the simulator's events as the lines sensors send, and a real MQTT broker.

// Each test binary compiles this module and uses part of it.
#![allow(dead_code)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use takt_model::{Model, Timebase};
use takt_sim::{TraceRecord, TraceSink};

/// Collects the trace as event lines, the form sensors send.
#[derive(Clone)]
pub struct Lines(pub Arc<Mutex<Vec<String>>>, pub Timebase);

impl TraceSink for Lines {
    fn record(&mut self, r: &TraceRecord<'_>) {
        if let Ok(mut v) = self.0.lock() {
            v.push(r.to_json(&self.1).to_string());
        }
    }
}

const BOTTLING: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scenarios/bottling-line.toml"
);

pub fn bottling() -> Arc<Model> {
    match takt_model::load_file(Path::new(BOTTLING)) {
        Ok(l) => Arc::new(l.model),
        Err(e) => panic!("shipped scenario: {e}"),
    }
}

/// The bottling line over a day of two shifts, early (06:00-14:00) and late (14:00-22:00): the
/// early shift's orders as shipped, and two more released at the start of the late shift (8 h).
pub fn bottling_two_shifts() -> Arc<Model> {
    let text = std::fs::read_to_string(BOTTLING).expect("shipped scenario");
    assert!(text.contains("horizon = \"8h\""));
    let text = text.replace("horizon = \"8h\"", "horizon = \"16h\"")
        + r#"
[[demand.orders]]
id = "SO-4720"
product = "cola-050"
quantity = 16000
release = "8h"
due = "11h30m"

[[demand.orders]]
id = "SO-4721"
product = "water-100"
quantity = 14000
release = "8h"
due = "16h"
"#;
    match takt_model::load_str(&text, Path::new("bottling-two-shifts.toml"), None) {
        Ok(l) => Arc::new(l.model),
        Err(e) => panic!("two shifts: {e}"),
    }
}

/// A real mosquitto on loopback (Debian's, installed by `scripts/setup.sh`), killed when dropped.
pub struct Broker {
    pub port: u16,
    process: std::process::Child,
}

impl Broker {
    /// Starts mosquitto on a free port with `settings` (mosquitto.conf lines) besides the listener,
    /// written into `dir`. `None` when mosquitto is not installed, which fails in CI.
    pub fn start(dir: &Path, listener_settings: &str, settings: &str) -> Option<Broker> {
        use std::process::{Command, Stdio};
        use std::time::{Duration, Instant};
        let Some(bin) = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
            .iter()
            .map(std::path::PathBuf::from)
            .find(|p| p.exists())
        else {
            assert!(
                std::env::var_os("CI").is_none(),
                "mosquitto missing in CI: scripts/setup.sh installs it"
            );
            eprintln!("skipped: mosquitto is not installed (scripts/setup.sh installs it)");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let config = dir.join("mosquitto.conf");
        // Run as root, mosquitto drops to user `mosquitto`, which could not read the test's files.
        std::fs::write(
            &config,
            format!("listener {port} 127.0.0.1\n{listener_settings}\n{settings}\nuser root\n"),
        )
        .expect("mosquitto.conf");
        let process = Command::new(bin)
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto starts");
        let mut broker = Broker { port, process };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = broker.process.try_wait() {
                panic!(
                    "mosquitto exited ({status}); its settings:\n{listener_settings}\n{settings}"
                );
            }
            assert!(Instant::now() < deadline, "mosquitto did not open {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(broker)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
