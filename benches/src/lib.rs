//! Helpers shared by takt's benchmarks: loading shipped scenarios, collecting traces as event lines,
//! and reading the process's peak memory.

pub mod plain_line;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use takt_model::Model;
use takt_sim::{TraceRecord, TraceSink};

/// Collects a run's trace as JSON lines in the takt event schema, as the CLI's trace file holds them.
#[derive(Clone)]
pub struct Lines(pub Arc<Mutex<Vec<String>>>, pub takt_model::Timebase);

impl Lines {
    pub fn new(timebase: takt_model::Timebase) -> Lines {
        Lines(Arc::default(), timebase)
    }

    pub fn lines(&self) -> Vec<String> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl TraceSink for Lines {
    fn record(&mut self, r: &TraceRecord<'_>) {
        let line = r.to_json(&self.1);
        if let Ok(mut v) = self.0.lock() {
            v.push(line.to_string());
        }
    }
}

pub fn scenario_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name)
}

pub fn load(name: &str) -> Arc<Model> {
    match takt_model::load_file(&scenario_path(name)) {
        Ok(l) => Arc::new(l.model),
        Err(e) => panic!("shipped scenario {name} does not load: {e}"),
    }
}

/// CPU seconds this process has used (user + system, every thread) from /proc/self/stat, in clock
/// ticks of 10 ms; NaN where /proc is not available. Unlike elapsed time it does not grow when other
/// programs share the cores: with n free cores, work of c CPU seconds takes about c / n seconds.
pub fn cpu_seconds() -> f64 {
    cpu_seconds_of("self")
}

/// CPU seconds (user + system) used so far by process `pid` (or `"self"`); NaN where /proc is not
/// available.
pub fn cpu_seconds_of(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // The command name (field 2) may hold spaces; the fields after its ')' are plain.
            let rest = &s[s.rfind(')')? + 1..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / 100.0)
        })
        .unwrap_or(f64::NAN)
}

/// Peak resident memory of this process (VmHWM), KiB; 0 where /proc is not available.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Mean and 95% half-width (Student t) of a sample.
pub fn mean_ci(xs: &[f64]) -> (f64, f64) {
    let (m, h) = takt_sim::mean_ci95(xs);
    (m, h.unwrap_or(f64::NAN))
}

/// Starts the real HTTP server (`takt_api::run`) of the shipped bottling line in this process, on a
/// free loopback port, without authentication or a rate limit (the bench is its only client): its
/// stores in a fresh temporary folder, or in the PostgreSQL database `store` (a URL).
pub fn start_server(tag: &str, store: Option<&str>) -> std::net::SocketAddr {
    start_server_with(tag, store, |_| {})
}

/// [`start_server`], its configuration changed by `configure` first.
pub fn start_server_with(
    tag: &str,
    store: Option<&str>,
    configure: impl FnOnce(&mut takt_api::Config),
) -> std::net::SocketAddr {
    start_site(tag, store, &[], configure)
}

/// [`start_server_with`] serving a site: the bottling line once per id in `plants` (the first the
/// default); none, one plant named by its scenario.
pub fn start_site(
    tag: &str,
    store: Option<&str>,
    plants: &[&str],
    configure: impl FnOnce(&mut takt_api::Config),
) -> std::net::SocketAddr {
    use takt_api::plant::PlantSource;
    use takt_api::{Config, Server, auth::Auth};
    let dir = std::env::temp_dir().join(format!("takt-bench-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let loaded = match takt_model::load_file(&scenario_path("bottling-line.toml")) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    let mut config = Config::new("127.0.0.1:0".parse().expect("addr"), dir, Auth::Insecure);
    config.ingest_per_s = 0.0;
    config.store = store.map(|url| match takt_twin::store::PostgresLocation::parse(url) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    });
    configure(&mut config);
    let sources = match plants {
        [] => vec![PlantSource::named(loaded.scenario, loaded.model)],
        ids => ids
            .iter()
            .map(|id| PlantSource {
                id: id.to_string(),
                scenario: loaded.scenario.clone(),
                model: loaded.model.clone(),
                alert_rules: None,
            })
            .collect(),
    };
    let server = match Server::open_site(config, sources) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if let Err(e) = takt_api::run(server, None, |addr| {
            let _ = tx.send(addr);
        }) {
            eprintln!("server: {e}");
        }
    });
    rx.recv_timeout(std::time::Duration::from_secs(30))
        .expect("the server starts")
}

