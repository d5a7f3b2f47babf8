//! The mirror's unit tests.
use super::*;
use crate::event::parse;

fn ev(ts_s: i64, seq: u64, body: &str) -> Checked {
    let ts = takt_model::time::format_utc_ms(1_767_600_000_000 + ts_s * 1000);
    parse(&format!(
        r#"{{"ts":"{ts}","asset":"M1","seq":{seq},{body}}}"#
    ))
    .expect("event")
}

const T0: i64 = 1_767_600_000_000;

/// One window of a day from `T0`.
fn day() -> ShiftClock {
    ShiftClock::periods(T0, 86_400_000)
}

#[test]
fn out_of_order_events_within_the_window_are_applied_in_time_order() {
    let config = MirrorConfig {
        reorder_window_ms: 5_000,
        silence_ms: 60_000,
    };
    let mut m = Mirror::new(&["M1".to_string()], day(), config);
    m.offer(ev(0, 1, r#""kind":"state","state":"RUNNING""#));
    m.offer(ev(
        10,
        3,
        r#""kind":"state","state":"UNPLANNED_DOWN","reason":"jam""#,
    ));
    m.offer(ev(8, 2, r#""kind":"state","state":"STARVED""#)); // 2 s late: still in order
    m.offer(ev(30, 4, r#""kind":"state","state":"RUNNING""#));
    let v = m.view(T0 + 40_000);
    let a = &v["M1"];
    assert_eq!(a.state, StateCode::Running);
    let d = a.state_durations_ms(T0 + 40_000);
    assert_eq!(d[StateCode::Running.index()], 8_000 + 10_000);
    assert_eq!(d[StateCode::Starved.index()], 2_000);
    assert_eq!(d[StateCode::UnplannedDown.index()], 20_000);
    assert_eq!(a.late_events, 0);
    // 25 s late: beyond the window, it cannot rewrite the state.
    m.offer(ev(5, 5, r#""kind":"state","state":"OFF""#));
    m.offer(ev(40, 6, r#""kind":"count","good":3"#));
    let v = m.view(T0 + 41_000);
    assert_eq!(v["M1"].state, StateCode::Running);
    assert_eq!(v["M1"].late_events, 1);
    assert_eq!(v["M1"].good, 3);
    // Silent for over a minute: UNKNOWN.
    assert_eq!(m.view(T0 + 200_000)["M1"].state, StateCode::Unknown);
}

#[test]
fn totals_count_steps_and_survive_a_reset() {
    let mut m = Mirror::new(&["M1".to_string()], day(), MirrorConfig::default());
    for (t, seq, total) in [(0, 1, 10), (5, 2, 12), (9, 3, 15), (12, 4, 2), (20, 5, 4)] {
        m.offer(ev(
            t,
            seq,
            &format!(r#""kind":"count","mode":"total","good":{total}"#),
        ));
    }
    // 10 is the baseline; then +2, +3, reset to 2 (+2), +2.
    assert_eq!(m.view(T0 + 30_000)["M1"].good, 9);
}

#[test]
fn the_window_rolls_at_the_next_shift_and_lifetime_figures_carry_on() {
    // Shifts of 100 s back to back from T0, with the reorder window on.
    let clock = ShiftClock::periods(T0, 100_000);
    let mut m = Mirror::new(&["M1".to_string()], clock, MirrorConfig::default());
    m.offer(ev(0, 1, r#""kind":"state","state":"RUNNING""#));
    m.offer(ev(40, 2, r#""kind":"count","good":5,"scrap":1"#));
    m.offer(ev(
        60,
        3,
        r#""kind":"state","state":"UNPLANNED_DOWN","reason":"jam""#,
    ));
    // At the end of the first shift, the view still shows it, whole.
    let v = m.view(T0 + 100_000);
    let a = &v["M1"];
    assert_eq!(a.shift.as_ref().map(|w| w.start_ms), Some(T0));
    assert_eq!((a.good, a.scrap), (5, 1));
    let d = a.state_durations_ms(T0 + 100_000);
    assert_eq!(d[StateCode::Running.index()], 60_000);
    assert_eq!(d[StateCode::UnplannedDown.index()], 40_000);
    assert_eq!(a.previous, None);
    // Past it: the next shift, the stop carried over, nothing counted yet; the first shift
    // kept whole as the previous one.
    let v = m.view(T0 + 130_000);
    let a = &v["M1"];
    assert_eq!(a.shift.as_ref().map(|w| w.start_ms), Some(T0 + 100_000));
    assert_eq!((a.good, a.scrap, a.state), (0, 0, StateCode::UnplannedDown));
    let before = a.previous.as_deref().expect("the first shift");
    assert_eq!(
        (before.shift.start_ms, before.good, before.scrap),
        (T0, 5, 1)
    );
    assert_eq!(before.state_ms[StateCode::Running.index()], 60_000);
    assert_eq!(before.state_ms[StateCode::UnplannedDown.index()], 40_000);
    assert_eq!(before.pieces_by_product[""], 6);
    let d = a.state_durations_ms(T0 + 130_000);
    assert_eq!(d.iter().sum::<i64>(), 30_000);
    assert_eq!(d[StateCode::UnplannedDown.index()], 30_000);
    // Events of the next shift roll the mirror itself; lifetime figures and ages carry on.
    m.offer(ev(150, 4, r#""kind":"state","state":"RUNNING""#));
    m.offer(ev(170, 5, r#""kind":"count","good":2"#));
    m.offer(ev(180, 6, r#""kind":"state","state":"IDLE""#));
    let v = m.view(T0 + 190_000);
    let a = &v["M1"];
    assert_eq!((a.good, a.scrap), (2, 0));
    let d = a.state_durations_ms(T0 + 190_000);
    assert_eq!(d[StateCode::UnplannedDown.index()], 50_000);
    assert_eq!(d[StateCode::Running.index()], 30_000);
    assert_eq!(d[StateCode::Idle.index()], 10_000);
    assert_eq!(a.lifetime_by_product[""], [7, 1, 0]);
    assert_eq!(
        a.lifetime_ms(T0 + 190_000)[StateCode::Running.index()],
        90_000
    );
    // Operating age of the jam: running since its repair ended at 150 s.
    assert_eq!(
        a.failure_age("jam", AgeBasis::Operating, T0 + 190_000),
        30.0
    );
}

#[test]
fn an_asset_silent_into_the_next_shift_is_unknown_in_both() {
    // Shifts of 100 s; silence after 30 s.
    let config = MirrorConfig {
        reorder_window_ms: 0,
        silence_ms: 30_000,
    };
    let mut m = Mirror::new(
        &["M1".to_string()],
        ShiftClock::periods(T0, 100_000),
        config,
    );
    m.offer(ev(0, 1, r#""kind":"state","state":"RUNNING""#));
    m.offer(ev(50, 2, r#""kind":"count","good":1"#));
    // Last seen at 50 s: UNKNOWN from 80 s, in the shift that ended and in the next.
    let v = m.view(T0 + 150_000);
    let a = &v["M1"];
    assert_eq!(a.state, StateCode::Unknown);
    let before = a.previous.as_deref().expect("the first shift");
    assert_eq!(before.state_ms[StateCode::Running.index()], 80_000);
    assert_eq!(before.state_ms[StateCode::Unknown.index()], 20_000);
    let d = a.state_durations_ms(T0 + 150_000);
    assert_eq!(d[StateCode::Unknown.index()], 50_000);
    assert_eq!(d.iter().sum::<i64>(), 50_000);
}

#[test]
fn names_from_events_are_bounded_and_the_scenarios_names_are_always_kept() {
    let known = KnownNames {
        products: ["bottle".to_string()].into(),
        failure_modes: ["jam".to_string()].into(),
    };
    let mut m =
        Mirror::new(&["M1".to_string()], day(), MirrorConfig::default()).with_known_names(known);
    let flood = 5_000;
    let mut seq = 0;
    let mut next = |m: &mut Mirror, t: i64, body: String| {
        seq += 1;
        m.offer(ev(t, seq, &body));
    };
    next(&mut m, 0, r#""kind":"state","state":"RUNNING""#.into());
    // A sender writing a counter into every name: products, signals, alarms, stop reasons.
    for i in 0..flood {
        let t = 1 + 2 * i;
        next(
            &mut m,
            t,
            format!(r#""kind":"count","good":1,"product":"lot {i}""#),
        );
        next(
            &mut m,
            t,
            format!(r#""kind":"sample","signals":{{"probe {i}":{{"value":1}}}}"#),
        );
        next(
            &mut m,
            t,
            format!(r#""kind":"alarm","code":"E{i}","action":"raised""#),
        );
        next(
            &mut m,
            t,
            format!(r#""kind":"state","state":"UNPLANNED_DOWN","reason":"fault {i}""#),
        );
        next(&mut m, t + 1, r#""kind":"state","state":"RUNNING""#.into());
    }
    // Then what the scenario names, and a signal seen before, after the flood.
    let t = 1 + 2 * flood;
    next(
        &mut m,
        t,
        r#""kind":"count","good":1,"product":"bottle""#.into(),
    );
    next(
        &mut m,
        t,
        r#""kind":"sample","signals":{"probe 7":{"value":42}}"#.into(),
    );
    next(
        &mut m,
        t,
        r#""kind":"state","state":"UNPLANNED_DOWN","reason":"jam""#.into(),
    );
    next(&mut m, t + 10, r#""kind":"state","state":"RUNNING""#.into());
    let now = T0 + (t + 30) * 1000;
    let a = &m.view(now)["M1"];

    // Every piece is counted; the products beyond the bound together.
    let lifetime: u64 = a.lifetime_by_product.values().map(|c| c[0]).sum();
    assert_eq!(lifetime, flood as u64 + 1);
    assert_eq!(a.good, flood as u64 + 1);
    assert_eq!(a.pieces_by_product.values().sum::<u64>(), flood as u64 + 1);
    for map_len in [
        a.lifetime_by_product.len(),
        a.last_out_ms_by_product.len(),
        a.pieces_by_product.len(),
        a.good_by_product.len(),
    ] {
        // Room for the scenario's one product and 64 others: lot 0 to lot 64 fill it before
        // bottle comes. Then the rest together, and bottle.
        assert_eq!(map_len, (1 + MAX_OTHER_PRODUCTS) + 1 + 1);
    }
    assert_eq!(
        a.lifetime_by_product[OTHER_PRODUCTS][0],
        (flood - 1 - MAX_OTHER_PRODUCTS as i64) as u64
    );
    assert_eq!(a.pieces_by_product["bottle"], 1);
    assert_eq!(a.last_out_ms_by_product["bottle"], T0 + t * 1000);
    assert_eq!(a.signals.len(), MAX_SIGNALS);
    assert_eq!(a.signals["probe 7"].value, 42.0);
    assert!(!a.signals.contains_key(&format!("probe {MAX_SIGNALS}")));
    assert_eq!(a.alarms.len(), MAX_ALARMS);
    // The jam's repair was kept after the flood of other reasons: it is 20 s old, running.
    assert_eq!(a.renewals.len(), (1 + MAX_OTHER_REASONS) + 1);
    assert_eq!(a.failure_age("jam", AgeBasis::Operating, now), 20.0);
    assert_eq!(a.refused, Refused(Refused::ALL));
    assert_eq!(
        a.names_over_bound(),
        ["products", "signals", "alarms", "stop reasons"]
    );

    // A cleared alarm makes room for a new one.
    next(
        &mut m,
        t + 40,
        r#""kind":"alarm","code":"E3","action":"cleared""#.into(),
    );
    next(
        &mut m,
        t + 41,
        r#""kind":"alarm","code":"E99999","action":"raised""#.into(),
    );
    let a = &m.view(now + 20_000)["M1"];
    assert!(a.alarms.contains_key("E99999") && !a.alarms.contains_key("E3"));
}

/// A mirror restored from another's saved bytes, mid-stream (events still held for reordering,
/// a shift rolled, repairs, maintenance, alarms, signals, a work order), goes on as the other does.
#[test]
fn a_restored_mirror_goes_on_as_the_saved_one() {
    let config = MirrorConfig {
        reorder_window_ms: 5_000,
        silence_ms: 60_000,
    };
    let hour = ShiftClock::periods(T0, 3_600_000);
    const SAVED: u64 = 297;
    let mut events = Vec::new();
    for k in 0..400u64 {
        let t = k as i64 * 20;
        // After the save (a jam repaired just before) only runs, counts and starvation: what
        // came before must carry over.
        let kind = if k < SAVED {
            k % 8
        } else {
            [0, 1, 7][k as usize % 3]
        };
        let body = match kind {
            0 => r#""kind":"state","state":"RUNNING""#.to_string(),
            1 => format!(
                r#""kind":"count","good":2,"scrap":1,"product":"p{}""#,
                k % 90
            ),
            2 => r#""kind":"state","state":"UNPLANNED_DOWN","reason":"jam""#.to_string(),
            3 => format!(
                r#""kind":"sample","signals":{{"temp{}":{{"value":{k}.5,"unit":"degC"}}}}"#,
                k % 300
            ),
            4 => format!(
                r#""kind":"alarm","code":"A{}","action":"raised","severity":"warning""#,
                k % 5
            ),
            5 => r#""kind":"maintenance","action":"replace","component":"blade""#.to_string(),
            6 => r#""kind":"operation","work_order":"WO-1","action":"start","product":"p1""#
                .to_string(),
            _ => r#""kind":"state","state":"STARVED""#.to_string(),
        };
        events.push(ev(t, k + 1, &body));
    }
    // Some out of order, within the window.
    events.swap(301, 302);
    let mut whole = Mirror::new(&["M1".to_string()], hour.clone(), config);
    for c in &events[..SAVED as usize] {
        whole.offer(c.clone());
    }
    let bytes = whole.save().expect("save");
    let mut restored = Mirror::new(&["M1".to_string()], hour.clone(), config);
    assert_eq!(restored.fingerprint(), whole.fingerprint());
    restored.restore(&bytes).expect("restore");
    assert!(
        !restored.slots[0].pending.is_empty(),
        "events held for reordering are saved"
    );
    for c in &events[SAVED as usize..] {
        whole.offer(c.clone());
        restored.offer(c.clone());
    }
    let now = T0 + 400 * 20_000;
    assert_eq!(restored.view(now), whole.view(now));
    let window = hour.at(now - 1);
    assert_eq!(
        restored.history_in(&window, now),
        whole.history_in(&window, now)
    );
    assert_eq!(restored.save().expect("save"), whole.save().expect("save"));
    assert!(whole.view(now)["M1"].previous.is_some(), "a shift rolled");
    let jam = whole.slots[0].state.renewals.get("jam").map(|r| r.at_ms);
    assert_eq!(
        jam,
        Some(T0 + 295 * 20_000),
        "the last repair, before the save"
    );
    // Another plant's assets are refused, and the mirror is left as it was.
    let mut other = Mirror::new(&["M2".to_string()], hour.clone(), config);
    assert!(matches!(
        other.restore(&bytes),
        Err(RestoreError::OtherAssets { .. })
    ));
    assert_eq!(other.view(now)["M2"].events, 0);
    assert!(other.restore(&bytes[..bytes.len() / 2]).is_err());
    // What the state depends on besides the events is in the fingerprint.
    let wider = MirrorConfig {
        reorder_window_ms: 6_000,
        ..config
    };
    assert_ne!(
        Mirror::new(&["M1".to_string()], hour, wider).fingerprint(),
        whole.fingerprint()
    );
    assert_ne!(
        Mirror::new(&["M1".to_string()], day(), config).fingerprint(),
        whole.fingerprint()
    );
}

/// Each ended shift is kept whole, the previous one and the earlier ones, oldest first, up to
/// [`EARLIER_SHIFTS`] before it.
#[test]
fn ended_shifts_are_kept_up_to_the_bound() {
    let hour = ShiftClock::periods(T0, 3_600_000);
    let mut m = Mirror::new(&["M1".to_string()], hour, MirrorConfig::default());
    let shifts = EARLIER_SHIFTS as i64 + 5;
    for h in 0..shifts {
        // One good piece more in each hour than in the one before.
        for k in 0..=h {
            m.offer(ev(
                h * 3600 + k,
                (h * 1000 + k + 1) as u64,
                r#""kind":"count","good":1"#,
            ));
        }
    }
    let a = &m.view(T0 + shifts * 3_600_000 - 1)["M1"];
    assert_eq!(a.good, (shifts) as u64, "the running hour");
    let previous = a.previous.as_deref().map(|p| p.good);
    assert_eq!(previous, Some((shifts - 1) as u64));
    assert_eq!(a.earlier_shifts.len(), EARLIER_SHIFTS);
    let goods: Vec<u64> = a.earlier_shifts.iter().map(|f| f.good).collect();
    let expected: Vec<u64> = (shifts - 1 - EARLIER_SHIFTS as i64..shifts - 1)
        .map(|h| h as u64)
        .collect();
    assert_eq!(goods, expected);
    assert!(
        a.earlier_shifts
            .iter()
            .zip(a.earlier_shifts.iter().skip(1))
            .all(|(x, y)| x.shift.end_ms <= y.shift.start_ms)
    );
}
