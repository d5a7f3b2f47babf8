//! The report's charts as inline SVG: differences to the base with their 95 % intervals about 0,
//! stacked shares, and lines over a numeric axis with bands and markers. Axes carry round ticks
//! (`takt_model::quantity`) in the quantity's unit; labels are never cut without their full text in
//! a tooltip; colours come from a palette of ten, and a line past the tenth is dashed.
//!
//! Hand-drawn rather than through a plotting crate: plotters' SVG backend lays text out with font
//! metrics, which needs a font file embedded in the binary or read from the system; these three
//! chart kinds need no more than the browser's own text layout.

use std::fmt::Write as _;
use takt_model::quantity::{Quantity, duration, duration_ticks, grouped, round_ticks};

/// Tableau 10: distinct, and readable on white.
pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];
const DASHES: [&str; 3] = ["", "6 3", "2 2"];

/// The colour and dash of the `i`th series: ten colours, then the same ten dashed.
pub fn style(i: usize) -> (&'static str, &'static str) {
    (
        PALETTE[i % PALETTE.len()],
        DASHES[(i / PALETTE.len()) % DASHES.len()],
    )
}

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// A label that may be shortened, with its whole text as a tooltip.
fn label(s: &str, n: usize) -> String {
    let short = truncate(s, n);
    if short == s {
        esc(s)
    } else {
        format!("<title>{}</title>{}", esc(s), esc(&short))
    }
}

/// Text width in pixels at 11 px, roughly (system-ui's average advance).
fn text_width(s: &str) -> f64 {
    s.chars().count() as f64 * 6.2
}

/// An axis of one quantity: where its ticks fall and how they read.
#[derive(Clone, Copy)]
pub struct Axis {
    pub quantity: Quantity,
    /// Ticks are changes (signed; shares in points).
    pub change: bool,
}

impl Axis {
    fn ticks(self, low: f64, high: f64, most: usize) -> Vec<f64> {
        let scale = self.quantity.display_scale();
        match self.quantity {
            Quantity::Duration => duration_ticks(low, high, most),
            _ => round_ticks(low * scale, high * scale, most)
                .into_iter()
                .map(|t| t / scale)
                .collect(),
        }
    }

    /// A tick's text: the number in the axis's unit, the unit in the axis title.
    fn tick(self, v: f64, step: f64) -> String {
        let sign = if self.change && v > 0.0 { "+" } else { "" };
        let scale = self.quantity.display_scale();
        let body = match self.quantity {
            Quantity::Duration => duration(v),
            _ => grouped(v * scale, decimals(step * scale)),
        };
        format!("{sign}{}", body.replace('-', "\u{2212}"))
    }

    /// The unit named in the axis title ("" for durations: each tick names its own).
    pub fn unit(self) -> &'static str {
        if self.change {
            self.quantity.change_unit()
        } else {
            self.quantity.unit()
        }
    }
}

fn decimals(step: f64) -> usize {
    if step <= 0.0 || !step.is_finite() {
        return 0;
    }
    (-(step.log10().floor())).max(0.0) as usize
}

fn figure(title: &str, w: f64, h: f64) -> String {
    format!(
        "<figure><figcaption>{}</figcaption><svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{0}\">",
        esc(title)
    )
}

/// One row of a difference chart: the variant, its paired difference and half-width, and whether
/// the difference is significant.
pub struct DifferenceRow {
    pub name: String,
    pub difference: Option<(f64, Option<f64>, bool)>,
}

