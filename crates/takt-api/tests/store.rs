//! The server's store (scenarios, jobs) on both backends, SQLite and a real PostgreSQL (a
//! throwaway cluster on loopback): one contract; a store written before the schema had a version
//! opens unchanged; on PostgreSQL the jobs table is the site's queue: each job is taken by one
//! node, a silent node's jobs go back to the queue, cancels reach the node that runs the job.

#[path = "../../takt-twin/tests/common/postgres.rs"]
mod postgres;

use postgres::Cluster;
use takt_api::db::{Db, MAX_ATTEMPTS};
use takt_twin::store::StoreLocation;

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// What one store shows after the same script.
#[derive(Debug, PartialEq)]
struct Seen {
    ids: (String, String, String),
    listed: Vec<(String, String)>,
    text: Option<String>,
    missing: (bool, bool),
    job: (
        String,
        Option<serde_json::Value>,
        Option<String>,
        Option<i64>,
    ),
    failed: (String, Option<String>),
}

fn script(db: &Db) -> Seen {
    let a = ok(db.add_scenario("line A", "[plant]\nname = 'A'\n", 1));
    let again = ok(db.add_scenario_once("line A", "[plant]\nname = 'A'\n", 2));
    let b = ok(db.add_scenario_once("line B", "[plant]\nname = 'B'\n", 3));
    let listed = ok(db.scenarios())
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let text = ok(db.scenario(&b)).map(|s| s.toml);
    let missing = (
        ok(db.scenario("s999")).is_none(),
        ok(db.scenario("nonsense")).is_none(),
    );
    let id = ok(db.add_job("simulation", None, Some("{}"), 10));
    assert!(id.starts_with('j') && id.len() == 33, "{id}");
    assert_eq!(ok(db.job(&id)).map(|j| j.status), Some("queued".into()));
    ok(db.set_status(&id, "running"));
    ok(db.finish(
        &id,
        "done",
        Some(&serde_json::json!({"oee": 0.61})),
        None,
        Some((7, 7)),
        20,
    ));
    let j = ok(db.job(&id)).unwrap_or_else(|| panic!("job {id}"));
    // Its progress at its end is stored with it: no server needs to remember it.
    assert_eq!(j.progress, Some((7, 7)));
    let other = ok(db.add_job("schedule", None, None, 30));
    ok(db.finish(&other, "failed", None, Some("no machine"), None, 31));
    let f = ok(db.job(&other)).unwrap_or_else(|| panic!("job {other}"));
    assert!(ok(db.job("jnothing")).is_none());
    Seen {
        ids: (a, again, b),
        listed,
        text,
        missing,
        job: (j.status, j.result, j.error, j.finished_ms),
        failed: (f.status, f.error),
    }
}

#[test]
fn both_backends_keep_the_contract() {
    let dir = ok(tempfile::tempdir());
    let mut seen = vec![script(&ok(Db::open(&dir.path().join("server.sqlite"))))];
    let cluster = Cluster::start();
    if let Some(cluster) = &cluster {
        let url = cluster.database("server");
        seen.push(script(&ok(Db::connect(&ok(StoreLocation::parse(&url)), 0))));
    }
    let expected = Seen {
        ids: ("s1".into(), "s1".into(), "s2".into()),
        listed: vec![
            ("s1".into(), "line A".into()),
            ("s2".into(), "line B".into()),
        ],
        text: Some("[plant]\nname = 'B'\n".into()),
        missing: (true, true),
        job: (
            "done".into(),
            Some(serde_json::json!({"oee": 0.61})),
            None,
            Some(20),
        ),
        failed: ("failed".into(), Some("no machine".into())),
    };
    for (backend, s) in ["SQLite", "PostgreSQL"].iter().zip(&seen) {
        assert_eq!(s, &expected, "{backend}");
    }
}

/// The server's store that release 0.1.0 wrote (fixtures/README.md) opens with today's code: its
/// scenario and its finished job with the result are there, and every version is recorded.
#[test]
fn a_store_written_before_versions_opens_unchanged() {
    let dir = ok(tempfile::tempdir());
    let path = dir.path().join("server.sqlite");
    ok(std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/server-store-0.1.0.sqlite"
        ),
        &path,
    ));
    for _ in 0..2 {
        let db = ok(Db::open(&path));
        let scenarios = ok(db.scenarios());
        assert_eq!(scenarios.len(), 1);
        assert_eq!(scenarios[0].id, "s1");
        assert_eq!(scenarios[0].name, "Bottling line - one shift");
        let job = ok(db.job("jcfa22d0408658c1189272a13bb756aa7"))
            .unwrap_or_else(|| panic!("the stored job"));
        assert_eq!(
            (job.kind.as_str(), job.status.as_str()),
            ("simulation", "done")
        );
        assert_eq!(job.title, None);
        let result = job.result.unwrap_or_else(|| panic!("its result"));
        assert!(result.get("variants").is_some(), "{result}");
        // A new job goes in beside it.
        let id = ok(db.add_job("simulation", Some("a study"), None, 1));
        let new = ok(db.job(&id)).unwrap_or_else(|| panic!("the new job"));
        assert_eq!(new.title.as_deref(), Some("a study"));
    }
    let conn = ok(rusqlite::Connection::open(&path));
    let version: i64 = ok(conn.query_row(
        "SELECT MAX(version) FROM takt_server_schema_history",
        [],
        |r| r.get(0),
    ));
    // V3 added the progress at a job's end, V4 a job's title (none for the job stored before).
    assert_eq!(version, 4);
}

