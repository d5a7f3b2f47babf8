//! Remaining useful life on NASA's C-MAPSS turbofan data (Saxena & Goebel 2008), the standard public
//! benchmark of prognostics: train on run-to-failure trajectories, predict the remaining cycles at
//! the last cycle of each test trajectory, and score with RMSE and the PHM08 asymmetric score (late
//! predictions cost more than early ones).
//!
//! The model is the usual strong baseline that trains in seconds on a CPU:
//! - sensors normalised per operating regime (the six flight conditions of FD002/FD004, one
//!   otherwise: setting 1 tells them apart), dropping those that do not move in the training data;
//! - per cycle, features over three windows: the mean of the last 5 cycles, the mean and
//!   least-squares slope of the last 30, and the mean and slope of the whole history so far (an
//!   engine's trend since it entered service is the steadiest sign of its wear), and the cycle
//!   number;
//! - the target clipped to a piecewise-linear RUL (at most 125 cycles: early in life an engine's
//!   condition does not tell its remaining life);
//! - gradient-boosted regression trees ([`crate::boost`]).
//!
//! Each prediction comes with a 90 % interval for the true (unclipped) remaining life, by
//! cross-conformal prediction: the training engines are split into folds; a model trained without a
//! fold predicts that fold's engines at evenly spaced cycles, and the errors, grouped by the
//! predicted life (near failure they are small, for a healthy engine large), give each group's 5 %
//! and 95 % quantiles. Distribution-free: the coverage holds when the test engines are like the
//! training ones, and is measured on the test set.

use crate::boost::{BoostConfig, Boosted};
use crate::{DataError, format_error, read};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The RUL above which the target is clipped (cycles).
pub const RUL_CAP: f64 = 125.0;
const SHORT: usize = 5;
const LONG: usize = 30;
/// A sensor whose standard deviation in some regime is below this share of its mean does not move
/// (C-MAPSS's constant channels): it is dropped. The fan speeds move by about 3e-5 of their mean.
const MOVES: f64 = 1e-6;
/// The interval's nominal coverage.
pub const INTERVAL_LEVEL: f64 = 0.9;
/// Folds of the cross-conformal calibration.
const FOLDS: usize = 4;
/// Cycles per held-out engine at which the calibration predicts (evenly spaced over its life).
const CUTS_PER_ENGINE: usize = 20;
/// Upper edges of the groups of predicted RUL whose errors are pooled (cycles).
const GROUP_EDGES: [f64; 6] = [20.0, 40.0, 60.0, 80.0, 100.0, 115.0];

/// One engine's trajectory: per cycle, the 3 operational settings and 21 sensors.
#[derive(Debug, Clone, PartialEq)]
pub struct Engine {
    pub unit: u32,
    pub cycles: Vec<[f64; 24]>,
}

/// Reads a `train_FD00x.txt` / `test_FD00x.txt` file: 26 whitespace-separated columns per line
/// (unit, cycle, 3 settings, 21 sensors), engines in order.
pub fn read_trajectories(path: &Path) -> Result<Vec<Engine>, DataError> {
    let text = read(path)?;
    parse_trajectories(&text, path)
}

pub fn parse_trajectories(text: &str, path: &Path) -> Result<Vec<Engine>, DataError> {
    let mut engines: Vec<Engine> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = |message: String| format_error(path, i + 1, message);
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != 26 {
            return Err(err(format!("{} columns, expected 26", fields.len())));
        }
        let unit: u32 = fields[0]
            .parse()
            .map_err(|_| err(format!("unit `{}` is not a whole number", fields[0])))?;
        let mut row = [0.0; 24];
        for (k, f) in fields[2..].iter().enumerate() {
            let v: f64 = f
                .parse()
                .map_err(|_| err(format!("column {}: `{f}` is not a number", k + 3)))?;
            if !v.is_finite() {
                return Err(err(format!("column {}: `{f}` is not finite", k + 3)));
            }
            row[k] = v;
        }
        match engines.last_mut() {
            Some(e) if e.unit == unit => e.cycles.push(row),
            _ => engines.push(Engine {
                unit,
                cycles: vec![row],
            }),
        }
    }
    Ok(engines)
}

/// Reads `RUL_FD00x.txt`: the true remaining cycles of each test engine, in order.
pub fn read_rul(path: &Path) -> Result<Vec<f64>, DataError> {
    let text = read(path)?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            l.trim().parse::<f64>().map_err(|_| {
                format_error(
                    path,
                    i + 1,
                    format!("`{}` is not a number of cycles", l.trim()),
                )
            })
        })
        .collect()
}

