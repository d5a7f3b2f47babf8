use super::*;
use crate::Twin;
use crate::mirror::MirrorConfig;
use crate::store::Store;
use std::path::Path;

const PRESS_LINE: &str = r#"
schema_version = 1
name = "press line"
[run]
horizon = "8h"
start = 2026-01-05T06:00:00+01:00
[[products]]
name = "bracket"
routing = [
  { station = "Press", process_time = "60s" },
  { station = "Packer", process_time = "30s" },
]
[[stations]]
name = "Press"
ideal_cycle_time = "60s"
failures = [{ name = "jam", ttf = { dist = "weibull", shape = 3.0, scale = "2h" }, ttr = "5m" }]
[[stations]]
name = "Packer"
ideal_cycle_time = "30s"
[demand]
arrivals = { interarrival = "60s", mix = { bracket = 1 } }
[stop_reasons]
E7 = "die clamp pressure low"
"#;

fn model() -> Model {
    takt_model::load_str(PRESS_LINE, Path::new("press.toml"), None)
        .expect("a valid scenario")
        .model
}

/// A state event of `asset` at `min` minutes after 06:00.
fn state(asset: &str, seq: u64, min: u64, state: &str, reason: &str) -> String {
    format!(
        r#"{{"asset":"{asset}","kind":"state","seq":{seq},"state":"{state}","reason":"{reason}","ts":"2026-01-05T{:02}:{:02}:00.000+01:00"}}"#,
        6 + min / 60,
        min % 60
    )
}

/// A count of `good` pieces.
fn count(asset: &str, seq: u64, min: u64, good: u64) -> String {
    format!(
        r#"{{"asset":"{asset}","kind":"count","seq":{seq},"good":{good},"product":"bracket","ts":"2026-01-05T{:02}:{:02}:00.000+01:00"}}"#,
        6 + min / 60,
        min % 60
    )
}

struct Harness {
    model: Model,
    twin: Twin,
    engine: AlertEngine,
    seq: u64,
}

impl Harness {
    fn new(rules: &str) -> Harness {
        let model = model();
        let rules = rules::parse(rules, "rules.toml", &model).expect("valid rules");
        let mut twin = Twin::open(
            &model,
            Store::memory().expect("store"),
            MirrorConfig::default(),
        )
        .expect("twin");
        let engine = twin.alert_engine(rules).expect("engine");
        Harness {
            model,
            twin,
            engine,
            seq: 0,
        }
    }

    /// Feeds lines, then judges the rules at the newest event (as the server does after a batch).
    fn feed(&mut self, lines: &[String]) -> Vec<AlertChange> {
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        self.twin.ingest_lines("test", &refs, 0).expect("ingests");
        let now = self.twin.newest_ms().expect("an event");
        self.judge(now)
    }

    fn judge(&mut self, now_ms: i64) -> Vec<AlertChange> {
        let state = self.twin.state(now_ms);
        self.twin
            .evaluate_alerts(&mut self.engine, &self.model, &state, None, now_ms)
            .expect("evaluates")
    }

    fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// The Packer reports a piece at `min` (time moves on through another machine).
    fn tick(&mut self, min: u64) -> Vec<AlertChange> {
        let seq = self.next();
        self.feed(&[count("Packer", seq, min, 1)])
    }

    fn press(&mut self, min: u64, to: &str, reason: &str) -> Vec<AlertChange> {
        let seq = self.next();
        self.feed(&[state("Press", seq, min, to, reason)])
    }
}

fn raised(changes: &[AlertChange]) -> Vec<&Alert> {
    changes
        .iter()
        .filter_map(|c| match c {
            AlertChange::Raised(a) => Some(a),
            _ => None,
        })
        .collect()
}

/// A stop whose code the scenario gives words: the alert says them beside the code.
#[test]
fn a_down_alert_says_the_stop_reason_in_words() {
    let mut h = Harness::new("[[rule]]\nwhen = \"down\"\nlonger_than = \"10m\"\n");
    h.feed(&[state("Press", 1001, 0, "RUNNING", "")]);
    assert!(h.press(5, "UNPLANNED_DOWN", "E7").is_empty());
    let changes = h.tick(15);
    let r = raised(&changes);
    assert_eq!(r.len(), 1, "{changes:?}");
    assert!(
        r[0].message
            .starts_with("Press down (die clamp pressure low, E7) since 2026-01-05 06:05"),
        "{}",
        r[0].message
    );
}

