//! Calibration: fits a scenario's random parts from recorded plant events (`takt calibrate`).
//!
//! From each machine's events, in time order:
//! - **time to failure** per failure mode (the `reason` of an UNPLANNED_DOWN names the mode; a
//!   station with one mode takes any reason). The age counts as the mode's `basis` says: calendar
//!   (every moment not down or in planned maintenance), operating (RUNNING time) or cycles (count
//!   events). The first interval of a record is dropped (the age at its start is unknown); a
//!   planned maintenance (PLANNED_DOWN) and the end of the record censor the running interval.
//! - **time to repair**: each UNPLANNED_DOWN run.
//! - **cycle time** per product: RUNNING time between consecutive counts.
//! - **changeover**: each run of SETUP until production starts, with the product counted before
//!   it and the one counted after it. Each pair the scenario's changeover matrix lists is fitted
//!   from its own setups; the default from the setups of every other pair (and those whose product
//!   before is unknown).
//! - **scrap rate** per product: scrap / all pieces counted.
//!
//! Nothing is left out in silence: every observation not used, and every quantity of the scenario
//! the record could not fit, is reported as [`Skipped`] with its reason (events of assets the
//! scenario does not know, failures whose reason names no failure mode, first failures whose age is
//! unknown, repairs still running at the end, too few observations).
//!
//! Machines of one station are pooled. Times are fitted with `fit::fit_all` (exponential, Weibull,
//! lognormal; the lowest AIC wins) and written back as scenario overrides; observations that all
//! lie within two clock ticks of each other are written as the constant they are.

use crate::event::{Body, Checked, CountBody, StateBody, StateCode};
use serde::Serialize;
use std::collections::BTreeMap;
use takt_model::fit::{Fit, Sample, fit_all};
use takt_model::{FailureBasis, Model};

/// What the events of one station show.
#[derive(Debug, Clone, Default)]
pub struct StationObservations {
    pub ttf: BTreeMap<String, Sample>,
    pub ttr: BTreeMap<String, Vec<f64>>,
    /// Cycle times by product.
    pub cycle_s: BTreeMap<String, Vec<f64>>,
    pub setups: Vec<Setup>,
    /// (good, scrap, rework) by product.
    pub pieces: BTreeMap<String, (u64, u64, u64)>,
    /// Per failure mode: first failures of a machine, left out because its age when the record
    /// began is unknown.
    pub first_failures: BTreeMap<String, usize>,
    /// Per failure mode: repairs still running when the record ended.
    pub open_repairs: BTreeMap<String, usize>,
}

/// How the record is read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ObserveOptions {
    /// The machines were as good as new when the record began (a `takt run --trace`, or a record
    /// that starts after an overhaul): the first failure of each mode is a time to failure from
    /// the record's start. Otherwise its age at the start is unknown and the first interval is
    /// dropped.
    pub new_at_start: bool,
}

/// What a record shows, station by station, and what of it could not be used.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// By station index.
    pub stations: BTreeMap<usize, StationObservations>,
    /// Observations left out, with the reason.
    pub skipped: Vec<Skipped>,
}

/// Something the record held, or the scenario asked for, that calibration did not use.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    /// What it is about, e.g. "Filler `valve fault` time to failure".
    pub what: String,
    /// The scenario path that keeps its value, where there is one.
    pub path: Option<String>,
    /// How many observations (events, failures, repairs, pieces) it concerns.
    pub observations: usize,
    pub reason: String,
}

/// One observed changeover: its duration, and the products counted before and after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    /// `None` when no piece was counted before the setup in the record.
    pub from: Option<String>,
    pub to: String,
    pub secs: f64,
}

/// One asset's running account.
#[derive(Default)]
struct Tracker {
    state: Option<(StateCode, i64, String)>,
    /// Per mode: age so far, and whether a failure or maintenance started it (else it began with the
    /// record and is dropped).
    age: BTreeMap<String, (f64, bool)>,
    running_since_count_s: f64,
    setup_s: f64,
    in_setup: bool,
    /// The product of the last piece counted, and the one before the running setup.
    last_product: Option<String>,
    setup_from: Option<String>,
}