/// The operating condition of a cycle: setting 1 rounded (the six C-MAPSS conditions differ in it).
fn condition(row: &[f64; 24]) -> i64 {
    row[0].round() as i64
}

/// Per condition, the mean and sd of each sensor; sensors constant in training are dropped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Normaliser {
    stats: BTreeMap<i64, Vec<(f64, f64)>>,
    /// Sensor indices (0-based into the 21) kept.
    pub sensors: Vec<usize>,
}

impl Normaliser {
    pub fn fit(engines: &[Engine]) -> Normaliser {
        let mut acc: BTreeMap<i64, Vec<(f64, f64, f64)>> = BTreeMap::new();
        for e in engines {
            for row in &e.cycles {
                let a = acc
                    .entry(condition(row))
                    .or_insert_with(|| vec![(0.0, 0.0, 0.0); 21]);
                for s in 0..21 {
                    let v = row[3 + s];
                    a[s].0 += 1.0;
                    a[s].1 += v;
                    a[s].2 += v * v;
                }
            }
        }
        let stats: BTreeMap<i64, Vec<(f64, f64)>> = acc
            .into_iter()
            .map(|(c, a)| {
                let s = a
                    .into_iter()
                    .map(|(n, sum, sq)| {
                        let mean = sum / n;
                        let var = (sq / n - mean * mean).max(0.0);
                        (mean, var.sqrt())
                    })
                    .collect();
                (c, s)
            })
            .collect();
        // A sensor is informative when it moves in every regime.
        let sensors = (0..21)
            .filter(|&s| {
                stats
                    .values()
                    .all(|v| v[s].1 > MOVES * v[s].0.abs().max(1e-9))
            })
            .collect();
        Normaliser { stats, sensors }
    }

    fn normalise(&self, row: &[f64; 24]) -> Vec<f64> {
        let stats = self
            .stats
            .get(&condition(row))
            .or_else(|| self.stats.values().next());
        self.sensors
            .iter()
            .map(|&s| match stats {
                Some(st) if st[s].1 > 0.0 => (row[3 + s] - st[s].0) / st[s].1,
                _ => 0.0,
            })
            .collect()
    }
}

/// One trajectory, normalised, with running sums for the whole-history features.
struct Normalised {
    rows: Vec<Vec<f64>>,
    /// Per cycle t: the sums over cycles 0..=t of each sensor, and of its value times the cycle.
    sum: Vec<Vec<f64>>,
    sum_by_cycle: Vec<Vec<f64>>,
}

impl Normalised {
    fn new(normaliser: &Normaliser, engine: &Engine) -> Normalised {
        let rows: Vec<Vec<f64>> = engine
            .cycles
            .iter()
            .map(|r| normaliser.normalise(r))
            .collect();
        let d = normaliser.sensors.len();
        let (mut sum, mut sum_by_cycle) = (
            Vec::with_capacity(rows.len()),
            Vec::with_capacity(rows.len()),
        );
        let (mut s, mut sx) = (vec![0.0; d], vec![0.0; d]);
        for (t, r) in rows.iter().enumerate() {
            for k in 0..d {
                s[k] += r[k];
                sx[k] += t as f64 * r[k];
            }
            sum.push(s.clone());
            sum_by_cycle.push(sx.clone());
        }
        Normalised {
            rows,
            sum,
            sum_by_cycle,
        }
    }

    /// The features of cycle `t` (0-based), from the cycles up to it.
    fn features(&self, t: usize) -> Vec<f64> {
        let rows = &self.rows;
        let d = rows[0].len();
        let mut out = Vec::with_capacity(5 * d + 1);
        let window = |len: usize| &rows[(t + 1).saturating_sub(len)..=t];
        let short = window(SHORT);
        let long = window(LONG);
        for s in 0..d {
            out.push(short.iter().map(|r| r[s]).sum::<f64>() / short.len() as f64);
        }
        for s in 0..d {
            out.push(long.iter().map(|r| r[s]).sum::<f64>() / long.len() as f64);
        }
        // Least-squares slope over the long window (0 for a single point).
        let n = long.len() as f64;
        let mean_x = (n - 1.0) / 2.0;
        let sxx: f64 = (0..long.len()).map(|i| (i as f64 - mean_x).powi(2)).sum();
        for s in 0..d {
            let mean_y = long.iter().map(|r| r[s]).sum::<f64>() / n;
            let sxy: f64 = long
                .iter()
                .enumerate()
                .map(|(i, r)| (i as f64 - mean_x) * (r[s] - mean_y))
                .sum();
            out.push(if sxx > 0.0 { sxy / sxx } else { 0.0 });
        }
        // The whole history: mean and slope from the running sums.
        let n = (t + 1) as f64;
        let mean_x = t as f64 / 2.0;
        let sxx = n * (n * n - 1.0) / 12.0;
        for s in 0..d {
            let mean_y = self.sum[t][s] / n;
            out.push(mean_y);
            let sxy = self.sum_by_cycle[t][s] - n * mean_x * mean_y;
            out.push(if sxx > 0.0 { sxy / sxx } else { 0.0 });
        }
        out.push(n);
        out
    }
}

