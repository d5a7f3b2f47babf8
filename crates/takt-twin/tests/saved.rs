//! A twin started from its store's saved mirror and the events stored after it is the twin rebuilt
//! from every stored event, on SQLite, in memory and on a real PostgreSQL; a saved mirror of
//! another configuration is not used, and a store that cannot tell through which event its twin
//! read saves none.

mod common;
#[path = "common/postgres.rs"]
mod postgres;

use common::{Lines, bottling};
use postgres::Cluster;
use std::path::Path;
use std::sync::Arc;
use takt_model::Model;
use takt_sim::Simulation;
use takt_twin::Twin;
use takt_twin::mirror::MirrorConfig;
use takt_twin::store::{Durability, Store, StoreLocation};

/// The bottling line with two 20-minute shifts, so that a 40-minute recording rolls a shift.
fn short_shifts() -> Arc<Model> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/bottling-line.toml"
    ))
    .expect("shipped scenario");
    let shipped = r#"start = "14:00", end = "22:00""#;
    assert!(text.contains(shipped), "the shipped shifts changed");
    let text = text
        .replace(
            r#"start = "06:00", end = "14:00""#,
            r#"start = "06:00", end = "06:20""#,
        )
        .replace(shipped, r#"start = "06:20", end = "06:40""#);
    match takt_model::load_str(&text, Path::new("short-shifts.toml"), None) {
        Ok(l) => Arc::new(l.model),
        Err(e) => panic!("short shifts: {e}"),
    }
}

fn recording(model: &Arc<Model>) -> Vec<String> {
    let sink = Lines(Arc::default(), model.timebase);
    let mut sim = Simulation::new(Arc::clone(model), 11);
    sim.set_trace(Box::new(sink.clone()));
    sim.run_until(2_400.0);
    let lines = sink.0.lock().map(|v| v.clone()).unwrap_or_default();
    assert!(lines.len() > 10_000, "{}", lines.len());
    lines
}

fn ingest(twin: &mut Twin, lines: &[String]) {
    for batch in lines.chunks(1_000) {
        let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
        twin.ingest_lines("test", &refs, 0).expect("ingest");
    }
}

fn open(model: &Model, store: Store) -> Twin {
    Twin::open(model, store, MirrorConfig::default()).expect("twin")
}

/// Saves the twin fed the first part of `lines`, feeds it the rest, then opens a twin from the
/// saved mirror (`store` again) and one from every event (`forget` the saved mirror first): both
/// alike to the byte.
fn resumed_is_rebuilt(
    backend: &str,
    model: &Model,
    lines: &[String],
    store: impl Fn() -> Store,
    forget: impl Fn(),
) {
    let (before, after) = lines.split_at(lines.len() * 3 / 5);
    let mut first = open(model, store());
    ingest(&mut first, before);
    assert!(first.save_mirror().expect("save"), "{backend}: saved");
    ingest(&mut first, after);
    let now = first.newest_ms().expect("events");
    drop(first);

    let resumed = open(model, store());
    assert!(resumed.resumed_through().is_some(), "{backend}: resumed");
    forget();
    let rebuilt = open(model, store());
    assert_eq!(rebuilt.resumed_through(), None, "{backend}");
    // The whole mirror, to the byte (not printed when it differs: tens of KB).
    assert!(
        resumed.mirror().save().expect("bytes") == rebuilt.mirror().save().expect("bytes"),
        "{backend}: the mirrors differ"
    );
    assert_eq!(resumed.counters(), rebuilt.counters(), "{backend}");
    assert_eq!(resumed.newest_ms(), rebuilt.newest_ms(), "{backend}");
    assert_eq!(resumed.state(now), rebuilt.state(now), "{backend}");
    let state = rebuilt.state(now);
    assert!(
        state.assets.iter().all(|a| a.previous_shift.is_some()),
        "{backend}: the recording rolled a shift"
    );
    assert_eq!(state.counters.accepted, lines.len() as u64, "{backend}");
}

#[test]
fn a_twin_started_from_its_saved_mirror_is_the_twin_rebuilt_from_every_event() {
    let model = short_shifts();
    let lines = recording(&model);
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("twin.db");
    resumed_is_rebuilt(
        "SQLite",
        &model,
        &lines,
        || Store::open(&path, Durability::Normal).expect("store"),
        || {
            let conn = rusqlite::Connection::open(&path).expect("file");
            conn.execute("DELETE FROM saved_mirror", [])
                .expect("delete");
        },
    );
    if let Some(cluster) = Cluster::start() {
        let url = cluster.database("saved");
        let location = StoreLocation::parse(&url).expect("url");
        resumed_is_rebuilt(
            "PostgreSQL",
            &model,
            &lines,
            || Store::connect(&location, Durability::Full).expect("store"),
            || {
                cluster.sql("saved", "DELETE FROM saved_mirror");
            },
        );
    }
}

