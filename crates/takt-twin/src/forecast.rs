//! "Where will we end up?": the mirrored plant forked into the simulator and run on to the end of the
//! shift, many times, for output, OEE and order completion with their uncertainty, and flags where the
//! plant deviates from plan.
//!
//! Two steps:
//! 1. [`condition_of`](crate::condition::condition_of) reads the mirror into a [`PlantCondition`]
//!    (see `crate::condition`: machines directly, buffers and orders by conservation along each
//!    product's routing). What could not be inferred exactly is said in `warnings`.
//! 2. [`forecast`] runs replications from that condition (`Simulation::from_condition`, one seed per
//!    replication) to the end of the running shift (or a given horizon), adds what was observed so
//!    far in the shift, and summarises each figure as a mean with its 95% confidence interval and a
//!    90% prediction range (5th to 95th percentile over replications: where the actual end of shift
//!    should fall nine times in ten). The plan is the scenario itself run from its start to the same
//!    horizon, its figures counted from the shift's start (a warm-up up to there): an output whose
//!    prediction range excludes the plan's mean, or an order likely late that the plan had on time,
//!    is flagged. Past the scenario's horizon the plan is the plant as the twin had it at the
//!    shift's start, run to the same horizon ([`crate::shift_start`]); without that state (the twin
//!    saw no event before the shift) there is no plan to compare with.
//!
//! Model time stays the scenario's: t = 0 is its `[run] start`, and a shift days later is simply
//! at a later t, where the calendar, the orders' release and due times and the failure ages all
//! keep their meaning.

use crate::condition::{Observed, observe};
use crate::event::StateCode;
use crate::mirror::{AssetState, shift_of};
use crate::orders::OrderBook;
use crate::shift_start::{PlanBasis, PlanFromStart, ShiftStart, VersionedBook};
use crate::{AssetInfo, assets_of};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use takt_model::{Model, RunLimits};
use takt_sim::condition::OrderCondition;
use takt_sim::{ConditionError, PlantCondition, Report, Simulation, mean_ci95, quantile, rng};

