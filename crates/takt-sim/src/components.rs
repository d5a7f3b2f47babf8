//! The ECS side of the engine: what machines, buffers, parts, orders, crews and the source are. All
//! mutable model state - random streams included - lives in these components, so a snapshot of them is
//! a complete, restartable copy of a running plant.

use crate::rng::Stream;
use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// "No such time" (no due date, no maintenance planned). Finite so that snapshots survive JSON, which
/// has no infinity; later than any simulated time.
pub const NEVER: f64 = f64::MAX;

/// The order index of a part without an order (or when no plan needs to know it).
pub const NO_ORDER: u32 = u32::MAX;

fn no_order() -> u32 {
    NO_ORDER
}

/// What a machine reports, by ISO 22400 accounting precedence: off-shift, then planned down, then down,
/// then what it is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u8)]
pub enum MachineState {
    Processing = 0,
    Setup = 1,
    Starved = 2,
    Blocked = 3,
    Down = 4,
    PlannedDown = 5,
    OffShift = 6,
}

pub const N_STATES: usize = 7;

impl MachineState {
    pub const ALL: [MachineState; N_STATES] = [
        MachineState::Processing,
        MachineState::Setup,
        MachineState::Starved,
        MachineState::Blocked,
        MachineState::Down,
        MachineState::PlannedDown,
        MachineState::OffShift,
    ];

    pub fn key(self) -> &'static str {
        match self {
            MachineState::Processing => "processing",
            MachineState::Setup => "setup",
            MachineState::Starved => "starved",
            MachineState::Blocked => "blocked",
            MachineState::Down => "down",
            MachineState::PlannedDown => "planned_down",
            MachineState::OffShift => "off_shift",
        }
    }

    /// The state name of the takt event schema (the live twin's sensor vocabulary).
    pub fn schema_name(self) -> &'static str {
        match self {
            MachineState::Processing => "RUNNING",
            MachineState::Setup => "SETUP",
            MachineState::Starved => "STARVED",
            MachineState::Blocked => "BLOCKED",
            MachineState::Down => "UNPLANNED_DOWN",
            MachineState::PlannedDown => "PLANNED_DOWN",
            MachineState::OffShift => "OFF",
        }
    }

    /// Active in the sense of the active-period bottleneck method: the machine is not waiting.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            MachineState::Processing
                | MachineState::Setup
                | MachineState::Down
                | MachineState::PlannedDown
        )
    }
}

/// What the machine is doing with its part, independent of whether it is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activity {
    /// No part: waiting for one (starved).
    Idle,
    Setup,
    Processing,
    /// Finished part cannot leave: the next buffer is full.
    Blocked,
}

/// A machine: what it holds and does, its stop flags, its failure modes, its random streams and its
/// statistics. Kept in one component because almost every event reads or writes most of it: as
/// three components (machine, failure modes, streams) a cycle made about six lookups more (what a
/// lookup costs: `lookup.rs`).
#[derive(Component, Debug, Clone, Serialize, Deserialize)]
// Laid out by hand, hottest first, aligned to a cache line: what an event reads of a machine (the
// scalars of the first line, the part, the state clock, the counts and the processing stream) is
// five lines in a row; the cold rest (the other streams, the failure modes) comes after. In plants of
// a thousand stations the machines no longer fit in the first-level cache (`benches/plants.rs`).
#[repr(C, align(64))]
pub struct Machine {
    /// When the running setup or processing ends (valid while running).
    pub activity_end: f64,
    /// Work left when stopped mid-activity.
    pub remaining_s: f64,
    /// Start of the current uninterrupted processing segment (operating-time failure clocks).
    pub segment_start: f64,
    /// Product, routing step and due date of the part held (valid while `part` is some).
    pub due: f64,
    pub station: u32,
    pub product: u32,
    pub operation: u32,
    /// Bumped to cancel the scheduled end of an activity (lazy cancellation).
    pub epoch: u32,
    pub active_failures: u32,
    pub last_product: Option<u32>,
    pub activity: Activity,
    /// Stop flags: any of them halts work; the part in process resumes its remaining work afterwards.
    pub off_shift: bool,
    pub planned_down: bool,
    pub maintenance_waiting: bool,
    pub part: Option<Part>,
    /// Buffer this machine waits to unload into while blocked.
    pub blocked_on: Option<u32>,
    pub last_failure_mode: u16,
    pub clock: StateClock,
    pub counts: PieceCounts,
    pub streams: MachineStreams,
    pub next_maintenance_at: f64,
    /// Per failure mode of the station, in the model's order.
    pub modes: Vec<ModeState>,
}

