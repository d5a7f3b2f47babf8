//! The OPC UA mapping file: checked against the plant with located errors, and each node's values
//! turned into takt events (the client itself is tested against a real server in
//! `takt-cli/tests/opcua.rs`).

use std::path::Path;
use takt_twin::event::{AlarmAction, Body, CountMode, StateCode};
use takt_twin::opcua::map::{self, Reading, Tallies};

fn model() -> takt_model::Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/bottling-line.toml");
    takt_model::load_file(&path)
        .expect("the shipped bottling line")
        .model
}

fn shipped() -> map::NodeMap {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/maps/bottling-line.opcua.toml");
    map::load(&path, &model()).expect("the shipped mapping is valid")
}

fn error(text: &str) -> String {
    map::parse(text, "map.toml", &model())
        .expect_err("a broken mapping")
        .to_string()
}

#[test]
fn a_broken_mapping_is_refused_with_its_place() {
    let cases = [
        (
            "[[node]]\nnode = \"ns=2;s=Robot.State\"\nasset = \"Robot\"\nkind = \"state\"\n",
            "map.toml: node[0].asset: `Robot` is not a machine of the plant (machines: Filler, Labeller, CasePacker)",
        ),
        (
            "[[node]]\nnode = \"ns=two;s=X\"\nasset = \"Filler\"\nkind = \"state\"\n",
            "map.toml: node[0].node: `ns=two;s=X` is not an OPC UA node id",
        ),
        (
            "[[node]]\nnode = \"ns=2;s=S\"\nasset = \"Filler\"\nkind = \"state\"\nstates = { 1 = \"WORKING\" }\n",
            "map.toml: node[0].states.1: `WORKING` is not a takt state (RUNNING, IDLE, SETUP",
        ),
        (
            "[[node]]\nnode = \"ns=2;s=S\"\nasset = \"Filler\"\nkind = \"state\"\n\n[[node]]\nnode = \"ns=2;s=S\"\nasset = \"Labeller\"\nkind = \"state\"\n",
            "map.toml: node[1].node: `ns=2;s=S` is mapped already by node[0]",
        ),
        (
            "[[node]]\nnode = \"ns=2;s=S\"\nasset = \"Filler\"\nkind = \"count\"\nproduct = \"beer\"\n",
            "map.toml: node[0].product: `beer` is not a product of the plant",
        ),
        (
            "[[node]]\nnode = \"ns=2;s=S\"\nasset = \"Filler\"\nkind = \"sample\"\n\nsignal = \"t\"\nunits = \"degC\"\n",
            "map.toml: line 1: unknown field `units`",
        ),
        (
            "[[node]]\nnode = \"ns=2;s=S\"\nasset = \"Filler\"\nkind = \"temperature\"\n",
            "map.toml: line 4: unknown variant `temperature`, expected one of `state`, `count`, `sample`, `alarm`",
        ),
        (
            "[[node]]\nnode = \"ns=2;s=A\"\nasset = \"Filler\"\nkind = \"count\"\n\n[[node]]\nnode = \"ns=2;s=B\"\nasset = \"Filler\"\nkind = \"count\"\npieces = \"good\"\n",
            "map.toml: node[1].pieces: node[0] counts the good pieces of `Filler` already",
        ),
        (
            "publishing_interval = \"1ms\"\n[[node]]\nnode = \"ns=2;s=S\"\nasset = \"Filler\"\nkind = \"state\"\n",
            "map.toml: publishing_interval: from 10ms to 1h",
        ),
        ("", "map.toml: no [[node]] table: nothing to subscribe to"),
    ];
    for (text, expected) in cases {
        let got = error(text);
        assert!(
            got.starts_with(expected),
            "{text}\n got: {got}\nwant: {expected}"
        );
    }
}

