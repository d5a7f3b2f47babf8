//! An experiment split across the nodes of a site. The node that runs a simulation job queues
//! each round's chunks of replications as jobs of their own (kind `simulation-chunk`, stored
//! with the experiment's job as `parent`), which any node takes before whole jobs. Meanwhile it
//! runs the chunks no other node took (so a site whose every thread runs an experiment still
//! moves), gathers the runs the others stored, and compares them as one process does: the result
//! is the same bit for bit (`takt_experiments::chunks`).
//!
//! A chunk's node that falls silent loses its lease and another takes the chunk over, as for any
//! job. The experiment's node taken over itself finds the chunks already stored by their ids
//! (`<job>.<round>.<k>`) and keeps what they give. A chunk that fails fails the experiment, and
//! the chunks of an ended experiment leave the store at the next heartbeat of any node.

use super::{JobSpec, Jobs};
use crate::now_ms;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use takt_experiments::{Chunk, ExperimentError, Replication};

/// How often the node that split an experiment looks at its chunks while it has none to run.
const CHUNK_POLL: Duration = Duration::from_millis(100);

fn store_error(e: impl std::fmt::Display) -> ExperimentError {
    ExperimentError::Chunk(format!("the site's store: {e}"))
}

impl Jobs {
    /// Runs `chunks` of job `parent` (its round `round`) on the site's nodes and gives back
    /// their runs; `progress(runs)` as they finish.
    pub(super) fn run_chunks(
        &self,
        parent: &str,
        round: usize,
        chunks: Vec<Chunk>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Vec<Replication>, ExperimentError> {
        let own = self
            .progress_of(parent)
            .ok_or_else(|| ExperimentError::Chunk(format!("job {parent} is not this node's")))?;
        let mut runs_of: HashMap<String, (usize, u64)> = HashMap::new();
        let mut rows = Vec::with_capacity(chunks.len());
        for (k, chunk) in chunks.into_iter().enumerate() {
            let id = format!("{parent}.{round}.{k}");
            runs_of.insert(id.clone(), (k, chunk.runs.len() as u64));
            let spec = JobSpec::SimulationChunk {
                chunk: Box::new(chunk),
            };
            let text = serde_json::to_string(&spec)
                .map_err(|e| ExperimentError::Chunk(format!("a chunk does not serialise: {e}")))?;
            rows.push((id, spec.kind(), text));
        }
        self.db
            .add_chunks(parent, &rows, now_ms())
            .map_err(store_error)?;
        drop(rows);
        self.wake_all();
        let mut gathered: BTreeMap<usize, Vec<Replication>> = BTreeMap::new();
        loop {
            if own.cancelled() {
                return Err(ExperimentError::Cancelled);
            }
            let states = self.db.chunks(parent).map_err(store_error)?;
            let mut done = 0;
            let mut seen = 0;
            for state in &states {
                let Some(&(k, runs)) = runs_of.get(&state.id) else {
                    continue; // another round's
                };
                seen += 1;
                match state.status.as_str() {
                    "done" => {
                        done += runs;
                        if let std::collections::btree_map::Entry::Vacant(slot) = gathered.entry(k)
                        {
                            slot.insert(self.runs_of_chunk(&state.id)?);
                        }
                    }
                    "queued" | "running" => done += state.done.min(runs),
                    status => {
                        return Err(ExperimentError::Chunk(format!(
                            "a chunk of the experiment ended {status}: {}",
                            state.error.as_deref().unwrap_or("no reason stored")
                        )));
                    }
                }
            }
            if seen < runs_of.len() {
                return Err(ExperimentError::Chunk(
                    "a chunk of the experiment is gone from the store".into(),
                ));
            }
            progress(done);
            if gathered.len() == runs_of.len() {
                return Ok(gathered.into_values().flatten().collect());
            }
            // Run a chunk no node took yet, here; else wait for the others.
            match self
                .db
                .claim_chunk(parent, now_ms(), self.lease_ms())
                .map_err(store_error)?
            {
                Some(claimed) => {
                    let (id, work) = self.taken(claimed);
                    if let Some(chunk) = self.progress_of(&id) {
                        let _ = chunk.within.set(Arc::clone(&own));
                    }
                    self.run_one(&id, work);
                }
                None => std::thread::sleep(CHUNK_POLL),
            }
        }
    }

    /// The runs a finished chunk stored.
    fn runs_of_chunk(&self, id: &str) -> Result<Vec<Replication>, ExperimentError> {
        let result = self
            .db
            .job(id)
            .map_err(store_error)?
            .and_then(|job| job.result)
            .ok_or_else(|| ExperimentError::Chunk(format!("chunk {id} stored no result")))?;
        serde_json::from_value(result)
            .map_err(|e| ExperimentError::Chunk(format!("chunk {id}'s runs do not read back: {e}")))
    }
}
