//! Readable tables of a report. A single run is a summary of one replication (figures with no
//! interval), so one run and many print alike.

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use std::fmt::Write as _;
use takt_sim::summary::{IntervalEstimate, ReplicatedReport};

#[derive(Clone, Copy)]
enum Unit {
    Plain(usize),
    Percent,
    Duration,
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

fn one(x: f64, unit: Unit) -> String {
    match unit {
        Unit::Plain(decimals) => format!("{x:.decimals$}"),
        Unit::Percent => format!("{:.1}%", x * 100.0),
        Unit::Duration => duration(x),
    }
}

/// A figure with its 95% half-width where it has one.
fn fmt(v: &IntervalEstimate, unit: Unit) -> String {
    match v.ci95 {
        Some(h) => format!("{} ± {}", one(v.mean, unit), one(h, unit)),
        None => one(v.mean, unit),
    }
}

/// A figure that may be absent (no failures, no finished part): "-" then.
fn fmt_some(v: Option<&IntervalEstimate>, unit: Unit) -> String {
    v.map_or_else(|| "-".into(), |v| fmt(v, unit))
}

pub fn render(r: &ReplicatedReport) -> String {
    let mut out = String::new();
    let reps = r.replications;
    let _ = writeln!(
        out,
        "{} - measured {} after {} warm-up, {} replication(s){}",
        r.scenario,
        duration(r.window_s.mean),
        duration(r.warmup_s.mean),
        reps,
        if reps > 1 {
            ", mean ± 95% CI half-width"
        } else {
            ""
        }
    );
    if let Some(deadlock) = &r.deadlock {
        let _ = writeln!(out, "{}", deadlock.in_words());
    }
    let mut plant = Table::new();
    plant
        .load_style(UTF8_FULL_CONDENSED)
        .set_header(vec!["plant KPI", "value"]);
    let rows: [(&str, String); 13] = [
        (
            "throughput per hour",
            fmt(&r.throughput_per_hour, Unit::Plain(2)),
        ),
        ("completed (good)", fmt(&r.completed, Unit::Plain(0))),
        ("scrapped", fmt(&r.scrapped, Unit::Plain(0))),
        ("WIP (time average)", fmt(&r.wip_mean, Unit::Plain(2))),
        (
            "lead time mean",
            fmt_some(r.lead_time_mean_s.as_ref(), Unit::Duration),
        ),
        (
            "lead time p50",
            fmt_some(r.lead_time_p50_s.as_ref(), Unit::Duration),
        ),
        (
            "lead time p95",
            fmt_some(r.lead_time_p95_s.as_ref(), Unit::Duration),
        ),
        ("energy kWh", fmt(&r.energy_kwh, Unit::Plain(1))),
        (
            "kWh per good part",
            fmt_some(r.energy_kwh_per_good_part.as_ref(), Unit::Plain(3)),
        ),
        ("events", fmt(&r.events, Unit::Plain(0))),
        (
            "bottleneck (active period)",
            r.bottleneck.clone().unwrap_or_else(|| "-".into()),
        ),
        (
            "departures per hour",
            fmt(&r.departures_per_hour, Unit::Plain(2)),
        ),
        (
            "time in plant, all departures",
            fmt_some(r.sojourn_mean_s.as_ref(), Unit::Duration),
        ),
    ];
    for (label, value) in rows {
        plant.add_row(vec![
            Cell::new(label),
            Cell::new(value).set_alignment(CellAlignment::Right),
        ]);
    }
    if let Some(o) = &r.orders {
        plant.add_row(vec![
            "orders completed".into(),
            format!(
                "{} of {}",
                fmt(&o.completed, Unit::Plain(1)),
                fmt(&o.count, Unit::Plain(0))
            ),
        ]);
        plant.add_row(vec![
            "orders on time".into(),
            fmt_some(o.on_time_rate.as_ref(), Unit::Percent),
        ]);
        plant.add_row(vec![
            "mean tardiness".into(),
            fmt_some(o.tardiness_mean_s.as_ref(), Unit::Duration),
        ]);
        plant.add_row(vec![
            "makespan".into(),
            fmt_some(o.makespan_s.as_ref(), Unit::Duration),
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
    for s in &r.stations {
        let f = &s.state_fractions;
        st.add_row(vec![
            s.name.clone(),
            fmt_some(s.oee.as_ref(), Unit::Percent),
            fmt_some(s.availability.as_ref(), Unit::Percent),
            fmt_some(s.performance.as_ref(), Unit::Percent),
            fmt_some(s.quality.as_ref(), Unit::Percent),
            fmt(&s.produced, Unit::Plain(0)),
            fmt(&s.scrap, Unit::Plain(0)),
            fmt_some(s.mtbf_s.as_ref(), Unit::Duration),
            fmt_some(s.mttr_s.as_ref(), Unit::Duration),
            fmt(&f.processing, Unit::Percent),
            fmt(&f.setup, Unit::Percent),
            fmt(&f.starved, Unit::Percent),
            fmt(&f.blocked, Unit::Percent),
            fmt(&f.down, Unit::Percent),
            fmt(&f.planned_down, Unit::Percent),
            fmt(&f.off_shift, Unit::Percent),
            fmt(&s.energy_kwh, Unit::Plain(1)),
        ]);
    }
    let _ = writeln!(out, "{st}");

    if !r.buffers.is_empty() {
        let mut bt = Table::new();
        bt.load_style(UTF8_FULL_CONDENSED).set_header(vec![
            "buffer",
            "capacity",
            "mean level",
            "max level",
        ]);
        for b in &r.buffers {
            bt.add_row(vec![
                b.name.clone(),
                // The same in every replication.
                b.capacity
                    .map_or("unlimited".into(), |c| (c.mean.round() as u64).to_string()),
                fmt(&b.level_mean, Unit::Plain(2)),
                fmt(&b.level_max, Unit::Plain(0)),
            ]);
        }
        let _ = writeln!(out, "{bt}");
    }
    out
}