#[test]
fn each_kind_of_node_becomes_its_event() {
    let map = shipped();
    assert_eq!(map.publishing_interval.as_millis(), 100);
    let at_us = 1_767_589_200_123_456; // 2026-01-05T06:00:00.123456+01:00
    let event = |index: usize, reading: Reading| {
        let (checked, raw) = map
            .event(index, &reading, at_us, 60, &mut Tallies::default())
            .expect("an event");
        let checked = checked.unwrap_or_else(|e| panic!("{reading:?}: {e} ({raw})"));
        assert_eq!(checked.event.ts, "2026-01-05T06:00:00.123+01:00");
        assert_eq!(checked.event.asset, "Filler");
        assert_eq!(checked.event.seq, at_us as u64 * 1000 + index as u64);
        checked.event.body
    };
    match event(0, Reading::Text("FAULT".into())) {
        Body::State(s) => {
            assert_eq!(s.state, StateCode::UnplannedDown);
            assert_eq!(s.reason, "fault");
        }
        other => panic!("{other:?}"),
    }
    match event(1, Reading::Number(1234.0)) {
        Body::Count(c) => {
            assert_eq!((c.mode, c.good, c.scrap), (CountMode::Total, 1234, 0));
            assert_eq!(c.product, "cola-033");
        }
        other => panic!("{other:?}"),
    }
    match event(2, Reading::Number(61.5)) {
        Body::Sample(s) => {
            assert_eq!(s.signals["temperature"].value, 61.5);
            assert_eq!(s.signals["temperature"].unit, "degC");
        }
        other => panic!("{other:?}"),
    }
    match event(4, Reading::Bool(true)) {
        Body::Alarm(a) => {
            assert_eq!(
                (a.code.as_str(), a.action),
                ("overheat", AlarmAction::Raised)
            );
            assert_eq!(a.severity, "critical");
        }
        other => panic!("{other:?}"),
    }
    match event(4, Reading::Bool(false)) {
        Body::Alarm(a) => assert_eq!(a.action, AlarmAction::Cleared),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_value_the_mapping_does_not_know_is_refused_in_words() {
    let map = shipped();
    let refused = |index: usize, reading: Reading| {
        let (checked, raw) = map
            .event(
                index,
                &reading,
                1_767_589_200_000_000,
                60,
                &mut Tallies::default(),
            )
            .expect("an answer");
        let e = checked.expect_err("refused");
        // The dead letter keeps the node and the value as received.
        assert!(raw.contains("ns=2;s=Filler."), "{raw}");
        e.to_string()
    };
    assert_eq!(
        refused(0, Reading::Text("SETUP".into())),
        "value: node `ns=2;s=Filler.State`: `SETUP` is not in the node's `states` table (FAULT, RUNNING)"
    );
    assert!(refused(1, Reading::Number(-3.0)).contains("a whole number of pieces"));
    assert!(refused(1, Reading::Number(2.5)).contains("a whole number of pieces"));
    assert!(refused(2, Reading::Text("hot".into())).contains("a finite number"));
    assert!(refused(4, Reading::Number(1.0)).contains("must be a Boolean"));
}

#[test]
fn without_a_states_table_the_value_is_a_state_name() {
    let text = "[[node]]\nnode = \"ns=3;i=1001\"\nasset = \"Labeller\"\nkind = \"state\"\n";
    let map = map::parse(text, "map.toml", &model()).expect("valid");
    let mut tallies = Tallies::default();
    let (ok, _) = map
        .event(0, &Reading::Text("STARVED".into()), 0, 0, &mut tallies)
        .expect("an event");
    assert!(
        matches!(ok.expect("a state").event.body, Body::State(s) if s.state == StateCode::Starved)
    );
    let (bad, _) = map
        .event(0, &Reading::Text("UNKNOWN".into()), 0, 0, &mut tallies)
        .expect("an answer");
    assert!(
        bad.expect_err("UNKNOWN is the twin's, not sent")
            .to_string()
            .contains("map it in the node's `states` table")
    );
}

#[test]
fn a_good_and_a_scrap_counter_make_one_set_of_totals() {
    // Two counter nodes of one machine: each count event carries both totals, so that the twin's
    // running totals (good, scrap) stay consistent whichever node changed.
    let text = "[[node]]\nnode = \"ns=2;s=Good\"\nasset = \"Filler\"\nkind = \"count\"\n\n\
                [[node]]\nnode = \"ns=2;s=Scrap\"\nasset = \"Filler\"\nkind = \"count\"\npieces = \"scrap\"\n";
    let map = map::parse(text, "map.toml", &model()).expect("valid");
    let mut tallies = Tallies::default();
    let mut totals = |index: usize, n: f64| {
        map.event(index, &Reading::Number(n), 1_000_000, 60, &mut tallies)
            .map(|(c, _)| match c.expect("a count").event.body {
                Body::Count(c) => (c.mode, c.good, c.scrap),
                other => panic!("{other:?}"),
            })
    };
    // Nothing until the scrap counter has said where it stands.
    assert_eq!(totals(0, 1200.0), None);
    assert_eq!(totals(1, 7.0), Some((CountMode::Total, 1200, 7)));
    assert_eq!(totals(0, 1201.0), Some((CountMode::Total, 1201, 7)));
    assert_eq!(totals(1, 8.0), Some((CountMode::Total, 1201, 8)));
}
