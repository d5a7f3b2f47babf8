//! The experiment as one self-contained HTML page (inline CSS and SVG, nothing fetched, no script).
//!
//! It opens with the decision: the best variant for the goal, each variant's change against the
//! base in words with its 95 % interval, and the differences charted about 0 for every headline
//! KPI. Then the comparison table (every figure in its unit), the variants and their changes, the
//! ranking, each station's OEE losses and time by state, downtime by reason, throughput over time,
//! and for sweeps each
//! headline KPI against the swept value with its band. Formats come from `takt_model::quantity`, the
//! same as the CLI's tables and the screens.

mod charts;

use crate::decision;
use crate::experiment::{Experiment, VariantResult};
use crate::kpi::{KpiColumn, quantity_of};
use charts::{Axis, DifferenceRow, Series, StackRow, esc};
use std::fmt::Write as _;
use takt_model::quantity::{FASTER_THAN_STANDARD, Quantity, duration, performance_above_standard};

const STATE_COLORS: [(&str, &str); 7] = [
    ("processing", "#59a14f"),
    ("setup", "#edc948"),
    ("starved", "#bab0ac"),
    ("blocked", "#f28e2b"),
    ("down", "#e15759"),
    ("planned down", "#b07aa1"),
    ("off shift", "#dddddd"),
];

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1280px;line-height:1.4}\
table{border-collapse:collapse;font-size:13px;margin:4px 0 12px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:top;white-space:nowrap}.wide{overflow-x:auto;max-width:100%}\
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}td.text,th.text{text-align:left}td.sig{background:#fff3c4}\
small{color:#555}figure{display:inline-block;margin:8px 16px 16px 0;vertical-align:top}figcaption{font-weight:600;font-size:13px;margin-bottom:4px}\
.note{color:#555;font-size:13px}.warn{background:#fde2e1;border-left:4px solid #b3261e;padding:8px}\
.decision{background:#eef4fb;border-left:4px solid #1f4e79;padding:8px 16px;font-size:15px}.decision li{margin:4px 0}\
.flag{color:#8a4b00}";

fn estimate_of<'a>(v: &'a VariantResult, key: &str) -> Option<&'a crate::experiment::Estimate> {
    v.estimates.iter().find(|e| e.key == key)
}

fn estimate_cell(v: &VariantResult, kpi: &KpiColumn) -> String {
    let Some(e) = estimate_of(v, &kpi.key) else {
        return "<td>–</td>".into();
    };
    let q = kpi.quantity;
    let mut cell = e
        .mean
        .map_or_else(|| "–".to_string(), |m| q.estimate(m, e.ci95));
    if kpi.key.ends_with(".performance") && e.mean.is_some_and(performance_above_standard) {
        cell.push_str(" <span class=\"flag\" title=\"faster than the standard cycle\">⚑</span>");
    }
    let mut class = "";
    if let Some(d) = &e.difference {
        let _ = write!(
            cell,
            "<br><small>Δ {}{}</small>",
            esc(&q.change_within(d.mean, d.ci95)),
            if d.significant { " *" } else { "" }
        );
        if d.significant {
            class = " class=\"sig\"";
        }
    }
    format!("<td{class}>{cell}</td>")
}

fn header(h: &mut String, x: &Experiment) {
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>takt what-if: {}</title><style>{STYLE}</style></head><body>",
        esc(&x.scenario)
    );
    let _ = write!(
        h,
        "<h1>What-if: {}</h1><p class=\"note\">{} against the base; {} replications each with common random numbers (seed {}); {} measured after a warm-up of {} ({}). Figures are means ± 95 % confidence half-widths; Δ is the paired difference to the base, marked * and highlighted where its interval excludes 0.</p>",
        esc(&x.scenario),
        match x.variants.len().saturating_sub(1) {
            1 => "1 variant".to_string(),
            n => format!("{n} variants"),
        },
        x.replications,
        x.seed,
        duration(x.horizon_s - x.warmup_s),
        duration(x.warmup_s),
        esc(&x.warmup_method)
    );
    if let (Some(p), Some(ok)) = (x.precision, x.precision_reached) {
        let _ = write!(
            h,
            "<p class=\"note\">Precision target {} of the mean: {}.</p>",
            Quantity::Share.value(p),
            if ok {
                "reached"
            } else {
                "not reached within the replication cap"
            }
        );
    }
    for (name, words) in x.deadlocks() {
        let _ = write!(
            h,
            "<p class=\"warn\"><strong>Variant {}:</strong> {}</p>",
            esc(&name),
            esc(&words)
        );
    }
}

/// The decision in words, then each headline KPI's differences charted about 0.
fn decision_section(h: &mut String, x: &Experiment) {
    h.push_str("<h2 id=\"decision\">Decision</h2>");
    let lines = decision::summary(x);
    if lines.is_empty() {
        h.push_str("<p class=\"note\">Only the base was run: there is nothing to compare.</p>");
        return;
    }
    if let Some(kpi) = decision::decision_kpi(x) {
        let _ = write!(
            h,
            "<p class=\"note\">Stated on {}{}.</p>",
            esc(&kpi.label),
            if x.ranking.is_some() {
                ", the goal"
            } else {
                ""
            }
        );
    }
    h.push_str("<ul class=\"decision\">");
    for line in lines {
        let _ = write!(h, "<li>{}</li>", esc(&line));
    }
    h.push_str("</ul>");
    if x.variants.len() < 2 {
        return;
    }
    h.push_str("<p class=\"note\">Each variant's change against the base with its 95 % interval: a filled dot where the interval excludes 0 (significant), a hollow one where it does not.</p>");
    for kpi in x.kpis.iter().filter(|k| !k.key.starts_with("stations.")) {
        let rows: Vec<DifferenceRow> = x
            .variants
            .iter()
            .skip(1)
            .map(|v| DifferenceRow {
                name: v.name.clone(),
                difference: estimate_of(v, &kpi.key)
                    .and_then(|e| e.difference.as_ref())
                    .map(|d| (d.mean, d.ci95, d.significant)),
            })
            .collect();
        h.push_str(&charts::differences(&kpi.label, kpi.quantity, &rows));
    }
}

fn variants_table(h: &mut String, x: &Experiment) {
    h.push_str("<h2 id=\"variants\">Variants</h2><table><tr><th>variant</th><th>what it means</th><th>changes</th></tr>");
    for v in &x.variants {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td></tr>",
            esc(&v.name),
            esc(v.description.as_deref().unwrap_or("")),
            esc(&v.overrides.join("; "))
        );
    }
    h.push_str("</table>");
}

fn ranking_table(h: &mut String, x: &Experiment) {
    let Some(r) = &x.ranking else { return };
    let kpi = x.kpis.iter().find(|k| k.key == r.goal.key);
    let quantity = kpi.map_or_else(|| quantity_of(&r.goal.key), |k| k.quantity);
    let _ = write!(
        h,
        "<h2 id=\"ranking\">Ranking: the {} {}</h2><table><tr><th>variant</th><th>mean</th><th>meets the constraints</th><th>not significantly different from the best</th></tr>",
        if r.goal.maximize { "highest" } else { "lowest" },
        esc(kpi.map_or(&r.goal.key, |k| &k.label))
    );
    for v in &r.ranked {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td></tr>",
            esc(&v.variant),
            quantity.estimate(v.mean, v.ci95),
            if v.feasible {
                "yes".to_string()
            } else {
                format!("no: {}", esc(&v.violated.join(", ")))
            },
            if v.indistinguishable_from_best {
                "yes"
            } else {
                ""
            }
        );
    }
    h.push_str("</table>");
}