/// Each variant's paired difference to the base with its 95 % interval, on an axis symmetric about
/// 0: a filled dot where the interval excludes 0, a hollow one where it does not.
pub fn differences(title: &str, quantity: Quantity, rows: &[DifferenceRow]) -> String {
    let axis = Axis {
        quantity,
        change: true,
    };
    let reach = rows
        .iter()
        .filter_map(|r| r.difference)
        .map(|(m, h, _)| m.abs() + h.unwrap_or(0.0))
        .filter(|x| x.is_finite())
        .fold(0.0_f64, f64::max);
    let reach = if reach > 0.0 { reach } else { 1.0 };
    let ticks = axis.ticks(-reach, reach, 7);
    let (lo, hi) = (ticks[0], *ticks.last().unwrap_or(&reach));
    let step = ticks.get(1).map_or(1.0, |t| t - ticks[0]);
    let longest = rows
        .iter()
        .map(|r| text_width(&truncate(&r.name, 28)))
        .fold(60.0, f64::max);
    let (w, left, right, row_h) = (580.0, longest + 16.0, 36.0, 24.0);
    let h = 26.0 + rows.len() as f64 * row_h + 34.0;
    let x = |v: f64| left + (w - left - right) * (v - lo) / (hi - lo);
    let mut s = figure(title, w, h);
    let bottom = 16.0 + rows.len() as f64 * row_h;
    for t in &ticks {
        let _ = write!(
            s,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"10\" y2=\"{bottom:.1}\" stroke=\"{1}\"/><text x=\"{0:.1}\" y=\"{2:.1}\" font-size=\"11\" text-anchor=\"middle\">{3}</text>",
            x(*t),
            if *t == 0.0 { "#333" } else { "#e4e4e4" },
            bottom + 14.0,
            esc(&axis.tick(*t, step))
        );
    }
    let unit = axis.unit();
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">change against the base{}</text>",
        (left + w - right) / 2.0,
        h - 4.0,
        if unit.is_empty() {
            String::new()
        } else {
            format!(" ({unit})")
        }
    );
    for (i, row) in rows.iter().enumerate() {
        let y = 18.0 + i as f64 * row_h + row_h / 2.0;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            left - 8.0,
            y + 4.0,
            label(&row.name, 28)
        );
        let Some((m, h, significant)) = row.difference else {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#555\">not measured</text>",
                left + 4.0,
                y + 4.0
            );
            continue;
        };
        let words = quantity.change_within(m, h);
        if let Some(h) = h.filter(|h| *h > 0.0) {
            let _ = write!(
                s,
                "<path d=\"M{:.1} {y:.1}H{:.1}M{0:.1} {:.1}v8M{1:.1} {2:.1}v8\" stroke=\"#333\" stroke-width=\"1.5\"/>",
                x(m - h),
                x(m + h),
                y - 4.0
            );
        }
        let _ = write!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"{}\" stroke=\"#1f4e79\" stroke-width=\"2\"><title>{}: {}{}</title></circle>",
            x(m),
            if significant { "#1f4e79" } else { "#fff" },
            esc(&row.name),
            esc(&words),
            if significant {
                ", significant"
            } else {
                ", not significant"
            }
        );
    }
    s.push_str("</svg></figure>");
    s
}

/// A segment of a stacked bar: name, share, colour.
pub type Segment<'a> = (&'a str, f64, &'a str);
/// A labelled stacked bar.
pub type StackRow<'a> = (String, Vec<Segment<'a>>);

/// Horizontal stacked bars of shares (0 to 100 %), one row per label, with a legend.
pub fn stacked(title: &str, rows: &[StackRow<'_>]) -> String {
    let longest = rows
        .iter()
        .map(|r| text_width(&truncate(&r.0, 28)))
        .fold(60.0, f64::max);
    let (w, left, row_h) = (580.0, longest + 16.0, 22.0);
    let h = 10.0 + rows.len() as f64 * row_h + 46.0;
    let mut s = figure(title, w, h);
    let scale = w - left - 20.0;
    let bottom = 10.0 + rows.len() as f64 * row_h;
    for k in 0..=4 {
        let xt = left + scale * k as f64 / 4.0;
        let _ = write!(
            s,
            "<text x=\"{xt:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{} %</text>",
            bottom + 10.0,
            k * 25
        );
    }
    for (i, (name, segments)) in rows.iter().enumerate() {
        let y = 6.0 + i as f64 * row_h;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            y + 14.0,
            label(name, 28)
        );
        let mut x = left;
        for (segment, share, color) in segments {
            let bw = scale * share.clamp(0.0, 1.0);
            let _ = write!(
                s,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{}\" fill=\"{color}\"><title>{}, {}: {}</title></rect>",
                row_h - 4.0,
                esc(name),
                esc(segment),
                Quantity::Share.value(*share)
            );
            x += bw;
        }
    }
    if let Some((_, segments)) = rows.first() {
        let mut x = left;
        let y = h - 18.0;
        for (name, _, color) in segments {
            let _ = write!(
                s,
                "<rect x=\"{x:.1}\" y=\"{y}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"10\">{}</text>",
                x + 13.0,
                y + 9.0,
                esc(name)
            );
            x += 13.0 + text_width(name) * 0.95 + 14.0;
        }
    }
    s.push_str("</svg></figure>");
    s
}

/// A point of a line: x, y, and an optional (lower, upper) band.
pub type Point = (f64, f64, Option<(f64, f64)>);
/// A named line.
pub type Series = (String, Vec<Point>);

