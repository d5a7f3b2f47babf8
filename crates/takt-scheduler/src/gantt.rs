//! A schedule as an SVG Gantt chart: one row per machine, operations coloured by job and labelled
//! where the label fits (the whole name in each bar's tooltip), setups in grey before them,
//! unavailability hatched, breaks (off-shift, planned maintenance) shaded, operations of late jobs
//! outlined in red, each due date marked on its job's last machine. A plant's plan has a day grid
//! in plant time and ticks at round hours; a benchmark's, round ticks in its time units. The title
//! names its units.

use crate::problem::{Schedule, ShopProblem};
use std::fmt::Write as _;
use takt_model::quantity::{Quantity, duration, round_ticks};

const COLORS: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// What the chart's times are.
pub enum TimeAxis<'a> {
    /// A benchmark instance: abstract time units.
    Units,
    /// A plant's plan: seconds from its start. `seconds_past_midnight` is the plant-time clock at
    /// t = 0 (where the day grid falls); `label` writes a time as "2026-01-05 06:00" in plant time.
    Plant {
        seconds_past_midnight: i64,
        label: &'a dyn Fn(i64) -> String,
    },
}

impl TimeAxis<'_> {
    fn label(&self, t: i64) -> String {
        match self {
            TimeAxis::Units => Quantity::Count.value(t as f64),
            TimeAxis::Plant { label, .. } => label(t),
        }
    }

    fn span(&self, t: i64) -> String {
        match self {
            TimeAxis::Units => format!("{} time units", Quantity::Count.value(t as f64)),
            TimeAxis::Plant { .. } => duration(t as f64),
        }
    }

    /// Ticks over [0, end]: round numbers of units, or round clock times of the plant (whole hours
    /// that divide the day, or whole days at midnight), at most about twelve.
    fn ticks(&self, end: i64) -> Vec<i64> {
        match self {
            TimeAxis::Units => round_ticks(0.0, end as f64, 12)
                .into_iter()
                .map(|t| t as i64)
                .filter(|t| (0..=end).contains(t))
                .collect(),
            TimeAxis::Plant {
                seconds_past_midnight,
                ..
            } => {
                const HOUR: i64 = 3600;
                let step = [1, 2, 3, 4, 6, 12, 24, 48, 168]
                    .into_iter()
                    .map(|h| h * HOUR)
                    .find(|step| end / step <= 12)
                    .unwrap_or(336 * HOUR);
                // The first multiple of `step` after midnight at or after t = 0.
                let first = (step - seconds_past_midnight.rem_euclid(step)) % step;
                (0..)
                    .map(|k| first + k * step)
                    .take_while(|t| *t <= end)
                    .collect()
            }
        }
    }

    /// Plant midnights within (0, end).
    fn midnights(&self, end: i64) -> Vec<i64> {
        match self {
            TimeAxis::Units => Vec::new(),
            TimeAxis::Plant {
                seconds_past_midnight,
                ..
            } => {
                let first = (86_400 - seconds_past_midnight.rem_euclid(86_400)) % 86_400;
                (0..)
                    .map(|k| first + k * 86_400)
                    .take_while(|t| *t < end)
                    .filter(|t| *t > 0)
                    .collect()
            }
        }
    }

    /// A tick's text: the clock within a day ("06:00"), the date at midnight or for day steps.
    fn tick(&self, t: i64, step: i64) -> String {
        let full = self.label(t);
        match self {
            TimeAxis::Units => full,
            TimeAxis::Plant { .. } => match full.split_once(' ') {
                Some((day, clock)) if clock == "00:00" || step >= 86_400 => day[5..].to_string(),
                Some((_, clock)) => clock.to_string(),
                None => full,
            },
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!(
            "{}…",
            s.chars().take(n.saturating_sub(1)).collect::<String>()
        )
    }
}

