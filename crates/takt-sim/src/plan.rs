//! Running a production plan: every machine works through its planned lots in order, instead of
//! choosing parts by its station's dispatching rule. A lot is one routing step of one order; it is
//! moved on as a whole (batch transfer, as the scheduler plans it): a machine starts its next lot
//! once every part of it that was not scrapped upstream is in its input buffer, and takes no other
//! parts meanwhile. Parts of a step go to the station of the machine that the plan names.
//!
//! The plan fixes sequences, not times: failures, repairs, breaks and random processing times
//! shift the work as they happen (the plan's robustness is what this measures). Buffers hold any
//! number of parts in this mode: a plan assumes lots can wait in front of their machines, and a
//! finite buffer holding parts of later lots could otherwise deadlock the plan.

use crate::engine::Simulation;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use takt_model::Model;

/// The lots of every machine, in the order the machine runs them: `(order index, routing step)`.
/// Machines are numbered as in [`crate::engine::Topology::machines`]: station by station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub lots: Vec<Vec<(u32, u32)>>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("the run of the plan: {0}")]
    Run(#[from] crate::guard::RunStopped),
    #[error("the plan has {found} machines, the plant has {expected}")]
    Machines { found: usize, expected: usize },
    #[error("the plan names order {order}, the plant has {orders} orders")]
    UnknownOrder { order: u32, orders: usize },
    #[error("order `{order}` has no routing step {step}")]
    UnknownStep { order: String, step: u32 },
    #[error("order `{order}` step {step} is planned {times} times (exactly once needed)")]
    NotOnce {
        order: String,
        step: u32,
        times: usize,
    },
    #[error(
        "order `{order}` step {step} is planned on machine {machine}, whose station is not eligible"
    )]
    Ineligible {
        order: String,
        step: u32,
        machine: usize,
    },
    #[error("a plan covers orders only, and this scenario also has random arrivals")]
    Arrivals,
}

/// What the engine tracks to follow a plan (part of a snapshot).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanState {
    pub(crate) lots: Vec<Vec<(u32, u32)>>,
    /// Per machine, the position of its current lot.
    pub(crate) next: Vec<usize>,
    /// `[order][step]`: the station and machine planned.
    pub(crate) station_of: Vec<Vec<u32>>,
    pub(crate) machine_of: Vec<Vec<u32>>,
    /// `[order][step]`: parts that entered the step's buffer, parts done with the step (gone on or
    /// scrapped), parts scrapped at the step.
    pub(crate) arrived: Vec<Vec<u32>>,
    pub(crate) finished: Vec<Vec<u32>>,
    pub(crate) scrapped: Vec<Vec<u32>>,
    pub(crate) quantity: Vec<u32>,
}

impl PlanState {
    pub(crate) fn new(
        model: &Model,
        machine_station: &[usize],
        plan: Plan,
    ) -> Result<Self, PlanError> {
        if model.arrivals.is_some() {
            return Err(PlanError::Arrivals);
        }
        if plan.lots.len() != machine_station.len() {
            return Err(PlanError::Machines {
                found: plan.lots.len(),
                expected: machine_station.len(),
            });
        }
        let steps: Vec<usize> = model
            .orders
            .iter()
            .map(|o| model.products[o.product].routing.len())
            .collect();
        let mut machine_of: Vec<Vec<Option<u32>>> = steps.iter().map(|&n| vec![None; n]).collect();
        let mut times: Vec<Vec<usize>> = steps.iter().map(|&n| vec![0; n]).collect();
        for (m, lots) in plan.lots.iter().enumerate() {
            for &(o, k) in lots {
                let order = model
                    .orders
                    .get(o as usize)
                    .ok_or(PlanError::UnknownOrder {
                        order: o,
                        orders: model.orders.len(),
                    })?;
                let step = model.products[order.product]
                    .routing
                    .get(k as usize)
                    .ok_or_else(|| PlanError::UnknownStep {
                        order: order.id.clone(),
                        step: k,
                    })?;
                if !step.stations.contains(&machine_station[m]) {
                    return Err(PlanError::Ineligible {
                        order: order.id.clone(),
                        step: k,
                        machine: m,
                    });
                }
                machine_of[o as usize][k as usize] = Some(m as u32);
                times[o as usize][k as usize] += 1;
            }
        }
        for (o, per_step) in times.iter().enumerate() {
            for (k, &n) in per_step.iter().enumerate() {
                if n != 1 {
                    return Err(PlanError::NotOnce {
                        order: model.orders[o].id.clone(),
                        step: k as u32,
                        times: n,
                    });
                }
            }
        }
        let machine_of: Vec<Vec<u32>> = machine_of
            .into_iter()
            .map(|v| v.into_iter().map(|m| m.unwrap_or(0)).collect())
            .collect();
        let station_of = machine_of
            .iter()
            .map(|v| {
                v.iter()
                    .map(|&m| machine_station[m as usize] as u32)
                    .collect()
            })
            .collect();
        let zeros = || steps.iter().map(|&n| vec![0; n]).collect::<Vec<_>>();
        Ok(PlanState {
            next: vec![0; plan.lots.len()],
            lots: plan.lots,
            station_of,
            machine_of,
            arrived: zeros(),
            finished: zeros(),
            scrapped: zeros(),
            quantity: model.orders.iter().map(|o| o.quantity).collect(),
        })
    }

    /// Parts of order `o` expected at step `k`: its quantity less what was scrapped before.
    pub(crate) fn expected(&self, o: usize, k: usize) -> u32 {
        self.quantity[o] - self.scrapped[o][..k].iter().sum::<u32>()
    }

    /// The lot machine `m` works on or waits for, skipping lots that are done (or emptied by scrap).
    pub(crate) fn current_lot(&mut self, m: usize) -> Option<(usize, usize)> {
        loop {
            let &(o, k) = self.lots[m].get(self.next[m])?;
            let (o, k) = (o as usize, k as usize);
            if self.finished[o][k] < self.expected(o, k) {
                return Some((o, k));
            }
            self.next[m] += 1;
        }
    }

    /// Whether every part of the lot still expected has arrived.
    pub(crate) fn lot_ready(&self, o: usize, k: usize) -> bool {
        self.arrived[o][k] >= self.expected(o, k)
    }
}

impl Simulation {
    /// Builds the plant like [`Simulation::new`], with every machine following `plan`.
    pub fn with_plan(model: Arc<Model>, seed: u64, plan: Plan) -> Result<Simulation, PlanError> {
        let mut sim = Simulation::new(Arc::clone(&model), seed);
        let machine_station: Vec<usize> = model
            .stations
            .iter()
            .enumerate()
            .flat_map(|(s, st)| std::iter::repeat_n(s, st.machines as usize))
            .collect();
        let state = PlanState::new(&model, &machine_station, plan)?;
        sim.unlimit_buffers();
        sim.plan = Some(Box::new(state));
        Ok(sim)
    }

    /// Whether every order has completed (all its parts left the plant).
    pub fn orders_complete(&self) -> bool {
        self.topology().orders.iter().all(|&o| {
            self.comp::<crate::components::OrderState>(o)
                .completed_at
                .is_some()
        })
    }
}
