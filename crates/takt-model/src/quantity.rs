//! One presentation per quantity, for every figure a person reads: tables, reports, charts.
//!
//! JSON stays SI (seconds, fractions); what people read goes through here, so that a lead time is
//! "2 h 05 min" in `takt run`, in `takt whatif`, in the HTML report and on the screens (whose
//! `web/src/format.ts` follows the same rules, named by the [`Quantity`] the API sends with each
//! KPI):
//! - durations in h and min with the unit ("2 h 05 min", "12 min", "6.4 min", "45 s", "0.55 s");
//! - fractions in percent with one decimal ("87.2 %"), their changes in percentage points ("pp");
//! - counts as integers with thousands separators ("24,496"; a mean over replications keeps one
//!   decimal where it is not whole);
//! - rates per hour ("3,056.2 parts/h"), energy in kWh, small quantities with three significant
//!   digits, never in scientific notation;
//! - a minus sign, not a hyphen; a figure with its 95 % half-width names the unit once
//!   ("59.4 ± 0.3 %").

use serde::{Deserialize, Serialize};

/// What a figure measures, which fixes how it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// Seconds in JSON; shown in h and min.
    Duration,
    /// A fraction from 0 to 1 in JSON; shown in percent, its changes in percentage points.
    Share,
    /// Pieces, orders, events, failures.
    Count,
    /// Parts per hour.
    RatePerHour,
    /// A mean number of parts (work in progress, a buffer's level).
    Parts,
    /// Kilowatt-hours.
    Energy,
    /// Kilowatt-hours per good part in JSON; shown in watt-hours per part.
    EnergyPerPart,
    /// An amount of money, in the currency its user names (shown beside it by the front end:
    /// [`money`]).
    Money,
    /// A number without a unit.
    Number,
}

/// The minus sign people read (U+2212), not a hyphen.
pub const MINUS: char = '\u{2212}';

