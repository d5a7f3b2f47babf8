//! Starting a run from an observed plant instead of an empty one at t = 0: the live twin forks what it
//! mirrors into the simulator this way to forecast the rest of the shift.
//!
//! A [`PlantCondition`] says, by the model's names, what holds at one moment: what each machine holds
//! and how long it has worked on it, whether it is down (which failure mode, since when) or in
//! maintenance, how old each failure mode is, which parts wait in which buffer, and how far each
//! released order has come. [`Simulation::from_condition`] builds the World in that state and draws
//! what is still to come from the *residual* distributions: a repair that has lasted 10 min ends after
//! a draw of TTR given TTR > 10 min, a part processed for 2 s needs a draw of the process time given
//! it exceeds 2 s, a failure mode aged 5 h fails after a draw of TTF given TTF > 5 h. Shifts, planned
//! maintenance and order releases after the moment follow the model as in any run. Statistics count
//! from the moment, so the report covers only the forecast part.

use crate::components::*;
use crate::engine::{PlantStats, SimEvent, Simulation};
use bevy_ecs::entity::Entity;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use takt_model::Model;

/// The plant at one moment, by the model's names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlantCondition {
    /// Simulated seconds since the model's t = 0 at which this holds.
    pub now_s: f64,
    /// Machines not listed are idle, up and as good as new.
    pub machines: Vec<MachineCondition>,
    pub buffers: Vec<BufferCondition>,
    /// Orders released by now; an order released by now that is not listed has no part finished.
    pub orders: Vec<OrderCondition>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MachineCondition {
    /// The simulator's machine name: the station's name, or `station.k`.
    pub machine: String,
    /// Product of the last part it worked on: decides the next changeover.
    pub last_product: Option<String>,
    /// The part on the machine, if any.
    pub part: Option<HeldPart>,
    pub stop: Option<Stop>,
    /// Per failure mode name, the age since the mode was last renewed (repair or maintenance), in the
    /// mode's basis: seconds for calendar and operating time, cycles for cycle-counted modes. A mode
    /// not listed is as good as new.
    #[serde(default)]
    pub failure_ages: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeldPart {
    pub product: String,
    pub order: Option<String>,
    /// Routing step (0-based); by default the first step of the product this machine's station does.
    pub step: Option<usize>,
    pub work: Work,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "activity")]
pub enum Work {
    /// Changing over for the part, for `elapsed_s` so far.
    Setup { elapsed_s: f64 },
    /// Processing it, `elapsed_s` of processing done.
    Processing { elapsed_s: f64 },
    /// Finished, waiting for room downstream.
    Blocked,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "stop")]
