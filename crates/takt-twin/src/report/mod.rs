//! The shift report a shift leader hands over: each machine's ISO 22400 figures over the shift,
//! the line's output against the plan, and where the time went (the downtime Pareto by machine,
//! state and reason). `takt twin report` prints it as a table, JSON or a self-contained HTML page
//! ([`html`]); `GET /twin/report` serves it.
//!
//! The plan is the scenario run from its start (its statistics counted from the shift's start)
//! to the shift's end, averaged over replications, as the forecast compares against. Past the
//! scenario's horizon (a live plant weeks on) it is the plant as the twin had it when the shift
//! began ([`crate::shift_start`]), run to the shift's end in the scenario, with the live order
//! book's orders if one was given: what the model expected of the shift at its start.

mod html;

pub use html::render as html;
pub use html::{against_plan, offset as offset_text, plant as plant_time};

use crate::Twin;
use crate::forecast::ForecastError;
use crate::shift_start::PlanFromStart;
pub use crate::shift_start::{PlanBasis, ShiftStart};
use crate::timeline::StopKind;
use crate::view::{KpiWindow, Kpis};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use takt_model::quantity::Quantity;
use takt_model::{Model, RunLimits};
use takt_sim::{Simulation, rng};

/// One machine over the shift.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StationShift {
    pub asset: String,
    pub station: String,
    /// Fractions, 0 to 1 (a performance above 1 is flagged: `performance_above_standard`).
    pub availability: Option<f64>,
    pub performance: Option<f64>,
    pub quality: Option<f64>,
    pub oee: Option<f64>,
    pub performance_above_standard: bool,
    pub good: u64,
    pub scrap: u64,
    /// The plan's mean good parts at the station's station over the shift.
    pub plan_good: Option<f64>,
}

/// The line as a whole: what left it, against the plan, and the OEE where it left.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LineShift {
    /// The station that ends the line (the last step of most products): the line's output and
    /// OEE are counted there.
    pub end_of_line: String,
    pub good: u64,
    pub plan_good: Option<f64>,
    pub oee: Option<f64>,
    pub performance_above_standard: bool,
}

/// Time lost on one machine to one state and reason: a stop of its own, or a wait on the line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Downtime {
    pub asset: String,
    pub state: String,
    /// `stop` (down, setup, a planned stop, idle) or `wait` (starved, blocked).
    pub kind: StopKind,
    /// The reason sent with the state (a failure mode, a stop reason); empty when none was.
    pub reason: String,
    /// The reason in words (the scenario's `[stop_reasons]`, or takt's own), if it has any.
    pub reason_words: Option<String>,
    pub duration_s: f64,
    /// Stops that began in the window; a stop under way at its start counts in the window it
    /// began in, so 0 here with time lost is a stop carried over from before.
    pub episodes: u32,
    /// The mean length in the window of the stops or waits that began in it; `null` when none
    /// began.
    pub mean_s: Option<f64>,
    /// This stop's share of all the time lost in the report, and the running total (the Pareto).
    pub share: f64,
    pub cumulative_share: f64,
}

impl Downtime {
    /// The reason as people read it: its words with the code the plant sent ("bottle jam at the
    /// infeed star (E1043)"), the code alone when it has none, "–" when no reason came.
    pub fn reason_text(&self) -> String {
        match (&self.reason_words, self.reason.is_empty()) {
            (_, true) => "–".into(),
            (Some(words), false) => format!("{words} ({})", self.reason),
            (None, false) => self.reason.clone(),
        }
    }

    /// How often, as people read it: "3 stops", "20,736 waits", or "carried over" for time lost
    /// only to a stop that began before the window (not "0" beside minutes lost).
    pub fn how_often_text(&self) -> String {
        if self.episodes == 0 && self.duration_s > 0.0 {
            return "carried over".into();
        }
        let what = match (self.kind, self.episodes) {
            (StopKind::Wait, 1) => "wait",
            (StopKind::Wait, _) => "waits",
            (_, 1) => "stop",
            _ => "stops",
        };
        format!("{} {what}", Quantity::Count.value(f64::from(self.episodes)))
    }

    /// The time with how often and how long each: "15 min in 12 stops, 1.3 min each on average",
    /// or "30 min, carried over from before the window".
    pub fn summary_text(&self) -> String {
        let time = Quantity::Duration.value(self.duration_s);
        match self.mean_s {
            Some(_) => format!(
                "{time} in {}, {} each on average",
                self.how_often_text(),
                self.mean_text()
            ),
            None => format!("{time}, carried over from before the window"),
        }
    }

