//! The event loop and its handlers. The calendar and the clock live outside the bevy World (measured
//! cheaper than a Resource); handlers are plain methods taking `&mut self`, dispatched by a `match` on
//! a small `Copy` event enum. Scheduled events are never removed: a handler checks the epoch the event
//! carries against the component's, and ignores a stale one (lazy cancellation).
//!
//! The handlers by family: `demand` (arrivals, releases, queues), `machines` (work, cycles, moving
//! parts on), `stops` (failures, repairs, crews, maintenance, the shift calendar). This file holds
//! the types, construction, the loop and what every handler shares.

use crate::components::*;
use crate::lookup::{Looked, PlantWorld};
use crate::rng;
use crate::trace::{TraceKind, TraceRecord, TraceSink};
use bevy_ecs::prelude::*;
use rand::RngExt;
use serde::{Deserialize, Serialize};
use sketches_ddsketch::{Config, DDSketch};
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::sync::Arc;
use takt_model::{FailureBasis, FailureMode, Model};

mod calendar;
pub use calendar::Calendar;
mod demand;
mod machines;
mod stops;

/// Things that happen at an instant. Small and `Copy`: the calendar holds millions of them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum SimEvent {
    Arrival,
    OrderRelease(Entity),
    ActivityEnd {
        machine: Entity,
        epoch: u32,
    },
    Failure {
        machine: Entity,
        mode: u16,
        epoch: u32,
    },
    RepairEnd {
        machine: Entity,
        mode: u16,
    },
    MaintenanceDue(Entity),
    MaintenanceEnd(Entity),
    CalendarChange,
    WarmupEnd,
}

/// A calendar entry. Ordered by time, then by scheduling sequence: same-time events run in the order
/// they were scheduled (FIFO), which makes every run reproducible.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Scheduled {
    pub time: f64,
    pub seq: u64,
    pub event: SimEvent,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap, the calendar pops the earliest. Times are never NaN
        // (a plain float comparison, cheaper than `total_cmp` on the calendar's every sift).
        match other.time.partial_cmp(&self.time) {
            Some(Ordering::Less) => Ordering::Less,
            Some(Ordering::Greater) => Ordering::Greater,
            _ => other.seq.cmp(&self.seq),
        }
    }
}

/// Plant-level statistics since the last reset.
#[derive(Clone, Serialize, Deserialize)]
pub struct PlantStats {
    pub since: f64,
    pub wip: u64,
    pub wip_since: f64,
    pub wip_integral: f64,
    pub released: u64,
    pub completed: u64,
    /// Good parts since t = 0, not reset by the warm-up (for time series).
    pub completed_total: u64,
    pub scrapped: u64,
    pub lead_time_sum_s: f64,
    pub lead_time: DDSketch,
    /// Every departure, good or scrapped: Little's law holds for these.
    pub departures: u64,
    pub sojourn_sum_s: f64,
}

impl std::fmt::Debug for PlantStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlantStats")
            .field("since", &self.since)
            .field("wip", &self.wip)
            .field("released", &self.released)
            .field("completed", &self.completed)
            .field("scrapped", &self.scrapped)
            .finish_non_exhaustive()
    }
}

impl PlantStats {
    pub(crate) fn new(now: f64, wip: u64, completed_total: u64) -> Self {
        PlantStats {
            since: now,
            wip,
            wip_since: now,
            wip_integral: 0.0,
            released: 0,
            completed: 0,
            completed_total,
            scrapped: 0,
            lead_time_sum_s: 0.0,
            lead_time: DDSketch::new(Config::defaults()),
            departures: 0,
            sojourn_sum_s: 0.0,
        }
    }

    fn wip_change(&mut self, now: f64, up: bool) {
        self.wip_integral += self.wip as f64 * (now - self.wip_since);
        self.wip_since = now;
        if up {
            self.wip += 1;
        } else {
            self.wip -= 1;
        }
    }
}

