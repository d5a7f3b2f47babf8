//! The takt plant event: one JSON object per line (JSON Lines), the same for live sensors, replayed
//! recordings and the simulator's `--trace`. Every event has `ts` (RFC 3339 with an offset),
//! `asset`, `kind` and `seq` (increasing per source; `asset` + `seq` identifies an event, so a resent
//! one is recognised as a duplicate). The kinds: `state`, `count`, `sample`, `alarm`,
//! `maintenance`, `operation`. Unknown extra fields are ignored (newer senders stay readable); the
//! ones named here are checked, and a bad event gets an error naming the field and the problem.
//! `docs/event.schema.json` is generated from these types (`schema()`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use takt_model::time::parse_rfc3339_ms;

mod scan;
use scan::{Flat, scan_flat};

/// Machine states (ISO 22400 / PackML-like): what the asset is doing since `ts`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StateCode {
    /// Producing.
    Running,
    /// Ready, not producing, for no reason below.
    Idle,
    /// Changeover or setup.
    Setup,
    /// Planned stop: maintenance, breaks, meetings.
    PlannedDown,
    /// Failure.
    UnplannedDown,
    /// Cannot hand on its output.
    Blocked,
    /// Has no input.
    Starved,
    /// Not scheduled to work (off-shift).
    Off,
    /// No news from the asset for too long (set by the twin, not sent).
    Unknown,
}

impl StateCode {
    pub const ALL: [StateCode; 9] = [
        StateCode::Running,
        StateCode::Idle,
        StateCode::Setup,
        StateCode::PlannedDown,
        StateCode::UnplannedDown,
        StateCode::Blocked,
        StateCode::Starved,
        StateCode::Off,
        StateCode::Unknown,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The state of its name (`RUNNING`, `UNPLANNED_DOWN`, ...).
    pub fn parse(name: &str) -> Option<StateCode> {
        StateCode::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            StateCode::Running => "RUNNING",
            StateCode::Idle => "IDLE",
            StateCode::Setup => "SETUP",
            StateCode::PlannedDown => "PLANNED_DOWN",
            StateCode::UnplannedDown => "UNPLANNED_DOWN",
            StateCode::Blocked => "BLOCKED",
            StateCode::Starved => "STARVED",
            StateCode::Off => "OFF",
            StateCode::Unknown => "UNKNOWN",
        }
    }
}

/// Whether a count event carries increments or the counter's running total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CountMode {
    #[default]
    Delta,
    Total,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Signal {
    pub value: f64,
    /// Unit as written by the sender, e.g. `mm/s`, `degC`, `kW`, `bar`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(max = MAX_NAME_BYTES))]
    pub unit: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlarmAction {
    Raised,
    Cleared,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperationAction {
    Start,
    Complete,
}

/// The asset entered `state`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StateBody {
    pub state: StateCode,
    /// Reason code, e.g. `no_input`, `jam`, `changeover`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(max = MAX_NAME_BYTES))]
    pub reason: String,
}

/// Pieces: increments since the last count (`delta`, the default) or running totals (`total`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CountBody {
    #[serde(default)]
    pub mode: CountMode,
    #[serde(default)]
    pub good: u64,
    #[serde(default)]
    pub scrap: u64,
    #[serde(default)]
    pub rework: u64,
    /// The product counted, when the sender knows it (for performance against its ideal cycle).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(max = MAX_NAME_BYTES))]
    pub product: String,
}

/// Measured signals by name, e.g. `{"vibration": {"value": 4.2, "unit": "mm/s"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SampleBody {
    pub signals: BTreeMap<String, Signal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AlarmBody {
    #[schemars(length(max = MAX_NAME_BYTES))]
    pub code: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(max = MAX_NAME_BYTES))]
    pub severity: String,
    pub action: AlarmAction,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
}