/// An HTTP client that returns every status as an answer.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// Sends every batch, sender k taking batches k, k + n, ... to `servers[k]`; the wall time.
pub fn ingest(servers: &[std::net::SocketAddr], batches: &Arc<Vec<String>>) -> std::time::Duration {
    let urls: Vec<String> = servers
        .iter()
        .map(|addr| format!("http://{addr}/twin/events"))
        .collect();
    ingest_to(&urls, batches)
}

/// [`ingest`] to the ingestion URLs `urls` (a plant's `/plants/ID/twin/events`).
pub fn ingest_to(urls: &[String], batches: &Arc<Vec<String>>) -> std::time::Duration {
    let started = std::time::Instant::now();
    let n = urls.len();
    let handles: Vec<_> = urls
        .iter()
        .enumerate()
        .map(|(k, url)| {
            let batches = Arc::clone(batches);
            let url = url.clone();
            std::thread::spawn(move || {
                let agent = agent();
                for b in batches.iter().skip(k).step_by(n) {
                    match agent
                        .post(&url)
                        .header("Content-Type", "application/json")
                        .send(b.as_str())
                    {
                        Ok(r) if r.status().as_u16() == 200 => {}
                        Ok(r) => panic!("ingestion answered {}", r.status()),
                        Err(e) => panic!("ingestion failed: {e}"),
                    }
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    started.elapsed()
}

/// A generated plant (issue 24): `stations` stations in lines of 10, 4 products per line with
/// changeovers between them, failures on every station, every station dispatching by `rule`, and
/// `orders` orders of 3 parts released at the start with due dates spread over the time they take.
pub fn generated_plant(stations: usize, rule: &str, orders: usize) -> String {
    use std::fmt::Write;
    let lines = stations / 10;
    let mut toml = String::new();
    let _ = writeln!(
        toml,
        "schema_version = 1\nname = \"{stations} stations, {rule}\"\n[run]\nhorizon = \"1000d\"\nseed = 7\n"
    );
    for line in 0..lines {
        for k in 0..4 {
            let _ = writeln!(toml, "[[products]]\nname = \"L{line}P{k}\"\nrouting = [");
            for s in 0..10 {
                let mean = 50 + 5 * ((s + k) % 4);
                let _ = writeln!(
                    toml,
                    "  {{ station = \"L{line}S{s}\", process_time = {{ dist = \"exponential\", mean = \"{mean}s\" }} }},"
                );
            }
            let _ = writeln!(toml, "]\n");
        }
        for s in 0..10 {
            let _ = writeln!(
                toml,
                "[[stations]]\nname = \"L{line}S{s}\"\ndispatch = \"{rule}\"\nchangeover = {{ default = \"2m\" }}\nfailures = [{{ name = \"jam\", ttf = {{ dist = \"exponential\", mean = \"4h\" }}, ttr = {{ dist = \"exponential\", mean = \"6m\" }} }}]\n"
            );
        }
    }
    for o in 0..orders {
        let line = o % lines;
        let product = (o / lines) % 4;
        // Due dates spread over the time the orders take (3 parts every ~65 s per line).
        let due_h = 1 + (o * 7919) % (orders / lines / 10 + 1);
        let _ = writeln!(
            toml,
            "[[demand.orders]]\nid = \"O{o}\"\nproduct = \"L{line}P{product}\"\nquantity = 3\nrelease = \"0h\"\ndue = \"{due_h}h\"\n"
        );
    }
    toml
}