#[test]
fn a_machine_down_too_long_raises_one_alert_per_stop_and_clears_when_it_runs() {
    let mut h = Harness::new("[[rule]]\nwhen = \"down\"\nlonger_than = \"10m\"\n");
    h.feed(&[
        state("Packer", 1000, 0, "RUNNING", ""),
        state("Press", 1001, 0, "RUNNING", ""),
    ]);
    assert!(h.press(5, "UNPLANNED_DOWN", "jam").is_empty());
    // 9 minutes down: not yet.
    assert!(h.tick(14).is_empty());
    // 10 minutes: raised, once.
    let changes = h.tick(15);
    let r = raised(&changes);
    assert_eq!(r.len(), 1, "{changes:?}");
    assert_eq!((r[0].asset.as_str(), r[0].kind.as_str()), ("Press", "down"));
    assert_eq!(r[0].severity, Severity::Critical);
    assert_eq!(r[0].value, 600.0);
    assert!(
        r[0].message
            .starts_with("Press down (jam) since 2026-01-05 06:05"),
        "{}",
        r[0].message
    );
    let id = r[0].id;
    for min in 16..30 {
        assert!(h.tick(min).is_empty(), "raised again at {min}");
    }
    // Running again: cleared.
    let changes = h.press(30, "RUNNING", "");
    assert!(
        matches!(&changes[..], [AlertChange::Cleared(a)] if a.id == id && a.cleared_ms.is_some()),
        "{changes:?}"
    );
    // A second stop is a second alert.
    h.press(40, "UNPLANNED_DOWN", "jam");
    let changes = h.tick(52);
    assert_eq!(raised(&changes).len(), 1);
    assert_eq!(raised(&changes)[0].id, id + 1);
    // Stored: both, newest first, the first cleared.
    let stored = h.twin.alerts(false, 10).expect("stored");
    assert_eq!(stored.len(), 2, "{stored:#?}");
    assert!(stored[0].is_open() && !stored[1].is_open());
    // The shift report lists them in the order raised, in plant time, for the handover.
    let now = h.twin.newest_ms().expect("now");
    let report = h.twin.shift_report(&h.model, now, crate::KpiWindow::Shift);
    let listed: Vec<(&str, Option<&str>)> = report
        .alerts
        .iter()
        .map(|a| (a.raised.as_str(), a.cleared.as_deref()))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("2026-01-05 06:15", Some("2026-01-05 06:30")),
            ("2026-01-05 06:50", None)
        ]
    );
    let page = crate::report::html(&report);
    assert!(
        page.contains("<h2>Alerts</h2>")
            && page.contains("Press down (jam) since 2026-01-05 06:40"),
        "{page}"
    );
}

#[test]
fn a_long_stop_that_begins_and_ends_inside_one_batch_is_still_alerted() {
    let mut h = Harness::new("[[rule]]\nwhen = \"down\"\nlonger_than = \"10m\"\n");
    // One batch: running, down at 06:05, running again at 06:17, and a 3-minute stop after.
    let changes = h.feed(&[
        state("Press", 1, 0, "RUNNING", ""),
        state("Press", 2, 5, "UNPLANNED_DOWN", "jam"),
        state("Press", 3, 17, "RUNNING", ""),
        state("Press", 4, 20, "UNPLANNED_DOWN", "jam"),
        state("Press", 5, 23, "RUNNING", ""),
        count("Packer", 6, 24, 1),
    ]);
    match &changes[..] {
        [AlertChange::Raised(r), AlertChange::Cleared(c)] => {
            assert_eq!(r.id, c.id);
            // Raised when the stop passed 10 minutes, cleared when it ended, whatever the batch.
            let start = h.model.timebase.start_ms();
            assert_eq!(r.raised_ms, start + 15 * 60_000);
            assert_eq!(c.cleared_ms, Some(start + 17 * 60_000));
        }
        other => panic!("{other:?}"),
    }
    // Judged again: nothing new.
    assert!(h.tick(25).is_empty());
}

#[test]
fn short_stops_raise_nothing_however_many() {
    let mut h = Harness::new("[[rule]]\nwhen = \"down\"\nlonger_than = \"10m\"\n");
    // Forty 2-minute jams over 160 minutes: a flapping machine, and not one alert.
    let mut all = Vec::new();
    for k in 0..40 {
        all.extend(h.press(4 * k, "UNPLANNED_DOWN", "jam"));
        all.extend(h.press(4 * k + 2, "RUNNING", ""));
    }
    assert!(all.is_empty(), "{all:?}");
}

