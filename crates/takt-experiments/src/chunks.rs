//! An experiment split into chunks of replications that other processes run (the workers of a
//! site), with a result the same, bit for bit, as one process gives. Replication r of every
//! variant runs on stream r of the base's seed wherever it runs, so a chunk is just a list of
//! (variant, replication) runs of an experiment whose warm-up is settled. The process that split
//! the experiment puts the runs chunks give back in (variant, replication) order and compares
//! them as [`crate::run`] does; precision rounds are split round by round.

use crate::experiment::{
    self, Experiment, ExperimentError, ExperimentSpec, Run, WarmupChoice, run_job, run_jobs,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use takt_sim::Report;

/// A share of an experiment's runs, for another process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Chunk {
    /// The experiment, its warm-up fixed to the one settled (a chunk runs no pilots).
    pub experiment: ExperimentSpec,
    /// The base's seed: replication r of every variant runs on stream r of it.
    pub seed: u64,
    /// (variant, replication): variant 0 is the base, then the spec's variants in order.
    pub runs: Vec<(usize, u32)>,
}

/// One run as a chunk gives it back: the replication's report and its throughput series.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Replication {
    pub variant: usize,
    pub replication: u32,
    pub report: Report,
    pub series: Vec<f64>,
}

/// Runs chunks somewhere and gives back every run of them (in any order); `progress(runs)` says
/// how many runs of this call are done so far.
pub type ChunkRunner<'a> =
    dyn Fn(Vec<Chunk>, &(dyn Fn(u64) + Sync)) -> Result<Vec<Replication>, ExperimentError> + 'a;

/// The experiment with its replications split into chunks of at most `chunk_runs` runs each,
/// run by `runner`; the result equals [`crate::run_cancellable`]'s bit for bit. The warm-up is
/// settled here (MSER-5 pilots run here), and `cancel` is read between rounds.
pub fn run_in_chunks(
    spec: &ExperimentSpec,
    chunk_runs: usize,
    progress: &(dyn Fn(u64, u64) + Sync),
    cancel: &AtomicBool,
    runner: &ChunkRunner<'_>,
) -> Result<Experiment, ExperimentError> {
    let prepared = experiment::prepare(spec, cancel)?;
    let mut settled = spec.clone();
    settled.warmup = WarmupChoice::Fixed(prepared.warmup_s);
    settled.goal = None;
    let seed = prepared.seed;
    let chunk_runs = chunk_runs.max(1);
    experiment::run_rounds(spec, prepared, &mut |jobs, done_before, total| {
        if cancel.load(Ordering::Relaxed) {
            return Err(ExperimentError::Cancelled);
        }
        progress(done_before, total);
        let chunks: Vec<Chunk> = jobs
            .chunks(chunk_runs)
            .map(|runs| Chunk {
                experiment: settled.clone(),
                seed,
                runs: runs.to_vec(),
            })
            .collect();
        let back = runner(chunks, &|done| progress(done_before + done, total))?;
        Ok(back
            .into_iter()
            .map(|r| (r.variant, r.replication, Run::new(r.report, r.series)))
            .collect())
    })
}

/// Runs one chunk here, its runs in parallel; `progress(done, total)` as runs finish.
pub fn run_chunk(
    chunk: &Chunk,
    progress: &(dyn Fn(u64, u64) + Sync),
    cancel: &AtomicBool,
) -> Result<Vec<Replication>, ExperimentError> {
    let spec = &chunk.experiment;
    let WarmupChoice::Fixed(warmup_s) = spec.warmup else {
        return Err(ExperimentError::Invalid(
            "a chunk's warm-up is settled by the experiment it is a share of".into(),
        ));
    };
    let all = experiment::all_variants(spec);
    // Only the variants this chunk runs are loaded.
    let mut models: HashMap<usize, Arc<takt_model::Model>> = HashMap::new();
    for &(v, _) in &chunk.runs {
        if models.contains_key(&v) {
            continue;
        }
        let variant = all.get(v).ok_or_else(|| {
            ExperimentError::Invalid(format!("no variant {v}: the experiment has {}", all.len()))
        })?;
        let mut model = experiment::load_variant(spec, variant)?;
        experiment::check_warmup(warmup_s, model.horizon_s)?;
        model.warmup_s = warmup_s;
        models.insert(v, Arc::new(model));
    }
    let names: Vec<String> = all.iter().map(|v| v.name.clone()).collect();
    let seed = chunk.seed;
    let points = spec.series_points.max(1);
    let total = chunk.runs.len() as u64;
    let finished = AtomicU64::new(0);
    let runs = run_jobs(&chunk.runs, &names, cancel, &|v, r, stop| {
        let run = run_job(&models[&v], seed, r, points, stop)?;
        progress(finished.fetch_add(1, Ordering::Relaxed) + 1, total);
        Ok(run)
    })?;
    Ok(runs
        .into_iter()
        .map(|(variant, replication, run)| Replication {
            variant,
            replication,
            report: run.typed,
            series: run.series,
        })
        .collect())
}
