//! Runs held to budgets. A plant file can ask for work without end (a failure every microsecond, a
//! source that floods an unlimited buffer); [`Simulation::run_guarded`] stops such a run with a
//! [`RunStopped`] that says why and when, instead of letting it take the process's memory or time.
//! It also stops when a caller raises its flag (a cancelled job, a client that went away, a
//! deadline the caller keeps): the engine reads no clock, the flag carries the caller's.

use crate::engine::Simulation;
use std::sync::atomic::{AtomicBool, Ordering};
use takt_model::RunLimits;

/// Events handled between two looks at the budgets and the flag: about a millisecond of work.
const EVENTS_PER_CHECK: u64 = 4096;

/// Why a guarded run stopped before its end.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunStopped {
    #[error(
        "the run stopped at t = {at_s:.0} s after {limit} events, the most one run may handle: the \
         plant makes events faster than it could run them (a failure, arrival or cycle every few \
         microseconds?), or the horizon is too long for it"
    )]
    EventBudget { limit: u64, at_s: f64 },
    #[error(
        "the run stopped at t = {at_s:.0} s with more than {limit} parts in the plant, the most a \
         run may hold: parts arrive faster than the plant makes them (check the arrivals against \
         the bottleneck, or give the buffer a capacity)"
    )]
    PartsInPlant { limit: u64, at_s: f64 },
    #[error("the run was stopped at t = {at_s:.0} s (cancelled, or past its time)")]
    Stopped { at_s: f64 },
}

impl Simulation {
    /// [`Simulation::run_until`], held to `limits` and stopped when any of `stop` is raised. Both are
    /// looked at every few thousand events, so the run ends within about a millisecond of either.
    /// The plant is left as it was when it stopped (its report is the report up to then).
    pub fn run_guarded(
        &mut self,
        until: f64,
        limits: &RunLimits,
        stop: &[&AtomicBool],
    ) -> Result<(), RunStopped> {
        let mut handled = 0u64;
        loop {
            let (reached, n) = self.run_events(until, EVENTS_PER_CHECK);
            handled += n;
            if stop.iter().any(|s| s.load(Ordering::Relaxed)) {
                return Err(RunStopped::Stopped { at_s: self.now });
            }
            if handled > limits.max_events {
                return Err(RunStopped::EventBudget {
                    limit: limits.max_events,
                    at_s: self.now,
                });
            }
            if self.plant.wip > limits.max_parts_in_plant {
                return Err(RunStopped::PartsInPlant {
                    limit: limits.max_parts_in_plant,
                    at_s: self.now,
                });
            }
            if reached {
                return Ok(());
            }
        }
    }

    /// Runs to the model's horizon within the default [`RunLimits`].
    pub fn run_to_horizon(&mut self, stop: &[&AtomicBool]) -> Result<(), RunStopped> {
        let horizon = self.model.horizon_s;
        self.run_guarded(horizon, &RunLimits::default(), stop)
    }
}
