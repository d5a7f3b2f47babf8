//! Plant time, in one place. takt has three clocks and this module converts between them:
//!
//! - **model seconds** (`f64`, `_s`): the simulator's clock, 0 at the scenario's `[run] start`;
//! - **Unix milliseconds** (`i64`, `_ms`): events, the store, the twin;
//! - **RFC 3339** text: what people and other systems read and write, in the plant's UTC offset.
//!
//! One parser ([`parse_rfc3339_ms`]) and one formatter ([`format_ms`]) for RFC 3339; the
//! [`Timebase`] of a model ties model seconds to Unix time and the plant's offset. Local times
//! without an offset (plant logs kept as tables) are read by [`parse_local_ms`] with the offset the
//! caller knows.

use crate::model::Timebase;

/// A time that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimeError(pub String);

/// How finely a time is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// `2026-01-05T06:00:00.000+01:00`.
    Millis,
    /// `2026-01-05T06:00:00+01:00`.
    Seconds,
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Unix milliseconds of an RFC 3339 time stamp with an offset.
pub fn parse_rfc3339_ms(ts: &str) -> Result<i64, TimeError> {
    parse_rfc3339_ms_message(ts).map_err(TimeError)
}

fn parse_rfc3339_ms_message(ts: &str) -> Result<i64, String> {
    if let Some(ms) = common_rfc3339_ms(ts) {
        return Ok(ms);
    }
    chrono::DateTime::parse_from_rfc3339(ts)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("`{ts}` is not an RFC 3339 time with an offset ({e})"))
}