impl Quantity {
    /// The unit written after a number of this quantity ("" for durations, which carry their own).
    pub fn unit(self) -> &'static str {
        match self {
            Quantity::Duration | Quantity::Count | Quantity::Money | Quantity::Number => "",
            Quantity::Share => "%",
            Quantity::RatePerHour => "parts/h",
            Quantity::Parts => "parts",
            Quantity::Energy => "kWh",
            Quantity::EnergyPerPart => "Wh/part",
        }
    }

    /// The unit of a change of this quantity: percentage points for shares.
    pub fn change_unit(self) -> &'static str {
        match self {
            Quantity::Share => "pp",
            other => other.unit(),
        }
    }

    /// The factor from the JSON's SI figure to the number people read (100 for a share in
    /// percent, 1,000 for kWh per part in Wh).
    pub fn display_scale(self) -> f64 {
        match self {
            Quantity::Share => 100.0,
            Quantity::EnergyPerPart => 1000.0,
            _ => 1.0,
        }
    }

    /// The number alone, without sign handling or unit (durations excepted: they are whole).
    fn bare(self, x: f64) -> String {
        match self {
            Quantity::Duration => duration(x),
            Quantity::Share => grouped(x * 100.0, 1),
            Quantity::Count => count_mean(x),
            Quantity::Money => grouped(x, 0),
            Quantity::RatePerHour | Quantity::Parts | Quantity::Energy => grouped(x, 1),
            Quantity::EnergyPerPart => significant(x * 1000.0, 3),
            Quantity::Number => significant(x, 3),
        }
    }

    /// A number next to a half-width: to the half-width's precision (two significant digits) for
    /// quantities without a fixed number of decimals, so that "14.5 ± 0.12" never becomes
    /// "14.5 ± 0.000120" or its change "−0.00605".
    fn bare_to(self, x: f64, half_width: f64) -> String {
        let scale = match self {
            Quantity::EnergyPerPart => 1000.0,
            Quantity::Number => 1.0,
            // Counts: whole numbers beside a half-width of one or more ("24,450 ± 4").
            Quantity::Count if half_width >= 1.0 => return grouped(x, 0),
            _ => return self.bare(x),
        };
        let h = half_width * scale;
        let decimals = (1 - h.abs().log10().floor() as i32).clamp(0, 12) as usize;
        grouped(x * scale, decimals)
    }

    /// A value in its unit: "3,056.2 parts/h", "59.4 %", "2 h 05 min", "24,496"; "–" when absent
    /// or not finite.
    pub fn value(self, x: f64) -> String {
        if !x.is_finite() {
            return "–".into();
        }
        with_unit(self.bare(x), self.unit())
    }

    /// A value that may be absent.
    pub fn maybe(self, x: Option<f64>) -> String {
        x.map_or_else(|| "–".into(), |x| self.value(x))
    }

    /// A signed change in its unit: "+12.3 parts/h", "−1.2 pp", "+4 min", "0 pp".
    pub fn change(self, d: f64) -> String {
        if !d.is_finite() {
            return "–".into();
        }
        let magnitude = self.bare(d.abs());
        with_unit(signed(d, magnitude), self.change_unit())
    }

    /// A mean with its 95 % half-width, the unit once: "3,056.2 ± 0.5 parts/h", "59.4 ± 0.3 %",
    /// "3 h 00 min ± 16 min". Without a half-width, or with one of exactly 0 (the same in every
    /// replication), the value alone.
    pub fn estimate(self, mean: f64, ci95: Option<f64>) -> String {
        match ci95 {
            Some(h) if h.is_finite() && h > 0.0 && mean.is_finite() => with_unit(
                format!("{} ± {}", self.bare_to(mean, h), self.bare_to(h, h)),
                self.unit(),
            ),
            _ => self.value(mean),
        }
    }

    /// A signed change with its 95 % half-width, the unit once: "−1.2 ± 0.3 pp", "+4 min ± 2 min".
    pub fn change_within(self, d: f64, ci95: Option<f64>) -> String {
        match ci95 {
            Some(h) if h.is_finite() && h > 0.0 && d.is_finite() => {
                let magnitude = self.bare_to(d.abs(), h);
                with_unit(
                    format!("{} ± {}", signed(d, magnitude), self.bare_to(h, h)),
                    self.change_unit(),
                )
            }
            _ => self.change(d),
        }
    }
}

fn with_unit(number: String, unit: &str) -> String {
    if unit.is_empty() {
        number
    } else {
        format!("{number} {unit}")
    }
}

/// A magnitude as written with the sign of `d`; none where it reads as zero ("0.0", not "−0.0").
pub fn signed(d: f64, magnitude: String) -> String {
    if magnitude
        .chars()
        .all(|c| matches!(c, '0' | '.' | ',' | ' '))
        || d == 0.0
    {
        // A change that rounds to nothing carries no sign.
        magnitude
    } else if d > 0.0 {
        format!("+{magnitude}")
    } else {
        format!("{MINUS}{magnitude}")
    }
}

/// ISO 22400 performance is measured against a standard (planned runtime per unit): above 100 %
/// the machine ran faster than its standard, which says the standard is too slow or was met by
/// chance (the default standard is the mean process time, so short runs scatter about 100 %).
/// True where the figure reads above 100.0 %, so that a flag never sits on "100.0 %".
pub fn performance_above_standard(performance: f64) -> bool {
    performance >= 1.0005
}

/// What a performance above 100 % means, for every output that shows one.
pub const FASTER_THAN_STANDARD: &str = "faster than the standard cycle: check the standard \
     (the station's `ideal_cycle_time`; by default the mean process time, which a run can beat \
     by chance)";

/// `text` broken into lines of at most `width` characters at spaces (for terminals).
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split(' ') {
        let n = word.chars().count();
        if line > 0 && line + 1 + n > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += n;
    }
    out
}

