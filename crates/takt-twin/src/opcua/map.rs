//! The mapping file of the OPC UA client: which node of a machine's controller is which takt event.
//! A TOML file of `[[node]]` tables, checked against the plant before anything connects:
//!
//! ```toml
//! publishing_interval = "250ms"   # how often the server sends changes (default 500 ms)
//!
//! [[node]]
//! node = "ns=2;s=Filler.State"    # the node id in OPC UA's text form
//! asset = "Filler"                # the machine as the scenario names it
//! kind = "state"
//! [node.states]                   # the node's value -> a takt state (and a reason)
//! RUNNING = "RUNNING"
//! FAULT = { state = "UNPLANNED_DOWN", reason = "fault" }
//!
//! [[node]]
//! node = "ns=2;s=Filler.GoodParts"
//! asset = "Filler"
//! kind = "count"                  # the node is a running total of pieces
//! pieces = "good"                 # good (default), scrap or rework
//! product = "cola-033"            # optional
//!
//! [[node]]
//! node = "ns=2;s=Filler.Temperature"
//! asset = "Filler"
//! kind = "sample"
//! signal = "temperature"
//! unit = "degC"
//!
//! [[node]]
//! node = "ns=2;s=Filler.Overheat"
//! asset = "Filler"
//! kind = "alarm"                  # a Boolean node: true raises the alarm, false clears it
//! code = "overheat"
//! severity = "critical"
//! ```
//!
//! Without a `states` table a state node's value must be a takt state name (`RUNNING`, ...). Numeric
//! and Boolean values are looked up by their text (`1`, `true`). Errors name the file, the line or
//! the node (`node[2].asset: ...`).
//!
//! Every value becomes one event stamped with its source time stamp (the server's when the source
//! gives none). Its `seq` is that time in microseconds times 1000 plus the node's position in the
//! file, so the same value sent again (after a reconnection the server sends every node's current
//! value) is a duplicate by `asset` + `seq` and stored once. Counters go in as running totals
//! (`mode = "total"`): pieces made while the connection was down are counted once it is back, and
//! a counter that goes down (a controller restarted) counts on from zero.

use crate::event::{self, AlarmAction, Body, Checked, CountMode, EventError, StateCode};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use takt_model::Model;
use takt_model::duration::parse_duration;

/// At most this many nodes in one mapping (the node's position is part of each event's `seq`).
pub const MAX_NODES: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MapFile {
    #[serde(default)]
    publishing_interval: Option<String>,
    #[serde(default)]
    node: Vec<NodeSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum NodeSpec {
    State {
        node: String,
        asset: String,
        #[serde(default)]
        states: BTreeMap<String, StateSpec>,
    },
    Count {
        node: String,
        asset: String,
        #[serde(default)]
        pieces: Pieces,
        #[serde(default)]
        product: String,
    },
    Sample {
        node: String,
        asset: String,
        signal: String,
        #[serde(default)]
        unit: String,
    },
    Alarm {
        node: String,
        asset: String,
        code: String,
        #[serde(default)]
        severity: String,
        #[serde(default)]
        text: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StateSpec {
    Name(String),
    WithReason {
        state: String,
        #[serde(default)]
        reason: String,
    },
}

/// Which pieces a counter node counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pieces {
    #[default]
    Good = 0,
    Scrap = 1,
    Rework = 2,
}

impl Pieces {
    fn name(self) -> &'static str {
        match self {
            Pieces::Good => "good",
            Pieces::Scrap => "scrap",
            Pieces::Rework => "rework",
        }
    }
}

/// The latest running total of each counter node, per asset: a count event carries all of an
/// asset's totals at once (good, scrap, rework), so that a good counter and a scrap counter on
/// two nodes make one consistent set of totals. An asset's counts start once each of its counter
/// nodes has sent a value (a subscription sends every node's value first).
#[derive(Debug, Clone, Default)]
pub struct Tallies {
    latest: BTreeMap<String, [Option<u64>; 3]>,
}

/// What a node's values become.
#[derive(Debug, Clone, PartialEq)]
pub enum Meaning {
    /// Empty: the value is a state's name.
    State(BTreeMap<String, (StateCode, String)>),
    Count {
        pieces: Pieces,
        product: String,
    },
    Sample {
        signal: String,
        unit: String,
    },
    Alarm {
        code: String,
        severity: String,
        text: String,
    },
}

/// One node of the mapping, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct MappedNode {
    /// As written in the file (`ns=2;s=Filler.State`); parsed by the client.
    pub node: String,
    pub asset: String,
    pub meaning: Meaning,
}

/// A checked mapping file.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeMap {
    pub nodes: Vec<MappedNode>,
    pub publishing_interval: Duration,
}

/// A mapping file that cannot be used, located.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct MapError {
    pub file: String,
    pub message: String,
}

/// A value as a node sent it, reduced to what the mapping reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    Bool(bool),
    Number(f64),
    Text(String),
}