/// The common form of an RFC 3339 time stamp, `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)` from 1970 on,
/// read without chrono: it is most of the cost of checking an event, and every event has one. Any
/// other form, a leap second or an invalid date gives `None`, and chrono decides (and words the
/// error), so the result is always chrono's.
fn common_rfc3339_ms(ts: &str) -> Option<i64> {
    let b = ts.as_bytes();
    let digits = |from: usize, n: usize| -> Option<i64> {
        let mut v = 0i64;
        for &c in b.get(from..from + n)? {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(at(4, b'-') && at(7, b'-') && at(10, b'T') && at(13, b':') && at(16, b':')) {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if year < 1970 || day < 1 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if at(i, b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        match i - start {
            0 | 10.. => return None,
            1 => millis *= 100,
            2 => millis *= 10,
            _ => {}
        }
    }
    let offset_s = match b.get(i)? {
        b'Z' if i + 1 == b.len() => 0,
        &sign @ (b'+' | b'-') if i + 6 == b.len() && at(i + 3, b':') => {
            let (h, m) = (digits(i + 1, 2)?, digits(i + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let s = h * 3600 + m * 60;
            if sign == b'+' { s } else { -s }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month as u32, day as u32);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    Some(seconds * 1000 + millis)
}

/// RFC 3339 of Unix milliseconds in UTC (`…Z`), to the millisecond: the form of event time stamps
/// takt writes itself.
pub fn format_utc_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
}

/// RFC 3339 of Unix milliseconds at `offset_min` east of UTC (always `±hh:mm`, `+00:00` for UTC):
/// takt's one formatter of plant times.
pub fn format_ms(ms: i64, offset_min: i32, precision: Precision) -> String {
    let offset = chrono::FixedOffset::east_opt(offset_min.saturating_mul(60));
    let precision = match precision {
        Precision::Millis => chrono::SecondsFormat::Millis,
        Precision::Seconds => chrono::SecondsFormat::Secs,
    };
    match (chrono::DateTime::from_timestamp_millis(ms), offset) {
        (Some(t), Some(o)) => t.with_timezone(&o).to_rfc3339_opts(precision, false),
        _ => format_utc_ms(ms),
    }
}

/// Unix milliseconds of a local time without an offset (several common layouts of plant logs:
/// `2015-01-01 06:00:00[.fff]`, `2015/01/01 06:00:00`, `01/01/2015 06:00:00 AM`) at `utc_offset_min`.
pub fn parse_local_ms(text: &str, utc_offset_min: i32) -> Option<i64> {
    let text = text.trim().trim_matches('"');
    let formats = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y/%m/%d %H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S",
        "%m/%d/%Y %I:%M:%S %p",
    ];
    formats.iter().find_map(|f| {
        chrono::NaiveDateTime::parse_from_str(text, f)
            .ok()
            .map(|t| t.and_utc().timestamp_millis() - i64::from(utc_offset_min) * 60_000)
    })
}

/// A moment written as an RFC 3339 time or as a duration after `now_ms` (`8h`, `30min`), as a
/// forecast's `until` is: Unix milliseconds.
pub fn parse_moment_after(text: &str, now_ms: i64) -> Result<i64, TimeError> {
    parse_moment_after_message(text, now_ms).map_err(TimeError)
}

fn parse_moment_after_message(text: &str, now_ms: i64) -> Result<i64, String> {
    if let Ok(ms) = parse_rfc3339_ms(text) {
        return Ok(ms);
    }
    let d = crate::duration::parse_duration(text)
        .map_err(|e| format!("`{text}` is neither an RFC 3339 time nor a duration ({e})"))?;
    Ok(now_ms.saturating_add((d * 1000.0).round() as i64))
}

impl Timebase {
    /// Unix milliseconds of the model's t = 0.
    pub fn start_ms(&self) -> i64 {
        self.start_unix_s.saturating_mul(1000)
    }

    /// Unix milliseconds of model time `t_s` (rounded to the millisecond).
    pub fn unix_ms(&self, t_s: f64) -> i64 {
        self.start_ms()
            .saturating_add((t_s * 1000.0).round() as i64)
    }

    /// Model seconds of Unix milliseconds `ms`.
    pub fn model_s(&self, ms: i64) -> f64 {
        ms.saturating_sub(self.start_ms()) as f64 / 1000.0
    }

    /// RFC 3339, in the plant's offset to the millisecond, of model time `t_s`.
    pub fn rfc3339(&self, t_s: f64) -> String {
        self.format_ms(self.unix_ms(t_s))
    }

    /// RFC 3339, in the plant's offset to the millisecond, of Unix milliseconds `ms`.
    pub fn format_ms(&self, ms: i64) -> String {
        format_ms(ms, self.utc_offset_min, Precision::Millis)
    }

    /// Model time `t_s` as people read it, in plant time to the minute: "2026-01-05 10:38" (ISO
    /// 8601's date and time; the offset is named once beside, [`Timebase::offset_text`]).
    pub fn plant_minute(&self, t_s: f64) -> String {
        let t = format_ms(self.unix_ms(t_s), self.utc_offset_min, Precision::Seconds);
        match (t.get(..10), t.get(11..16)) {
            (Some(day), Some(clock)) => format!("{day} {clock}"),
            _ => t,
        }
    }

    /// The plant-time clock at t = 0, in seconds past midnight (where a day grid falls).
    pub fn seconds_past_midnight(&self) -> i64 {
        (self.start_unix_s + i64::from(self.utc_offset_min) * 60).rem_euclid(86_400)
    }

    /// The plant's offset from UTC as people read it: "UTC+01:00".
    pub fn offset_text(&self) -> String {
        let m = self.utc_offset_min;
        let sign = if m < 0 { '\u{2212}' } else { '+' };
        format!("UTC{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_both_ways() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 1, 5) * 86_400, 1_767_571_200);
        for days in [-800_000, -1, 0, 59, 60, 11_016, 20_458, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn one_formatter_in_the_plants_offset() {
        let tb = Timebase {
            start_unix_s: 1_767_592_800, // 2026-01-05T06:00:00Z
            utc_offset_min: 60,
            week_phase_s: 0.0,
        };
        assert_eq!(tb.rfc3339(0.0), "2026-01-05T07:00:00.000+01:00");
        assert_eq!(tb.rfc3339(0.0015), "2026-01-05T07:00:00.002+01:00");
        assert_eq!(tb.start_ms(), 1_767_592_800_000);
        assert_eq!(tb.model_s(tb.unix_ms(3600.5)), 3600.5);
        assert_eq!(
            format_ms(0, -330, Precision::Seconds),
            "1969-12-31T18:30:00-05:30"
        );
        assert_eq!(format_utc_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            parse_rfc3339_ms(&tb.rfc3339(1234.567)),
            Ok(tb.unix_ms(1234.567))
        );
    }

    #[test]
    fn local_times_of_plant_logs() {
        assert_eq!(parse_local_ms("1970-01-01 01:00:00", 60), Some(0));
        assert_eq!(parse_local_ms("01/01/1970 01:00:00 AM", 0), Some(3_600_000));
        assert_eq!(parse_local_ms("yesterday", 0), None);
    }

    #[test]
    fn a_moment_is_a_time_or_a_duration_after_now() {
        assert_eq!(parse_moment_after("1970-01-01T00:00:01Z", 5), Ok(1000));
        assert_eq!(parse_moment_after("2h", 5), Ok(5 + 7_200_000));
        assert!(
            parse_moment_after("soon", 0)
                .is_err_and(|e| e.0.contains("neither an RFC 3339 time nor a duration"))
        );
    }

    fn chrono_ms(ts: &str) -> Option<i64> {
        chrono::DateTime::parse_from_rfc3339(ts)
            .ok()
            .map(|t| t.timestamp_millis())
    }

    #[test]
    fn time_stamps_read_as_chrono_reads_them() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let fixed = [
            "2024-02-29T23:59:59.999-12:00",
            "2023-02-29T00:00:00Z",
            "2000-02-29T12:00:00+14:00",
            "1900-02-28T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59.5Z",
            "2026-12-31T23:59:60Z",
            "2026-01-05t06:00:00z",
            "2026-01-05 06:00:00+01:00",
            "2026-01-05T06:00:00.123456789123+01:00",
            "2026-01-05T06:00:00.+01:00",
            "2026-01-05T06:00:00+0100",
            "2026-01-05T06:00:00+24:00",
            "2026-13-05T06:00:00Z",
            "2026-01-05T06:00:00",
            "2026-01-05T06:00:00Z ",
        ];
        let mut cases: Vec<String> = fixed.iter().map(|s| s.to_string()).collect();
        for _ in 0..20_000 {
            let fraction = match rng.random_range(0..4) {
                0 => String::new(),
                1 => format!(".{}", rng.random_range(0..10)),
                2 => format!(".{:03}", rng.random_range(0..1000)),
                _ => format!(".{:09}", rng.random_range(0..1_000_000_000u32)),
            };
            let offset = match rng.random_range(0..3) {
                0 => "Z".to_string(),
                s => format!(
                    "{}{:02}:{:02}",
                    if s == 1 { '+' } else { '-' },
                    rng.random_range(0..24),
                    rng.random_range(0..60)
                ),
            };
            let mut ts = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}{offset}",
                rng.random_range(1960..2200),
                rng.random_range(0..14),
                rng.random_range(0..33),
                rng.random_range(0..25),
                rng.random_range(0..61),
                rng.random_range(0..61),
            );
            // Now and then a character out of place.
            if rng.random_range(0..10) == 0 {
                let i = rng.random_range(0..ts.len());
                ts.replace_range(i..=i, ["x", "9", ":", "-"][rng.random_range(0..4)]);
            }
            cases.push(ts);
        }
        let mut fast = 0;
        for ts in &cases {
            let expected = chrono_ms(ts);
            assert_eq!(parse_rfc3339_ms(ts).ok(), expected, "{ts}");
            if let Some(ms) = common_rfc3339_ms(ts) {
                assert_eq!(Some(ms), expected, "{ts}");
                fast += 1;
            }
        }
        // The common form is the one read without chrono.
        assert!(fast > cases.len() / 3, "{fast} of {}", cases.len());
    }
}
