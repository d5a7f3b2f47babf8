//! The shift report as one self-contained HTML page (inline CSS and SVG, no script, nothing
//! fetched), in the forms of `takt_model::quantity`: the line against its plan first, then each
//! machine's figures, then the downtime Pareto.

use super::{Downtime, ShiftReport, StopKind};
use std::fmt::Write as _;
use takt_model::quantity::{
    FASTER_THAN_STANDARD, Quantity, duration, grouped, percent, signed, significant,
};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// "2026-01-05 06:00" of an RFC 3339 time in plant time.
pub fn plant(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(clock)) => format!("{day} {clock}"),
        _ => rfc3339.to_string(),
    }
}

/// The offset of an RFC 3339 time as people read it: "UTC+01:00".
pub fn offset(rfc3339: &str) -> String {
    match rfc3339.rfind(['+', '-']).filter(|i| *i > 10) {
        Some(i) => format!("UTC{}", &rfc3339[i..]),
        None => "UTC".into(),
    }
}

/// Against the plan in words: "24,446 good parts, 6 fewer than the plan's 24,452 (−0.0 %)".
pub fn against_plan(good: u64, plan: Option<f64>) -> String {
    let parts = Quantity::Count.value(good as f64);
    match plan {
        None => format!("{parts} good parts (no plan to compare with)"),
        Some(p) => {
            let gap = good as f64 - p;
            let relative = if p > 0.0 && gap.round() != 0.0 {
                let r = 100.0 * gap / p;
                let magnitude = if r.abs() < 0.1 {
                    significant(r.abs(), 1)
                } else {
                    grouped(r.abs(), 1)
                };
                format!(" ({} %)", signed(r, magnitude))
            } else {
                String::new()
            };
            let words = if gap.round() == 0.0 {
                "as many as".to_string()
            } else if gap > 0.0 {
                format!("{} more than", Quantity::Count.value(gap.round()))
            } else {
                format!("{} fewer than", Quantity::Count.value(-gap.round()))
            };
            format!(
                "{parts} good parts, {words} the plan's {}{relative}",
                Quantity::Count.value(p.round())
            )
        }
    }
}

/// A note as a sentence: its first letter a capital, a full stop at its end.
fn sentence(note: &str) -> String {
    let mut chars = note.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    let rest = chars.as_str();
    let stop = if note.ends_with('.') { "" } else { "." };
    format!("{first}{rest}{stop}")
}