impl Machine {
    /// The cache lines of a machine that an event reads (the layout's hot half, above): what the
    /// engine prefetches for the event after the one it handles.
    pub const HOT_LINES: usize = 5;

    /// Lets go of the part (gone on, or scrapped): the machine is idle.
    pub fn free(&mut self) {
        self.part = None;
        self.activity = Activity::Idle;
        self.blocked_on = None;
    }

    pub fn stopped(&self) -> bool {
        self.off_shift || self.planned_down || self.active_failures > 0
    }

    /// Whether failure clocks counted in calendar time are frozen (down or in maintenance).
    pub fn clocks_frozen(&self) -> bool {
        self.planned_down || self.active_failures > 0
    }

    pub fn state(&self) -> MachineState {
        if self.off_shift {
            MachineState::OffShift
        } else if self.planned_down {
            MachineState::PlannedDown
        } else if self.active_failures > 0 {
            MachineState::Down
        } else {
            match self.activity {
                Activity::Idle => MachineState::Starved,
                Activity::Setup => MachineState::Setup,
                Activity::Processing => MachineState::Processing,
                Activity::Blocked => MachineState::Blocked,
            }
        }
    }
}

/// Per failure mode of one machine: the age budget left before it fails, in the mode's basis
/// (seconds or cycles), and the scheduled failure while its clock runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModeState {
    pub remaining: f64,
    pub active: bool,
    pub epoch: u32,
    /// For calendar-basis modes whose clock runs: when the failure is due.
    pub due_at: f64,
    /// When the current failure began (for repair-time statistics).
    pub failed_at: f64,
    /// Since the last statistics reset: failures, completed repairs and their durations.
    pub failures: u64,
    pub repairs: u64,
    pub repair_s: f64,
}

/// Random streams of one machine (the processing stream first: see `Machine`'s layout).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[repr(C)]
pub struct MachineStreams {
    pub process: Stream,
    pub setup: Stream,
    pub quality: Stream,
    pub maintenance: Stream,
    /// Per failure mode: (time to failure, time to repair).
    pub failures: Vec<(Stream, Stream)>,
}

/// State-time accounting of one machine since the last statistics reset (the state and its totals
/// first: see `Machine`'s layout).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[repr(C)]
pub struct StateClock {
    pub state: MachineState,
    pub since: f64,
    pub totals_s: [f64; N_STATES],
    /// Active-period bottleneck method (Roser, Nakano and Tanaka, 2001): an active period is an
    /// uninterrupted run of active states; only time spent waiting (starved or blocked) ends one.
    /// The start of the open period, if any.
    pub active_since: Option<f64>,
    /// While the machine waits with a period open: when it began to wait. The period is closed at
    /// that instant only once the machine has waited for some time: a machine that takes the next
    /// part at the instant it finishes one never waited, and its period goes on.
    pub waiting_since: f64,
    /// Completed active periods and their total length.
    pub active_periods: u64,
    pub active_s: f64,
}

impl StateClock {
    pub fn new(now: f64, state: MachineState) -> Self {
        StateClock {
            state,
            since: now,
            totals_s: [0.0; N_STATES],
            active_since: state.is_active().then_some(now),
            waiting_since: now,
            active_periods: 0,
            active_s: 0.0,
        }
    }

    /// Books the time since the last change to the old state and switches to `new`.
    pub fn switch(&mut self, now: f64, new: MachineState) {
        let old = self.state;
        self.totals_s[old as usize] += now - self.since;
        self.since = now;
        self.state = new;
        if old.is_active() != new.is_active() {
            match self.active_since {
                Some(_) if !new.is_active() => self.waiting_since = now,
                // No time waited: the open period goes on.
                Some(_) if self.waiting_since >= now => {}
                Some(start) => {
                    self.active_periods += 1;
                    self.active_s += self.waiting_since - start;
                    self.active_since = Some(now);
                }
                None if new.is_active() => self.active_since = Some(now),
                None => {}
            }
        }
    }

    /// Books the time since the last change to the current state, which goes on.
    #[inline]
    pub fn book(&mut self, now: f64) {
        self.totals_s[self.state as usize] += now - self.since;
        self.since = now;
    }

