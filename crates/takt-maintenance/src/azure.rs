//! "Will component X of this machine fail within the next 24 hours?" on Microsoft's Azure
//! predictive-maintenance tables (100 machines, 2015: errors, failures, component replacements,
//! machine model and age), scored per component by precision and recall on a time-based split:
//! train on the months before the split, test on those after.
//!
//! Features of a machine at an hour: the count of each error type in the last 24 h, the hours since
//! each component was last replaced, the machine's model and age. (Hourly telemetry exists for only
//! 20 machines over three months, too few failures to learn or score from, so it is not used here.)
//! One boosted-tree model per component regresses the 0/1 label; the decision threshold is the one
//! that maximises F1 on the training months.

use crate::boost::{BoostConfig, Boosted};
use crate::{DataError, format_error, read};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use takt_sources::azure_pdm::{self, Table};

pub const COMPONENTS: [&str; 4] = ["comp1", "comp2", "comp3", "comp4"];
const ERRORS: [&str; 5] = ["error1", "error2", "error3", "error4", "error5"];
const HORIZON_H: i64 = 24;

/// Hours since 1970-01-01 00:00 of a `YYYY-MM-DD HH:MM:SS` stamp (the tables' naive hourly times).
pub fn parse_hour(text: &str) -> Option<i64> {
    takt_model::time::parse_local_ms(text, 0).map(|ms| ms.div_euclid(3_600_000))
}

/// What is known of a machine: its events by hour, and its model and age.
#[derive(Debug, Clone, Default)]
struct Machine {
    model: f64,
    age: f64,
    /// (hour, error type index), sorted.
    errors: Vec<(i64, usize)>,
    /// (hour, component index), sorted.
    replacements: Vec<(i64, usize)>,
    failures: Vec<(i64, usize)>,
}

/// The rows of a table read by [`takt_sources::azure_pdm`]; the first bad row is the error.
fn table_rows<T>(
    dir: &Path,
    table: Table,
    read_rows: impl Fn(&str) -> takt_sources::azure_pdm::Rows<T>,
) -> Result<(PathBuf, Vec<T>), DataError> {
    let path = dir.join(table.file_name());
    let (rows, bad) = read_rows(&read(&path)?);
    match bad.into_iter().next() {
        Some(e) => Err(format_error(&path, e.line, e.reason)),
        None => Ok((path, rows)),
    }
}

fn load(dir: &Path) -> Result<BTreeMap<u32, Machine>, DataError> {
    let mut machines: BTreeMap<u32, Machine> = BTreeMap::new();
    let (path, rows) = table_rows(dir, Table::Machines, azure_pdm::machines)?;
    for row in rows {
        let m = machines.entry(row.machine).or_default();
        m.model = row.model.trim_start_matches("model").parse().map_err(|_| {
            format_error(
                &path,
                row.line,
                format!("model `{}` is not modelN", row.model),
            )
        })?;
        m.age = row.age_years;
    }
    for (table, names) in [
        (Table::Errors, &ERRORS[..]),
        (Table::Maintenance, &COMPONENTS[..]),
        (Table::Failures, &COMPONENTS[..]),
    ] {
        let (path, rows) = table_rows(dir, table, |text| azure_pdm::stamped(table, text))?;
        for row in rows {
            let hour = row.local_ms.div_euclid(3_600_000);
            let k = names.iter().position(|n| *n == row.what).ok_or_else(|| {
                format_error(
                    &path,
                    row.line,
                    format!("`{}` is not one of {}", row.what, names.join(", ")),
                )
            })?;
            let m = machines.get_mut(&row.machine).ok_or_else(|| {
                format_error(
                    &path,
                    row.line,
                    format!("machine {} is not in PdM_machines.csv", row.machine),
                )
            })?;
            match table {
                Table::Errors => m.errors.push((hour, k)),
                Table::Maintenance => m.replacements.push((hour, k)),
                _ => m.failures.push((hour, k)),
            }
        }
    }
    for m in machines.values_mut() {
        m.errors.sort_unstable();
        m.replacements.sort_unstable();
        m.failures.sort_unstable();
    }
    Ok(machines)
}

