//! A plant's order book as a shop problem: every order is a job, every routing step an operation
//! run as one lot (the whole quantity, moved on when complete), eligible on every machine of the
//! step's stations. Times are whole seconds from the scenario's t = 0.
//!
//! - Lot time = quantity × the mean processing time of the step (scrap is not replaced, as in the
//!   simulator: plants size orders with a scrap allowance).
//! - Setups come from the station's changeover matrix (means), by product: a lot of the same
//!   product as the one before needs none. A setup starts once the lot is at the machine.
//! - Breaks: off-shift time of stations that follow the shift calendar, and the planned maintenance
//!   windows (mean duration) of every machine. Work pauses over a break and resumes after it, as in
//!   the simulator. Failures are not planned for; `--evaluate` measures what they do to the plan.

use crate::problem::{Job, Operation, SetupTable, Setups, ShopProblem};
use takt_model::Model;
use takt_model::model::WEEK_S;

/// Where a problem came from, to map it back to the plant.
#[derive(Debug, Clone)]
pub struct PlantProblem {
    pub problem: ShopProblem,
    /// (station index, machine index within the station) of every problem machine.
    pub machines: Vec<(usize, u32)>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlantError {
    #[error(
        "the scenario has no orders to schedule: give it an order book: `[demand] orders`, or a CSV (`takt schedule --orders`, or the order book sent beside the scenario)"
    )]
    NoOrders,
    #[error("order `{order}`: lot time {seconds:.0} s does not fit in whole seconds")]
    TooLong { order: String, seconds: f64 },
    #[error(
        "station `{station}`: its maintenance interval lays out {windows:.3e} windows over the \
         plan's span; at most {MAX_WINDOWS} are laid out: lengthen the interval"
    )]
    TooManyWindows { station: String, windows: f64 },
    #[error(
        "order `{order}`: its step {step} at `{station}` takes no time on the machine (the \
         step's mean processing time is {mean_s} s); a schedule needs each lot to take time: give \
         the step its processing time"
    )]
    NoWork {
        order: String,
        step: usize,
        station: String,
        mean_s: f64,
    },
}

/// Up to this many products a station's setups are a dense table (the search looks them up most).
const DENSE_SETUP_PRODUCTS: usize = 64;
/// Breaks are laid out this far past the last release at most (beyond it machines never stop).
const MAX_PLANNING_S: f64 = 5.0 * 365.0 * 86_400.0;
/// Planned maintenance windows laid out per machine at most.
pub const MAX_WINDOWS: usize = 1_000_000;