impl Reading {
    fn text(&self) -> String {
        match self {
            Reading::Bool(b) => b.to_string(),
            Reading::Number(x) => x.to_string(),
            Reading::Text(t) => t.clone(),
        }
    }
}

/// Reads and checks a mapping file against the plant.
pub fn load(path: &Path, model: &Model) -> Result<NodeMap, MapError> {
    let text = std::fs::read_to_string(path).map_err(|e| MapError {
        file: path.display().to_string(),
        message: format!("cannot read it: {e}"),
    })?;
    parse(&text, &path.display().to_string(), model)
}

/// Checks mapping text; `file` names it in errors.
pub fn parse(text: &str, file: &str, model: &Model) -> Result<NodeMap, MapError> {
    let located = |message: String| MapError {
        file: file.to_string(),
        message,
    };
    let parsed: MapFile =
        toml::from_str(text).map_err(|e| located(crate::batching::toml_error(text, &e)))?;
    if parsed.node.is_empty() {
        return Err(located("no [[node]] table: nothing to subscribe to".into()));
    }
    if parsed.node.len() > MAX_NODES {
        return Err(located(format!(
            "{} nodes; one mapping holds at most {MAX_NODES} (run a second listener for more)",
            parsed.node.len()
        )));
    }
    let publishing_interval = match &parsed.publishing_interval {
        None => Duration::from_millis(500),
        Some(t) => match parse_duration(t) {
            Ok(s) if (0.01..=3600.0).contains(&s) => Duration::from_secs_f64(s),
            Ok(_) => {
                return Err(located("publishing_interval: from 10ms to 1h".into()));
            }
            Err(e) => return Err(located(format!("publishing_interval: {e}"))),
        },
    };
    let machines: Vec<String> = crate::assets_of(model)
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    let mut nodes: Vec<MappedNode> = Vec::with_capacity(parsed.node.len());
    for (i, spec) in parsed.node.into_iter().enumerate() {
        let at = |field: &str, message: String| located(format!("node[{i}].{field}: {message}"));
        let (node, asset, meaning) = match spec {
            NodeSpec::State {
                node,
                asset,
                states,
            } => {
                let mut table = BTreeMap::new();
                for (value, spec) in states {
                    let (name, reason) = match spec {
                        StateSpec::Name(n) => (n, String::new()),
                        StateSpec::WithReason { state, reason } => (state, reason),
                    };
                    let state = state_of(&name).ok_or_else(|| {
                        at(
                            &format!("states.{value}"),
                            format!("`{name}` is not a takt state ({})", state_names()),
                        )
                    })?;
                    table.insert(value, (state, reason));
                }
                (node, asset, Meaning::State(table))
            }
            NodeSpec::Count {
                node,
                asset,
                pieces,
                product,
            } => {
                if !product.is_empty() && !model.products.iter().any(|p| p.name == product) {
                    let names: Vec<&str> = model.products.iter().map(|p| p.name.as_str()).collect();
                    return Err(at(
                        "product",
                        format!(
                            "`{product}` is not a product of the plant ({})",
                            names.join(", ")
                        ),
                    ));
                }
                (node, asset, Meaning::Count { pieces, product })
            }
            NodeSpec::Sample {
                node,
                asset,
                signal,
                unit,
            } => {
                if signal.trim().is_empty() {
                    return Err(at("signal", "must name the signal".into()));
                }
                (node, asset, Meaning::Sample { signal, unit })
            }
            NodeSpec::Alarm {
                node,
                asset,
                code,
                severity,
                text,
            } => {
                if code.trim().is_empty() {
                    return Err(at("code", "must name the alarm".into()));
                }
                (
                    node,
                    asset,
                    Meaning::Alarm {
                        code,
                        severity,
                        text,
                    },
                )
            }
        };
        if !machines.contains(&asset) {
            return Err(at(
                "asset",
                format!(
                    "`{asset}` is not a machine of the plant (machines: {})",
                    machines.join(", ")
                ),
            ));
        }
        if let Err(e) = node.parse::<opcua::types::NodeId>() {
            return Err(at(
                "node",
                format!(
                    "`{node}` is not an OPC UA node id ({e:?}; write e.g. `ns=2;s=Filler.State` or `ns=3;i=1001`)"
                ),
            ));
        }
        if let Some(j) = nodes.iter().position(|n| n.node == node) {
            return Err(at(
                "node",
                format!("`{node}` is mapped already by node[{j}]"),
            ));
        }
        if let Meaning::Count { pieces, .. } = &meaning
            && let Some(j) = nodes.iter().position(|n| {
                n.asset == asset
                    && matches!(&n.meaning, Meaning::Count { pieces: p, .. } if p == pieces)
            })
        {
            return Err(at(
                "pieces",
                format!(
                    "node[{j}] counts the {} pieces of `{asset}` already",
                    pieces.name()
                ),
            ));
        }
        nodes.push(MappedNode {
            node,
            asset,
            meaning,
        });
    }
    Ok(NodeMap {
        nodes,
        publishing_interval,
    })
}

