//! The event store's contract on every backend: SQLite, memory and a real PostgreSQL (a throwaway
//! cluster on loopback). Then what only the databases do: a store written before the schema had
//! a version opens unchanged, PostgreSQL's weekly partitions and retention, and two servers
//! writing one PostgreSQL database at once.

mod common;
#[path = "common/postgres.rs"]
mod postgres;

use postgres::Cluster;
use takt_twin::alerts::{Alert, Severity};
use takt_twin::event::{Body, Checked, parse};
use takt_twin::store::{DeadLetter, Durability, PostgresLocation, Store, StoreLocation};

fn event_at(asset: &str, seq: u64, good: u64, ts: &str) -> (Checked, String) {
    let text =
        format!(r#"{{"ts":"{ts}","asset":"{asset}","kind":"count","seq":{seq},"good":{good}}}"#);
    match parse(&text) {
        Ok(c) => (c, text),
        Err(e) => panic!("{text}: {e}"),
    }
}

fn event(asset: &str, seq: u64, good: u64) -> (Checked, String) {
    event_at(
        asset,
        seq,
        good,
        &format!("2026-01-05T06:00:{:02}Z", seq % 60),
    )
}

fn letter(n: i64) -> DeadLetter {
    DeadLetter {
        received_ms: n,
        source: "test".into(),
        payload: "{".into(),
        reason: format!("bad {n}"),
    }
}

fn alert(id: u64, open: bool) -> Alert {
    Alert {
        id,
        rule: "filler down".into(),
        kind: "down".into(),
        severity: Severity::Critical,
        asset: "Filler".into(),
        mode: None,
        order: None,
        message: format!("alert {id}"),
        value: 600.0,
        raised_ms: 1_000 * id as i64,
        cleared_ms: (!open).then_some(2_000 * id as i64),
        acknowledged: None,
    }
}

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// What one store shows after the same script of appends, repairs and alerts.
#[derive(Debug, PartialEq)]
struct Seen {
    new: Vec<Vec<bool>>,
    goods: Vec<(String, u64, u64)>,
    counts: (u64, u64),
    contains: Vec<bool>,
    newest_letters: Vec<String>,
    open_alerts: Vec<(u64, String)>,
    all_alerts: Vec<u64>,
    last_alert: u64,
    after_repair: (u64, u64, bool, Vec<bool>),
}

fn script(mut store: Store) -> Seen {
    let new = vec![
        ok(store.append(
            &mut [event("A", 1, 1), event("B", 1, 2), event("A", 1, 3)],
            &[letter(1)],
        )),
        ok(store.append(&mut [event("B", 2, 4), event("B", 1, 5)], &[letter(2)])),
        ok(store.append(&mut [], &[])),
    ];
    let mut goods = Vec::new();
    let n = ok(store.for_each(|c| {
        if let Body::Count(b) = &c.event.body {
            goods.push((c.event.asset.clone(), c.event.seq, b.good));
        }
    }));
    assert_eq!(n as usize, goods.len());
    let counts = (ok(store.event_count()), ok(store.dead_letter_count()));
    let contains = [("B", 2), ("A", 2), ("C", 1)]
        .iter()
        .map(|(a, s)| ok(store.contains(a, *s)))
        .collect();
    let newest_letters = ok(store.dead_letters(1))
        .into_iter()
        .map(|d| d.reason)
        .collect();
    ok(store.save_alerts(&[alert(1, true), alert(2, true), alert(3, false)]));
    ok(store.save_alerts(&[alert(2, false)]));
    let open_alerts = ok(store.alerts(true, 10))
        .into_iter()
        .map(|a| (a.id, a.message))
        .collect();
    let all_alerts = ok(store.alerts(false, 2))
        .into_iter()
        .map(|a| a.id)
        .collect();
    let last_alert = ok(store.last_alert_id());
    assert_eq!(ok(store.alert(2)).map(|a| a.is_open()), Some(false));
    assert!(ok(store.alert(9)).is_none());
    // A repair moves the second stored event (B 1) to the dead letters; its key is free again.
    let mut ids = Vec::new();
    ok(store.for_each_text(|id, _| ids.push(id)));
    ok(store.quarantine(&[(ids[1], "refused today".into())], 7));
    let resent = ok(store.append(&mut [event("B", 1, 6)], &[]));
    let after_repair = (
        ok(store.event_count()),
        ok(store.dead_letter_count()),
        ok(store.contains("B", 1)),
        resent,
    );
    Seen {
        new,
        goods,
        counts,
        contains,
        newest_letters,
        open_alerts,
        all_alerts,
        last_alert,
        after_repair,
    }
}

/// The memory store, SQLite and PostgreSQL behave alike, and as the contract says: duplicates by
/// asset + seq within a batch and across batches (the first copy wins), events read back in the
/// order accepted, dead letters newest first, alerts replaced by id, a repaired event's key free.
#[test]
fn every_backend_keeps_the_contract() {
    let dir = ok(tempfile::tempdir());
    let mut seen = vec![
        script(ok(Store::memory())),
        script(ok(Store::open(
            &dir.path().join("twin.db"),
            Durability::Normal,
        ))),
    ];
    let cluster = Cluster::start();
    if let Some(cluster) = &cluster {
        let url = cluster.database("contract");
        let location = ok(StoreLocation::parse(&url));
        seen.push(script(ok(Store::connect(&location, Durability::Full))));
    }
    let expected = Seen {
        new: vec![vec![true, true, false], vec![true, false], vec![]],
        goods: vec![("A".into(), 1, 1), ("B".into(), 1, 2), ("B".into(), 2, 4)],
        counts: (3, 2),
        contains: vec![true, false, false],
        newest_letters: vec!["bad 2".into()],
        open_alerts: vec![(1, "alert 1".into())],
        all_alerts: vec![3, 2],
        last_alert: 3,
        after_repair: (3, 3, true, vec![true]),
    };
    for (backend, s) in ["memory", "SQLite", "PostgreSQL"].iter().zip(&seen) {
        assert_eq!(s, &expected, "{backend}");
    }
}

/// A store that release 0.1.0 wrote, before its schema had a version (fixtures/README.md), opens
/// with today's code: version 1 is recorded, then version 2 keeps its events a batch per row
/// (and version 3 adds the saved mirror's table); nothing is lost, the order is kept, a resent
/// event is still a duplicate, and it opens again.
#[test]
fn a_store_written_before_versions_opens_unchanged() {
    let dir = ok(tempfile::tempdir());
    let path = dir.path().join("twin.db");
    ok(std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/twin-store-0.1.0.sqlite"
        ),
        &path,
    ));
    let before: Vec<String> = {
        let conn = ok(rusqlite::Connection::open(&path));
        let mut bodies = ok(conn.prepare("SELECT body FROM events ORDER BY id"));
        ok(ok(bodies.query_map([], |r| r.get(0))).collect())
    };
    assert_eq!(before.len(), 300);
    for _ in 0..2 {
        let mut store = ok(Store::open(&path, Durability::Full));
        let mut texts = Vec::new();
        ok(store.for_each_text(|_, text| texts.push(text.to_string())));
        assert_eq!(texts, before);
        let mut first = parse(&before[0]).map(|c| (c, before[0].clone()));
        let first = first.as_mut().map(std::slice::from_mut);
        assert_eq!(ok(store.append(ok(first), &[])), [false]);
        let store = ok(Store::open(&path, Durability::Full));
        assert_eq!(ok(store.event_count()), 300);
        assert_eq!(ok(store.dead_letter_count()), 1);
        let mut assets = std::collections::BTreeSet::new();
        assert_eq!(
            ok(store.for_each(|c| {
                assets.insert(c.event.asset);
            })),
            300
        );
        assert_eq!(assets.len(), 3, "{assets:?}");
        assert!(
            ok(store.dead_letters(1))[0]
                .reason
                .contains("unknown asset `Nowhere`")
        );
    }
    let conn = ok(rusqlite::Connection::open(&path));
    let mut versions = ok(conn.prepare("SELECT version FROM takt_twin_schema_history"));
    let versions: Vec<i64> = ok(ok(versions.query_map([], |r| r.get(0))).collect());
    assert_eq!(versions, [1, 2, 3, 4]);
}

