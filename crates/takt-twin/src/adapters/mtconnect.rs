//! MTConnect SHDR (the adapter-to-agent protocol) into takt events. A line is
//! `<timestamp>|<key>|<value>[|<key>|<value>...]`; a condition takes five fields after its key
//! (`level|native_code|native_severity|qualifier|message`); `@ASSET@` documents (multi-line XML)
//! are skipped. Recordings may be several segments out of time order, so observations are sorted by
//! time stamp (stably) first.
//!
//! Mapping (MTConnect data item -> takt event):
//! - `avail` UNAVAILABLE -> state OFF;
//! - `execution` (also `pexecution`, `p1execution`...): ACTIVE -> RUNNING; READY, STOPPED,
//!   INTERRUPTED, FEED_HOLD, OPTIONAL_STOP, PROGRAM_STOPPED, PROGRAM_COMPLETED -> IDLE with the
//!   value as reason;
//! - `estop` TRIGGERED -> UNPLANNED_DOWN (reason `estop`);
//! - conditions: WARNING or FAULT -> alarm raised (code = the data item, severity = the level),
//!   NORMAL -> alarm cleared when one was raised;
//! - `partcount` (`ppartcount`...) -> count, `total` mode;
//! - numeric spindle and axis loads (`...load`, %), spindle speeds (`S...speed`, rev/min) and the
//!   path feed rate (`...Fact`, mm/min) -> one `sample` per time stamp.

use crate::event::{
    AlarmAction, AlarmBody, Body, CountBody, CountMode, Event, SampleBody, Signal, StateBody,
    StateCode,
};
use std::collections::{BTreeMap, BTreeSet};

/// Data items that are conditions, by id and by name, read from an MTConnect `Devices.xml`.
pub fn condition_keys(devices_xml: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for item in devices_xml.split("<DataItem").skip(1) {
        let tag = item.split('>').next().unwrap_or_default();
        if !tag.contains("category=\"CONDITION\"") {
            continue;
        }
        for attr in ["id", "name"] {
            let needle = format!(" {attr}=\"");
            if let Some(start) = tag.find(&needle) {
                let rest = &tag[start + needle.len()..];
                if let Some(end) = rest.find('"') {
                    keys.insert(rest[..end].to_string());
                }
            }
        }
    }
    keys
}

/// Without a device model: the usual condition names.
fn looks_like_condition(key: &str) -> bool {
    key == "system" || key.ends_with("_cond") || key.ends_with("Condition")
}

/// What a conversion did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conversion {
    pub lines: usize,
    pub observations: usize,
    pub skipped_lines: usize,
    pub events: usize,
}

struct Observation<'a> {
    ts: &'a str,
    ts_ms: i64,
    key: &'a str,
    /// The value, or for a condition its level.
    value: &'a str,
    condition: Option<(&'a str, &'a str)>,
}

