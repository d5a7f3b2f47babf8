//! Machines: starting work, processing and setup, the end of a cycle (good, scrap, rework), moving
//! parts on, blocking, and the failure clocks that age with work.

use super::*;

impl Simulation {
    /// An idle, running machine takes the next part its dispatching rule picks; returns whether it did.
    /// The check is in line at every caller: most calls find the machine busy (a part arrived at a
    /// station whose machine works), and then cost no call.
    #[inline]
    pub(crate) fn try_start(&mut self, m: Entity) -> bool {
        let mach = self.machine(m);
        if mach.activity != Activity::Idle || mach.stopped() {
            return false;
        }
        let (station, last_product) = (mach.station as usize, mach.last_product);
        self.start_next(m, station, last_product)
    }

    /// [`Simulation::try_start`] for an idle, running machine.
    #[inline(never)]
    fn start_next(&mut self, m: Entity, station: usize, last_product: Option<u32>) -> bool {
        let st = self.topo.stations[station];
        let (input, dispatch) = (st.input_buffer as usize, st.dispatch);
        let now = self.now;
        // Under a plan: only the machine's current lot, once all of it is there.
        let planned = match &mut self.plan {
            None => None,
            Some(plan) => {
                let mi = self.topo.machine_position(station, m);
                match mi.and_then(|mi| plan.current_lot(mi)) {
                    Some((o, k)) if plan.lot_ready(o, k) => Some((o as u32, k as u32)),
                    _ => return false,
                }
            }
        };
        let entry = {
            let q = self.world.get_mut::<BufferQueue>(st.input_queue);
            if q.parts.is_empty() {
                return false;
            }
            let before = q.parts.len() as f64;
            let taken = match planned {
                None => q.parts.take(dispatch, last_product),
                Some((o, k)) => q.parts.take_where(|e| e.order == o && e.operation == k),
            };
            let Some(e) = taken else {
                return false; // the plan's part has not arrived
            };
            // The time at the level before the part left.
            q.level_integral += before * (now - q.level_since);
            q.level_since = now;
            (e, !q.waiting.is_empty())
        };
        let (entry, someone_waits) = entry;
        self.start_activity(m, |mach, model, topo| {
            // Setup if the product changes, else straight to processing.
            let changeover = st
                .has_changeover
                .then(|| &model.stations[station].changeover);
            let setup = match (changeover.and_then(Option::as_ref), last_product) {
                (Some(c), Some(from)) => c
                    .between(from as usize, entry.product as usize)
                    .map(|s| s.sample(&mut mach.streams.setup)),
                _ => None,
            };
            let (activity, duration_s) = match setup {
                Some(d) => (Activity::Setup, d),
                None => (
                    Activity::Processing,
                    topo.step_time(entry.product, entry.operation)
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
    pub(super) fn start_processing(&mut self, m: Entity) {
        self.start_activity(m, |mach, _, topo| {
            let d = topo
                .step_time(mach.product, mach.operation)
                .process_time
                .sample(&mut mach.streams.process);
            (Activity::Processing, d)
        });
    }

    /// Starts a setup or processing, with one lookup of the machine: `pick` sets what the machine
    /// takes on and returns the activity and its duration (drawn from the machine's own streams).
    /// A processing segment arms the operating-time failures that fall inside it (a second lookup,
    /// only at stations with such modes).
    pub(super) fn start_activity(
        &mut self,
        m: Entity,
        pick: impl FnOnce(&mut Machine, &Model, &Topology) -> (Activity, f64),
    ) {
        let now = self.now;
        let (epoch, duration_s, processing, station) = self.with_machine(m, |mach, model, topo| {
            let (activity, duration_s) = pick(mach, model, topo);
            mach.activity = activity;
            mach.epoch = mach.epoch.wrapping_add(1);
            mach.activity_end = now + duration_s;
            mach.remaining_s = duration_s;
            mach.segment_start = now;
            (
                mach.epoch,
                duration_s,
                activity == Activity::Processing,
                mach.station as usize,
            )
        });
        self.schedule(
            now + duration_s,
            SimEvent::ActivityEnd { machine: m, epoch },
        );
        if processing {
            self.arm_operating_failures(m, station, duration_s);
        }
    }

    /// Schedules the failures of operating-time modes that fall inside the coming processing
    /// segment, at a station that has such modes (the check in line at every caller, the work in
    /// one call).
    #[inline(always)]
    pub(crate) fn arm_operating_failures(&mut self, m: Entity, station: usize, segment_s: f64) {
        if self.topo.stations[station].has_operating_modes {
            self.schedule_operating_failures(m, station, segment_s);
        }
    }

    #[inline(never)]
    fn schedule_operating_failures(&mut self, m: Entity, station: usize, segment_s: f64) {
        let now = self.now;
        // Disjoint borrows of the model and the World: no Arc clone on this per-cycle path.
        let mach = self.world.get_mut::<Machine>(m);
        let modes = &self.model.stations[station].failure_modes;
        let due = operating_failures_due(mach, modes, now, segment_s);
        self.schedule_failures(m, due);
    }

    /// Schedules `(time, mode, epoch)` failures of a machine.
    pub(super) fn schedule_failures(&mut self, m: Entity, due: Vec<(f64, u16, u32)>) {
        for (t, mode, epoch) in due {
            self.schedule(
                t,
                SimEvent::Failure {
                    machine: m,
                    mode,
                    epoch,
                },
            );
        }
    }

    /// Ends the current processing segment: operating-time clocks age by its length.
    pub(super) fn end_segment(&mut self, m: Entity, station: usize) {
        if !self.topo.stations[station].has_operating_modes {
            return;
        }
        let now = self.now;
        let mach = self.world.get_mut::<Machine>(m);
        let elapsed = now - mach.segment_start;
        age_operating_clocks(mach, &self.model.stations[station].failure_modes, elapsed);
    }

    pub(super) fn on_activity_end(&mut self, m: Entity, epoch: u32) -> bool {
        let now = self.now;
        // One lookup: the end of a processing segment ages the operating-time clocks, and the
        // quality of the piece is drawn, before anything else touches the machine.
        let (activity, station, part, product, operation, quality) = {
            let mach = self.world.get_mut::<Machine>(m);
            if mach.epoch != epoch || mach.stopped() {
                return false;
            }
            let station = mach.station as usize;
            let (product, operation) = (mach.product, mach.operation);
            let mut quality = 1.0;
            if mach.activity == Activity::Processing && mach.part.is_some() {
                if self.topo.stations[station].has_operating_modes {
                    let elapsed = now - mach.segment_start;
                    let modes = &self.model.stations[station].failure_modes;
                    age_operating_clocks(mach, modes, elapsed);
                }
                let step = self.topo.step(product, operation);
                // Only operations that can scrap or rework draw from the quality stream.
                if step.scrap_probability > 0.0 || step.rework_probability > 0.0 {
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
    pub(super) fn complete_cycle(
        &mut self,
        m: Entity,
        station: usize,
        part: Part,
        product: u32,
        operation: u32,
        u: f64,
    ) {
        let step = *self.topo.step(product, operation);
        let last_step = step.last;
        // A step several stations can do: the ideal cycle of the one that did it.
        let ideal = if step.ideal_s.is_nan() {
            super::ideal_cycle_s(&self.model, station, product as usize, operation as usize)
        } else {
            step.ideal_s
        };
        let scrap = u < step.scrap_probability;
        let rework = !scrap && u < step.scrap_probability + step.rework_probability;
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
            // The machines the part goes to are asked whether they are idle once it is in the
            // buffer (`arrived`): their first line is asked for now, to come in while the part
            // goes into the buffer (in a plant of 1,000 stations, same product: 4 % less time).
            if self.topo.machines_out_of_cache {
                let downstream = self.topo.buffer_station[buffer] as usize;
                for i in self.topo.stations[downstream].machines() {
                    self.world.prefetch::<Machine>(self.topo.machines[i], 1);
                }
            }
            let entry = self.queue_entry(part, operation + 1);
            let now = self.now;
            let q = self.world.get_mut::<BufferQueue>(self.topo.buffers[buffer]);
            let room = q.has_room();
            if room {
                push_entry(q, now, entry);
            } else {
                q.waiting.push_back(Waiter::Machine(m));
            }
            (buffer, room, entry)
        });
        let blocked = matches!(next, Some((_, false, _)));
        // A machine that takes its next part at the instant it frees itself never waits. Without a
        // trace (which records every state), its processing time is booked here and its state left
        // for the start below to keep, or for the wait to switch when no part is there: the clock
        // comes out exactly as from a switch to starved and back (the zero wait adds 0 s and keeps
        // the active period open), for two switches fewer a cycle.
        let frees_quietly = !rework && !blocked && self.trace.is_none();
        let finish = |mach: &mut Machine| {
            count_piece(&mut mach.counts, ideal, scrap, rework);
            match next {
                _ if rework => {}
                Some((buffer, false, _)) => {
                    mach.activity = Activity::Blocked;
                    mach.blocked_on = Some(buffer as u32);
                }
                _ => mach.free(),
            }
        };
        if frees_quietly {
            let now = self.now;
            let mach = self.world.get_mut::<Machine>(m);
            finish(mach);
            mach.clock.book(now);
        } else {
            self.with_machine(m, |mach, _, _| finish(mach));
        }
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
        // Cycle-counted failure modes age by one cycle; those that run out fail now that the piece
        // has gone on. Nothing above reads or changes these clocks.
        if self.topo.stations[station].has_cycle_modes {
            self.count_cycle_modes(m, station);
        }
        // Not started (no part, or a failure above): the machine now waits, or is down already.
        if !self.try_start(m) && frees_quietly {
            self.update_state(m);
        }
    }

    #[inline(never)]
    fn count_cycle_modes(&mut self, m: Entity, station: usize) {
        let mach = self.world.get_mut::<Machine>(m);
        let failing = count_cycle(mach, &self.model.stations[station].failure_modes);
        for fi in failing {
            self.fail(m, fi);
        }
    }

    /// A part of a planned lot is done with its step. A scrapped part is one fewer to wait for at
    /// every later step: their machines may be able to start now.
    pub(super) fn plan_step_done(&mut self, order: usize, step: usize, scrapped: bool) {
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

    pub(super) fn free_machine(&mut self, m: Entity) {
        self.with_machine(m, |mach, _, _| mach.free());
    }

    /// A part leaves the plant: finished (good) or scrapped.
    pub(super) fn depart(&mut self, part: Part, scrapped: bool) {
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
            let o = self.comp_mut::<OrderState>(order);
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
                let q = self.comp_mut::<BufferQueue>(b);
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
    pub(super) fn unload_blocked(&mut self, m: Entity, buffer: usize) {
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

/// A piece a machine finished, counted.
fn count_piece(counts: &mut PieceCounts, ideal_s: f64, scrap: bool, rework: bool) {
    counts.produced += 1;
    counts.ideal_s += ideal_s;
    counts.scrap += u64::from(scrap);
    counts.rework += u64::from(rework);
    counts.good += u64::from(!scrap && !rework);
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
