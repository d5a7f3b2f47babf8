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

/// Collects observations per station (by index) from events; events of unknown assets are ignored.
pub fn observe(model: &Model, events: &[Checked]) -> BTreeMap<usize, StationObservations> {
    let mut station_of: BTreeMap<String, usize> = BTreeMap::new();
    for (si, st) in model.stations.iter().enumerate() {
        for k in 0..st.machines {
            station_of.insert(st.machine_name(k), si);
        }
    }
    let mut by_asset: BTreeMap<&str, Vec<&Checked>> = BTreeMap::new();
    for e in events {
        if station_of.contains_key(&e.event.asset) {
            by_asset.entry(&e.event.asset).or_default().push(e);
        }
    }
    let mut out: BTreeMap<usize, StationObservations> = BTreeMap::new();
    for (asset, mut list) in by_asset {
        list.sort_by_key(|e| (e.ts_ms, e.event.seq));
        let si = station_of[asset];
        let st = &model.stations[si];
        let obs = out.entry(si).or_default();
        let mut tr = Tracker::default();
        for m in &st.failure_modes {
            tr.age.insert(m.name.clone(), (0.0, false));
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
                            if let Some((age, started)) = tr.age.get(&mode).copied()
                                && started
                            {
                                obs.ttf.entry(mode.clone()).or_default().observed.push(age);
                            }
                            tr.state = Some((*state, e.ts_ms, mode));
                            continue;
                        }
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
        // The end of the record censors what is running.
        for (mode, (age, started)) in &tr.age {
            if *started && *age > 0.0 {
                obs.ttf.entry(mode.clone()).or_default().censored.push(*age);
            }
        }
    }
    out
}

/// One fitted quantity and where it goes in the scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibrated {
    /// Scenario path, e.g. `stations.Filler.failures[0].ttf`.
    pub path: String,
    pub what: String,
    /// The scenario value (TOML).
    pub value: String,
    /// The chosen fit, with the alternatives by AIC (for times).
    pub fit: Option<Fit>,
    pub alternatives: Vec<Fit>,
    pub observations: usize,
}

/// At least this many observations are needed to fit a distribution.
pub const MIN_OBSERVATIONS: usize = 5;

/// Observations no further apart than this (two ticks of millisecond time stamps, in seconds or
/// cycles) are read as one constant.
pub const CONSTANT_SPREAD: f64 = 0.002;

/// Fits everything the observations allow.
pub fn calibrate(model: &Model, obs: &BTreeMap<usize, StationObservations>) -> Vec<Calibrated> {
    let mut out = Vec::new();
    let fitted = |path: String, what: String, sample: Sample, out: &mut Vec<Calibrated>| {
        if sample.observed.len() < MIN_OBSERVATIONS {
            return;
        }
        let n = sample.observed.len() + sample.censored.len();
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
            out.push(Calibrated {
                path,
                what,
                value: format!(
                    "{{ dist = \"constant\", value = {} }}",
                    (mean * 1000.0).round() / 1000.0
                ),
                fit: None,
                alternatives: vec![],
                observations: n,
            });
            return;
        }
        let mut fits = fit_all(&sample);
        if fits.is_empty() {
            return;
        }
        let best = fits.remove(0);
        out.push(Calibrated {
            path,
            what,
            value: best.spec(),
            fit: Some(best),
            alternatives: fits,
            observations: n,
        });
    };
    for (&si, o) in obs {
        let st = &model.stations[si];
        for (fi, mode) in st.failure_modes.iter().enumerate() {
            let base = format!("stations.{}.failures[{fi}]", st.name);
            if let Some(s) = o.ttf.get(&mode.name) {
                fitted(
                    format!("{base}.ttf"),
                    format!("{} `{}` time to failure", st.name, mode.name),
                    s.clone(),
                    &mut out,
                );
            }
            if let Some(r) = o.ttr.get(&mode.name) {
                fitted(
                    format!("{base}.ttr"),
                    format!("{} `{}` time to repair", st.name, mode.name),
                    Sample {
                        observed: r.clone(),
                        censored: vec![],
                    },
                    &mut out,
                );
            }
        }
        if let Some(changeover) = &st.changeover {
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
                fitted(
                    format!("stations.{}.changeover.matrix[{ei}].time", st.name),
                    format!("{} changeover {} -> {}", st.name, name(from), name(to)),
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
            fitted(
                format!("stations.{}.changeover.default", st.name),
                what,
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
            let mut cycles = Vec::new();
            let (mut pieces, mut scrap) = (0u64, 0u64);
            for &s in &step.stations {
                if let Some(o) = obs.get(&s) {
                    cycles.extend(o.cycle_s.get(&product.name).into_iter().flatten());
                    if let Some(&(g, sc, r)) = o.pieces.get(&product.name) {
                        pieces += g + sc + r;
                        scrap += sc;
                    }
                }
            }
            let base = format!("products.{}.routing[{k}]", product.name);
            fitted(
                format!("{base}.process_time"),
                format!("{} step {} cycle time", product.name, k + 1),
                Sample {
                    observed: cycles,
                    censored: vec![],
                },
                &mut out,
            );
            if pieces >= 20 {
                let rate = scrap as f64 / pieces as f64;
                out.push(Calibrated {
                    path: format!("{base}.scrap"),
                    what: format!("{} step {} scrap rate", product.name, k + 1),
                    value: format!("{:.5}", rate),
                    fit: None,
                    alternatives: vec![],
                    observations: pieces as usize,
                });
            }
        }
    }
    out
}
