//! A schedule as an SVG Gantt chart: one row per machine, operations coloured by job and labelled,
//! setups in grey before them, unavailability hatched, breaks (off-shift, planned maintenance)
//! shaded, operations of late jobs outlined in red.

use crate::problem::{Schedule, ShopProblem};
use std::fmt::Write as _;

const COLORS: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// The chart; `label` writes a time of the axis (plain numbers for benchmarks, clock times for plants).
pub fn svg(p: &ShopProblem, s: &Schedule, label: &dyn Fn(i64) -> String) -> String {
    let (left, row, top, width) = (120.0, 26.0, 46.0, 1200.0);
    let horizon = s
        .makespan()
        .max(
            p.unavailable
                .iter()
                .flatten()
                .map(|w| w.0)
                .max()
                .unwrap_or(0),
        )
        .max(1) as f64;
    let x = |t: i64| left + (width - left - 10.0) * (t as f64).min(horizon) / horizon;
    let height = top + row * p.machines as f64 + 40.0;
    let end = horizon as i64;
    let completions = s.completions(p);
    let late: Vec<bool> = p
        .jobs
        .iter()
        .zip(&completions)
        .map(|(j, c)| j.due.is_some_and(|d| *c > d))
        .collect();
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\">\
         <defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#c00\" stroke-width=\"2\"/></pattern></defs>\
         <text x=\"{left}\" y=\"18\" font-size=\"13\">{}: makespan {}, setups {}, late jobs {}</text>\
         <text x=\"{left}\" y=\"34\" font-size=\"10\" fill=\"#555\">grey: setup (changeover) · shaded: off-shift or planned maintenance · red hatch: unavailable · red outline: late</text>",
        esc(&p.name),
        s.makespan(),
        s.total_setup(p),
        s.late_jobs(p)
    );
    for m in 0..p.machines {
        let y = top + row * m as f64;
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            y + 16.0,
            esc(&p.machine_name(m))
        );
        for &(a, b) in p.breaks[m].iter().filter(|w| w.0 < end) {
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{}\" fill=\"#e4e4e4\"><title>break {}-{}</title></rect>",
                x(a),
                (x(b) - x(a)).max(0.5),
                row - 4.0,
                esc(&label(a)),
                esc(&label(b))
            );
        }
        let _ = write!(
            out,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#eee\"/>",
            width - 10.0,
            y + row - 1.0,
            y + row - 1.0
        );
        for &(a, b) in &p.unavailable[m] {
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{}\" fill=\"url(#hatch)\" opacity=\"0.5\"><title>unavailable {}-{}</title></rect>",
                x(a),
                (x(b) - x(a)).max(0.5),
                row - 4.0,
                esc(&label(a)),
                esc(&label(b))
            );
        }
    }
    for o in &s.operations {
        let y = top + row * o.machine as f64;
        if o.start > o.setup_start {
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{}\" fill=\"#777\"><title>setup {}-{}</title></rect>",
                x(o.setup_start),
                y + 6.0,
                x(o.start) - x(o.setup_start),
                row - 16.0,
                esc(&label(o.setup_start)),
                esc(&label(o.start))
            );
        }
        let stroke = if late[o.job] {
            " stroke=\"#c00\" stroke-width=\"2\""
        } else {
            ""
        };
        let w = (x(o.end) - x(o.start)).max(0.5);
        let _ = write!(
            out,
            "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{}\" fill=\"{}\"{stroke}><title>{} op {}: {}-{}</title></rect>",
            x(o.start),
            row - 4.0,
            COLORS[o.job % COLORS.len()],
            esc(&p.jobs[o.job].name),
            o.operation + 1,
            esc(&label(o.start)),
            esc(&label(o.end))
        );
        if w > 24.0 {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" fill=\"#fff\">{}</text>",
                x(o.start) + 2.0,
                y + 14.0,
                esc(&p.jobs[o.job].name)
            );
        }
    }
    let axis_y = top + row * p.machines as f64 + 14.0;
    for k in 0..=5 {
        let t = (horizon * k as f64 / 5.0) as i64;
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{axis_y}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            x(t),
            esc(&label(t))
        );
    }
    out.push_str("</svg>\n");
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