/// A duration in seconds, in h and min with the unit: "2 h 05 min", "12 min", "6.4 min", "45 s",
/// "2.4 s", "0.545 s". Negative durations carry a minus sign.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "–".into();
    }
    let sign = if seconds < 0.0 {
        MINUS.to_string()
    } else {
        String::new()
    };
    let s = seconds.abs();
    let body = if s == 0.0 {
        "0 s".to_string()
    } else if s < 1.0 {
        format!("{} s", significant(s, 3))
    } else if s < 10.0 {
        format!("{} s", grouped(s, 1))
    } else if s < 59.5 {
        format!("{} s", grouped(s, 0))
    } else if s < 599.5 {
        format!("{} min", grouped(s / 60.0, 1))
    } else if s < 3570.0 {
        format!("{} min", grouped(s / 60.0, 0))
    } else {
        let minutes = (s / 60.0).round() as u64;
        format!("{} h {:02} min", grouped_int(minutes / 60), minutes % 60)
    };
    format!("{sign}{body}")
}

/// An amount in its currency, whole units with separators: "14,475 EUR"; "–" when not finite.
pub fn money(amount: f64, currency: &str) -> String {
    if !amount.is_finite() {
        return "–".into();
    }
    with_unit(Quantity::Money.value(amount), currency)
}

/// A fraction in percent with one decimal: "87.2 %".
pub fn percent(x: f64) -> String {
    Quantity::Share.value(x)
}

/// A count: an integer with thousands separators ("24,496").
pub fn count(n: u64) -> String {
    grouped_int(n)
}

/// A mean of counts: whole ones as integers, others with one decimal ("2.5").
fn count_mean(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 || x.abs() >= 100.0 {
        grouped(x, 0)
    } else {
        grouped(x, 1)
    }
}

fn grouped_int(n: u64) -> String {
    let mut out = String::new();
    push_separated(&mut out, &n.to_string());
    out
}

/// Whole digits with a comma between each group of three: "24,496".
fn push_separated(out: &mut String, digits: &str) {
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
}

/// A number with `decimals` decimals and thousands separators: "3,056.2", "−0.4". It is rounded
/// as written in its shortest form, half away from zero (2.25 reads "2.3" and 0.15 "0.2" at one
/// decimal, as a person rounds the figure they see, and as the screens' `Intl.NumberFormat`
/// does), not as its binary value (Rust's own formatting rounds the tie 2.25 to even, "2.2", and
/// 0.15, stored a little below, down to "0.1").
pub fn grouped(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let (whole, fraction) = rounded(x.abs(), decimals);
    let negative = x < 0.0 && (whole != "0" || fraction.bytes().any(|c| c != b'0'));
    let mut out = String::with_capacity(whole.len() + whole.len() / 3 + decimals + 4);
    if negative {
        out.push(MINUS);
    }
    push_separated(&mut out, &whole);
    if decimals > 0 {
        out.push('.');
        out.push_str(&fraction);
    }
    out
}

/// The whole digits and `decimals` fraction digits of `x` (finite, not negative), rounded half up
/// on its shortest decimal form (Rust writes floats in it without an exponent).
fn rounded(x: f64, decimals: usize) -> (String, String) {
    let shortest = format!("{x}");
    let (whole, fraction) = shortest.split_once('.').unwrap_or((&shortest, ""));
    let mut digits: Vec<u8> = whole.bytes().collect();
    let kept = fraction.len().min(decimals);
    digits.extend_from_slice(&fraction.as_bytes()[..kept]);
    digits.resize(whole.len() + decimals, b'0');
    if fraction
        .as_bytes()
        .get(decimals)
        .is_some_and(|&d| d >= b'5')
    {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let split = digits.len() - decimals;
    let text = String::from_utf8(digits).expect("ASCII digits");
    (text[..split].to_string(), text[split..].to_string())
}

/// A relative change with its half-width, in percent of the base: "+2.1 % ± 0.4 %"; none where
/// the base is 0 (or absent), where a relative change means nothing.
pub fn relative_change(base: Option<f64>, d: f64, ci95: Option<f64>) -> Option<String> {
    let base = base.filter(|b| b.is_finite() && b.abs() > 1e-12)?;
    if !d.is_finite() {
        return None;
    }
    let r = 100.0 * d / base.abs();
    let half = ci95
        .filter(|h| h.is_finite() && *h > 0.0)
        .map(|h| format!(" ± {} %", grouped(100.0 * h / base.abs(), 1)))
        .unwrap_or_default();
    Some(format!("{} %{half}", signed(r, grouped(r.abs(), 1))))
}

/// A number with `digits` significant digits, never in scientific notation: "0.000121", "0.0145",
/// "12.3", "1,234".
pub fn significant(x: f64, digits: u32) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (digits as i32 - 1 - magnitude).clamp(0, 12) as usize;
    grouped(x, decimals)
}