/// Collects observations per station from events, and what could not be used.
pub fn observe(model: &Model, events: &[Checked], options: ObserveOptions) -> Observed {
    let mut station_of: BTreeMap<String, usize> = BTreeMap::new();
    for (si, st) in model.stations.iter().enumerate() {
        for k in 0..st.machines {
            station_of.insert(st.machine_name(k), si);
        }
    }
    let mut by_asset: BTreeMap<&str, Vec<&Checked>> = BTreeMap::new();
    let mut strangers: BTreeMap<&str, usize> = BTreeMap::new();
    for e in events {
        if station_of.contains_key(&e.event.asset) {
            by_asset.entry(&e.event.asset).or_default().push(e);
        } else {
            *strangers.entry(&e.event.asset).or_default() += 1;
        }
    }
    let mut out: BTreeMap<usize, StationObservations> = BTreeMap::new();
    // Per station and reason: failures that name no failure mode of the station.
    let mut unknown_reasons: BTreeMap<usize, BTreeMap<String, usize>> = BTreeMap::new();
    for (asset, mut list) in by_asset {
        list.sort_by_key(|e| (e.ts_ms, e.event.seq));
        let si = station_of[asset];
        let st = &model.stations[si];
        let obs = out.entry(si).or_default();
        let unknown_reasons = unknown_reasons.entry(si).or_default();
        let mut tr = Tracker::default();
        for m in &st.failure_modes {
            tr.age.insert(m.name.clone(), (0.0, options.new_at_start));
        }
        let basis: BTreeMap<String, FailureBasis> = st
            .failure_modes
            .iter()
            .map(|m| (m.name.clone(), m.basis))
            .collect();
        let single_mode = (st.failure_modes.len() == 1).then(|| st.failure_modes[0].name.clone());
        for e in &list {
            // Time since the last event, in the state that held.
            if let Some((state, since, _)) = &tr.state {
                let dt = (e.ts_ms - since) as f64 / 1000.0;
                if dt > 0.0 {
                    if *state == StateCode::Running {
                        tr.running_since_count_s += dt;
                    }
                    if *state == StateCode::Setup {
                        tr.setup_s += dt;
                    }
                    for (mode, (age, _)) in tr.age.iter_mut() {
                        let grows = match basis.get(mode) {
                            Some(FailureBasis::Calendar) => {
                                !matches!(state, StateCode::UnplannedDown | StateCode::PlannedDown)
                            }
                            Some(FailureBasis::Operating) => *state == StateCode::Running,
                            _ => false,
                        };
                        if grows {
                            *age += dt;
                        }
                    }
                }
            }
            match &e.event.body {
                Body::State(StateBody { state, reason }) => {
                    let previous = tr.state.as_ref().map(|s| s.0);
                    let since = tr.state.as_ref().map_or(e.ts_ms, |s| s.1);
                    // Leaving a down run: a repair observed; the mode is as good as new.
                    if previous == Some(StateCode::UnplannedDown)
                        && *state != StateCode::UnplannedDown
                        && let Some((_, _, mode)) = &tr.state
                    {
                        obs.ttr
                            .entry(mode.clone())
                            .or_default()
                            .push((e.ts_ms - since) as f64 / 1000.0);
                        tr.age.insert(mode.clone(), (0.0, true));
                    }
                    if *state == StateCode::UnplannedDown
                        && previous != Some(StateCode::UnplannedDown)
                    {
                        let mode = if tr.age.contains_key(reason) {
                            Some(reason.clone())
                        } else {
                            single_mode.clone()
                        };
                        if let Some(mode) = mode {
                            match tr.age.get(&mode).copied() {
                                Some((age, true)) => {
                                    obs.ttf.entry(mode.clone()).or_default().observed.push(age)
                                }
                                _ => *obs.first_failures.entry(mode.clone()).or_default() += 1,
                            }
                            tr.state = Some((*state, e.ts_ms, mode));
                            continue;
                        }
                        *unknown_reasons.entry(reason.clone()).or_default() += 1;
                    }
                    if *state == StateCode::PlannedDown && previous != Some(StateCode::PlannedDown)
                    {
                        // Maintenance renews every mode: what ran so far is censored.
                        for (mode, (age, started)) in tr.age.iter_mut() {
                            if *started && *age > 0.0 {
                                obs.ttf.entry(mode.clone()).or_default().censored.push(*age);
                            }
                            *age = 0.0;
                            *started = true;
                        }
                    }
                    if *state == StateCode::Setup && !tr.in_setup {
                        tr.in_setup = true;
                        tr.setup_from.clone_from(&tr.last_product);
                    }
                    tr.state = Some((*state, e.ts_ms, String::new()));
                }
                Body::Count(CountBody {
                    good,
                    scrap,
                    rework,
                    product,
                    ..
                }) => {
                    let p = obs.pieces.entry(product.clone()).or_default();
                    p.0 += good;
                    p.1 += scrap;
                    p.2 += rework;
                    if tr.running_since_count_s > 0.0 {
                        obs.cycle_s
                            .entry(product.clone())
                            .or_default()
                            .push(tr.running_since_count_s);
                    }
                    tr.running_since_count_s = 0.0;
                    if tr.in_setup && tr.setup_s > 0.0 {
                        obs.setups.push(Setup {
                            from: tr.setup_from.take(),
                            to: product.clone(),
                            secs: tr.setup_s,
                        });
                    }
                    tr.in_setup = false;
                    tr.setup_s = 0.0;
                    tr.last_product = Some(product.clone());
                    for (mode, (age, _)) in tr.age.iter_mut() {
                        if basis.get(mode) == Some(&FailureBasis::Cycles) {
                            *age += (good + scrap + rework) as f64;
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some((StateCode::UnplannedDown, _, mode)) = &tr.state
            && !mode.is_empty()
        {
            *obs.open_repairs.entry(mode.clone()).or_default() += 1;
        }
        // The end of the record censors what is running.
        for (mode, (age, started)) in &tr.age {
            if *started && *age > 0.0 {
                obs.ttf.entry(mode.clone()).or_default().censored.push(*age);
            }
        }
    }
    let mut skipped = Vec::new();
    for (asset, n) in strangers {
        skipped.push(Skipped {
            what: format!("events of `{asset}`"),
            path: None,
            observations: n,
            reason: "not a machine of the scenario".into(),
        });
    }
    for (si, reasons) in unknown_reasons {
        let st = &model.stations[si];
        for (reason, n) in reasons {
            let modes = if st.failure_modes.is_empty() {
                "it has none in the scenario".to_string()
            } else {
                st.failure_modes
                    .iter()
                    .map(|m| format!("`{}`", m.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            skipped.push(Skipped {
                what: format!("{} stops `{reason}`", st.name),
                path: None,
                observations: n,
                reason: format!(
                    "UNPLANNED_DOWN with a reason that names no failure mode of {} ({modes}): \
                     neither a time to failure nor a repair",
                    st.name
                ),
            });
        }
    }
    Observed {
        stations: out,
        skipped,
    }
}

/// `n` with the noun in its number.
fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The unit of a fitted quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// A duration in seconds.
    Seconds,
    /// Pieces counted: the age of a cycle-counted failure mode.
    Cycles,
    /// A fraction from 0 to 1 (a scrap rate).
    Share,
}

/// One fitted quantity and where it goes in the scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibrated {
    /// Scenario path, e.g. `stations.Filler.failures[0].ttf`.
    pub path: String,
    pub what: String,
    /// The unit of the fit's parameters and of `constant`.
    pub measure: Measure,
    /// The scenario value (TOML).
    pub value: String,
    /// The chosen fit, with the alternatives by AIC (for times).
    pub fit: Option<Fit>,
    pub alternatives: Vec<Fit>,
    /// The value when no distribution was fitted: a constant time, or a scrap rate.
    pub constant: Option<f64>,
    pub observations: usize,
}

/// What calibration fitted, and what it could not (the scenario keeps its values there).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Calibration {
    pub calibrated: Vec<Calibrated>,
    pub skipped: Vec<Skipped>,
}

/// At least this many observations are needed to fit a distribution.
pub const MIN_OBSERVATIONS: usize = 5;

/// At least this many pieces are needed to state a scrap rate.
pub const MIN_PIECES_FOR_SCRAP: u64 = 20;

/// Observations no further apart than this (two ticks of millisecond time stamps, in seconds or
/// cycles) are read as one constant.
pub const CONSTANT_SPREAD: f64 = 0.002;

/// One quantity to fit: where it goes, what it is, its unit and what one observation is called.
struct Target {
    path: String,
    what: String,
    measure: Measure,
    /// One observation and several, e.g. ("failure", "failures").
    noun: (&'static str, &'static str),
    /// Observations of it the record held but could not use, and why.
    left_out: Option<(usize, &'static str)>,
}

impl Target {
    fn new(
        path: String,
        what: String,
        measure: Measure,
        noun: (&'static str, &'static str),
    ) -> Self {
        Target {
            path,
            what,
            measure,
            noun,
            left_out: None,
        }
    }

    /// `n` observations of it were in the record but could not be used, for `why`.
    fn left_out(mut self, n: usize, why: &'static str) -> Self {
        self.left_out = (n > 0).then_some((n, why));
        self
    }

    /// The left-out observations, in words ("" when none).
    fn left_out_text(&self) -> String {
        match self.left_out {
            Some((n, why)) => {
                let (one, many) = self.noun;
                format!("{} left out ({why})", plural(n, one, many))
            }
            None => String::new(),
        }
    }

    fn skip(self, observations: usize, reason: String, out: &mut Calibration) {
        out.skipped.push(Skipped {
            what: self.what,
            path: Some(self.path),
            observations,
            reason,
        });
    }

    /// Fits `sample` into `out`, or says why not.
    fn fit(self, sample: Sample, out: &mut Calibration) {
        let n = sample.observed.len() + sample.censored.len();
        if sample.observed.len() < MIN_OBSERVATIONS {
            let (one, many) = self.noun;
            let mut reason = match (sample.observed.len(), self.left_out) {
                (0, None) => format!("no {one} in the record"),
                (0, Some((k, why))) => format!("no {one} usable: {k} left out ({why})"),
                (k, None) => format!("{} observed", plural(k, one, many)),
                (k, Some((l, why))) => {
                    format!(
                        "{} observed, {l} more left out ({why})",
                        plural(k, one, many)
                    )
                }
            };
            if !sample.censored.is_empty() {
                reason += &format!(
                    "; {} censored by maintenance or the record's end",
                    plural(sample.censored.len(), "interval", "intervals")
                );
            }
            reason += &format!("; a fit needs at least {MIN_OBSERVATIONS} {many}");
            let n = n + self.left_out.map_or(0, |l| l.0);
            self.skip(n, reason, out);
            return;
        }
        // Fitted, but not from all the record held: say so beside the fit.
        if let Some((k, _)) = self.left_out {
            out.skipped.push(Skipped {
                what: self.what.clone(),
                path: Some(self.path.clone()),
                observations: k,
                reason: self.left_out_text(),
            });
        }
        // Observations that differ by no more than the events' clock (time stamps in ms) show a
        // constant: a distribution fitted to them would be degenerate (zero spread, no interval).
        let (low, high) = sample
            .observed
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
                (l.min(x), h.max(x))
            });
        if sample.censored.is_empty() && high - low <= CONSTANT_SPREAD {
            let mean = sample.observed.iter().sum::<f64>() / sample.observed.len() as f64;
            let value = (mean * 1000.0).round() / 1000.0;
            out.calibrated.push(Calibrated {
                path: self.path,
                what: self.what,
                measure: self.measure,
                value: format!("{{ dist = \"constant\", value = {value} }}"),
                fit: None,
                alternatives: vec![],
                constant: Some(value),
                observations: n,
            });
            return;
        }
        let mut fits = fit_all(&sample);
        if fits.is_empty() {
            let reason = "no distribution could be fitted to them (exponential, Weibull and \
                          lognormal all failed to converge)"
                .to_string();
            self.skip(n, reason, out);
            return;
        }
        let best = fits.remove(0);
        out.calibrated.push(Calibrated {
            path: self.path,
            what: self.what,
            measure: self.measure,
            value: best.spec(),
            fit: Some(best),
            alternatives: fits,
            constant: None,
            observations: n,
        });
    }
}

const FAILURES: (&str, &str) = ("failure", "failures");
const FIRST_FAILURE: &str = "the first of a machine: its age when the record began is unknown; \
                             `--new-at-start` if the machines were new then";
const REPAIRS: (&str, &str) = ("repair", "repairs");
const SETUPS: (&str, &str) = ("setup", "setups");
const CYCLES: (&str, &str) = ("cycle", "cycles");

/// Fits everything the observations allow, and says what it could not fit.
pub fn calibrate(model: &Model, observed: &Observed) -> Calibration {
    let mut out = Calibration {
        calibrated: Vec::new(),
        skipped: observed.skipped.clone(),
    };
    let empty = StationObservations::default();
    for (si, st) in model.stations.iter().enumerate() {
        let o = match observed.stations.get(&si) {
            Some(o) => o,
            None => {
                out.skipped.push(Skipped {
                    what: format!("station {}", st.name),
                    path: Some(format!("stations.{}", st.name)),
                    observations: 0,
                    reason: "no events of its machines in the record: its failures, repairs \
                             and changeovers keep the scenario's values"
                        .into(),
                });
                &empty
            }
        };
        let seen = observed.stations.contains_key(&si);
        for (fi, mode) in st.failure_modes.iter().enumerate() {
            if !seen {
                continue;
            }
            let base = format!("stations.{}.failures[{fi}]", st.name);
            let measure = if mode.basis == FailureBasis::Cycles {
                Measure::Cycles
            } else {
                Measure::Seconds
            };
            Target::new(
                format!("{base}.ttf"),
                format!("{} `{}` time to failure", st.name, mode.name),
                measure,
                FAILURES,
            )
            .left_out(
                o.first_failures.get(&mode.name).copied().unwrap_or(0),
                FIRST_FAILURE,
            )
            .fit(o.ttf.get(&mode.name).cloned().unwrap_or_default(), &mut out);
            Target::new(
                format!("{base}.ttr"),
                format!("{} `{}` time to repair", st.name, mode.name),
                Measure::Seconds,
                REPAIRS,
            )
            .left_out(
                o.open_repairs.get(&mode.name).copied().unwrap_or(0),
                "still down when the record ended: the repair's length is unknown",
            )
            .fit(
                Sample {
                    observed: o.ttr.get(&mode.name).cloned().unwrap_or_default(),
                    censored: vec![],
                },
                &mut out,
            );
        }
        if let Some(changeover) = st.changeover.as_ref().filter(|_| seen) {
            // Each listed pair from its own setups, the default from all the others.
            let name = |p: usize| model.products[p].name.as_str();
            let between = |s: &Setup, (from, to): (usize, usize)| {
                s.from.as_deref() == Some(name(from)) && s.to == name(to)
            };
            for (ei, &(from, to)) in changeover.entries.iter().enumerate() {
                let observed = o
                    .setups
                    .iter()
                    .filter(|s| between(s, (from, to)))
                    .map(|s| s.secs)
                    .collect();
                Target::new(
                    format!("stations.{}.changeover.matrix[{ei}].time", st.name),
                    format!("{} changeover {} -> {}", st.name, name(from), name(to)),
                    Measure::Seconds,
                    SETUPS,
                )
                .fit(
                    Sample {
                        observed,
                        censored: vec![],
                    },
                    &mut out,
                );
            }
            let what = if changeover.entries.is_empty() {
                format!("{} changeover", st.name)
            } else {
                format!("{} changeover, pairs not in the matrix", st.name)
            };
            Target::new(
                format!("stations.{}.changeover.default", st.name),
                what,
                Measure::Seconds,
                SETUPS,
            )
            .fit(
                Sample {
                    observed: o
                        .setups
                        .iter()
                        .filter(|s| !changeover.entries.iter().any(|&e| between(s, e)))
                        .map(|s| s.secs)
                        .collect(),
                    censored: vec![],
                },
                &mut out,
            );
        }
    }
    // Routing steps: pooled over the step's eligible stations.
    for product in &model.products {
        for (k, step) in product.routing.iter().enumerate() {
            if !step
                .stations
                .iter()
                .any(|s| observed.stations.contains_key(s))
            {
                continue;
            }
            let mut cycles = Vec::new();
            let (mut pieces, mut scrap) = (0u64, 0u64);
            for &s in &step.stations {
                if let Some(o) = observed.stations.get(&s) {
                    cycles.extend(o.cycle_s.get(&product.name).into_iter().flatten());
                    if let Some(&(g, sc, r)) = o.pieces.get(&product.name) {
                        pieces += g + sc + r;
                        scrap += sc;
                    }
                }
            }
            let base = format!("products.{}.routing[{k}]", product.name);
            Target::new(
                format!("{base}.process_time"),
                format!("{} step {} cycle time", product.name, k + 1),
                Measure::Seconds,
                CYCLES,
            )
            .fit(
                Sample {
                    observed: cycles,
                    censored: vec![],
                },
                &mut out,
            );
            let scrap_target = Target::new(
                format!("{base}.scrap"),
                format!("{} step {} scrap rate", product.name, k + 1),
                Measure::Share,
                ("piece", "pieces"),
            );
            if pieces >= MIN_PIECES_FOR_SCRAP {
                let rate = scrap as f64 / pieces as f64;
                out.calibrated.push(Calibrated {
                    path: scrap_target.path,
                    what: scrap_target.what,
                    measure: Measure::Share,
                    value: format!("{rate:.5}"),
                    fit: None,
                    alternatives: vec![],
                    constant: Some((rate * 1e5).round() / 1e5),
                    observations: pieces as usize,
                });
            } else {
                let reason = format!(
                    "{} counted; a rate needs at least {MIN_PIECES_FOR_SCRAP}",
                    plural(pieces as usize, "piece", "pieces")
                );
                scrap_target.skip(pieces as usize, reason, &mut out);
            }
        }
    }
    out
}