/// On PostgreSQL the jobs table is the site's queue. Two nodes taking jobs at once take each
/// once; a cancel of a queued job is stored at once, of a running one reaches its node at its
/// next heartbeat; a node silent past its lease loses its job to the queue (and cannot store an
/// end for it any more); a job taken over too often ends `interrupted`.
#[test]
fn nodes_sharing_postgres_take_each_job_once_and_take_over_silent_ones() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let location = ok(StoreLocation::parse(&cluster.database("site")));
    let (a, b) = (ok(Db::connect(&location, 0)), ok(Db::connect(&location, 0)));
    assert!(a.is_shared());
    let lease = 10_000;

    // Two nodes take 40 jobs as fast as they can: every job once, none twice.
    let queued: Vec<String> = (0..40)
        .map(|k| ok(a.add_job("simulation", None, Some(&format!("{{\"k\":{k}}}")), 1)))
        .collect();
    assert_eq!(ok(b.queued()), 40);
    let take = |db: &Db| {
        let mut taken = Vec::new();
        while let Some(c) = ok(db.claim(2, lease)) {
            assert_eq!(c.attempt, 1);
            taken.push(c.id);
        }
        taken
    };
    let (by_a, by_b) = std::thread::scope(|s| {
        let by_a = s.spawn(|| take(&a));
        let by_b = s.spawn(|| take(&b));
        (
            by_a.join().unwrap_or_default(),
            by_b.join().unwrap_or_default(),
        )
    });
    let mut all: Vec<String> = by_a.iter().chain(&by_b).cloned().collect();
    all.sort();
    let mut expected = queued.clone();
    expected.sort();
    assert_eq!(all, expected, "{} by A, {} by B", by_a.len(), by_b.len());
    for id in &queued {
        ok(a.finish(id, "done", None, None, None, 3));
        ok(b.finish(id, "done", None, None, None, 3));
    }
    assert_eq!(ok(a.queued()), 0);

    // Cancels: a queued job at once, a running one through its node's heartbeat.
    let waiting = ok(a.add_job("schedule", None, Some("{}"), 1_000));
    ok(b.request_cancel(&waiting, 1_001));
    let cancelled = ok(a.job(&waiting)).unwrap_or_else(|| panic!("the cancelled job"));
    assert_eq!(cancelled.status, "cancelled");
    assert!(
        ok(a.claim(1_002, lease)).is_none(),
        "a cancelled job is never taken"
    );
    let running = ok(a.add_job("simulation", None, Some("{}"), 1_000));
    let held = ok(a.claim(1_000, lease)).unwrap_or_else(|| panic!("a job to take"));
    assert_eq!(held.spec.as_deref(), Some("{}"));
    ok(b.request_cancel(&running, 1_100));
    let beat = ok(a.heartbeat(2_000, lease, &[(running.clone(), 3, 40)]));
    assert_eq!(beat.cancel, vec![running.clone()]);
    assert!(beat.lost.is_empty());
    // The other node shows the progress as A last stored it.
    assert_eq!(ok(b.job(&running)).and_then(|j| j.progress), Some((3, 40)));
    ok(a.finish(
        &running,
        "cancelled",
        None,
        Some("cancelled while running"),
        None,
        2_100,
    ));

    // B takes a job and falls silent; A's heartbeats leave it B's until its lease runs out.
    let job = ok(a.add_job("simulation", None, Some("{}"), 3_000));
    assert_eq!(ok(b.claim(3_000, lease)).map(|c| c.id), Some(job.clone()));
    ok(a.heartbeat(3_000 + lease - 1, lease, &[]));
    assert_eq!(ok(a.job(&job)).map(|j| j.status), Some("running".into()));
    ok(a.heartbeat(3_000 + lease + 1, lease, &[]));
    assert_eq!(ok(a.job(&job)).map(|j| j.status), Some("queued".into()));
    let again = ok(a.claim(3_000 + lease + 2, lease)).unwrap_or_else(|| panic!("taken over"));
    assert_eq!((again.id.as_str(), again.attempt), (job.as_str(), 2));
    // B comes back: its heartbeat says the job is no longer its own, and its end is not stored.
    let beat = ok(b.heartbeat(3_000 + lease + 3, lease, &[(job.clone(), 9, 9)]));
    assert_eq!(beat.lost, vec![job.clone()]);
    ok(b.finish(
        &job,
        "done",
        Some(&serde_json::json!({"by": "B"})),
        None,
        None,
        1,
    ));
    let now = ok(a.job(&job)).unwrap_or_else(|| panic!("the job"));
    assert_eq!((now.status.as_str(), now.result), ("running", None));
    // A hands it back at a shutdown: queued, and the take it had does not count.
    ok(a.release(&job));
    let third = ok(b.claim(20_000, lease)).unwrap_or_else(|| panic!("taken again"));
    assert_eq!(third.attempt, 2);

    // Taken and abandoned MAX_ATTEMPTS times: not taken again.
    let mut t = 20_000;
    for _ in third.attempt..MAX_ATTEMPTS {
        t += lease + 1;
        ok(a.heartbeat(t, lease, &[]));
        assert!(ok(a.claim(t, lease)).is_some());
    }
    ok(a.heartbeat(t + lease + 1, lease, &[]));
    let gone = ok(a.job(&job)).unwrap_or_else(|| panic!("the abandoned job"));
    assert_eq!(gone.status, "interrupted");
    assert!(gone.error.is_some_and(|e| e.contains("not taken again")));
    // A node starting later hands back what was left at once.
    let late = ok(a.add_job("schedule", None, Some("{}"), t));
    ok(a.claim(t, lease));
    let c = ok(Db::connect(&location, t + 10 * lease));
    assert_eq!(ok(c.job(&late)).map(|j| j.status), Some("queued".into()));
}

