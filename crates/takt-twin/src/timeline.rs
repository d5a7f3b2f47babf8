//! `GET /twin/timeline`: each machine's states over a shift at one-minute resolution, and the
//! Pareto of its stops by state and reason (a failure mode for `UNPLANNED_DOWN`), from the
//! mirror's [`crate::history`]. Part of the wire format (see [`crate::view`]).

use crate::Twin;
use crate::event::StateCode;
use crate::history::BUCKET_MS;
use crate::view::KpiWindow;
use serde::Serialize;
use std::collections::BTreeMap;

/// A run of minutes in which the same state took the most time.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineSegment {
    pub start_ms: i64,
    pub end_ms: i64,
    /// The state with the most time in each of these minutes.
    pub state: &'static str,
    /// Seconds in every state within the segment (short stops inside a running minute show here).
    pub state_s: BTreeMap<&'static str, f64>,
}

/// What time in a state other than running is to the machine and the shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StopKind {
    /// The machine's own stop: down, setup, a planned stop, idle. Counted as stops.
    Stop,
    /// Waiting on the line: starved of input or blocked from handing on output. Time lost, but
    /// not the machine's stop: a machine faster than its feed waits many short times.
    Wait,
    /// Off shift: time not scheduled, not a loss.
    NotScheduled,
    /// No news from the machine (silent too long): what it did is not known.
    NoNews,
}

impl StopKind {
    /// What time in `state` is; `None` for running (no stop at all).
    pub fn of(state: StateCode) -> Option<StopKind> {
        match state {
            StateCode::Running => None,
            StateCode::Starved | StateCode::Blocked => Some(StopKind::Wait),
            StateCode::Off => Some(StopKind::NotScheduled),
            StateCode::Unknown => Some(StopKind::NoNews),
            StateCode::Idle
            | StateCode::Setup
            | StateCode::PlannedDown
            | StateCode::UnplannedDown => Some(StopKind::Stop),
        }
    }

    /// Whether the time is lost to the shift (a stop or a wait), the time a Pareto shows.
    pub fn is_loss(self) -> bool {
        matches!(self, StopKind::Stop | StopKind::Wait)
    }
}

/// Time in one state with one reason in the window, and how often it began.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StopReason {
    pub state: &'static str,
    pub kind: StopKind,
    /// The reason sent with the state (a failure mode, a stop reason); empty when none was sent.
    pub reason: String,
    pub duration_s: f64,
    /// How many times it began in the window; one under way when the window began counts in
    /// the window it began in.
    pub episodes: u32,
    /// The mean length in the window of the episodes that began in it (time carried over from
    /// before left out); `null` when none began.
    pub mean_s: Option<f64>,
}

/// One machine's timeline and stops.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssetTimeline {
    pub asset: String,
    pub station: String,
    /// In time order; minutes without news are left out.
    pub segments: Vec<TimelineSegment>,
    /// Every state but RUNNING, longest first.
    pub stops: Vec<StopReason>,
}

/// The machines' timelines over a shift.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineReport {
    /// `shift` or `previous`.
    pub window: String,
    pub shift: Option<String>,
    pub window_start: String,
    pub window_start_ms: i64,
    pub window_end: String,
    pub window_end_ms: i64,
    pub now_ms: i64,
    /// The resolution of the segments, seconds.
    pub bucket_s: f64,
    pub assets: Vec<AssetTimeline>,
}

fn segments(start_ms: i64, minutes: &[[u32; 9]], end_ms: i64) -> Vec<TimelineSegment> {
    let first_minute = start_ms.div_euclid(BUCKET_MS);
    let mut out: Vec<(i64, i64, usize, [u64; 9])> = Vec::new();
    for (k, m) in minutes.iter().enumerate() {
        let Some((dominant, _)) = m
            .iter()
            .enumerate()
            .filter(|(_, ms)| **ms > 0)
            .max_by_key(|(i, ms)| (**ms, std::cmp::Reverse(*i)))
        else {
            continue;
        };
        let from = ((first_minute + k as i64) * BUCKET_MS).max(start_ms);
        let to = ((first_minute + k as i64 + 1) * BUCKET_MS).min(end_ms);
        match out.last_mut() {
            Some(last) if last.2 == dominant && last.1 == from => {
                last.1 = to;
                for (sum, ms) in last.3.iter_mut().zip(m) {
                    *sum += u64::from(*ms);
                }
            }
            _ => out.push((from, to, dominant, m.map(u64::from))),
        }
    }
    out.into_iter()
        .map(|(from, to, dominant, ms)| TimelineSegment {
            start_ms: from,
            end_ms: to,
            state: StateCode::ALL[dominant].name(),
            state_s: StateCode::ALL
                .iter()
                .filter(|s| ms[s.index()] > 0)
                .map(|s| (s.name(), ms[s.index()] as f64 / 1000.0))
                .collect(),
        })
        .collect()
}

impl Twin {
    /// The machines' timelines over the running shift (up to `now_ms`) or the shift before it.
    pub fn timeline(&self, now_ms: i64, window: KpiWindow) -> TimelineReport {
        let clock = self.mirror.shift_clock();
        let running = crate::mirror::shift_of(&self.mirror.view(now_ms), clock, now_ms);
        let (name, shift) = match window {
            KpiWindow::Shift => ("shift", running),
            KpiWindow::Previous => ("previous", clock.at(running.start_ms - 1)),
        };
        let end_ms = shift.end_ms.min(now_ms.max(shift.start_ms));
        let assets = self
            .mirror
            .history_in(&shift, now_ms)
            .into_iter()
            .map(|history| {
                let asset = history.asset;
                let minutes = history.minutes;
                let mut stops: Vec<StopReason> = history
                    .stops
                    .into_iter()
                    .filter_map(|((state, reason), total)| {
                        Some(StopReason {
                            state: state.name(),
                            kind: StopKind::of(state)?,
                            reason,
                            duration_s: total.ms as f64 / 1000.0,
                            episodes: total.episodes,
                            mean_s: total.mean_ms().map(|ms| ms / 1000.0),
                        })
                    })
                    .collect();
                stops.sort_by(|a, b| b.duration_s.total_cmp(&a.duration_s));
                AssetTimeline {
                    station: self
                        .assets
                        .get(&asset)
                        .map(|i| i.station.clone())
                        .unwrap_or_default(),
                    segments: segments(shift.start_ms, &minutes, end_ms),
                    stops,
                    asset,
                }
            })
            .collect();
        let ts = |ms: i64| self.plant_time(ms);
        TimelineReport {
            window: name.into(),
            shift: shift.name.clone(),
            window_start: ts(shift.start_ms),
            window_start_ms: shift.start_ms,
            window_end: ts(shift.end_ms),
            window_end_ms: shift.end_ms,
            now_ms,
            bucket_s: BUCKET_MS as f64 / 1000.0,
            assets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_with_the_same_leading_state_make_one_segment() {
        let running = StateCode::Running.index();
        let down = StateCode::UnplannedDown.index();
        let mut minutes = vec![[0u32; 9]; 4];
        minutes[0][running] = 60_000;
        minutes[1][running] = 50_000;
        minutes[1][down] = 10_000;
        minutes[2][down] = 60_000;
        let s = segments(0, &minutes, 200_000);
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!(
            (s[0].start_ms, s[0].end_ms, s[0].state),
            (0, 120_000, "RUNNING")
        );
        assert_eq!(s[0].state_s["UNPLANNED_DOWN"], 10.0);
        assert_eq!(
            (s[1].start_ms, s[1].end_ms, s[1].state),
            (120_000, 180_000, "UNPLANNED_DOWN")
        );
    }
}
