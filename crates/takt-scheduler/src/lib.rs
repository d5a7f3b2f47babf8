//! Production scheduling for takt: the shop problem (jobs of operations, each on one of several
//! eligible machines, with sequence-dependent setups, release and due dates, and machine
//! unavailability), readers for the classic benchmark formats, an independent feasibility checker,
//! a decoder from machine sequences to start times, a dispatching heuristic for an instant first
//! answer, and a tabu search over the critical path for makespan.
//!
//! Front-ends call [`planning::schedule_plant`] or [`planning::schedule_instance`]: one typed
//! request and result for the CLI and the API. What is left: `PLAN.md` at the repository's root.

#[cfg(feature = "milp")]
pub mod aggregate;
pub mod bounds;
pub mod check;
pub mod decode;
pub mod dispatch;
pub mod gantt;
pub mod instances;
#[cfg(feature = "milp")]
pub mod milp;
pub mod objective;
pub mod planning;
pub mod plant;
pub mod problem;
pub mod robustness;
pub mod tabu;

pub use check::{Violation, check};
pub use decode::{Solution, decode};
pub use problem::{
    Job, Operation, ProblemError, Schedule, ScheduledOp, SetupTable, Setups, ShopProblem,
};
