//! Readable tables of a report, each within 100 columns. A single run is a summary of one
//! replication (figures with no interval), so one run and many print alike. Every figure is in
//! its unit, in the forms of `takt_model::quantity`; stations in the scenario's (line) order.

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use std::fmt::Write as _;
use takt_model::quantity::{
    FASTER_THAN_STANDARD, Quantity, duration, performance_above_standard, wrap,
};
use takt_sim::summary::{IntervalEstimate, ReplicatedReport};

/// A figure with its 95% half-width where it has one.
fn fmt(v: &IntervalEstimate, q: Quantity) -> String {
    q.estimate(v.mean, v.ci95)
}

/// A figure that may be absent (no failures, no finished part): "–" then.
fn fmt_some(v: Option<&IntervalEstimate>, q: Quantity) -> String {
    v.map_or_else(|| "–".into(), |v| fmt(v, q))
}

fn table(header: Vec<&str>) -> Table {
    narrow(&header, header.len())
}

/// A table within 100 columns (cells wrap), figures right-aligned from column `figures_from` on:
/// every table the CLI prints.
pub(crate) fn narrow(header: &[&str], figures_from: usize) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(100)
        .set_header(header.to_vec());
    for c in figures_from..header.len() {
        if let Some(col) = t.column_mut(c) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

/// Right-aligns every column but the first (names left, figures right).
fn figures_right(t: &mut Table, columns: usize) {
    for c in 1..columns {
        if let Some(col) = t.column_mut(c) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
}

fn plant_table(r: &ReplicatedReport) -> Table {
    use Quantity::*;
    let mut plant = table(vec!["plant KPI", "value"]);
    let mut rows: Vec<(&str, String)> = vec![
        ("throughput", fmt(&r.throughput_per_hour, RatePerHour)),
        ("completed (good)", fmt(&r.completed, Count)),
        ("scrapped", fmt(&r.scrapped, Count)),
        ("WIP (time average)", fmt(&r.wip_mean, Parts)),
        (
            "lead time mean",
            fmt_some(r.lead_time_mean_s.as_ref(), Duration),
        ),
        (
            "lead time p50",
            fmt_some(r.lead_time_p50_s.as_ref(), Duration),
        ),
        (
            "lead time p95",
            fmt_some(r.lead_time_p95_s.as_ref(), Duration),
        ),
        ("energy", fmt(&r.energy_kwh, Energy)),
        (
            "energy per good part",
            fmt_some(r.energy_kwh_per_good_part.as_ref(), EnergyPerPart),
        ),
        ("events", fmt(&r.events, Count)),
        (
            "bottleneck (active period)",
            r.bottleneck.clone().unwrap_or_else(|| "–".into()),
        ),
        ("departures", fmt(&r.departures_per_hour, RatePerHour)),
        (
            "time in plant, all departures",
            fmt_some(r.sojourn_mean_s.as_ref(), Duration),
        ),
    ];
    if let Some(o) = &r.orders {
        rows.push((
            "orders completed",
            format!("{} of {}", fmt(&o.completed, Count), fmt(&o.count, Count)),
        ));
        rows.push(("orders on time", fmt_some(o.on_time_rate.as_ref(), Share)));
        rows.push((
            "mean tardiness",
            fmt_some(o.tardiness_mean_s.as_ref(), Duration),
        ));
        rows.push(("makespan", fmt_some(o.makespan_s.as_ref(), Duration)));
    }
    for (label, value) in rows {
        plant.add_row(vec![
            Cell::new(label),
            Cell::new(value).set_alignment(CellAlignment::Right),
        ]);
    }
    plant
}

/// OEE and its factors per station; a performance above the standard is flagged (⚑) and
/// explained under the table.
fn oee_table(r: &ReplicatedReport) -> (Table, bool) {
    let mut st = table(vec![
        "station",
        "OEE",
        "availability",
        "performance",
        "quality",
    ]);
    let mut flagged = false;
    for s in &r.stations {
        let mut performance = fmt_some(s.performance.as_ref(), Quantity::Share);
        if s.performance
            .as_ref()
            .is_some_and(|p| performance_above_standard(p.mean))
        {
            performance.push_str(" ⚑");
            flagged = true;
        }
        st.add_row(vec![
            s.name.clone(),
            fmt_some(s.oee.as_ref(), Quantity::Share),
            fmt_some(s.availability.as_ref(), Quantity::Share),
            performance,
            fmt_some(s.quality.as_ref(), Quantity::Share),
        ]);
    }
    figures_right(&mut st, 5);
    (st, flagged)
}

/// Output, reliability and energy per station.
fn output_table(r: &ReplicatedReport) -> Table {
    use Quantity::*;
    let mut st = table(vec![
        "station", "produced", "scrap", "MTBF", "MTTR", "energy",
    ]);
    for s in &r.stations {
        st.add_row(vec![
            s.name.clone(),
            fmt(&s.produced, Count),
            fmt(&s.scrap, Count),
            fmt_some(s.mtbf_s.as_ref(), Duration),
            fmt_some(s.mttr_s.as_ref(), Duration),
            fmt(&s.energy_kwh, Energy),
        ]);
    }
    figures_right(&mut st, 6);
    st
}

/// Shares of time by state; over replications their means only (eight columns of intervals do
/// not fit a terminal; the JSON has them).
fn states_table(r: &ReplicatedReport) -> Table {
    let mut st = table(vec![
        if r.replications > 1 {
            "time by state (mean)"
        } else {
            "time by state"
        },
        "processing",
        "setup",
        "starved",
        "blocked",
        "down",
        "planned down",
        "off shift",
    ]);
    for s in &r.stations {
        let f = &s.state_fractions;
        let mut row = vec![s.name.clone()];
        row.extend(
            [
                &f.processing,
                &f.setup,
                &f.starved,
                &f.blocked,
                &f.down,
                &f.planned_down,
                &f.off_shift,
            ]
            .map(|v| Quantity::Share.value(v.mean)),
        );
        st.add_row(row);
    }
    figures_right(&mut st, 8);
    st
}

/// Unplanned downtime by reason (failure mode), longest first within each station.
fn downtime_table(r: &ReplicatedReport) -> Option<Table> {
    use Quantity::*;
    let mut t = table(vec![
        "downtime by reason",
        "reason",
        "failures",
        "downtime",
        "MTTR",
    ]);
    let mut any = false;
    for s in &r.stations {
        let mut modes: Vec<_> = s.failure_modes.iter().collect();
        modes.sort_by(|a, b| b.downtime_s.mean.total_cmp(&a.downtime_s.mean));
        for (i, m) in modes.into_iter().enumerate() {
            any = true;
            t.add_row(vec![
                if i == 0 {
                    s.name.clone()
                } else {
                    String::new()
                },
                m.name.clone(),
                fmt(&m.failures, Count),
                fmt(&m.downtime_s, Duration),
                fmt_some(m.mttr_s.as_ref(), Duration),
            ]);
        }
    }
    figures_right(&mut t, 5);
    if let Some(col) = t.column_mut(1) {
        col.set_cell_alignment(CellAlignment::Left);
    }
    any.then_some(t)
}

pub fn render(r: &ReplicatedReport) -> String {
    let mut out = String::new();
    let reps = r.replications;
    let title = format!(
        "{} - measured {} after {} warm-up, {} replication{}{}",
        r.scenario,
        duration(r.window_s.mean),
        duration(r.warmup_s.mean),
        reps,
        if reps == 1 { "" } else { "s" },
        if reps > 1 {
            "; mean ± 95% CI half-width (none where every replication gave the same)"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "{}", wrap(&title, 100));
    if let Some(deadlock) = &r.deadlock {
        let _ = writeln!(out, "{}", deadlock.in_words());
    }
    let _ = writeln!(out, "{}", plant_table(r));
    let (oee, flagged) = oee_table(r);
    let _ = writeln!(out, "{oee}");
    if flagged {
        let note = format!("⚑ performance above 100 %: {FASTER_THAN_STANDARD}");
        let _ = writeln!(out, "{}", wrap(&note, 100));
    }
    let _ = writeln!(out, "{}", output_table(r));
    let _ = writeln!(out, "{}", states_table(r));
    if let Some(downtime) = downtime_table(r) {
        let _ = writeln!(out, "{downtime}");
    }
    if !r.buffers.is_empty() {
        let mut bt = table(vec!["buffer", "capacity", "mean level", "max level"]);
        for b in &r.buffers {
            bt.add_row(vec![
                b.name.clone(),
                // The same in every replication.
                b.capacity
                    .as_ref()
                    .map_or("unlimited".into(), |c| Quantity::Count.value(c.mean)),
                fmt(&b.level_mean, Quantity::Parts),
                fmt(&b.level_max, Quantity::Count),
            ]);
        }
        figures_right(&mut bt, 4);
        let _ = writeln!(out, "{bt}");
    }
    out
}
