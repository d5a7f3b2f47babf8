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

pub fn bottling() -> Arc<Model> {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/bottling-line.toml"
    ));
    match takt_model::load_file(path) {
        Ok(l) => Arc::new(l.model),
        Err(e) => panic!("shipped scenario: {e}"),
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