/// A maintenance action, e.g. `{"action": "replace", "component": "comp2", "reason": "failure"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MaintenanceBody {
    #[schemars(length(max = MAX_NAME_BYTES))]
    pub action: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(max = MAX_NAME_BYTES))]
    pub component: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(max = MAX_NAME_BYTES))]
    pub reason: String,
}

/// A work-order operation started or completed on the asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OperationBody {
    #[schemars(length(max = MAX_NAME_BYTES))]
    pub work_order: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(max = MAX_NAME_BYTES))]
    pub operation: String,
    pub action: OperationAction,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(max = MAX_NAME_BYTES))]
    pub product: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub good: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrap: Option<u64>,
}

/// What happened, by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    State(StateBody),
    Count(CountBody),
    Sample(SampleBody),
    Alarm(AlarmBody),
    Maintenance(MaintenanceBody),
    Operation(OperationBody),
}

impl Body {
    pub fn kind(&self) -> &'static str {
        match self {
            Body::State(_) => "state",
            Body::Count(_) => "count",
            Body::Sample(_) => "sample",
            Body::Alarm(_) => "alarm",
            Body::Maintenance(_) => "maintenance",
            Body::Operation(_) => "operation",
        }
    }
}

/// One plant event as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    /// When it happened: RFC 3339 with an offset, e.g. `2026-01-05T06:00:00.000+01:00`.
    pub ts: String,
    /// The machine (or line, buffer...) as the scenario names it.
    #[schemars(length(max = MAX_NAME_BYTES))]
    pub asset: String,
    /// Increases per source; `asset` + `seq` identify the event.
    pub seq: u64,
    #[serde(flatten)]
    pub body: Body,
    /// Seconds since the start of the recording (the simulator's trace writes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_s: Option<f64>,
}

/// An event that passed the checks, with its time as Unix milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub event: Event,
    pub ts_ms: i64,
}

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if field.is_empty() { String::new() } else { format!("{field}: ") })]
pub struct EventError {
    /// The field at fault (`ts`, `signals.vibration.value`, ...), empty when the JSON itself is broken.
    pub field: String,
    pub message: String,
}

impl EventError {
    fn at(field: &str, message: impl Into<String>) -> EventError {
        EventError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Reads one event from JSON text and checks it. The common flat shape is read by a scanner of its
/// own ([`scan_flat`]); any other well-formed event in one serde pass; for a broken one the fields
/// are read one at a time, so that the error names the field at fault (`state`,
/// `signals.vibration.value`, ...). All three give the same result for the same text.
pub fn parse(text: &str) -> Result<Checked, EventError> {
    if let Some(event) = scan_flat(text).and_then(Flat::into_event) {
        return check(event);
    }
    parse_with_serde(text)
}

/// [`parse`] without the scanner: serde in one pass, then field by field for the error.
fn parse_with_serde(text: &str) -> Result<Checked, EventError> {
    if let Some(event) = serde_json::from_str::<Flat>(text)
        .ok()
        .and_then(Flat::into_event)
    {
        return check(event);
    }
    parse_slowly(text)
}

fn parse_slowly(text: &str) -> Result<Checked, EventError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| EventError::at("", e.to_string()))?;
    let field = |name: &str| value.get(name);
    let ts = match field("ts") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(_) => return Err(EventError::at("ts", "must be a string")),
        None => return Err(EventError::at("ts", "missing")),
    };
    let asset = match field("asset") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(_) => return Err(EventError::at("asset", "must be a string")),
        None => return Err(EventError::at("asset", "missing")),
    };
    let seq = match field("seq") {
        Some(v) => v.as_u64().ok_or_else(|| {
            EventError::at("seq", format!("must be a whole number >= 0, got {v}"))
        })?,
        None => return Err(EventError::at("seq", "missing")),
    };
    let t_s = match field("t_s") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            v.as_f64()
                .ok_or_else(|| EventError::at("t_s", "must be a number"))?,
        ),
    };
    fn body<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<T, EventError> {
        serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            EventError {
                field: if path == "." { String::new() } else { path },
                message: e.into_inner().to_string(),
            }
        })
    }
    let body = match field("kind").and_then(|k| k.as_str()) {
        Some("state") => Body::State(body(&value)?),
        Some("count") => Body::Count(body(&value)?),
        Some("sample") => Body::Sample(body(&value)?),
        Some("alarm") => Body::Alarm(body(&value)?),
        Some("maintenance") => Body::Maintenance(body(&value)?),
        Some("operation") => Body::Operation(body(&value)?),
        Some(other) => {
            return Err(EventError::at(
                "kind",
                format!(
                    "unknown kind `{other}`: use state, count, sample, alarm, maintenance or operation"
                ),
            ));
        }
        None => return Err(EventError::at("kind", "missing, or not a string")),
    };
    check(Event {
        ts,
        asset,
        seq,
        body,
        t_s,
    })
}

