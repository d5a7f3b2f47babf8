//! An experiment split into chunks, each sent through JSON to be run apart (as the workers of a
//! site do), gives the same result as one process, bit for bit: with sweeps, precision rounds, a
//! detected warm-up and a goal. Runs given back wrong are refused, a chunk's failure is the
//! experiment's.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use takt_experiments::goal::parse_goal;
use takt_experiments::variants::parse_variant;
use takt_experiments::{
    Chunk, ExperimentError, ExperimentSpec, Replication, Replications, WarmupChoice,
    run_cancellable, run_chunk, run_in_chunks, study,
};

fn reference_line() -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/reference-line.toml");
    std::fs::read_to_string(path).expect("the reference line")
}

fn spec(replications: Replications, warmup: WarmupChoice) -> ExperimentSpec {
    let mut variants =
        study::sweep_variants(&["buffers.B1.capacity=2..8:3".to_string()]).expect("sweep");
    variants.push(parse_variant("two M2: stations.M2.machines=2").expect("variant"));
    ExperimentSpec {
        base_text: reference_line(),
        origin: PathBuf::from("reference-line.toml"),
        base_dir: None,
        variants,
        replications,
        warmup,
        seed: Some(11),
        horizon_s: Some(20_000.0),
        series_points: 10,
        goal: Some((parse_goal("max throughput_per_hour").expect("goal"), vec![])),
    }
}

/// Each chunk and what it gives back go through JSON text; the runs come back last chunk first.
fn through_json(
    chunks: Vec<Chunk>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<Replication>, ExperimentError> {
    let mut back = Vec::new();
    let mut done = 0;
    for chunk in chunks.iter().rev() {
        let text = serde_json::to_string(chunk).expect("a chunk serialises");
        let read: Chunk = serde_json::from_str(&text).expect("a chunk reads back");
        let runs = run_chunk(&read, &|_, _| {}, &AtomicBool::new(false))
            .map_err(|e| ExperimentError::Chunk(e.to_string()))?;
        done += runs.len() as u64;
        progress(done);
        let text = serde_json::to_string(&runs).expect("runs serialise");
        back.extend(serde_json::from_str::<Vec<Replication>>(&text).expect("runs read back"));
    }
    Ok(back)
}

fn same_bit_for_bit(
    replications: Replications,
    warmup: WarmupChoice,
    chunk_runs: usize,
) -> takt_experiments::Experiment {
    let spec = spec(replications, warmup);
    let one = run_cancellable(&spec, &|_, _| {}, &AtomicBool::new(false)).expect("one process");
    let split = run_in_chunks(
        &spec,
        chunk_runs,
        &|_, _| {},
        &AtomicBool::new(false),
        &through_json,
    )
    .expect("in chunks");
    assert_eq!(
        serde_json::to_string(&one).expect("json"),
        serde_json::to_string(&split).expect("json")
    );
    assert_eq!(one.variants.len(), 5);
    one
}

#[test]
fn chunks_run_apart_give_the_result_of_one_process_bit_for_bit() {
    let _ = same_bit_for_bit(Replications::Fixed(6), WarmupChoice::Scenario, 4);
    // Chunks of one run each, and chunks that cut across variants.
    let _ = same_bit_for_bit(Replications::Fixed(3), WarmupChoice::Fixed(500.0), 1);
}

#[test]
fn precision_rounds_and_a_detected_warm_up_split_the_same() {
    let precision = Replications::Precision {
        relative: 0.002,
        min: 3,
        max: 9,
    };
    let x = same_bit_for_bit(precision, WarmupChoice::Auto, 5);
    // More than the first round ran, and the warm-up was detected, not taken as written.
    assert!(x.replications > 3, "{}", x.replications);
    assert!(x.warmup_method.starts_with("MSER-5"), "{}", x.warmup_method);
}

#[test]
fn runs_given_back_wrong_are_refused_and_a_chunk_failure_is_the_experiments() {
    let spec = spec(Replications::Fixed(2), WarmupChoice::Scenario);
    let cancel = AtomicBool::new(false);
    // One run short.
    let short = |chunks: Vec<Chunk>, p: &(dyn Fn(u64) + Sync)| {
        let mut runs = through_json(chunks, p)?;
        runs.pop();
        Ok(runs)
    };
    let e = run_in_chunks(&spec, 3, &|_, _| {}, &cancel, &short).expect_err("refused");
    assert!(e.to_string().contains("not the ones asked for"), "{e}");
    // The same run twice instead of another.
    let twice = |chunks: Vec<Chunk>, p: &(dyn Fn(u64) + Sync)| {
        let mut runs = through_json(chunks, p)?;
        let first = runs[0].clone();
        runs[1] = first;
        Ok(runs)
    };
    let e = run_in_chunks(&spec, 3, &|_, _| {}, &cancel, &twice).expect_err("refused");
    assert!(e.to_string().contains("not the ones asked for"), "{e}");
    let failing =
        |_: Vec<Chunk>, _: &(dyn Fn(u64) + Sync)| -> Result<Vec<Replication>, ExperimentError> {
            Err(ExperimentError::Chunk(
                "a chunk failed on node n1: no more room".into(),
            ))
        };
    let e = run_in_chunks(&spec, 3, &|_, _| {}, &cancel, &failing).expect_err("fails");
    assert_eq!(e.to_string(), "a chunk failed on node n1: no more room");
    // A chunk's variant out of the experiment is refused where it runs.
    let chunk = Chunk {
        experiment: ExperimentSpec {
            warmup: WarmupChoice::Fixed(0.0),
            ..spec.clone()
        },
        seed: 1,
        runs: vec![(9, 0)],
    };
    let e = run_chunk(&chunk, &|_, _| {}, &cancel).expect_err("refused");
    assert!(e.to_string().contains("no variant 9"), "{e}");
}
