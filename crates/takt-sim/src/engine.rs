//! The event loop and its handlers. The calendar and the clock live outside the bevy World (measured
//! cheaper than a Resource); handlers are plain methods taking `&mut self`, dispatched by a `match` on
//! a small `Copy` event enum. Scheduled events are never removed: a handler checks the epoch the event
//! carries against the component's, and ignores a stale one (lazy cancellation).

use crate::components::*;
use crate::lookup::{Looked, PlantWorld};
use crate::rng;
use crate::trace::{TraceKind, TraceRecord, TraceSink};
use bevy_ecs::prelude::*;
use rand::RngExt;
use serde::{Deserialize, Serialize};
use sketches_ddsketch::{Config, DDSketch};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use takt_model::{FailureBasis, FailureMode, Model};

/// Things that happen at an instant. Small and `Copy`: the calendar holds millions of them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Event {
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
    pub event: Event,
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
        // Reversed: BinaryHeap is a max-heap, the calendar pops the earliest.
        other
            .time
            .total_cmp(&self.time)
            .then_with(|| other.seq.cmp(&self.seq))
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
    /// Machines of station `s`: `machines[station_machines[s].0 .. station_machines[s].1]`.
    pub station_machines: Vec<(usize, usize)>,
    pub buffers: Vec<Entity>,
    pub crews: Vec<Entity>,
    pub orders: Vec<Entity>,
    pub has_operating_modes: Vec<bool>,
    pub has_cycle_modes: Vec<bool>,
    pub has_calendar_modes: Vec<bool>,
}

