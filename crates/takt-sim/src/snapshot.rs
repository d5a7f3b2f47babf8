//! A complete, serializable copy of a running plant: every component (random streams included), the
//! calendar, the clock and the statistics. Restoring it into a fresh World and running on gives the
//! same results, bit for bit, as the run it was taken from; the live twin forks its mirrored state this
//! way to forecast. Entity ids are not stable across Worlds, so restore maps each recorded id to the
//! new entity and rewrites every reference (orders of the parts on machines and in queues, calendar
//! events, crews).

use crate::components::*;
use crate::engine::{Calendar, PlantStats, Scheduled, SimEvent, Simulation};
use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use takt_model::Model;

/// 2: parts are data in queue entries and on machines, no longer entities of their own.
/// 3: a machine's failure modes and random streams are part of its `Machine` component.
pub const SNAPSHOT_FORMAT: u32 = 3;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MachineRecord {
    pub id: Entity,
    pub machine: Machine,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub format: u32,
    pub scenario: String,
    pub seed: u64,
    pub now: f64,
    pub seq: u64,
    pub events: u64,
    pub trace_seq: u64,
    pub calendar: Vec<Scheduled>,
    pub plant: PlantStats,
    pub source: (Entity, Source),
    pub buffers: Vec<(Entity, BufferQueue)>,
    pub machines: Vec<MachineRecord>,
    pub crews: Vec<(Entity, CrewState)>,
    pub orders: Vec<(Entity, OrderState)>,
    /// The production plan the machines follow, if any, and how far they are.
    #[serde(default)]
    pub plan: Option<crate::plan::PlanState>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SnapshotError {
    #[error("snapshot format {found} is not supported (expected {SNAPSHOT_FORMAT})")]
    Format { found: u32 },
    #[error("snapshot does not fit the model: {0}")]
    Mismatch(String),
    #[error("snapshot references entity {0:?} that it does not contain")]
    Dangling(Entity),
}

impl Simulation {
    /// Captures the whole state of the run.
    pub fn snapshot(&self) -> Snapshot {
        let topo = self.topology();
        let buffers: Vec<(Entity, BufferQueue)> = topo
            .buffers
            .iter()
            .map(|&b| (b, self.comp::<BufferQueue>(b).clone()))
            .collect();
        let machines: Vec<MachineRecord> = topo
            .machines
            .iter()
            .map(|&m| MachineRecord {
                id: m,
                machine: self.comp::<Machine>(m).clone(),
            })
            .collect();
        let mut calendar: Vec<Scheduled> = self.calendar.iter().copied().collect();
        calendar.sort_by(|a, b| b.cmp(a));
        Snapshot {
            format: SNAPSHOT_FORMAT,
            scenario: self.model().name.clone(),
            seed: self.seed(),
            now: self.now(),
            seq: self.seq,
            events: self.events(),
            trace_seq: self.trace_seq,
            calendar,
            plant: self.plant_stats().clone(),
            source: (topo.source, self.comp::<Source>(topo.source).clone()),
            buffers,
            machines,
            crews: topo
                .crews
                .iter()
                .map(|&c| (c, self.comp::<CrewState>(c).clone()))
                .collect(),
            orders: topo
                .orders
                .iter()
                .map(|&o| (o, self.comp::<OrderState>(o).clone()))
                .collect(),
            plan: self.plan.as_deref().cloned(),
        }
    }

    /// A new, independent run continuing from this one's current state.
    pub fn fork(&self) -> Simulation {
        match Simulation::restore(Arc::clone(&self.model), &self.snapshot()) {
            Ok(sim) => sim,
            Err(e) => panic!("engine invariant: a fresh snapshot restores ({e})"),
        }
    }

    /// Rebuilds a run from a snapshot taken of a run of the same model.
    pub fn restore(model: Arc<Model>, snap: &Snapshot) -> Result<Simulation, SnapshotError> {
        if snap.format != SNAPSHOT_FORMAT {
            return Err(SnapshotError::Format { found: snap.format });
        }
        let expected_machines: u32 = model.stations.iter().map(|s| s.machines).sum();
        let checks = [
            ("machines", snap.machines.len(), expected_machines as usize),
            ("buffers", snap.buffers.len(), model.buffers.len()),
            ("crews", snap.crews.len(), model.crews.len()),
            ("orders", snap.orders.len(), model.orders.len()),
        ];
        for (what, found, expected) in checks {
            if found != expected {
                return Err(SnapshotError::Mismatch(format!(
                    "{found} {what} in the snapshot, {expected} in the model"
                )));
            }
        }
        let mut world = World::new();
        let mut map: HashMap<Entity, Entity> = HashMap::new();
        let source = world.spawn(snap.source.1.clone()).id();
        map.insert(snap.source.0, source);
        let buffers: Vec<Entity> = snap
            .buffers
            .iter()
            .map(|(old, q)| {
                let e = world.spawn(q.clone()).id();
                map.insert(*old, e);
                e
            })
            .collect();
        let mut machines = Vec::new();
        for r in &snap.machines {
            let station = r.machine.station as usize;
            let modes = model
                .stations
                .get(station)
                .map(|s| s.failure_modes.len())
                .ok_or_else(|| {
                    SnapshotError::Mismatch(format!("machine of unknown station {station}"))
                })?;
            if r.machine.modes.len() != modes || r.machine.streams.failures.len() != modes {
                return Err(SnapshotError::Mismatch(format!(
                    "a machine of station `{}` has a different number of failure modes",
                    model.stations[station].name
                )));
            }
            let e = world.spawn(r.machine.clone()).id();
            map.insert(r.id, e);
            machines.push(e);
        }
        let crews: Vec<Entity> = snap
            .crews
            .iter()
            .map(|(old, c)| {
                let e = world.spawn(c.clone()).id();
                map.insert(*old, e);
                e
            })
            .collect();
        let orders: Vec<Entity> = snap
            .orders
            .iter()
            .map(|(old, o)| {
                let e = world.spawn(o.clone()).id();
                map.insert(*old, e);
                e
            })
            .collect();
        let remap = |e: Entity| map.get(&e).copied().ok_or(SnapshotError::Dangling(e));

        // Rewrite every stored reference.
        for &m in &machines {
            let Some(mut mach) = world.get_mut::<Machine>(m) else {
                continue;
            };
            if let Some(order) = mach.part.as_mut().and_then(|p| p.order.as_mut()) {
                *order = remap(*order)?;
            }
        }
        let rules = crate::engine::buffer_rules(&model);
        for &b in &buffers {
            let Some(mut q) = world.get_mut::<BufferQueue>(b) else {
                continue;
            };
            for order in q.parts.order_entities_mut().flatten() {
                *order = remap(*order)?;
            }
            // A queue read back from a file has lost its index.
            let rule = rules.get(q.index as usize).copied().flatten();
            q.parts.index_for(rule);
            for w in q.waiting.iter_mut() {
                *w = match *w {
                    Waiter::Machine(m) => Waiter::Machine(remap(m)?),
                    Waiter::Release(mut p) => {
                        if let Some(order) = p.order.as_mut() {
                            *order = remap(*order)?;
                        }
                        Waiter::Release(p)
                    }
                };
            }
        }
        for &c in &crews {
            let Some(mut crew) = world.get_mut::<CrewState>(c) else {
                continue;
            };
            for job in crew.queue.iter_mut() {
                *job = match *job {
                    CrewJob::Repair { machine, mode } => CrewJob::Repair {
                        machine: remap(machine)?,
                        mode,
                    },
                    CrewJob::Maintenance { machine } => CrewJob::Maintenance {
                        machine: remap(machine)?,
                    },
                };
            }
        }
        let mut entries = Vec::with_capacity(snap.calendar.len());
        for s in &snap.calendar {
            let event = match s.event {
                SimEvent::OrderRelease(o) => SimEvent::OrderRelease(remap(o)?),
                SimEvent::ActivityEnd { machine, epoch } => SimEvent::ActivityEnd {
                    machine: remap(machine)?,
                    epoch,
                },
                SimEvent::Failure {
                    machine,
                    mode,
                    epoch,
                } => SimEvent::Failure {
                    machine: remap(machine)?,
                    mode,
                    epoch,
                },
                SimEvent::RepairEnd { machine, mode } => SimEvent::RepairEnd {
                    machine: remap(machine)?,
                    mode,
                },
                SimEvent::MaintenanceDue(m) => SimEvent::MaintenanceDue(remap(m)?),
                SimEvent::MaintenanceEnd(m) => SimEvent::MaintenanceEnd(remap(m)?),
                e @ (SimEvent::Arrival | SimEvent::CalendarChange | SimEvent::WarmupEnd) => e,
            };
            entries.push(Scheduled { event, ..*s });
        }
        let calendar = Calendar::from_entries(entries, snap.seq, snap.now);
        let topo = crate::engine::topology(&model, source, machines, buffers, crews, orders);
        Ok(Simulation {
            model,
            world: crate::lookup::PlantWorld::new(world),
            calendar,
            now: snap.now,
            seq: snap.seq,
            events: snap.events,
            topo,
            plant: snap.plant.clone(),
            seed: snap.seed,
            trace: None,
            trace_seq: snap.trace_seq,
            plan: snap.plan.clone().map(Box::new),
        })
    }
}