#[test]
fn chunks_of_a_job_go_first_count_apart_and_leave_with_their_job() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let location = ok(StoreLocation::parse(&cluster.database("chunks")));
    let (a, b) = (ok(Db::connect(&location, 0)), ok(Db::connect(&location, 0)));
    let lease = 10_000;
    let parent = ok(a.add_job("simulation", None, Some("{}"), 1));
    let waiting = ok(a.add_job("schedule", None, Some("{}"), 2));
    assert_eq!(ok(a.claim(3, lease)).map(|c| c.id), Some(parent.clone()));
    let chunk = |k: usize| {
        (
            format!("{parent}.0.{k}"),
            "simulation-chunk",
            format!("{{\"k\":{k}}}"),
        )
    };
    ok(a.add_chunks(&parent, &[chunk(0), chunk(1), chunk(2)], 4));
    // Stored again (the job taken over splits again): kept as they are.
    ok(a.add_chunks(&parent, &[chunk(0)], 5));
    assert_eq!(ok(a.chunks(&parent)).len(), 3);
    // Chunks do not count against the queue, and go before a whole job queued earlier.
    assert_eq!(ok(b.queued()), 1);
    let first = ok(b.claim(6, lease)).unwrap_or_else(|| panic!("a chunk"));
    assert_eq!(first.id, chunk(0).0);
    assert_eq!(first.spec.as_deref(), Some("{\"k\":0}"));
    // The job's own node takes only its chunks.
    let other = ok(a.add_job("simulation", None, Some("{}"), 7));
    assert!(ok(a.claim_chunk(&other, 8, lease)).is_none());
    assert_eq!(
        ok(a.claim_chunk(&parent, 8, lease)).map(|c| c.id),
        Some(chunk(1).0)
    );
    ok(b.heartbeat(9, lease, &[(first.id.clone(), 2, 5)]));
    ok(b.finish(
        &first.id,
        "done",
        Some(&serde_json::json!([1, 2])),
        None,
        None,
        10,
    ));
    let states = ok(b.chunks(&parent));
    let status: Vec<(&str, u64)> = states.iter().map(|s| (s.status.as_str(), s.done)).collect();
    assert_eq!(status, [("done", 2), ("running", 0), ("queued", 0)]);
    assert_eq!(
        ok(b.job(&first.id)).and_then(|j| j.result),
        Some(serde_json::json!([1, 2]))
    );
    // The job ends: its chunks go at the next heartbeat, and a node running one has lost it
    // at its heartbeat after that.
    ok(a.finish(
        &parent,
        "done",
        Some(&serde_json::json!({})),
        None,
        None,
        11,
    ));
    ok(b.heartbeat(12, lease, &[]));
    let beat = ok(a.heartbeat(12, lease, &[(chunk(1).0, 0, 5)]));
    assert_eq!(beat.lost, vec![chunk(1).0]);
    assert!(ok(b.chunks(&parent)).is_empty());
    assert_eq!(ok(b.claim(13, lease)).map(|c| c.id), Some(waiting));
    // Alone, a store has no chunks.
    let dir = std::env::temp_dir().join(format!("takt-chunks-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let alone = ok(Db::open(&dir.join("server.sqlite")));
    assert!(alone.chunks("j1").is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