    /// The active periods up to `now`, the open one included: their number and total length.
    pub fn active_periods_to(&self, now: f64) -> (u64, f64) {
        let end = if self.state.is_active() {
            now
        } else {
            self.waiting_since
        };
        match self.active_since {
            Some(start) => (self.active_periods + 1, self.active_s + end - start),
            None => (self.active_periods, self.active_s),
        }
    }
}

/// Pieces a machine finished since the last statistics reset, with its setups and planned
/// maintenances begun.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PieceCounts {
    pub produced: u64,
    pub good: u64,
    pub scrap: u64,
    pub rework: u64,
    pub setups: u64,
    #[serde(default)]
    pub maintenances: u64,
    /// Sum of ideal cycle times of the cycles produced (ISO 22400 performance numerator).
    pub ideal_s: f64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct QueueEntry {
    /// When the part entered the plant, and its order (for lead times and order completion).
    pub released_at: f64,
    pub order_entity: Option<Entity>,
    pub product: u32,
    /// The routing step the part waits for.
    pub operation: u32,
    /// Model index of the part's order when a plan is followed, else [`NO_ORDER`].
    #[serde(default = "no_order")]
    pub order: u32,
    /// Due date, [`NEVER`] when none.
    pub due: f64,
    /// Mean processing time of the operation the part waits for (SPT).
    pub mean_s: f64,
}

/// Who waits for room in a full buffer, first come first served.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Waiter {
    /// A blocked machine holding a finished part.
    Machine(Entity),
    /// A newly released part whose first buffer was full.
    Release(Part),
}

#[derive(Component, Debug, Clone, Serialize, Deserialize)]
pub struct BufferQueue {
    pub index: u32,
    pub capacity: Option<u32>,
    pub parts: crate::part_queue::PartQueue,
    pub waiting: VecDeque<Waiter>,
    /// Time-average level accounting.
    pub level_since: f64,
    pub level_integral: f64,
    pub max_level: u32,
}

impl QueueEntry {
    /// The part waiting.
    pub fn part(&self) -> Part {
        Part {
            product: self.product,
            released_at: self.released_at,
            due: self.due,
            order: self.order_entity,
        }
    }
}

impl BufferQueue {
    pub fn has_room(&self) -> bool {
        self.capacity.is_none_or(|c| (self.parts.len() as u32) < c)
    }
}

/// A part in the plant: plain data that travels in queue entries and on machines, not an entity.
/// A shift releases tens of thousands of parts; as entities, spawning and despawning them and
/// looking them up on every move cost about a tenth of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub product: u32,
    pub released_at: f64,
    pub due: f64,
    pub order: Option<Entity>,
}

#[derive(Component, Debug, Clone, Serialize, Deserialize)]
pub struct OrderState {
    pub index: u32,
    /// Parts of the order still in the plant (or not yet released).
    pub outstanding: u32,
    /// Parts that finished their routing good.
    pub good: u32,
    pub released: bool,
    pub completed_at: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CrewJob {
    Repair { machine: Entity, mode: u16 },
    Maintenance { machine: Entity },
}

#[derive(Component, Debug, Clone, Serialize, Deserialize)]
pub struct CrewState {
    pub index: u32,
    pub count: u32,
    pub free: u32,
    pub queue: VecDeque<CrewJob>,
    /// Member-seconds busy since the last reset.
    pub busy_s: f64,
    pub busy_since: f64,
}

/// The demand generator.
#[derive(Component, Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    pub interarrival: Stream,
    pub mix: Stream,
    pub arrivals: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    /// What an event reads of a machine lies in its first five cache lines (see `Machine`): a field
    /// added before the processing stream, or the streams reordered, fails this.
    #[test]
    fn a_machine_s_hot_fields_are_its_first_five_cache_lines() {
        assert_eq!(align_of::<Machine>(), 64);
        let process_end = offset_of!(Machine, streams)
            + offset_of!(MachineStreams, process)
            + size_of::<Stream>();
        assert!(
            process_end <= Machine::HOT_LINES * 64,
            "the processing stream ends at byte {process_end}"
        );
        for hot in [
            offset_of!(Machine, part) + size_of::<Option<Part>>(),
            offset_of!(Machine, clock) + offset_of!(StateClock, totals_s) + 8 * N_STATES,
            offset_of!(Machine, counts) + size_of::<PieceCounts>(),
        ] {
            assert!(hot <= process_end);
        }
        assert!(offset_of!(Machine, modes) >= process_end);
    }
}
