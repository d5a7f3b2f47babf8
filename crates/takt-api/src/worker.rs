//! `takt worker`: a node of a site that runs jobs and serves nothing. It takes jobs from the
//! shared store's queue (PostgreSQL) exactly as the site's servers do (`crate::jobs`), so a site
//! adds cores for its planners' sweeps by starting workers on any machine that reaches the
//! database.

use crate::ServeError;
use crate::db::Db;
use crate::jobs::{Jobs, PoolConfig};
use std::sync::Arc;
use std::time::Duration;
use takt_twin::store::{PostgresLocation, StoreLocation};

/// Connects to the site's store, calls `ready` with this node's name, runs jobs until Ctrl-C or
/// SIGTERM, then lets the running ones finish within `grace` (what is still running after it
/// goes back to the queue for another node).
pub fn run(
    store: PostgresLocation,
    pool: PoolConfig,
    grace: Duration,
    ready: impl FnOnce(&str),
) -> Result<(), ServeError> {
    let db = Arc::new(Db::connect(
        &StoreLocation::Postgres(store),
        crate::now_ms(),
    )?);
    ready(db.node().unwrap_or("?"));
    let jobs = Jobs::start(db, pool);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| ServeError::Io {
            path: "the async runtime".into(),
            source,
        })?;
    runtime.block_on(crate::shutdown_signal());
    jobs.shutdown(grace);
    Ok(())
}
