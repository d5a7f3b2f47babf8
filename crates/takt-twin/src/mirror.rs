//! The mirrored plant: per asset, its state and since when, the reason, piece counts, the current
//! work order, active alarms, the latest signal values, and the time spent in each state in the
//! running shift (for live OEE).
//!
//! KPIs count in the window of the running shift (`takt_model::ShiftClock`). An asset's window rolls
//! when one of its events falls at or after the next shift's start, and a view rolls it when `now`
//! is past the end of its shift and the next one has started: the window's counts and state times
//! start again from zero, while what outlasts a shift (lifetime counts and times, failure ages, the
//! part on the machine) carries on. Time outside the shift (a night, a weekend) is in no window.
//!
//! Events are applied in time order per asset. Arrival may be out of order by up to
//! `reorder_window_ms`: events wait in a small per-asset buffer until the asset's newest time stamp
//! has moved that far past them, and a view of the state (`view`) applies what still waits on a
//! copy, so nothing shown lags. An event older than what was already applied is *late*: its counts
//! still add up, but it cannot change the current state. The mirror is a pure function of the
//! sequence of events offered to it, so replaying the store rebuilds the same state.
//!
//! The names events bring (products, signals, alarms, stop reasons) are bounded per asset
//! (`names`): a sender cannot grow the state without end.

use crate::event::{Body, Checked, StateCode};
use crate::history::{AssetHistory, WindowHistory};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use takt_model::{ShiftClock, ShiftWindow};

mod apply;
mod names;
mod saved;
mod starts;
use apply::apply;
use names::Refused;
pub use names::{
    KnownNames, MAX_ALARMS, MAX_OTHER_PRODUCTS, MAX_OTHER_REASONS, MAX_SIGNALS, OTHER_PRODUCTS,
};
pub use saved::RestoreError;

/// Ended shifts an asset keeps before the previous one: with it, three weeks of three shifts a
/// working day (a few hundred bytes each).
pub const EARLIER_SHIFTS: usize = 44;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MirrorConfig {
    /// How far out of order events may arrive and still be applied in order, milliseconds.
    pub reorder_window_ms: i64,
    /// An asset silent for longer than this is shown as UNKNOWN, milliseconds.
    pub silence_ms: i64,
}

impl MirrorConfig {
    /// The default, with a reorder window of `seconds`.
    pub fn with_reorder_window_s(seconds: f64) -> MirrorConfig {
        MirrorConfig {
            reorder_window_ms: (seconds * 1000.0).round() as i64,
            ..MirrorConfig::default()
        }
    }
}

