//! Replaying a recording at its own pace: the rules `takt replay` (a thread) and `takt serve
//! --replay` (an async task) share. A line is due `(its time stamp - the first's) / speed` after
//! the replay began; what has been read is handed to the twin before any wait longer than
//! [`HAND_OVER_BEFORE_WAIT`], so the twin is current while the replay waits. No clock is read
//! here: the caller sleeps.

use std::str::FromStr;
use std::time::Duration;

/// How fast a recording is replayed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// As fast as the twin takes it.
    Max,
    /// This many recorded seconds per real second (`60x`: one recorded minute per second).
    Factor(f64),
}

impl FromStr for Speed {
    type Err = SpeedError;
    fn from_str(text: &str) -> Result<Speed, SpeedError> {
        parse_speed(text).map_err(SpeedError)
    }
}

fn parse_speed(text: &str) -> Result<Speed, String> {
    if text == "max" {
        return Ok(Speed::Max);
    }
    match text.strip_suffix('x').unwrap_or(text).parse::<f64>() {
        Ok(f) if f.is_finite() && f > 0.0 => Ok(Speed::Factor(f)),
        _ => Err(format!("`{text}` is not `max` or a speed-up like `60x`")),
    }
}

/// A replay speed that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpeedError(pub String);

/// Events per batch handed to the twin, unless a wait comes first.
pub const BATCH: usize = 1000;

/// A wait shorter than this does not hand over the batch read so far first.
pub const HAND_OVER_BEFORE_WAIT: Duration = Duration::from_millis(100);

/// When each line of a recording is due.
#[derive(Debug, Clone)]
pub struct Pacer {
    speed: Speed,
    first_ms: Option<i64>,
}

impl Pacer {
    pub fn new(speed: Speed) -> Pacer {
        Pacer {
            speed,
            first_ms: None,
        }
    }

    /// How long after the replay began `line` is due; `None`: at once (as fast as possible, or a
    /// line without a readable time stamp, which the twin then judges).
    pub fn due(&mut self, line: &str) -> Option<Duration> {
        let Speed::Factor(factor) = self.speed else {
            return None;
        };
        let ts = line_ts_ms(line)?;
        let first = *self.first_ms.get_or_insert(ts);
        Some(Duration::from_secs_f64(
            ((ts - first).max(0) as f64 / 1000.0 / factor).min(1e9),
        ))
    }
}

/// The time stamp of an event line without a full parse (pacing only; the twin parses properly).
pub fn line_ts_ms(line: &str) -> Option<i64> {
    let start = line.find("\"ts\":\"")? + 6;
    let end = start + line[start..].find('"')?;
    takt_model::time::parse_rfc3339_ms(&line[start..end]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_fall_due_by_their_own_time_stamps() {
        let line = |s: u32| format!(r#"{{"ts":"2026-01-05T06:00:{s:02}Z","asset":"A"}}"#);
        let mut pacer = Pacer::new("10x".parse().expect("speed"));
        assert_eq!(pacer.due(&line(5)), Some(Duration::ZERO));
        assert_eq!(pacer.due(&line(15)), Some(Duration::from_secs(1)));
        // Out of order: due at once, not before the start.
        assert_eq!(pacer.due(&line(0)), Some(Duration::ZERO));
        assert_eq!(pacer.due("not an event"), None);
        assert_eq!(Pacer::new(Speed::Max).due(&line(15)), None);
        assert!("0x".parse::<Speed>().is_err() && "fast".parse::<Speed>().is_err());
    }
}