#[test]
fn oee_alerts_clear_only_above_their_clear_level() {
    let mut h = Harness::new(
        "[[rule]]\nwhen = \"oee_below\"\nbelow = 0.6\nclear_above = 0.7\nafter = \"30m\"\n",
    );
    h.feed(&[
        state("Press", 1000, 0, "RUNNING", ""),
        state("Packer", 1001, 0, "RUNNING", ""),
    ]);
    // The rule watches the line's last station by default.
    assert_eq!(h.engine.rules()[0].assets, vec!["Packer".to_string()]);
    let now = h.twin.newest_ms().expect("now") + 40 * 60_000;
    let mut state = h.twin.state(now);
    let packer = state
        .assets
        .iter()
        .position(|a| a.asset == "Packer")
        .expect("Packer");
    // Watched for 40 minutes, all of them known.
    state.assets[packer].kpis.state_s = [("RUNNING", 2400.0)].into_iter().collect();
    let mut at = |oee: f64, h: &mut Harness| {
        state.assets[packer].kpis.oee = Some(oee);
        h.twin
            .evaluate_alerts(&mut h.engine, &h.model, &state, None, now)
            .expect("evaluates")
    };
    let first = at(0.55, &mut h);
    assert_eq!(raised(&first).len(), 1);
    assert_eq!(
        raised(&first)[0].message,
        "Packer OEE 55.0 % this shift, below 60.0 % (over the 40 min the twin has watched it)"
    );
    // Between the levels: held open, not raised again, not cleared.
    for oee in [0.62, 0.58, 0.65, 0.59, 0.69] {
        assert!(at(oee, &mut h).is_empty(), "{oee}");
    }
    assert!(matches!(&at(0.71, &mut h)[..], [AlertChange::Cleared(_)]));
    // Between the levels again: stays clear.
    assert!(at(0.65, &mut h).is_empty());
    // Forty more minutes the twin did not hear from it: they are neither the machine's fault nor
    // its time. A raw OEE of 35 % over 80 minutes is 70 % over the 40 it was watched.
    state.assets[packer].kpis.state_s = [("RUNNING", 2400.0), ("UNKNOWN", 2400.0)]
        .into_iter()
        .collect();
    let mut at = |oee: f64, h: &mut Harness| {
        state.assets[packer].kpis.oee = Some(oee);
        h.twin
            .evaluate_alerts(&mut h.engine, &h.model, &state, None, now)
            .expect("evaluates")
    };
    assert!(at(0.35, &mut h).is_empty());
    let low = at(0.25, &mut h);
    assert_eq!(raised(&low).len(), 1);
    assert!((raised(&low)[0].value - 0.5).abs() < 1e-12);
    // A shift watched less than `after` (a new one) clears what is open and raises nothing.
    let early = h.twin.state(h.twin.newest_ms().expect("now"));
    let changes = h
        .twin
        .evaluate_alerts(&mut h.engine, &h.model, &early, None, early.now_ms)
        .expect("evaluates");
    assert!(
        matches!(&changes[..], [AlertChange::Cleared(_)]),
        "{changes:?}"
    );
}

#[test]
fn a_running_machine_that_falls_silent_is_alerted_one_that_is_off_is_not() {
    let mut h = Harness::new("[[rule]]\nwhen = \"silent\"\nlonger_than = \"10m\"\n");
    h.feed(&[
        state("Press", 1000, 0, "RUNNING", ""),
        state("Packer", 1001, 0, "OFF", ""),
    ]);
    let changes = h.tick(1);
    assert!(changes.is_empty());
    // The Press says nothing for 12 minutes while the Packer (off) sends a count now and then.
    let changes = h.judge(h.twin.newest_ms().expect("now") + 11 * 60_000);
    let r = raised(&changes);
    assert_eq!(r.len(), 1, "{changes:?}");
    assert_eq!(r[0].asset, "Press");
    assert!(
        r[0].message.contains("no event since 2026-01-05 06:00"),
        "{}",
        r[0].message
    );
    // Its next event clears it.
    let changes = h.press(13, "RUNNING", "");
    assert!(matches!(&changes[..], [AlertChange::Cleared(a)] if a.asset == "Press"));
}