    /// The mean length of one, "–" when none began in the window.
    pub fn mean_text(&self) -> String {
        self.mean_s
            .map_or_else(|| "–".into(), |s| Quantity::Duration.value(s))
    }
}

/// The report of one shift.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShiftReport {
    pub plant: String,
    /// `shift` (the running one, so far) or `previous` (the one before, complete).
    pub window: String,
    pub shift: Option<String>,
    pub start: String,
    pub end: String,
    pub start_ms: i64,
    pub end_ms: i64,
    /// Whether the shift has ended; a running shift's figures are so far.
    pub ended: bool,
    /// What the figures count up to: the shift's end, or for a running shift its newest event
    /// (the plan is counted to the same moment).
    pub until: String,
    pub until_ms: i64,
    pub stations: Vec<StationShift>,
    pub line: LineShift,
    /// Every stop and wait, longest first (not time off shift or without news).
    pub downtime: Vec<Downtime>,
    /// Runs of the plan averaged (0: no plan, e.g. past the scenario's horizon with no state of
    /// the plant at the shift's start).
    pub plan_replications: u32,
    /// What the plan's runs start from, when there is a plan.
    pub plan_basis: Option<PlanBasis>,
    /// What the plan is and what it assumed, or why there is none.
    pub plan_notes: Vec<String>,
    /// The alerts of the shift (raised in it, or open at its start), in the order raised: what
    /// needed attention, and who took it on.
    pub alerts: Vec<ShiftAlert>,
    pub notes: Vec<String>,
}

/// An alert of the shift, with its times in plant time ("2026-01-05 17:47").
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShiftAlert {
    #[serde(flatten)]
    pub alert: crate::alerts::Alert,
    pub raised: String,
    pub cleared: Option<String>,
}

/// The station whose step ends the most products' routings (ties: the later station).
fn end_of_line(model: &Model) -> Option<usize> {
    let mut ends = vec![0usize; model.stations.len()];
    for p in &model.products {
        if let Some(last) = p.routing.last() {
            for &s in &last.stations {
                ends[s] += 1;
            }
        }
    }
    (0..ends.len())
        .filter(|s| ends[*s] > 0)
        .max_by_key(|s| (ends[*s], *s))
}