/// The chart of schedule `s` of problem `p`, its times read by `axis`.
pub fn svg(p: &ShopProblem, s: &Schedule, axis: &TimeAxis<'_>) -> String {
    let longest = (0..p.machines)
        .map(|m| p.machine_name(m).chars().count().min(24))
        .max()
        .unwrap_or(4) as f64;
    let (left, row, top, width, right) = (longest * 6.6 + 16.0, 26.0, 64.0, 1200.0, 16.0);
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
        .max(p.jobs.iter().filter_map(|j| j.due).max().unwrap_or(0))
        .max(1);
    let x = |t: i64| left + (width - left - right) * (t.min(horizon) as f64) / horizon as f64;
    let bottom = top + row * p.machines as f64;
    let height = bottom + 30.0;
    let completions = s.completions(p);
    let late: Vec<bool> = p
        .jobs
        .iter()
        .zip(&completions)
        .map(|(j, c)| j.due.is_some_and(|d| *c > d))
        .collect();
    let with_due = p.jobs.iter().filter(|j| j.due.is_some()).count();
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\">\
         <defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#c00\" stroke-width=\"2\"/></pattern></defs>\
         <text x=\"{left:.1}\" y=\"18\" font-size=\"13\">{}: makespan {}, setups {}{}</text>\
         <text x=\"{left:.1}\" y=\"34\" font-size=\"10\" fill=\"#555\">grey: setup (changeover) · shaded: off-shift or planned maintenance · red hatch: unavailable · red outline: late · ▼ due date{}</text>",
        esc(&p.name),
        esc(&axis.span(s.makespan())),
        esc(&axis.span(s.total_setup(p))),
        if with_due > 0 {
            format!(", {} of {with_due} jobs late", s.late_jobs(p))
        } else {
            String::new()
        },
        match axis {
            TimeAxis::Units => "",
            TimeAxis::Plant { .. } => " · times in plant time",
        }
    );
    // Day grid: a line and the date at each plant midnight.
    for t in axis.midnights(horizon) {
        let day = axis.label(t);
        let _ = write!(
            out,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{1:.1}\" y2=\"{bottom:.1}\" stroke=\"#999\" stroke-dasharray=\"3 3\"/><text x=\"{2:.1}\" y=\"{3:.1}\" font-size=\"10\" fill=\"#333\">{4}</text>",
            x(t),
            top - 12.0,
            x(t) + 3.0,
            top - 4.0,
            esc(day.split(' ').next().unwrap_or(&day))
        );
    }
    for m in 0..p.machines {
        let y = top + row * m as f64;
        let name = p.machine_name(m);
        let shown = truncate(&name, 24);
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}{}</text>",
            left - 6.0,
            y + 16.0,
            if shown == name {
                String::new()
            } else {
                format!("<title>{}</title>", esc(&name))
            },
            esc(&shown)
        );
        for &(a, b) in p.breaks[m].iter().filter(|w| w.0 < horizon) {
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{}\" fill=\"#e4e4e4\"><title>break {} to {}</title></rect>",
                x(a),
                (x(b) - x(a)).max(0.5),
                row - 4.0,
                esc(&axis.label(a)),
                esc(&axis.label(b))
            );
        }
        let _ = write!(
            out,
            "<line x1=\"{left:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#eee\"/>",
            width - right,
            y + row - 1.0,
            y + row - 1.0
        );
        for &(a, b) in &p.unavailable[m] {
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{}\" fill=\"url(#hatch)\" opacity=\"0.5\"><title>unavailable {} to {}</title></rect>",
                x(a),
                (x(b) - x(a)).max(0.5),
                row - 4.0,
                esc(&axis.label(a)),
                esc(&axis.label(b))
            );
        }
    }
    for o in &s.operations {
        let y = top + row * o.machine as f64;
        if o.start > o.setup_start {
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{}\" fill=\"#777\"><title>setup {} to {}</title></rect>",
                x(o.setup_start),
                y + 6.0,
                x(o.start) - x(o.setup_start),
                row - 16.0,
                esc(&axis.label(o.setup_start)),
                esc(&axis.label(o.start))
            );
        }
        let stroke = if late[o.job] {
            " stroke=\"#c00\" stroke-width=\"2\""
        } else {
            ""
        };
        let job = &p.jobs[o.job].name;
        let w = (x(o.end) - x(o.start)).max(0.5);
        let _ = write!(
            out,
            "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{}\" fill=\"{}\"{stroke}><title>{} op {}: {} to {}{}</title></rect>",
            x(o.start),
            row - 4.0,
            COLORS[o.job % COLORS.len()],
            esc(job),
            o.operation + 1,
            esc(&axis.label(o.start)),
            esc(&axis.label(o.end)),
            if late[o.job] { ", late" } else { "" }
        );
        // The name where it fits whole (about 5.5 px a character at 9 px), else nothing.
        if w > job.chars().count() as f64 * 5.5 + 4.0 {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" fill=\"#fff\" pointer-events=\"none\">{}</text>",
                x(o.start) + 2.0,
                y + 14.0,
                esc(job)
            );
        }
    }
    // Due dates: a marker on the row of each job's last operation.
    for (j, job) in p.jobs.iter().enumerate() {
        let (Some(due), Some(last)) = (
            job.due,
            s.operations
                .iter()
                .filter(|o| o.job == j)
                .max_by_key(|o| o.end),
        ) else {
            continue;
        };
        let (cx, y) = (x(due), top + row * last.machine as f64);
        let _ = write!(
            out,
            "<path d=\"M{:.1} {:.1}l-5 -7h10z\" fill=\"{}\" stroke=\"{}\" stroke-width=\"1\"><title>{} due {}{}</title></path>",
            cx,
            y + 2.0,
            COLORS[j % COLORS.len()],
            if late[j] { "#c00" } else { "#333" },
            esc(&job.name),
            esc(&axis.label(due)),
            if late[j] { ", late" } else { "" }
        );
    }
    let ticks = axis.ticks(horizon);
    let step = ticks
        .get(1)
        .zip(ticks.first())
        .map_or(horizon, |(b, a)| b - a);
    for t in ticks {
        let _ = write!(
            out,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{bottom:.1}\" y2=\"{1:.1}\" stroke=\"#333\"/><text x=\"{0:.1}\" y=\"{2:.1}\" font-size=\"10\" text-anchor=\"middle\">{3}</text>",
            x(t),
            bottom + 4.0,
            bottom + 16.0,
            esc(&axis.tick(t, step))
        );
    }
    out.push_str("</svg>\n");
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
