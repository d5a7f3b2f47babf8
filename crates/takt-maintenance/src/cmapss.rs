//! Remaining useful life on NASA's C-MAPSS turbofan data (Saxena & Goebel 2008), the standard public
//! benchmark of prognostics: train on run-to-failure trajectories, predict the remaining cycles at
//! the last cycle of each test trajectory, and score with RMSE and the PHM08 asymmetric score (late
//! predictions cost more than early ones).
//!
//! The model is the usual strong baseline that trains in seconds on a CPU:
//! - sensors normalised per operating condition (six conditions in FD002/FD004, one otherwise),
//!   dropping those that do not move in the training data;
//! - per cycle, features of the trailing window: the mean of the last 5 and of the last 30 cycles,
//!   the least-squares slope over the last 30, and the cycle number;
//! - the target clipped to a piecewise-linear RUL (at most 125 cycles: early in life an engine's
//!   condition does not tell its remaining life);
//! - gradient-boosted regression trees ([`crate::boost`]).

use crate::boost::{BoostConfig, Boosted};
use crate::{DataError, format_error, read};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The RUL above which the target is clipped (cycles).
pub const RUL_CAP: f64 = 125.0;
const SHORT: usize = 5;
const LONG: usize = 30;

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
        // A sensor is informative when it moves (relative sd above 1e-4) in every condition.
        let sensors = (0..21)
            .filter(|&s| {
                stats
                    .values()
                    .all(|v| v[s].1 > 1e-4 * v[s].0.abs().max(1e-9))
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

/// The features of cycle `t` (0-based) of a trajectory, from the cycles up to it.
fn features(normalised: &[Vec<f64>], t: usize) -> Vec<f64> {
    let d = normalised[0].len();
    let mut out = Vec::with_capacity(3 * d + 1);
    let window = |len: usize| &normalised[(t + 1).saturating_sub(len)..=t];
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
    out.push(t as f64 + 1.0);
    out
}

/// A trained RUL model.
#[derive(Debug, Clone)]
pub struct RulModel {
    normaliser: Normaliser,
    boosted: Boosted,
}

impl RulModel {
    /// Trains on run-to-failure trajectories: every cycle is a row, its target min(RUL, cap).
    pub fn train(engines: &[Engine], config: BoostConfig) -> Result<RulModel, DataError> {
        if engines.is_empty() {
            return Err(DataError::Data("no training engines".into()));
        }
        let normaliser = Normaliser::fit(engines);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for e in engines {
            let normalised: Vec<Vec<f64>> =
                e.cycles.iter().map(|r| normaliser.normalise(r)).collect();
            let life = e.cycles.len();
            for t in 0..life {
                x.push(features(&normalised, t));
                y.push(((life - 1 - t) as f64).min(RUL_CAP));
            }
        }
        let boosted = Boosted::fit(&x, &y, config)?;
        Ok(RulModel {
            normaliser,
            boosted,
        })
    }

    /// The predicted remaining cycles after the last cycle of `engine`.
    pub fn predict(&self, engine: &Engine) -> f64 {
        let normalised: Vec<Vec<f64>> = engine
            .cycles
            .iter()
            .map(|r| self.normaliser.normalise(r))
            .collect();
        match normalised.len() {
            0 => RUL_CAP,
            n => self.boosted.predict(&features(&normalised, n - 1)).max(0.0),
        }
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
    pub rmse: f64,
    /// PHM08 score summed over the test engines (lower is better).
    pub score: f64,
    pub mean_error: f64,
    pub train_seconds: f64,
    /// Anchors from the literature for FD001 (RMSE at the last test cycle, cap 125).
    pub anchors: BTreeMap<&'static str, f64>,
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
    let errors: Vec<f64> = test
        .iter()
        .zip(&truth)
        .map(|(e, t)| model.predict(e) - t)
        .collect();
    let n = errors.len() as f64;
    Ok(Evaluation {
        subset: subset.to_string(),
        train_engines: train.len(),
        test_engines: test.len(),
        rmse: (errors.iter().map(|d| d * d).sum::<f64>() / n).sqrt(),
        score: errors.iter().map(|&d| phm08_score(d)).sum(),
        mean_error: errors.iter().sum::<f64>() / n,
        train_seconds,
        anchors: BTreeMap::from([
            ("constant prediction", 43.0),
            ("linear regression, 14 sensors", 21.9),
            ("random forest / CNN", 18.0),
            ("LSTM (Zheng 2017)", 16.14),
            ("best deep models", 11.5),
        ]),
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