/// Two processes writing one SQLite file: each append first reads what the other stored, so a
/// resend through either is a duplicate, and counts and reads see both.
#[test]
fn sqlite_keys_hold_across_writers_of_one_file() {
    let dir = ok(tempfile::tempdir());
    let path = dir.path().join("twin.db");
    let mut one = ok(Store::open(&path, Durability::Normal));
    let mut two = ok(Store::open(&path, Durability::Normal));
    assert_eq!(
        ok(one.append(&mut [event("A", 1, 1), event("B", 1, 2)], &[])),
        [true, true]
    );
    assert!(ok(two.contains("A", 1)) && !ok(two.contains("A", 2)));
    assert_eq!(ok(two.event_count()), 2);
    assert_eq!(
        ok(two.append(&mut [event("A", 1, 3), event("A", 2, 4)], &[])),
        [false, true]
    );
    assert_eq!(ok(one.append(&mut [event("A", 2, 5)], &[])), [false]);
    let mut goods = Vec::new();
    ok(one.for_each(|c| {
        if let Body::Count(b) = &c.event.body {
            goods.push(b.good);
        }
    }));
    assert_eq!(goods, [1, 2, 4]);
    assert_eq!(ok(one.event_count()), 3);
}

/// A batch larger than a row holds (65,536 events) spans rows and is read back whole and in order;
/// a repair in the second row frees its key, and the store opened again agrees.
#[test]
fn sqlite_batches_span_rows() {
    let dir = ok(tempfile::tempdir());
    let path = dir.path().join("twin.db");
    let mut store = ok(Store::open(&path, Durability::Normal));
    let mut batch: Vec<_> = (1..=70_000).map(|s| event("A", s, s)).collect();
    assert!(ok(store.append(&mut batch, &[])).iter().all(|n| *n));
    let mut seen = Vec::new();
    ok(store.for_each_text(|id, text| seen.push((id, text.len()))));
    assert_eq!(seen.len(), 70_000);
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
    let (id, _) = seen[69_000];
    ok(store.quarantine(&[(id, "refused today".into())], 7));
    assert!(!ok(store.contains("A", 69_001)) && ok(store.contains("A", 69_000)));
    drop(store);
    let mut store = ok(Store::open(&path, Durability::Normal));
    assert_eq!(ok(store.event_count()), 69_999);
    assert_eq!(ok(store.dead_letters(1))[0].reason, "refused today");
    assert_eq!(
        ok(store.append(&mut [event("A", 69_001, 1), event("A", 70_000, 1)], &[])),
        [true, false]
    );
}