impl Default for MirrorConfig {
    fn default() -> Self {
        MirrorConfig {
            reorder_window_ms: 2_000,
            silence_ms: 15 * 60_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalValue {
    pub value: f64,
    pub unit: String,
    pub ts_ms: i64,
}

/// What the twin knows about one asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetState {
    pub state: StateCode,
    /// Since when (Unix ms); `None` before the first state event.
    pub since_ms: Option<i64>,
    pub reason: String,
    /// Pieces in the shift's window.
    pub good: u64,
    pub scrap: u64,
    pub rework: u64,
    pub work_order: Option<String>,
    pub operation: Option<String>,
    pub product: Option<String>,
    /// Pieces (good, scrap and rework) per product in the window; `""` for pieces of unknown product.
    pub pieces_by_product: BTreeMap<String, u64>,
    /// Good pieces per product in the window.
    pub good_by_product: BTreeMap<String, u64>,
    /// Active alarms: code -> severity.
    pub alarms: BTreeMap<String, String>,
    pub signals: BTreeMap<String, SignalValue>,
    /// The last maintenance action: (action, component, Unix ms).
    pub last_maintenance: Option<(String, String, i64)>,
    pub last_seen_ms: Option<i64>,
    pub events: u64,
    pub late_events: u64,
    /// The shift the window counts (`None` before the first event).
    pub shift: Option<ShiftWindow>,
    /// The window before, as it stood at its shift's end (for the shift handover).
    pub previous: Option<Box<ShiftFigures>>,
    /// The windows before `previous`, oldest first: at most [`EARLIER_SHIFTS`]. Shared, so that a
    /// view of the state (after every batch) does not copy them; they change once a shift.
    pub earlier_shifts: std::sync::Arc<VecDeque<ShiftFigures>>,
    /// Milliseconds in each state (by `StateCode::index`) inside the shift's window, up to `since_ms`.
    pub state_ms: [i64; 9],
    /// The last running total of a `total` counter (good, scrap, rework).
    last_total: Option<(u64, u64, u64)>,
    /// Newest time stamp applied.
    applied_ms: i64,
    /// What the asset does with its part, whatever stops it: the last of RUNNING, SETUP, BLOCKED
    /// and STARVED/IDLE (no part) it reported. A forecast reads it to know what a stopped machine holds.
    pub activity: Option<StateCode>,
    /// Time in `activity` (RUNNING or SETUP) on the current part, up to `activity_clock_ms`.
    activity_ms: i64,
    activity_clock_ms: i64,
    /// Product of the part on the asset when known (its count, or its work order, told it).
    pub part_product: Option<String>,
    /// Product of the last piece counted.
    pub last_product: Option<String>,
    /// Milliseconds in each state over the whole history (not only the KPI window), up to `since_ms`.
    life_ms: [i64; 9],
    /// Pieces (good, scrap, rework) per product over the whole history.
    pub lifetime_by_product: BTreeMap<String, [u64; 3]>,
    /// Per product, when a piece last left the asset (good or scrap), Unix ms.
    pub last_out_ms_by_product: BTreeMap<String, i64>,
    /// Last renewal per failure mode (the reason of an UNPLANNED_DOWN that ended), and the last
    /// planned maintenance that ended (it renews every mode).
    renewals: BTreeMap<String, Renewal>,
    maintained: Option<Renewal>,
    first_seen_ms: Option<i64>,
    /// Which of the bounds on names have refused one.
    refused: Refused,
}

/// What an asset counted in one shift's window, complete to the shift's end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShiftFigures {
    pub shift: ShiftWindow,
    pub good: u64,
    pub scrap: u64,
    pub rework: u64,
    /// Pieces (good, scrap and rework) per product.
    pub pieces_by_product: BTreeMap<String, u64>,
    /// Milliseconds in each state (by `StateCode::index`) inside the shift.
    pub state_ms: [i64; 9],
}

/// Where an asset's lifetime totals stood when a failure mode was renewed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Renewal {
    at_ms: i64,
    up_ms: i64,
    running_ms: i64,
    cycles: u64,
}

/// How a failure mode ages (the simulator's `basis`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeBasis {
    /// Time neither down nor in maintenance (off-shift and idle time included), seconds.
    Calendar,
    /// Time running, seconds.
    Operating,
    /// Pieces made.
    Cycles,
}

impl AssetState {
    fn new() -> AssetState {
        AssetState {
            state: StateCode::Unknown,
            since_ms: None,
            reason: String::new(),
            good: 0,
            scrap: 0,
            rework: 0,
            work_order: None,
            operation: None,
            product: None,
            pieces_by_product: BTreeMap::new(),
            good_by_product: BTreeMap::new(),
            alarms: BTreeMap::new(),
            signals: BTreeMap::new(),
            last_maintenance: None,
            last_seen_ms: None,
            events: 0,
            late_events: 0,
            shift: None,
            previous: None,
            earlier_shifts: std::sync::Arc::default(),
            state_ms: [0; 9],
            last_total: None,
            applied_ms: i64::MIN,
            activity: None,
            activity_ms: 0,
            activity_clock_ms: i64::MIN,
            part_product: None,
            last_product: None,
            life_ms: [0; 9],
            lifetime_by_product: BTreeMap::new(),
            last_out_ms_by_product: BTreeMap::new(),
            renewals: BTreeMap::new(),
            maintained: None,
            first_seen_ms: None,
            refused: Refused::default(),
        }
    }

    /// The kinds of names of which the asset's events brought more than its bounds keep
    /// (`products`, `signals`, `alarms`, `stop reasons`).
    pub fn names_over_bound(&self) -> Vec<String> {
        self.refused.kinds().map(str::to_string).collect()
    }

    /// Milliseconds in each state over the whole history, up to `now_ms`.
    pub fn lifetime_ms(&self, now_ms: i64) -> [i64; 9] {
        let mut d = self.life_ms;
        if let Some(since) = self.since_ms {
            d[self.state.index()] += (now_ms - since).max(0);
        }
        d
    }

    /// How long the asset has been in its current `activity` (RUNNING or SETUP) on its current part,
    /// stops excluded, milliseconds.
    pub fn activity_elapsed_ms(&self, now_ms: i64) -> i64 {
        let mut d = self.activity_ms;
        if let (Some(since), Some(activity)) = (self.since_ms, self.activity)
            && self.state == activity
        {
            d += (now_ms - since.max(self.activity_clock_ms)).max(0);
        }
        d
    }

