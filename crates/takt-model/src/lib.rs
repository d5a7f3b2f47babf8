//! takt's plant model: the scenario file format, its loading with located diagnostics, its validation,
//! and the probability distributions it uses. No simulation happens here; `takt-sim` runs a [`Model`].

pub mod compile;
pub mod distribution;
pub mod duration;
pub mod fit;
pub mod layout;
pub mod limits;
pub mod load;
pub mod model;
pub mod order_book;
pub mod override_paths;
pub mod overrides;
pub mod quantity;
pub mod scenario;
pub mod shift;
pub mod stop_reasons;
pub mod time;

pub use compile::{ScenarioFinding, compile};
pub use distribution::{DistributionSpec, Sampler};
pub use duration::{Secs, parse_duration};
pub use limits::RunLimits;
pub use load::{
    Diagnostic, Loaded, ScenarioError, compile_located, load_file, load_str, parse_scenario,
};
pub use model::*;
pub use overrides::{Override, load_with_overrides, parse_override};
pub use scenario::*;
pub use shift::{ShiftClock, ShiftWindow};