#[test]
fn failure_risk_alerts_follow_the_age_and_clear_after_a_repair() {
    let mut h = Harness::new(
        "[[rule]]\nwhen = \"failure_risk\"\nabove = 0.2\nwithin = \"30m\"\nassets = [\"Press\"]\n",
    );
    let model = h.model.clone();
    // The press's jam: Weibull shape 3, scale 2 h.
    let lifetimes = Lifetimes::new(&model, |_, _| Some(Fit::known_weibull(3.0, 7200.0)));
    h.feed(&[state("Press", 1000, 0, "RUNNING", "")]);
    let judge = |h: &mut Harness, now_ms: i64| {
        let state = h.twin.state(now_ms);
        h.twin
            .evaluate_alerts(&mut h.engine, &model, &state, Some(&lifetimes), now_ms)
            .expect("evaluates")
    };
    let start = h.twin.newest_ms().expect("now");
    let life = Fit::known_weibull(3.0, 7200.0);
    // Young: the risk within 30 min is small.
    assert!(life.conditional_failure(1800.0, 1800.0) < 0.2);
    assert!(judge(&mut h, start + 30 * 60_000).is_empty());
    // At 90 minutes the risk of failing within 30 more is above 20 %.
    let risk = life.conditional_failure(5400.0, 1800.0);
    assert!(risk > 0.2, "{risk}");
    let changes = judge(&mut h, start + 90 * 60_000);
    let r = raised(&changes);
    assert_eq!(r.len(), 1, "{changes:?}");
    assert_eq!(r[0].mode.as_deref(), Some("jam"));
    assert!((r[0].value - risk).abs() < 0.01, "{} vs {risk}", r[0].value);
    // A failure and its repair renew the mode: cleared.
    h.press(91, "UNPLANNED_DOWN", "jam");
    h.press(96, "RUNNING", "");
    let changes = judge(&mut h, start + 97 * 60_000);
    assert!(
        matches!(&changes[..], [AlertChange::Cleared(_)]),
        "{changes:?}"
    );
}

#[test]
fn alerts_open_before_a_restart_are_not_raised_twice_and_can_be_acknowledged() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("twin.sqlite");
    let model = model();
    let rules = || {
        rules::parse(
            "[[rule]]\nwhen = \"down\"\nlonger_than = \"5m\"\n",
            "r",
            &model,
        )
        .expect("rules")
    };
    let lines = [
        state("Press", 1, 0, "UNPLANNED_DOWN", "jam"),
        count("Packer", 2, 6, 1),
    ];
    let id = {
        let store = Store::open(&path, crate::store::Durability::Full).expect("store");
        let mut twin = Twin::open(&model, store, MirrorConfig::default()).expect("twin");
        let mut engine = twin.alert_engine(rules()).expect("engine");
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        twin.ingest_lines("test", &refs, 0).expect("ingests");
        let now = twin.newest_ms().expect("now");
        let state = twin.state(now);
        let changes = twin
            .evaluate_alerts(&mut engine, &model, &state, None, now)
            .expect("evaluates");
        raised(&changes)[0].id
    };
    // Restarted: the stored open alert is taken on; the same stop raises nothing new.
    let store = Store::open(&path, crate::store::Durability::Full).expect("store");
    let mut twin = Twin::open(&model, store, MirrorConfig::default()).expect("twin");
    let mut engine = twin.alert_engine(rules()).expect("engine");
    assert_eq!(engine.open().len(), 1);
    let now = twin.newest_ms().expect("now") + 60_000;
    let state = twin.state(now);
    let changes = twin
        .evaluate_alerts(&mut engine, &model, &state, None, now)
        .expect("evaluates");
    assert!(changes.is_empty(), "{changes:?}");
    let ack = twin
        .acknowledge_alert(&mut engine, id, "A. Meyer", "fitter on the way", now)
        .expect("stored")
        .expect("found");
    assert!(
        matches!(&ack, AlertChange::Acknowledged(a) if a.acknowledged.as_ref().is_some_and(|k| k.by == "A. Meyer"))
    );
    assert_eq!(
        twin.alerts(true, 10).expect("stored")[0]
            .acknowledged
            .as_ref()
            .map(|a| a.note.as_str()),
        Some("fitter on the way")
    );
    assert!(
        twin.acknowledge_alert(&mut engine, 999, "x", "", now)
            .expect("ok")
            .is_none()
    );
}

