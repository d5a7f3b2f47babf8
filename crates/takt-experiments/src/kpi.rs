//! KPIs named by key, read off a replication's report: the report's own field names
//! (`throughput_per_hour`, `orders.on_time_rate`) and per station `stations.<name>.<field>`
//! (`stations.Filler.oee`). Goals and constraints use the same keys.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use takt_model::quantity::Quantity;
use takt_sim::Report;

/// The headline KPIs every comparison shows, with their labels.
pub const HEADLINE: [(&str, &str); 7] = [
    ("throughput_per_hour", "throughput"),
    ("wip_mean", "WIP (time average)"),
    ("lead_time_mean_s", "lead time mean"),
    ("lead_time_p95_s", "lead time p95"),
    ("orders.on_time_rate", "orders on time"),
    ("orders.makespan_s", "order makespan"),
    ("energy_kwh_per_good_part", "energy per good part"),
];

/// A KPI a comparison reports: its key, its label for people and the quantity it measures (which
/// fixes its unit and format on every output).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(from = "KpiColumnStored")]
pub struct KpiColumn {
    pub key: String,
    pub label: String,
    pub quantity: Quantity,
}

/// Results stored before KPIs carried their quantity held `[key, label]` pairs; they still load.
#[derive(Deserialize)]
#[serde(untagged)]
enum KpiColumnStored {
    Full {
        key: String,
        label: String,
        quantity: Quantity,
    },
    Pair(String, String),
}

impl From<KpiColumnStored> for KpiColumn {
    fn from(stored: KpiColumnStored) -> Self {
        match stored {
            KpiColumnStored::Full {
                key,
                label,
                quantity,
            } => KpiColumn {
                key,
                label,
                quantity,
            },
            KpiColumnStored::Pair(key, label) => KpiColumn {
                quantity: quantity_of(&key),
                label: label.trim_end_matches(" (s)").to_string(),
                key,
            },
        }
    }
}

impl KpiColumn {
    fn new(key: impl Into<String>, label: impl Into<String>) -> Self {
        let key = key.into();
        KpiColumn {
            quantity: quantity_of(&key),
            label: label.into(),
            key,
        }
    }
}

/// The quantity a report's number measures, read from its key by the report's naming rules:
/// `_s` seconds, `_rate` and the ISO 22400 ratios fractions, `_per_hour` rates, `energy_kwh`
/// energy, counts by name.
pub fn quantity_of(key: &str) -> Quantity {
    let field = key.rsplit('.').next().unwrap_or(key);
    match field {
        _ if field.ends_with("_s") => Quantity::Duration,
        "oee" | "availability" | "performance" | "quality" | "utilisation" => Quantity::Share,
        _ if field.ends_with("_rate") => Quantity::Share,
        _ if field.ends_with("_per_hour") => Quantity::RatePerHour,
        "energy_kwh_per_good_part" => Quantity::EnergyPerPart,
        "energy_kwh" => Quantity::Energy,
        "wip_mean" | "wip_now" | "level_mean" => Quantity::Parts,
        "completed" | "scrapped" | "released" | "events" | "produced" | "good" | "scrap"
        | "rework" | "setups" | "failures" | "repairs" | "maintenances" | "late" | "count"
        | "level_max" => Quantity::Count,
        _ => Quantity::Number,
    }
}

/// The value of `key` in a report as JSON, or `None` where the report has no such number (no orders,
/// a station without failures has no MTBF...).
pub fn value(report: &Value, key: &str) -> Option<f64> {
    let mut current = report;
    let mut segments = key.split('.').peekable();
    while let Some(segment) = segments.next() {
        current = match current {
            Value::Array(items) => items
                .iter()
                .find(|i| i.get("name").and_then(Value::as_str) == Some(segment))?,
            Value::Object(map) => map.get(segment)?,
            _ => return None,
        };
        if segments.peek().is_none() {
            return current.as_f64();
        }
    }
    None
}

/// Whether `key` names a number of this kind of report (checked against a sample report).
pub fn exists(sample: &Value, key: &str) -> bool {
    let mut current = sample;
    for segment in key.split('.') {
        current = match current {
            Value::Array(items) => match items
                .iter()
                .find(|i| i.get("name").and_then(Value::as_str) == Some(segment))
            {
                Some(v) => v,
                None => return false,
            },
            Value::Object(map) => match map.get(segment) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    current.is_number() || current.is_null()
}

pub fn as_json(report: &Report) -> Value {
    serde_json::to_value(report).unwrap_or(Value::Null)
}

/// Every KPI a comparison reports for this plant: the headline ones that exist, then each
/// station's OEE, availability, performance and quality.
pub fn keys(sample: &Value) -> Vec<KpiColumn> {
    let mut out: Vec<KpiColumn> = HEADLINE
        .iter()
        .filter(|(k, _)| value(sample, k).is_some())
        .map(|(k, l)| KpiColumn::new(*k, *l))
        .collect();
    for s in sample["stations"].as_array().into_iter().flatten() {
        let Some(name) = s["name"].as_str() else {
            continue;
        };
        for (field, label) in [
            ("oee", "OEE"),
            ("availability", "availability"),
            ("performance", "performance"),
            ("quality", "quality"),
        ] {
            out.push(KpiColumn::new(
                format!("stations.{name}.{field}"),
                format!("{name} {label}"),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kpi_of_a_report_has_its_quantity() {
        assert_eq!(quantity_of("lead_time_mean_s"), Quantity::Duration);
        assert_eq!(quantity_of("orders.on_time_rate"), Quantity::Share);
        assert_eq!(quantity_of("stations.Filler.oee"), Quantity::Share);
        assert_eq!(quantity_of("throughput_per_hour"), Quantity::RatePerHour);
        assert_eq!(
            quantity_of("energy_kwh_per_good_part"),
            Quantity::EnergyPerPart
        );
        assert_eq!(quantity_of("orders.late"), Quantity::Count);
        assert_eq!(quantity_of("stations.Filler.produced"), Quantity::Count);
        assert_eq!(quantity_of("wip_mean"), Quantity::Parts);
    }

    #[test]
    fn results_stored_with_pairs_still_load() {
        let old: Vec<KpiColumn> =
            serde_json::from_str(r#"[["lead_time_mean_s", "lead time mean (s)"]]"#).unwrap();
        assert_eq!(old[0].label, "lead time mean");
        assert_eq!(old[0].quantity, Quantity::Duration);
        let new = serde_json::to_string(&old).unwrap();
        assert_eq!(serde_json::from_str::<Vec<KpiColumn>>(&new).unwrap(), old);
    }
}
