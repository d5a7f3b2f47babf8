//! A server on a temporary store, driven through its router without a socket (tower's `oneshot`),
//! as axum's testing example does; requests carry a peer address, as the server's listener adds.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use takt_api::auth::{Auth, Role};
use tower::ServiceExt;

pub const BOTTLING: &str = include_str!("../../../../scenarios/bottling-line.toml");
pub const BODY_IN_WHITE: &str = include_str!("../../../../scenarios/body-in-white.toml");
pub const REFERENCE: &str = include_str!("../../../../scenarios/reference-line.toml");
pub const RECORDING: &str = include_str!("../../../../replay/bottling-line-5min.jsonl");

pub const READ: &str = "read-token-0123456789abcdef";
pub const WRITE: &str = "write-token-0123456789abcdef";
/// A shift leader's token: reads, takes alerts on, runs the forecast.
pub const OPERATE: &str = "operate-token-0123456789abcdef";

/// A server of the bottling line on a temporary store, its router, and a runtime to drive it.
pub struct App {
    pub server: Arc<takt_api::Server>,
    router: axum::Router,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

/// An answer: status, content type, headers, and the body as JSON (`Null` if it is not) and text.
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl App {
    /// Without authentication (`--insecure-no-auth`).
    pub fn new() -> App {
        App::with_auth(Auth::Insecure)
    }

    /// With a read, an operate and a write token ([`READ`], [`OPERATE`], [`WRITE`]).
    pub fn with_tokens() -> App {
        App::with_auth(Auth::Tokens(vec![
            (Role::Read, READ.to_string()),
            (Role::Operate, OPERATE.to_string()),
            (Role::Write, WRITE.to_string()),
        ]))
    }

    fn with_auth(auth: Auth) -> App {
        App::configured(auth, |_| {})
    }

    /// The bottling line's server with `configure` applied to its configuration.
    pub fn configured(auth: Auth, configure: impl FnOnce(&mut takt_api::Config)) -> App {
        let dir = tempfile::tempdir().expect("dir");
        let loaded =
            takt_model::load_str(BOTTLING, Path::new("bottling.toml"), None).expect("shipped");
        let source = takt_api::plant::PlantSource::named(loaded.scenario, loaded.model);
        App::site_configured(dir, auth, vec![source], configure)
    }

    /// A server of a site's plants (the first the default) on the store in `dir`.
    pub fn site(
        dir: tempfile::TempDir,
        auth: Auth,
        plants: Vec<takt_api::plant::PlantSource>,
    ) -> App {
        App::site_configured(dir, auth, plants, |_| {})
    }

    fn site_configured(
        dir: tempfile::TempDir,
        auth: Auth,
        plants: Vec<takt_api::plant::PlantSource>,
        configure: impl FnOnce(&mut takt_api::Config),
    ) -> App {
        let mut config = takt_api::Config::new(
            "127.0.0.1:0".parse().expect("addr"),
            dir.path().into(),
            auth,
        );
        config.workers = 1;
        configure(&mut config);
        let server = takt_api::Server::open_site(config, plants).expect("server");
        let router = takt_api::routes::router(Arc::clone(&server));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        App {
            server,
            router,
            runtime,
            _dir: dir,
        }
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Option<String>,
    ) -> Request<Body> {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            request = request.header("authorization", format!("Bearer {t}"));
        }
        if let Some(c) = content_type {
            request = request.header("content-type", c);
        }
        let mut request = request
            .body(body.map_or_else(Body::empty, Body::from))
            .expect("request");
        let peer: SocketAddr = "127.0.0.1:9".parse().expect("addr");
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    }