#[test]
fn rule_files_are_checked_with_located_errors() {
    let model = model();
    let err = |text: &str| {
        rules::parse(text, "rules.toml", &model)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert!(
        err("[[rule]]\nwhen = \"down\"\nlonger_than = \"ten minutes\"\n")
            .starts_with("rules.toml: rule[0].longer_than:"),
        "{}",
        err("[[rule]]\nwhen = \"down\"\nlonger_than = \"ten minutes\"\n")
    );
    assert!(
        err("[[rule]]\nwhen = \"oee_below\"\nbelow = 60\nafter = \"1h\"\n")
            .contains("rule[0].below: 60 is not a share")
    );
    assert!(
        err("[[rule]]\nwhen = \"down\"\nlonger_than = \"1m\"\nassets = [\"Robot\"]\n")
            .contains("`Robot` is not a machine of the plant (machines: Press, Packer)")
    );
    let unknown = err("[[rule]]\nwhen = \"on_fire\"\n");
    assert!(
        unknown.starts_with("rules.toml: line 2:") && unknown.contains("on_fire"),
        "{unknown}"
    );
    let typo = err("[[rule]]\nwhen = \"down\"\nlonger = \"1m\"\n");
    assert!(typo.contains("line") && typo.contains("longer"), "{typo}");
    assert!(err("[[rule]]\nwhen = \"down\"\nlonger_than = \"1m\"\n[[rule]]\nwhen = \"down\"\nlonger_than = \"2m\"\n").contains("rule[1].name: `down` names another rule too"));
    assert!(
        err("[[rule]]\nwhen = \"failure_risk\"\nabove = 0.2\nclear_below = 0.3\nwithin = \"1h\"\n")
            .contains("would never clear")
    );
    assert!(
        err("[[rule]]\nwhen = \"order_late\"\nprobability = 0.5\nevery = \"10s\"\n")
            .contains("rule[0].every: at least 1 minute")
    );
    assert!(
        err("[[rule]]\nwhen = \"order_late\"\nprobability = 0.5\nahead = \"2w\"\n")
            .contains("rule[0].ahead: at most a week")
    );
    assert!(
        err("[[rule]]\nwhen = \"order_late\"\nprobability = 0.5\nassets = [\"Press\"]\n")
            .contains("assets")
    );
    // The defaults are valid for any plant.
    assert_eq!(rules::defaults(&model).len(), 3);
}

#[test]
fn an_order_alert_open_before_a_restart_is_taken_on_not_raised_again() {
    let model = model();
    let rules = || {
        rules::parse(
            "[[rule]]\nwhen = \"order_late\"\nprobability = 0.5\nevery = \"10m\"\n",
            "r",
            &model,
        )
        .expect("rules")
    };
    let order = |p_on_time: f64, complete_now: bool| crate::forecast::OrderForecast {
        id: "RUSH-1".into(),
        quantity: 100,
        due: Some("2026-01-05T07:00:00.000+01:00".into()),
        complete_now,
        p_complete: 1.0,
        completion_s: None,
        p_on_time: Some(p_on_time),
        plan_p_on_time: None,
        overdue: false,
    };
    let due = |t: &str| t.to_string();
    let mut engine = AlertEngine::new(rules(), Vec::new(), 0);
    let raised = engine.evaluate_orders(Some(&[order(0.1, false)]), 1_000, &due);
    let alert = match &raised[..] {
        [AlertChange::Raised(a)] => a.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(alert.order.as_deref(), Some("RUSH-1"));
    // A restart: the open alert comes back from the store.
    let mut engine = AlertEngine::new(rules(), vec![alert.clone()], alert.id);
    assert!(engine.order_forecast_due(2_000).is_some());
    assert!(
        engine
            .evaluate_orders(Some(&[order(0.2, false)]), 2_000, &due)
            .is_empty(),
        "raised twice"
    );
    // Between the levels (late 45 %, clears below 40 %): held. Complete: cleared.
    assert!(
        engine
            .evaluate_orders(Some(&[order(0.55, false)]), 3_000, &due)
            .is_empty()
    );
    let cleared = engine.evaluate_orders(Some(&[order(1.0, true)]), 4_000, &due);
    assert!(
        matches!(&cleared[..], [AlertChange::Cleared(a)] if a.id == alert.id && a.cleared_ms == Some(4_000)),
        "{cleared:?}"
    );
}

/// A live order book given without an order whose alert is open (the scenario's order, days late,
/// or one the MES took off its book): the alert is cleared at the next judgement; the book's
/// orders are judged as any.
#[test]
fn an_order_alert_clears_when_its_order_leaves_the_book() {
    let model = model();
    let rules = rules::parse(
        "[[rule]]\nwhen = \"order_late\"\nprobability = 0.5\nevery = \"10m\"\n",
        "r",
        &model,
    )
    .expect("rules");
    let order = |id: &str, p_on_time: f64| crate::forecast::OrderForecast {
        id: id.into(),
        quantity: 100,
        due: Some("2026-01-05T07:00:00.000+01:00".into()),
        complete_now: false,
        p_complete: 0.0,
        completion_s: None,
        p_on_time: Some(p_on_time),
        plan_p_on_time: None,
        overdue: p_on_time == 0.0,
    };
    let due = |t: &str| t.to_string();
    let mut engine = AlertEngine::new(rules, Vec::new(), 0);
    let raised = engine.evaluate_orders(Some(&[order("SO-4711", 0.0)]), 1_000, &due);
    assert!(
        matches!(&raised[..], [AlertChange::Raised(_)]),
        "{raised:?}"
    );
    let changes =
        engine.evaluate_orders(Some(&[order("WO-1", 0.9), order("WO-2", 0.2)]), 2_000, &due);
    let said: Vec<(&str, Option<&str>)> = changes
        .iter()
        .map(|c| match c {
            AlertChange::Raised(a) => ("raised", a.order.as_deref()),
            AlertChange::Cleared(a) => ("cleared", a.order.as_deref()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        said,
        [("raised", Some("WO-2")), ("cleared", Some("SO-4711"))]
    );
    // No forecast (between shifts): nothing is cleared for want of one.
    assert!(engine.evaluate_orders(None, 3_000, &due).is_empty());
}

/// The `order_late` rule judges the live book's orders once one is given: of a small order and a
/// large one due in half an hour on a press that makes a bracket a minute, the large one.
#[test]
fn the_order_alerts_judge_the_live_books_orders() {
    let mut h = Harness::new(
        "[[rule]]\nwhen = \"order_late\"\nprobability = 0.5\nevery = \"10m\"\nahead = \"2h\"\nreplications = 10\n",
    );
    h.feed(&[
        state("Press", 1000, 0, "RUNNING", ""),
        state("Packer", 1001, 0, "RUNNING", ""),
    ]);
    let order = |id: &str, quantity: u32, due: &str| crate::orders::OpenOrder {
        id: id.into(),
        product: "bracket".into(),
        quantity,
        good: 0,
        scrap: 0,
        release: None,
        due: Some(due.into()),
    };
    let book = crate::orders::OrderBookRequest {
        orders: vec![
            order("SMALL-1", 2, "2026-01-05T08:00:00+01:00"),
            order("LARGE-2", 500, "2026-01-05T06:40:00+01:00"),
        ],
    };
    let model = std::sync::Arc::new(h.model.clone());
    h.twin.set_order_book(&model, book, 0).expect("a good book");
    let now = h.twin.newest_ms().expect("an event") + 10 * 60_000;
    let changes = h
        .twin
        .order_alerts_if_due(&mut h.engine, &model, now)
        .expect("judged");
    let orders: Vec<Option<&str>> = raised(&changes)
        .iter()
        .map(|a| a.order.as_deref())
        .collect();
    assert_eq!(orders, [Some("LARGE-2")], "{changes:?}");
}

#[test]
fn a_listener_judges_at_the_newest_event_or_on_the_clock_when_quiet() {
    let mut h = Harness::new("[[rule]]\nwhen = \"silent\"\nlonger_than = \"10m\"\n");
    let empty = crate::IngestReport::default();
    assert_eq!(h.twin.judging_moment(&empty, 5), None, "no event yet");
    h.tick(3);
    let newest = h.twin.newest_ms().expect("an event");
    let news = crate::IngestReport {
        accepted: 1,
        ..Default::default()
    };
    let duplicates = crate::IngestReport {
        duplicates: 1,
        ..Default::default()
    };
    // After news: at the newest event, whatever the clock says.
    assert_eq!(h.twin.judging_moment(&news, newest + 60_000), Some(newest));
    // A quiet tick: on the clock, never before the newest event.
    assert_eq!(
        h.twin.judging_moment(&empty, newest + 60_000),
        Some(newest + 60_000)
    );
    assert_eq!(h.twin.judging_moment(&empty, newest - 60_000), Some(newest));
    // Only duplicates: nothing changed, nothing to judge.
    assert_eq!(h.twin.judging_moment(&duplicates, newest + 60_000), None);
}
