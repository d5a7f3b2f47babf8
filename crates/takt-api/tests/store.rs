//! The server's store (scenarios, jobs) on both backends, SQLite and a real PostgreSQL (a
//! throwaway cluster on loopback): one contract; a store written before the schema had a version
//! opens unchanged; on PostgreSQL, servers sharing it hand each other cancels and take over
//! what a silent server left.

#[path = "../../takt-twin/tests/common/postgres.rs"]
mod postgres;

use postgres::Cluster;
use takt_api::db::{Db, SILENT_AFTER_MS};
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
    let id = ok(db.add_job("simulation", 10));
    assert!(id.starts_with('j') && id.len() == 33, "{id}");
    assert_eq!(ok(db.job(&id)).map(|j| j.status), Some("queued".into()));
    ok(db.set_status(&id, "running"));
    ok(db.finish(
        &id,
        "done",
        Some(&serde_json::json!({"oee": 0.61})),
        None,
        20,
    ));
    let j = ok(db.job(&id)).unwrap_or_else(|| panic!("job {id}"));
    let other = ok(db.add_job("schedule", 30));
    ok(db.finish(&other, "failed", None, Some("no machine"), 31));
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
/// scenario and its finished job with the result are there, and version 1 is recorded.
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
        let result = job.result.unwrap_or_else(|| panic!("its result"));
        assert!(result.get("variants").is_some(), "{result}");
        // A new job goes in beside it.
        let id = ok(db.add_job("simulation", 1));
        assert!(ok(db.job(&id)).is_some());
    }
    let conn = ok(rusqlite::Connection::open(&path));
    let version: i64 = ok(conn.query_row(
        "SELECT MAX(version) FROM takt_server_schema_history",
        [],
        |r| r.get(0),
    ));
    assert_eq!(version, 1);
}

/// On PostgreSQL, two servers share the jobs. A cancel asked of server B for a job of server A
/// reaches A at its next heartbeat; a job whose server fell silent for 30 s is marked
/// `interrupted` by the other, and a job that keeps its heartbeat is left alone.
#[test]
fn servers_sharing_postgres_pass_on_cancels_and_take_over_silent_jobs() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let location = ok(StoreLocation::parse(&cluster.database("site")));
    let a = ok(Db::connect(&location, 0));
    let b = ok(Db::connect(&location, 0));
    let alive = ok(a.add_job("simulation", 1_000));
    let cancelled = ok(a.add_job("simulation", 1_000));
    let abandoned = ok(b.add_job("schedule", 1_000));
    ok(a.set_status(&alive, "running"));
    // B is asked to cancel A's job: nothing changes in the store but the request.
    ok(b.request_cancel(&cancelled));
    assert_eq!(
        ok(b.job(&cancelled)).map(|j| j.status),
        Some("queued".into())
    );
    // A's heartbeat renews its jobs with their progress and hears of the cancel.
    assert_eq!(
        ok(a.heartbeat(20_000, &[(alive.clone(), 3, 40)])),
        vec![cancelled.clone()]
    );
    // B shows the progress of A's job as A last stored it.
    assert_eq!(ok(b.job(&alive)).and_then(|j| j.progress), Some((3, 40)));
    // B falls silent; A's later heartbeats mark B's job interrupted once 30 s have passed.
    ok(a.heartbeat(1_000 + SILENT_AFTER_MS - 1, &[]));
    assert_eq!(
        ok(a.job(&abandoned)).map(|j| j.status),
        Some("queued".into())
    );
    ok(a.heartbeat(1_000 + SILENT_AFTER_MS + 1, &[]));
    let gone = ok(a.job(&abandoned)).unwrap_or_else(|| panic!("the abandoned job"));
    assert_eq!(gone.status, "interrupted");
    assert!(gone.error.is_some_and(|e| e.contains("no heartbeat")));
    assert_eq!(ok(a.job(&alive)).map(|j| j.status), Some("running".into()));
    // A server starting later does the same at once.
    let c = ok(Db::connect(&location, 20_000 + 10 * SILENT_AFTER_MS));
    assert_eq!(
        ok(c.job(&alive)).map(|j| j.status),
        Some("interrupted".into())
    );
}