/// Lines over a numeric x axis, with their 95 % bands and a marker at each point; the y axis spans
/// the data (not from 0), with round ticks in the quantity's unit.
pub fn lines(
    title: &str,
    x_title: &str,
    x_axis: Axis,
    y_axis: Axis,
    series: &[Series],
    markers: bool,
) -> String {
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for (x, y, band) in series.iter().flat_map(|(_, p)| p.iter()) {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        let (lo, hi) = band.unwrap_or((*y, *y));
        y0 = y0.min(lo.min(*y));
        y1 = y1.max(hi.max(*y));
    }
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    // A share's interval past 0 or 100 % says nothing the share can be: bands and axis stop there.
    let clip = |y: f64| {
        if y_axis.quantity == Quantity::Share {
            y.clamp(0.0, 1.0)
        } else {
            y
        }
    };
    (y0, y1) = (clip(y0), clip(y1));
    let x_ticks = x_axis.ticks(x0, x1, 8);
    let y_ticks = y_axis.ticks(y0, y1, 6);
    let (tx0, tx1) = (x_ticks[0], *x_ticks.last().unwrap_or(&x1));
    let (ty0, ty1) = (y_ticks[0], *y_ticks.last().unwrap_or(&y1));
    let x_step = x_ticks.get(1).map_or(1.0, |t| t - tx0);
    let y_step = y_ticks.get(1).map_or(1.0, |t| t - ty0);
    let y_labels: Vec<String> = y_ticks.iter().map(|t| y_axis.tick(*t, y_step)).collect();
    let left = y_labels.iter().map(|l| text_width(l)).fold(30.0, f64::max) + 14.0;
    let (w, h, top, bottom, right) = (580.0, 310.0, 24.0, 44.0, 30.0);
    let legend_h = 16.0 * series.len().min(12) as f64;
    let h = h + legend_h;
    let plot_bottom = h - bottom - legend_h;
    let px = |x: f64| left + (w - left - right) * (x - tx0) / (tx1 - tx0).max(1e-12);
    let py = |y: f64| top + (plot_bottom - top) * (1.0 - (y - ty0) / (ty1 - ty0).max(1e-12));
    let mut s = figure(title, w, h);
    for (t, text) in y_ticks.iter().zip(&y_labels) {
        let (right_end, y, text_x) = (w - right, py(*t), left - 5.0);
        let _ = write!(
            s,
            "<line x1=\"{left:.1}\" x2=\"{right_end:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e4e4e4\"/><text x=\"{text_x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            y + 4.0,
            esc(text)
        );
    }
    for t in &x_ticks {
        let _ = write!(
            s,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{1:.1}\" y2=\"{2:.1}\" stroke=\"#999\"/><text x=\"{0:.1}\" y=\"{3:.1}\" font-size=\"11\" text-anchor=\"middle\">{4}</text>",
            px(*t),
            plot_bottom,
            plot_bottom + 4.0,
            plot_bottom + 16.0,
            esc(&x_axis.tick(*t, x_step))
        );
    }
    let _ = write!(
        s,
        "<line x1=\"{left:.1}\" x2=\"{:.1}\" y1=\"{plot_bottom:.1}\" y2=\"{plot_bottom:.1}\" stroke=\"#333\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
        w - right,
        (left + w - right) / 2.0,
        plot_bottom + 32.0,
        esc(x_title)
    );
    if !y_axis.unit().is_empty() {
        let _ = write!(
            s,
            "<text x=\"4\" y=\"{:.1}\" font-size=\"11\" fill=\"#555\">{}</text>",
            top - 12.0,
            esc(y_axis.unit())
        );
    }
    for (i, (name, points)) in series.iter().enumerate() {
        let (color, dash) = style(i);
        if !points.is_empty() && points.iter().all(|p| p.2.is_some()) {
            let upper = points
                .iter()
                .filter_map(|(x, _, b)| b.map(|b| format!("{:.1},{:.1}", px(*x), py(clip(b.1)))));
            let lower = points
                .iter()
                .rev()
                .filter_map(|(x, _, b)| b.map(|b| format!("{:.1},{:.1}", px(*x), py(clip(b.0)))));
            let _ = write!(
                s,
                "<polygon points=\"{}\" fill=\"{color}\" opacity=\"0.18\"/>",
                upper.chain(lower).collect::<Vec<_>>().join(" ")
            );
        }
        let path: Vec<String> = points
            .iter()
            .map(|(x, y, _)| format!("{:.1},{:.1}", px(*x), py(*y)))
            .collect();
        let _ = write!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"><title>{}</title></polyline>",
            path.join(" "),
            esc(name)
        );
        if markers {
            for (x, y, band) in points {
                let tip = match band {
                    Some((lo, hi)) => format!(
                        "{name}: {} at {}",
                        y_axis.quantity.estimate(*y, Some((hi - lo) / 2.0)),
                        x_axis.tick(*x, x_step)
                    ),
                    None => format!("{name}: {}", y_axis.quantity.value(*y)),
                };
                let _ = write!(
                    s,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{color}\"><title>{}</title></circle>",
                    px(*x),
                    py(*y),
                    esc(&tip)
                );
            }
        }
        if i < 12 {
            let ly = h - legend_h + 16.0 * i as f64 - 2.0;
            let _ = write!(
                s,
                "<line x1=\"{left:.1}\" x2=\"{:.1}\" y1=\"{ly:.1}\" y2=\"{ly:.1}\" stroke=\"{color}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text>",
                left + 22.0,
                left + 28.0,
                ly + 4.0,
                label(name, 60)
            );
        }
    }
    if series.len() > 12 {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#555\">and {} more (see the table)</text>",
            w / 2.0,
            h - 2.0,
            series.len() - 12
        );
    }
    s.push_str("</svg></figure>");
    s
}
