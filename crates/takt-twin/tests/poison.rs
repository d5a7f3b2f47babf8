//! A bad event never changes what later good events do: a time stamp from the future and a
//! counter that would wrap are refused with their reason, and a store that an earlier version
//! let them into is repaired when it is opened.

mod common;

use takt_twin::event::{Body, Checked, CountBody, CountMode, Event, StateBody, StateCode};
use takt_twin::mirror::MirrorConfig;
use takt_twin::store::{Durability, Store};
use takt_twin::{TimeGate, Twin};

/// Unix ms of 2026-01-05T06:00:00+01:00, the bottling line's start.
const START_MS: i64 = 1_767_589_200_000;

fn line(seq: u64, ts: &str, body: &str) -> String {
    format!(r#"{{"ts":"{ts}","asset":"Filler","seq":{seq},{body}}}"#)
}

/// Ten minutes of the Filler: running, counting a piece every two seconds, a stop, running again.
fn good_lines() -> Vec<String> {
    let mut lines = vec![line(
        1,
        "2026-01-05T06:00:00+01:00",
        r#""kind":"state","state":"RUNNING""#,
    )];
    for k in 0..150u64 {
        let s = 2 * (k + 1);
        lines.push(line(
            10 + k,
            &format!("2026-01-05T06:{:02}:{:02}+01:00", s / 60, s % 60),
            r#""kind":"count","good":1"#,
        ));
    }
    lines.push(line(
        500,
        "2026-01-05T06:05:10+01:00",
        r#""kind":"state","state":"UNPLANNED_DOWN","reason":"jam""#,
    ));
    lines.push(line(
        501,
        "2026-01-05T06:07:00+01:00",
        r#""kind":"state","state":"RUNNING""#,
    ));
    lines
}

fn the_bad_ones() -> Vec<String> {
    vec![
        line(
            900,
            "9999-12-31T23:59:59Z",
            r#""kind":"state","state":"UNPLANNED_DOWN""#,
        ),
        line(
            901,
            "2026-01-05T06:01:00+01:00",
            r#""kind":"count","good":18446744073709551516"#,
        ),
    ]
}

fn twin(store: Store) -> Twin {
    Twin::open(&common::bottling(), store, MirrorConfig::default()).expect("twin")
}

fn state_json(t: &Twin) -> serde_json::Value {
    let mut v = serde_json::to_value(t.state(START_MS + 600_000)).expect("json");
    // What was refused is counted apart; everything else must be the same.
    v["counters"] = serde_json::Value::Null;
    v
}

#[test]
fn refused_events_change_nothing_that_good_events_do() {
    let good = good_lines();
    let mut clean = twin(Store::memory().expect("store"));
    let refs: Vec<&str> = good.iter().map(String::as_str).collect();
    clean.ingest_lines("test", &refs, START_MS).expect("ingest");

    let mut fed = twin(Store::memory().expect("store"));
    let (first, rest) = good.split_at(40);
    let refs: Vec<&str> = first.iter().map(String::as_str).collect();
    fed.ingest_lines("test", &refs, START_MS).expect("ingest");
    let bad = the_bad_ones();
    let refs: Vec<&str> = bad.iter().map(String::as_str).collect();
    let report = fed.ingest_lines("test", &refs, START_MS).expect("ingest");
    assert_eq!(report.accepted, 0);
    let reasons: Vec<&str> = report.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert!(
        reasons[0].starts_with("ts: 9999-12-31T23:59:59Z is 7973"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].starts_with("good: 18446744073709551516 is more than"),
        "{reasons:?}"
    );
    let refs: Vec<&str> = rest.iter().map(String::as_str).collect();
    fed.ingest_lines("test", &refs, START_MS).expect("ingest");
    assert_eq!(state_json(&fed), state_json(&clean));
    assert_eq!(fed.newest_ms(), clean.newest_ms());
    assert_eq!(fed.counters().rejected, 2);
}

/// Feeds the Filler running at `ts[0]` and idle at `ts[1]`, received at `received_ms`: the first is
/// accepted and the second refused; why.
fn second_refused(t: &mut Twin, received_ms: i64, ts: [&str; 2]) -> String {
    let lines = [
        line(1, ts[0], r#""kind":"state","state":"RUNNING""#),
        line(2, ts[1], r#""kind":"state","state":"IDLE""#),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let report = t.ingest_lines("test", &refs, received_ms).expect("ingest");
    assert_eq!(report.accepted, 1);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].index, 1);
    report.rejected[0].reason.clone()
}

/// A recording is held to its gap past the latest of the clock, the scenario's plan (06:00 + 8 h)
/// and its newest event before the batch; the refusal says how far and against what.
#[test]
fn a_recording_takes_events_up_to_its_gap() {
    let mut t = twin(Store::memory().expect("store"));
    t.set_time_gate(TimeGate::Recording { gap_ms: 3_600_000 });
    let reason = second_refused(
        &mut t,
        START_MS,
        ["2026-01-05T14:59:00+01:00", "2026-01-05T17:30:00+01:00"],
    );
    assert!(
        reason.contains(
            "3.5 h after the recording so far, the scenario's plan and the clock \
             (2026-01-05T13:00:00.000Z)"
        ) && reason.contains("at most 1.0 h is accepted"),
        "{reason}"
    );
}

#[test]
fn a_live_feed_takes_events_up_to_its_clock_skew() {
    let mut t = twin(Store::memory().expect("store"));
    t.set_time_gate(TimeGate::LIVE);
    let received = START_MS + 3_600_000; // 07:00
    let reason = second_refused(
        &mut t,
        received,
        ["2026-01-05T07:04:00+01:00", "2026-01-05T07:06:00+01:00"],
    );
    assert!(
        reason.contains("6.0 min ahead of the receiving clock")
            && reason.contains("at most 5.0 min"),
        "{reason}"
    );
    // A recording the server replays is held to the recording's gate for its batch only.
    let replayed = [line(
        3,
        "2026-01-05T08:00:00+01:00",
        r#""kind":"state","state":"IDLE""#,
    )];
    let refs: Vec<&str> = replayed.iter().map(String::as_str).collect();
    let report = t
        .ingest_lines_under(TimeGate::RECORDING, "replay", &refs, received)
        .expect("ingest");
    assert_eq!(report.accepted, 1, "{:?}", report.rejected);
    let live = [line(
        4,
        "2026-01-05T07:10:00+01:00",
        r#""kind":"state","state":"RUNNING""#,
    )];
    let refs: Vec<&str> = live.iter().map(String::as_str).collect();
    let report = t.ingest_lines("test", &refs, received).expect("ingest");
    assert_eq!(report.rejected.len(), 1, "the live gate is back");
}

/// An event as an earlier version stored it, past today's checks.
fn unchecked(text: &str, ts_ms: i64, body: Body, seq: u64) -> (Checked, String) {
    let event = Event {
        ts: serde_json::from_str::<serde_json::Value>(text).expect("json")["ts"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        asset: "Filler".into(),
        seq,
        body,
        t_s: None,
    };
    (Checked { event, ts_ms }, text.to_string())
}

#[test]
fn a_store_poisoned_by_an_earlier_version_is_repaired_on_open() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("twin.sqlite");
    let good = good_lines();
    {
        // What an earlier version accepted: the good events, with the two bad ones among them.
        let mut store = Store::open(&path, Durability::Normal).expect("store");
        let mut rows: Vec<(Checked, String)> = good
            .iter()
            .map(|l| (takt_twin::event::parse(l).expect("good"), l.clone()))
            .collect();
        let bad = the_bad_ones();
        rows.insert(
            30,
            unchecked(
                &bad[0],
                253_402_300_799_000,
                Body::State(StateBody {
                    state: StateCode::UnplannedDown,
                    reason: String::new(),
                }),
                900,
            ),
        );
        rows.insert(
            60,
            unchecked(
                &bad[1],
                START_MS + 60_000,
                Body::Count(CountBody {
                    mode: CountMode::Delta,
                    good: u64::MAX - 99,
                    scrap: 0,
                    rework: 0,
                    product: String::new(),
                }),
                901,
            ),
        );
        let new = store.append(&mut rows, &[]).expect("append");
        assert!(new.iter().all(|n| *n));
    }
    let mut clean = twin(Store::memory().expect("store"));
    let refs: Vec<&str> = good.iter().map(String::as_str).collect();
    clean.ingest_lines("test", &refs, START_MS).expect("ingest");

    let repaired = twin(Store::open(&path, Durability::Normal).expect("store"));
    assert_eq!(state_json(&repaired), state_json(&clean));
    assert_eq!(repaired.counters().accepted, good.len() as u64);
    assert_eq!(repaired.counters().rejected, 2);
    let letters = repaired.store().dead_letters(10).expect("letters");
    assert!(
        letters.iter().all(|d| d.source == "store repair"),
        "{letters:?}"
    );
    drop(repaired);
    // Once repaired, it stays so.
    let again = twin(Store::open(&path, Durability::Normal).expect("store"));
    assert_eq!(state_json(&again), state_json(&clean));
    assert_eq!(again.counters().rejected, 2);
}