    /// Sends a request and reads the whole answer.
    pub fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Option<String>,
    ) -> Answer {
        let request = self.request(method, path, token, content_type, body);
        self.runtime.block_on(async {
            let answer = self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("infallible");
            let status = answer.status().as_u16();
            let headers = answer.headers().clone();
            let content_type = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let bytes = axum::body::to_bytes(answer.into_body(), 64 << 20)
                .await
                .expect("body");
            let text = String::from_utf8_lossy(&bytes).to_string();
            Answer {
                status,
                content_type,
                headers,
                body: serde_json::from_str(&text).unwrap_or(Value::Null),
                text,
            }
        })
    }

    /// The status and the body (JSON, or the text as a JSON string), without a token.
    pub fn call(&self, method: Method, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
        let a = self.send(
            method,
            path,
            None,
            body.map(|_| "application/json"),
            body.map(Value::to_string),
        );
        let status = StatusCode::from_u16(a.status).expect("status");
        let body = if a.body.is_null() && !a.text.is_empty() {
            Value::String(a.text)
        } else {
            a.body
        };
        (status, body)
    }

    /// Reads a server-sent event stream until `until` appears in it (or 1 MiB, or 60 s).
    pub fn read_stream(&self, path: &str, until: &str) -> String {
        let request = self.request(Method::GET, path, Some(READ), None, None);
        self.runtime.block_on(async {
            let answer = self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("infallible");
            assert_eq!(answer.status(), StatusCode::OK);
            let mut body = answer.into_body();
            let mut text = String::new();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            while !text.contains(until) && text.len() < 1 << 20 {
                match tokio::time::timeout_at(deadline, body.frame()).await {
                    Ok(Some(Ok(frame))) => {
                        if let Some(data) = frame.data_ref() {
                            text.push_str(&String::from_utf8_lossy(data));
                        }
                    }
                    _ => break,
                }
            }
            text
        })
    }

    /// Runs `future` on the server's runtime (a webhook's delivery, a receiver).
    pub fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime.spawn(future)
    }

    /// Calls `f` inside the server's runtime (what spawns tasks needs one).
    pub fn within<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = self.runtime.enter();
        f()
    }

    /// Stops the server and gives its store back (to open it again).
    pub fn close(mut self) -> tempfile::TempDir {
        let empty = tempfile::tempdir().expect("dir");
        std::mem::replace(&mut self._dir, empty)
    }

    /// Waits for a job to end, and returns its view.
    pub fn finished(&self, id: &str) -> Value {
        wait_for_job(self, id)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.server.jobs.shutdown(Duration::from_millis(100));
    }
}

pub fn get(s: &App, path: &str, token: Option<&str>) -> Answer {
    s.send(Method::GET, path, token, None, None)
}

pub fn post(s: &App, path: &str, token: Option<&str>, body: &str) -> Answer {
    s.send(
        Method::POST,
        path,
        token,
        Some("application/json"),
        Some(body.to_string()),
    )
}

pub fn delete(s: &App, path: &str) -> Answer {
    s.send(Method::DELETE, path, Some(WRITE), None, None)
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
    RECORDING
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("event"))
        .collect()
}

/// Waits for job `id` to end (read with the read token, which a server without authentication
/// ignores), and returns its view.
pub fn wait_for_job(s: &App, id: &str) -> Value {
    let started = Instant::now();
    loop {
        let a = get(s, &format!("/jobs/{id}"), Some(READ));
        assert_eq!(a.status, 200, "{}", a.text);
        if !matches!(a.body["status"].as_str(), Some("queued" | "running")) {
            return a.body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "job {id} hangs"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Takes every one of `gate`'s permits (as requests holding them would), sends what `request`
/// sends meanwhile and checks that it waits for a permit (it is not answered within 400 ms, more
/// than the work takes) while the server answers what needs none; then gives the permits back and
/// returns its answer, once it has given its own permit back.
pub fn answer_after_a_permit(
    s: &App,
    gate: &Arc<tokio::sync::Semaphore>,
    request: impl FnOnce() -> Answer + Send,
) -> Answer {
    let permits = gate.available_permits();
    assert!(permits >= 1);
    let held: Vec<_> = (0..permits)
        .map(|_| Arc::clone(gate).try_acquire_owned().expect("a free permit"))
        .collect();
    assert_eq!(get(s, "/twin/state", None).status, 200);
    let answer = std::thread::scope(|scope| {
        let waiting = scope.spawn(request);
        std::thread::sleep(Duration::from_millis(400));
        assert!(
            !waiting.is_finished(),
            "answered while every permit was taken"
        );
        drop(held);
        waiting.join().expect("the request")
    });
    assert_eq!(gate.available_permits(), permits);
    answer
}