/// Entities by model index, and what the handlers need to know about each station without a lookup.
#[derive(Debug, Clone)]
pub struct Topology {
    pub source: Entity,
    pub machines: Vec<Entity>,
    pub machine_names: Vec<String>,
    /// Per station, what an event needs of it (see [`StationCore`]).
    pub stations: Vec<StationCore>,
    pub buffers: Vec<Entity>,
    /// Per buffer, the station taking from it (the model's, kept beside the entities: an arrival
    /// reads it).
    pub buffer_station: Vec<u32>,
    pub crews: Vec<Entity>,
    pub orders: Vec<Entity>,
    /// Per product and routing step, at `steps[first_step[product] + step]`: what the end of a
    /// cycle needs of the step (see [`StepCore`]).
    pub steps: Vec<StepCore>,
    /// Beside `steps`, by the same index: what the start of a step needs (see [`StepTime`]).
    pub step_times: Vec<StepTime>,
    pub first_step: Vec<u32>,
    /// Whether the machines take more room than [`MACHINES_IN_CACHE_BYTES`]: the engine then asks
    /// for a machine's lines before it reads them. A plant of a few dozen machines keeps them all
    /// in the first-level cache, where asking costs instructions and brings nothing.
    pub machines_out_of_cache: bool,
}

/// The room the machines may take and still stay in the first-level cache beside the rest of an
/// event's data: two thirds of the 48 KiB of the processors takt is measured on.
const MACHINES_IN_CACHE_BYTES: usize = 32 * 1024;

/// What the start of a routing step needs, in one table by step: the process time, drawn at each
/// start, and its mean (what shortest-processing-time picks compare). The model's `Operation` is
/// two pointers further (products, then the routing) and spread over the heap with its names and
/// station lists: in plants of a thousand stations its read was the costliest second-level miss
/// of a start after a changeover (cachegrind, `benches/plants.rs`).
#[derive(Debug, Clone)]
pub struct StepTime {
    pub process_time: takt_model::distribution::Sampler,
    pub mean_s: f64,
}

/// What the end of a cycle needs of a routing step, in 32 bytes of one table (a test checks the
/// size). The model's `Operation` holds names and vectors, and the ideal cycle is in the station's
/// table by product.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct StepCore {
    pub scrap_probability: f64,
    pub rework_probability: f64,
    /// The ideal cycle of the one station doing the step (its `ideal_cycle_s` for the product, else
    /// the step's mean); NaN when several stations can (each has its own).
    pub ideal_s: f64,
    /// The input buffer of the one station doing it, [`SEVERAL_STATIONS`] when several can (the
    /// part then goes where the load is least, see `choose_buffer`).
    pub buffer: u32,
    /// The routing's last step.
    pub last: bool,
}

/// What an event needs of a station, in 32 bytes of one table (a test checks the size): its
/// machines, its input buffer (index and entity), its dispatching rule and what it has (failure
/// modes by basis, changeovers).
/// In plants of a thousand stations the model's `Station` (names, vectors) no longer stays in the
/// first-level cache; this does, or costs one line.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct StationCore {
    /// The input buffer's entity (its `BufferQueue`).
    pub input_queue: Entity,
    /// Its machines: `Topology::machines[first_machine..end_machine]`.
    pub first_machine: u32,
    pub end_machine: u32,
    pub input_buffer: u32,
    pub dispatch: takt_model::DispatchRule,
    pub has_operating_modes: bool,
    pub has_cycle_modes: bool,
    pub has_calendar_modes: bool,
    pub has_changeover: bool,
}

impl Topology {
    /// Step `operation` of `product`'s routing.
    #[inline(always)]
    pub fn step(&self, product: u32, operation: u32) -> &StepCore {
        &self.steps[(self.first_step[product as usize] + operation) as usize]
    }

    /// The process time of step `operation` of `product`'s routing, and its mean.
    #[inline(always)]
    pub fn step_time(&self, product: u32, operation: u32) -> &StepTime {
        &self.step_times[(self.first_step[product as usize] + operation) as usize]
    }

    /// Where machine `m` of `station` is in [`Topology::machines`].
    pub fn machine_position(&self, station: usize, m: Entity) -> Option<usize> {
        self.stations[station]
            .machines()
            .find(|&i| self.machines[i] == m)
    }
}

/// The ideal cycle of step `operation` of `product` at `station` (ISO 22400's planned unit
/// processing time): the station's own for the product, else the step's mean. Out of line: the
/// engine reads it only for steps several stations can do (else from [`StepCore::ideal_s`]).
#[inline(never)]
fn ideal_cycle_s(model: &Model, station: usize, product: usize, operation: usize) -> f64 {
    model.stations[station].ideal_cycle_s[product]
        .unwrap_or(model.products[product].routing[operation].process_mean_s)
}

impl StationCore {
    /// The indices of its machines in `Topology::machines`.
    #[inline]
    pub fn machines(&self) -> std::ops::Range<usize> {
        self.first_machine as usize..self.end_machine as usize
    }
}

/// A routing step several stations can do (see [`StepCore::buffer`]).
pub const SEVERAL_STATIONS: u32 = u32::MAX;

