//! The experiment as one self-contained HTML page (inline CSS and SVG, nothing fetched): the
//! comparison table, KPI bars with 95% whiskers, OEE loss breakdown and state-time breakdown per
//! station, throughput over time, and for sweeps each headline KPI against the swept value with a CI band.

use crate::experiment::{Experiment, VariantResult};
use std::fmt::Write as _;

const PALETTE: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f",
];
const STATE_COLORS: [(&str, &str); 7] = [
    ("processing", "#59a14f"),
    ("setup", "#edc948"),
    ("starved", "#bab0ac"),
    ("blocked", "#f28e2b"),
    ("down", "#e15759"),
    ("planned_down", "#b07aa1"),
    ("off_shift", "#dddddd"),
];

/// A segment of a stacked bar: name, fraction, colour.
type Segment<'a> = (&'a str, f64, &'a str);
/// A labelled stacked bar.
type StackRow<'a> = (String, Vec<Segment<'a>>);
/// A point of a line: x, y, and an optional (lower, upper) band.
type Point = (f64, f64, Option<(f64, f64)>);
/// A named line.
type Series = (String, Vec<Point>);

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn num(x: f64) -> String {
    let a = x.abs();
    if a != 0.0 && !(0.01..1e6).contains(&a) {
        format!("{x:.3e}")
    } else if a >= 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.3}")
    }
}

/// Bars with 95% whiskers, one per variant.
fn bar_chart(title: &str, labels: &[String], values: &[(f64, Option<f64>)]) -> String {
    let (w, h, left, bottom) = (560.0, 260.0, 60.0, 80.0);
    let top = values
        .iter()
        .map(|(m, c)| m + c.unwrap_or(0.0))
        .fold(0.0_f64, f64::max)
        .max(1e-12)
        * 1.1;
    let plot_h = h - bottom - 20.0;
    let slot = (w - left - 10.0) / labels.len().max(1) as f64;
    let y = |v: f64| 20.0 + plot_h * (1.0 - v / top);
    let mut s = format!(
        "<figure><figcaption>{}</figcaption><svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\">",
        esc(title)
    );
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333\"/>",
        y(0.0),
        w - 10.0,
        y(0.0)
    );
    for k in 0..=4 {
        let v = top * k as f64 / 4.0;
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text><line x1=\"{left}\" x2=\"{}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#eee\"/>",
            left - 4.0,
            y(v) + 3.0,
            num(v),
            w - 10.0
        );
    }
    for (i, ((m, c), label)) in values.iter().zip(labels).enumerate() {
        let x = left + slot * i as f64 + slot * 0.15;
        let bw = slot * 0.7;
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {}</title></rect>",
            y(*m),
            (y(0.0) - y(*m)).max(0.0),
            PALETTE[i % PALETTE.len()],
            esc(label),
            num(*m)
        );
        if let Some(c) = c {
            let cx = x + bw / 2.0;
            let _ = write!(
                s,
                "<path d=\"M{cx:.1} {:.1}V{:.1}M{:.1} {:.1}h10M{:.1} {:.1}h10\" stroke=\"#000\"/>",
                y(m + c),
                y((m - c).max(0.0)),
                cx - 5.0,
                y(m + c),
                cx - 5.0,
                y((m - c).max(0.0))
            );
        }
        let (lx, ly) = (x + bw / 2.0, h - bottom + 14.0);
        // Many bars: slanted labels, so that they do not overlap.
        let (anchor, rotate) = if labels.len() > 5 {
            ("end", -35)
        } else {
            ("middle", 0)
        };
        let _ = write!(
            s,
            "<text x=\"{lx:.1}\" y=\"{ly}\" font-size=\"10\" text-anchor=\"{anchor}\" transform=\"rotate({rotate} {lx:.1} {ly})\">{}</text>",
            esc(&truncate(label, 18))
        );
    }
    s.push_str("</svg></figure>");
    s
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// Horizontal stacked bars: one row per label, segments (name, fraction, color).
fn stacked(title: &str, rows: &[StackRow<'_>]) -> String {
    let (w, left, row_h) = (560.0, 150.0, 22.0);
    let h = 30.0 + rows.len() as f64 * row_h + 30.0;
    let mut s = format!(
        "<figure><figcaption>{}</figcaption><svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\">",
        esc(title)
    );
    let scale = w - left - 10.0;
    for (i, (label, segments)) in rows.iter().enumerate() {
        let y = 10.0 + i as f64 * row_h;
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            y + 14.0,
            esc(&truncate(label, 24))
        );
        let mut x = left;
        for (name, frac, color) in segments {
            let bw = scale * frac.clamp(0.0, 1.0);
            let _ = write!(
                s,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{}\" fill=\"{color}\"><title>{}: {:.1}%</title></rect>",
                row_h - 4.0,
                esc(name),
                frac * 100.0
            );
            x += bw;
        }
    }
    // Legend from the first row's segment names.
    if let Some((_, segments)) = rows.first() {
        let mut x = left;
        let y = h - 16.0;
        for (name, _, color) in segments {
            let _ = write!(
                s,
                "<rect x=\"{x:.1}\" y=\"{y}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"10\">{}</text>",
                x + 13.0,
                y + 9.0,
                esc(name)
            );
            x += 14.0 + 6.0 * name.len() as f64 + 12.0;
        }
    }
    s.push_str("</svg></figure>");
    s
}

