//! Deadlock: machines that wait for room in buffers only each other could empty. A cyclic routing
//! with small buffers can reach it, and then nothing moves again while the clock runs on; the
//! report says so, with the time and the stations, instead of a silent throughput of zero.
//!
//! A machine blocked on buffer b can go on only once a machine of a station that takes from b
//! takes a part from it. Starting from every blocked machine, those whose buffer has a taker that
//! is not itself in the set are dropped until nothing changes; what remains can never move again
//! (repairs and shifts do not free a full buffer), and is empty otherwise.

use crate::components::{Activity, Machine};
use crate::engine::Simulation;
use serde::{Deserialize, Serialize};

/// Machines that can never work again, found at the moment of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deadlock {
    /// Since when, simulated seconds: the latest moment one of the machines became blocked.
    pub since_s: f64,
    /// The stations of the blocked machines, in the model's order.
    pub stations: Vec<String>,
    /// The machines, by name.
    pub machines: Vec<String>,
}

impl Simulation {
    /// The deadlock the plant is in now, if it is in one.
    pub fn deadlock(&self) -> Option<Deadlock> {
        let model = self.model();
        let topo = self.topology();
        let n = topo.machines.len();
        // The machine indices of each station, and each station's input buffer.
        let station_of = |k: usize| {
            topo.stations
                .iter()
                .position(|st| st.machines().contains(&k))
        };
        let mut blocked_on: Vec<Option<usize>> = vec![None; n];
        let mut since = vec![0.0; n];
        for (k, &m) in topo.machines.iter().enumerate() {
            let mach = self.comp::<Machine>(m);
            if mach.activity == Activity::Blocked {
                blocked_on[k] = mach.blocked_on.map(|b| b as usize);
                since[k] = mach.clock.since;
            }
        }
        let mut stuck: Vec<bool> = blocked_on.iter().map(Option::is_some).collect();
        if !stuck.contains(&true) {
            return None;
        }
        loop {
            let mut changed = false;
            for k in 0..n {
                let Some(buffer) = blocked_on[k].filter(|_| stuck[k]) else {
                    continue;
                };
                let free_taker = model.stations.iter().enumerate().any(|(s, st)| {
                    st.input_buffer == buffer && topo.stations[s].machines().any(|j| !stuck[j])
                });
                if free_taker {
                    stuck[k] = false;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let ks: Vec<usize> = (0..n).filter(|&k| stuck[k]).collect();
        if ks.is_empty() {
            return None;
        }
        let mut stations: Vec<usize> = ks.iter().filter_map(|&k| station_of(k)).collect();
        stations.dedup();
        Some(Deadlock {
            since_s: ks.iter().map(|&k| since[k]).fold(0.0, f64::max),
            stations: stations
                .into_iter()
                .map(|s| model.stations[s].name.clone())
                .collect(),
            machines: ks.iter().map(|&k| topo.machine_names[k].clone()).collect(),
        })
    }
}

impl Deadlock {
    /// In words, for people: since when, which machines, and what to do about it; `how_often`
    /// follows "DEADLOCK" (" in 3 of 10 replications", or nothing for one run).
    pub fn in_words(&self, how_often: &str) -> String {
        let since = if self.since_s < 3600.0 {
            format!("{:.1} min", self.since_s / 60.0)
        } else {
            format!("{:.2} h", self.since_s / 3600.0)
        };
        format!(
            "DEADLOCK{how_often}: from {since} into the run the machines {} (stations {}) wait for \
             room in buffers only each other could empty; nothing moves after that, and the figures \
             count the standstill. Enlarge a buffer on the loop, or break the cycle in the routing.",
            self.machines.join(", "),
            self.stations.join(", "),
        )
    }
}
