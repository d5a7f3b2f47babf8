//! takt's predictive maintenance: models of remaining useful life and failure risk learned from
//! sensor histories, evaluated on public data.
//!
//! - `boost.rs`: gradient-boosted regression trees (binned, deterministic, seconds on a CPU).
//! - `cmapss.rs`: remaining useful life on NASA C-MAPSS, with RMSE and the PHM08 score.
//! - `azure.rs`: component failure within 24 h on the Azure PdM tables, precision and recall.
//! - `windows.rs`: maintenance windows over a horizon (MILP under the `milp` feature, a greedy
//!   heuristic, an independent checker).
//!
//! The crate does no I/O beyond reading the data files it is pointed at.

pub mod azure;
pub mod boost;
pub mod cmapss;
pub mod windows;