/// A prediction of the remaining cycles, with its interval for the true remaining life.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RulPrediction {
    /// The point prediction (at most [`RUL_CAP`]: beyond it, condition does not tell).
    pub rul: f64,
    /// The interval holding the true remaining life with probability [`INTERVAL_LEVEL`].
    pub low: f64,
    pub high: f64,
}

/// Error quantiles per group of predicted RUL, from the cross-conformal calibration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interval {
    pub level: f64,
    pub groups: Vec<IntervalGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntervalGroup {
    /// Predictions below this (cycles) fall in the group; the last is unbounded.
    pub below: f64,
    /// The quantiles of (true − predicted) RUL: the interval is [predicted + low, predicted + high].
    pub low: f64,
    pub high: f64,
    /// Held-out predictions the quantiles come from.
    pub predictions: usize,
}

impl Interval {
    /// From held-out (predicted, true) pairs.
    fn calibrate(pairs: &[(f64, f64)], level: f64) -> Option<Interval> {
        let group_of = |p: f64| GROUP_EDGES.partition_point(|&e| e <= p);
        let mut errors: Vec<Vec<f64>> = vec![Vec::new(); GROUP_EDGES.len() + 1];
        for &(predicted, truth) in pairs {
            errors[group_of(predicted)].push(truth - predicted);
        }
        // A group with too few errors for its quantiles borrows its neighbours'.
        let tail = (1.0 - level) / 2.0;
        let enough = (2.0 / tail).ceil() as usize;
        let mut groups = Vec::new();
        for g in 0..errors.len() {
            let mut pooled = errors[g].clone();
            let mut reach = 1;
            while pooled.len() < enough && reach < errors.len() {
                for k in [g.checked_sub(reach), Some(g + reach)]
                    .into_iter()
                    .flatten()
                {
                    if let Some(e) = errors.get(k) {
                        pooled.extend_from_slice(e);
                    }
                }
                reach += 1;
            }
            if pooled.len() < enough {
                return None;
            }
            pooled.sort_by(f64::total_cmp);
            // Split-conformal quantiles: the ceil((n + 1) q)-th smallest, so that coverage holds
            // in finite samples.
            let n = pooled.len();
            let at = |q: f64| {
                let k = ((n + 1) as f64 * q).ceil() as usize;
                pooled[k.clamp(1, n) - 1]
            };
            groups.push(IntervalGroup {
                below: GROUP_EDGES.get(g).copied().unwrap_or(f64::INFINITY),
                low: at(tail),
                high: at(1.0 - tail),
                predictions: errors[g].len(),
            });
        }
        Some(Interval { level, groups })
    }

    fn around(&self, predicted: f64) -> (f64, f64) {
        let g = &self.groups[GROUP_EDGES.partition_point(|&e| e <= predicted)];
        ((predicted + g.low).max(0.0), (predicted + g.high).max(0.0))
    }
}

/// A trained RUL model.
#[derive(Debug, Clone)]
pub struct RulModel {
    normaliser: Normaliser,
    boosted: Boosted,
    /// The prediction interval; `None` with too few training engines to calibrate it.
    pub interval: Option<Interval>,
}

/// A model and the (predicted, true) remaining lives of the engines it was not trained on.
type Trained = (Boosted, Vec<(f64, f64)>);

/// Every cycle of every engine as a row, its target min(RUL, cap).
fn rows(normaliser: &Normaliser, engines: &[&Engine]) -> (Vec<Vec<f64>>, Vec<f64>) {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for e in engines {
        let normalised = Normalised::new(normaliser, e);
        let life = e.cycles.len();
        for t in 0..life {
            x.push(normalised.features(t));
            y.push(((life - 1 - t) as f64).min(RUL_CAP));
        }
    }
    (x, y)
}

