//! takt's discrete-event engine. Machines, buffers, parts, orders and crews are bevy_ecs entities; an
//! event calendar beside the World drives them. The core does no I/O, never reads the wall clock, and
//! draws randomness only from streams seeded by the run's seed.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # fn demo(model: takt_model::Model) {
//! let mut sim = takt_sim::Simulation::new(Arc::new(model), 42);
//! sim.run_until(3600.0);            // step
//! let snapshot = sim.snapshot();    // fork the plant as it is now
//! sim.run();                        // on to the horizon
//! let report = sim.report();        // ISO 22400 KPIs
//! # }
//! ```

pub mod components;
pub mod condition;
pub mod deadlock;
pub mod engine;
pub mod guard;
pub mod kpi;
mod lookup;
pub mod part_queue;
pub mod plan;
pub mod replicate;
pub mod rng;
pub mod snapshot;
pub mod summary;
pub mod trace;

pub use components::MachineState;
pub use condition::{ConditionError, PlantCondition};
pub use deadlock::Deadlock;
pub use engine::{SimEvent, Simulation};
pub use guard::RunStopped;
pub use kpi::{Report, StateFractions, StationReport};
pub use plan::{Plan, PlanError};
pub use replicate::{mean_ci95, quantile, run_one, run_replications};
pub use snapshot::{Snapshot, SnapshotError};
pub use summary::{IntervalEstimate, ReplicatedReport, summarize};
pub use trace::{TraceKind, TraceRecord, TraceSink, VecSink};
