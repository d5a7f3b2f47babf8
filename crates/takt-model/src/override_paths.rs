//! The fields of a scenario a what-if variant may change: every path [`crate::overrides`] accepts for
//! this scenario, with its value as the file has it (or the default the file leaves it at), so that a
//! form can offer the valid paths instead of asking a planner to remember them.
//!
//! Named list items (stations, products, buffers, crews, failure modes, shifts, orders) are addressed
//! by name; items without one (routing steps, changeover pairs, breaks) by position. Names, ids and
//! the run's seed, replications and start are left out: renaming breaks references, and the others
//! belong to the experiment, not to the plant.

use crate::scenario::Scenario;
use serde::Serialize;
use std::collections::BTreeSet;
use toml::{Table, Value};

/// What kind of value a field takes: what a form offers to type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// A whole number (a capacity, a machine count, a quantity).
    Integer,
    /// A number without a time unit (a scrap share, kilowatts).
    Number,
    /// A time span written with its unit (`25m`, `0.6s`).
    Duration,
    /// A distribution table (`{ dist = "exponential", mean = "90m" }`); its parameters are listed too.
    Distribution,
    /// Text (a dispatch rule, a buffer's name).
    Text,
    /// `true` or `false`.
    Switch,
    /// A list of values, written whole.
    List,
}

/// One field a variant may override.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OverridePath {
    /// As an override names it: `buffers.conveyor-fill-label.capacity`.
    pub path: String,
    /// The value now, as TOML (`240`, `"25m"`, `{ dist = "weibull", ... }`).
    pub value: String,
    pub kind: FieldKind,
    /// Written in the file; `false`: the default, which the file leaves out.
    pub written: bool,
}

/// Fields no variant should change (see the module's documentation).
const LEFT_OUT: &[&str] = &[
    "schema_version",
    "name",
    "description",
    "run.seed",
    "run.replications",
    "run.start",
];