fn comparison_table(h: &mut String, x: &Experiment) {
    h.push_str("<h2 id=\"comparison\">Comparison</h2><div class=\"wide\"><table><tr><th>KPI</th>");
    for v in &x.variants {
        let _ = write!(h, "<th>{}</th>", esc(&v.name));
    }
    h.push_str("</tr>");
    for kpi in &x.kpis {
        let _ = write!(h, "<tr><td>{}</td>", esc(&kpi.label));
        for v in &x.variants {
            h.push_str(&estimate_cell(v, kpi));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table></div>");
    let flagged = x.kpis.iter().any(|k| {
        k.key.ends_with(".performance")
            && x.variants.iter().any(|v| {
                estimate_of(v, &k.key)
                    .and_then(|e| e.mean)
                    .is_some_and(performance_above_standard)
            })
    });
    if flagged {
        let _ = write!(
            h,
            "<p class=\"note\"><span class=\"flag\">⚑</span> Performance above 100 %: {}.</p>",
            esc(FASTER_THAN_STANDARD)
        );
    }
}

fn stations_section(h: &mut String, x: &Experiment) {
    let Some(first) = x.variants.first() else {
        return;
    };
    h.push_str("<h2 id=\"stations\">Stations</h2>");
    for (si, st) in first.stations.iter().enumerate() {
        let rows: Vec<StackRow<'_>> = x
            .variants
            .iter()
            .filter_map(|v| v.stations.get(si).map(|s| (v, s)))
            .map(|(v, s)| {
                // Performance above the standard shows as no performance loss (flagged in the table).
                let (a, p, q) = (s.availability, s.performance.min(1.0), s.quality);
                (
                    v.name.clone(),
                    vec![
                        ("OEE", a * p * q, "#59a14f"),
                        ("availability loss", 1.0 - a, "#e15759"),
                        ("performance loss", a * (1.0 - p), "#f28e2b"),
                        ("quality loss", a * p * (1.0 - q), "#b07aa1"),
                    ],
                )
            })
            .collect();
        h.push_str(&charts::stacked(
            &format!("{}: OEE and its losses", st.name),
            &rows,
        ));
        let rows: Vec<StackRow<'_>> = x
            .variants
            .iter()
            .filter_map(|v| v.stations.get(si).map(|s| (v, s)))
            .map(|(v, s)| {
                let f = &s.state_fractions;
                let shares = [
                    f.processing,
                    f.setup,
                    f.starved,
                    f.blocked,
                    f.down,
                    f.planned_down,
                    f.off_shift,
                ];
                (
                    v.name.clone(),
                    STATE_COLORS
                        .iter()
                        .zip(shares)
                        .map(|((n, c), share)| (*n, share, *c))
                        .collect(),
                )
            })
            .collect();
        h.push_str(&charts::stacked(
            &format!("{}: time by state", st.name),
            &rows,
        ));
    }
}

/// Unplanned downtime by reason (failure mode) per station, for each variant: the time lost and
/// the failures behind it.
fn downtime_section(h: &mut String, x: &Experiment) {
    let Some(first) = x.variants.first() else {
        return;
    };
    let reasons: Vec<(usize, &str, &str)> = first
        .summary
        .stations
        .iter()
        .enumerate()
        .flat_map(|(si, s)| {
            s.failure_modes
                .iter()
                .map(move |m| (si, s.name.as_str(), m.name.as_str()))
        })
        .collect();
    if reasons.is_empty() {
        return;
    }
    h.push_str("<h2 id=\"downtime\">Downtime by reason</h2><p class=\"note\">Unplanned downtime (failure to end of repair) per failure mode over the measured time, and the failures behind it: means ± 95 % half-widths.</p><div class=\"wide\"><table><tr><th>station</th><th class=\"text\">reason</th>");
    for v in &x.variants {
        let _ = write!(h, "<th>{}</th>", esc(&v.name));
    }
    h.push_str("</tr>");
    for (si, station, reason) in reasons {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"text\">{}</td>",
            esc(station),
            esc(reason)
        );
        for v in &x.variants {
            let mode = v
                .summary
                .stations
                .get(si)
                .and_then(|s| s.failure_modes.iter().find(|m| m.name == reason));
            match mode {
                Some(m) => {
                    let _ = write!(
                        h,
                        "<td>{}<br><small>{} failures</small></td>",
                        Quantity::Duration.estimate(m.downtime_s.mean, m.downtime_s.ci95),
                        Quantity::Count.estimate(m.failures.mean, m.failures.ci95)
                    );
                }
                None => h.push_str("<td>–</td>"),
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</table></div>");
}

fn throughput_section(h: &mut String, x: &Experiment) {
    let series: Vec<Series> = x
        .variants
        .iter()
        .map(|v| {
            (
                v.name.clone(),
                v.throughput_series
                    .iter()
                    .enumerate()
                    .map(|(i, y)| ((i as f64 + 0.5) * x.series_interval_s, *y, None))
                    .collect(),
            )
        })
        .collect();
    h.push_str("<h2 id=\"throughput\">Throughput over time</h2>");
    h.push_str(&charts::lines(
        &format!(
            "good parts per hour in each {}, mean over replications",
            duration(x.series_interval_s)
        ),
        "time since the start",
        Axis {
            quantity: Quantity::Duration,
            change: false,
        },
        Axis {
            quantity: Quantity::RatePerHour,
            change: false,
        },
        &series,
        false,
    ));
}

/// Each headline KPI against the first swept field, one line per value of the second.
fn sweep_section(h: &mut String, x: &Experiment) {
    let swept: Vec<&VariantResult> = x
        .variants
        .iter()
        .filter(|v| !v.sweep_point.is_empty())
        .collect();
    let Some(first) = swept.first() else { return };
    let param = first.sweep_point[0].0.clone();
    let param_quantity = quantity_of(&param);
    h.push_str("<h2 id=\"sweep\">Sweep</h2><p class=\"note\">Means with their 95 % band; the axis spans the values, it does not start at 0.</p>");
    for kpi in x.kpis.iter().filter(|k| !k.key.starts_with("stations.")) {
        let mut groups: Vec<Series> = Vec::new();
        for v in &swept {
            let group = v
                .sweep_point
                .get(1)
                .map_or(String::from("mean ± 95 % CI"), |(p, val)| {
                    format!(
                        "{} = {}",
                        p.rsplit('.').next().unwrap_or(p),
                        quantity_of(p).value(*val)
                    )
                });
            let Some(e) = estimate_of(v, &kpi.key) else {
                continue;
            };
            let Some(m) = e.mean else { continue };
            let band = e.ci95.map(|c| (m - c, m + c));
            let point = (v.sweep_point[0].1, m, band);
            match groups.iter_mut().find(|g| g.0 == group) {
                Some(g) => g.1.push(point),
                None => groups.push((group, vec![point])),
            }
        }
        for g in &mut groups {
            g.1.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        h.push_str(&charts::lines(
            &format!("{} against {param}", kpi.label),
            &param,
            Axis {
                quantity: param_quantity,
                change: false,
            },
            Axis {
                quantity: kpi.quantity,
                change: false,
            },
            &groups,
            true,
        ));
    }
}

pub fn render(x: &Experiment) -> String {
    let mut h = String::new();
    header(&mut h, x);
    decision_section(&mut h, x);
    ranking_table(&mut h, x);
    comparison_table(&mut h, x);
    variants_table(&mut h, x);
    stations_section(&mut h, x);
    downtime_section(&mut h, x);
    throughput_section(&mut h, x);
    sweep_section(&mut h, x);
    h.push_str("<p class=\"note\">Made by takt. Self-contained: no network is needed to view this page.</p></body></html>\n");
    h
}