/// Lines over a common x axis, optional CI bands (lo, hi) per series.
fn line_chart(title: &str, x_label: &str, series: &[Series]) -> String {
    let (w, h, left, bottom) = (560.0, 260.0, 60.0, 40.0);
    let pts = series.iter().flat_map(|(_, p)| p.iter());
    let (mut x0, mut x1, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, 0.0_f64);
    for (x, y, band) in pts {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        y1 = y1.max(band.map_or(*y, |b| b.1)).max(*y);
    }
    if !x0.is_finite() || x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let y1 = (y1 * 1.1).max(1e-12);
    let px = |x: f64| left + (w - left - 10.0) * (x - x0) / (x1 - x0);
    let py = |y: f64| 15.0 + (h - bottom - 15.0) * (1.0 - y / y1);
    let mut s = format!(
        "<figure><figcaption>{}</figcaption><svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\">",
        esc(title)
    );
    for k in 0..=4 {
        let v = y1 * k as f64 / 4.0;
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{}</text><line x1=\"{left}\" x2=\"{}\" y1=\"{2:.1}\" y2=\"{2:.1}\" stroke=\"#eee\"/>",
            left - 4.0,
            py(v) + 3.0,
            num(v),
            w - 10.0
        );
        let xv = x0 + (x1 - x0) * k as f64 / 4.0;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            px(xv),
            h - bottom + 14.0,
            num(xv)
        );
    }
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
        (left + w) / 2.0,
        h - 6.0,
        esc(x_label)
    );
    for (i, (name, p)) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        if p.iter().all(|q| q.2.is_some()) && !p.is_empty() {
            let upper: Vec<String> = p
                .iter()
                .map(|(x, _, b)| format!("{:.1},{:.1}", px(*x), py(b.map_or(0.0, |b| b.1))))
                .collect();
            let lower: Vec<String> = p
                .iter()
                .rev()
                .map(|(x, _, b)| {
                    format!("{:.1},{:.1}", px(*x), py(b.map_or(0.0, |b| b.0.max(0.0))))
                })
                .collect();
            let _ = write!(
                s,
                "<polygon points=\"{} {}\" fill=\"{color}\" opacity=\"0.2\"/>",
                upper.join(" "),
                lower.join(" ")
            );
        }
        let line: Vec<String> = p
            .iter()
            .map(|(x, y, _)| format!("{:.1},{:.1}", px(*x), py(*y)))
            .collect();
        let _ = write!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"><title>{}</title></polyline>",
            line.join(" "),
            esc(name)
        );
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"{color}\">{}</text>",
            left + 8.0,
            28.0 + 12.0 * i as f64,
            esc(&truncate(name, 40))
        );
    }
    s.push_str("</svg></figure>");
    s
}

fn estimate_cell(v: &VariantResult, key: &str) -> String {
    let Some(e) = v.estimates.iter().find(|e| e.key == key) else {
        return "<td>-</td>".into();
    };
    let mut cell = match (e.mean, e.ci95) {
        (Some(m), Some(h)) => format!("{} ± {}", num(m), num(h)),
        (Some(m), None) => num(m),
        _ => "-".into(),
    };
    let mut class = "";
    if let Some(d) = &e.difference {
        let _ = write!(
            cell,
            "<br><small>Δ {}{} ± {}</small>",
            if d.mean >= 0.0 { "+" } else { "" },
            num(d.mean),
            d.ci95.map_or("-".into(), num)
        );
        if d.significant {
            class = " class=\"sig\"";
        }
    }
    format!("<td{class}>{cell}</td>")
}