/// The most pieces one `delta` count may carry: a machine counts a cycle or a batch at a time.
pub const MAX_PIECES_PER_COUNT: u64 = 1_000_000;
/// The largest running total a `total` counter (or an operation's quantity) may carry: 2^53, the
/// largest whole number every JSON reader holds exactly.
pub const MAX_COUNTER_TOTAL: u64 = 1 << 53;

/// Checks an event already deserialized (the HTTP API receives batches as JSON arrays).
pub fn check(event: Event) -> Result<Checked, EventError> {
    let ts_ms = parse_rfc3339_ms(&event.ts).map_err(|m| EventError::at("ts", m.0))?;
    if event.asset.trim().is_empty() {
        return Err(EventError::at("asset", "must not be empty"));
    }
    if event.seq > i64::MAX as u64 {
        return Err(EventError::at("seq", "must be below 2^63"));
    }
    check_name_lengths(&event)?;
    if let Some(t) = event.t_s
        && !t.is_finite()
    {
        return Err(EventError::at("t_s", "must be a finite number"));
    }
    match &event.body {
        Body::Sample(SampleBody { signals }) => {
            if signals.is_empty() {
                return Err(EventError::at(
                    "signals",
                    "a sample needs at least one signal",
                ));
            }
            for (name, s) in signals {
                if !s.value.is_finite() {
                    return Err(EventError::at(
                        &format!("signals.{name}.value"),
                        "must be a finite number",
                    ));
                }
            }
        }
        Body::Count(CountBody {
            mode,
            good,
            scrap,
            rework,
            ..
        }) => {
            let (max, what) = match mode {
                CountMode::Delta => (MAX_PIECES_PER_COUNT, "pieces in one count"),
                CountMode::Total => (MAX_COUNTER_TOTAL, "a counter's running total"),
            };
            for (name, n) in [("good", good), ("scrap", scrap), ("rework", rework)] {
                if *n > max {
                    return Err(EventError::at(
                        name,
                        format!("{n} is more than takt accepts for {what} ({max})"),
                    ));
                }
            }
        }
        Body::Operation(OperationBody {
            quantity,
            good,
            scrap,
            ..
        }) if [quantity, good, scrap]
            .into_iter()
            .any(|n| n.is_some_and(|n| n > MAX_COUNTER_TOTAL)) =>
        {
            return Err(EventError::at(
                "quantity",
                format!("quantities above {MAX_COUNTER_TOTAL} are not accepted"),
            ));
        }
        Body::Alarm(AlarmBody { code, .. }) if code.is_empty() => {
            return Err(EventError::at("code", "must not be empty"));
        }
        Body::Operation(OperationBody { work_order, .. }) if work_order.is_empty() => {
            return Err(EventError::at("work_order", "must not be empty"));
        }
        Body::Maintenance(MaintenanceBody { action, .. }) if action.is_empty() => {
            return Err(EventError::at("action", "must not be empty"));
        }
        _ => {}
    }
    Ok(Checked { event, ts_ms })
}