/// Every field of `scenario` a variant may override; `text` is its file, which `scenario` was read
/// from (its values are shown as written, durations with their units). In file order, the defaults
/// of each table after its written fields.
pub fn override_paths(text: &str, scenario: &Scenario) -> Vec<OverridePath> {
    let Ok(written) = toml::from_str::<Table>(text) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut containers = BTreeSet::new();
    walk_table(&written, "", true, &mut found, &mut containers);
    // Defaults: a plain value the parsed scenario has where the file wrote none, inside a table the
    // file has (`stations.Filler.machines = 1`). Numbers without a kind stay out: a default duration
    // is serialized as bare seconds, which would read as a different unit.
    if let Ok(Value::Table(parsed)) = Value::try_from(scenario) {
        let mut defaults = Vec::new();
        walk_table(&parsed, "", false, &mut defaults, &mut BTreeSet::new());
        let have: BTreeSet<String> = found.iter().map(|p| p.path.clone()).collect();
        for d in defaults {
            let parent = d.path.rsplit_once('.').map_or("", |(p, _)| p);
            let plain = matches!(
                d.kind,
                FieldKind::Integer | FieldKind::Text | FieldKind::Switch
            );
            if plain && !have.contains(&d.path) && containers.contains(parent) {
                found.push(d);
            }
        }
    }
    found
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// A name a path can carry: a `.` or `[` in it would split the path.
fn addressable(name: &str) -> bool {
    !name.is_empty() && !name.contains(['.', '[', ']', '='])
}

fn walk_table(
    table: &Table,
    prefix: &str,
    written: bool,
    out: &mut Vec<OverridePath>,
    containers: &mut BTreeSet<String>,
) {
    containers.insert(prefix.to_string());
    for (key, value) in table {
        if !addressable(key) {
            continue;
        }
        let path = join(prefix, key);
        if LEFT_OUT.contains(&path.as_str()) || key == "name" || key == "id" {
            continue;
        }
        walk_value(value, &path, written, out, containers);
    }
}

fn walk_value(
    value: &Value,
    path: &str,
    written: bool,
    out: &mut Vec<OverridePath>,
    containers: &mut BTreeSet<String>,
) {
    let mut leaf = |kind| {
        out.push(OverridePath {
            path: path.to_string(),
            value: value.to_string(),
            kind,
            written,
        })
    };
    match value {
        Value::Integer(_) => leaf(FieldKind::Integer),
        Value::Float(_) => leaf(FieldKind::Number),
        Value::Boolean(_) => leaf(FieldKind::Switch),
        Value::String(s) => leaf(if crate::parse_duration(s).is_ok() {
            FieldKind::Duration
        } else {
            FieldKind::Text
        }),
        Value::Datetime(_) => {}
        Value::Table(t) if t.contains_key("dist") => {
            leaf(FieldKind::Distribution);
            walk_table(t, path, written, out, containers);
        }
        Value::Table(t) => walk_table(t, path, written, out, containers),
        Value::Array(items) if items.iter().all(Value::is_table) && !items.is_empty() => {
            containers.insert(path.to_string());
            for (i, item) in items.iter().enumerate() {
                let Some(t) = item.as_table() else { continue };
                let name = t
                    .get("name")
                    .or_else(|| t.get("id"))
                    .and_then(Value::as_str)
                    .filter(|n| addressable(n));
                let here = match name {
                    Some(n) => join(path, n),
                    None => format!("{path}[{i}]"),
                };
                walk_table(t, &here, written, out, containers);
            }
        }
        Value::Array(_) => leaf(FieldKind::List),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::overrides::{Override, load_with_overrides, parse_value};
    use std::path::Path;

    fn shipped() -> Vec<(String, String)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("scenarios/")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p).expect("reads");
                (p.display().to_string(), text)
            })
            .collect()
    }

    /// Every path offered for every shipped plant is one the overrides accept: set to the value it
    /// has, the variant loads (so the catalogue cannot offer a path that a run would refuse).
    #[test]
    fn every_offered_path_is_accepted_by_the_overrides() {
        for (file, text) in shipped() {
            let origin = Path::new(&file);
            let base_dir = origin.parent();
            let loaded = crate::load_str(&text, origin, base_dir).expect("the shipped plant loads");
            let paths = override_paths(&text, &loaded.scenario);
            assert!(paths.len() > 10, "{file}: only {} paths", paths.len());
            for p in &paths {
                let o = Override {
                    path: p.path.clone(),
                    value: parse_value(&p.value),
                };
                if let Err(e) = load_with_overrides(&text, origin, base_dir, &[o]) {
                    panic!(
                        "{file}: `{}={}` is offered but refused: {e}",
                        p.path, p.value
                    );
                }
            }
        }
    }

    #[test]
    fn the_bottling_line_offers_what_a_planner_changes() {
        let (file, text) = shipped()
            .into_iter()
            .find(|(f, _)| f.ends_with("bottling-line.toml"))
            .expect("shipped");
        let loaded = crate::load_str(&text, Path::new(&file), None).expect("loads");
        let paths = override_paths(&text, &loaded.scenario);
        let find = |path: &str| {
            paths
                .iter()
                .find(|p| p.path == path)
                .unwrap_or_else(|| panic!("`{path}` is not offered"))
        };
        let conveyor = find("buffers.conveyor-fill-label.capacity");
        assert_eq!(
            (conveyor.value.as_str(), conveyor.kind, conveyor.written),
            ("240", FieldKind::Integer, true)
        );
        // Not in the file, but the first thing a planner adds: a second machine.
        let machines = find("stations.Labeller.machines");
        assert_eq!(
            (machines.value.as_str(), machines.kind, machines.written),
            ("1", FieldKind::Integer, false)
        );
        assert_eq!(find("crews.technician.count").value, "1");
        let ttr = find("stations.Filler.failures.breakdown.ttr");
        assert_eq!(ttr.kind, FieldKind::Distribution);
        assert_eq!(
            find("stations.Filler.failures.breakdown.ttr.mean").value,
            "\"25m\""
        );
        assert_eq!(
            find("stations.Filler.changeover.default").kind,
            FieldKind::Duration
        );
        assert_eq!(
            find("products.cola-033.routing[2].scrap").kind,
            FieldKind::Number
        );
        assert_eq!(find("demand.orders.SO-4711.quantity").value, "11000");
        assert_eq!(find("calendar.breaks[0].duration").value, "\"30m\"");
        for left_out in ["name", "run.seed", "run.start", "stations.Filler.name"] {
            assert!(
                paths.iter().all(|p| p.path != left_out),
                "{left_out} offered"
            );
        }
    }
}