pub fn render(x: &Experiment) -> String {
    let mut h = String::new();
    let names: Vec<String> = x.variants.iter().map(|v| v.name.clone()).collect();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>takt what-if: {}</title>",
        esc(&x.scenario)
    );
    h.push_str("<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:top}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}td.sig{background:#fff3c4}small{color:#555}figure{display:inline-block;margin:8px 16px 16px 0}figcaption{font-weight:600;font-size:13px;margin-bottom:4px}.note{color:#555;font-size:13px}.warn{background:#fde2e1;border-left:4px solid #b3261e;padding:8px}</style></head><body>");
    let _ = write!(
        h,
        "<h1>What-if: {}</h1><p class=\"note\">{} variant(s) besides the base; {} replications each with common random numbers (seed {}); horizon {} s, warm-up {} s ({}). Values are means ± 95% confidence half-widths; Δ is the paired difference to the base, highlighted where significant.</p>",
        esc(&x.scenario),
        x.variants.len() - 1,
        x.replications,
        x.seed,
        num(x.horizon_s),
        num(x.warmup_s),
        esc(&x.warmup_method)
    );
    if let (Some(p), Some(ok)) = (x.precision, x.precision_reached) {
        let _ = write!(
            h,
            "<p class=\"note\">Precision target {:.1}% of the mean: {}.</p>",
            p * 100.0,
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
    // Variants and their overrides.
    h.push_str("<h2 id=\"variants\">Variants</h2><table><tr><th>variant</th><th>what it means</th><th>changes</th></tr>");
    for v in &x.variants {
        let _ = write!(
            h,
            "<tr><td>{}</td><td style=\"text-align:left\">{}</td><td style=\"text-align:left\">{}</td></tr>",
            esc(&v.name),
            esc(v.description.as_deref().unwrap_or("")),
            esc(&v.overrides.join("; "))
        );
    }
    h.push_str("</table>");
    if let Some(r) = &x.ranking {
        let _ = write!(
            h,
            "<h2>Ranking: {} {}</h2><table><tr><th>variant</th><th>mean</th><th>feasible</th><th>indistinguishable from best</th></tr>",
            if r.goal.maximize { "max" } else { "min" },
            esc(&r.goal.key)
        );
        for v in &r.ranked {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{} ± {}</td><td>{}</td><td>{}</td></tr>",
                esc(&v.variant),
                num(v.mean),
                v.ci95.map_or("-".into(), num),
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
    // Comparison table.
    h.push_str("<h2 id=\"comparison\">Comparison</h2><table><tr><th>KPI</th>");
    for n in &names {
        let _ = write!(h, "<th>{}</th>", esc(n));
    }
    h.push_str("</tr>");
    for (key, label) in &x.kpis {
        let _ = write!(h, "<tr><td>{}</td>", esc(label));
        for v in &x.variants {
            h.push_str(&estimate_cell(v, key));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table><h2 id=\"headline\">Headline KPIs</h2>");
    for (key, label) in x.kpis.iter().filter(|(k, _)| !k.starts_with("stations.")) {
        let values: Vec<(f64, Option<f64>)> = x
            .variants
            .iter()
            .map(|v| {
                v.estimates
                    .iter()
                    .find(|e| &e.key == key)
                    .map_or((0.0, None), |e| (e.mean.unwrap_or(0.0), e.ci95))
            })
            .collect();
        h.push_str(&bar_chart(label, &names, &values));
    }
    // Per station: OEE loss breakdown and state times.
    h.push_str("<h2 id=\"stations\">Stations</h2>");
    if let Some(first) = x.variants.first() {
        for (si, st) in first.stations.iter().enumerate() {
            let rows: Vec<StackRow<'_>> = x
                .variants
                .iter()
                .map(|v| {
                    let s = &v.stations[si];
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
            h.push_str(&stacked(&format!("{}: OEE and its losses", st.name), &rows));
            let rows: Vec<StackRow<'_>> = x
                .variants
                .iter()
                .map(|v| {
                    let f = &v.stations[si].state_fractions;
                    let vals = [
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
                            .zip(vals)
                            .map(|((n, c), val)| (*n, val, *c))
                            .collect(),
                    )
                })
                .collect();
            h.push_str(&stacked(&format!("{}: time by state", st.name), &rows));
        }
    }
    // Throughput over time.
    let series: Vec<Series> = x
        .variants
        .iter()
        .map(|v| {
            (
                v.name.clone(),
                v.throughput_series
                    .iter()
                    .enumerate()
                    .map(|(i, y)| ((i as f64 + 0.5) * x.series_interval_s / 3600.0, *y, None))
                    .collect(),
            )
        })
        .collect();
    h.push_str("<h2 id=\"throughput\">Throughput over time</h2>");
    h.push_str(&line_chart(
        "good parts per hour, mean over replications",
        "hours since start",
        &series,
    ));
    // Sweeps: KPI against the first swept field, one line per value of the second.
    let swept: Vec<&VariantResult> = x
        .variants
        .iter()
        .filter(|v| !v.sweep_point.is_empty())
        .collect();
    if let Some(first) = swept.first() {
        let param = first.sweep_point[0].0.clone();
        h.push_str("<h2 id=\"sweep\">Sweep</h2>");
        for (key, label) in x.kpis.iter().filter(|(k, _)| !k.starts_with("stations.")) {
            let mut groups: Vec<Series> = Vec::new();
            for v in &swept {
                let group = v
                    .sweep_point
                    .get(1)
                    .map_or(String::from("mean ± 95% CI"), |(p, val)| {
                        format!("{}={}", p.rsplit('.').next().unwrap_or(p), num(*val))
                    });
                let Some(e) = v.estimates.iter().find(|e| &e.key == key) else {
                    continue;
                };
                let Some(m) = e.mean else { continue };
                let band = e.ci95.map(|c| (m - c, m + c));
                match groups.iter_mut().find(|g| g.0 == group) {
                    Some(g) => g.1.push((v.sweep_point[0].1, m, band)),
                    None => groups.push((group, vec![(v.sweep_point[0].1, m, band)])),
                }
            }
            for g in &mut groups {
                g.1.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
            h.push_str(&line_chart(
                &format!("{label} against {param}"),
                &param,
                &groups,
            ));
        }
    }
    h.push_str("<p class=\"note\">Made by takt. Self-contained: no network is needed to view this page.</p></body></html>\n");
    h
}