/// The longest name an event may carry, in bytes (UTF-8): an asset, a product, a reason, a
/// signal and its unit, an alarm's code and severity, a work order. The twin keeps names in its
/// state; an alarm's free `text` is stored only, and is not limited here.
pub const MAX_NAME_BYTES: usize = takt_model::limits::MAX_NAME_BYTES;

fn check_name_lengths(event: &Event) -> Result<(), EventError> {
    let long = |field: &str, name: &str| -> Result<(), EventError> {
        if name.len() > MAX_NAME_BYTES {
            return Err(EventError::at(
                field,
                format!(
                    "{} bytes long; a name may have at most {MAX_NAME_BYTES}",
                    name.len()
                ),
            ));
        }
        Ok(())
    };
    long("asset", &event.asset)?;
    match &event.body {
        Body::State(StateBody { reason, .. }) => long("reason", reason),
        Body::Count(CountBody { product, .. }) => long("product", product),
        Body::Sample(SampleBody { signals }) => {
            for (name, s) in signals {
                if name.len() > MAX_NAME_BYTES {
                    // The name itself is too long to repeat in the error's field.
                    long("signals", name)?;
                }
                long(&format!("signals.{name}.unit"), &s.unit)?;
            }
            Ok(())
        }
        Body::Alarm(AlarmBody { code, severity, .. }) => {
            long("code", code)?;
            long("severity", severity)
        }
        Body::Maintenance(MaintenanceBody {
            action,
            component,
            reason,
        }) => {
            long("action", action)?;
            long("component", component)?;
            long("reason", reason)
        }
        Body::Operation(OperationBody {
            work_order,
            operation,
            product,
            ..
        }) => {
            long("work_order", work_order)?;
            long("operation", operation)?;
            long("product", product)
        }
    }
}