/// One replication of a plant model: build it, run it, read its KPIs, snapshot and restore it.
pub struct Simulation {
    pub(crate) model: Arc<Model>,
    pub(crate) world: PlantWorld,
    pub(crate) calendar: BinaryHeap<Scheduled>,
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
        let buffers = model
            .buffers
            .iter()
            .enumerate()
            .map(|(i, b)| {
                world
                    .spawn(BufferQueue {
                        index: i as u32,
                        capacity: b.capacity,
                        parts: VecDeque::new(),
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
        let topo = crate::snapshot::topology(&model, source, machines, buffers, crews, orders);
        Simulation {
            model,
            world: PlantWorld::new(world),
            calendar: BinaryHeap::new(),
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
                let mut mach = self.machine_mut(m);
                mach.modes[fi].remaining = draw;
                if f.basis == FailureBasis::Calendar {
                    mach.modes[fi].due_at = draw;
                    let epoch = mach.modes[fi].epoch;
                    self.schedule(
                        draw,
                        Event::Failure {
                            machine: m,
                            mode: fi as u16,
                            epoch,
                        },
                    );
                }
            }
            if let Some(first) = st.maintenance.as_ref().and_then(|mt| mt.first_s()) {
                self.schedule(first, Event::MaintenanceDue(m));
            }
        }
        for (oi, o) in model.orders.iter().enumerate() {
            let order = self.topo.orders[oi];
            self.schedule(o.release_s, Event::OrderRelease(order));
        }
        if let Some(a) = &model.arrivals {
            let source = self.topo.source;
            let first = a
                .interarrival
                .sample(&mut self.comp_mut::<Source>(source).interarrival);
            if a.until_s.is_none_or(|u| first <= u) {
                self.schedule(first, Event::Arrival);
            }
        }
        if model.warmup_s > 0.0 {
            self.schedule(model.warmup_s, Event::WarmupEnd);
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
            let Some(next) = self.calendar.pop() else {
                break;
            };
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

    pub(crate) fn schedule(&mut self, time: f64, event: Event) {
        self.seq += 1;
        self.calendar.push(Scheduled {
            time,
            seq: self.seq,
            event,
        });
    }

    /// Returns whether the event did anything (false for a stale, cancelled one).
    fn dispatch(&mut self, event: Event) -> bool {
        match event {
            Event::Arrival => self.on_arrival(),
            Event::OrderRelease(order) => self.on_order_release(order),
            Event::ActivityEnd { machine, epoch } => return self.on_activity_end(machine, epoch),
            Event::Failure {
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
            Event::RepairEnd { machine, mode } => self.on_repair_end(machine, mode as usize),
            Event::MaintenanceDue(machine) => self.on_maintenance_due(machine),
            Event::MaintenanceEnd(machine) => self.on_maintenance_end(machine),
            Event::CalendarChange => self.on_calendar_change(),
            Event::WarmupEnd => self.reset_statistics(),
        }
        true
    }

    // ----- component access: entities are created by the engine itself, so absence is a bug -----

    #[inline]
    pub(crate) fn comp<T: Looked>(&self, e: Entity) -> &T {
        self.world.get::<T>(e)
    }

    #[inline]
    pub(crate) fn comp_mut<T: Looked>(&mut self, e: Entity) -> Mut<'_, T> {
        self.world.get_mut::<T>(e)
    }

    #[inline]
    fn machine(&self, m: Entity) -> &Machine {
        self.comp::<Machine>(m)
    }

    #[inline]
    fn machine_mut(&mut self, m: Entity) -> Mut<'_, Machine> {
        self.comp_mut::<Machine>(m)
    }

    fn machine_index(&self, m: Entity) -> usize {
        // Machines are spawned in a block after the source and buffers; find by station range.
        let station = self.machine(m).station as usize;
        let (a, b) = self.topo.station_machines[station];
        (a..b).find(|&i| self.topo.machines[i] == m).unwrap_or(a)
    }

    // ----- state accounting -----

    /// Re-derives the machine's reported state and books the time spent in the previous one.
    fn update_state(&mut self, m: Entity) {
        self.with_machine(m, |_, _| ());
    }

    /// Applies `change` to a machine (the model alongside, for what it needs to look up) and books
    /// any change of its reported state, with one lookup.
    fn with_machine<R>(&mut self, m: Entity, change: impl FnOnce(&mut Machine, &Model) -> R) -> R {
        let now = self.now;
        let (result, changed) = {
            let mut mach = self.world.get_mut::<Machine>(m);
            let result = change(&mut mach, &self.model);
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

    // ----- demand -----

    fn on_arrival(&mut self) {
        let Some(a) = &self.model.arrivals else {
            return;
        };
        let now = self.now;
        let (product, next) = {
            let mut src = self.world.get_mut::<Source>(self.topo.source);
            src.arrivals += 1;
            let product = if a.mix_products.len() == 1 {
                a.mix_products[0]
            } else {
                let u: f64 = src.mix.random();
                let i = a.mix_cumulative.partition_point(|c| *c <= u);
                a.mix_products[i.min(a.mix_products.len() - 1)]
            };
            (product, now + a.interarrival.sample(&mut src.interarrival))
        };
        let due = a.due_in_s.map_or(NEVER, |d| now + d);
        if a.until_s.is_none_or(|u| next <= u) {
            self.schedule(next, Event::Arrival);
        }
        self.release_part(product as u32, due, None);
    }

    /// Model index of a part's order, [`NO_ORDER`] for a part without one.
    fn order_index(&self, part: &Part) -> u32 {
        part.order
            .map_or(NO_ORDER, |o| self.comp::<OrderState>(o).index)
    }

    fn on_order_release(&mut self, order: Entity) {
        let index = {
            let mut o = self.comp_mut::<OrderState>(order);
            o.released = true;
            o.index as usize
        };
        let model = Arc::clone(&self.model);
        let spec = &model.orders[index];
        let due = spec.due_s.unwrap_or(NEVER);
        for _ in 0..spec.quantity {
            self.release_part(spec.product as u32, due, Some(order));
        }
    }

    /// A new part enters the plant at its first operation.
    fn release_part(&mut self, product: u32, due: f64, order: Option<Entity>) {
        let part = Part {
            product,
            released_at: self.now,
            due,
            order,
        };
        self.plant.released += 1;
        self.plant.wip_change(self.now, true);
        let order_index = order.map_or(NO_ORDER, |o| self.comp::<OrderState>(o).index);
        let buffer = self.choose_buffer(product, 0, order_index);
        let b = self.topo.buffers[buffer];
        if self.comp::<BufferQueue>(b).has_room() {
            let entry = self.queue_entry(part, 0);
            self.enqueue(buffer, entry);
        } else {
            self.comp_mut::<BufferQueue>(b)
                .waiting
                .push_back(Waiter::Release(part));
        }
    }

    pub(crate) fn queue_entry(&self, part: Part, operation: u32) -> QueueEntry {
        QueueEntry {
            released_at: part.released_at,
            order_entity: part.order,
            product: part.product,
            operation,
            // Only a plan needs to know the order of a waiting part.
            order: if self.plan.is_some() {
                self.order_index(&part)
            } else {
                NO_ORDER
            },
            due: part.due,
            mean_s: self.model.products[part.product as usize].routing[operation as usize]
                .process_mean_s,
        }
    }

    /// Among the eligible stations of an operation, the input buffer with the fewest parts per machine
    /// that has room (the first listed on ties); if none has room, the one with the fewest waiting.
    /// Under a plan, the buffer of the station planned for the order's step.
    #[inline]
    pub(crate) fn choose_buffer(&self, product: u32, operation: u32, order: u32) -> usize {
        if let Some(plan) = &self.plan
            && order != NO_ORDER
        {
            let station = plan.station_of[order as usize][operation as usize];
            return self.model.stations[station as usize].input_buffer;
        }
        let op = &self.model.products[product as usize].routing[operation as usize];
        if op.stations.len() == 1 {
            return self.model.stations[op.stations[0]].input_buffer;
        }
        let mut best: Option<(bool, f64, usize)> = None;
        for &s in &op.stations {
            let st = &self.model.stations[s];
            let q = self.comp::<BufferQueue>(self.topo.buffers[st.input_buffer]);
            let room = q.has_room();
            let load = if room {
                q.parts.len() as f64 / f64::from(st.machines)
            } else {
                q.waiting.len() as f64
            };
            let better = match best {
                None => true,
                Some((best_room, best_load, _)) => {
                    (room && !best_room) || (room == best_room && load < best_load)
                }
            };
            if better {
                best = Some((room, load, st.input_buffer));
            }
        }
        best.map_or(0, |b| b.2)
    }

    fn enqueue(&mut self, buffer: usize, entry: QueueEntry) {
        let now = self.now;
        push_entry(
            &mut self.world.get_mut::<BufferQueue>(self.topo.buffers[buffer]),
            now,
            entry,
        );
        self.arrived(buffer, entry);
    }

    /// A part was put in a buffer: a plan counts it, and a machine of the buffer's station may
    /// start it.
    fn arrived(&mut self, buffer: usize, entry: QueueEntry) {
        if let Some(plan) = &mut self.plan
            && entry.order != NO_ORDER
        {
            plan.arrived[entry.order as usize][entry.operation as usize] += 1;
        }
        let station = self.model.buffers[buffer].station;
        let (a, b) = self.topo.station_machines[station];
        for i in a..b {
            if self.try_start(self.topo.machines[i]) {
                return;
            }
        }
    }

    // ----- machines -----

    /// An idle, running machine takes the next part its dispatching rule picks; returns whether it did.
    pub(crate) fn try_start(&mut self, m: Entity) -> bool {
        let (station, last_product) = {
            let mach = self.machine(m);
            if mach.activity != Activity::Idle || mach.stopped() {
                return false;
            }
            (mach.station as usize, mach.last_product)
        };
        let st = &self.model.stations[station];
        let (input, dispatch) = (st.input_buffer, st.dispatch);
        let now = self.now;
        // Under a plan: only the machine's current lot, once all of it is there.
        let planned = match &mut self.plan {
            None => None,
            Some(plan) => {
                let station_machines = self.topo.station_machines[station];
                let mi =
                    (station_machines.0..station_machines.1).find(|&i| self.topo.machines[i] == m);
                match mi.and_then(|mi| plan.current_lot(mi)) {
                    Some((o, k)) if plan.lot_ready(o, k) => Some((o as u32, k as u32)),
                    _ => return false,
                }
            }
        };
        let entry = {
            let mut q = self.world.get_mut::<BufferQueue>(self.topo.buffers[input]);
            if q.parts.is_empty() {
                return false;
            }
            let i = match planned {
                None => select(&q.parts, dispatch, last_product),
                Some((o, k)) => match q
                    .parts
                    .iter()
                    .position(|e| e.order == o && e.operation == k)
                {
                    Some(i) => i,
                    None => return false,
                },
            };
            q.level_integral += q.parts.len() as f64 * (now - q.level_since);
            q.level_since = now;
            let taken = if i == 0 {
                q.parts.pop_front()
            } else {
                q.parts.remove(i)
            };
            match taken {
                Some(e) => (e, !q.waiting.is_empty()),
                None => return false,
            }
        };
        let (entry, someone_waits) = entry;
        self.start_activity(m, |mach, model| {
            // Setup if the product changes, else straight to processing.
            let setup = match (&model.stations[station].changeover, last_product) {
                (Some(c), Some(from)) => c
                    .between(from as usize, entry.product as usize)
                    .map(|s| s.sample(&mut mach.streams.setup)),
                _ => None,
            };
            let (activity, duration_s) = match setup {
                Some(d) => (Activity::Setup, d),
                None => (
                    Activity::Processing,
                    model.products[entry.product as usize].routing[entry.operation as usize]
                        .process_time
                        .sample(&mut mach.streams.process),
                ),
            };
            mach.part = Some(entry.part());
            mach.product = entry.product;
            mach.operation = entry.operation;
            mach.due = entry.due;
            mach.last_product = Some(entry.product);
            mach.counts.setups += u64::from(activity == Activity::Setup);
            (activity, duration_s)
        });
        // The machine is busy now: only then may the freed place pull a waiter in (which can call back
        // into this station). Starting an activity changes no buffer, so the line of waiters is still
        // the one seen above.
        if someone_waits {
            self.on_room(input);
        }
        true
    }

    /// The held part's processing starts (after its setup, or again for rework).
    fn start_processing(&mut self, m: Entity) {
        self.start_activity(m, |mach, model| {
            let d = model.products[mach.product as usize].routing[mach.operation as usize]
                .process_time
                .sample(&mut mach.streams.process);
            (Activity::Processing, d)
        });
    }

    /// Starts a setup or processing, with one lookup of the machine: `pick` sets what the machine
    /// takes on and returns the activity and its duration (drawn from the machine's own streams).
    /// A processing segment arms the operating-time failures that fall inside it.
    fn start_activity(
        &mut self,
        m: Entity,
        pick: impl FnOnce(&mut Machine, &Model) -> (Activity, f64),
    ) {
        let now = self.now;
        let (epoch, end, failures) = self.with_machine(m, |mach, model| {
            let (activity, duration_s) = pick(mach, model);
            mach.activity = activity;
            mach.epoch = mach.epoch.wrapping_add(1);
            mach.activity_end = now + duration_s;
            mach.remaining_s = duration_s;
            mach.segment_start = now;
            let failures = if activity == Activity::Processing {
                let modes = &model.stations[mach.station as usize].failure_modes;
                operating_failures_due(mach, modes, now, duration_s)
            } else {
                Vec::new()
            };
            (mach.epoch, now + duration_s, failures)
        });
        self.schedule(end, Event::ActivityEnd { machine: m, epoch });
        self.schedule_failures(m, failures);
    }

    /// Schedules the failures of operating-time modes that fall inside the coming processing segment.
    pub(crate) fn arm_operating_failures(&mut self, m: Entity, station: usize, segment_s: f64) {
        let now = self.now;
        // Disjoint borrows of the model and the World: no Arc clone on this per-cycle path.
        let mut mach = self.world.get_mut::<Machine>(m);
        let modes = &self.model.stations[station].failure_modes;
        let due = operating_failures_due(&mut mach, modes, now, segment_s);
        self.schedule_failures(m, due);
    }

    /// Schedules `(time, mode, epoch)` failures of a machine.
    fn schedule_failures(&mut self, m: Entity, due: Vec<(f64, u16, u32)>) {
        for (t, mode, epoch) in due {
            self.schedule(
                t,
                Event::Failure {
                    machine: m,
                    mode,
                    epoch,
                },
            );
        }
    }

    /// Ends the current processing segment: operating-time clocks age by its length.
    fn end_segment(&mut self, m: Entity, station: usize) {
        if !self.topo.has_operating_modes[station] {
            return;
        }
        let now = self.now;
        let mut mach = self.world.get_mut::<Machine>(m);
        let elapsed = now - mach.segment_start;
        age_operating_clocks(
            &mut mach,
            &self.model.stations[station].failure_modes,
            elapsed,
        );
    }

    fn on_activity_end(&mut self, m: Entity, epoch: u32) -> bool {
        let now = self.now;
        // One lookup: the end of a processing segment ages the operating-time clocks, and the
        // quality of the piece is drawn, before anything else touches the machine.
        let (activity, station, part, product, operation, quality) = {
            let mut mach = self.world.get_mut::<Machine>(m);
            if mach.epoch != epoch || mach.stopped() {
                return false;
            }
            let station = mach.station as usize;
            let (product, operation) = (mach.product, mach.operation);
            let mut quality = 1.0;
            if mach.activity == Activity::Processing && mach.part.is_some() {
                let elapsed = now - mach.segment_start;
                let modes = &self.model.stations[station].failure_modes;
                age_operating_clocks(&mut mach, modes, elapsed);
                let op = &self.model.products[product as usize].routing[operation as usize];
                // Only operations that can scrap or rework draw from the quality stream.
                if op.scrap_probability > 0.0 || op.rework_probability > 0.0 {
                    quality = mach.streams.quality.random::<f64>();
                }
            }
            (
                mach.activity,
                station,
                mach.part,
                product,
                operation,
                quality,
            )
        };
        match (activity, part) {
            (Activity::Setup, _) => self.start_processing(m),
            (Activity::Processing, Some(part)) => {
                self.complete_cycle(m, station, part, product, operation, quality)
            }
            _ => return false,
        }
        true
    }

    /// A piece is done: it is counted and goes on (or waits for room, is scrapped, or is reworked);
    /// `u` is the quality draw, uniform on [0, 1).
    fn complete_cycle(
        &mut self,
        m: Entity,
        station: usize,
        part: Part,
        product: u32,
        operation: u32,
        u: f64,
    ) {
        let routing = &self.model.products[product as usize].routing;
        let op = &routing[operation as usize];
        let last_step = operation as usize + 1 == routing.len();
        let ideal = self.model.stations[station].ideal_cycle_s[product as usize]
            .unwrap_or(op.process_mean_s);
        let scrap = u < op.scrap_probability;
        let rework = !scrap && u < op.scrap_probability + op.rework_probability;
        let good = !scrap && !rework;
        let order = if self.plan.is_some() {
            self.order_index(&part)
        } else {
            NO_ORDER
        };
        // A good part goes on to the buffer of its next operation if it has room, else the
        // machine waits for room there, blocked; one lookup of the buffer. Nothing between this
        // and the machine's change below reads either. The station of the buffer hears of the
        // part below, once the machine has changed.
        let next = (good && !last_step).then(|| {
            let buffer = self.choose_buffer(product, operation + 1, order);
            let entry = self.queue_entry(part, operation + 1);
            let now = self.now;
            let mut q = self.world.get_mut::<BufferQueue>(self.topo.buffers[buffer]);
            let room = q.has_room();
            if room {
                push_entry(&mut q, now, entry);
            } else {
                q.waiting.push_back(Waiter::Machine(m));
            }
            (buffer, room, entry)
        });
        let cycle_modes = self.topo.has_cycle_modes[station];
        let failing = self.with_machine(m, |mach, model| {
            let c = &mut mach.counts;
            c.produced += 1;
            c.ideal_s += ideal;
            c.scrap += u64::from(scrap);
            c.rework += u64::from(rework);
            c.good += u64::from(good);
            // Cycle-counted failure modes age by one cycle; those that run out fail below, once
            // the piece has gone on.
            let failing = if cycle_modes {
                count_cycle(mach, &model.stations[station].failure_modes)
            } else {
                Vec::new()
            };
            if rework {
                return failing;
            }
            if let Some((buffer, false, _)) = next {
                mach.activity = Activity::Blocked;
                mach.blocked_on = Some(buffer as u32);
            } else {
                mach.part = None;
                mach.activity = Activity::Idle;
                mach.blocked_on = None;
            }
            failing
        });
        if self.trace.is_some() {
            self.emit_count(m, u32::from(good), u32::from(scrap), u32::from(rework));
        }
        if !rework && order != NO_ORDER {
            self.plan_step_done(order as usize, operation as usize, scrap);
        }
        if rework {
            self.start_processing(m);
        } else {
            match next {
                None => self.depart(part, scrap),
                Some((buffer, true, entry)) => self.arrived(buffer, entry),
                Some((_, false, _)) => {}
            }
        }
        for fi in failing {
            self.fail(m, fi);
        }
        self.try_start(m);
    }

    /// A part of a planned lot is done with its step. A scrapped part is one fewer to wait for at
    /// every later step: their machines may be able to start now.
    fn plan_step_done(&mut self, order: usize, step: usize, scrapped: bool) {
        let Some(plan) = &mut self.plan else { return };
        plan.finished[order][step] += 1;
        if !scrapped {
            return;
        }
        plan.scrapped[order][step] += 1;
        let later: Vec<u32> = plan.machine_of[order][step + 1..].to_vec();
        for mi in later {
            let m = self.topo.machines[mi as usize];
            self.try_start(m);
        }
    }

    /// Every buffer takes any number of parts (for plans, see `plan.rs`).
    pub(crate) fn unlimit_buffers(&mut self) {
        for &b in &self.topo.buffers.clone() {
            self.comp_mut::<BufferQueue>(b).capacity = None;
        }
    }

    fn free_machine(&mut self, m: Entity) {
        self.with_machine(m, |mach, _| {
            mach.part = None;
            mach.activity = Activity::Idle;
            mach.blocked_on = None;
        });
    }

    /// A part leaves the plant: finished (good) or scrapped.
    fn depart(&mut self, part: Part, scrapped: bool) {
        let (released_at, order) = (part.released_at, part.order);
        let now = self.now;
        let sojourn = now - released_at;
        let plant = &mut self.plant;
        plant.wip_change(now, false);
        plant.departures += 1;
        plant.sojourn_sum_s += sojourn;
        if scrapped {
            plant.scrapped += 1;
        } else {
            plant.completed += 1;
            plant.completed_total += 1;
            plant.lead_time_sum_s += sojourn;
            plant.lead_time.add(sojourn);
        }
        // An order is complete when all its parts have left, good or scrapped (the report gives the
        // shortfall): a planner sizes orders with a scrap allowance, as the plant does.
        if let Some(order) = order {
            let mut o = self.comp_mut::<OrderState>(order);
            o.outstanding = o.outstanding.saturating_sub(1);
            o.good += u32::from(!scrapped);
            if o.outstanding == 0 && o.completed_at.is_none() {
                o.completed_at = Some(now);
            }
        }
    }

    /// Room was made in a buffer: the first waiter able to move goes in (a stopped machine keeps its
    /// place in line and is skipped until it runs again).
    pub(crate) fn on_room(&mut self, buffer: usize) {
        let b = self.topo.buffers[buffer];
        loop {
            let waiter = {
                let q = self.comp::<BufferQueue>(b);
                if !q.has_room() || q.waiting.is_empty() {
                    return;
                }
                let pos = q.waiting.iter().position(|w| match w {
                    Waiter::Release(_) => true,
                    Waiter::Machine(m) => !self.machine(*m).stopped(),
                });
                let Some(pos) = pos else { return };
                let mut q = self.comp_mut::<BufferQueue>(b);
                match q.waiting.remove(pos) {
                    Some(w) => w,
                    None => return,
                }
            };
            match waiter {
                Waiter::Release(part) => {
                    let entry = self.queue_entry(part, 0);
                    self.enqueue(buffer, entry);
                }
                Waiter::Machine(m) => self.unload_blocked(m, buffer),
            }
        }
    }

    /// A blocked machine hands its finished part to the buffer of the part's next operation.
    fn unload_blocked(&mut self, m: Entity, buffer: usize) {
        let (part, operation) = {
            let mach = self.machine(m);
            let Some(part) = mach.part else { return };
            (part, mach.operation)
        };
        self.free_machine(m);
        let entry = self.queue_entry(part, operation + 1);
        self.enqueue(buffer, entry);
        self.try_start(m);
    }

    // ----- stops: failures, maintenance, shifts -----

    /// Applies a change to a machine's stop flags and carries out what follows: pausing or resuming its
    /// work, freezing or restarting calendar-time failure clocks, and re-deriving its state.
    fn change_flags(&mut self, m: Entity, change: impl FnOnce(&mut Machine)) {
        let (was_stopped, was_frozen, is_stopped, is_frozen, station) = {
            let mut mach = self.machine_mut(m);
            let (ws, wf) = (mach.stopped(), mach.clocks_frozen());
            change(&mut mach);
            (
                ws,
                wf,
                mach.stopped(),
                mach.clocks_frozen(),
                mach.station as usize,
            )
        };
        if !was_stopped && is_stopped {
            self.pause(m, station);
        }
        if !was_frozen && is_frozen && self.topo.has_calendar_modes[station] {
            self.freeze_calendar_clocks(m, station);
        }
        if was_frozen && !is_frozen && self.topo.has_calendar_modes[station] {
            self.thaw_calendar_clocks(m, station);
        }
        self.update_state(m);
        if was_stopped && !is_stopped {
            self.resume(m, station);
        }
    }

    fn pause(&mut self, m: Entity, station: usize) {
        let now = self.now;
        let activity = {
            let mut mach = self.machine_mut(m);
            if matches!(mach.activity, Activity::Setup | Activity::Processing) {
                mach.remaining_s = mach.activity_end - now;
                mach.epoch = mach.epoch.wrapping_add(1);
            }
            mach.activity
        };
        if activity == Activity::Processing {
            self.end_segment(m, station);
        }
    }

    fn resume(&mut self, m: Entity, station: usize) {
        let now = self.now;
        let (activity, remaining, blocked_on) = {
            let mach = self.machine(m);
            (mach.activity, mach.remaining_s, mach.blocked_on)
        };
        match activity {
            Activity::Setup | Activity::Processing => {
                let epoch = {
                    let mut mach = self.machine_mut(m);
                    mach.activity_end = now + remaining;
                    mach.segment_start = now;
                    mach.epoch = mach.epoch.wrapping_add(1);
                    mach.epoch
                };
                self.schedule(now + remaining, Event::ActivityEnd { machine: m, epoch });
                if activity == Activity::Processing && self.topo.has_operating_modes[station] {
                    self.arm_operating_failures(m, station, remaining);
                }
            }
            Activity::Blocked => {
                // It kept its place in the waiting line; if there is room now, it unloads.
                if let Some(buffer) = blocked_on {
                    self.on_room(buffer as usize);
                }
            }
            Activity::Idle => {
                self.try_start(m);
            }
        }
    }

    fn freeze_calendar_clocks(&mut self, m: Entity, station: usize) {
        let model = Arc::clone(&self.model);
        let now = self.now;
        let mut mach = self.machine_mut(m);
        for (fi, f) in model.stations[station].failure_modes.iter().enumerate() {
            let ms = &mut mach.modes[fi];
            if f.basis == FailureBasis::Calendar && !ms.active {
                ms.remaining = (ms.due_at - now).max(0.0);
                ms.epoch = ms.epoch.wrapping_add(1);
            }
        }
    }

    pub(crate) fn thaw_calendar_clocks(&mut self, m: Entity, station: usize) {
        let model = Arc::clone(&self.model);
        let now = self.now;
        let mut due = Vec::new();
        {
            let mut mach = self.machine_mut(m);
            for (fi, f) in model.stations[station].failure_modes.iter().enumerate() {
                let ms = &mut mach.modes[fi];
                if f.basis == FailureBasis::Calendar && !ms.active {
                    ms.due_at = now + ms.remaining;
                    ms.epoch = ms.epoch.wrapping_add(1);
                    due.push((ms.due_at, fi as u16, ms.epoch));
                }
            }
        }
        for (t, mode, epoch) in due {
            self.schedule(
                t,
                Event::Failure {
                    machine: m,
                    mode,
                    epoch,
                },
            );
        }
    }

    fn draw_ttf(&mut self, m: Entity, mode: usize) -> f64 {
        self.draw_ttf_after(m, mode, 0.0)
    }

    /// An age budget for a mode that has already aged `age` (in its basis) without failing: the
    /// budget still to go, drawn given it exceeds `age`. At age 0 it is the plain draw.
    pub(crate) fn draw_ttf_after(&mut self, m: Entity, mode: usize, age: f64) -> f64 {
        let station = self.machine(m).station as usize;
        let model = Arc::clone(&self.model);
        let f = &model.stations[station].failure_modes[mode];
        let x = f
            .ttf
            .sample_residual(age, &mut self.machine_mut(m).streams.failures[mode].0);
        if f.basis == FailureBasis::Cycles {
            x.round().max(1.0)
        } else {
            x
        }
    }

    fn fail(&mut self, m: Entity, mode: usize) {
        let now = self.now;
        {
            let mut mach = self.machine_mut(m);
            let ms = &mut mach.modes[mode];
            ms.active = true;
            ms.failed_at = now;
            ms.failures += 1;
        }
        self.change_flags(m, |mach| {
            mach.active_failures += 1;
            mach.last_failure_mode = mode as u16;
        });
        let station = self.machine(m).station as usize;
        match self.model.stations[station].failure_modes[mode].crew {
            Some(crew) => self.request_crew(
                crew,
                CrewJob::Repair {
                    machine: m,
                    mode: mode as u16,
                },
            ),
            None => self.start_repair(m, mode),
        }
    }

    fn start_repair(&mut self, m: Entity, mode: usize) {
        let station = self.machine(m).station as usize;
        let model = Arc::clone(&self.model);
        let d = model.stations[station].failure_modes[mode]
            .ttr
            .sample(&mut self.machine_mut(m).streams.failures[mode].1);
        self.schedule(
            self.now + d,
            Event::RepairEnd {
                machine: m,
                mode: mode as u16,
            },
        );
    }

    fn on_repair_end(&mut self, m: Entity, mode: usize) {
        let now = self.now;
        let station = self.machine(m).station as usize;
        if let Some(crew) = self.model.stations[station].failure_modes[mode].crew {
            self.release_crew(crew);
        }
        let fresh = self.draw_ttf(m, mode);
        {
            let mut mach = self.machine_mut(m);
            let ms = &mut mach.modes[mode];
            ms.active = false;
            ms.remaining = fresh;
            ms.repairs += 1;
            ms.repair_s += now - ms.failed_at;
        }
        // Unfreezing restarts the calendar clocks, this mode's fresh one included.
        self.change_flags(m, |mach| mach.active_failures -= 1);
    }

    fn request_crew(&mut self, crew: usize, job: CrewJob) {
        let now = self.now;
        let start = {
            let mut c = self.comp_mut::<CrewState>(self.topo.crews[crew]);
            if c.free > 0 {
                c.busy_s += f64::from(c.count - c.free) * (now - c.busy_since);
                c.busy_since = now;
                c.free -= 1;
                true
            } else {
                c.queue.push_back(job);
                false
            }
        };
        if start {
            self.start_crew_job(job);
        }
    }

    fn release_crew(&mut self, crew: usize) {
        let now = self.now;
        let next = {
            let mut c = self.comp_mut::<CrewState>(self.topo.crews[crew]);
            match c.queue.pop_front() {
                Some(job) => Some(job),
                None => {
                    c.busy_s += f64::from(c.count - c.free) * (now - c.busy_since);
                    c.busy_since = now;
                    c.free += 1;
                    None
                }
            }
        };
        if let Some(job) = next {
            self.start_crew_job(job);
        }
    }

    fn start_crew_job(&mut self, job: CrewJob) {
        match job {
            CrewJob::Repair { machine, mode } => self.start_repair(machine, mode as usize),
            CrewJob::Maintenance { machine } => self.begin_maintenance(machine),
        }
    }

    fn on_maintenance_due(&mut self, m: Entity) {
        let station = self.machine(m).station as usize;
        let model = Arc::clone(&self.model);
        let Some(mt) = &model.stations[station].maintenance else {
            return;
        };
        let next = mt.following(self.machine(m).next_maintenance_at);
        self.machine_mut(m).next_maintenance_at = next.unwrap_or(NEVER);
        if let Some(next) = next {
            self.schedule(next, Event::MaintenanceDue(m));
        }
        if self.machine(m).planned_down || self.machine(m).maintenance_waiting {
            return; // the previous one is still going on or waiting for its crew: skip this one
        }
        match mt.crew {
            Some(crew) => {
                self.machine_mut(m).maintenance_waiting = true;
                self.request_crew(crew, CrewJob::Maintenance { machine: m });
            }
            None => self.begin_maintenance(m),
        }
    }

    fn begin_maintenance(&mut self, m: Entity) {
        let station = self.machine(m).station as usize;
        let model = Arc::clone(&self.model);
        let Some(mt) = &model.stations[station].maintenance else {
            return;
        };
        let d = mt
            .duration
            .sample(&mut self.machine_mut(m).streams.maintenance);
        self.change_flags(m, |mach| {
            mach.planned_down = true;
            mach.maintenance_waiting = false;
            mach.counts.maintenances += 1;
        });
        self.schedule(self.now + d, Event::MaintenanceEnd(m));
    }

    fn on_maintenance_end(&mut self, m: Entity) {
        let station = self.machine(m).station as usize;
        let model = Arc::clone(&self.model);
        let Some(mt) = &model.stations[station].maintenance else {
            return;
        };
        if let Some(crew) = mt.crew {
            self.release_crew(crew);
        }
        if mt.renews {
            for fi in 0..model.stations[station].failure_modes.len() {
                if !self.machine(m).modes[fi].active {
                    let fresh = self.draw_ttf(m, fi);
                    let mut mach = self.machine_mut(m);
                    let ms = &mut mach.modes[fi];
                    ms.remaining = fresh;
                    ms.epoch = ms.epoch.wrapping_add(1);
                }
            }
        }
        self.change_flags(m, |mach| mach.planned_down = false);
    }

    fn on_calendar_change(&mut self) {
        let model = Arc::clone(&self.model);
        let Some(cal) = &model.calendar else { return };
        let (on, next) = cal.at(&model.timebase, self.now);
        for (si, st) in model.stations.iter().enumerate() {
            if !st.follows_calendar {
                continue;
            }
            let (a, b) = self.topo.station_machines[si];
            for i in a..b {
                let m = self.topo.machines[i];
                if self.machine(m).off_shift == on {
                    self.change_flags(m, |mach| mach.off_shift = !on);
                }
            }
        }
        self.schedule(next, Event::CalendarChange);
    }

    /// Discards the statistics gathered so far (end of warm-up); the model state is untouched.
    pub fn reset_statistics(&mut self) {
        let now = self.now;
        for &m in &self.topo.machines.clone() {
            let mut mach = self.machine_mut(m);
            mach.clock = StateClock::new(now, mach.clock.state);
            mach.counts = PieceCounts::default();
            for ms in mach.modes.iter_mut() {
                (ms.failures, ms.repairs, ms.repair_s) = (0, 0, 0.0);
            }
        }
        for &b in &self.topo.buffers.clone() {
            let mut q = self.comp_mut::<BufferQueue>(b);
            q.level_integral = 0.0;
            q.level_since = now;
            q.max_level = q.parts.len() as u32;
        }
        for &c in &self.topo.crews.clone() {
            let mut crew = self.comp_mut::<CrewState>(c);
            crew.busy_s = 0.0;
            crew.busy_since = now;
        }
        self.plant = PlantStats::new(now, self.plant.wip, self.plant.completed_total);
    }
}

/// Puts a part at the end of a buffer's line, booking the time at the old level.
fn push_entry(q: &mut BufferQueue, now: f64, entry: QueueEntry) {
    q.level_integral += q.parts.len() as f64 * (now - q.level_since);
    q.level_since = now;
    q.parts.push_back(entry);
    q.max_level = q.max_level.max(q.parts.len() as u32);
}

/// Operating-time failure clocks of a machine age by the `elapsed_s` of a processing segment that
/// ends; their scheduled failures are cancelled (re-armed when the next segment starts).
fn age_operating_clocks(mach: &mut Machine, modes: &[FailureMode], elapsed_s: f64) {
    for (ms, f) in mach.modes.iter_mut().zip(modes) {
        if f.basis == FailureBasis::Operating && !ms.active {
            ms.remaining -= elapsed_s;
            ms.epoch = ms.epoch.wrapping_add(1);
        }
    }
}

/// The `(time, mode, epoch)` failures of operating-time modes due inside a processing segment of
/// `segment_s` starting `now`.
fn operating_failures_due(
    mach: &mut Machine,
    modes: &[FailureMode],
    now: f64,
    segment_s: f64,
) -> Vec<(f64, u16, u32)> {
    let mut due = Vec::new();
    for (fi, (ms, f)) in mach.modes.iter_mut().zip(modes).enumerate() {
        if f.basis == FailureBasis::Operating && !ms.active && ms.remaining < segment_s {
            ms.epoch = ms.epoch.wrapping_add(1);
            due.push((now + ms.remaining.max(0.0), fi as u16, ms.epoch));
        }
    }
    due
}

/// Cycle-counted failure modes age by one cycle; returns those whose count ran out.
fn count_cycle(mach: &mut Machine, modes: &[FailureMode]) -> Vec<usize> {
    let mut failing = Vec::new();
    for (fi, (ms, f)) in mach.modes.iter_mut().zip(modes).enumerate() {
        if f.basis == FailureBasis::Cycles && !ms.active {
            ms.remaining -= 1.0;
            if ms.remaining <= 0.0 {
                failing.push(fi);
            }
        }
    }
    failing
}

/// The index of the part a dispatching rule picks from a queue (never empty here).
#[inline]
fn select(
    parts: &VecDeque<QueueEntry>,
    rule: takt_model::DispatchRule,
    last: Option<u32>,
) -> usize {
    use takt_model::DispatchRule::*;
    let argmin = |key: &dyn Fn(&QueueEntry) -> f64| {
        let mut best = 0;
        for (i, e) in parts.iter().enumerate().skip(1) {
            if key(e) < key(&parts[best]) {
                best = i;
            }
        }
        best
    };
    match rule {
        Fifo => 0,
        Edd => argmin(&|e| e.due),
        Spt => argmin(&|e| e.mean_s),
        SameProduct => last
            .and_then(|p| parts.iter().position(|e| e.product == p))
            .unwrap_or(0),
    }
}
