//! The job workers of a site on one PostgreSQL (a throwaway cluster on loopback): two `takt
//! serve --store postgres://… --workers 0` servers that accept jobs and run none, and two `takt
//! worker` processes that run them. A simulation accepted by one server is split into chunks of
//! replications that both workers run, and read through the other server; the worker holding
//! the experiment killed (SIGKILL) in the middle loses it to the other worker, which finishes it
//! to the same result, bit for bit, as one server alone gives; a cancel sent to either server
//! stops a job and all its chunks.

mod common;
#[path = "../../takt-twin/tests/common/postgres.rs"]
mod postgres;

use common::{READ, Server, WRITE, data_dir, delete, first_line, get, post, root};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `takt worker` process, and the node name it printed.
struct Worker {
    child: Child,
    node: String,
}

impl Worker {
    fn start(url: &str) -> Worker {
        let mut child = Command::new(env!("CARGO_BIN_EXE_takt"))
            .current_dir(root())
            .args([
                "worker",
                "--store",
                url,
                "--workers",
                "1",
                "--job-lease",
                "3s",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("takt worker starts");
        let line = first_line(&mut child);
        let node = line
            .strip_prefix("takt worker ")
            .and_then(|rest| rest.split(':').next())
            .unwrap_or_else(|| panic!("unexpected first line `{line}`"))
            .to_string();
        Worker { child, node }
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL on Unix
        let _ = self.child.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A simulation of the reference line that keeps one core busy for some seconds.
fn simulation(replications: u32) -> String {
    let scenario =
        std::fs::read_to_string(root().join("scenarios/reference-line.toml")).expect("scenario");
    json!({
        "scenario": scenario,
        "replications": replications,
        "seed": 11,
        "variants": [{"name": "faster M2", "overrides": ["products.part.routing[1].process_time=0.8"]}],
    })
    .to_string()
}

fn submit(s: &Server, body: &str) -> String {
    let accepted = post(s, "/simulations", Some(WRITE), body);
    assert_eq!(accepted.status, 202, "{}", accepted.text);
    accepted.body["id"].as_str().expect("an id").to_string()
}

/// Polls the job through `s` until `done(view)`, at most `limit`.
fn wait(s: &Server, id: &str, limit: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let view = get(s, &format!("/jobs/{id}"), Some(READ)).body;
        if done(&view) {
            return view;
        }
        assert!(
            started.elapsed() < limit,
            "job {id} after {limit:?}: {view}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn status_is(status: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["status"] == status
}

#[test]
fn workers_run_a_sites_jobs_and_take_over_a_killed_ones() {
    let Some(cluster) = postgres::Cluster::start() else {
        return;
    };
    let url = cluster.database("site");
    let store = ["--store", url.as_str(), "--workers", "0"];
    let a = Server::start(&data_dir("workers-a"), &store);
    let b = Server::start(&data_dir("workers-b"), &store);
    let mut workers = [Worker::start(&url), Worker::start(&url)];
    let body = simulation(12);

    // Accepted by A, taken by a worker, its progress read through B, its chunks run by both.
    let id = submit(&a, &body);
    let running = wait(&b, &id, Duration::from_secs(10), |v| {
        v["status"] == "running" && v["progress"]["done"].as_u64().is_some_and(|d| d >= 2)
    });
    let nodes_of_chunks =
        format!("SELECT count(DISTINCT node) FROM jobs WHERE parent = '{id}' AND node IS NOT NULL");
    let started = Instant::now();
    while cluster.sql("site", &nodes_of_chunks) != "2" {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the chunks of {id} are not run by both workers"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The site's job list, read through B, has the job and none of its chunks.
    let listed = get(&b, "/jobs", Some(READ));
    let jobs = listed.body["jobs"].as_array().cloned().unwrap_or_default();
    assert_eq!(jobs.len(), 1, "{}", listed.body);
    assert_eq!(jobs[0]["id"], id.as_str());
    assert!(jobs[0]["node"].is_string(), "{}", listed.body);
    // What it was, stored with it by A and read through B.
    assert!(
        jobs[0]["title"]
            .as_str()
            .is_some_and(|t| t.contains(" runs each")),
        "{}",
        listed.body
    );
    let node = cluster.sql("site", &format!("SELECT node FROM jobs WHERE key = '{id}'"));
    let holder = workers
        .iter()
        .position(|w| w.node == node)
        .unwrap_or_else(|| panic!("job on `{node}`, not on a worker; {running}"));
    // Killed mid-job: the other worker takes it (and the killed one's chunk) over once the
    // lease (3 s) has run out; the chunks done before stay done.
    workers[holder].kill();
    let killed = Instant::now();
    let done = wait(&b, &id, Duration::from_secs(90), status_is("done"));
    let taken_over_in = killed.elapsed();
    let survivor = &workers[1 - holder].node;
    assert_eq!(
        cluster.sql(
            "site",
            &format!("SELECT node || ' ' || attempts FROM jobs WHERE key = '{id}'"),
        ),
        format!("{survivor} 2")
    );
    // The job says so itself.
    assert_eq!(
        (done["node"].as_str(), done["attempts"].as_u64()),
        (Some(survivor.as_str()), Some(2)),
        "{}",
        done["node"]
    );
    // The same result as one server alone gives, bit for bit: nothing lost or counted twice.
    let alone = Server::start(&data_dir("workers-alone"), &[]);
    let reference = submit(&alone, &body);
    let reference = wait(
        &alone,
        &reference,
        Duration::from_secs(90),
        status_is("done"),
    );
    assert_eq!(done["result"], reference["result"]);
    assert_eq!(done["result"]["replications"].as_u64(), Some(12));
    assert_eq!(done["result"]["variants"].as_array().map(Vec::len), Some(2));
    // Read through A as well.
    assert_eq!(get(&a, &format!("/jobs/{id}"), Some(READ)).body, done);
    let nothing_open = || {
        let started = Instant::now();
        let open =
            "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running') OR parent IS NOT NULL";
        while cluster.sql("site", open) != "0" {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "jobs or chunks left: {}",
                cluster.sql("site", "SELECT string_agg(key || ' ' || status, ', ') FROM jobs WHERE status IN ('queued', 'running') OR parent IS NOT NULL")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    // The chunks of an ended experiment leave the store.
    nothing_open();

    // A cancel sent to B reaches the worker running a job accepted by A.
    let id = submit(&a, &simulation(200));
    wait(&a, &id, Duration::from_secs(10), status_is("running"));
    let asked = Instant::now();
    assert_eq!(delete(&b, &format!("/jobs/{id}")).status, 200);
    let cancelled = wait(&a, &id, Duration::from_secs(10), status_is("cancelled"));
    assert!(
        cancelled["error"]
            .as_str()
            .is_some_and(|e| e.contains("while running")),
        "{cancelled}"
    );
    let cancel_took = asked.elapsed();
    // Its chunks stop and go, on both workers.
    nothing_open();
    println!(
        "done {taken_over_in:?} after the kill (lease 3 s, then the chunks left); cancelled through the other \
         server in {cancel_took:?}"
    );
}