/// The JSON Schema of an event (what `docs/event.schema.json` holds).
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Event)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::scan::first_special;
    use super::*;

    #[test]
    fn reads_every_kind() {
        for line in [
            r#"{"ts":"2026-01-05T06:00:00.000+01:00","asset":"Filler","kind":"state","seq":4,"state":"RUNNING","reason":"production","t_s":0.0}"#,
            r#"{"ts":"2026-01-05T06:00:01Z","asset":"Filler","kind":"count","seq":5,"mode":"delta","good":1}"#,
            r#"{"ts":"2026-01-05T06:00:01Z","asset":"Filler","kind":"sample","seq":6,"signals":{"vibration":{"value":4.2,"unit":"mm/s"}}}"#,
            r#"{"ts":"2026-01-05T06:00:01Z","asset":"Filler","kind":"alarm","seq":7,"code":"E12","severity":"fault","action":"raised"}"#,
            r#"{"ts":"2026-01-05T06:00:01Z","asset":"Filler","kind":"maintenance","seq":8,"action":"replace","component":"nozzle"}"#,
            r#"{"ts":"2026-01-05T06:00:01Z","asset":"Filler","kind":"operation","seq":9,"work_order":"WO-1","action":"start","quantity":10}"#,
        ] {
            let c = parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            // Round trip through the schema's JSON form.
            let again = parse(&serde_json::to_string(&c.event).expect("json")).expect("again");
            assert_eq!(again, c);
        }
        assert_eq!(
            parse_rfc3339_ms("2026-01-05T06:00:00.000+01:00"),
            Ok(1_767_589_200_000)
        );
    }

    #[test]
    fn the_word_scan_finds_what_a_byte_scan_finds() {
        let naive = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        // Specials, their neighbours, and bytes whose high bit or borrow could fool the word test.
        let probes = [
            0x00u8, 0x01, 0x1F, 0x20, 0x21, b'"', 0x23, 0x5B, b'\\', 0x5D, 0x7F, 0x80, 0x9F, 0xA0,
            0xA2, 0xDC, 0xFF,
        ];
        let mut checked = 0;
        for len in 0..=20 {
            for p in 0..len {
                for &x in &probes {
                    for &y in &probes {
                        // x at p, and y after it, in a run of plain letters.
                        let mut b = vec![b'a'; len];
                        b[p] = x;
                        if p + 3 < len {
                            b[p + 3] = y;
                        }
                        assert_eq!(first_special(&b), naive(&b), "{b:?}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 50_000);
    }

    #[test]
    fn the_scanner_reads_as_serde_reads() {
        use rand::{RngExt, SeedableRng};
        let lines = [
            r#"{"asset":"Filler","kind":"state","reason":"no_input","seq":5,"state":"STARVED","t_s":0.5421968127035799,"ts":"2026-01-05T06:00:00.542+01:00"}"#,
            r#"{"asset":"Filler","good":1,"kind":"count","mode":"delta","product":"cola-033","rework":0,"scrap":0,"seq":6,"t_s":0.5421968127035799,"ts":"2026-01-05T06:00:00.542+01:00"}"#,
            r#"{"ts":"2026-01-05T06:00:01Z","asset":"Filler","kind":"count","seq":5,"mode":"total","good":17,"scrap":2,"t_s":12}"#,
            r#"{"ts":"2026-01-05T06:00:01Z","asset":"Filler","kind":"alarm","seq":7,"code":"E12","severity":"fault","action":"raised","text":"Füllventil"}"#,
            r#"{"ts":"2026-01-05T06:00:01Z","asset":"Filler","kind":"maintenance","seq":8,"action":"replace","component":"nozzle","reason":"wear"}"#,
            r#"{"ts":"2026-01-05T06:00:01Z","asset":"Filler","kind":"operation","seq":9,"work_order":"WO-1","operation":"10","action":"complete","product":"A","quantity":10,"good":9,"scrap":1,"extra":-1.5e-3}"#,
            r#"{"ts":"2026-01-05T06:00:01Z","asset":"Filler","kind":"sample","seq":6,"signals":{"vibration":{"value":4.2,"unit":"mm/s"}}}"#,
        ];
        // The common shapes take the scanner's path (else this test would compare serde to itself).
        for line in &lines[..6] {
            assert!(scan_flat(line).is_some(), "{line}");
        }
        // Control characters too: JSON allows them in no string unescaped.
        let alphabet: &[u8] = &[
            &br#"{}[]":,.-+eE0123456789 \/tnulrsaxyzUNKOW_"#[..],
            b"\t\x01",
        ]
        .concat();
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(11);
        let mut scanned = 0;
        let mut checked = 0;
        for round in 0..60_000 {
            let mut b = lines[round % lines.len()].as_bytes().to_vec();
            for _ in 0..rng.random_range(0..4) {
                let at = rng.random_range(0..b.len());
                match rng.random_range(0..4) {
                    0 => b[at] = alphabet[rng.random_range(0..alphabet.len())],
                    1 => b.insert(at, alphabet[rng.random_range(0..alphabet.len())]),
                    2 if b.len() > 2 => {
                        b.remove(at);
                    }
                    _ => {
                        // A field repeated, or a digit run changed.
                        let copy = b[at..(at + 12).min(b.len())].to_vec();
                        b.splice(at..at, copy);
                    }
                }
            }
            let Ok(text) = std::str::from_utf8(&b) else {
                continue;
            };
            scanned += usize::from(scan_flat(text).is_some());
            assert_eq!(parse(text), parse_with_serde(text), "{text}");
            checked += 1;
        }
        // Mutations still leave many lines the scanner reads.
        assert!(scanned > checked / 10, "{scanned} of {checked}");
    }

    #[test]
    fn the_fast_and_the_slow_reader_agree() {
        for line in [
            r#"{"ts":"2026-01-05T06:00:00Z","asset":"A","kind":"alarm","seq":7,"code":"E1","action":"cleared","text":"t"}"#,
            r#"{"ts":"2026-01-05T06:00:00Z","asset":"A","kind":"operation","seq":9,"work_order":"W","action":"complete","good":3,"scrap":1,"product":"p"}"#,
            r#"{"ts":"2026-01-05T06:00:00Z","asset":"A","kind":"maintenance","seq":8,"action":"inspect","reason":"scheduled","extra":1}"#,
            r#"{"ts":"2026-01-05T06:00:00Z","asset":"A","kind":"count","seq":5,"mode":"total","rework":2}"#,
        ] {
            assert_eq!(parse(line), parse_slowly(line), "{line}");
        }
    }

    #[test]
    fn bad_events_name_the_field() {
        let bad = |line: &str, field: &str, words: &str| {
            let e = parse(line).expect_err(line);
            assert_eq!(e.field, field, "{line}: {e}");
            assert!(e.message.contains(words), "{line}: {e}");
        };
        bad(
            r#"{"ts":"yesterday","asset":"A","kind":"state","seq":1,"state":"RUNNING"}"#,
            "ts",
            "RFC 3339",
        );
        bad(
            r#"{"ts":"2026-01-05T06:00:00","asset":"A","kind":"state","seq":1,"state":"RUNNING"}"#,
            "ts",
            "offset",
        );
        bad(
            r#"{"ts":"2026-01-05T06:00:00Z","asset":"A","kind":"state","seq":1,"state":"FLYING"}"#,
            "state",
            "unknown variant",
        );
        bad(
            r#"{"ts":"2026-01-05T06:00:00Z","asset":"A","kind":"count","seq":-1}"#,
            "seq",
            "whole number",
        );
        bad(
            r#"{"ts":"2026-01-05T06:00:00Z","asset":"","kind":"count","seq":1}"#,
            "asset",
            "empty",
        );
        bad(
            r#"{"ts":"2026-01-05T06:00:00Z","asset":"A","kind":"count","seq":1,"good":-3}"#,
            "good",
            "invalid value",
        );
        bad(
            r#"{"ts":"2026-01-05T06:00:00Z","asset":"A","kind":"teleport","seq":1}"#,
            "kind",
            "unknown kind",
        );
        bad(
            r#"{"ts":"2026-01-05T06:00:00Z","asset":"A","kind":"sample","seq":1,"signals":{}}"#,
            "signals",
            "at least one",
        );
        bad(
            r#"{"ts":"2026-01-05T06:00:00Z","asset":"A","kind":"sample","seq":1,"signals":{"t":{"value":"hot"}}}"#,
            "signals.t.value",
            "invalid type",
        );
        bad(
            r#"{"asset":"A","kind":"state","seq":1,"state":"RUNNING"}"#,
            "ts",
            "missing",
        );
        bad(r#"{"ts":"2026-01-05T06:00:00Z","asset":"A""#, "", "EOF");
        // Names the twin keeps are at most MAX_NAME_BYTES long; 256 bytes pass, 257 do not.
        let at_most = "x".repeat(MAX_NAME_BYTES);
        let over = "é".repeat(MAX_NAME_BYTES / 2) + "x";
        for (kind, field, body) in [
            ("count", "product", r#""product":"NAME""#),
            ("state", "reason", r#""state":"IDLE","reason":"NAME""#),
            ("alarm", "code", r#""code":"NAME","action":"raised""#),
            (
                "sample",
                "signals.t.unit",
                r#""signals":{"t":{"value":1,"unit":"NAME"}}"#,
            ),
            ("sample", "signals", r#""signals":{"NAME":{"value":1}}"#),
            (
                "operation",
                "work_order",
                r#""work_order":"NAME","action":"start""#,
            ),
            (
                "maintenance",
                "component",
                r#""action":"a","component":"NAME""#,
            ),
        ] {
            let line = |name: &str| {
                format!(
                    r#"{{"ts":"2026-01-05T06:00:00Z","asset":"A","kind":"{kind}","seq":1,{}}}"#,
                    body.replace("NAME", name)
                )
            };
            parse(&line(&at_most)).unwrap_or_else(|e| panic!("{kind}: {e}"));
            bad(&line(&over), field, "257 bytes long");
        }
        bad(
            &format!(r#"{{"ts":"2026-01-05T06:00:00Z","asset":"{over}","kind":"count","seq":1}}"#),
            "asset",
            "at most 256",
        );
    }

    #[test]
    fn the_shipped_schema_file_is_current() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/event.schema.json");
        let generated = serde_json::to_string_pretty(&schema()).expect("schema") + "\n";
        if std::env::var_os("TAKT_UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &generated).expect("write schema");
        }
        let shipped = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            shipped == generated,
            "docs/event.schema.json is out of date: run TAKT_UPDATE_SCHEMA=1 cargo test -p takt-twin"
        );
    }
}

/// The flat CSV form: a header naming any of the event fields (`ts,asset,kind,seq,state,reason,
/// mode,good,scrap,rework,product,code,severity,action,text,component,work_order,operation,quantity`)
/// and, for samples, `signal,value,unit` (one signal per row). A row becomes the JSON event of the
/// same fields (empty cells are left out), so both forms are checked the same way.
pub fn csv_row_to_json(headers: &[&str], row: &[&str]) -> String {
    let mut object = serde_json::Map::new();
    let mut signal: Option<(String, serde_json::Value, String)> = None;
    for (name, cell) in headers.iter().zip(row) {
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        let name = name.trim();
        let number = || {
            cell.parse::<u64>()
                .map(serde_json::Value::from)
                .or_else(|_| cell.parse::<f64>().map(serde_json::Value::from))
                .unwrap_or_else(|_| serde_json::Value::from(cell))
        };
        match name {
            "seq" | "good" | "scrap" | "rework" | "quantity" | "t_s" => {
                object.insert(name.to_string(), number());
            }
            "signal" => signal.get_or_insert_with(Default::default).0 = cell.to_string(),
            "value" => signal.get_or_insert_with(Default::default).1 = number(),
            "unit" => signal.get_or_insert_with(Default::default).2 = cell.to_string(),
            _ => {
                object.insert(name.to_string(), serde_json::Value::from(cell));
            }
        }
    }
    if let Some((name, value, unit)) = signal {
        object.insert(
            "signals".into(),
            serde_json::json!({ name: { "value": value, "unit": unit } }),
        );
    }
    serde_json::Value::Object(object).to_string()
}

#[cfg(test)]
mod csv_tests {
    use super::*;

    #[test]
    fn csv_rows_read_like_json_events() {
        let headers = [
            "ts", "asset", "kind", "seq", "state", "reason", "good", "signal", "value", "unit",
        ];
        let state = [
            "2026-01-05T06:00:00Z",
            "A",
            "state",
            "1",
            "RUNNING",
            "start",
            "",
            "",
            "",
            "",
        ];
        let c = parse(&csv_row_to_json(&headers, &state)).expect("state row");
        assert!(matches!(
            c.event.body,
            Body::State(StateBody {
                state: StateCode::Running,
                ..
            })
        ));
        let sample = [
            "2026-01-05T06:00:01Z",
            "A",
            "sample",
            "2",
            "",
            "",
            "",
            "vibration",
            "4.5",
            "mm/s",
        ];
        let c = parse(&csv_row_to_json(&headers, &sample)).expect("sample row");
        match c.event.body {
            Body::Sample(s) => assert_eq!(s.signals["vibration"].value, 4.5),
            other => panic!("{other:?}"),
        }
        let bad = [
            "2026-01-05T06:00:01Z",
            "A",
            "sample",
            "3",
            "",
            "",
            "",
            "vibration",
            "loud",
            "mm/s",
        ];
        let e = parse(&csv_row_to_json(&headers, &bad)).expect_err("not a number");
        assert_eq!(e.field, "signals.vibration.value");
    }
}