impl Twin {
    /// The report of the running shift (so far) or the one before, as of `now_ms`, without the
    /// plan (quick: it reads the mirror only; [`compare_with_plan`] adds the plan).
    pub fn shift_report(&self, model: &Model, now_ms: i64, window: KpiWindow) -> ShiftReport {
        let state = self.state(now_ms);
        let timeline = self.timeline(now_ms, window);
        let mut notes = Vec::new();
        let mut stations = Vec::new();
        for a in &state.assets {
            let (kpis, good, scrap): (&Kpis, u64, u64) = match window {
                KpiWindow::Shift => (&a.kpis, a.good, a.scrap),
                KpiWindow::Previous => match &a.previous_shift {
                    Some(p) if p.start_ms == timeline.window_start_ms => (&p.kpis, p.good, p.scrap),
                    _ => {
                        notes.push(format!(
                            "{}: no figures for this shift (silent through it)",
                            a.asset
                        ));
                        continue;
                    }
                },
            };
            stations.push(StationShift {
                asset: a.asset.clone(),
                station: a.station.clone(),
                availability: kpis.availability,
                performance: kpis.performance,
                quality: kpis.quality,
                oee: kpis.oee,
                performance_above_standard: kpis.performance_above_standard,
                good,
                scrap,
                plan_good: None,
            });
        }
        // In line order (the scenario's), not by name.
        let order = |station: &str| model.stations.iter().position(|s| s.name == station);
        stations.sort_by(|a, b| (order(&a.station), &a.asset).cmp(&(order(&b.station), &b.asset)));
        let last = end_of_line(model).map(|s| model.stations[s].name.clone());
        let at_end: Vec<&StationShift> = stations
            .iter()
            .filter(|s| Some(&s.station) == last.as_ref())
            .collect();
        let line = LineShift {
            end_of_line: last.clone().unwrap_or_default(),
            good: at_end.iter().map(|s| s.good).sum(),
            plan_good: None,
            oee: match at_end.as_slice() {
                [one] => one.oee,
                _ => None,
            },
            performance_above_standard: at_end.iter().any(|s| s.performance_above_standard),
        };
        // Time off shift is not lost; time without news is not known, and said apart.
        for a in &timeline.assets {
            let silent: f64 = a
                .stops
                .iter()
                .filter(|s| s.kind == StopKind::NoNews)
                .map(|s| s.duration_s)
                .sum();
            if silent > 0.0 {
                notes.push(format!(
                    "{}: no news for {} of the shift (what it did then is not known, and not among the stops)",
                    a.asset,
                    Quantity::Duration.value(silent)
                ));
            }
        }
        let mut downtime: Vec<Downtime> = timeline
            .assets
            .iter()
            .flat_map(|a| {
                a.stops
                    .iter()
                    .filter(|s| s.kind.is_loss())
                    .map(|s| Downtime {
                        asset: a.asset.clone(),
                        state: s.state.to_string(),
                        kind: s.kind,
                        reason: s.reason.clone(),
                        reason_words: model.stop_reason_words(&s.reason).map(str::to_string),
                        duration_s: s.duration_s,
                        episodes: s.episodes,
                        mean_s: s.mean_s,
                        share: 0.0,
                        cumulative_share: 0.0,
                    })
            })
            .filter(|d| d.duration_s > 0.0)
            .collect();
        let total: f64 = downtime.iter().map(|d| d.duration_s).sum();
        downtime.sort_by(|a, b| b.duration_s.total_cmp(&a.duration_s));
        let mut running = 0.0;
        for d in &mut downtime {
            d.share = if total > 0.0 {
                d.duration_s / total
            } else {
                0.0
            };
            running += d.share;
            d.cumulative_share = running.min(1.0);
        }
        let until_ms = now_ms.clamp(timeline.window_start_ms, timeline.window_end_ms);
        let alerts = match self.alerts(false, ALERTS_KEPT) {
            Ok(all) => {
                let minute = |ms: i64| model.timebase.plant_minute(model.timebase.model_s(ms));
                let mut shift: Vec<ShiftAlert> = all
                    .into_iter()
                    .filter(|a| {
                        a.raised_ms < until_ms
                            && a.cleared_ms.is_none_or(|c| c >= timeline.window_start_ms)
                    })
                    .map(|alert| ShiftAlert {
                        raised: minute(alert.raised_ms),
                        cleared: alert.cleared_ms.map(minute),
                        alert,
                    })
                    .collect();
                shift.reverse();
                shift
            }
            Err(e) => {
                notes.push(format!("the alerts could not be read: {e}"));
                Vec::new()
            }
        };
        ShiftReport {
            plant: model.name.clone(),
            window: timeline.window.clone(),
            shift: timeline.shift.clone(),
            start: timeline.window_start.clone(),
            end: timeline.window_end.clone(),
            start_ms: timeline.window_start_ms,
            end_ms: timeline.window_end_ms,
            ended: now_ms >= timeline.window_end_ms,
            until: if now_ms >= timeline.window_end_ms {
                timeline.window_end.clone()
            } else {
                model
                    .timebase
                    .format_ms(now_ms.max(timeline.window_start_ms))
            },
            until_ms,
            stations,
            line,
            downtime,
            plan_replications: 0,
            plan_basis: None,
            plan_notes: Vec::new(),
            alerts,
            notes,
        }
    }
}

/// The newest alerts a report reads (a shift with more lists the newest of them).
const ALERTS_KEPT: u32 = 1000;

/// The plan's figures for one shift: mean good parts per station, and out of the line, and what
/// had to be assumed to start it.
#[derive(Debug, Default)]
struct PlanFigures {
    stations: BTreeMap<String, f64>,
    line: Option<f64>,
    notes: Vec<String>,
}

/// What a plan ran from: the scenario's start, or the plant at the shift's start with the live
/// order book of a version (or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PlanOf {
    Scenario,
    Plant { book_version: Option<i64> },
}

/// A shift's plan by its start, the moment counted to (Unix ms), replications, seed and what it
/// ran from.
type PlanKey = (i64, i64, u32, u64, PlanOf);

/// The plans of shifts already compared, by (start, until, replications, seed, what they ran
/// from): a server asked for the same shift's report again runs no plan. At most
/// [`PlanMemo::KEPT`] are kept.
#[derive(Debug, Default)]
pub struct PlanMemo {
    plans: Mutex<BTreeMap<PlanKey, Arc<PlanFigures>>>,
}

impl PlanMemo {
    pub const KEPT: usize = 16;
}