#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    #[error("the moment {now} is before the scenario's start {start}")]
    BeforeStart { now: String, start: String },
    #[error("the horizon {until} is not after the moment {now}: nothing is left to forecast")]
    HorizonPassed { now: String, until: String },
    #[error(
        "the shift{name} is over at {now} (it ended at {end}; the next starts at {next}): \
         give a horizon (`until`) to forecast past its end"
    )]
    ShiftOver {
        name: String,
        end: String,
        now: String,
        next: String,
    },
    #[error(
        "the horizon {until} is {ahead_h:.1} h after the moment {now}; a forecast looks at most \
         {max_h:.0} h ahead"
    )]
    TooFarAhead {
        now: String,
        until: String,
        ahead_h: f64,
        max_h: f64,
    },
    #[error("at least one replication is needed")]
    NoReplications,
    #[error(
        "the smallest deviation worth flagging is a share of the plan from 0 to 1 (excluded), not {0}"
    )]
    MinDeviation(f64),
    #[error("a forecast run: {0}")]
    Run(#[from] takt_sim::RunStopped),
    #[error("the mirrored state does not fit the scenario: {0}")]
    Condition(#[from] ConditionError),
    #[error(transparent)]
    Book(#[from] crate::orders::OrderBookError),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForecastOptions {
    pub replications: u32,
    pub seed: u64,
    /// Model seconds (from the scenario's start) to forecast to; `None`: the end of the running
    /// shift.
    pub until_s: Option<f64>,
    /// Replications of the plan (the scenario from its start, or past its horizon the plant at
    /// the shift's start); 0 skips the comparison.
    pub plan_replications: u32,
    /// The smallest gap to the plan worth a person's attention, as a share of the plan (0.01: 1 %):
    /// output is flagged behind or ahead of plan only when its 90 % range lies wholly on one side
    /// of the plan *and* the expected gap is at least this large. A detectable gap of 7 parts in
    /// 24,452 is not a deviation a shift leader acts on.
    pub min_deviation: f64,
}

/// The default practical size of a deviation from plan: 1 % of the planned output.
pub const DEFAULT_MIN_DEVIATION: f64 = 0.01;

/// One forecast figure over the replications.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Interval {
    pub mean: f64,
    /// 95% confidence half-width of the mean.
    pub ci95: Option<f64>,
    /// 90% prediction range: 5th, 50th and 95th percentile of the replications.
    pub p05: f64,
    pub p50: f64,
    pub p95: f64,
}

impl Interval {
    pub fn of(xs: &[f64]) -> Option<Interval> {
        if xs.is_empty() {
            return None;
        }
        let mut sorted = xs.to_vec();
        sorted.sort_by(f64::total_cmp);
        let (mean, ci95) = mean_ci95(xs);
        Some(Interval {
            mean,
            ci95,
            p05: quantile(&sorted, 0.05),
            p50: quantile(&sorted, 0.5),
            p95: quantile(&sorted, 0.95),
        })
    }

    /// Whether `x` lies in the 90% prediction range.
    pub fn covers(&self, x: f64) -> bool {
        self.p05 <= x && x <= self.p95
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StationForecast {
    pub station: String,
    /// Good pieces in the KPI window so far, and by the horizon.
    pub good_so_far: u64,
    pub good_at_end: Interval,
    /// ISO 22400 over the whole window (what was observed plus what is forecast).
    pub oee_at_end: Option<Interval>,
    pub availability_at_end: Option<Interval>,
    /// The plan's mean good pieces by the horizon.
    pub plan_good: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderForecast {
    pub id: String,
    pub quantity: u32,
    pub due: Option<String>,
    pub complete_now: bool,
    /// Share of replications in which the order is complete by the horizon.
    pub p_complete: f64,
    /// Completion time (model seconds) over the replications that complete it.
    pub completion_s: Option<Interval>,
    /// Share of replications in which it is complete by its due date.
    pub p_on_time: Option<f64>,
    pub plan_p_on_time: Option<f64>,
    /// Due before the forecast's moment and not complete: late already, whatever the future
    /// brings (its `p_on_time` is 0). A screen says so in words rather than as "0 %".
    pub overdue: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deviation {
    /// A station, `plant`, or an order id.
    pub subject: String,
    /// `behind_plan`, `ahead_of_plan` or `order_at_risk`.
    pub flag: &'static str,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Forecast {
    pub now: String,
    pub until: String,
    /// The shift whose figures "so far" and "at end" count: its name, if any, and start.
    pub shift: Option<String>,
    pub shift_start: String,
    pub now_s: f64,
    pub until_s: f64,
    pub replications: u32,
    pub seed: u64,
    /// Good parts out of the plant in the KPI window so far, and by the horizon.
    pub plant_good_so_far: u64,
    pub plant_good_at_end: Interval,
    pub plan_plant_good: Option<f64>,
    /// What the plan's runs start from, when there is a plan.
    pub plan_basis: Option<PlanBasis>,
    pub stations: Vec<StationForecast>,
    /// When the live order book the orders come from was given (`PUT /twin/orders`); absent: they
    /// are the scenario's, dated from its `[run] start`.
    pub orders_as_of: Option<String>,
    pub orders: Vec<OrderForecast>,
    pub deviations: Vec<Deviation>,
    /// What the initial state had to assume.
    pub warnings: Vec<String>,
    /// The state the replications started from.
    pub initial_state: PlantCondition,
}

/// What one replication of the forecast (or the plan) gives.
pub struct ForecastRun {
    plant_good: f64,
    station_good: Vec<f64>,
    /// Per station: processing, planned busy, ideal seconds, produced pieces.
    station_times: Vec<[f64; 4]>,
    /// Per order: completion time, if by the horizon.
    completion_s: Vec<Option<f64>>,
    /// The deadlock the run ended in, if it locked up.
    deadlock: Option<takt_sim::Deadlock>,
}

fn outcome(report: &Report) -> ForecastRun {
    ForecastRun {
        deadlock: report.deadlock.clone(),
        plant_good: report.completed as f64,
        station_good: report.stations.iter().map(|s| s.good as f64).collect(),
        station_times: report
            .stations
            .iter()
            .map(|s| {
                [
                    s.actual_production_time_s,
                    s.planned_busy_time_s,
                    s.performance.unwrap_or(0.0) * s.actual_production_time_s,
                    s.produced as f64,
                ]
            })
            .collect(),
        completion_s: report
            .orders
            .as_ref()
            .map(|o| o.orders.iter().map(|r| r.completed_at_s).collect())
            .unwrap_or_default(),
    }
}

/// Forecasts from the mirrored `view` at `now_ms` (see the module docs). The figures "so far" and
/// "at end" count in the shift the view shows.
pub fn forecast(
    model: &Arc<Model>,
    view: &BTreeMap<String, AssetState>,
    now_ms: i64,
    options: ForecastOptions,
) -> Result<Forecast, ForecastError> {
    forecast_with_plans(
        model,
        view,
        now_ms,
        options,
        ForecastInputs::default(),
        &AtomicBool::new(false),
    )
}

/// What a forecast takes from the twin besides its view, and the plan runs kept across forecasts.
#[derive(Clone, Copy, Default)]
pub struct ForecastInputs<'a> {
    /// The live order book, if one was given: its orders take the scenario's place in the
    /// futures.
    pub book: Option<&'a OrderBook>,
    /// The plant at the shift's start (`Twin::shift_start`), for a plan past the scenario's
    /// horizon. Read with the same `book` (one read of the store), so that the futures and the
    /// plan run the same orders.
    pub start: Option<&'a ShiftStart>,
    /// Where the scenario's plan runs are kept (a server forecasting the same shift again).
    pub plans: Option<&'a PlanCache>,
}

/// The live order book and the plant at the start of the shift with that book: one read of the
/// twin's store (`Twin::forecast_basis`), so that the futures and the plan run the same orders.
#[derive(Debug, Clone, Default)]
pub struct ForecastBasis {
    pub book: VersionedBook,
    pub start: Option<ShiftStart>,
}

impl ForecastBasis {
    /// The forecast's inputs from this basis, with the plan runs kept in `plans` if given.
    pub fn inputs<'a>(&'a self, plans: Option<&'a PlanCache>) -> ForecastInputs<'a> {
        ForecastInputs {
            book: self.book.as_ref().map(|(_, book)| book.as_ref()),
            start: self.start.as_ref(),
            plans,
        }
    }
}

/// The furthest a forecast looks ahead of its moment: a week. The twin forecasts the shift; a week
/// of 100 replications is already minutes of work.
pub const MAX_AHEAD_S: f64 = 7.0 * 86_400.0;

/// The plan's runs (the scenario from its start) depend only on the model, the seed, how many and
/// to when, not on the plant's state: a server forecasting the same shift again and again keeps them
/// here and runs only the forecast itself. One cache serves one model.
#[derive(Default)]
pub struct PlanCache {
    runs: std::sync::Mutex<BTreeMap<PlanKey, Arc<Vec<ForecastRun>>>>,
}

/// Seed, number of runs, the bits of the horizon and of the shift's start, and what the runs
/// start from: `None` the scenario's start, `Some(book version)` the plant at the shift's start
/// with the live order book of that version (or none).
type PlanKey = (u64, u32, u64, u64, Option<Option<i64>>);

impl PlanCache {
    /// How many sets of plan runs are kept.
    pub fn len(&self) -> usize {
        self.runs.lock().map_or(0, |r| r.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// [`forecast`] of the orders of the live order book in `inputs` (`crate::orders`) if given, else
/// of the scenario's, taking the plan's runs from its `plans` when it has them (and keeping them
/// there). The plan is the scenario's from its start; past the scenario's horizon it is the plant
/// at the shift's start (its `start`, the twin's `Twin::shift_start`) run to the forecast's
/// horizon, and with neither there is none. Every run is held to the default [`RunLimits`] and
/// ends, with [`ForecastError::Run`], once `stop` is raised (the client went away, or the
/// server's time for the request is up).
pub fn forecast_with_plans(
    model: &Arc<Model>,
    view: &BTreeMap<String, AssetState>,
    now_ms: i64,
    options: ForecastOptions,
    inputs: ForecastInputs<'_>,
    stop: &AtomicBool,
) -> Result<Forecast, ForecastError> {
    let ForecastInputs { book, start, plans } = inputs;
    let limits = RunLimits::default();
    if options.replications == 0 {
        return Err(ForecastError::NoReplications);
    }
    if !(0.0..1.0).contains(&options.min_deviation) {
        return Err(ForecastError::MinDeviation(options.min_deviation));
    }
    // The futures run in the scenario, with the live book's orders if there is one.
    let Observed {
        model: futures,
        condition,
        mut warnings,
    } = observe(model, view, now_ms, book)?;
    let now_s = condition.now_s;
    let start_ms = model.timebase.start_ms();
    let shift = shift_of(view, &model.shift_clock(), now_ms);
    let model_s = |ms: i64| (ms - start_ms) as f64 / 1000.0;
    let stamp = |s: f64| model.timebase.rfc3339(s);
    let until_s = match options.until_s {
        Some(u) => u,
        None if shift.end_ms <= now_ms => {
            return Err(ForecastError::ShiftOver {
                name: shift.name.map(|n| format!(" `{n}`")).unwrap_or_default(),
                end: stamp(model_s(shift.end_ms)),
                now: stamp(now_s),
                next: stamp(model_s(shift.next_start_ms)),
            });
        }
        None => model_s(shift.end_ms),
    };
    if until_s <= now_s {
        return Err(ForecastError::HorizonPassed {
            now: stamp(now_s),
            until: stamp(until_s),
        });
    }
    if until_s - now_s > MAX_AHEAD_S {
        return Err(ForecastError::TooFarAhead {
            now: stamp(now_s),
            until: stamp(until_s),
            ahead_h: (until_s - now_s) / 3600.0,
            max_h: MAX_AHEAD_S / 3600.0,
        });
    }
    // The plan counts from the shift's start: the scenario's statistics reset there.
    let shift_start_s = model_s(shift.start_ms).max(model.warmup_s);
    let past_horizon = until_s > model.horizon_s && options.plan_replications > 0;
    let from_start = start.filter(|s| past_horizon && s.start_ms == shift.start_ms);
    let plan_replications = if past_horizon && from_start.is_none() {
        warnings.push(format!(
            "the scenario's plan ends at {} (plant time), and the twin has no state of the plant \
             at the shift's start: there is no plan to compare with after it",
            model.timebase.plant_minute(model.horizon_s)
        ));
        0
    } else {
        options.plan_replications
    };
    // Past the horizon, the plan's runs start from the plant at the shift's start.
    let plan_start = from_start
        .map(|s| PlanFromStart::new(model, s, plan_replications))
        .transpose()?;
    if let Some(plan) = &plan_start {
        warnings.extend(plan.notes.iter().cloned());
    }
    // A condition that does not fit the model fails every replication alike: the first error is
    // the answer.
    let runs: Vec<ForecastRun> = (0..options.replications)
        .into_par_iter()
        .map(|r| {
            let seed = rng::replication_seed(options.seed, r);
            let mut sim = Simulation::from_condition(Arc::clone(&futures), seed, &condition)?;
            sim.run_guarded(until_s, &limits, &[stop])?;
            Ok(outcome(&sim.report()))
        })
        .collect::<Result<Vec<_>, ForecastError>>()?;
    let locked: Vec<&takt_sim::Deadlock> =
        runs.iter().filter_map(|o| o.deadlock.as_ref()).collect();
    if let Some(first) = locked.first() {
        warnings.push(format!(
            "DEADLOCK in {} of {} replications: the machines {} (stations {}) end up waiting for \
             room only each other could make (first at {}); the forecast counts the standstill",
            locked.len(),
            runs.len(),
            first.machines.join(", "),
            first.stations.join(", "),
            stamp(first.since_s),
        ));
    }
    let run_plan = || -> Result<Arc<Vec<ForecastRun>>, ForecastError> {
        if let Some(plan) = &plan_start {
            return plan
                .run(until_s, plan_replications, options.seed, &[stop], outcome)
                .map(Arc::new);
        }
        let plan_model = if shift_start_s > model.warmup_s {
            Arc::new(Model {
                warmup_s: shift_start_s,
                ..Model::clone(model)
            })
        } else {
            Arc::clone(model)
        };
        (0..plan_replications)
            .into_par_iter()
            .map(|r| {
                let mut sim = Simulation::new(
                    Arc::clone(&plan_model),
                    rng::replication_seed(options.seed, r),
                );
                sim.run_guarded(until_s, &limits, &[stop])?;
                Ok(outcome(&sim.report()))
            })
            .collect::<Result<Vec<_>, ForecastError>>()
            .map(Arc::new)
    };
    let key = (
        options.seed,
        plan_replications,
        until_s.to_bits(),
        shift_start_s.to_bits(),
        plan_start.as_ref().map(|plan| plan.book_version),
    );
    let plan: Arc<Vec<ForecastRun>> = match plans {
        None => run_plan()?,
        Some(cache) => {
            let cached = cache.runs.lock().ok().and_then(|r| r.get(&key).cloned());
            match cached {
                Some(runs) => runs,
                None => {
                    let runs = run_plan()?;
                    if let Ok(mut r) = cache.runs.lock() {
                        r.insert(key, Arc::clone(&runs));
                    }
                    runs
                }
            }
        }
    };
    let mean = |xs: Vec<f64>| (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64);

    // What was observed in the window, per station.
    let info: BTreeMap<String, AssetInfo> = assets_of(model).into_iter().collect();
    // Per station: good pieces, and running, planned busy, ideal seconds and pieces made.
    let mut observed: Vec<(u64, [f64; 4])> = vec![(0, [0.0; 4]); model.stations.len()];
    let mut plant_good_so_far = 0u64;
    for (si, st) in model.stations.iter().enumerate() {
        for k in 0..st.machines {
            let name = st.machine_name(k);
            let Some(a) = view.get(&name) else { continue };
            let d = a.state_durations_ms(now_ms);
            let secs = |s: StateCode| d[s.index()] as f64 / 1000.0;
            let window_s = d.iter().sum::<i64>() as f64 / 1000.0;
            let o = &mut observed[si];
            o.0 += a.good;
            o.1[0] += secs(StateCode::Running);
            o.1[1] += window_s - secs(StateCode::Off) - secs(StateCode::PlannedDown);
            o.1[2] += info
                .get(&name)
                .and_then(|i| i.ideal_s(&a.pieces_by_product))
                .unwrap_or(0.0);
            o.1[3] += (a.good + a.scrap + a.rework) as f64;
            // Good pieces of products whose last step this station does leave the plant.
            for (p, n) in &a.good_by_product {
                let last_here = model
                    .products
                    .iter()
                    .find(|q| &q.name == p)
                    .and_then(|q| q.routing.last())
                    .is_some_and(|op| op.stations.contains(&si));
                if last_here {
                    plant_good_so_far += n;
                }
            }
        }
    }
    let interval = |xs: Vec<f64>| {
        Interval::of(&xs).unwrap_or(Interval {
            mean: f64::NAN,
            ci95: None,
            p05: f64::NAN,
            p50: f64::NAN,
            p95: f64::NAN,
        })
    };
    let plant_good_at_end = interval(
        runs.iter()
            .map(|o| plant_good_so_far as f64 + o.plant_good)
            .collect(),
    );
    let plan_plant_good = mean(plan.iter().map(|o| o.plant_good).collect());
    let mut deviations = Vec::new();
    let mut flag_output = |subject: &str, at_end: &Interval, plan: Option<f64>| {
        let Some(plan) = plan else { return };
        // Large enough to matter, not only to detect.
        if (at_end.mean - plan).abs() < options.min_deviation * plan.abs() {
            return;
        }
        let (flag, word) = if at_end.p95 < plan {
            ("behind_plan", "below")
        } else if at_end.p05 > plan {
            ("ahead_of_plan", "above")
        } else {
            return;
        };
        deviations.push(Deviation {
            subject: subject.to_string(),
            flag,
            detail: format!(
                "good parts by {}: {:.0} expected (90% range {:.0} to {:.0}), {word} the plan's {plan:.0}",
                stamp(until_s),
                at_end.mean,
                at_end.p05,
                at_end.p95
            ),
        });
    };
    flag_output("plant", &plant_good_at_end, plan_plant_good);
    let stations: Vec<StationForecast> = model
        .stations
        .iter()
        .enumerate()
        .map(|(si, st)| {
            let (good_so_far, obs) = observed[si];
            let good_at_end = interval(
                runs.iter()
                    .map(|o| good_so_far as f64 + o.station_good[si])
                    .collect(),
            );
            let combined = |o: &ForecastRun| {
                let t = o.station_times[si];
                let (run, pbt, ideal, produced) =
                    (obs[0] + t[0], obs[1] + t[1], obs[2] + t[2], obs[3] + t[3]);
                let good = good_so_far as f64 + o.station_good[si];
                let availability = (pbt > 0.0).then(|| run / pbt);
                let oee = (pbt > 0.0 && run > 0.0 && produced > 0.0)
                    .then(|| (run / pbt) * (ideal / run) * (good / produced));
                (availability, oee)
            };
            let availability: Vec<f64> = runs.iter().filter_map(|o| combined(o).0).collect();
            let oee: Vec<f64> = runs.iter().filter_map(|o| combined(o).1).collect();
            let plan_good = mean(plan.iter().map(|o| o.station_good[si]).collect());
            flag_output(&st.name, &good_at_end, plan_good);
            StationForecast {
                station: st.name.clone(),
                good_so_far,
                good_at_end,
                oee_at_end: Interval::of(&oee),
                availability_at_end: Interval::of(&availability),
                plan_good,
            }
        })
        .collect();
    let initial_done: BTreeMap<&str, &OrderCondition> = condition
        .orders
        .iter()
        .map(|o| (o.order.as_str(), o))
        .collect();
    let in_plant = |id: &str| {
        condition
            .buffers
            .iter()
            .flat_map(|b| &b.parts)
            .filter(|p| p.order.as_deref() == Some(id))
            .count()
            + condition
                .machines
                .iter()
                .filter_map(|m| m.part.as_ref())
                .filter(|p| p.order.as_deref() == Some(id))
                .count()
    };
    let orders = futures
        .orders
        .iter()
        .enumerate()
        .map(|(oi, o)| {
            let complete_now = o.release_s <= now_s
                && initial_done.contains_key(o.id.as_str())
                && in_plant(&o.id) == 0;
            let times: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.completion_s.get(oi).copied().flatten())
                .collect();
            // Share finished by the due date; unknown when the due date is past the horizon and
            // some runs had not finished by then.
            let share = |rs: &[ForecastRun], by: Option<f64>| {
                let unfinished = rs
                    .iter()
                    .any(|r| r.completion_s.get(oi).copied().flatten().is_none());
                by.filter(|due| *due <= until_s || !unfinished).map(|due| {
                    rs.iter()
                        .filter(|r| {
                            r.completion_s
                                .get(oi)
                                .copied()
                                .flatten()
                                .is_some_and(|t| t <= due)
                        })
                        .count() as f64
                        / rs.len().max(1) as f64
                })
            };
            // A complete order's time is known only if it finished last of its product.
            let finished_at = initial_done
                .get(o.id.as_str())
                .and_then(|d| d.completed_at_s)
                .filter(|_| complete_now);
            let p_on_time = if complete_now {
                finished_at
                    .zip(o.due_s)
                    .map(|(t, due)| if t <= due { 1.0 } else { 0.0 })
            } else {
                share(&runs, o.due_s)
            };
            let overdue = !complete_now && o.due_s.is_some_and(|due| due < now_s);
            let plan_p_on_time = (!plan.is_empty() && book.is_none())
                .then(|| share(&plan, o.due_s))
                .flatten();
            // A finished order is no longer at risk: whether it was on time is a fact, shown
            // with the order (`p_on_time` 0 or 1), not a deviation to act on.
            if let (Some(p), Some(plan_p)) = (p_on_time, plan_p_on_time)
                && !complete_now
                && p < 0.5
                && plan_p >= 0.5
            {
                deviations.push(Deviation {
                    subject: o.id.clone(),
                    flag: "order_at_risk",
                    detail: format!(
                        "on time in {:.0}% of the forecast runs, {:.0}% in the plan",
                        100.0 * p,
                        100.0 * plan_p
                    ),
                });
            }
            // A live book has no plan: an order likely late, and not late already, is flagged.
            if let Some(p) = p_on_time
                && book.is_some()
                && !complete_now
                && p < 0.5
                && !overdue
            {
                deviations.push(Deviation {
                    subject: o.id.clone(),
                    flag: "order_at_risk",
                    detail: format!("on time in {:.0}% of the forecast runs", 100.0 * p),
                });
            }
            OrderForecast {
                id: o.id.clone(),
                quantity: o.quantity,
                due: o.due_s.map(stamp),
                complete_now,
                p_complete: times.len() as f64 / runs.len() as f64,
                completion_s: if complete_now {
                    finished_at.and_then(|t| Interval::of(&[t]))
                } else {
                    Interval::of(&times)
                },
                p_on_time,
                plan_p_on_time,
                overdue,
            }
        })
        .collect();
    Ok(Forecast {
        now: stamp(now_s),
        until: stamp(until_s),
        shift: shift.name.clone(),
        shift_start: stamp(model_s(shift.start_ms)),
        now_s,
        until_s,
        replications: options.replications,
        seed: options.seed,
        plant_good_so_far,
        plant_good_at_end,
        plan_plant_good,
        plan_basis: match (plan_replications, &plan_start) {
            (0, _) => None,
            (_, Some(_)) => Some(PlanBasis::PlantAtShiftStart),
            (_, None) => Some(PlanBasis::Scenario),
        },
        stations,
        orders_as_of: book.map(|b| b.as_of.clone()),
        orders,
        deviations,
        warnings,
        initial_state: condition,
    })
}
