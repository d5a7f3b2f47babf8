//! Durations as planners write them: `"45s"`, `"2.5m"`, `"8h"`, `"3d"`, `"1w"`, `"250ms"`, or a bare
//! number of seconds. Internally every duration is `f64` seconds, carried in [`Secs`] so that a unit
//! is never guessed.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A non-negative duration in seconds.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Secs(pub f64);

impl Secs {
    pub fn as_secs(self) -> f64 {
        self.0
    }
}

/// Parses `"2.5m"`-style text into seconds. Negative values are rejected: no duration in a plant model
/// can be negative, and saying so here names the offending field through the deserializer's path.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let t = text.trim();
    // The unit is the trailing run of letters, so that "1e6" stays a number.
    let split = t.trim_end_matches(|c: char| c.is_ascii_alphabetic()).len();
    let (number, unit) = t.split_at(split);
    let number = number.trim();
    let value: f64 = number.parse().map_err(|_| {
        format!("`{text}` is not a duration: expected a number followed by ms, s, m, h, d or w (e.g. \"45s\", \"2.5m\")")
    })?;
    let factor = match unit.trim() {
        "" | "s" | "sec" | "secs" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        "w" => 604_800.0,
        other => {
            return Err(format!(
                "unknown time unit `{other}` in `{text}`: use ms, s, m, h, d or w"
            ));
        }
    };
    check_seconds(value * factor).map_err(|m| format!("`{text}`: {m}"))
}

fn check_seconds(v: f64) -> Result<f64, String> {
    if !v.is_finite() {
        Err("duration must be finite".into())
    } else if v < 0.0 {
        Err(format!("negative duration ({v} s): durations must be >= 0"))
    } else {
        Ok(v)
    }
}

impl<'de> Deserialize<'de> for Secs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Secs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration: seconds as a number, or a string such as \"45s\", \"2.5m\", \"8h\", \"3d\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Secs, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Secs, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Secs, E> {
                check_seconds(v).map(Secs).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Secs, E> {
                parse_duration(v).map(Secs).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Secs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_duration("45s"), Ok(45.0));
        assert_eq!(parse_duration("2.5m"), Ok(150.0));
        assert_eq!(parse_duration("8h"), Ok(28_800.0));
        assert_eq!(parse_duration("3d"), Ok(259_200.0));
        assert_eq!(parse_duration("1w"), Ok(604_800.0));
        assert_eq!(parse_duration("250ms"), Ok(0.25));
        assert_eq!(parse_duration("1e6"), Ok(1e6));
        assert_eq!(parse_duration(" 12 "), Ok(12.0));
    }

    #[test]
    fn rejects_bad_text() {
        assert!(parse_duration("-5s").unwrap_err().contains("negative"));
        assert!(
            parse_duration("5 parsecs")
                .unwrap_err()
                .contains("unknown time unit")
        );
        assert!(
            parse_duration("fast")
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(parse_duration("inf").is_err());
    }
}