impl RulModel {
    /// Trains on run-to-failure trajectories, and calibrates the prediction interval by
    /// cross-conformal prediction over [`FOLDS`] folds of the engines (the folds train in
    /// parallel; the result does not depend on the thread count).
    pub fn train(engines: &[Engine], config: BoostConfig) -> Result<RulModel, DataError> {
        if engines.is_empty() {
            return Err(DataError::Data("no training engines".into()));
        }
        let normaliser = Normaliser::fit(engines);
        let all: Vec<&Engine> = engines.iter().collect();
        let fold_of = |i: usize| i % FOLDS;
        let calibrate = engines.len() >= 2 * FOLDS;
        // Task 0 is the model on every engine; tasks 1..=FOLDS leave one fold out and predict it.
        let tasks: Vec<usize> = if calibrate {
            (0..=FOLDS).collect()
        } else {
            vec![0]
        };
        let results: Vec<Result<Trained, DataError>> = tasks
            .into_par_iter()
            .map(|task| {
                let in_training = |i: usize| task == 0 || fold_of(i) != task - 1;
                let kept: Vec<&Engine> = all
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| in_training(i))
                    .map(|(_, &e)| e)
                    .collect();
                let held = all
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| !in_training(i))
                    .map(|(_, &e)| e);
                let (x, y) = rows(&normaliser, &kept);
                let boosted = Boosted::fit(&x, &y, config)?;
                let mut pairs = Vec::new();
                for e in held {
                    let normalised = Normalised::new(&normaliser, e);
                    let life = e.cycles.len();
                    for k in 0..CUTS_PER_ENGINE.min(life) {
                        let t = (2 * k + 1) * life / (2 * CUTS_PER_ENGINE.min(life));
                        let predicted = boosted.predict(&normalised.features(t)).max(0.0);
                        pairs.push((predicted, (life - 1 - t) as f64));
                    }
                }
                Ok((boosted, pairs))
            })
            .collect();
        let mut boosted = None;
        let mut pairs = Vec::new();
        for (task, r) in results.into_iter().enumerate() {
            let (b, p) = r?;
            if task == 0 {
                boosted = Some(b);
            }
            pairs.extend(p);
        }
        let boosted = boosted.ok_or_else(|| DataError::Data("no model trained".into()))?;
        let interval = Interval::calibrate(&pairs, INTERVAL_LEVEL);
        Ok(RulModel {
            normaliser,
            boosted,
            interval,
        })
    }

    /// The predicted remaining cycles after the last cycle of `engine`.
    pub fn predict(&self, engine: &Engine) -> f64 {
        if engine.cycles.is_empty() {
            return RUL_CAP;
        }
        let normalised = Normalised::new(&self.normaliser, engine);
        self.boosted
            .predict(&normalised.features(engine.cycles.len() - 1))
            .max(0.0)
    }

    /// The prediction with its interval (the point itself when no interval was calibrated).
    pub fn predict_interval(&self, engine: &Engine) -> RulPrediction {
        let rul = self.predict(engine);
        let (low, high) = self.interval.as_ref().map_or((rul, rul), |i| i.around(rul));
        RulPrediction { rul, low, high }
    }
}