    /// The age of failure mode `mode` at `now_ms` since its last repair or planned maintenance (or
    /// since the asset was first seen), in the mode's basis.
    pub fn failure_age(&self, mode: &str, basis: AgeBasis, now_ms: i64) -> f64 {
        let life = self.lifetime_ms(now_ms);
        let totals = Renewal {
            at_ms: now_ms,
            up_ms: up_ms(&life),
            running_ms: life[StateCode::Running.index()],
            cycles: self.cycles(),
        };
        let origin = Renewal {
            at_ms: self.first_seen_ms.unwrap_or(now_ms),
            up_ms: 0,
            running_ms: 0,
            cycles: 0,
        };
        let last = [self.renewals.get(mode).copied(), self.maintained]
            .into_iter()
            .flatten()
            .max_by_key(|r| r.at_ms)
            .unwrap_or(origin);
        match basis {
            AgeBasis::Calendar => (totals.up_ms - last.up_ms) as f64 / 1000.0,
            AgeBasis::Operating => (totals.running_ms - last.running_ms) as f64 / 1000.0,
            AgeBasis::Cycles => totals.cycles.saturating_sub(last.cycles) as f64,
        }
    }

    fn cycles(&self) -> u64 {
        self.lifetime_by_product
            .values()
            .map(|c| c[0] + c[1] + c[2])
            .sum()
    }

    /// Books the time since the last state change into the totals, as of `ts`: the part inside the
    /// shift into the window's, all of it into the lifetime's.
    fn book_until(&mut self, ts: i64) {
        let Some(s) = self.since_ms else { return };
        if let Some(w) = &self.shift {
            self.state_ms[self.state.index()] += (ts.min(w.end_ms) - s.max(w.start_ms)).max(0);
        }
        self.life_ms[self.state.index()] += (ts - s).max(0);
        if self.activity == Some(self.state) {
            self.activity_ms += (ts - s.max(self.activity_clock_ms)).max(0);
            self.activity_clock_ms = ts;
        }
    }
}

/// Time neither down nor in maintenance: what calendar-basis failure modes age by.
fn up_ms(life: &[i64; 9]) -> i64 {
    life.iter().sum::<i64>()
        - life[StateCode::UnplannedDown.index()]
        - life[StateCode::PlannedDown.index()]
}

impl AssetState {
    /// Time in each state inside the shift's window, up to `now_ms` (or the shift's end).
    pub fn state_durations_ms(&self, now_ms: i64) -> [i64; 9] {
        let mut d = self.state_ms;
        if let (Some(since), Some(w)) = (self.since_ms, &self.shift) {
            d[self.state.index()] += (now_ms.min(w.end_ms) - since.max(w.start_ms)).max(0);
        }
        d
    }

    /// Starts the window of `shift`: the window's counts and state times from zero; the window
    /// that ends is kept, complete to its shift's end, as the previous one (and the previous one
    /// among the earlier shifts).
    fn roll(&mut self, shift: ShiftWindow) {
        if let Some(ended) = &self.shift {
            let state_ms = self.state_durations_ms(ended.end_ms);
            if let Some(before) = self.previous.take() {
                let earlier = std::sync::Arc::make_mut(&mut self.earlier_shifts);
                if earlier.len() == EARLIER_SHIFTS {
                    earlier.pop_front();
                }
                earlier.push_back(*before);
            }
            self.previous = Some(Box::new(ShiftFigures {
                shift: ended.clone(),
                good: self.good,
                scrap: self.scrap,
                rework: self.rework,
                pieces_by_product: std::mem::take(&mut self.pieces_by_product),
                state_ms,
            }));
        }
        self.good = 0;
        self.scrap = 0;
        self.rework = 0;
        self.pieces_by_product.clear();
        self.good_by_product.clear();
        self.state_ms = [0; 9];
        self.shift = Some(shift);
    }

    /// Moves the window on to the shift of an event at `ts`, if that is a later one.
    fn roll_to_event(&mut self, clock: &ShiftClock, ts: i64) {
        match &self.shift {
            None => self.shift = Some(clock.at(ts)),
            Some(w) if ts >= w.next_start_ms => self.roll(clock.at(ts)),
            Some(_) => {}
        }
    }
}

/// The shift the assets of a view at `now_ms` count in: the latest any of them does (they agree
/// unless some asset's newest event is after the moment of the view); for a plant without assets,
/// the clock's shift at `now_ms`.
pub fn shift_of(
    view: &BTreeMap<String, AssetState>,
    clock: &ShiftClock,
    now_ms: i64,
) -> ShiftWindow {
    view.values()
        .filter_map(|a| a.shift.as_ref())
        .max_by_key(|w| w.start_ms)
        .cloned()
        .unwrap_or_else(|| clock.at(now_ms))
}

