//! takt's predictive maintenance: models of remaining useful life and failure risk learned from
//! sensor histories, evaluated on public data.
//!
//! - `boost.rs`: gradient-boosted regression trees (binned, deterministic, seconds on a CPU).
//! - `cmapss.rs`: remaining useful life on NASA C-MAPSS, with RMSE and the PHM08 score.
//! - `azure.rs`: component failure within 24 h on the Azure PdM tables, precision and recall.
//! - `renewal.rs`: expected failures over a span when repairs renew (the renewal function).
//! - `windows.rs`: maintenance windows over a horizon (MILP under the `milp` feature, a greedy
//!   heuristic, an independent checker).
//! - `plant.rs`: a plant's window problem (wear-out modes, ageing rates from a baseline run, costs).
//! - `policy.rs`: run to failure, fixed interval and the optimized plan compared in the simulator.
//! - `calendar.rs`: what the planner's screen draws: production time per bucket, risk over time.
//! - `maintain.rs`: all of it for one plant, as the CLI and the HTTP API ask for it.
//!
//! The crate does no I/O beyond reading the data files it is pointed at.

pub mod azure;
pub mod boost;
pub mod calendar;
pub mod cmapss;
pub mod interval;
pub mod maintain;
pub mod planned;
pub mod plant;
pub mod policy;
pub mod renewal;
pub mod windows;

use std::path::{Path, PathBuf};

/// What can go wrong reading and learning from a data set: the file and line of a malformed row,
/// or what does not fit.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Format {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{0}")]
    Data(String),
    #[error(transparent)]
    Boost(#[from] boost::BoostError),
}

/// A data file's text, or an error that names the file.
pub(crate) fn read(path: &Path) -> Result<String, DataError> {
    std::fs::read_to_string(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A format error at `line` (1-based) of `path`.
pub(crate) fn format_error(path: &Path, line: usize, message: String) -> DataError {
    DataError::Format {
        path: path.to_path_buf(),
        line,
        message,
    }
}