/// Round ticks for an axis from `low` to `high`: multiples of 1, 2 or 5 times a power of ten, at
/// most `most` of them (at least two), covering the range.
pub fn round_ticks(low: f64, high: f64, most: usize) -> Vec<f64> {
    let (low, high) = if high > low {
        (low, high)
    } else {
        (
            low - 0.5_f64.max(low.abs() * 0.05),
            high + 0.5_f64.max(high.abs() * 0.05),
        )
    };
    let most = most.max(2);
    let raw = (high - low) / (most - 1) as f64;
    let power = 10_f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
        .iter()
        .map(|m| m * power)
        .find(|step| (((high / step).ceil() - (low / step).floor()) as usize) < most)
        .unwrap_or(100.0 * power);
    ticks_with_step(low, high, step)
}

/// Round ticks for a duration axis (seconds): steps of whole seconds, minutes, hours or days.
pub fn duration_ticks(low: f64, high: f64, most: usize) -> Vec<f64> {
    const STEPS: [f64; 21] = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
        10800.0, 14400.0, 21600.0, 43200.0, 86400.0, 172_800.0, 604_800.0,
    ];
    let most = most.max(2);
    if high - low < 2.0 || high <= low {
        return round_ticks(low, high, most);
    }
    let step = STEPS
        .iter()
        .copied()
        .find(|step| (((high / step).ceil() - (low / step).floor()) as usize) < most)
        .unwrap_or_else(|| {
            let days = (high - low) / 86_400.0 / (most - 1) as f64;
            round_ticks(0.0, days * (most - 1) as f64, most)[1] * 86_400.0
        });
    ticks_with_step(low, high, step)
}

fn ticks_with_step(low: f64, high: f64, step: f64) -> Vec<f64> {
    let first = (low / step).floor() as i64;
    let last = (high / step).ceil() as i64;
    // 0.30000000000000004 reads as 0.3: round to the step's own decimals.
    let scale = 10_f64.powi((1 - step.log10().floor() as i32).max(0));
    (first..=last)
        .map(|k| (k as f64 * step * scale).round() / scale)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(
            round_ticks(2521.8, 3362.4, 6),
            vec![2400.0, 2600.0, 2800.0, 3000.0, 3200.0, 3400.0]
        );
        assert_eq!(round_ticks(0.0, 1.0, 6), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(round_ticks(-0.013, 0.021, 5), vec![-0.02, 0.0, 0.02, 0.04]);
        let hours = duration_ticks(0.0, 1_368_500.0, 8);
        assert!(hours.len() <= 8 && hours.len() >= 2);
        assert!(hours.iter().all(|t| t % 86_400.0 == 0.0), "{hours:?}");
        assert_eq!(
            duration_ticks(0.0, 8.0 * 3600.0, 9),
            (0..=8).map(|h| h as f64 * 3600.0).collect::<Vec<_>>()
        );
        for (low, high) in [(3.0, 3.0), (-1e-9, 1e-9), (0.0, 1e-12)] {
            let t = round_ticks(low, high, 5);
            assert!(
                t.len() >= 2 && t[0] <= low && *t.last().unwrap() >= high,
                "{t:?}"
            );
        }
    }
}