#[derive(Debug, Clone)]
pub struct Mirror {
    config: MirrorConfig,
    clock: ShiftClock,
    /// Each asset's slot by name: an event costs one lookup of its asset's name.
    index: BTreeMap<String, usize>,
    slots: Vec<Slot>,
    keep_episodes: bool,
    known: KnownNames,
    starts: starts::ShiftStarts,
}

/// One asset: its state, and the events waiting to be applied in time order (a ring: events
/// mostly arrive in order, join at the back and leave from the front, and none of the others
/// moves).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Slot {
    asset: String,
    state: AssetState,
    #[serde(with = "saved::pending_as_text")]
    pending: VecDeque<Checked>,
    newest_ms: i64,
    history: AssetHistory,
    /// Unplanned stops that ended since they were last taken (kept only when asked for; not saved:
    /// a twin keeps them from the moment it judges alerts).
    #[serde(skip)]
    ended: Vec<Episode>,
}

impl Slot {
    fn apply(&mut self, known: &KnownNames, clock: &ShiftClock, c: Checked, keep_episodes: bool) {
        let refused = self.state.refused;
        let ended = apply_booked(&mut self.state, &mut self.history, known, clock, c);
        if self.state.refused != refused {
            Refused::log_new(refused, self.state.refused, &self.asset);
        }
        if keep_episodes
            && let Some((state, reason, start_ms, end_ms)) = ended
            && state == StateCode::UnplannedDown
        {
            self.ended.push(Episode {
                state,
                reason,
                start_ms,
                end_ms,
            });
        }
    }
}

/// A state an asset was in, from its start to its end (the next state event).
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    pub state: StateCode,
    pub reason: String,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// Applies an event, and books the state it ends into the asset's history; returns that state,
/// its reason, start and end.
fn apply_booked(
    a: &mut AssetState,
    history: &mut AssetHistory,
    known: &KnownNames,
    clock: &ShiftClock,
    c: Checked,
) -> Option<(StateCode, String, i64, i64)> {
    let before =
        matches!(c.event.body, Body::State(_)).then(|| (a.state, a.since_ms, a.reason.clone()));
    apply(a, known, clock, c);
    if let Some((state, Some(since), reason)) = before
        && let Some(now) = a.since_ms
        && now > since
    {
        history.book(clock, state, &reason, since, now);
        return Some((state, reason, since, now));
    }
    None
}

impl Mirror {
    /// A mirror of `assets`, counting KPIs in the shifts of `clock`.
    pub fn new(assets: &[String], clock: ShiftClock, config: MirrorConfig) -> Mirror {
        let mut index = BTreeMap::new();
        let mut slots = Vec::new();
        for a in assets {
            index.entry(a.clone()).or_insert_with(|| {
                slots.push(Slot {
                    asset: a.clone(),
                    state: AssetState::new(),
                    pending: VecDeque::new(),
                    newest_ms: i64::MIN,
                    history: AssetHistory::default(),
                    ended: Vec::new(),
                });
                slots.len() - 1
            });
        }
        Mirror {
            config,
            clock,
            index,
            slots,
            keep_episodes: false,
            known: KnownNames::default(),
            starts: starts::ShiftStarts::default(),
        }
    }

    /// Keeps `known`'s names whatever the bounds on names (without it, every name counts
    /// against them).
    pub fn with_known_names(mut self, known: KnownNames) -> Mirror {
        self.known = known;
        self
    }

    /// Keeps the unplanned stops that end from now on, for [`Mirror::take_ended_stops`] (the
    /// alert rules read them, so that a stop that began and ended between two judgements is seen).
    pub fn keep_ended_stops(&mut self) {
        self.keep_episodes = true;
    }

    /// The unplanned stops that ended since the last call, per asset.
    pub fn take_ended_stops(&mut self) -> Vec<(String, Episode)> {
        let mut out = Vec::new();
        for (name, &i) in &self.index {
            for e in std::mem::take(&mut self.slots[i].ended) {
                out.push((name.clone(), e));
            }
        }
        out
    }

    pub fn knows(&self, asset: &str) -> bool {
        self.index.contains_key(asset)
    }

    pub fn shift_clock(&self) -> &ShiftClock {
        &self.clock
    }

