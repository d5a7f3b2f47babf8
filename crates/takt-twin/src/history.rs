//! What each asset did over the last shifts, for a state timeline and a Pareto of stops: time per
//! state in one-minute buckets, and per shift the time and the number of episodes of each
//! (state, reason) — a failure mode for `UNPLANNED_DOWN`, a stop reason otherwise.
//!
//! Memory is bounded whatever the events: at most two days of buckets (36 bytes a minute), at most
//! 64 distinct reasons per shift (more go to `(other reasons)`), and the shifts before the one
//! before the newest are dropped. A state's time is booked when the state ends; the events still
//! held for reordering and the open state up to now are added when a timeline is read.

use crate::event::StateCode;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use takt_model::ShiftClock;

/// The timeline's resolution.
pub const BUCKET_MS: i64 = 60_000;
const MAX_BUCKETS: usize = 2 * 24 * 60;
const MAX_REASONS: usize = 64;
const OTHER_REASONS: &str = "(other reasons)";

/// Time in one (state, reason) within a shift, and how many times it began there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopTotal {
    pub ms: i64,
    pub episodes: u32,
    /// Of `ms`, the time of episodes that began before the shift (carried over into it).
    pub carried_ms: i64,
}

impl StopTotal {
    /// The mean time in the shift of the episodes that began in it; `None` when none began.
    pub fn mean_ms(&self) -> Option<f64> {
        (self.episodes > 0).then(|| (self.ms - self.carried_ms) as f64 / f64::from(self.episodes))
    }
}

impl std::ops::AddAssign for StopTotal {
    fn add_assign(&mut self, other: StopTotal) {
        self.ms += other.ms;
        self.episodes += other.episodes;
        self.carried_ms += other.carried_ms;
    }
}

/// One asset's history over a window, as [`crate::mirror::Mirror::history_in`] reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowHistory {
    pub asset: String,
    /// Milliseconds per state (by `StateCode::index`) in each minute from the window's start.
    pub minutes: Vec<[u32; 9]>,
    /// Time and episodes per (state, reason) in the window.
    pub stops: BTreeMap<(StateCode, String), StopTotal>,
}

/// One asset's recent history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AssetHistory {
    /// The minute (Unix ms / 60,000) of `buckets[0]`.
    first_minute: i64,
    /// Milliseconds per state (by `StateCode::index`) in each minute.
    buckets: VecDeque<[u32; 9]>,
    /// Per shift (by its start, Unix ms): time and episodes per (state, reason).
    stops: BTreeMap<i64, BTreeMap<(StateCode, String), StopTotal>>,
}

impl AssetHistory {
    /// Books `state` with `reason` over `[from_ms, to_ms)`: one episode, in the shift it began in.
    pub fn book(
        &mut self,
        clock: &ShiftClock,
        state: StateCode,
        reason: &str,
        from_ms: i64,
        to_ms: i64,
    ) {
        if to_ms <= from_ms {
            return;
        }
        self.book_buckets(state, from_ms, to_ms);
        // The parts of the span inside shifts (the gaps between shifts count in no shift), from
        // the shift before the one it ends in: older ones are not kept.
        let last = clock.at(to_ms - 1);
        let kept_from = clock.at(last.start_ms - 1).start_ms;
        let mut t = from_ms.max(kept_from);
        let mut first = t == from_ms;
        for _ in 0..64 {
            let w = clock.at(t);
            let start = t.max(w.start_ms);
            let end = to_ms.min(w.end_ms);
            if end > start {
                let shift = self.stops.entry(w.start_ms).or_default();
                let key = if shift.len() >= MAX_REASONS
                    && !shift.contains_key(&(state, reason.to_string()))
                {
                    (state, OTHER_REASONS.to_string())
                } else {
                    (state, reason.to_string())
                };
                let total = shift.entry(key).or_default();
                total.ms += end - start;
                if first {
                    total.episodes += 1;
                } else {
                    total.carried_ms += end - start;
                }
                first = false;
            }
            if w.next_start_ms >= to_ms || w.next_start_ms <= t {
                break;
            }
            t = w.next_start_ms;
        }
        // Keep the newest shift and the one before.
        while self.stops.len() > 2 {
            self.stops.pop_first();
        }
    }