pub fn from_model(model: &Model) -> Result<PlantProblem, PlantError> {
    if model.orders.is_empty() {
        return Err(PlantError::NoOrders);
    }
    let mut machines = Vec::new();
    let mut first_machine = Vec::new();
    let mut names = Vec::new();
    for (si, st) in model.stations.iter().enumerate() {
        first_machine.push(machines.len());
        for k in 0..st.machines {
            machines.push((si, k));
            // The simulator's machine names, so plans and reports agree.
            names.push(st.machine_name(k));
        }
    }
    let secs = |x: f64| x.round() as i64;
    let mut jobs = Vec::new();
    let mut class_of = Vec::new();
    let mut total_work = 0.0;
    for o in &model.orders {
        let product = &model.products[o.product];
        let mut operations = Vec::new();
        for (k, step) in product.routing.iter().enumerate() {
            let lot_s = f64::from(o.quantity) * step.process_mean_s;
            // Lots of no time tie on their starts, and the order of tied lots on a machine is
            // then no one's: the plan and its check would disagree about the setups between them.
            if lot_s.round() < 1.0 {
                return Err(PlantError::NoWork {
                    order: o.id.clone(),
                    step: k + 1,
                    station: step
                        .stations
                        .iter()
                        .map(|&s| model.stations[s].name.as_str())
                        .collect::<Vec<_>>()
                        .join(" or "),
                    mean_s: step.process_mean_s,
                });
            }
            if !(lot_s.is_finite() && lot_s < 1e15) {
                return Err(PlantError::TooLong {
                    order: o.id.clone(),
                    seconds: lot_s,
                });
            }
            total_work += lot_s;
            let alternatives = step
                .stations
                .iter()
                .flat_map(|&s| {
                    let first = first_machine[s];
                    (0..model.stations[s].machines as usize).map(move |k| (first + k, secs(lot_s)))
                })
                .collect();
            operations.push(Operation { alternatives });
            class_of.push(o.product);
        }
        jobs.push(Job {
            name: o.id.clone(),
            release: secs(o.release_s),
            due: o.due_s.map(secs),
            weight: o.priority,
            operations,
        });
    }
    let n_products = model.products.len();
    let any_changeover = model.stations.iter().any(|s| s.changeover.is_some());
    // One table per station, shared by its machines: dense for a few products, sparse (the
    // default and the pairs the scenario writes) for many.
    let setups = any_changeover.then(|| Setups {
        class_of,
        table_of: machines.iter().map(|&(s, _)| s).collect(),
        tables: model
            .stations
            .iter()
            .map(|st| match &st.changeover {
                None => SetupTable::Sparse {
                    default: 0,
                    pairs: Vec::new(),
                },
                Some(c) if n_products <= DENSE_SETUP_PRODUCTS => SetupTable::dense(
                    (0..n_products)
                        .map(|a| {
                            (0..n_products)
                                .map(|b| secs(c.mean_between_s(a, b)))
                                .collect()
                        })
                        .collect(),
                ),
                Some(c) => {
                    let mut pairs: Vec<((usize, usize), i64)> = c
                        .entries
                        .iter()
                        .filter(|(a, b)| a != b)
                        .map(|&(a, b)| ((a, b), secs(c.mean_between_s(a, b))))
                        .collect();
                    pairs.sort_unstable();
                    pairs.dedup_by_key(|p| p.0);
                    SetupTable::Sparse {
                        default: secs(c.default_mean_s),
                        pairs,
                    }
                }
            })
            .collect(),
    });
    // Lay breaks out far enough for any semi-active schedule: the last release plus all the work done
    // one lot after another at the calendar's share of working time, plus a week.
    let max_release = model.orders.iter().map(|o| o.release_s).fold(0.0, f64::max);
    let on_share = model
        .calendar
        .as_ref()
        .map_or(1.0, |c| (c.on_secs_per_week() / WEEK_S).max(1e-3));
    let max_setup = setups.as_ref().map_or(0, Setups::longest);
    let n_ops: usize = jobs.iter().map(|j: &Job| j.operations.len()).sum();
    let limit =
        (max_release + (total_work + (max_setup as f64) * n_ops as f64) / on_share + 2.0 * WEEK_S)
            .min(MAX_PLANNING_S);
    let off_shift = model.calendar.as_ref().map(|c| {
        let mut off = Vec::new();
        let mut t = 0.0;
        while t < limit {
            let (on, next) = c.at(&model.timebase, t);
            if !on {
                off.push((secs(t), secs(next)));
            }
            if next <= t {
                break; // a calendar that does not move on: no more breaks to lay out
            }
            t = next;
        }
        off
    });
    let breaks = machines
        .iter()
        .map(|&(s, _)| {
            let st = &model.stations[s];
            let mut w: Vec<(i64, i64)> = Vec::new();
            if st.follows_calendar
                && let Some(off) = &off_shift
            {
                w.extend(off.iter().copied());
            }
            if let Some(m) = &st.maintenance {
                let starts = m.starts_before(limit, MAX_WINDOWS).map_err(|windows| {
                    PlantError::TooManyWindows {
                        station: st.name.clone(),
                        windows,
                    }
                })?;
                for t in starts {
                    w.push((secs(t), secs(t + m.duration_mean_s)));
                }
            }
            Ok(merge(w))
        })
        .collect::<Result<_, PlantError>>()?;
    let mut problem = ShopProblem::new(model.name.clone(), machines.len(), jobs);
    problem.machine_names = names;
    problem.setups = setups;
    problem.setup_needs_job = true;
    problem.breaks = breaks;
    Ok(PlantProblem { problem, machines })
}

/// Sorted, disjoint, non-empty windows covering the same time.
fn merge(mut w: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    w.retain(|(a, b)| a < b);
    w.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(w.len());
    for (a, b) in w {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_touching_and_overlapping_windows() {
        assert_eq!(
            merge(vec![(5, 9), (0, 2), (2, 3), (8, 12), (20, 20)]),
            vec![(0, 3), (5, 12)]
        );
    }
}