/// One replication of a plant model: build it, run it, read its KPIs, snapshot and restore it.
pub struct Simulation {
    pub(crate) model: Arc<Model>,
    pub(crate) world: PlantWorld,
    pub(crate) calendar: Calendar,
    pub(crate) now: f64,
    pub(crate) seq: u64,
    pub(crate) events: u64,
    pub(crate) topo: Topology,
    pub(crate) plant: PlantStats,
    pub(crate) seed: u64,
    pub(crate) trace: Option<Box<dyn TraceSink>>,
    pub(crate) trace_seq: u64,
    /// Set when the machines follow a production plan (see `plan.rs`).
    pub(crate) plan: Option<Box<crate::plan::PlanState>>,
}

impl Simulation {
    /// Builds the plant at t = 0 with every random stream derived from `seed`, and schedules its first
    /// events. Nothing runs until [`Simulation::run_until`].
    pub fn new(model: Arc<Model>, seed: u64) -> Simulation {
        let mut sim = Simulation::spawn(model, seed);
        sim.schedule_initial_events();
        sim
    }

    /// The plant's entities at t = 0, empty and idle, with every random stream derived from `seed`;
    /// nothing scheduled yet.
    pub(crate) fn spawn(model: Arc<Model>, seed: u64) -> Simulation {
        let mut world = World::new();
        let source = world
            .spawn(Source {
                interarrival: rng::stream(seed, &["arrivals", "interarrival"]),
                mix: rng::stream(seed, &["arrivals", "mix"]),
                arrivals: 0,
            })
            .id();
        let rules = buffer_rules(&model);
        let buffers = model
            .buffers
            .iter()
            .enumerate()
            .map(|(i, b)| {
                world
                    .spawn(BufferQueue {
                        index: i as u32,
                        capacity: b.capacity,
                        parts: {
                            let mut queue = crate::part_queue::PartQueue::default();
                            queue.index_for(rules[i]);
                            queue
                        },
                        waiting: VecDeque::new(),
                        level_since: 0.0,
                        level_integral: 0.0,
                        max_level: 0,
                    })
                    .id()
            })
            .collect();
        let mut machines = Vec::new();
        for (si, st) in model.stations.iter().enumerate() {
            for k in 0..st.machines {
                let name = st.machine_name(k);
                let key = |what: &str| rng::stream(seed, &[what, &name]);
                let streams = MachineStreams {
                    process: key("process"),
                    setup: key("setup"),
                    quality: key("quality"),
                    maintenance: key("maintenance"),
                    failures: st
                        .failure_modes
                        .iter()
                        .map(|f| {
                            (
                                rng::stream(seed, &["ttf", &name, &f.name]),
                                rng::stream(seed, &["ttr", &name, &f.name]),
                            )
                        })
                        .collect(),
                };
                let machine = Machine {
                    station: si as u32,
                    activity: Activity::Idle,
                    part: None,
                    last_product: None,
                    off_shift: false,
                    planned_down: false,
                    active_failures: 0,
                    activity_end: 0.0,
                    remaining_s: 0.0,
                    segment_start: 0.0,
                    epoch: 0,
                    blocked_on: None,
                    last_failure_mode: 0,
                    next_maintenance_at: st
                        .maintenance
                        .as_ref()
                        .and_then(|m| m.first_s())
                        .unwrap_or(NEVER),
                    maintenance_waiting: false,
                    product: 0,
                    operation: 0,
                    due: NEVER,
                    clock: StateClock::new(0.0, MachineState::Starved),
                    counts: PieceCounts::default(),
                    modes: st
                        .failure_modes
                        .iter()
                        .map(|_| ModeState {
                            remaining: 0.0,
                            active: false,
                            epoch: 0,
                            due_at: NEVER,
                            failed_at: 0.0,
                            failures: 0,
                            repairs: 0,
                            repair_s: 0.0,
                        })
                        .collect(),
                    streams,
                };
                machines.push(world.spawn(machine).id());
            }
        }
        let crews = model
            .crews
            .iter()
            .enumerate()
            .map(|(i, c)| {
                world
                    .spawn(CrewState {
                        index: i as u32,
                        count: c.count,
                        free: c.count,
                        queue: VecDeque::new(),
                        busy_s: 0.0,
                        busy_since: 0.0,
                    })
                    .id()
            })
            .collect();
        let orders = model
            .orders
            .iter()
            .enumerate()
            .map(|(i, o)| {
                world
                    .spawn(OrderState {
                        index: i as u32,
                        outstanding: o.quantity,
                        good: 0,
                        released: false,
                        completed_at: None,
                    })
                    .id()
            })
            .collect();
        let topo = topology(&model, source, machines, buffers, crews, orders);
        Simulation {
            model,
            world: PlantWorld::new(world),
            calendar: Calendar::new(),
            now: 0.0,
            seq: 0,
            events: 0,
            topo,
            plant: PlantStats::new(0.0, 0, 0),
            seed,
            trace: None,
            trace_seq: 0,
            plan: None,
        }
    }