/// The PHM08 score of one prediction error `d = predicted - true`: late (d > 0) costs more.
pub fn phm08_score(d: f64) -> f64 {
    if d < 0.0 {
        (-d / 13.0).exp() - 1.0
    } else {
        (d / 10.0).exp() - 1.0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub subset: String,
    pub train_engines: usize,
    pub test_engines: usize,
    /// Against the true remaining cycles as published (`RUL_FD00x.txt`).
    pub rmse: f64,
    /// Against the truth clipped at [`RUL_CAP`], as much of the deep-learning literature scores.
    pub rmse_capped: f64,
    /// The RMSE against the published truth of a perfect prediction clipped at [`RUL_CAP`]: what
    /// the engines with more life left than the cap cost any model whose target is clipped.
    pub rmse_floor_of_the_cap: f64,
    /// PHM08 score summed over the test engines (lower is better).
    pub score: f64,
    pub mean_error: f64,
    /// The prediction interval's nominal coverage, and the share of test engines whose true
    /// remaining life lies in theirs.
    pub interval_level: f64,
    pub interval_coverage: Option<f64>,
    /// The mean width of the test engines' intervals (cycles).
    pub mean_interval_width: Option<f64>,
    /// Training time, the interval's calibration folds included.
    pub train_seconds: f64,
    /// Published RMSEs on this subset, for comparison.
    pub anchors: BTreeMap<&'static str, f64>,
    /// Each test engine's prediction, interval and truth.
    pub predictions: Vec<TestPrediction>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestPrediction {
    pub unit: u32,
    pub cycles_seen: usize,
    #[serde(flatten)]
    pub predicted: RulPrediction,
    pub truth: f64,
}

/// Published RMSEs (last test cycle) for `subset`: Babu et al. 2016 (CNN), Zheng et al. 2017
/// (LSTM), Li et al. 2018 (deep CNN), and for FD001 the baselines of the benchmark's reviews.
pub fn anchors(subset: &str) -> BTreeMap<&'static str, f64> {
    let deep = |cnn, lstm, dcnn| {
        BTreeMap::from([
            ("CNN (Babu 2016)", cnn),
            ("LSTM (Zheng 2017)", lstm),
            ("deep CNN (Li 2018)", dcnn),
        ])
    };
    match subset {
        "FD001" => {
            let mut a = deep(18.45, 16.14, 12.61);
            a.extend([
                ("constant prediction", 43.0),
                ("linear regression, 14 sensors", 21.9),
            ]);
            a
        }
        "FD002" => deep(30.29, 24.49, 22.36),
        "FD003" => deep(19.82, 16.18, 12.64),
        "FD004" => deep(29.16, 28.17, 23.31),
        _ => BTreeMap::new(),
    }
}

/// Trains on `train_<subset>.txt` in `dir` and scores on `test_<subset>.txt` against `RUL_<subset>.txt`.
pub fn evaluate(dir: &Path, subset: &str, config: BoostConfig) -> Result<Evaluation, DataError> {
    let train = read_trajectories(&dir.join(format!("train_{subset}.txt")))?;
    let test = read_trajectories(&dir.join(format!("test_{subset}.txt")))?;
    let truth = read_rul(&dir.join(format!("RUL_{subset}.txt")))?;
    if truth.len() != test.len() {
        return Err(DataError::Data(format!(
            "{} test engines but {} true RULs",
            test.len(),
            truth.len()
        )));
    }
    let started = std::time::Instant::now();
    let model = RulModel::train(&train, config)?;
    let train_seconds = started.elapsed().as_secs_f64();
    let predictions: Vec<TestPrediction> = test
        .iter()
        .zip(&truth)
        .map(|(e, &t)| TestPrediction {
            unit: e.unit,
            cycles_seen: e.cycles.len(),
            predicted: model.predict_interval(e),
            truth: t,
        })
        .collect();
    let n = predictions.len() as f64;
    let rms = |f: &dyn Fn(&TestPrediction) -> f64| {
        (predictions.iter().map(|p| f(p).powi(2)).sum::<f64>() / n).sqrt()
    };
    let calibrated = model.interval.is_some();
    Ok(Evaluation {
        subset: subset.to_string(),
        train_engines: train.len(),
        test_engines: test.len(),
        rmse: rms(&|p| p.predicted.rul - p.truth),
        rmse_capped: rms(&|p| p.predicted.rul - p.truth.min(RUL_CAP)),
        rmse_floor_of_the_cap: rms(&|p| p.truth.min(RUL_CAP) - p.truth),
        score: predictions
            .iter()
            .map(|p| phm08_score(p.predicted.rul - p.truth))
            .sum(),
        mean_error: predictions
            .iter()
            .map(|p| p.predicted.rul - p.truth)
            .sum::<f64>()
            / n,
        interval_level: INTERVAL_LEVEL,
        interval_coverage: calibrated.then(|| {
            predictions
                .iter()
                .filter(|p| p.predicted.low <= p.truth && p.truth <= p.predicted.high)
                .count() as f64
                / n
        }),
        mean_interval_width: calibrated.then(|| {
            predictions
                .iter()
                .map(|p| p.predicted.high - p.predicted.low)
                .sum::<f64>()
                / n
        }),
        train_seconds,
        anchors: anchors(subset),
        predictions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_phm08_score_punishes_late_predictions_more() {
        assert_eq!(phm08_score(0.0), 0.0);
        assert!(phm08_score(10.0) > phm08_score(-10.0));
        assert!((phm08_score(10.0) - (1f64.exp() - 1.0)).abs() < 1e-12);
        assert!((phm08_score(-13.0) - (1f64.exp() - 1.0)).abs() < 1e-12);
    }

    #[test]
    fn malformed_lines_are_refused_with_their_line() {
        let text = "1 1 0 0 100 ".to_string() + &"1.0 ".repeat(21) + "\n1 2 0 0 100 x\n";
        let e = parse_trajectories(&text, Path::new("t.txt"))
            .err()
            .map(|e| e.to_string());
        assert_eq!(e, Some("t.txt:2: 6 columns, expected 26".into()));
        let text = "1 1 0 0 100 ".to_string() + &"1.0 ".repeat(20) + "abc\n";
        let e = parse_trajectories(&text, Path::new("t.txt"))
            .err()
            .map(|e| e.to_string());
        assert_eq!(e, Some("t.txt:1: column 26: `abc` is not a number".into()));
    }
}
