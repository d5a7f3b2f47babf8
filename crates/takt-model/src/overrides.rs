//! What-if overrides: change any scenario field by path, `stations.Labeller.machines=2`.
//!
//! A path walks the scenario's tables; inside a list of named tables (stations, products, buffers,
//! crews, orders, shifts) a segment picks the item by its `name` (or `id`), and `[i]` picks by position.
//! The value is TOML (`2`, `"edd"`, `{ dist = "exponential", mean = "5m" }`); text that is not valid
//! TOML is taken as a string, so `dispatch=edd` and `horizon=8h` work as written. Overrides act on the
//! file's TOML before it is read, so a wrong path or a value of the wrong type is reported with the
//! path, exactly as a mistake in the file would be.

use crate::compile::ScenarioFinding;
use crate::load::{Diagnostic, Loaded, ScenarioError, compile_located};
use crate::scenario::Scenario;
use std::path::Path;
use toml::{Table, Value};

/// An override (`path=value`) that cannot be read or applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OverrideError(pub String);

#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub path: String,
    pub value: Value,
}

impl std::fmt::Display for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.path, self.value)
    }
}

/// Parses `path=value`.
pub fn parse_override(text: &str) -> Result<Override, OverrideError> {
    parse_override_message(text).map_err(OverrideError)
}

fn parse_override_message(text: &str) -> Result<Override, String> {
    let (path, value) = text.split_once('=').ok_or_else(|| {
        format!("`{text}` is not an override: expected path=value, e.g. stations.Filler.machines=2")
    })?;
    let path = path.trim();
    if path.is_empty() {
        return Err(format!("`{text}`: empty path"));
    }
    Ok(Override {
        path: path.to_string(),
        value: parse_value(value.trim()),
    })
}