    fn schedule_initial_events(&mut self) {
        let model = Arc::clone(&self.model);
        // Shift calendar first, so that t = 0 off-shift holds before anything starts.
        if model.calendar.is_some() {
            self.on_calendar_change();
        }
        for &m in &self.topo.machines.clone() {
            let station = self.machine(m).station as usize;
            let st = &model.stations[station];
            for (fi, f) in st.failure_modes.iter().enumerate() {
                let draw = self.draw_ttf(m, fi);
                let mach = self.machine_mut(m);
                mach.modes[fi].remaining = draw;
                if f.basis == FailureBasis::Calendar {
                    mach.modes[fi].due_at = draw;
                    let epoch = mach.modes[fi].epoch;
                    self.schedule(
                        draw,
                        SimEvent::Failure {
                            machine: m,
                            mode: fi as u16,
                            epoch,
                        },
                    );
                }
            }
            if let Some(first) = st.maintenance.as_ref().and_then(|mt| mt.first_s()) {
                self.schedule(first, SimEvent::MaintenanceDue(m));
            }
        }
        for (oi, o) in model.orders.iter().enumerate() {
            let order = self.topo.orders[oi];
            self.schedule(o.release_s, SimEvent::OrderRelease(order));
        }
        if let Some(a) = &model.arrivals {
            let source = self.topo.source;
            let first = a
                .interarrival
                .sample(&mut self.comp_mut::<Source>(source).interarrival);
            if a.until_s.is_none_or(|u| first <= u) {
                self.schedule(first, SimEvent::Arrival);
            }
        }
        if model.warmup_s > 0.0 {
            self.schedule(model.warmup_s, SimEvent::WarmupEnd);
        }
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Simulated time, seconds.
    pub fn now(&self) -> f64 {
        self.now
    }

    /// Events handled so far (stale, cancelled ones not counted).
    pub fn events(&self) -> u64 {
        self.events
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn topology(&self) -> &Topology {
        &self.topo
    }

    pub fn world(&self) -> &World {
        self.world.world()
    }

    pub fn plant_stats(&self) -> &PlantStats {
        &self.plant
    }

    /// Sends machine state changes and piece counts to `sink` from now on, starting with every
    /// machine's current state so that the stream alone tells the whole story.
    pub fn set_trace(&mut self, sink: Box<dyn TraceSink>) {
        self.trace = Some(sink);
        for m in self.topo.machines.clone() {
            let state = self.machine(m).clock.state;
            self.emit_state(m, state, "initial");
        }
    }

    pub fn take_trace(&mut self) -> Option<Box<dyn TraceSink>> {
        self.trace.take()
    }

    /// Handles every event up to and including time `until`, then sets the clock to `until`. It has
    /// no budget: a run of a plant from outside goes through [`Simulation::run_guarded`].
    pub fn run_until(&mut self, until: f64) {
        while !self.run_events(until, u64::MAX).0 {}
    }

    /// Handles at most `max` calendar entries up to and including `until`. Returns whether `until`
    /// was reached (the clock is then set to it) and how many entries were handled.
    pub(crate) fn run_events(&mut self, until: f64, max: u64) -> (bool, u64) {
        let mut handled = 0;
        while let Some(next) = self.calendar.peek() {
            if next.time > until {
                break;
            }
            if handled == max {
                return (false, handled);
            }
            let next = *next;
            self.calendar.take_peeked();
            // The machine of the next event, most often the end of a cycle, is asked for while
            // this one is handled: in a plant of 1,000 stations it is no longer in the
            // first-level cache (`benches/plants.rs`: 4 to 8 % less time per event for FIFO).
            if let Some(Scheduled {
                event: SimEvent::ActivityEnd { machine, .. },
                ..
            }) = self.calendar.following()
            {
                self.world.prefetch::<Machine>(*machine, Machine::HOT_LINES);
            }
            handled += 1;
            self.now = next.time;
            if self.dispatch(next.event) {
                self.events += 1;
            }
        }
        if until > self.now {
            self.now = until;
        }
        (true, handled)
    }

    /// Runs to the model's horizon.
    pub fn run(&mut self) {
        let horizon = self.model.horizon_s;
        self.run_until(horizon);
    }

    #[inline(always)]
    pub(crate) fn schedule(&mut self, time: f64, event: SimEvent) {
        debug_assert!(!time.is_nan(), "an event at a NaN time: {event:?}");
        self.seq += 1;
        let entry = Scheduled {
            time,
            seq: self.seq,
            event,
        };
        self.calendar.push(entry, self.now);
    }

    /// Returns whether the event did anything (false for a stale, cancelled one).
    fn dispatch(&mut self, event: SimEvent) -> bool {
        match event {
            SimEvent::Arrival => self.on_arrival(),
            SimEvent::OrderRelease(order) => self.on_order_release(order),
            SimEvent::ActivityEnd { machine, epoch } => {
                return self.on_activity_end(machine, epoch);
            }
            SimEvent::Failure {
                machine,
                mode,
                epoch,
            } => {
                let st = &self.machine(machine).modes[mode as usize];
                if st.epoch != epoch || st.active {
                    return false;
                }
                self.fail(machine, mode as usize);
            }
            SimEvent::RepairEnd { machine, mode } => self.on_repair_end(machine, mode as usize),
            SimEvent::MaintenanceDue(machine) => self.on_maintenance_due(machine),
            SimEvent::MaintenanceEnd(machine) => self.on_maintenance_end(machine),
            SimEvent::CalendarChange => self.on_calendar_change(),
            SimEvent::WarmupEnd => self.reset_statistics(),
        }
        true
    }

    // ----- component access: entities are created by the engine itself, so absence is a bug -----

    #[inline]
    pub(crate) fn comp<T: Looked>(&self, e: Entity) -> &T {
        self.world.get::<T>(e)
    }

    #[inline]
    pub(crate) fn comp_mut<T: Looked>(&mut self, e: Entity) -> &mut T {
        self.world.get_mut::<T>(e)
    }

    #[inline]
    fn machine(&self, m: Entity) -> &Machine {
        self.comp::<Machine>(m)
    }

    #[inline]
    fn machine_mut(&mut self, m: Entity) -> &mut Machine {
        self.comp_mut::<Machine>(m)
    }

    fn machine_index(&self, m: Entity) -> usize {
        // Machines are spawned in a block after the source and buffers; find by station range.
        let station = self.machine(m).station as usize;
        self.topo
            .machine_position(station, m)
            .unwrap_or(self.topo.stations[station].first_machine as usize)
    }

    // ----- state accounting -----

    /// Re-derives the machine's reported state and books the time spent in the previous one.
    fn update_state(&mut self, m: Entity) {
        self.with_machine(m, |_, _, _| ());
    }

    /// Applies `change` to a machine (the model and the topology alongside, for what it needs to look
    /// up) and books any change of its reported state, with one lookup.
    fn with_machine<R>(
        &mut self,
        m: Entity,
        change: impl FnOnce(&mut Machine, &Model, &Topology) -> R,
    ) -> R {
        let now = self.now;
        let (result, changed) = {
            let mach = self.world.get_mut::<Machine>(m);
            let result = change(mach, &self.model, &self.topo);
            let new = mach.state();
            let changed = (mach.clock.state != new).then(|| {
                mach.clock.switch(now, new);
                (new, mach.station as usize, mach.last_failure_mode as usize)
            });
            (result, changed)
        };
        if let Some((new, station, mode)) = changed
            && self.trace.is_some()
        {
            let reason = match new {
                MachineState::Processing => "production",
                MachineState::Setup => "changeover",
                MachineState::Starved => "no_input",
                MachineState::Blocked => "output_full",
                MachineState::Down => {
                    let name = self.model.stations[station].failure_modes[mode]
                        .name
                        .clone();
                    self.emit_state(m, new, &name);
                    return result;
                }
                MachineState::PlannedDown => "maintenance",
                MachineState::OffShift => "off_shift",
            };
            self.emit_state(m, new, reason);
        }
        result
    }

    fn emit_state(&mut self, m: Entity, state: MachineState, reason: &str) {
        let index = self.machine_index(m);
        self.trace_seq += 1;
        if let Some(sink) = self.trace.as_mut() {
            sink.record(&TraceRecord {
                time_s: self.now,
                seq: self.trace_seq,
                asset: &self.topo.machine_names[index],
                kind: TraceKind::State { state, reason },
            });
        }
    }

    fn emit_count(&mut self, m: Entity, good: u32, scrap: u32, rework: u32) {
        let index = self.machine_index(m);
        let product = self.machine(m).product as usize;
        self.trace_seq += 1;
        if let Some(sink) = self.trace.as_mut() {
            sink.record(&TraceRecord {
                time_s: self.now,
                seq: self.trace_seq,
                asset: &self.topo.machine_names[index],
                kind: TraceKind::Count {
                    good,
                    scrap,
                    rework,
                    product: &self.model.products[product].name,
                },
            });
        }
    }
}

/// Per buffer, the dispatching rule of the stations taking from it (`None`: none do, or their
/// rules differ), in one pass over the stations.
pub(crate) fn buffer_rules(model: &Model) -> Vec<Option<takt_model::DispatchRule>> {
    // `None`: no station seen yet; `Some(None)`: stations of different rules.
    let mut rules: Vec<Option<Option<takt_model::DispatchRule>>> = vec![None; model.buffers.len()];
    for station in &model.stations {
        if let Some(seen) = rules.get_mut(station.input_buffer) {
            *seen = match *seen {
                None => Some(Some(station.dispatch)),
                Some(Some(rule)) if rule == station.dispatch => Some(Some(rule)),
                _ => Some(None),
            };
        }
    }
    rules.into_iter().map(Option::flatten).collect()
}

/// Puts a part at the end of a buffer's line, booking the time at the old level.
fn push_entry(q: &mut BufferQueue, now: f64, entry: QueueEntry) {
    q.level_integral += q.parts.len() as f64 * (now - q.level_since);
    q.level_since = now;
    q.parts.push_back(entry);
    q.max_level = q.max_level.max(q.parts.len() as u32);
}

/// The topology of a model over given entities (in model order).
pub(crate) fn topology(
    model: &Model,
    source: Entity,
    machines: Vec<Entity>,
    buffers: Vec<Entity>,
    crews: Vec<Entity>,
    orders: Vec<Entity>,
) -> Topology {
    let mut machine_names = Vec::new();
    let mut stations = Vec::with_capacity(model.stations.len());
    for st in &model.stations {
        let first = machine_names.len() as u32;
        for k in 0..st.machines {
            machine_names.push(st.machine_name(k));
        }
        let has = |b: FailureBasis| st.failure_modes.iter().any(|f| f.basis == b);
        stations.push(StationCore {
            input_queue: buffers[st.input_buffer],
            first_machine: first,
            end_machine: machine_names.len() as u32,
            input_buffer: st.input_buffer as u32,
            dispatch: st.dispatch,
            has_operating_modes: has(FailureBasis::Operating),
            has_cycle_modes: has(FailureBasis::Cycles),
            has_calendar_modes: has(FailureBasis::Calendar),
            has_changeover: st.changeover.is_some(),
        });
    }
    let mut first_step = Vec::with_capacity(model.products.len());
    let (mut steps, mut step_times) = (Vec::new(), Vec::new());
    for (p, product) in model.products.iter().enumerate() {
        first_step.push(steps.len() as u32);
        for (k, op) in product.routing.iter().enumerate() {
            let (buffer, ideal_s) = match op.stations[..] {
                [only] => (
                    model.stations[only].input_buffer as u32,
                    ideal_cycle_s(model, only, p, k),
                ),
                _ => (SEVERAL_STATIONS, f64::NAN),
            };
            steps.push(StepCore {
                scrap_probability: op.scrap_probability,
                rework_probability: op.rework_probability,
                ideal_s,
                buffer,
                last: k + 1 == product.routing.len(),
            });
            step_times.push(StepTime {
                process_time: op.process_time.clone(),
                mean_s: op.process_mean_s,
            });
        }
    }
    Topology {
        source,
        machines_out_of_cache: machines.len() * std::mem::size_of::<Machine>()
            > MACHINES_IN_CACHE_BYTES,
        machines,
        machine_names,
        stations,
        buffers,
        buffer_station: model.buffers.iter().map(|b| b.station as u32).collect(),
        crews,
        orders,
        steps,
        step_times,
        first_step,
    }
}

#[cfg(test)]
mod tests {
    /// Two stations or two steps to a cache line: a field added to either record fails this.
    #[test]
    fn the_station_and_step_records_are_32_bytes() {
        assert_eq!(std::mem::size_of::<super::StationCore>(), 32);
        assert_eq!(std::mem::size_of::<super::StepCore>(), 32);
    }
}