/// Adds the plan to `report`, `replications` runs with `seed` averaged per station and for the
/// line to the moment the report counts to (the shift's end, or now in a running shift), kept in
/// `memo` where one is given. Within the scenario's horizon the runs are the scenario's from its
/// start, counted from the shift's start; past it they start from the plant at the shift's start
/// (`start`, the twin's `Twin::shift_start`); with neither there is no plan (said in a note).
pub fn compare_with_plan(
    report: &mut ShiftReport,
    model: &Arc<Model>,
    start: Option<&ShiftStart>,
    replications: u32,
    seed: u64,
    memo: Option<&PlanMemo>,
) -> Result<(), ForecastError> {
    let start_s = model.timebase.model_s(report.start_ms);
    let end_s = model.timebase.model_s(report.until_ms);
    if replications == 0 {
        return Ok(());
    }
    let plan_end = || model.timebase.plant_minute(model.horizon_s);
    let of = if end_s <= model.horizon_s && end_s > start_s.max(0.0) {
        PlanOf::Scenario
    } else {
        match start.filter(|s| s.start_ms == report.start_ms && end_s > start_s) {
            Some(s) => PlanOf::Plant {
                book_version: s.book.as_ref().map(|(v, _)| *v),
            },
            None => {
                report.plan_notes.push(format!(
                    "no plan to compare with: the scenario's plan ends at {} (plant time), and \
                     the twin has no state of the plant at the shift's start (it saw no event \
                     before it)",
                    plan_end()
                ));
                return Ok(());
            }
        }
    };
    let key = (report.start_ms, report.until_ms, replications, seed, of);
    let known = memo.and_then(|m| m.plans.lock().ok()?.get(&key).cloned());
    let figures = match known {
        Some(f) => f,
        None => {
            let figures = match (of, start) {
                (PlanOf::Plant { .. }, Some(start)) => {
                    let plan = PlanFromStart::new(model, start, replications).and_then(|plan| {
                        let runs = plan.run(end_s, replications, seed, &[], Clone::clone)?;
                        Ok(averaged(&runs, plan.notes))
                    });
                    match plan {
                        Ok(f) => f,
                        Err(e) => {
                            report.plan_notes.push(format!(
                                "no plan to compare with: the scenario's plan ends at {} (plant \
                                 time), and a plan from the plant at the shift's start failed: {e}",
                                plan_end()
                            ));
                            return Ok(());
                        }
                    }
                }
                _ => plan_figures(model, start_s, end_s, replications, seed)?,
            };
            let f = Arc::new(figures);
            if let Some(Ok(mut plans)) = memo.map(|m| m.plans.lock()) {
                if plans.len() >= PlanMemo::KEPT {
                    plans.clear();
                }
                plans.insert(key, Arc::clone(&f));
            }
            f
        }
    };
    for st in &mut report.stations {
        st.plan_good = figures.stations.get(&st.station).copied();
    }
    report.line.plan_good = figures.line;
    report.plan_replications = replications;
    report.plan_basis = Some(match of {
        PlanOf::Scenario => PlanBasis::Scenario,
        PlanOf::Plant { .. } => PlanBasis::PlantAtShiftStart,
    });
    report.plan_notes.extend(figures.notes.iter().cloned());
    Ok(())
}

/// Good parts per station and out of the line, averaged over `plans`.
fn averaged(plans: &[takt_sim::Report], notes: Vec<String>) -> PlanFigures {
    let n = plans.len().max(1) as f64;
    let mut stations = BTreeMap::new();
    for r in plans {
        for s in &r.stations {
            *stations.entry(s.name.clone()).or_insert(0.0) += s.good as f64 / n;
        }
    }
    PlanFigures {
        stations,
        line: (!plans.is_empty())
            .then(|| plans.iter().map(|r| r.completed as f64).sum::<f64>() / n),
        notes,
    }
}

fn plan_figures(
    model: &Arc<Model>,
    start_s: f64,
    end_s: f64,
    replications: u32,
    seed: u64,
) -> Result<PlanFigures, ForecastError> {
    let plan_model = Arc::new(Model {
        warmup_s: start_s.max(model.warmup_s),
        ..Model::clone(model)
    });
    let plans: Vec<takt_sim::Report> = (0..replications)
        .into_par_iter()
        .map(|r| {
            let mut sim = Simulation::new(Arc::clone(&plan_model), rng::replication_seed(seed, r));
            sim.run_guarded(end_s, &RunLimits::default(), &[])?;
            Ok(sim.report())
        })
        .collect::<Result<_, ForecastError>>()?;
    Ok(averaged(&plans, Vec::new()))
}
