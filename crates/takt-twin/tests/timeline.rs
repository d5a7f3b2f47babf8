//! The timeline and the stops of a shift agree with the shift's own state times: the same events
//! booked two ways (the KPI window's totals and the minute history) give the same seconds.

mod common;

use takt_twin::mirror::MirrorConfig;
use takt_twin::store::Store;
use takt_twin::{KpiWindow, Twin};

const RECORDING: &str = include_str!("../../../replay/bottling-line-5min.jsonl");

#[test]
fn the_timeline_and_the_stops_add_up_to_the_shifts_state_times() {
    let mut twin = Twin::open(
        &common::bottling(),
        Store::memory().expect("store"),
        MirrorConfig::default(),
    )
    .expect("twin");
    let lines: Vec<&str> = RECORDING.lines().collect();
    // Received an hour after the recording's start: none of it is ahead of the clock.
    let received = 1_767_589_200_000 + 3_600_000;
    twin.ingest_lines("test", &lines, received).expect("ingest");
    let now = twin.newest_ms().expect("events") + 30_000;
    let state = twin.state(now);
    let timeline = twin.timeline(now, KpiWindow::Shift);
    assert_eq!(timeline.window_start_ms, state.window_start_ms);
    assert_eq!(timeline.bucket_s, 60.0);
    assert_eq!(timeline.assets.len(), 3);
    let mut stopped = 0;
    for asset in &timeline.assets {
        let kpis = &state
            .assets
            .iter()
            .find(|a| a.asset == asset.asset)
            .expect("asset")
            .kpis;
        // Every second of the state times is in the segments, in the same state.
        for (name, seconds) in &kpis.state_s {
            let in_segments: f64 = asset
                .segments
                .iter()
                .filter_map(|s| s.state_s.get(name))
                .sum();
            assert!(
                (in_segments - seconds).abs() < 0.01,
                "{} {name}: {in_segments} s in the timeline, {seconds} s in the KPIs",
                asset.asset
            );
            if *name != "RUNNING" {
                let in_stops: f64 = asset
                    .stops
                    .iter()
                    .filter(|s| s.state == *name)
                    .map(|s| s.duration_s)
                    .sum();
                assert!((in_stops - seconds).abs() < 0.01, "{} {name}", asset.asset);
                stopped += 1;
            }
        }
        // Segments follow each other inside the window, at minute bounds or the window's ends.
        for w in asset.segments.windows(2) {
            assert!(w[0].end_ms <= w[1].start_ms);
        }
        assert!(
            asset
                .stops
                .windows(2)
                .all(|w| w[0].duration_s >= w[1].duration_s)
        );
        assert!(
            asset
                .stops
                .iter()
                .all(|s| s.episodes >= 1 || s.duration_s == 0.0)
        );
    }
    assert!(stopped > 0, "the recording has stops");
    // No shift before the first one: an empty timeline, not an error.
    let previous = twin.timeline(now, KpiWindow::Previous);
    assert!(previous.window_end_ms <= timeline.window_start_ms);
    assert!(
        previous
            .assets
            .iter()
            .all(|a| a.segments.is_empty() && a.stops.is_empty())
    );
}
