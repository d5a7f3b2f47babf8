//! The plant as it stood when each of the last shifts began: the state of every asset at the
//! shift's start, taken when the first event at or after it is offered (every event before it has
//! been, but for one arriving later still, within the reorder window). A shift's plan past the
//! scenario's horizon runs from it (`crate::report::compare_with_plan`).
//!
//! Memory is bounded: the running shift's start and the one before it ([`KEPT`]).

use super::{AssetState, Mirror};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// How many shift starts are kept: the running shift's and the one before it, the two a shift
/// report is asked for.
pub const KEPT: usize = 2;

/// The states at the last shifts' starts, and the next start to take.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct ShiftStarts {
    /// The start (Unix ms) of the shift after the newest event offered: the next state to take.
    /// `None` before the first event (the plant's state before it is not known).
    next_ms: Option<i64>,
    /// `(shift start, every asset's state then)`, oldest first.
    states: VecDeque<(i64, BTreeMap<String, AssetState>)>,
}

impl Mirror {
    /// Takes the plant's state at the start of each shift that began since the newest event
    /// offered and up to `ts_ms` (the last [`KEPT`] of them: a plant silent over a weekend left
    /// its state as it was at each). Called before an event is offered.
    #[inline]
    pub(super) fn take_shift_start(&mut self, ts_ms: i64) {
        if self.starts.next_ms.is_some_and(|next| ts_ms < next) {
            return;
        }
        let shift = self.clock.at(ts_ms);
        let Some(next_ms) = self.starts.next_ms else {
            // The first event: the state before it is not known.
            self.starts.next_ms = Some(shift.next_start_ms.max(ts_ms + 1));
            return;
        };
        // The shifts that began in (newest event, ts_ms], newest first. A calendar with gaps
        // gives the next shift for a moment between two.
        let mut begun = Vec::with_capacity(KEPT);
        let mut start = if shift.start_ms <= ts_ms {
            shift.start_ms
        } else {
            self.clock.at(ts_ms - 1).start_ms.min(ts_ms)
        };
        while start >= next_ms && start <= ts_ms && begun.len() < KEPT {
            begun.push(start);
            let before = self.clock.at(start - 1).start_ms;
            if before >= start {
                break;
            }
            start = before;
        }
        for &at in begun.iter().rev() {
            let state = self.view(at);
            let states = &mut self.starts.states;
            if states.len() == KEPT {
                states.pop_front();
            }
            states.push_back((at, state));
        }
        self.starts.next_ms = Some(if shift.start_ms > ts_ms {
            shift.start_ms
        } else {
            shift.next_start_ms
        });
    }

    /// Every asset's state at the start of the shift that began at `start_ms`, if this mirror saw
    /// the plant before it and it is one of the last [`KEPT`] shifts; a shift that began after
    /// the newest event offered finds the plant as that event left it.
    pub fn at_shift_start(&self, start_ms: i64) -> Option<BTreeMap<String, AssetState>> {
        if self.starts.next_ms.is_some_and(|next| start_ms >= next) {
            return Some(self.view(start_ms));
        }
        self.starts
            .states
            .iter()
            .find(|(at, _)| *at == start_ms)
            .map(|(_, state)| state.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Checked, StateCode, parse};
    use crate::mirror::MirrorConfig;
    use takt_model::ShiftClock;

    const T0: i64 = 1_767_600_000_000;
    const HOUR: i64 = 3_600_000;

    fn ev(ts_ms: i64, seq: u64, state: &str) -> Checked {
        let ts = takt_model::time::format_utc_ms(ts_ms);
        parse(&format!(
            r#"{{"ts":"{ts}","asset":"M1","seq":{seq},"kind":"state","state":"{state}"}}"#
        ))
        .expect("event")
    }

    #[test]
    fn each_shift_start_keeps_the_plant_as_the_events_before_it_left_it() {
        let config = MirrorConfig {
            reorder_window_ms: 0,
            silence_ms: 10 * HOUR,
        };
        let mut m = Mirror::new(&["M1".to_string()], ShiftClock::periods(T0, HOUR), config);
        m.offer(ev(T0 + 10 * 60_000, 1, "RUNNING"));
        // Nothing before the first event is known.
        assert!(m.at_shift_start(T0).is_none());
        m.offer(ev(T0 + 50 * 60_000, 2, "UNPLANNED_DOWN"));
        m.offer(ev(T0 + HOUR + 5 * 60_000, 3, "RUNNING"));
        let at_1h = m.at_shift_start(T0 + HOUR).expect("the 1 h start");
        assert_eq!(at_1h["M1"].state, StateCode::UnplannedDown);
        // Silent over the shifts from 2 h and 3 h: each start finds the plant as it was left.
        m.offer(ev(T0 + 3 * HOUR + 30 * 60_000, 4, "STARVED"));
        assert_eq!(
            m.at_shift_start(T0 + 2 * HOUR).expect("2 h")["M1"].state,
            StateCode::Running
        );
        assert_eq!(
            m.at_shift_start(T0 + 3 * HOUR).expect("3 h")["M1"].state,
            StateCode::Running
        );
        // Only the last two are kept; a shift begun after the newest event finds it as it is.
        assert!(m.at_shift_start(T0 + HOUR).is_none());
        assert_eq!(
            m.at_shift_start(T0 + 4 * HOUR).expect("4 h")["M1"].state,
            StateCode::Starved
        );
        // A restored mirror has them too.
        let mut restored = Mirror::new(&["M1".to_string()], ShiftClock::periods(T0, HOUR), config);
        restored.restore(&m.save().expect("save")).expect("restore");
        assert_eq!(
            restored.at_shift_start(T0 + 2 * HOUR),
            m.at_shift_start(T0 + 2 * HOUR)
        );
        assert_eq!(restored.starts.states.len(), KEPT);
    }
}
