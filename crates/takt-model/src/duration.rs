//! Durations as planners write them: `"45s"`, `"2.5m"`, `"8h"`, `"3d"`, `"1w"`, `"250ms"`, or a bare
//! number of seconds. Internally every duration is `f64` seconds, carried in [`Secs`] so that a unit
//! is never guessed.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A duration that cannot be read (the text says why, with the offending value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(pub String);

/// A non-negative duration in seconds.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Secs(pub f64);

impl Secs {
    pub fn as_secs(self) -> f64 {
        self.0
    }
}

/// Parses `"2.5m"`-style text, or a sum such as `"1h30m"`, into seconds. Negative values are rejected:
/// no duration in a plant model can be negative, and saying so here names the offending field through
/// the deserializer's path.
pub fn parse_duration(text: &str) -> Result<f64, DurationError> {
    parse_duration_message(text).map_err(DurationError)
}

fn parse_duration_message(text: &str) -> Result<f64, String> {
    let bad = || {
        format!(
            "`{text}` is not a duration: expected a number followed by ms, s, m, h, d or w (e.g. \"45s\", \"2.5m\", \"1h30m\")"
        )
    };
    let t = text.trim();
    let mut rest = t;
    let mut total = 0.0;
    let mut groups = 0;
    while !rest.is_empty() {
        // A number (no unit starts with `e`, so an exponent is safe to take), then a unit.
        let number_len = rest
            .char_indices()
            .find(|&(i, c)| {
                !(c.is_ascii_digit()
                    || c == '.'
                    || c == 'e'
                    || c == 'E'
                    || ((c == '-' || c == '+')
                        && ((i == 0 && groups == 0) || rest[..i].ends_with(['e', 'E']))))
            })
            .map_or(rest.len(), |(i, _)| i);
        let (number, after) = rest.split_at(number_len);
        let value: f64 = number.trim().parse().map_err(|_| bad())?;
        let after = after.trim_start();
        let unit_len = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let factor = match unit {
            "" if groups == 0 && after.trim().is_empty() => 1.0,
            "s" | "sec" | "secs" => 1.0,
            "ms" => 0.001,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "w" => 604_800.0,
            "" => return Err(bad()),
            other => {
                return Err(format!(
                    "unknown time unit `{other}` in `{text}`: use ms, s, m, h, d or w"
                ));
            }
        };
        total += value * factor;
        groups += 1;
        rest = after.trim_start();
    }
    if groups == 0 {
        return Err(bad());
    }
    check_seconds(total).map_err(|m| format!("`{text}`: {m}"))
}

fn check_seconds(v: f64) -> Result<f64, String> {
    if !v.is_finite() {
        Err("duration must be finite".into())
    } else if v < 0.0 {
        Err(format!("negative duration ({v} s): durations must be >= 0"))
    } else if v > crate::limits::MAX_DURATION_S {
        Err(format!(
            "{v:e} s is longer than the longest duration takt accepts, 1,000 years ({} s)",
            crate::limits::MAX_DURATION_S
        ))
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

/// In a scenario file a duration is seconds as a number, or a string with units ("45s", "1h30m").
impl schemars::JsonSchema for Secs {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A duration: seconds as a number, or a string of numbers with units ms, s, m, h, d, w (\"45s\", \"2.5m\", \"1h30m\", \"3d\").",
            "anyOf": [
                { "type": "number", "minimum": 0 },
                { "type": "string", "pattern": "^\\s*([0-9.eE+-]+\\s*(ms|s|m|h|d|w)\\s*)+$" }
            ]
        })
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
        assert_eq!(parse_duration("1h30m"), Ok(5400.0));
        assert_eq!(parse_duration("2d 4h"), Ok(187_200.0));
        assert_eq!(parse_duration("1.5e3s"), Ok(1500.0));
    }

    #[test]
    fn rejects_bad_text() {
        assert!(parse_duration("-5s").unwrap_err().0.contains("negative"));
        assert!(
            parse_duration("5 parsecs")
                .unwrap_err()
                .0
                .contains("unknown time unit")
        );
        assert!(
            parse_duration("fast")
                .unwrap_err()
                .0
                .contains("not a duration")
        );
        assert!(parse_duration("inf").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("1h30").is_err());
        assert!(parse_duration("1h-30m").is_err());
    }

    #[test]
    fn durations_have_a_maximum() {
        for text in ["1e308", "99999999999999999999999w", "365250.01d", "1e300s"] {
            assert!(parse_duration(text).is_err(), "{text}");
        }
        assert!(
            parse_duration("1e308")
                .unwrap_err()
                .0
                .contains("longer than the longest duration")
        );
        assert_eq!(parse_duration("365250d"), Ok(crate::limits::MAX_DURATION_S));
        let seconds: Result<Secs, _> = toml::from_str::<toml::Table>("x = 1e308")
            .unwrap()
            .remove("x")
            .unwrap()
            .try_into();
        assert!(seconds.is_err());
    }
}