    fn book_buckets(&mut self, state: StateCode, from_ms: i64, to_ms: i64) {
        let last_minute = (to_ms - 1).div_euclid(BUCKET_MS);
        if self.buckets.is_empty() {
            self.first_minute = from_ms.div_euclid(BUCKET_MS);
        }
        // Drop what is older than two days before the span's end.
        let oldest = last_minute - MAX_BUCKETS as i64 + 1;
        while self.first_minute < oldest && !self.buckets.is_empty() {
            self.buckets.pop_front();
            self.first_minute += 1;
        }
        if self.buckets.is_empty() {
            self.first_minute = self.first_minute.max(oldest);
        }
        let mut t = from_ms.max(self.first_minute * BUCKET_MS);
        while t < to_ms {
            let minute = t.div_euclid(BUCKET_MS);
            let end = to_ms.min((minute + 1) * BUCKET_MS);
            let Ok(i) = usize::try_from(minute - self.first_minute) else {
                break;
            };
            while self.buckets.len() <= i {
                self.buckets.push_back([0; 9]);
            }
            if let Some(b) = self.buckets.get_mut(i) {
                b[state.index()] = b[state.index()].saturating_add((end - t) as u32);
            }
            t = end;
        }
    }

    /// Milliseconds per state in each minute of `[start_ms, end_ms)`, from the first minute.
    pub fn minutes(&self, start_ms: i64, end_ms: i64) -> Vec<[u32; 9]> {
        let first = start_ms.div_euclid(BUCKET_MS);
        let last = (end_ms - 1).div_euclid(BUCKET_MS);
        (first..=last)
            .map(|m| {
                usize::try_from(m - self.first_minute)
                    .ok()
                    .and_then(|i| self.buckets.get(i).copied())
                    .unwrap_or([0; 9])
            })
            .collect()
    }

    /// Time and episodes per (state, reason) in the shift that starts at `shift_start_ms`.
    pub fn stops(&self, shift_start_ms: i64) -> BTreeMap<(StateCode, String), StopTotal> {
        self.stops.get(&shift_start_ms).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> ShiftClock {
        // Periods of 8 h from 0.
        ShiftClock::periods(0, 8 * 3_600_000)
    }

    #[test]
    fn spans_go_into_their_minutes_and_their_shifts() {
        let mut h = AssetHistory::default();
        let c = clock();
        h.book(&c, StateCode::Running, "production", 30_000, 150_000);
        h.book(&c, StateCode::UnplannedDown, "jam", 150_000, 200_000);
        let m = h.minutes(0, 240_000);
        assert_eq!(m.len(), 4);
        assert_eq!(m[0][StateCode::Running.index()], 30_000);
        assert_eq!(m[1][StateCode::Running.index()], 60_000);
        assert_eq!(m[2][StateCode::Running.index()], 30_000);
        assert_eq!(m[2][StateCode::UnplannedDown.index()], 30_000);
        assert_eq!(m[3][StateCode::UnplannedDown.index()], 20_000);
        let stops = h.stops(0);
        assert_eq!(
            stops[&(StateCode::UnplannedDown, "jam".to_string())],
            StopTotal {
                ms: 50_000,
                episodes: 1,
                carried_ms: 0
            }
        );
        // A span across the shift change: its time in both, one episode, in the first.
        let change = 8 * 3_600_000;
        h.book(
            &c,
            StateCode::Setup,
            "cola",
            change - 10_000,
            change + 5_000,
        );
        let key = (StateCode::Setup, "cola".to_string());
        assert_eq!(
            h.stops(0)[&key],
            StopTotal {
                ms: 10_000,
                episodes: 1,
                carried_ms: 0
            }
        );
        assert_eq!(
            h.stops(change)[&key],
            StopTotal {
                ms: 5_000,
                episodes: 0,
                carried_ms: 5_000
            }
        );
        // The mean of the episodes begun in a shift leaves out the time carried into it.
        h.book(
            &c,
            StateCode::Setup,
            "cola",
            change + 60_000,
            change + 61_000,
        );
        assert_eq!(h.stops(change)[&key].mean_ms(), Some(1_000.0));
        assert_eq!(h.stops(0)[&key].mean_ms(), Some(10_000.0));
    }

    #[test]
    fn memory_stays_bounded() {
        let mut h = AssetHistory::default();
        let c = clock();
        for i in 0..200 {
            h.book(
                &c,
                StateCode::Starved,
                &format!("reason {i}"),
                i * 1000,
                i * 1000 + 500,
            );
        }
        let stops = h.stops(0);
        assert_eq!(stops.len(), MAX_REASONS + 1);
        assert!(stops.contains_key(&(StateCode::Starved, OTHER_REASONS.to_string())));
        // Ten days of running: two days of minutes, two shifts of stops.
        let day = 24 * 3_600_000;
        h.book(&c, StateCode::Running, "", 0, 10 * day);
        assert!(h.buckets.len() <= MAX_BUCKETS);
        assert!(h.stops.len() <= 2);
        assert_eq!(h.minutes(10 * day - BUCKET_MS, 10 * day)[0][0], 60_000);
    }
}
