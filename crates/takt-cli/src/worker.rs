//! `takt worker --store postgres://...`: a node of a site that runs the jobs its servers queue
//! (simulations, schedules, maintenance plans) and serves nothing.

use anyhow::{Result, bail};
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    store: crate::store_args::StoreArgs,
    #[command(flatten)]
    jobs: crate::serve::JobArgs,
    /// On Ctrl-C or SIGTERM: how long running jobs may take to finish; then they go back to the
    /// site's queue for another node.
    #[arg(long, default_value = "10s", value_parser = crate::serve::positive_duration)]
    shutdown_grace: Duration,
}

pub fn run(args: WorkerArgs) -> Result<ExitCode> {
    let Some(store) = args.store.postgres()? else {
        bail!(
            "a worker takes jobs from a site's shared store: give it --store postgres://... (or \
             TAKT_STORE), the database its servers use"
        );
    };
    // The queue's length is the servers' to bound; a worker only takes from it.
    let pool = args.jobs.pool(0, true);
    let threads = pool.workers;
    let shown = store.to_string();
    takt_api::worker::run(store, pool, args.shutdown_grace, |node| {
        println!(
            "takt worker {node}: {threads} thread(s) taking jobs from {shown}; Ctrl-C to stop"
        );
    })?;
    println!("takt worker: stopped");
    Ok(ExitCode::SUCCESS)
}
