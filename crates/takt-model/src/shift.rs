//! Which shift runs at a given moment: the clock the live twin counts its KPIs by ("OEE of the
//! running shift") and forecasts to the end of. All in Unix milliseconds, integer arithmetic, so a
//! boundary is the same instant however it is reached.
//!
//! With a calendar, the shifts are its weekly pattern in the plant's local time (breaks do not end
//! a shift). Without one, the scenario's horizon is the period: back-to-back windows of that length
//! from the scenario's start. The running shift at `t` is the one that started last at or before
//! `t`: between shifts (a night, a weekend) it is the one that ended last, so its figures stay in
//! view until the next one starts; where shifts overlap, the later start takes over.

use crate::model::{Model, WeeklyShift};
use serde::{Deserialize, Serialize};

const WEEK_MS: i64 = 604_800_000;

/// One occurrence of a shift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftWindow {
    /// The calendar's name for the shift, if it has one.
    pub name: Option<String>,
    /// Unix ms.
    pub start_ms: i64,
    pub end_ms: i64,
    /// When the next shift starts (>= `end_ms`): from then on another window runs.
    pub next_start_ms: i64,
}

impl ShiftWindow {
    /// Whether `t_ms` lies inside the shift, its end included: a figure "at the end of the shift"
    /// belongs to the shift.
    pub fn contains(&self, t_ms: i64) -> bool {
        self.start_ms <= t_ms && t_ms <= self.end_ms
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ShiftClock {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// `origin_ms` is a local Monday 00:00; shifts as (start from it, length, name), sorted by
    /// start, one per start, starts in `[0, WEEK_MS)`.
    Weekly {
        origin_ms: i64,
        shifts: Vec<(i64, i64, Option<String>)>,
    },
    /// Back-to-back periods of `length_ms` from `origin_ms`.
    Periods { origin_ms: i64, length_ms: i64 },
}

impl ShiftClock {
    /// Periods of `length_ms` from `origin_ms`, unnamed. The length is held between 1 ms and
    /// some 35,000 years, so that no moment's arithmetic overflows.
    pub fn periods(origin_ms: i64, length_ms: i64) -> ShiftClock {
        ShiftClock {
            kind: Kind::Periods {
                origin_ms,
                length_ms: length_ms.clamp(1, 1 << 50),
            },
        }
    }

    /// A weekly pattern; `monday_ms` is the Unix ms of a local Monday 00:00. Two shifts starting at
    /// the same moment of the week are one (the first listed). An empty pattern is one endless shift
    /// from `monday_ms`, which no caller should want: use [`ShiftClock::periods`].
    pub fn weekly(monday_ms: i64, shifts: &[WeeklyShift]) -> ShiftClock {
        let mut list: Vec<(i64, i64, Option<String>)> = shifts
            .iter()
            .map(|s| {
                let start = ((s.start_s * 1000.0).round() as i64).rem_euclid(WEEK_MS);
                (
                    start,
                    ((s.length_s * 1000.0).round() as i64).max(1),
                    s.name.clone(),
                )
            })
            .collect();
        list.sort_by_key(|s| s.0);
        list.dedup_by_key(|s| s.0);
        if list.is_empty() {
            return ShiftClock::periods(monday_ms, i64::MAX);
        }
        ShiftClock {
            kind: Kind::Weekly {
                origin_ms: monday_ms,
                shifts: list,
            },
        }
    }

    /// The shift running at `t_ms` (see the module docs).
    pub fn at(&self, t_ms: i64) -> ShiftWindow {
        match &self.kind {
            Kind::Periods {
                origin_ms,
                length_ms,
            } => {
                let k = (t_ms - origin_ms).div_euclid(*length_ms);
                let start_ms = origin_ms + k * length_ms;
                ShiftWindow {
                    name: None,
                    start_ms,
                    end_ms: start_ms + length_ms,
                    next_start_ms: start_ms + length_ms,
                }
            }
            Kind::Weekly { origin_ms, shifts } => {
                let rel = t_ms - origin_ms;
                let mut week = rel.div_euclid(WEEK_MS);
                let in_week = rel.rem_euclid(WEEK_MS);
                // The last shift started at or before `in_week`, else last week's last one.
                let i = match shifts.partition_point(|s| s.0 <= in_week) {
                    0 => {
                        week -= 1;
                        shifts.len() - 1
                    }
                    n => n - 1,
                };
                let (start, length, name) = &shifts[i];
                let start_ms = origin_ms + week * WEEK_MS + start;
                let next_start_ms = match shifts.get(i + 1) {
                    Some(next) => origin_ms + week * WEEK_MS + next.0,
                    None => origin_ms + (week + 1) * WEEK_MS + shifts[0].0,
                };
                ShiftWindow {
                    name: name.clone(),
                    start_ms,
                    end_ms: start_ms + length,
                    next_start_ms,
                }
            }
        }
    }

    /// The shift to show at `now_ms` when the figures so far were counted in `current`: `current`
    /// until the next shift starts, and also at the very end of `current` when the next one starts
    /// right then (a view at 14:00 shows the shift that ended at 14:00, not one 0 s old). Events
    /// roll on at the next start itself; a view rolls only past the end.
    pub fn shown_at(&self, current: &ShiftWindow, now_ms: i64) -> Option<ShiftWindow> {
        (now_ms >= current.next_start_ms && now_ms > current.end_ms).then(|| self.at(now_ms))
    }
}

impl Model {
    /// The model's shift clock: its calendar's shifts, or periods of its horizon from its start.
    pub fn shift_clock(&self) -> ShiftClock {
        let start_ms = self.timebase.start_ms();
        if self.shifts.is_empty() {
            ShiftClock::periods(start_ms, (self.horizon_s * 1000.0).round() as i64)
        } else {
            let monday_ms = start_ms - (self.timebase.week_phase_s * 1000.0).round() as i64;
            ShiftClock::weekly(monday_ms, &self.shifts)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;
    /// Monday 2026-01-05 00:00 UTC.
    const MONDAY: i64 = 1_767_571_200_000;

    fn shift(name: &str, day: u32, start_h: f64, length_h: f64) -> WeeklyShift {
        WeeklyShift {
            name: Some(name.into()),
            start_s: f64::from(day) * 86_400.0 + start_h * 3600.0,
            length_s: length_h * 3600.0,
        }
    }

    #[test]
    fn the_running_shift_is_the_last_started() {
        // Mon-Fri early 06-14 and late 14-22; a Sunday night shift 22-06 into Monday.
        let mut shifts = Vec::new();
        for d in 0..5 {
            shifts.push(shift("early", d, 6.0, 8.0));
            shifts.push(shift("late", d, 14.0, 8.0));
        }
        shifts.push(shift("night", 6, 22.0, 8.0));
        let clock = ShiftClock::weekly(MONDAY, &shifts);
        let at = |t: i64| clock.at(t);
        let early = at(MONDAY + 7 * H);
        assert_eq!(early.name.as_deref(), Some("early"));
        assert_eq!(
            (early.start_ms, early.end_ms, early.next_start_ms),
            (MONDAY + 6 * H, MONDAY + 14 * H, MONDAY + 14 * H)
        );
        // A shift starts at its start instant.
        assert_eq!(at(MONDAY + 14 * H).name.as_deref(), Some("late"));
        assert_eq!(at(MONDAY + 14 * H - 1).name.as_deref(), Some("early"));
        // Between shifts: the one that ended last, until the next starts.
        let evening = at(MONDAY + 23 * H);
        assert_eq!(evening.name.as_deref(), Some("late"));
        assert_eq!(evening.end_ms, MONDAY + 22 * H);
        assert_eq!(evening.next_start_ms, MONDAY + 30 * H);
        // Monday 03:00 is in last week's Sunday night shift; the weekend shows Friday's late.
        let night = at(MONDAY + 3 * H);
        assert_eq!(night.name.as_deref(), Some("night"));
        assert_eq!(night.start_ms, MONDAY - 2 * H);
        assert_eq!(night.next_start_ms, MONDAY + 6 * H);
        let saturday = at(MONDAY + 5 * 24 * H + 12 * H);
        assert_eq!(saturday.name.as_deref(), Some("late"));
        assert_eq!(saturday.start_ms, MONDAY + 4 * 24 * H + 14 * H);
        assert_eq!(saturday.next_start_ms, MONDAY + 6 * 24 * H + 22 * H);
        // Weeks later, and before the origin, the same pattern.
        let later = at(MONDAY + 52 * 7 * 24 * H + 15 * H);
        assert_eq!(later.start_ms, MONDAY + 52 * 7 * 24 * H + 14 * H);
        let before = at(MONDAY - 7 * 24 * H + 7 * H);
        assert_eq!(before.start_ms, MONDAY - 7 * 24 * H + 6 * H);
    }

    #[test]
    fn a_view_at_the_end_of_a_shift_shows_that_shift() {
        let clock = ShiftClock::weekly(
            MONDAY,
            &[shift("early", 0, 6.0, 8.0), shift("late", 0, 14.0, 8.0)],
        );
        let early = clock.at(MONDAY + 13 * H);
        assert_eq!(clock.shown_at(&early, MONDAY + 14 * H), None);
        assert_eq!(
            clock
                .shown_at(&early, MONDAY + 14 * H + 1)
                .map(|w| w.start_ms),
            Some(MONDAY + 14 * H)
        );
        // After the late shift the next start is a week on: the late shift stays in view.
        let late = clock.at(MONDAY + 15 * H);
        assert_eq!(clock.shown_at(&late, MONDAY + 30 * H), None);
        assert!(late.contains(late.end_ms) && !late.contains(late.end_ms + 1));
    }

    #[test]
    fn without_a_calendar_the_horizon_is_the_period() {
        let clock = ShiftClock::periods(MONDAY, 8 * H);
        let w = clock.at(MONDAY + 9 * H);
        assert_eq!((w.start_ms, w.end_ms), (MONDAY + 8 * H, MONDAY + 16 * H));
        assert_eq!(clock.at(MONDAY - 1).start_ms, MONDAY - 8 * H);
        assert_eq!(w.name, None);
        // A horizon of any length: no overflow at either end of the time stamps an event can have.
        let endless = ShiftClock::periods(MONDAY, i64::MAX);
        for t in [-62_135_596_800_000, MONDAY, 253_402_300_799_999] {
            let w = endless.at(t);
            assert!(w.start_ms <= t && t < w.end_ms);
        }
    }
}