pub fn render(r: &ShiftReport) -> String {
    let mut h = String::new();
    let title = format!(
        "Shift report: {}{}",
        r.shift
            .as_deref()
            .map_or(String::new(), |s| format!("shift {s}, ")),
        plant(&r.start).get(..10).unwrap_or_default()
    );
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>\
         body{{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px;line-height:1.4}}\
         table{{border-collapse:collapse;font-size:13px;margin:6px 0 14px}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right;white-space:nowrap}}\
         th{{background:#f4f4f4}}td:first-child,th:first-child,td.text,th.text{{text-align:left}}\
         .note{{color:#555;font-size:13px}}.headline{{background:#eef4fb;border-left:4px solid #1f4e79;padding:8px 16px;font-size:15px}}.flag{{color:#8a4b00}}\
         </style></head><body><h1>{}</h1><p>{}</p>",
        esc(&title),
        esc(&title),
        esc(&r.plant)
    );
    let _ = write!(
        h,
        "<p class=\"note\">From {} to {} (plant time, {}){}. Figures as ISO 22400 defines them, over the shift's planned time.</p>",
        plant(&r.start),
        plant(&r.end),
        esc(&offset(&r.start)),
        if r.ended {
            String::new()
        } else {
            format!(
                "; the shift is still running: figures up to {}, the plan's too",
                plant(&r.until).get(11..).unwrap_or_default()
            )
        }
    );
    let _ = write!(
        h,
        "<p class=\"headline\">The line ({}): {}; OEE {}{}.</p>",
        esc(&r.line.end_of_line),
        esc(&against_plan(r.line.good, r.line.plan_good)),
        Quantity::Share.maybe(r.line.oee),
        if r.line.performance_above_standard {
            " <span class=\"flag\">⚑</span>"
        } else {
            ""
        }
    );
    for n in &r.plan_notes {
        let _ = write!(h, "<p class=\"note\">{}</p>", esc(&sentence(n)));
    }
    h.push_str("<h2>Machines</h2><table><tr><th>machine</th><th>OEE</th><th>availability</th><th>performance</th><th>quality</th><th>good</th><th>scrap</th><th>plan (good)</th></tr>");
    for s in &r.stations {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&s.asset),
            Quantity::Share.maybe(s.oee),
            Quantity::Share.maybe(s.availability),
            Quantity::Share.maybe(s.performance),
            if s.performance_above_standard {
                " <span class=\"flag\">⚑</span>"
            } else {
                ""
            },
            Quantity::Share.maybe(s.quality),
            Quantity::Count.value(s.good as f64),
            Quantity::Count.value(s.scrap as f64),
            s.plan_good
                .map_or("–".into(), |p| Quantity::Count.value(p.round()))
        );
    }
    h.push_str("</table>");
    if r.line.performance_above_standard || r.stations.iter().any(|s| s.performance_above_standard)
    {
        let _ = write!(
            h,
            "<p class=\"note\"><span class=\"flag\">⚑</span> Performance above 100 %: {}.</p>",
            esc(FASTER_THAN_STANDARD)
        );
    }
    h.push_str("<h2>Where the time went</h2>");
    if r.downtime.is_empty() {
        h.push_str("<p class=\"note\">No stops or waits recorded in the shift.</p>");
    } else {
        let _ = write!(
            h,
            "<p class=\"note\">Every stop and wait, longest first, with its share of all the time lost and the running total (the Pareto). <span style=\"color:{STOP_COLOUR}\">■</span> the machine's own stops (down, setup, planned, idle); <span style=\"color:{WAIT_COLOUR}\">■</span> waits on the line (starved, blocked): a machine faster than its feed waits many short times.</p>"
        );
        h.push_str(&pareto(r));
        h.push_str("<table><tr><th>machine</th><th class=\"text\">state</th><th class=\"text\">reason</th><th>time</th><th>how often</th><th>each, on average</th><th>share</th><th>cumulative</th></tr>");
        for d in &r.downtime {
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&d.asset),
                esc(&d.state),
                esc(&d.reason_text()),
                duration(d.duration_s),
                d.how_often_text(),
                d.mean_text(),
                percent(d.share),
                percent(d.cumulative_share)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Alerts</h2>");
    if r.alerts.is_empty() {
        h.push_str("<p class=\"note\">No alert recorded in the shift.</p>");
    } else {
        h.push_str("<table><tr><th class=\"text\">raised</th><th class=\"text\">cleared</th><th class=\"text\">severity</th><th class=\"text\">what</th><th class=\"text\">taken on by</th></tr>");
        for shift_alert in &r.alerts {
            let a = &shift_alert.alert;
            let taken = a.acknowledged.as_ref().map_or("–".to_string(), |k| {
                if k.note.is_empty() {
                    k.by.clone()
                } else {
                    format!("{}: {}", k.by, k.note)
                }
            });
            let _ = write!(
                h,
                "<tr><td class=\"text\">{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td></tr>",
                esc(&shift_alert.raised),
                esc(shift_alert.cleared.as_deref().unwrap_or("open")),
                esc(a.severity.name()),
                esc(&a.message),
                esc(&taken)
            );
        }
        h.push_str("</table>");
    }
    for n in &r.notes {
        let _ = write!(h, "<p class=\"note\">{}</p>", esc(n));
    }
    h.push_str("<p class=\"note\">Made by takt from the twin's event store. Self-contained: no network is needed to view this page.</p></body></html>\n");
    h
}

/// The bars of the machine's own stops and of waits on the line.
const STOP_COLOUR: &str = "#c0504d";
const WAIT_COLOUR: &str = "#e69f00";

/// The ten longest stops and waits as bars, with the cumulative share as a line.
fn pareto(r: &ShiftReport) -> String {
    let top: Vec<_> = r.downtime.iter().take(10).collect();
    let label = |d: &Downtime| {
        format!(
            "{} {}{}",
            d.asset,
            d.state,
            if d.reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", d.reason_words.as_deref().unwrap_or(&d.reason))
            }
        )
    };
    // Room on the left for the longest label, at about 6.2 px a character of 11 px sans-serif;
    // a label longer than the room is cut, whole in the bar's title.
    const MOST_CHARS: usize = 64;
    let widest = top
        .iter()
        .map(|d| label(d).chars().count().min(MOST_CHARS))
        .max()
        .unwrap_or(0);
    let left = (widest as f64 * 6.2 + 12.0).max(160.0);
    let (row, right, bars) = (22.0, 150.0, 350.0);
    let w = left + bars + right;
    let h = 16.0 + row * top.len() as f64 + 8.0;
    let longest = top.first().map_or(1.0, |d| d.duration_s.max(1.0));
    let mut s = format!(
        "<svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"downtime Pareto\">"
    );
    for (i, d) in top.iter().enumerate() {
        let y = 8.0 + row * i as f64;
        let label = label(d);
        let shown = if label.chars().count() > MOST_CHARS {
            let cut: String = label.chars().take(MOST_CHARS - 1).collect();
            format!("{cut}…")
        } else {
            label.clone()
        };
        let bar = bars * d.duration_s / longest;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text><rect x=\"{left}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {}</title></rect><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{} · {}</text>",
            left - 6.0,
            y + 14.0,
            esc(&shown),
            row - 6.0,
            if d.kind == StopKind::Wait {
                WAIT_COLOUR
            } else {
                STOP_COLOUR
            },
            esc(&label),
            esc(&d.summary_text()),
            left + bar + 6.0,
            y + 14.0,
            duration(d.duration_s),
            percent(d.cumulative_share)
        );
    }
    s.push_str("</svg>");
    s
}
