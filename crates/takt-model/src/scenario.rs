//! The scenario file as written: named, nested, human-facing. [`crate::compile`] checks it and turns it
//! into the index-based [`crate::Model`] the engine runs. Every struct denies unknown fields so that a
//! typo (`machnes = 2`) is an error with its location, not a silently ignored line.

use crate::distribution::DistributionSpec;
use crate::duration::Secs;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SCHEMA_VERSION: u32 = 1;

/// A whole plant: run control, products with routings, stations, buffers, crews, calendar, demand.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub schema_version: u32,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub run: RunSpec,
    pub products: Vec<ProductSpec>,
    pub stations: Vec<StationSpec>,
    #[serde(default)]
    pub buffers: Vec<BufferSpec>,
    #[serde(default)]
    pub crews: Vec<CrewSpec>,
    #[serde(default)]
    pub calendar: Option<CalendarSpec>,
    pub demand: DemandSpec,
    /// The plant's stop reason codes in words, as its events send them (`E1043 = "bottle jam at
    /// the infeed star"`): the line board, the shift report and the stops show the words. takt's
    /// own codes (`no_input`, `output_full`, ...) have words built in, which this may replace.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stop_reasons: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// Simulated time span, counted from t = 0.
    pub horizon: Secs,
    /// Statistics are discarded up to this time.
    #[serde(default)]
    pub warmup: Secs,
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default = "one")]
    pub replications: u32,
    /// Local date and time of t = 0, with its UTC offset (TOML offset date-time). It places the shift
    /// calendar in the week and stamps traces. Default: Monday 2026-01-05T00:00:00Z.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub start: Option<toml::value::Datetime>,
}