    pub fn config(&self) -> MirrorConfig {
        self.config
    }

    /// Takes an event of a known asset (the caller rejects unknown ones; this ignores them).
    pub fn offer(&mut self, c: Checked) {
        let Some(&i) = self.index.get(c.event.asset.as_str()) else {
            return;
        };
        self.take_shift_start(c.ts_ms);
        let slot = &mut self.slots[i];
        slot.newest_ms = slot.newest_ms.max(c.ts_ms);
        let horizon = slot.newest_ms.saturating_sub(self.config.reorder_window_ms);
        if self.config.reorder_window_ms == 0 {
            slot.apply(&self.known, &self.clock, c, self.keep_episodes);
            return;
        }
        let queue = &mut slot.pending;
        // Keep the queue sorted by time stamp, then arrival (stable).
        if queue.back().is_none_or(|p| p.ts_ms <= c.ts_ms) {
            queue.push_back(c);
        } else {
            let at = queue.partition_point(|p| p.ts_ms <= c.ts_ms);
            queue.insert(at, c);
        }
        while slot.pending.front().is_some_and(|p| p.ts_ms <= horizon) {
            if let Some(e) = slot.pending.pop_front() {
                slot.apply(&self.known, &self.clock, e, self.keep_episodes);
            }
        }
    }

    /// Each asset's history over `window` as of `now_ms`: milliseconds per state in each minute
    /// from the window's start to its end (or now), and time and episodes per (state, reason) in
    /// the window. As in [`Mirror::view`], events still held for reordering count, and the open
    /// state counts up to now (an asset silent too long as UNKNOWN from then).
    pub fn history_in(&self, window: &ShiftWindow, now_ms: i64) -> Vec<WindowHistory> {
        let end = window.end_ms.min(now_ms.max(window.start_ms + 1));
        self.index
            .iter()
            .map(|(name, &i)| {
                let slot = &self.slots[i];
                // What is not booked yet, apart (a few minutes; the history itself is not copied).
                let mut recent = AssetHistory::default();
                let mut a = slot.state.clone();
                for e in &slot.pending {
                    let _ = apply_booked(&mut a, &mut recent, &self.known, &self.clock, e.clone());
                }
                if let Some(since) = a.since_ms
                    && now_ms > since
                {
                    let silent_from = a
                        .last_seen_ms
                        .map_or(i64::MAX, |seen| seen + self.config.silence_ms);
                    let until = now_ms.min(silent_from.max(since));
                    recent.book(&self.clock, a.state, &a.reason, since, until);
                    recent.book(&self.clock, StateCode::Unknown, "silent", until, now_ms);
                }
                let mut minutes = slot.history.minutes(window.start_ms, end);
                for (m, r) in minutes.iter_mut().zip(recent.minutes(window.start_ms, end)) {
                    for (x, y) in m.iter_mut().zip(r) {
                        *x = x.saturating_add(y);
                    }
                }
                let mut stops = slot.history.stops(window.start_ms);
                for (key, r) in recent.stops(window.start_ms) {
                    *stops.entry(key).or_default() += r;
                }
                WindowHistory {
                    asset: name.clone(),
                    minutes,
                    stops,
                }
            })
            .collect()
    }

    /// The state as of now: what was applied plus what still waits for reordering, in the window of
    /// the shift shown at `now_ms`, with assets silent for too long shown as UNKNOWN.
    pub fn view(&self, now_ms: i64) -> BTreeMap<String, AssetState> {
        let mut assets: BTreeMap<String, AssetState> = BTreeMap::new();
        for (name, &i) in &self.index {
            let slot = &self.slots[i];
            let mut a = slot.state.clone();
            for e in &slot.pending {
                apply(&mut a, &self.known, &self.clock, e.clone());
            }
            // Silence first: an asset that fell silent in the shift that ended shows UNKNOWN
            // from then on in that shift's figures too.
            if let Some(seen) = a.last_seen_ms
                && now_ms - seen > self.config.silence_ms
                && a.state != StateCode::Unknown
            {
                let since = seen + self.config.silence_ms;
                a.book_until(since);
                a.state = StateCode::Unknown;
                a.since_ms = Some(since);
                a.reason = "silent".into();
            }
            match &a.shift {
                None => a.shift = Some(self.clock.at(now_ms)),
                Some(w) => {
                    if let Some(later) = self.clock.shown_at(w, now_ms) {
                        a.roll(later);
                    }
                }
            }
            assets.insert(name.clone(), a);
        }
        assets
    }
}

#[cfg(test)]
mod tests;