fn partitions(cluster: &Cluster, db: &str) -> Vec<String> {
    let list = cluster.sql(
        db,
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'events'::regclass ORDER BY 1",
    );
    list.lines().map(str::to_string).collect()
}

/// PostgreSQL keeps events in one partition per UTC week (Monday to Monday), made as events
/// arrive; the retention drops the weeks that ended before the newest event less the retention,
/// with their keys, so a resend of a dropped event is stored again.
#[test]
fn postgres_keeps_weeks_and_drops_them_after_the_retention() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let url = cluster.database("weeks");
    let mut location = ok(PostgresLocation::parse(&url));
    location.retention_ms = Some(14 * 86_400_000);
    let location = StoreLocation::Postgres(location);
    let mut store = ok(Store::connect(&location, Durability::Full));
    // Monday 5 January 2026, the Sunday that ends its week, and the Monday after.
    ok(store.append(
        &mut [
            event_at("Filler", 1, 1, "2026-01-05T00:00:00Z"),
            event_at("Filler", 2, 2, "2026-01-11T23:59:59.999Z"),
            event_at("Filler", 3, 3, "2026-01-12T00:00:00Z"),
        ],
        &[],
    ));
    assert_eq!(
        partitions(&cluster, "weeks"),
        ["events_w20260105", "events_w20260112"]
    );
    assert_eq!(
        cluster.sql("weeks", "SELECT count(*) FROM events_w20260105"),
        "2"
    );
    // 26 January less 14 days is the 12th: the first week ended then, and goes.
    ok(store.append(&mut [event_at("Filler", 4, 4, "2026-01-26T08:00:00Z")], &[]));
    assert_eq!(
        partitions(&cluster, "weeks"),
        ["events_w20260112", "events_w20260126"]
    );
    assert_eq!(ok(store.event_count()), 2);
    assert!(!ok(store.contains("Filler", 1)));
    assert!(ok(store.contains("Filler", 3)));
    drop(store);
    // Opened again, it holds what was kept, in order.
    let store = ok(Store::connect(&location, Durability::Full));
    let mut seqs = Vec::new();
    ok(store.for_each(|c| seqs.push(c.event.seq)));
    assert_eq!(seqs, [3, 4]);
}