fn default_seed() -> u64 {
    1
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductSpec {
    pub name: String,
    pub routing: Vec<OperationSpec>,
}

/// One step of a routing, done at one station or at any of a group of alternative stations.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationSpec {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub station: Option<String>,
    /// Alternatives: the part goes to the one with the most free room in its input buffer.
    #[serde(default)]
    pub stations: Option<Vec<String>>,
    pub process_time: DistributionSpec,
    /// Probability that a processed part is scrapped here.
    #[serde(default)]
    pub scrap: f64,
    /// Probability that a processed part must repeat this operation at once (rework).
    #[serde(default)]
    pub rework: f64,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DispatchRule {
    /// First in, first out.
    #[default]
    Fifo,
    /// Earliest due date first (parts without a due date last, FIFO among equals).
    Edd,
    /// Shortest mean processing time of the waiting part's operation first.
    Spt,
    /// A part of the product the machine last ran, if one waits (saves changeovers); else FIFO.
    SameProduct,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum IdealCycleSpec {
    All(Secs),
    PerProduct(BTreeMap<String, Secs>),
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StationSpec {
    pub name: String,
    /// Parallel identical machines.
    #[serde(default = "one")]
    pub machines: u32,
    /// The buffer this station takes its parts from; an unlimited queue when absent.
    #[serde(default)]
    pub input_buffer: Option<String>,
    #[serde(default)]
    pub dispatch: DispatchRule,
    /// ISO 22400 planned runtime per unit; defaults to the mean processing time of each operation.
    #[serde(default)]
    pub ideal_cycle_time: Option<IdealCycleSpec>,
    #[serde(default)]
    pub power_kw: PowerSpec,
    #[serde(default)]
    pub changeover: Option<ChangeoverSpec>,
    #[serde(default)]
    pub failures: Vec<FailureModeSpec>,
    #[serde(default)]
    pub maintenance: Option<MaintenanceSpec>,
    /// Whether the shift calendar applies (false: runs around the clock, e.g. a furnace).
    #[serde(default = "yes")]
    pub follows_calendar: bool,
}

/// Electrical power drawn per machine in each state, kW.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PowerSpec {
    #[serde(default)]
    pub processing: f64,
    #[serde(default)]
    pub setup: f64,
    /// Starved or blocked.
    #[serde(default)]
    pub idle: f64,
    #[serde(default)]
    pub down: f64,
    #[serde(default)]
    pub planned_down: f64,
    #[serde(default)]
    pub off: f64,
}

/// Sequence-dependent setups: `matrix` entries first, `default` for any other product change.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeoverSpec {
    pub default: DistributionSpec,
    #[serde(default)]
    pub matrix: Vec<ChangeoverEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeoverEntry {
    pub from: String,
    pub to: String,
    pub time: DistributionSpec,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FailureBasis {
    /// Age grows whenever the machine is not down (idle and off-shift included).
    #[default]
    Calendar,
    /// Age grows only while processing.
    Operating,
    /// Age is the number of completed cycles; `ttf` is then a count.
    Cycles,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FailureModeSpec {
    pub name: String,
    #[serde(default)]
    pub basis: FailureBasis,
    /// Time (or cycles, with basis = "cycles") to failure, counted from the end of the last repair.
    pub ttf: DistributionSpec,
    /// Time to repair, counted from when a crew member starts.
    pub ttr: DistributionSpec,
    /// Repair crew needed; repairs wait in line when all members are busy.
    #[serde(default)]
    pub crew: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceSpec {
    /// Time between two planned maintenances; give either this or `at`.
    #[serde(default)]
    pub interval: Option<Secs>,
    /// Planned starts from t = 0 (a maintenance plan), instead of an interval.
    #[serde(default)]
    pub at: Vec<Secs>,
    pub duration: DistributionSpec,
    /// Time of the first maintenance with an interval; default one interval after t = 0.
    #[serde(default)]
    pub first: Option<Secs>,
    #[serde(default)]
    pub crew: Option<String>,
    /// Whether maintenance restores every failure mode to as good as new.
    #[serde(default = "yes")]
    pub renews: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BufferSpec {
    pub name: String,
    /// Places; unlimited when absent. A full buffer blocks the upstream machine (blocking after service).
    #[serde(default)]
    pub capacity: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CrewSpec {
    pub name: String,
    pub count: u32,
}

/// Weekly shift pattern in the plant's local time. Time outside shifts and inside breaks is off-shift:
/// excluded from planned busy time.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    pub shifts: Vec<ShiftSpec>,
    #[serde(default)]
    pub breaks: Vec<BreakSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// `"mon-fri"`, `"sat,sun"`, `"daily"`.
    pub days: String,
    /// `"06:00"`; a shift whose end is before its start runs past midnight.
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakSpec {
    pub days: String,
    pub start: String,
    pub duration: Secs,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DemandSpec {
    #[serde(default)]
    pub arrivals: Option<ArrivalSpec>,
    #[serde(default)]
    pub orders: Vec<OrderSpec>,
    /// A CSV file of orders beside the scenario: columns id,product,quantity,release,due.
    #[serde(default)]
    pub orders_csv: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArrivalSpec {
    pub interarrival: DistributionSpec,
    /// Product name -> relative weight.
    pub mix: BTreeMap<String, f64>,
    /// Due date of each arriving part, counted from its arrival.
    #[serde(default)]
    pub due_in: Option<Secs>,
    /// No arrivals after this time.
    #[serde(default)]
    pub until: Option<Secs>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderSpec {
    pub id: String,
    pub product: String,
    pub quantity: u32,
    /// Release time, from t = 0.
    #[serde(default)]
    pub release: Secs,
    /// Due date, from t = 0.
    #[serde(default)]
    pub due: Option<Secs>,
    /// Weight of the order's tardiness when scheduling (default 1; higher is more important).
    #[serde(default = "default_priority")]
    pub priority: f64,
}

fn default_priority() -> f64 {
    1.0
}

/// The JSON Schema of a scenario file (draft 2020-12), generated from these types: editors that
/// read TOML through a schema (taplo, Even Better TOML) check a file as it is typed. Durations and
/// distributions take both their forms; `start` is a TOML date-time (a string in JSON).
pub fn schema() -> schemars::Schema {
    let mut schema = schemars::schema_for!(Scenario);
    schema.insert(
        "$id".into(),
        "https://takt.invalid/schemas/scenario.schema.json".into(),
    );
    schema.insert("title".into(), "takt scenario".into());
    schema
}
