//! Readable tables of a report, from its JSON form, so a single run and a replicated one (numbers as
//! `{"mean", "ci95"}`) print alike.

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::Value;
use std::fmt::Write as _;

#[derive(Clone, Copy)]
enum Unit {
    Plain(usize),
    Percent,
    Duration,
}

fn number(v: &Value) -> Option<(f64, Option<f64>)> {
    match v {
        Value::Number(n) => n.as_f64().map(|x| (x, None)),
        Value::Object(o) => {
            let mean = o.get("mean")?.as_f64()?;
            Some((mean, o.get("ci95").and_then(Value::as_f64)))
        }
        _ => None,
    }
}

fn duration(secs: f64) -> String {
    let a = secs.abs();
    if a >= 86_400.0 {
        format!("{:.2}d", secs / 86_400.0)
    } else if a >= 3600.0 {
        format!("{:.2}h", secs / 3600.0)
    } else if a >= 60.0 {
        format!("{:.1}m", secs / 60.0)
    } else {
        format!("{secs:.2}s")
    }
}

fn fmt(v: &Value, unit: Unit) -> String {
    let Some((mean, ci)) = number(v) else {
        return match v {
            Value::String(s) => s.clone(),
            _ => "-".into(),
        };
    };
    let one = |x: f64| match unit {
        Unit::Plain(decimals) => format!("{x:.decimals$}"),
        Unit::Percent => format!("{:.1}%", x * 100.0),
        Unit::Duration => duration(x),
    };
    match ci {
        Some(h) => format!("{} ± {}", one(mean), one(h)),
        None => one(mean),
    }
}

/// The mean alone, for values that do not vary between replications (window, counts of things).
fn fmt_mean(v: &Value, unit: Unit) -> String {
    match number(v) {
        Some((mean, _)) => fmt(&serde_json::json!(mean), unit),
        None => fmt(v, unit),
    }
}

pub fn render(r: &Value) -> String {
    let mut out = String::new();
    let reps = r.get("replications").and_then(Value::as_u64).unwrap_or(1);
    let _ = writeln!(
        out,
        "{} - measured {} after {} warm-up, {} replication(s){}",
        fmt(&r["scenario"], Unit::Plain(0)),
        fmt_mean(&r["window_s"], Unit::Duration),
        fmt_mean(&r["warmup_s"], Unit::Duration),
        reps,
        if reps > 1 {
            ", mean ± 95% CI half-width"
        } else {
            ""
        }
    );
    if let Some(words) = takt_sim::deadlock::describe(r) {
        let _ = writeln!(out, "{words}");
    }
    let mut plant = Table::new();
    plant
        .load_style(UTF8_FULL_CONDENSED)
        .set_header(vec!["plant KPI", "value"]);
    let rows: [(&str, &str, Unit); 13] = [
        ("throughput per hour", "throughput_per_hour", Unit::Plain(2)),
        ("completed (good)", "completed", Unit::Plain(0)),
        ("scrapped", "scrapped", Unit::Plain(0)),
        ("WIP (time average)", "wip_mean", Unit::Plain(2)),
        ("lead time mean", "lead_time_mean_s", Unit::Duration),
        ("lead time p50", "lead_time_p50_s", Unit::Duration),
        ("lead time p95", "lead_time_p95_s", Unit::Duration),
        ("energy kWh", "energy_kwh", Unit::Plain(1)),
        (
            "kWh per good part",
            "energy_kwh_per_good_part",
            Unit::Plain(3),
        ),
        ("events", "events", Unit::Plain(0)),
        ("bottleneck (active period)", "bottleneck", Unit::Plain(0)),
        ("departures per hour", "departures_per_hour", Unit::Plain(2)),
        (
            "time in plant, all departures",
            "sojourn_mean_s",
            Unit::Duration,
        ),
    ];
    for (label, key, unit) in rows {
        plant.add_row(vec![
            Cell::new(label),
            Cell::new(fmt(&r[key], unit)).set_alignment(CellAlignment::Right),
        ]);
    }
    if let Some(o) = r.get("orders").filter(|o| !o.is_null()) {
        plant.add_row(vec![
            "orders completed".into(),
            format!(
                "{} of {}",
                fmt(&o["completed"], Unit::Plain(1)),
                fmt(&o["count"], Unit::Plain(0))
            ),
        ]);
        plant.add_row(vec![
            "orders on time".into(),
            fmt(&o["on_time_rate"], Unit::Percent),
        ]);
        plant.add_row(vec![
            "mean tardiness".into(),
            fmt(&o["tardiness_mean_s"], Unit::Duration),
        ]);
        plant.add_row(vec![
            "makespan".into(),
            fmt(&o["makespan_s"], Unit::Duration),
        ]);
    }
    let _ = writeln!(out, "{plant}");

    let mut st = Table::new();
    st.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec![
            "station", "OEE", "avail.", "perf.", "quality", "produced", "scrap", "MTBF", "MTTR",
            "proc.", "setup", "starved", "blocked", "down", "planned", "off", "kWh",
        ]);
    for s in r["stations"].as_array().into_iter().flatten() {
        let f = &s["state_fractions"];
        st.add_row(vec![
            fmt(&s["name"], Unit::Plain(0)),
            fmt(&s["oee"], Unit::Percent),
            fmt(&s["availability"], Unit::Percent),
            fmt(&s["performance"], Unit::Percent),
            fmt(&s["quality"], Unit::Percent),
            fmt(&s["produced"], Unit::Plain(0)),
            fmt(&s["scrap"], Unit::Plain(0)),
            fmt(&s["mtbf_s"], Unit::Duration),
            fmt(&s["mttr_s"], Unit::Duration),
            fmt(&f["processing"], Unit::Percent),
            fmt(&f["setup"], Unit::Percent),
            fmt(&f["starved"], Unit::Percent),
            fmt(&f["blocked"], Unit::Percent),
            fmt(&f["down"], Unit::Percent),
            fmt(&f["planned_down"], Unit::Percent),
            fmt(&f["off_shift"], Unit::Percent),
            fmt(&s["energy_kwh"], Unit::Plain(1)),
        ]);
    }
    let _ = writeln!(out, "{st}");

    let buffers: Vec<&Value> = r["buffers"].as_array().into_iter().flatten().collect();
    if !buffers.is_empty() {
        let mut bt = Table::new();
        bt.load_style(UTF8_FULL_CONDENSED).set_header(vec![
            "buffer",
            "capacity",
            "mean level",
            "max level",
        ]);
        for b in buffers {
            bt.add_row(vec![
                fmt(&b["name"], Unit::Plain(0)),
                // One run's report holds the number; a summary of replications its mean (the
                // same in every replication).
                b["capacity"]
                    .as_u64()
                    .or_else(|| b["capacity"]["mean"].as_f64().map(|m| m.round() as u64))
                    .map_or("unlimited".into(), |c| c.to_string()),
                fmt(&b["level_mean"], Unit::Plain(2)),
                fmt(&b["level_max"], Unit::Plain(0)),
            ]);
        }
        let _ = writeln!(out, "{bt}");
    }
    out
}
