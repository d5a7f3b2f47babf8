//! Variants as a planner writes them: `"two-labellers: stations.Labeller.machines=2; ..."` on the
//! command line, overlay files with a `[set]` table of paths, and sweeps (`buffers.B2.capacity=2..20:2`)
//! that expand into one variant per value (a grid for two sweeps).

use serde::{Deserialize, Serialize};
use takt_model::{Override, parse_override};

/// A variant, overlay or sweep that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct VariantError(pub String);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantSpec {
    pub name: String,
    /// What the variant means, in words (overlay files).
    pub description: Option<String>,
    #[serde(
        serialize_with = "overrides_as_text",
        deserialize_with = "overrides_from_text"
    )]
    pub overrides: Vec<Override>,
    /// For sweep variants: (path, value) of each swept field.
    pub sweep_point: Vec<(String, f64)>,
}

fn overrides_as_text<S: serde::Serializer>(o: &[Override], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(o.iter().map(|o| o.to_string()))
}

/// Overrides written as `path=value` read back: the text [`Override`]'s `Display` gives parses to
/// the same value (TOML's own writing of it).
fn overrides_from_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Override>, D::Error> {
    let texts = Vec::<String>::deserialize(d)?;
    texts
        .iter()
        .map(|t| parse_override(t).map_err(serde::de::Error::custom))
        .collect()
}

/// `name: path=value; path=value`.
pub fn parse_variant(text: &str) -> Result<VariantSpec, VariantError> {
    parse_variant_message(text).map_err(VariantError)
}

fn parse_variant_message(text: &str) -> Result<VariantSpec, String> {
    let (name, body) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}`: expected \"name: path=value; path=value\""))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("`{text}`: the variant needs a name before `:`"));
    }
    let overrides = body
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_override)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.0)?;
    if overrides.is_empty() {
        return Err(format!("variant `{name}` changes nothing"));
    }
    Ok(VariantSpec {
        name: name.to_string(),
        description: None,
        overrides,
        sweep_point: vec![],
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverlayFile {
    name: String,
    #[serde(default)]
    description: Option<String>,
    set: toml::Table,
}

/// An overlay file: `name = "three shifts"` and a `[set]` table whose keys are quoted paths.
pub fn parse_overlay(text: &str, origin: &str) -> Result<VariantSpec, VariantError> {
    parse_overlay_message(text, origin).map_err(VariantError)
}

fn parse_overlay_message(text: &str, origin: &str) -> Result<VariantSpec, String> {
    let file: OverlayFile =
        toml::from_str(text).map_err(|e| format!("{origin}: {}", e.message().trim()))?;
    if file.set.is_empty() {
        return Err(format!(
            "{origin}: `[set]` is empty: the variant changes nothing"
        ));
    }
    let overrides = file
        .set
        .into_iter()
        .map(|(path, value)| Override { path, value })
        .collect();
    Ok(VariantSpec {
        name: file.name,
        description: file.description,
        overrides,
        sweep_point: vec![],
    })
}

/// A field swept over a range of values.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    pub path: String,
    pub values: Vec<f64>,
    /// Whether to write the values as integers (capacities, machine counts).
    pub integer: bool,
}

/// `path=from..to:step` (inclusive), or `path=a,b,c`.
pub fn parse_sweep(text: &str) -> Result<Sweep, VariantError> {
    parse_sweep_message(text).map_err(VariantError)
}

fn parse_sweep_message(text: &str) -> Result<Sweep, String> {
    let (path, range) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: expected path=from..to:step or path=a,b,c"))?;
    let bad = || format!("`{text}`: expected path=from..to:step or path=a,b,c");
    let num = |s: &str| s.trim().parse::<f64>().map_err(|_| bad());
    let (values, integer) = if let Some((span, step)) = range.split_once(':') {
        let (from, to) = span.split_once("..").ok_or_else(bad)?;
        let (from_v, to_v, step_v) = (num(from)?, num(to)?, num(step)?);
        if step_v.is_nan() || step_v <= 0.0 || to_v < from_v {
            return Err(format!("`{text}`: need from <= to and step > 0"));
        }
        let n = ((to_v - from_v) / step_v + 1e-9).floor() as usize + 1;
        if n > 1000 {
            return Err(format!("`{text}`: {n} values; at most 1000"));
        }
        let integer = [from, to, step]
            .iter()
            .all(|s| !s.contains(['.', 'e', 'E']));
        (
            (0..n).map(|i| from_v + step_v * i as f64).collect(),
            integer,
        )
    } else {
        let parts: Vec<&str> = range.split(',').collect();
        let values = parts
            .iter()
            .map(|s| num(s))
            .collect::<Result<Vec<_>, _>>()?;
        (values, parts.iter().all(|s| !s.contains(['.', 'e', 'E'])))
    };
    Ok(Sweep {
        path: path.trim().to_string(),
        values,
        integer,
    })
}

/// The variants of one or two sweeps (the grid of their values).
pub fn expand_sweeps(sweeps: &[Sweep]) -> Vec<VariantSpec> {
    let mut points: Vec<Vec<(String, f64, bool)>> = vec![vec![]];
    for s in sweeps {
        points = points
            .into_iter()
            .flat_map(|p| {
                s.values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push((s.path.clone(), *v, s.integer));
                    q
                })
            })
            .collect();
    }
    points
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|p| {
            let text = |v: f64, int: bool| {
                if int {
                    format!("{}", v as i64)
                } else {
                    format!("{v}")
                }
            };
            let name = p
                .iter()
                .map(|(path, v, int)| {
                    format!(
                        "{}={}",
                        path.rsplit('.').next().unwrap_or(path),
                        text(*v, *int)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            VariantSpec {
                name,
                description: None,
                overrides: p
                    .iter()
                    .map(|(path, v, int)| Override {
                        path: path.clone(),
                        value: if *int {
                            toml::Value::Integer(*v as i64)
                        } else {
                            toml::Value::Float(*v)
                        },
                    })
                    .collect(),
                sweep_point: p.iter().map(|(path, v, _)| (path.clone(), *v)).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_text() {
        let v =
            parse_variant("two labellers: stations.Labeller.machines=2; buffers.B2.capacity = 20")
                .expect("ok");
        assert_eq!(v.name, "two labellers");
        assert_eq!(v.overrides.len(), 2);
        assert_eq!(v.overrides[1].path, "buffers.B2.capacity");
        assert!(parse_variant("no colon here").is_err());
        assert!(parse_variant("empty:").is_err());
    }

    #[test]
    fn sweeps_expand_to_a_grid() {
        let a = parse_sweep("buffers.B2.capacity=2..20:2").expect("ok");
        assert_eq!(a.values.len(), 10);
        assert!(a.integer);
        let b = parse_sweep("stations.M2.machines=1,2").expect("ok");
        let grid = expand_sweeps(&[a, b]);
        assert_eq!(grid.len(), 20);
        assert_eq!(grid[1].name, "capacity=2, machines=2");
        assert_eq!(grid[1].overrides[0].value, toml::Value::Integer(2));
        assert!(parse_sweep("x=5..1:1").is_err());
        assert!(parse_sweep("x=1..5:0").is_err());
    }

    #[test]
    fn overlay_files() {
        let v = parse_overlay(
            "name = \"three shifts\"\n[set]\n\"stations.Filler.machines\" = 2\n",
            "o.toml",
        )
        .expect("ok");
        assert_eq!(v.name, "three shifts");
        assert_eq!(v.overrides[0].path, "stations.Filler.machines");
        assert!(parse_overlay("name = \"x\"\n[set]\n", "o.toml").is_err());
    }
}
