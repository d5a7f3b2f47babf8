//! What-if experiments on a plant: a base scenario and named variants (overrides, sweeps), run with
//! the same seeds per replication (common random numbers) in parallel, compared pairwise with
//! paired-t confidence intervals, ranked against a goal, and reported as tables, JSON and an HTML page.

pub mod chunks;
pub mod decision;
pub mod experiment;
pub mod goal;
pub mod html;
pub mod kpi;
pub mod study;
pub mod variants;
pub mod warmup;

pub use chunks::{Chunk, ChunkRunner, Replication, run_chunk, run_in_chunks};
pub use experiment::{
    Experiment, ExperimentError, ExperimentSpec, Replications, VariantResult, WarmupChoice, run,
    run_cancellable,
};
pub use goal::{Goal, Ranking};
pub use variants::{Sweep, VariantSpec};