/// Converts an SHDR recording of one machine (named `asset` in the events).
pub fn convert(
    shdr: &str,
    asset: &str,
    conditions: Option<&BTreeSet<String>>,
) -> (Vec<Event>, Conversion) {
    let is_condition =
        |k: &str| conditions.map_or_else(|| looks_like_condition(k), |c| c.contains(k));
    let mut stats = Conversion::default();
    let mut obs: Vec<Observation> = Vec::new();
    let mut in_asset = false;
    for line in shdr.lines() {
        stats.lines += 1;
        if in_asset {
            if line.starts_with("--multiline--") {
                in_asset = false;
            }
            continue;
        }
        let fields: Vec<&str> = line.split('|').collect();
        if fields.len() < 3 {
            stats.skipped_lines += 1;
            continue;
        }
        let Ok(ts_ms) = takt_model::time::parse_rfc3339_ms(fields[0]) else {
            stats.skipped_lines += 1;
            continue;
        };
        if fields[1].starts_with('@') {
            // @ASSET@ documents (possibly multi-line), @REMOVE_ASSET@...: not machine data.
            in_asset = fields
                .last()
                .is_some_and(|f| f.starts_with("--multiline--"));
            continue;
        }
        let mut i = 1;
        while i + 1 < fields.len() {
            let key = fields[i];
            if is_condition(key) {
                let level = fields[i + 1];
                let code = fields.get(i + 2).copied().unwrap_or_default();
                let message = fields.get(i + 5).copied().unwrap_or_default();
                obs.push(Observation {
                    ts: fields[0],
                    ts_ms,
                    key,
                    value: level,
                    condition: Some((code, message)),
                });
                i += 6;
            } else {
                obs.push(Observation {
                    ts: fields[0],
                    ts_ms,
                    key,
                    value: fields[i + 1],
                    condition: None,
                });
                i += 2;
            }
            stats.observations += 1;
        }
    }
    // Segments are not in time order.
    obs.sort_by_key(|o| o.ts_ms);
    let mut events = Vec::new();
    let mut seq = 0u64;
    let mut raised: BTreeSet<String> = BTreeSet::new();
    let mut push = |events: &mut Vec<Event>, ts_ms: i64, body: Body| {
        seq += 1;
        events.push(Event {
            ts: takt_model::time::format_utc_ms(ts_ms),
            asset: asset.to_string(),
            seq,
            body,
            t_s: None,
        });
    };
    let mut i = 0;
    while i < obs.len() {
        // All observations of one time stamp: samples go into one event.
        let ts = obs[i].ts;
        let ts_ms = obs[i].ts_ms;
        let mut signals = BTreeMap::new();
        while i < obs.len() && obs[i].ts == ts {
            let o = &obs[i];
            i += 1;
            let key = o.key;
            if let Some((code, message)) = o.condition {
                match o.value {
                    "WARNING" | "FAULT" => {
                        raised.insert(key.to_string());
                        let severity = o.value.to_ascii_lowercase();
                        let text = [code, message]
                            .iter()
                            .filter(|s| !s.is_empty())
                            .copied()
                            .collect::<Vec<_>>()
                            .join(": ");
                        push(
                            &mut events,
                            ts_ms,
                            Body::Alarm(AlarmBody {
                                code: key.to_string(),
                                severity,
                                action: AlarmAction::Raised,
                                text,
                            }),
                        );
                    }
                    "NORMAL" if raised.remove(key) => push(
                        &mut events,
                        ts_ms,
                        Body::Alarm(AlarmBody {
                            code: key.to_string(),
                            severity: String::new(),
                            action: AlarmAction::Cleared,
                            text: String::new(),
                        }),
                    ),
                    _ => {}
                }
                continue;
            }
            let lower = key.to_ascii_lowercase();
            let state = |state: StateCode, reason: &str| {
                Body::State(StateBody {
                    state,
                    reason: reason.to_string(),
                })
            };
            if lower == "avail" || lower.ends_with("availability") {
                if o.value == "UNAVAILABLE" {
                    push(&mut events, ts_ms, state(StateCode::Off, "unavailable"));
                }
            } else if lower.ends_with("execution") {
                let body = match o.value {
                    "ACTIVE" => Some(state(StateCode::Running, "active")),
                    "READY" | "STOPPED" | "INTERRUPTED" | "FEED_HOLD" | "OPTIONAL_STOP"
                    | "PROGRAM_STOPPED" | "PROGRAM_COMPLETED" | "WAIT" => {
                        Some(state(StateCode::Idle, &o.value.to_ascii_lowercase()))
                    }
                    _ => None,
                };
                if let Some(b) = body {
                    push(&mut events, ts_ms, b);
                }
            } else if lower == "estop" || lower.ends_with("emergencystop") {
                if o.value == "TRIGGERED" {
                    push(&mut events, ts_ms, state(StateCode::UnplannedDown, "estop"));
                }
            } else if lower.ends_with("partcount") {
                if let Ok(total) = o.value.parse::<u64>() {
                    push(
                        &mut events,
                        ts_ms,
                        Body::Count(CountBody {
                            mode: CountMode::Total,
                            good: total,
                            scrap: 0,
                            rework: 0,
                            product: String::new(),
                        }),
                    );
                }
            } else if let Ok(value) = o.value.parse::<f64>()
                && value.is_finite()
            {
                let unit = if lower.ends_with("load") {
                    Some("%")
                } else if lower.starts_with('s') && lower.ends_with("speed") {
                    Some("rev/min")
                } else if lower.ends_with("fact") {
                    Some("mm/min")
                } else {
                    None
                };
                if let Some(unit) = unit {
                    signals.insert(
                        key.to_string(),
                        Signal {
                            value,
                            unit: unit.to_string(),
                        },
                    );
                }
            }
        }
        if !signals.is_empty() {
            push(&mut events, ts_ms, Body::Sample(SampleBody { signals }));
        }
    }
    stats.events = events.len();
    (events, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHDR: &str = "\
2022-08-08T13:51:36.7711738Z|pexecution|ACTIVE
2022-08-08T13:51:34.7167146Z|avail|AVAILABLE|system|NORMAL||||
2022-08-08T13:43:36.0810790Z|@ASSET@|123.1|CuttingTool|--multiline--ABCD
<CuttingTool><ToolLife>3</ToolLife></CuttingTool>
--multiline--ABCD
2022-08-08T13:52:00.0000000Z|S1load|12.5|S1speed|3000|X1actm|10.2
2022-08-08T13:53:00.0000000Z|CoolantSystem1_cond|FAULT|C12|1||Coolant low
2022-08-08T13:54:43.5007997Z|pexecution|PROGRAM_COMPLETED
2022-08-08T13:54:43.8280317Z|ppartcount|1|Z1load|2
2022-08-08T13:55:00.0000000Z|CoolantSystem1_cond|NORMAL||||
garbage
";

    #[test]
    fn converts_states_counts_samples_and_conditions_in_time_order() {
        let (events, stats) = convert(SHDR, "Okuma", None);
        assert_eq!(stats.skipped_lines, 1);
        let kinds: Vec<String> = events
            .iter()
            .map(|e| match &e.body {
                Body::State(s) => format!("state:{}", s.state.name()),
                Body::Count(c) => format!("count:{}", c.good),
                Body::Sample(s) => format!("sample:{}", s.signals.len()),
                Body::Alarm(a) => format!("alarm:{:?}", a.action),
                _ => "other".into(),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "state:RUNNING",
                "sample:2",
                "alarm:Raised",
                "state:IDLE",
                "count:1",
                "sample:1",
                "alarm:Cleared"
            ]
        );
        assert!(
            events
                .windows(2)
                .all(|w| w[0].seq < w[1].seq && w[0].ts <= w[1].ts)
        );
        // Every event passes the schema's checks.
        for e in events {
            crate::event::check(e).expect("valid event");
        }
    }

    #[test]
    fn reads_condition_items_from_the_device_model() {
        let xml = r#"<DataItem type="SYSTEM" category="CONDITION" id="Lsystem" name="system"/>
<DataItem category="SAMPLE" id="x" name="S1load"/><DataItem category="CONDITION" id="servo_cond"/>"#;
        let keys = condition_keys(xml);
        assert!(keys.contains("system") && keys.contains("Lsystem") && keys.contains("servo_cond"));
        assert!(!keys.contains("S1load"));
    }
}
