//! KPIs as ISO 22400-2 defines them, read off the engine at any moment without disturbing the run.
//!
//! Per machine, over the measured window (after warm-up):
//! - planned busy time PBT = window - off-shift time - planned downtime (maintenance);
//! - actual production time APT = processing time; setup time, unplanned downtime as booked by state;
//! - availability = APT / PBT; effectiveness (performance) = sum of ideal cycle times of the units
//!   produced / APT; quality ratio = good / produced; OEE = availability x performance x quality.
//!
//! A station sums its machines' times and counts. MTBF = (PBT - unplanned downtime) / failures, the
//! mean up time between failures; MTTR = mean duration from failure to end of repair.
//!
//! Bottleneck: the station with the longest mean active period (Roser's active-period method), where
//! active means processing, setting up, down or in maintenance - anything but waiting.

use crate::components::*;
use crate::engine::Simulation;
use serde::{Deserialize, Serialize};

/// Fractions of the measured window per machine state (a station averages its machines).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StateFractions {
    pub processing: f64,
    pub setup: f64,
    pub starved: f64,
    pub blocked: f64,
    pub down: f64,
    pub planned_down: f64,
    pub off_shift: f64,
}

impl StateFractions {
    fn from_totals(t: &[f64; N_STATES], window: f64) -> Self {
        let f = |s: MachineState| {
            if window > 0.0 {
                t[s as usize] / window
            } else {
                0.0
            }
        };
        StateFractions {
            processing: f(MachineState::Processing),
            setup: f(MachineState::Setup),
            starved: f(MachineState::Starved),
            blocked: f(MachineState::Blocked),
            down: f(MachineState::Down),
            planned_down: f(MachineState::PlannedDown),
            off_shift: f(MachineState::OffShift),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailureModeReport {
    pub name: String,
    pub failures: u64,
    pub repairs: u64,
    /// Sum of repair durations (failure to repair end) of repairs finished in the window.
    pub downtime_s: f64,
    pub mttr_s: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StationReport {
    pub name: String,
    pub machines: u32,
    pub oee: Option<f64>,
    pub availability: Option<f64>,
    pub performance: Option<f64>,
    pub quality: Option<f64>,
    pub planned_busy_time_s: f64,
    pub actual_production_time_s: f64,
    pub setup_time_s: f64,
    pub unplanned_downtime_s: f64,
    pub planned_downtime_s: f64,
    pub produced: u64,
    pub good: u64,
    pub scrap: u64,
    pub rework: u64,
    pub setups: u64,
    /// Planned maintenances begun in the window.
    pub maintenances: u64,
    pub failures: u64,
    pub mtbf_s: Option<f64>,
    pub mttr_s: Option<f64>,
    /// Processing time / window: the busy fraction of queueing theory.
    pub utilisation: f64,
    pub state_fractions: StateFractions,
    pub failure_modes: Vec<FailureModeReport>,
    pub energy_kwh: f64,
    pub energy_kwh_per_good_part: Option<f64>,
    pub active_period_mean_s: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BufferReport {
    pub name: String,
    pub capacity: Option<u32>,
    pub level_mean: f64,
    pub level_max: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CrewReport {
    pub name: String,
    pub count: u32,
    /// Busy member-time / (members x window).
    pub utilisation: f64,
    pub queue: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderReport {
    pub id: String,
    pub product: String,
    pub quantity: u32,
    /// Parts that came out good; `quantity - good` were scrapped or are still in the plant.
    pub good: u32,
    pub release_s: f64,
    pub due_s: Option<f64>,
    /// When the order's last part left the plant.
    pub completed_at_s: Option<f64>,
    /// Completion - due (negative: early); for an unfinished order, now - due while positive.
    pub lateness_s: Option<f64>,
    pub tardiness_s: Option<f64>,
    pub on_time: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrdersReport {
    pub count: u32,
    pub completed: u32,
    /// Share of orders with a due date that were finished by it (unfinished ones count as late).
    pub on_time_rate: Option<f64>,
    pub tardiness_mean_s: Option<f64>,
    pub tardiness_max_s: Option<f64>,
    pub makespan_s: Option<f64>,
    pub orders: Vec<OrderReport>,
}

/// Everything one replication measured. The JSON form is a contract scripts rely on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    pub scenario: String,
    pub seed: u64,
    pub time_s: f64,
    pub warmup_s: f64,
    /// Length of the measured window (time minus warm-up).
    pub window_s: f64,
    pub events: u64,
    pub throughput_per_hour: f64,
    pub released: u64,
    pub completed: u64,
    pub scrapped: u64,
    pub wip_mean: f64,
    pub wip_now: u64,
    pub lead_time_mean_s: Option<f64>,
    pub lead_time_p50_s: Option<f64>,
    pub lead_time_p95_s: Option<f64>,
    /// Departures (good and scrapped) per hour and their mean time in the plant: with `wip_mean`,
    /// Little's law L = lambda x W can be checked on any run.
    pub departures_per_hour: f64,
    pub sojourn_mean_s: Option<f64>,
    pub energy_kwh: f64,
    pub energy_kwh_per_good_part: Option<f64>,
    pub bottleneck: Option<String>,
    pub stations: Vec<StationReport>,
    pub buffers: Vec<BufferReport>,
    pub crews: Vec<CrewReport>,
    pub orders: Option<OrdersReport>,
    /// Machines that wait for room only each other could make: the plant can never move again.
    pub deadlock: Option<crate::deadlock::Deadlock>,
}

fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a / b)
}

impl Simulation {
    /// The KPIs of the window from the last statistics reset (warm-up end) to now.
    pub fn report(&self) -> Report {
        let model = self.model();
        let now = self.now();
        let plant = self.plant_stats();
        let window = now - plant.since;
        let topo = self.topology();
        let mut stations = Vec::new();
        let mut bottleneck: Option<(f64, usize)> = None;
        for (si, st) in model.stations.iter().enumerate() {
            let machines = topo.stations[si].machines();
            let mut totals = [0.0; N_STATES];
            let (mut produced, mut good, mut scrap, mut rework, mut setups) = (0, 0, 0, 0, 0);
            let mut maintenances = 0;
            let mut ideal_s = 0.0;
            let mut energy_kwh = 0.0;
            let modes = st.failure_modes.len();
            let (mut failures, mut repairs, mut repair_s) =
                (vec![0; modes], vec![0; modes], vec![0.0; modes]);
            let (mut active_periods, mut active_s) = (0u64, 0.0);
            for &m in &topo.machines[machines] {
                let mach = self.comp::<Machine>(m);
                let clock = &mach.clock;
                let mut t = clock.totals_s;
                t[clock.state as usize] += now - clock.since;
                let pw = &st.power_kw;
                energy_kwh += (t[MachineState::Processing as usize] * pw.processing
                    + t[MachineState::Setup as usize] * pw.setup
                    + (t[MachineState::Starved as usize] + t[MachineState::Blocked as usize])
                        * pw.idle
                    + t[MachineState::Down as usize] * pw.down
                    + t[MachineState::PlannedDown as usize] * pw.planned_down
                    + t[MachineState::OffShift as usize] * pw.off)
                    / 3600.0;
                for i in 0..N_STATES {
                    totals[i] += t[i];
                }
                let c = &mach.counts;
                produced += c.produced;
                good += c.good;
                scrap += c.scrap;
                rework += c.rework;
                setups += c.setups;
                maintenances += c.maintenances;
                ideal_s += c.ideal_s;
                for (k, ms) in self.comp::<Machine>(m).modes.iter().enumerate() {
                    failures[k] += ms.failures;
                    repairs[k] += ms.repairs;
                    repair_s[k] += ms.repair_s;
                }
                let (periods, length_s) = clock.active_periods_to(now);
                active_periods += periods;
                active_s += length_s;
            }
            let machines = f64::from(st.machines);
            let apt = totals[MachineState::Processing as usize];
            let down = totals[MachineState::Down as usize];
            let planned_down = totals[MachineState::PlannedDown as usize];
            let pbt = window * machines - totals[MachineState::OffShift as usize] - planned_down;
            let availability = ratio(apt, pbt);
            let performance = ratio(ideal_s, apt);
            let quality = ratio(good as f64, produced as f64);
            let oee = match (availability, performance, quality) {
                (Some(a), Some(p), Some(q)) => Some(a * p * q),
                _ => None,
            };
            let n_failures: u64 = failures.iter().sum();
            let n_repairs: u64 = repairs.iter().sum();
            let total_repair_s: f64 = repair_s.iter().sum();
            let active_period_mean_s = ratio(active_s, active_periods as f64);
            if let Some(mean) = active_period_mean_s
                && bottleneck.is_none_or(|(best, _)| mean > best)
            {
                bottleneck = Some((mean, si));
            }
            stations.push(StationReport {
                name: st.name.clone(),
                machines: st.machines,
                oee,
                availability,
                performance,
                quality,
                planned_busy_time_s: pbt,
                actual_production_time_s: apt,
                setup_time_s: totals[MachineState::Setup as usize],
                unplanned_downtime_s: down,
                planned_downtime_s: planned_down,
                produced,
                good,
                scrap,
                rework,
                setups,
                maintenances,
                failures: n_failures,
                mtbf_s: ratio(pbt - down, n_failures as f64),
                mttr_s: ratio(total_repair_s, n_repairs as f64),
                utilisation: ratio(apt, window * machines).unwrap_or(0.0),
                state_fractions: StateFractions::from_totals(&totals, window * machines),
                failure_modes: st
                    .failure_modes
                    .iter()
                    .enumerate()
                    .map(|(k, f)| FailureModeReport {
                        name: f.name.clone(),
                        failures: failures[k],
                        repairs: repairs[k],
                        downtime_s: repair_s[k],
                        mttr_s: ratio(repair_s[k], repairs[k] as f64),
                    })
                    .collect(),
                energy_kwh,
                energy_kwh_per_good_part: ratio(energy_kwh, good as f64),
                active_period_mean_s,
            });
        }
        let buffers = model
            .buffers
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let q = self.comp::<BufferQueue>(topo.buffers[i]);
                let integral = q.level_integral + q.parts.len() as f64 * (now - q.level_since);
                BufferReport {
                    name: b.name.clone(),
                    capacity: b.capacity,
                    level_mean: ratio(integral, window).unwrap_or(0.0),
                    level_max: q.max_level,
                }
            })
            .collect();
        let crews = model
            .crews
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let s = self.comp::<CrewState>(topo.crews[i]);
                let busy = s.busy_s + f64::from(s.count - s.free) * (now - s.busy_since);
                CrewReport {
                    name: c.name.clone(),
                    count: c.count,
                    utilisation: ratio(busy, window * f64::from(c.count)).unwrap_or(0.0),
                    queue: s.queue.len() as u32,
                }
            })
            .collect();
        let orders = (!model.orders.is_empty()).then(|| self.orders_report());
        let energy_kwh: f64 = stations.iter().map(|s: &StationReport| s.energy_kwh).sum();
        let wip_integral = plant.wip_integral + plant.wip as f64 * (now - plant.wip_since);
        let quantile = |q: f64| plant.lead_time.quantile(q).ok().flatten();
        Report {
            scenario: model.name.clone(),
            seed: self.seed(),
            time_s: now,
            warmup_s: plant.since,
            window_s: window,
            events: self.events(),
            throughput_per_hour: ratio(plant.completed as f64 * 3600.0, window).unwrap_or(0.0),
            released: plant.released,
            completed: plant.completed,
            scrapped: plant.scrapped,
            wip_mean: ratio(wip_integral, window).unwrap_or(0.0),
            wip_now: plant.wip,
            lead_time_mean_s: ratio(plant.lead_time_sum_s, plant.completed as f64),
            lead_time_p50_s: quantile(0.5),
            lead_time_p95_s: quantile(0.95),
            departures_per_hour: ratio(plant.departures as f64 * 3600.0, window).unwrap_or(0.0),
            sojourn_mean_s: ratio(plant.sojourn_sum_s, plant.departures as f64),
            energy_kwh,
            energy_kwh_per_good_part: ratio(energy_kwh, plant.completed as f64),
            bottleneck: bottleneck.map(|(_, si)| model.stations[si].name.clone()),
            stations,
            buffers,
            crews,
            orders,
            deadlock: self.deadlock(),
        }
    }

    fn orders_report(&self) -> OrdersReport {
        let model = self.model();
        let now = self.now();
        let mut reports = Vec::new();
        let (mut with_due, mut on_time, mut tardiness) = (0u32, 0u32, Vec::new());
        let mut makespan: Option<f64> = Some(0.0);
        for (i, o) in model.orders.iter().enumerate() {
            let state = self.comp::<OrderState>(self.topology().orders[i]);
            let done = state.completed_at;
            makespan = match (makespan, done) {
                (Some(m), Some(d)) => Some(m.max(d)),
                _ => None,
            };
            let lateness = o.due_s.and_then(|due| match done {
                Some(d) => Some(d - due),
                None => (now > due).then_some(now - due),
            });
            let tardy = o.due_s.map(|_| lateness.unwrap_or(0.0).max(0.0));
            let ok = o.due_s.map(|due| done.is_some_and(|d| d <= due));
            if o.due_s.is_some() {
                with_due += 1;
                on_time += u32::from(ok == Some(true));
                tardiness.push(tardy.unwrap_or(0.0));
            }
            reports.push(OrderReport {
                id: o.id.clone(),
                product: model.products[o.product].name.clone(),
                quantity: o.quantity,
                good: state.good,
                release_s: o.release_s,
                due_s: o.due_s,
                completed_at_s: done,
                lateness_s: lateness,
                tardiness_s: tardy,
                on_time: ok,
            });
        }
        OrdersReport {
            count: model.orders.len() as u32,
            completed: reports
                .iter()
                .filter(|r| r.completed_at_s.is_some())
                .count() as u32,
            on_time_rate: ratio(f64::from(on_time), f64::from(with_due)),
            tardiness_mean_s: ratio(tardiness.iter().sum(), tardiness.len() as f64),
            tardiness_max_s: tardiness.iter().copied().reduce(f64::max),
            makespan_s: makespan,
            orders: reports,
        }
    }
}
