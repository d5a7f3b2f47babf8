//! What the tests of `takt serve` as a process share: a server on a free loopback port with the
//! test tokens, HTTP calls that return status and body, and the shipped recording.

// Each test binary compiles this module and uses part of it.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const READ: &str = "read-token-0123456789abcdef";
pub const WRITE: &str = "write-token-0123456789abcdef";

pub fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    /// Starts `takt serve` on a free loopback port with the bottling line and the test tokens.
    pub fn start(data: &Path, extra: &[&str]) -> Server {
        let tokens = data.with_extension("tokens");
        std::fs::write(
            &tokens,
            format!("# test tokens\nread {READ}\nwrite {WRITE}\n"),
        )
        .expect("tokens");
        let mut child = Command::new(env!("CARGO_BIN_EXE_takt"))
            .current_dir(root())
            .args([
                "serve",
                "--scenario",
                "scenarios/bottling-line.toml",
                "--listen",
            ])
            .arg("127.0.0.1:0")
            .arg("--data")
            .arg(data)
            .arg("--tokens")
            .arg(&tokens)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("takt serve starts");
        let line = first_line(&mut child);
        let base = line
            .trim()
            .strip_prefix("takt: open the line board at ")
            .unwrap_or_else(|| panic!("unexpected first line `{line}`"))
            .trim_end_matches('/')
            .to_string();
        Server { child, base }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL on Unix
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The first line a child process prints on its piped stdout; what it prints after is read and
/// dropped, so that it never writes into a closed pipe.
pub fn first_line(child: &mut Child) -> String {
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("first line");
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    line
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub headers: ureq::http::HeaderMap,
    pub body: Value,
    pub text: String,
}

pub fn answer(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut r = r.expect("the server answers");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        content_type,
        headers,
        body,
        text,
    }
}

pub fn get(s: &Server, path: &str, token: Option<&str>) -> Answer {
    let mut req = agent().get(format!("{}{path}", s.base));
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    answer(req.call())
}

pub fn post(s: &Server, path: &str, token: Option<&str>, body: &str) -> Answer {
    let mut req = agent()
        .post(format!("{}{path}", s.base))
        .header("Content-Type", "application/json");
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    answer(req.send(body))
}

pub fn delete(s: &Server, path: &str) -> Answer {
    answer(
        agent()
            .delete(format!("{}{path}", s.base))
            .header("Authorization", format!("Bearer {WRITE}"))
            .call(),
    )
}

pub fn assert_problem(a: &Answer, status: u16, kind: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(a.content_type, "application/problem+json", "{}", a.text);
    assert_eq!(a.body["type"], format!("/problems/{kind}"), "{}", a.text);
    assert_eq!(a.body["status"], status, "{}", a.text);
    assert!(a.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

/// The shipped recording of five minutes on the bottling line, as JSON values.
pub fn recording() -> Vec<Value> {
    let text =
        std::fs::read_to_string(root().join("replay/bottling-line-5min.jsonl")).expect("recording");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("event"))
        .collect()
}

pub fn data_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("takt-serve-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Streams `batches` to `server` from another thread and kills it (SIGKILL) once a tenth of them
/// are acknowledged, while the sender is still sending; how many batches were acknowledged,
/// checked to be neither none nor all.
pub fn stream_and_kill(server: &mut Server, batches: &[String]) -> usize {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;
    let base = server.base.clone();
    let to_send = batches.to_vec();
    let progress = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&progress);
    let sender = std::thread::spawn(move || {
        let mut acknowledged = 0usize;
        for b in &to_send {
            let r = agent()
                .post(format!("{base}/twin/events"))
                .header("Content-Type", "application/json")
                .header("Authorization", format!("Bearer {WRITE}"))
                .send(b.as_str());
            match r {
                Ok(r) if r.status().as_u16() == 200 => {
                    acknowledged += 1;
                    seen.store(acknowledged, Ordering::SeqCst);
                }
                _ => break,
            }
        }
        acknowledged
    });
    let started = Instant::now();
    while progress.load(Ordering::SeqCst) < batches.len() / 10 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "ingestion stalls"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    server.kill();
    let acknowledged = sender.join().expect("sender");
    assert!(
        acknowledged > 0 && acknowledged < batches.len(),
        "the kill came at {acknowledged} of {} batches: not in the middle",
        batches.len()
    );
    acknowledged
}