/// A replay saves its twin's mirror at its end; a mirror saved with another reorder window (or
/// scenario) is not used; a SQLite file another process wrote to since the twin read it saves
/// nothing, as the twin cannot tell which events its state holds.
#[test]
fn only_a_saved_mirror_that_fits_is_used() {
    let model = short_shifts();
    let lines = recording(&model);
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("twin.db");
    let store = || Store::open(&path, Durability::Normal).expect("store");
    let mut replay = open(&model, store());
    let batches: Vec<Vec<String>> = lines.chunks(1_000).map(<[String]>::to_vec).collect();
    replay
        .ingest_pipelined(
            "test",
            batches,
            || 0,
            |_, _, _, _| Ok::<_, takt_twin::TwinError>(()),
        )
        .expect("replay");
    let saved = replay
        .store()
        .saved_mirror()
        .expect("read")
        .expect("saved at the replay's end");
    assert_eq!(Some(saved.read_through), replay.store().read_through());
    let now = replay.newest_ms().expect("events");
    drop(replay);
    let resumed = open(&model, store());
    assert_eq!(resumed.resumed_through(), Some(saved.read_through));
    // Nothing left to read after it, yet the same twin.
    let whole = {
        let mut t = open(&model, Store::memory().expect("memory"));
        ingest(&mut t, &lines);
        t
    };
    assert_eq!(resumed.state(now), whole.state(now));

    // Another reorder window: another state, so every event is read.
    let wider =
        Twin::open(&model, store(), MirrorConfig::with_reorder_window_s(5.0)).expect("twin");
    assert_eq!(wider.resumed_through(), None);
    // Another scenario: the same.
    assert_eq!(open(&bottling(), store()).resumed_through(), None);

    // Another process appends to the file: this twin never reads its event.
    let mut twin = open(&model, store());
    let mut other = store();
    let extra = lines[0].replace(r#""seq":"#, r#""seq":9"#);
    let parsed = takt_twin::event::parse(&extra).expect("event");
    assert_eq!(
        other.append(&mut [(parsed, extra)], &[]).expect("append"),
        [true]
    );
    let late = lines[lines.len() - 1].replace(r#""seq":"#, r#""seq":8"#);
    twin.ingest_lines("test", &[late.as_str()], 0)
        .expect("ingest");
    assert_eq!(twin.store().read_through(), None);
    assert!(!twin.save_mirror().expect("save"));
    assert_eq!(
        twin.store()
            .saved_mirror()
            .expect("read")
            .map(|s| s.read_through),
        Some(saved.read_through),
        "the saved mirror is left as it was"
    );
}

/// Two servers of a site take the batches of one line in turn (as behind a load balancer); one
/// saves its mirror, made of its own events and the other's: a twin started from it is the twin
/// rebuilt from every event.
#[test]
fn a_mirror_saved_by_one_server_of_a_site_is_the_sites_twin() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let model = short_shifts();
    let lines = recording(&model);
    let url = cluster.database("site");
    let location = StoreLocation::parse(&url).expect("url");
    let store = || Store::connect(&location, Durability::Full).expect("store");
    let (mut one, mut two) = (open(&model, store()), open(&model, store()));
    for (k, batch) in lines.chunks(700).enumerate() {
        let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
        let twin = if k % 2 == 0 { &mut one } else { &mut two };
        twin.ingest_lines("test", &refs, 0).expect("ingest");
    }
    // The other server's last batch, then the save.
    one.catch_up().expect("catch up");
    assert!(one.save_mirror().expect("save"));
    let now = one.newest_ms().expect("events");
    let resumed = open(&model, store());
    assert!(resumed.resumed_through().is_some());
    cluster.sql("site", "DELETE FROM saved_mirror");
    let rebuilt = open(&model, store());
    assert_eq!(rebuilt.resumed_through(), None);
    assert!(
        resumed.mirror().save().expect("bytes") == rebuilt.mirror().save().expect("bytes"),
        "the mirrors differ"
    );
    assert_eq!(resumed.state(now), rebuilt.state(now));
    assert_eq!(resumed.state(now), one.state(now));
}
