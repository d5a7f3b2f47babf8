//! KPIs named by key, read off a replication's report: the report's own field names
//! (`throughput_per_hour`, `orders.on_time_rate`) and per station `stations.<name>.<field>`
//! (`stations.Filler.oee`). Goals and constraints use the same keys.

use serde_json::Value;
use takt_sim::Report;

/// The headline KPIs every comparison shows, with their labels.
pub const HEADLINE: [(&str, &str); 7] = [
    ("throughput_per_hour", "throughput per hour"),
    ("wip_mean", "WIP (time average)"),
    ("lead_time_mean_s", "lead time mean (s)"),
    ("lead_time_p95_s", "lead time p95 (s)"),
    ("orders.on_time_rate", "orders on time"),
    ("orders.makespan_s", "order makespan (s)"),
    ("energy_kwh_per_good_part", "kWh per good part"),
];

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

/// Every KPI key a comparison reports for this plant: the headline ones that exist, then each
/// station's OEE, availability, performance and quality.
pub fn keys(sample: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = HEADLINE
        .iter()
        .filter(|(k, _)| value(sample, k).is_some())
        .map(|(k, l)| (k.to_string(), l.to_string()))
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
            out.push((
                format!("stations.{name}.{field}"),
                format!("{name} {label}"),
            ));
        }
    }
    out
}