fn state_of(name: &str) -> Option<StateCode> {
    StateCode::ALL
        .into_iter()
        .filter(|s| *s != StateCode::Unknown)
        .find(|s| s.name() == name)
}

fn state_names() -> String {
    StateCode::ALL
        .into_iter()
        .filter(|s| *s != StateCode::Unknown)
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl NodeMap {
    /// The event of `reading`, sent by the node at `index` at `ts_us` (Unix microseconds), in
    /// the plant's offset; `Err` with the event's text as received when the value does not fit
    /// the mapping; `None` for a counter while another counter of its asset has sent nothing yet
    /// (`tallies` keeps the totals between calls).
    pub fn event(
        &self,
        index: usize,
        reading: &Reading,
        ts_us: i64,
        utc_offset_min: i32,
        tallies: &mut Tallies,
    ) -> Option<(Result<Checked, EventError>, String)> {
        let mapped = &self.nodes[index];
        let ts = takt_model::time::format_ms(
            ts_us.div_euclid(1000),
            utc_offset_min,
            takt_model::time::Precision::Millis,
        );
        let seq = (ts_us.max(0) as u64)
            .saturating_mul(MAX_NODES as u64)
            .saturating_add(index as u64);
        let refused = |message: String| {
            let raw = serde_json::json!({
                "ts": ts, "asset": mapped.asset, "seq": seq,
                "opcua_node": mapped.node, "value": reading.text(),
            })
            .to_string();
            Some((
                Err(EventError {
                    field: "value".into(),
                    message: format!("node `{}`: {message}", mapped.node),
                }),
                raw,
            ))
        };
        let body = match (&mapped.meaning, reading) {
            (Meaning::State(table), r) => {
                let text = r.text();
                let found = if table.is_empty() {
                    state_of(&text).map(|s| (s, String::new()))
                } else {
                    table.get(&text).cloned()
                };
                match found {
                    Some((state, reason)) => Body::State(event::StateBody { state, reason }),
                    None if table.is_empty() => {
                        return refused(format!(
                            "`{text}` is not a takt state: map it in the node's `states` table"
                        ));
                    }
                    None => {
                        return refused(format!(
                            "`{text}` is not in the node's `states` table ({})",
                            table.keys().cloned().collect::<Vec<_>>().join(", ")
                        ));
                    }
                }
            }
            (Meaning::Count { pieces, product }, Reading::Number(x))
                if *x >= 0.0 && x.fract() == 0.0 && *x < 9.0e15 =>
            {
                let totals = tallies.latest.entry(mapped.asset.clone()).or_default();
                totals[*pieces as usize] = Some(*x as u64);
                let waiting = self.nodes.iter().any(|n| {
                    n.asset == mapped.asset
                        && matches!(n.meaning, Meaning::Count { pieces: p, .. } if totals[p as usize].is_none())
                });
                if waiting {
                    return None;
                }
                let total = |p: Pieces| totals[p as usize].unwrap_or(0);
                Body::Count(event::CountBody {
                    mode: CountMode::Total,
                    good: total(Pieces::Good),
                    scrap: total(Pieces::Scrap),
                    rework: total(Pieces::Rework),
                    product: product.clone(),
                })
            }
            (Meaning::Count { .. }, r) => {
                return refused(format!(
                    "a counter must be a whole number of pieces, 0 or more, not `{}`",
                    r.text()
                ));
            }
            (Meaning::Sample { signal, unit }, Reading::Number(x)) if x.is_finite() => {
                Body::Sample(event::SampleBody {
                    signals: BTreeMap::from([(
                        signal.clone(),
                        event::Signal {
                            value: *x,
                            unit: unit.clone(),
                        },
                    )]),
                })
            }
            (Meaning::Sample { .. }, r) => {
                return refused(format!(
                    "a signal must be a finite number, not `{}`",
                    r.text()
                ));
            }
            (
                Meaning::Alarm {
                    code,
                    severity,
                    text,
                },
                Reading::Bool(on),
            ) => Body::Alarm(event::AlarmBody {
                code: code.clone(),
                severity: severity.clone(),
                action: if *on {
                    AlarmAction::Raised
                } else {
                    AlarmAction::Cleared
                },
                text: text.clone(),
            }),
            (Meaning::Alarm { .. }, r) => {
                return refused(format!(
                    "an alarm node must be a Boolean (true: raised), not `{}`",
                    r.text()
                ));
            }
        };
        let e = event::Event {
            ts,
            asset: mapped.asset.clone(),
            seq,
            body,
            t_s: None,
        };
        let raw = serde_json::to_string(&e).unwrap_or_default();
        Some((event::check(e), raw))
    }
}
