//! The pipelined replay path (`Twin::ingest_pipelined`, used by `takt replay --speed max`, which
//! mirrors batch k while it stores batch k + 1) against ingesting the same batches one after the
//! other: the same reports, batch by batch, the twin after each batch as it was, the same counters
//! and the same mirrored state, with bad lines, unknown assets, blank lines and duplicates
//! mixed into a simulated recording.

mod common;

use common::{Lines, bottling};
use std::sync::Arc;
use takt_sim::Simulation;
use takt_twin::mirror::MirrorConfig;
use takt_twin::store::{Durability, Store};
use takt_twin::{IngestReport, Twin, TwinError};

#[test]
fn pipelined_ingestion_is_ingestion_batch_by_batch() {
    let model = bottling();
    let sink = Lines(Arc::default(), model.timebase);
    let mut sim = Simulation::new(Arc::clone(&model), 3);
    sim.set_trace(Box::new(sink.clone()));
    sim.run_until(1800.0);
    let mut lines = sink.0.lock().map(|v| v.clone()).unwrap_or_default();
    assert!(lines.len() > 5_000, "{}", lines.len());
    // Spoil the recording: a broken line, an unknown asset, a blank line and resent events.
    lines.insert(100, "{\"ts\":".into());
    lines.insert(
        2_000,
        r#"{"ts":"2026-01-05T06:10:00Z","asset":"Robot","kind":"count","seq":1,"good":1}"#.into(),
    );
    lines.insert(2_500, String::new());
    let resent: Vec<String> = lines[3_000..3_400].to_vec();
    lines.extend(resent);
    let batches: Vec<Vec<String>> = lines.chunks(700).map(<[String]>::to_vec).collect();
    let open = || {
        Twin::open(
            &model,
            Store::memory().expect("store"),
            MirrorConfig::default(),
        )
        .expect("twin")
    };
    let mut one_by_one = open();
    // After each batch: its report, the newest event and the counters.
    let (expected, after): (Vec<IngestReport>, Vec<_>) = batches
        .iter()
        .map(|b| {
            let refs: Vec<&str> = b.iter().map(String::as_str).collect();
            let report = one_by_one.ingest_lines("test", &refs, 7).expect("ingest");
            (report, (one_by_one.newest_ms(), one_by_one.counters()))
        })
        .unzip();
    // The pipelined twin on a durable store (its commits wait for the disk).
    let dir = tempfile::tempdir().expect("dir");
    let mut pipelined = Twin::open(
        &model,
        Store::open(&dir.path().join("twin.db"), Durability::Full).expect("store"),
        MirrorConfig::default(),
    )
    .expect("twin");
    let mut reports = Vec::new();
    pipelined
        .ingest_pipelined(
            "test",
            batches.iter().cloned(),
            || 7,
            |twin, k, lines, r| {
                assert_eq!(lines, batches[k].len());
                // The twin as it is after batch k: mirrored up to it, not beyond.
                assert_eq!((twin.newest_ms(), twin.counters()), after[k], "batch {k}");
                reports.push((k, r.clone()));
                Ok::<_, TwinError>(())
            },
        )
        .expect("pipelined");
    let order: Vec<usize> = reports.iter().map(|(k, _)| *k).collect();
    assert_eq!(order, (0..batches.len()).collect::<Vec<_>>());
    let reports: Vec<IngestReport> = reports.into_iter().map(|(_, r)| r).collect();
    assert_eq!(reports, expected);
    assert_eq!(
        (
            expected.iter().map(|r| r.duplicates).sum::<u64>(),
            expected.iter().map(|r| r.rejected.len()).sum::<usize>()
        ),
        (400, 2)
    );
    assert_eq!(pipelined.counters(), one_by_one.counters());
    // The caller stops at batch 3's report: batch 4, stored meanwhile, is mirrored too, so the
    // twin holds what its store holds.
    let mut stopped = open();
    let stop = stopped.ingest_pipelined(
        "test",
        batches.iter().cloned(),
        || 7,
        |_, k, _, _| if k == 3 { Err(Stop::Here) } else { Ok(()) },
    );
    assert!(matches!(stop, Err(Stop::Here)));
    assert_eq!((stopped.newest_ms(), stopped.counters()), after[4]);
    let now = pipelined.newest_ms().expect("events");
    assert_eq!(pipelined.state(now), one_by_one.state(now));
}

/// The caller's own reason to stop a replay.
#[derive(Debug)]
enum Stop {
    Here,
    #[allow(dead_code)]
    Twin(TwinError),
}

impl From<TwinError> for Stop {
    fn from(e: TwinError) -> Stop {
        Stop::Twin(e)
    }
}