/// A TOML value, or the text itself as a string.
pub fn parse_value(text: &str) -> Value {
    toml::from_str::<Table>(&format!("v = {text}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(text.to_string()))
}

/// The list sections whose items are addressed by name (or id).
fn item_key(item: &Value) -> Option<&str> {
    let t = item.as_table()?;
    t.get("name")
        .or_else(|| t.get("id"))
        .and_then(Value::as_str)
}

/// Splits `stations[2]` into (`stations`, Some(2)).
fn split_index(segment: &str) -> Result<(&str, Option<usize>), String> {
    match segment.find('[') {
        None => Ok((segment, None)),
        Some(i) => {
            let idx = segment[i + 1..]
                .strip_suffix(']')
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("`{segment}`: expected name[index]"))?;
            Ok((&segment[..i], Some(idx)))
        }
    }
}

/// Sets one field of a scenario's TOML.
pub fn apply(root: &mut Table, o: &Override) -> Result<(), ScenarioFinding> {
    let segments: Vec<&str> = o.path.split('.').collect();
    set_in(root, &segments, "", &o.value).map_err(|message| ScenarioFinding {
        path: o.path.clone(),
        message,
    })
}

fn join(walked: &str, key: &str) -> String {
    if walked.is_empty() {
        key.to_string()
    } else {
        format!("{walked}.{key}")
    }
}

/// Sets `segments` inside a table; an absent intermediate table is created (e.g. `demand.arrivals`).
fn set_in(table: &mut Table, segments: &[&str], walked: &str, value: &Value) -> Result<(), String> {
    let Some((segment, rest)) = segments.split_first() else {
        return Err("empty path".into());
    };
    let (key, index) = split_index(segment)?;
    let here = join(walked, key);
    if rest.is_empty() && index.is_none() {
        table.insert(key.to_string(), value.clone());
        return Ok(());
    }
    if !table.contains_key(key) {
        if index.is_some() {
            return Err(format!("`{here}` does not exist"));
        }
        table.insert(key.to_string(), Value::Table(Table::new()));
    }
    match table.get_mut(key) {
        Some(child) => descend(child, index, rest, here, value),
        None => Err(format!("`{here}` does not exist")),
    }
}

/// Continues a path inside `v`: its `[index]` first, then a field of a table or a named list item.
fn descend(
    v: &mut Value,
    index: Option<usize>,
    rest: &[&str],
    here: String,
    value: &Value,
) -> Result<(), String> {
    let (v, here) = match index {
        None => (v, here),
        Some(i) => {
            let Value::Array(items) = v else {
                return Err(format!("`{here}` is not a list: `[{i}]` does not apply"));
            };
            let len = items.len();
            let item = items
                .get_mut(i)
                .ok_or_else(|| format!("`{here}` has {len} items: no [{i}]"))?;
            if rest.is_empty() {
                *item = value.clone();
                return Ok(());
            }
            (item, format!("{here}[{i}]"))
        }
    };
    match v {
        Value::Table(t) => set_in(t, rest, &here, value),
        Value::Array(items) => {
            let Some((segment, rest)) = rest.split_first() else {
                return Err(format!("`{here}` is a list: name an item"));
            };
            let (name, index) = split_index(segment)?;
            let known: Vec<String> = items
                .iter()
                .filter_map(item_key)
                .map(String::from)
                .collect();
            let item = items
                .iter_mut()
                .find(|i| item_key(i) == Some(name))
                .ok_or_else(|| {
                    format!(
                        "no item named `{name}` in `{here}` (known: {})",
                        known.join(", ")
                    )
                })?;
            if rest.is_empty() && index.is_none() {
                *item = value.clone();
                return Ok(());
            }
            descend(item, index, rest, join(&here, name), value)
        }
        _ => Err(format!(
            "`{here}` is a value, not a table: it has no field `{}`",
            rest.first().copied().unwrap_or("")
        )),
    }
}

/// Reads the scenario text, applies the overrides and compiles the result. Problems name the override
/// path (or the field path the variant broke); `origin` names the variant in messages.
pub fn load_with_overrides(
    text: &str,
    origin: &Path,
    base_dir: Option<&Path>,
    overrides: &[Override],
) -> Result<Loaded, ScenarioError> {
    let diag = |path: String, message: String| Diagnostic {
        file: origin.to_path_buf(),
        line: 0,
        column: 0,
        path,
        message,
    };
    if overrides.is_empty() {
        return crate::load::load_str(text, origin, base_dir);
    }
    // The base must be valid on its own: its problems are reported with their lines.
    crate::load::load_str(text, origin, base_dir)?;
    let mut table: Table = toml::from_str(text)
        .map_err(|e| ScenarioError::Invalid(vec![diag(String::new(), e.message().to_string())]))?;
    let mut problems = Vec::new();
    for o in overrides {
        if let Err(p) = apply(&mut table, o) {
            problems.push(diag(p.path, p.message));
        }
    }
    if !problems.is_empty() {
        return Err(ScenarioError::Invalid(problems));
    }
    let scenario: Scenario =
        serde_path_to_error::deserialize(Value::Table(table)).map_err(|e| {
            ScenarioError::Invalid(vec![diag(
                e.path().to_string(),
                e.inner().message().trim().to_string(),
            )])
        })?;
    compile_located(scenario, "", origin, base_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
schema_version = 1
name = "t"
[run]
horizon = "8h"
[[products]]
name = "A"
routing = [{ station = "S1", process_time = "10s" }, { station = "S2", process_time = "12s" }]
[[stations]]
name = "S1"
[[stations]]
name = "S2"
input_buffer = "B"
[[buffers]]
name = "B"
capacity = 5
[demand.arrivals]
interarrival = "15s"
mix = { A = 1 }
"#;

    fn load(overrides: &[&str]) -> Result<Loaded, ScenarioError> {
        let o: Vec<Override> = overrides
            .iter()
            .map(|t| parse_override(t).expect("parses"))
            .collect();
        load_with_overrides(BASE, Path::new("base.toml"), None, &o)
    }

    #[test]
    fn named_items_fields_and_indices() {
        let l = load(&[
            "stations.S2.machines=2",
            "buffers.B.capacity=20",
            "stations.S1.dispatch=edd",
            "run.horizon=2d",
            "products.A.routing[1].process_time={ dist = \"exponential\", mean = \"12s\" }",
        ])
        .expect("loads");
        assert_eq!(l.model.stations[1].machines, 2);
        assert_eq!(l.model.buffers[0].capacity, Some(20));
        assert_eq!(l.model.stations[0].dispatch, crate::DispatchRule::Edd);
        assert_eq!(l.model.horizon_s, 172_800.0);
        assert!(matches!(
            l.model.products[0].routing[1].process_time,
            crate::Sampler::Exponential(_)
        ));
    }

    #[test]
    fn bad_paths_and_types_name_the_path() {
        let err = |o: &[&str]| match load(o) {
            Err(ScenarioError::Invalid(d)) => d
                .iter()
                .map(|d| format!("{}: {}", d.path, d.message))
                .collect::<Vec<_>>()
                .join("\n"),
            other => panic!("expected an error, got {other:?}"),
        };
        let e = err(&["stations.S9.machines=2"]);
        assert!(
            e.contains("stations.S9.machines: no item named `S9` in `stations` (known: S1, S2)"),
            "{e}"
        );
        let e = err(&["stations.S1.machnes=2"]);
        assert!(
            e.contains("stations[0].machnes") && e.contains("unknown field"),
            "{e}"
        );
        let e = err(&["stations.S1.machines=\"two\""]);
        assert!(
            e.contains("stations[0].machines") && e.contains("invalid type"),
            "{e}"
        );
        let e = err(&["products.A.routing[7].scrap=0.1"]);
        assert!(e.contains("has 2 items: no [7]"), "{e}");
        let e = err(&["run.horizon.x=1"]);
        assert!(e.contains("is a value, not a table"), "{e}");
        let e = err(&["buffers.B.capacity=0"]);
        assert!(
            e.contains("buffers[0].capacity: capacity must be >= 1"),
            "{e}"
        );
        assert!(parse_override("no equals sign").is_err());
    }
}
