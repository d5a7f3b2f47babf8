//! A day's or a week's figures from what the twin keeps: an earlier day by its plant date, and a
//! week that began before the oldest shift kept says that it counts only the shifts kept.

mod common;

use takt_twin::Twin;
use takt_twin::mirror::{EARLIER_SHIFTS, MirrorConfig};
use takt_twin::store::Store;
use takt_twin::totals::Period;

#[test]
fn a_week_older_than_the_shifts_kept_says_it_counts_only_those() {
    let model = common::bottling();
    let mut twin = Twin::open(
        &model,
        Store::memory().expect("store"),
        MirrorConfig::default(),
    )
    .expect("twin");
    // Five weeks of two shifts a working day from Monday 2026-01-05, a part in each shift: 50
    // shifts, more than the twin keeps.
    let start = model.timebase.start_ms() - 6 * 3_600_000; // Monday 00:00, plant time
    let mut lines = Vec::new();
    let mut seq = 0;
    let mut received = Vec::new();
    for day in 0..35 {
        if day % 7 >= 5 {
            continue;
        }
        for hour in [7, 15] {
            let ms = start + day * 86_400_000 + hour * 3_600_000;
            let ts = model.timebase.format_ms(ms);
            received.push(ms);
            seq += 1;
            lines.push(format!(
                r#"{{"ts":"{ts}","asset":"Filler","kind":"count","seq":{seq},"good":1,"product":"cola-033"}}"#
            ));
        }
    }
    assert_eq!(lines.len(), 50);
    // Each as it came, when it came (a twin refuses events far ahead of their arrival).
    for (line, at) in lines.iter().zip(received) {
        let batch = twin
            .ingest_lines("test", &[line.as_str()], at)
            .expect("ingest");
        assert!(batch.rejected.is_empty(), "{line}");
    }
    let now = twin.newest_ms().expect("events");
    // The fifth week: every shift kept, counted whole.
    let last = twin.totals(now, Period::Week, None);
    assert_eq!(last.shifts.len(), 10);
    assert!(last.notes.is_empty(), "{:?}", last.notes);
    // The first week began before the oldest shift kept: the shifts kept are counted, and it says so.
    let first = twin.totals(now, Period::Week, Some("2026-01-07".parse().expect("date")));
    assert_eq!(first.start, "2026-01-05T00:00:00.000+01:00");
    let kept = EARLIER_SHIFTS + 2;
    assert_eq!(first.shifts.len(), 10 - (50 - kept), "{:?}", first.shifts);
    assert_eq!(first.machines[0].good, first.shifts.len() as u64);
    assert!(
        first.notes[0].starts_with(&format!(
            "the twin keeps the last {kept} shifts, from 2026-01-07 06:00 (plant time)"
        )),
        "{:?}",
        first.notes
    );
}