pub enum Stop {
    /// Broken down in failure mode `mode` since `since_s`; the repair runs (or waits for its crew).
    Down { mode: String, since_s: f64 },
    /// In planned maintenance since `since_s`.
    PlannedDown { since_s: f64 },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BufferCondition {
    pub buffer: String,
    /// Waiting parts, first in line first.
    pub parts: Vec<QueuedPart>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueuedPart {
    pub product: String,
    pub order: Option<String>,
    /// Routing step the part waits for; by default the first step of the product fed by this buffer.
    pub step: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderCondition {
    pub order: String,
    /// Parts of the order that have left the plant good, and scrapped.
    pub good: u32,
    pub scrap: u32,
    /// When its last part left, if it is complete.
    pub completed_at_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConditionError {
    #[error("{what} `{name}` is not in the model")]
    Unknown { what: &'static str, name: String },
    #[error("{place}: {message}")]
    Invalid { place: String, message: String },
}

fn invalid(place: impl Into<String>, message: impl Into<String>) -> ConditionError {
    ConditionError::Invalid {
        place: place.into(),
        message: message.into(),
    }
}

fn finite_non_negative(place: &str, what: &str, x: f64) -> Result<(), ConditionError> {
    if x.is_finite() && x >= 0.0 {
        Ok(())
    } else {
        Err(invalid(
            place,
            format!("{what} must be a finite number >= 0, not {x}"),
        ))
    }
}

/// Names to model indices.
struct Names<'m> {
    model: &'m Model,
    products: HashMap<&'m str, usize>,
    orders: HashMap<&'m str, usize>,
    buffers: HashMap<&'m str, usize>,
}

impl<'m> Names<'m> {
    fn new(model: &'m Model) -> Self {
        Names {
            model,
            products: model
                .products
                .iter()
                .enumerate()
                .map(|(i, p)| (p.name.as_str(), i))
                .collect(),
            orders: model
                .orders
                .iter()
                .enumerate()
                .map(|(i, o)| (o.id.as_str(), i))
                .collect(),
            buffers: model
                .buffers
                .iter()
                .enumerate()
                .map(|(i, b)| (b.name.as_str(), i))
                .collect(),
        }
    }

    fn product(&self, name: &str) -> Result<usize, ConditionError> {
        self.products
            .get(name)
            .copied()
            .ok_or_else(|| ConditionError::Unknown {
                what: "product",
                name: name.into(),
            })
    }

    /// The order, checked to be of `product` and released by `now`.
    fn order(
        &self,
        place: &str,
        name: &Option<String>,
        product: usize,
        now: f64,
    ) -> Result<Option<usize>, ConditionError> {
        let Some(name) = name else { return Ok(None) };
        let oi =
            self.orders
                .get(name.as_str())
                .copied()
                .ok_or_else(|| ConditionError::Unknown {
                    what: "order",
                    name: name.clone(),
                })?;
        let o = &self.model.orders[oi];
        if o.product != product {
            return Err(invalid(
                place,
                format!(
                    "order `{name}` is of product `{}`, not `{}`",
                    self.model.products[o.product].name, self.model.products[product].name
                ),
            ));
        }
        if o.release_s > now {
            return Err(invalid(
                place,
                format!("order `{name}` is released only later"),
            ));
        }
        Ok(Some(oi))
    }

    /// The routing step of `product` that `accepts(station)` first, or check the given one.
    fn step(
        &self,
        place: &str,
        product: usize,
        given: Option<usize>,
        accepts: impl Fn(usize) -> bool,
    ) -> Result<usize, ConditionError> {
        let routing = &self.model.products[product].routing;
        let fits = |k: usize| routing[k].stations.iter().any(|&s| accepts(s));
        match given {
            Some(k) if k < routing.len() && fits(k) => Ok(k),
            Some(k) => Err(invalid(
                place,
                format!(
                    "step {k} of product `{}` is not done here",
                    self.model.products[product].name
                ),
            )),
            None => (0..routing.len()).find(|&k| fits(k)).ok_or_else(|| {
                invalid(
                    place,
                    format!(
                        "product `{}` has no routing step here",
                        self.model.products[product].name
                    ),
                )
            }),
        }
    }
}

impl Simulation {
    /// A run of `model` that starts in the observed `condition` (see the module docs), with every
    /// random stream derived from `seed`. The same model, condition and seed give the same run.
    pub fn from_condition(
        model: Arc<Model>,
        seed: u64,
        condition: &PlantCondition,
    ) -> Result<Simulation, ConditionError> {
        let now = condition.now_s;
        finite_non_negative("now_s", "the moment", now)?;
        let names = Names::new(&model);
        let mut sim = Simulation::spawn(Arc::clone(&model), seed);
        sim.now = now;
        let machine_by_name: HashMap<String, usize> = sim
            .topo
            .machine_names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();

        // Orders: those released by now are in the plant or done; later ones are released as usual.
        let mut done: Vec<Option<&OrderCondition>> = vec![None; model.orders.len()];
        for oc in &condition.orders {
            let oi = names
                .orders
                .get(oc.order.as_str())
                .copied()
                .ok_or_else(|| ConditionError::Unknown {
                    what: "order",
                    name: oc.order.clone(),
                })?;
            if model.orders[oi].release_s > now {
                return Err(invalid(
                    format!("orders.{}", oc.order),
                    "released only later, it cannot have finished parts",
                ));
            }
            done[oi] = Some(oc);
        }
        let mut in_plant = vec![0u32; model.orders.len()];

        // Parts waiting in buffers, in line.
        let mut spawned = 0u64;
        for bc in &condition.buffers {
            let bi = names
                .buffers
                .get(bc.buffer.as_str())
                .copied()
                .ok_or_else(|| ConditionError::Unknown {
                    what: "buffer",
                    name: bc.buffer.clone(),
                })?;
            // Parts in line come in long runs of one product and order: resolve each run once,
            // then put the whole line in at once (a buffer may hold a shift's worth of parts).
            let mut resolved: Option<(&QueuedPart, usize, usize, Option<usize>)> = None;
            let mut line = Vec::with_capacity(bc.parts.len());
            for (j, qp) in bc.parts.iter().enumerate() {
                let (product, step, order) = match resolved {
                    Some((last, product, step, order)) if last == qp => (product, step, order),
                    _ => {
                        let place = format!("buffers.{}.parts[{j}]", bc.buffer);
                        let product = names.product(&qp.product)?;
                        let step = names.step(&place, product, qp.step, |s| {
                            model.stations[s].input_buffer == bi
                        })?;
                        let order = names.order(&place, &qp.order, product, now)?;
                        resolved = Some((qp, product, step, order));
                        (product, step, order)
                    }
                };
                if let Some(oi) = order {
                    in_plant[oi] += 1;
                }
                line.push((sim.part_of(product, order), step as u32));
            }
            spawned += line.len() as u64;
            let entries: Vec<QueueEntry> = line
                .iter()
                .map(|(p, step)| sim.queue_entry(*p, *step))
                .collect();
            let q = sim.world.get_mut::<BufferQueue>(sim.topo.buffers[bi]);
            q.parts.extend(entries);
            q.max_level = q.max_level.max(q.parts.len() as u32);
            q.level_since = now;
        }

        // Machines: what they hold, how far they are, whether they are stopped.
        let calendar_on = model.calendar.as_ref().map(|c| c.at(&model.timebase, now));
        let mut in_progress: Vec<(f64, Entity, InProgress)> = Vec::new();
        let mut blocked: Vec<(Entity, usize)> = Vec::new();
        let mut seen = vec![false; sim.topo.machines.len()];
        for mc in &condition.machines {
            let place = format!("machines.{}", mc.machine);
            let index =
                *machine_by_name
                    .get(&mc.machine)
                    .ok_or_else(|| ConditionError::Unknown {
                        what: "machine",
                        name: mc.machine.clone(),
                    })?;
            if std::mem::replace(&mut seen[index], true) {
                return Err(invalid(place, "listed twice"));
            }
            let m = sim.topo.machines[index];
            let station = sim.comp::<Machine>(m).station as usize;
            let st = &model.stations[station];
            let last_product = mc
                .last_product
                .as_deref()
                .map(|p| names.product(p))
                .transpose()?;
            let mut machine = sim.comp::<Machine>(m).clone();
            machine.last_product = last_product.map(|p| p as u32);
            if let Some(hp) = &mc.part {
                let product = names.product(&hp.product)?;
                let step = names.step(&place, product, hp.step, |s| s == station)?;
                let order = names.order(&place, &hp.order, product, now)?;
                let part = sim.part_of(product, order);
                if let Some(oi) = order {
                    in_plant[oi] += 1;
                }
                spawned += 1;
                machine.part = Some(part);
                machine.product = product as u32;
                machine.operation = step as u32;
                machine.due = part.due;
                machine.last_product = Some(product as u32);
                match hp.work {
                    Work::Setup { elapsed_s } => {
                        finite_non_negative(&place, "elapsed_s", elapsed_s)?;
                        // The changeover from the product before; none applies: it is over.
                        let setup = match (&st.changeover, last_product) {
                            (Some(c), Some(from)) => c.between(from, product),
                            _ => None,
                        };
                        machine.activity = Activity::Setup;
                        machine.remaining_s = setup.map_or(0.0, |s| {
                            s.sample_residual(elapsed_s, &mut machine.streams.setup)
                        });
                    }
                    Work::Processing { elapsed_s } => {
                        finite_non_negative(&place, "elapsed_s", elapsed_s)?;
                        machine.activity = Activity::Processing;
                        machine.remaining_s = model.products[product].routing[step]
                            .process_time
                            .sample_residual(elapsed_s, &mut machine.streams.process);
                    }
                    Work::Blocked => {
                        if step + 1 == model.products[product].routing.len() {
                            return Err(invalid(
                                place,
                                "blocked on the last routing step: a finished part leaves the plant",
                            ));
                        }
                        machine.activity = Activity::Blocked;
                        let buffer = sim.choose_buffer(product as u32, step as u32 + 1, NO_ORDER);
                        machine.blocked_on = Some(buffer as u32);
                        blocked.push((m, buffer));
                    }
                }
            }
            match &mc.stop {
                None => {}
                Some(Stop::Down { mode, since_s }) => {
                    let fi = st
                        .failure_modes
                        .iter()
                        .position(|f| &f.name == mode)
                        .ok_or_else(|| {
                            invalid(
                                &place,
                                format!("station `{}` has no failure mode `{mode}`", st.name),
                            )
                        })?;
                    check_since(&place, *since_s, now)?;
                    machine.active_failures = 1;
                    machine.last_failure_mode = fi as u16;
                    machine.modes[fi].active = true;
                    machine.modes[fi].failed_at = *since_s;
                    in_progress.push((*since_s, m, InProgress::Repair(fi)));
                }
                Some(Stop::PlannedDown { since_s }) => {
                    if st.maintenance.is_none() {
                        return Err(invalid(
                            &place,
                            format!("station `{}` has no planned maintenance", st.name),
                        ));
                    }
                    check_since(&place, *since_s, now)?;
                    machine.planned_down = true;
                    in_progress.push((*since_s, m, InProgress::Maintenance));
                }
            }
            for (mode, age) in &mc.failure_ages {
                finite_non_negative(&format!("{place}.failure_ages.{mode}"), "an age", *age)?;
                if !st.failure_modes.iter().any(|f| &f.name == mode) {
                    return Err(invalid(
                        &place,
                        format!("station `{}` has no failure mode `{mode}`", st.name),
                    ));
                }
            }
            *sim.world.get_mut::<Machine>(m) = machine;
        }

        // Every machine: shift flag, failure clocks, maintenance, and its clock from now.
        let ages: HashMap<&str, &BTreeMap<String, f64>> = condition
            .machines
            .iter()
            .map(|mc| (mc.machine.as_str(), &mc.failure_ages))
            .collect();
        for (index, &m) in sim.topo.machines.clone().iter().enumerate() {
            let station = sim.comp::<Machine>(m).station as usize;
            let st = &model.stations[station];
            let name = &sim.topo.machine_names[index];
            let machine_ages = ages.get(name.as_str()).copied();
            let off = st.follows_calendar && calendar_on.is_some_and(|(on, _)| !on);
            let (frozen, running) = {
                let mach = sim.world.get_mut::<Machine>(m);
                mach.off_shift = off;
                mach.next_maintenance_at = st
                    .maintenance
                    .as_ref()
                    .and_then(|mt| mt.at_or_after(now))
                    .unwrap_or(NEVER);
                mach.clock = StateClock::new(now, mach.state());
                mach.segment_start = now;
                (
                    mach.clocks_frozen(),
                    !mach.stopped()
                        && matches!(mach.activity, Activity::Setup | Activity::Processing),
                )
            };
            // Budgets drawn given the age each mode has reached; calendar clocks run unless the
            // machine is down or in maintenance (then they start when it is repaired).
            for (fi, f) in st.failure_modes.iter().enumerate() {
                if sim.comp::<Machine>(m).modes[fi].active {
                    continue;
                }
                let age = machine_ages
                    .and_then(|a| a.get(&f.name))
                    .copied()
                    .unwrap_or(0.0);
                let budget = sim.draw_ttf_after(m, fi, age);
                sim.world.get_mut::<Machine>(m).modes[fi].remaining = budget;
            }
            if !frozen && sim.topo.stations[station].has_calendar_modes {
                sim.thaw_calendar_clocks(m, station);
            }
            if st.maintenance.is_some() {
                let at = sim.comp::<Machine>(m).next_maintenance_at;
                if at < NEVER {
                    sim.schedule(at, SimEvent::MaintenanceDue(m));
                }
            }
            if running {
                let (epoch, remaining, processing) = {
                    let mach = sim.world.get_mut::<Machine>(m);
                    mach.epoch = mach.epoch.wrapping_add(1);
                    mach.activity_end = now + mach.remaining_s;
                    (
                        mach.epoch,
                        mach.remaining_s,
                        mach.activity == Activity::Processing,
                    )
                };
                sim.schedule(now + remaining, SimEvent::ActivityEnd { machine: m, epoch });
                if processing {
                    sim.arm_operating_failures(m, station, remaining);
                }
            }
        }

        // Repairs and maintenance under way take their crews, earliest first; the rest wait in line.
        in_progress.sort_by(|a, b| a.0.total_cmp(&b.0));
        for crew in sim.topo.crews.clone() {
            sim.world.get_mut::<CrewState>(crew).busy_since = now;
        }
        for (since, m, what) in in_progress {
            let station = sim.comp::<Machine>(m).station as usize;
            let st = &model.stations[station];
            let elapsed = now - since;
            match what {
                InProgress::Repair(fi) => {
                    let f = &st.failure_modes[fi];
                    let has_crew = match f.crew {
                        None => true,
                        Some(c) => {
                            let crew = sim.world.get_mut::<CrewState>(sim.topo.crews[c]);
                            if crew.free > 0 {
                                crew.free -= 1;
                                true
                            } else {
                                crew.queue.push_back(CrewJob::Repair {
                                    machine: m,
                                    mode: fi as u16,
                                });
                                false
                            }
                        }
                    };
                    if has_crew {
                        let d = f.ttr.sample_residual(
                            elapsed,
                            &mut sim.world.get_mut::<Machine>(m).streams.failures[fi].1,
                        );
                        sim.schedule(
                            now + d,
                            SimEvent::RepairEnd {
                                machine: m,
                                mode: fi as u16,
                            },
                        );
                    }
                }
                InProgress::Maintenance => {
                    let Some(mt) = &st.maintenance else { continue };
                    if let Some(c) = mt.crew {
                        let crew = sim.world.get_mut::<CrewState>(sim.topo.crews[c]);
                        crew.free = crew.free.saturating_sub(1);
                    }
                    let d = mt.duration.sample_residual(
                        elapsed,
                        &mut sim.world.get_mut::<Machine>(m).streams.maintenance,
                    );
                    sim.schedule(now + d, SimEvent::MaintenanceEnd(m));
                }
            }
        }

        // Orders: released ones carry their finished parts and the parts now in the plant.
        for (oi, o) in model.orders.iter().enumerate() {
            let order = sim.topo.orders[oi];
            if o.release_s > now {
                sim.schedule(o.release_s, SimEvent::OrderRelease(order));
                continue;
            }
            let os = sim.world.get_mut::<OrderState>(order);
            os.released = true;
            os.outstanding = in_plant[oi];
            os.good = done[oi].map_or(0, |d| d.good);
            if os.outstanding == 0 {
                os.completed_at = Some(done[oi].and_then(|d| d.completed_at_s).unwrap_or(now));
            }
        }
        if let Some((_, next)) = calendar_on {
            sim.schedule(next, SimEvent::CalendarChange);
        }
        if let Some(a) = &model.arrivals {
            let source = sim.topo.source;
            let first = now
                + a.interarrival
                    .sample(&mut sim.world.get_mut::<Source>(source).interarrival);
            if a.until_s.is_none_or(|u| first <= u) {
                sim.schedule(first, SimEvent::Arrival);
            }
        }
        if model.warmup_s > now {
            sim.schedule(model.warmup_s, SimEvent::WarmupEnd);
        }
        sim.plant = PlantStats::new(now, spawned, 0);

        // Blocked machines wait in line for their buffer; then whatever can move, moves.
        for (m, buffer) in blocked {
            sim.world
                .get_mut::<BufferQueue>(sim.topo.buffers[buffer])
                .waiting
                .push_back(Waiter::Machine(m));
        }
        for b in 0..sim.topo.buffers.len() {
            sim.on_room(b);
        }
        for m in sim.topo.machines.clone() {
            sim.try_start(m);
        }
        Ok(sim)
    }

    /// A part of `product` (and `order`) already in the plant at the start of a run.
    fn part_of(&self, product: usize, order: Option<usize>) -> Part {
        let (released_at, due) = order.map_or((self.now, NEVER), |oi| {
            let o = &self.model.orders[oi];
            (o.release_s, o.due_s.unwrap_or(NEVER))
        });
        Part {
            product: product as u32,
            released_at,
            due,
            order: order.map(|oi| self.topo.orders[oi]),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum InProgress {
    Repair(usize),
    Maintenance,
}

fn check_since(place: &str, since_s: f64, now: f64) -> Result<(), ConditionError> {
    if since_s.is_finite() && since_s <= now {
        Ok(())
    } else {
        Err(invalid(
            place,
            format!("`since_s` {since_s} is not a time up to now ({now})"),
        ))
    }
}