/// Features of machine `m` at `hour` (what is known up to and including it).
fn features(m: &Machine, hour: i64) -> Vec<f64> {
    let mut x = Vec::with_capacity(ERRORS.len() + COMPONENTS.len() + 2);
    let lo = m.errors.partition_point(|e| e.0 <= hour - HORIZON_H);
    let hi = m.errors.partition_point(|e| e.0 <= hour);
    for k in 0..ERRORS.len() {
        x.push(m.errors[lo..hi].iter().filter(|e| e.1 == k).count() as f64);
    }
    let known = m.replacements.partition_point(|r| r.0 <= hour);
    for k in 0..COMPONENTS.len() {
        let last = m.replacements[..known].iter().rev().find(|r| r.1 == k);
        // Never replaced in the record: as old as the record allows.
        x.push(last.map_or(24.0 * 365.0, |r| (hour - r.0) as f64));
    }
    x.push(m.model);
    x.push(m.age);
    x
}

/// Whether component `k` of `m` fails in (hour, hour + 24 h].
fn label(m: &Machine, hour: i64, k: usize) -> bool {
    let lo = m.failures.partition_point(|f| f.0 <= hour);
    m.failures[lo..]
        .iter()
        .take_while(|f| f.0 <= hour + HORIZON_H)
        .any(|f| f.1 == k)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentScore {
    pub component: &'static str,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    /// Test rows where the component fails within 24 h, and those flagged.
    pub positives: usize,
    pub flagged: usize,
    pub true_positives: usize,
    pub threshold: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AzureEvaluation {
    pub machines: usize,
    /// Rows every `step_h` hours; train before `split`, test from it on.
    pub step_h: i64,
    pub split: String,
    pub train_rows: usize,
    pub test_rows: usize,
    pub components: Vec<ComponentScore>,
    pub macro_precision: Option<f64>,
    pub macro_recall: Option<f64>,
    pub train_seconds: f64,
}

/// Trains on hours before `split` (a `YYYY-MM-DD HH:MM:SS` time) and scores on the rest of 2015.
pub fn evaluate(
    dir: &Path,
    split: &str,
    step_h: i64,
    config: BoostConfig,
) -> Result<AzureEvaluation, DataError> {
    let machines = load(dir)?;
    let split_h = parse_hour(split).ok_or_else(|| {
        DataError::Data(format!("split `{split}` is not a YYYY-MM-DD HH:MM:SS time"))
    })?;
    let start = parse_hour("2015-01-01 06:00:00").unwrap_or(0);
    let end = parse_hour("2016-01-01 06:00:00").unwrap_or(0) - HORIZON_H;
    if split_h <= start || split_h >= end {
        return Err(DataError::Data(format!(
            "split `{split}` leaves no training or no test months in 2015"
        )));
    }
    let step_h = step_h.max(1);
    let mut train: (Vec<Vec<f64>>, Vec<[bool; 4]>) = (Vec::new(), Vec::new());
    let mut test: (Vec<Vec<f64>>, Vec<[bool; 4]>) = (Vec::new(), Vec::new());
    for m in machines.values() {
        let mut hour = start;
        while hour < end {
            let labels = [0, 1, 2, 3].map(|k| label(m, hour, k));
            // Rows whose 24 h window crosses the split would let the test leak into training.
            let into = if hour + HORIZON_H < split_h {
                Some(&mut train)
            } else if hour >= split_h {
                Some(&mut test)
            } else {
                None
            };
            if let Some(set) = into {
                set.0.push(features(m, hour));
                set.1.push(labels);
            }
            hour += step_h;
        }
    }
    if train.0.is_empty() || test.0.is_empty() {
        return Err(DataError::Data("no rows to train or test on".into()));
    }
    let started = std::time::Instant::now();
    let mut components = Vec::new();
    for (k, name) in COMPONENTS.iter().enumerate() {
        let y: Vec<f64> = train.1.iter().map(|l| f64::from(u8::from(l[k]))).collect();
        let model = Boosted::fit(&train.0, &y, config)?;
        let scored: Vec<(f64, bool)> = train
            .0
            .iter()
            .zip(&train.1)
            .map(|(x, l)| (model.predict(x), l[k]))
            .collect();
        let threshold = best_threshold(&scored);
        let (mut positives, mut flagged, mut hits) = (0, 0, 0);
        for (x, l) in test.0.iter().zip(&test.1) {
            let flag = model.predict(x) >= threshold;
            positives += usize::from(l[k]);
            flagged += usize::from(flag);
            hits += usize::from(flag && l[k]);
        }
        let ratio = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
        components.push(ComponentScore {
            component: name,
            precision: ratio(hits, flagged),
            recall: ratio(hits, positives),
            positives,
            flagged,
            true_positives: hits,
            threshold,
        });
    }
    let macro_of = |f: &dyn Fn(&ComponentScore) -> Option<f64>| {
        let v: Vec<f64> = components.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    Ok(AzureEvaluation {
        machines: machines.len(),
        step_h,
        split: split.to_string(),
        train_rows: train.0.len(),
        test_rows: test.0.len(),
        macro_precision: macro_of(&|c| c.precision),
        macro_recall: macro_of(&|c| c.recall),
        components,
        train_seconds: started.elapsed().as_secs_f64(),
    })
}

/// The score threshold of largest F1 on (score, label) pairs.
fn best_threshold(scored: &[(f64, bool)]) -> f64 {
    let mut sorted: Vec<(f64, bool)> = scored.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let positives = sorted.iter().filter(|s| s.1).count();
    let (mut best, mut best_f1) = (0.5, -1.0);
    let mut hits = 0usize;
    for (i, (score, label)) in sorted.iter().enumerate() {
        hits += usize::from(*label);
        // Flag everything scored at least this high.
        if sorted.get(i + 1).is_some_and(|next| next.0 == *score) {
            continue;
        }
        let flagged = i + 1;
        let f1 = 2.0 * hits as f64 / (flagged + positives) as f64;
        if f1 > best_f1 {
            best_f1 = f1;
            best = *score;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_count_from_the_epoch() {
        assert_eq!(parse_hour("1970-01-01 00:00:00"), Some(0));
        assert_eq!(parse_hour("2015-01-01 06:00:00"), Some(16_436 * 24 + 6));
        assert_eq!(
            parse_hour("\"2016-03-01 23:00:00\""),
            Some(16_861 * 24 + 23)
        );
        assert_eq!(parse_hour("2015-13-01 00:00:00"), None);
        assert_eq!(parse_hour("yesterday"), None);
    }

    #[test]
    fn the_threshold_maximises_f1() {
        let scored = [
            (0.9, true),
            (0.8, true),
            (0.7, false),
            (0.6, true),
            (0.1, false),
        ];
        // Top 2: F1 = 4/5; top 4: 6/7 (0.857) is the best.
        assert_eq!(best_threshold(&scored), 0.6);
    }

    #[test]
    fn features_look_back_24_hours_and_labels_ahead_24() {
        let m = Machine {
            model: 3.0,
            age: 18.0,
            errors: vec![(100, 0), (120, 0), (123, 2)],
            replacements: vec![(50, 1)],
            failures: vec![(140, 3)],
        };
        let x = features(&m, 124);
        assert_eq!(
            &x[..5],
            &[1.0, 0.0, 1.0, 0.0, 0.0],
            "hour 100 is 24 h before: out"
        );
        assert_eq!(x[6], 74.0);
        assert!(label(&m, 116, 3) && !label(&m, 115, 3) && !label(&m, 140, 3));
    }
}