/// Two servers on one PostgreSQL database, opened at the same moment (their migrations one after
/// the other), append the same 2,000 events at once in batches of 100, in opposite orders: each
/// event is stored once and called new by exactly one of them.
#[test]
fn two_servers_on_one_database_store_each_event_once() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let url = cluster.database("site");
    let events: Vec<(Checked, String)> = (0..2_000u64)
        .map(|i| {
            event_at(
                ["Filler", "Labeller"][i as usize % 2],
                i,
                i,
                &format!("2026-01-05T06:{:02}:{:02}Z", i / 60 % 60, i % 60),
            )
        })
        .collect();
    let handles: Vec<_> = [false, true]
        .into_iter()
        .map(|reversed| {
            let url = url.clone();
            let mut mine = events.clone();
            if reversed {
                mine.reverse();
            }
            std::thread::spawn(move || {
                let location = ok(StoreLocation::parse(&url));
                let mut store = ok(Store::connect(&location, Durability::Full));
                let mut new = Vec::new();
                for batch in mine.chunks_mut(100) {
                    let flags = ok(store.append(batch, &[]));
                    new.extend(
                        batch
                            .iter()
                            .zip(flags)
                            .filter(|(_, n)| *n)
                            .map(|((c, _), _)| c.event.seq),
                    );
                }
                new
            })
        })
        .collect();
    let mut new: Vec<u64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap_or_else(|_| panic!("a server failed")))
        .collect();
    new.sort_unstable();
    assert_eq!(new, (0..2_000).collect::<Vec<u64>>());
    let store = ok(Store::connect(
        &ok(StoreLocation::parse(&url)),
        Durability::Full,
    ));
    assert_eq!(ok(store.event_count()), 2_000);
    // The order book given to one server is the one every server reads; a new one replaces it.
    let mut other = ok(Store::connect(
        &ok(StoreLocation::parse(&url)),
        Durability::Full,
    ));
    assert_eq!(ok(store.order_book()), None);
    ok(other.save_order_book(1, r#"{"orders":"first"}"#));
    ok(other.save_order_book(2, r#"{"orders":"second"}"#));
    assert_eq!(
        ok(store.order_book()),
        Some((2, r#"{"orders":"second"}"#.to_string()))
    );
    assert_eq!(
        cluster.sql("site", "SELECT count(*) FROM takt_twin_schema_history"),
        "3"
    );
}

/// One database holds several plants: each store in a schema of its own keeps its own events,
/// keys, history of versions, appends' lock, judge and notification channel; the default schema's
/// store is the one a database held before plants (its channel and tables unchanged).
#[test]
fn plants_in_schemas_of_one_database_keep_apart() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let url = cluster.database("site");
    let base = ok(PostgresLocation::parse(&url));
    let press = ok(base.clone().with_schema("plant_press"));
    let paint = ok(base.clone().with_schema("plant_paint"));
    assert!(base.clone().with_schema("Plant; DROP").is_err());
    assert!(base.clone().with_schema(&"p".repeat(49)).is_err());
    assert_eq!(press.to_string(), format!("{base} (schema plant_press)"));
    let open = |l: &PostgresLocation| {
        ok(Store::connect(
            &StoreLocation::Postgres(l.clone()),
            Durability::Full,
        ))
    };
    let (mut on_default, mut on_press, mut on_paint) = (open(&base), open(&press), open(&paint));
    // The same asset and sequence number in two plants are two events.
    assert_eq!(
        ok(on_press.append(&mut [event("Press", 1, 1)], &[])),
        [true]
    );
    assert_eq!(
        ok(on_paint.append(&mut [event("Press", 1, 1)], &[])),
        [true]
    );
    assert_eq!(
        ok(on_paint.append(&mut [event("Oven", 1, 1), event("Oven", 2, 1)], &[])),
        [true, true]
    );
    assert_eq!(ok(on_default.event_count()), 0);
    assert_eq!(ok(on_press.event_count()), 1);
    assert_eq!(ok(on_paint.event_count()), 3);
    assert!(!ok(on_press.contains("Oven", 1)));
    // Another server of the press plant sees the press plant's events only.
    let mut press_b = open(&press);
    assert_eq!(ok(press_b.others()).len(), 1);
    for schema in ["plant_press", "plant_paint"] {
        assert_eq!(
            cluster.sql(
                "site",
                &format!("SELECT count(*) FROM {schema}.takt_twin_schema_history")
            ),
            "3"
        );
    }
    // Each plant has its judge: one server per plant takes it, the second of a plant does not.
    use takt_twin::store::Judging;
    assert_eq!(ok(on_press.judging()), Judging::BecameJudge);
    assert_eq!(ok(on_paint.judging()), Judging::BecameJudge);
    assert_eq!(ok(on_default.judging()), Judging::BecameJudge);
    assert_eq!(ok(press_b.judging()), Judging::Another);
    // Each plant notifies on its own channel; the default keeps the channel it had.
    use takt_twin::store::{EVENTS_CHANNEL, events_channel};
    assert_eq!(events_channel(&base), EVENTS_CHANNEL);
    assert_eq!(events_channel(&press), "takt_events_plant_press");
    assert_ne!(events_channel(&press), events_channel(&paint));
}

/// The PostgreSQL client is synchronous with a runtime of its own: a store used from inside a
/// server's or a listener's async runtime still works (each call runs on a thread of its own).
#[test]
fn a_postgres_store_works_inside_an_async_runtime() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let url = cluster.database("inside");
    let runtime = ok(tokio::runtime::Builder::new_current_thread().build());
    let stored = runtime.block_on(async {
        let mut store = ok(Store::connect(
            &ok(StoreLocation::parse(&url)),
            Durability::Full,
        ));
        let new = ok(store.append(&mut [event("A", 1, 1), event("A", 1, 1)], &[]));
        (new, ok(store.event_count()))
    });
    assert_eq!(stored, (vec![true, false], 1));
}

/// With a retention, an event older than the store keeps (the retention before the newest event,
/// its own batch's included) is refused with the reason, not accepted and then dropped with its
/// week: nothing acknowledged is lost.
#[test]
fn an_event_past_the_retention_is_refused_not_accepted_and_lost() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let mut location = ok(PostgresLocation::parse(&cluster.database("kept")));
    location.retention_ms = Some(14 * 86_400_000);
    let store = ok(Store::connect(
        &StoreLocation::Postgres(location),
        Durability::Full,
    ));
    let model = common::bottling();
    let mut twin = ok(takt_twin::Twin::open(
        &model,
        store,
        takt_twin::mirror::MirrorConfig::default(),
    ));
    let line = |seq: u64, ts: &str| event_at("Filler", seq, seq, ts).1;
    let (old, new) = (
        line(1, "2026-01-05T06:00:00Z"),
        line(2, "2026-01-26T06:00:00Z"),
    );
    // Received on 27 January: the recording's time gate lets both through.
    let received_ms = 1_769_472_000_000;
    let report = ok(twin.ingest_lines("test", &[&old, &new], received_ms));
    assert_eq!(report.accepted, 1);
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_eq!(report.rejected[0].index, 0);
    assert!(
        report.rejected[0]
            .reason
            .contains("older than the store keeps"),
        "{}",
        report.rejected[0].reason
    );
    // Within the retention: kept.
    let within = line(3, "2026-01-20T06:00:00Z");
    assert_eq!(
        ok(twin.ingest_lines("test", &[&within], received_ms)).accepted,
        1
    );
    assert_eq!(ok(twin.store().event_count()), 2);
    assert_eq!(ok(twin.store().dead_letter_count()), 1);
}

/// A version-1 store of some size opens as version 2 in the order it was written, and the pages
/// its old rows held go back to the file system instead of doubling the file.
#[test]
fn a_version_1_store_converts_and_gives_its_old_pages_back() {
    let dir = ok(tempfile::tempdir());
    let path = dir.path().join("twin.db");
    let events: Vec<(Checked, String)> = (1..=30_000).map(|s| event("Filler", s, s)).collect();
    {
        let conn = ok(rusqlite::Connection::open(&path));
        ok(conn.execute_batch(include_str!("../migrations/sqlite/V1__events.sql")));
        ok(conn.execute_batch("BEGIN"));
        for (c, text) in &events {
            ok(conn.execute(
                "INSERT INTO events (asset, seq, ts_ms, kind, body) VALUES (?1, ?2, ?3, 'count', ?4)",
                rusqlite::params![c.event.asset, c.event.seq as i64, c.ts_ms, text],
            ));
        }
        ok(conn.execute_batch("COMMIT"));
    }
    let before = ok(std::fs::metadata(&path)).len();
    let mut store = ok(Store::open(&path, Durability::Full));
    let mut texts = Vec::new();
    ok(store.for_each_text(|_, text| texts.push(text.to_string())));
    assert!(texts.iter().eq(events.iter().map(|(_, t)| t)));
    assert_eq!(
        ok(store.append(
            &mut [event("Filler", 30_000, 1), event("Filler", 30_001, 1)],
            &[]
        )),
        [false, true]
    );
    drop(store);
    let after = ok(std::fs::metadata(&path)).len();
    assert!(
        after < before * 5 / 4,
        "{before} bytes before, {after} after"
    );
}

/// The live order book a store keeps, on every backend: none at first, then the one given last
/// with its version, after a reopen too, and none once dropped. Every book and every drop has a
/// version of its own, though given in one millisecond or by a clock behind.
#[test]
fn a_store_keeps_the_order_book_given_last() {
    let given_last = |store: &mut Store| {
        assert_eq!(ok(store.order_book()), None);
        assert_eq!(ok(store.order_book_version()), None);
        assert_eq!(ok(store.save_order_book(1, "first")), 1);
        assert_eq!(ok(store.save_order_book(1, "second")), 2);
        assert_eq!(ok(store.order_book()), Some((2, "second".to_string())));
        assert_eq!(ok(store.order_book_version()), Some(2));
    };
    let dropped = |store: &mut Store| {
        ok(store.clear_order_book());
        assert_eq!(ok(store.order_book()), None);
        assert_eq!(ok(store.order_book_version()), None);
        ok(store.clear_order_book());
        // Given again at the millisecond of the one dropped: a version after the drop's.
        assert_eq!(ok(store.save_order_book(2, "third")), 4);
        assert_eq!(ok(store.order_book()), Some((4, "third".to_string())));
        ok(store.clear_order_book());
        assert_eq!(ok(store.order_book()), None);
    };
    let mut memory = ok(Store::memory());
    given_last(&mut memory);
    dropped(&mut memory);
    let dir = ok(tempfile::tempdir());
    let path = dir.path().join("twin.sqlite");
    given_last(&mut ok(Store::open(&path, Durability::Full)));
    let mut reopened = ok(Store::open(&path, Durability::Full));
    assert_eq!(ok(reopened.order_book()), Some((2, "second".to_string())));
    dropped(&mut reopened);
    if let Some(cluster) = Cluster::start() {
        let location = ok(StoreLocation::parse(&cluster.database("orders")));
        given_last(&mut ok(Store::connect(&location, Durability::Full)));
        let mut reopened = ok(Store::connect(&location, Durability::Full));
        assert_eq!(ok(reopened.order_book_version()), Some(2));
        dropped(&mut reopened);
    }
}
