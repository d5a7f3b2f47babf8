//! The sizes takt accepts. Every scenario, whether read from a file or sent over HTTP, is held to
//! them when it is checked, so that no plant file can make a run take unbounded memory or time; a
//! run in progress is held to [`RunLimits`](crate::limits::RunLimits)' budgets as well (by the
//! engine). ARCHITECTURE.md ("Limits and trust boundaries") lists them with their values.

/// The longest name a plant's data may carry, in bytes (UTF-8): an event's asset, product, stop
/// reason, signal or alarm code (`takt_twin::event`), an order's id, a stop reason's code in the
/// scenario's `[stop_reasons]`.
pub const MAX_NAME_BYTES: usize = 256;

/// The longest duration any field may hold: 1,000 years (a Julian year is 365.25 days), room for a
/// time to failure that stands for "practically never". Longer is an error when the text is parsed,
/// before anything runs.
pub const MAX_DURATION_S: f64 = 1000.0 * 365.25 * 86_400.0;
/// Stations in one plant.
pub const MAX_STATIONS: usize = 10_000;
/// Parallel machines at one station.
pub const MAX_MACHINES_PER_STATION: u32 = 1_000;
/// Machines in one plant, all stations together.
pub const MAX_MACHINES: u64 = 100_000;
/// Buffers, products, crews, the calendar's shifts and breaks: each list.
pub const MAX_LIST_ITEMS: usize = 10_000;
/// Operations on one product's routing.
pub const MAX_ROUTING_STEPS: usize = 1_000;
/// Failure modes of one station.
pub const MAX_FAILURE_MODES: usize = 100;
/// Members of one crew.
pub const MAX_CREW_MEMBERS: u32 = 100_000;
/// Orders in one order book (inline and CSV together).
pub const MAX_ORDERS: usize = 100_000;
/// Pieces of one order.
pub const MAX_ORDER_QUANTITY: u32 = 10_000_000;
/// Pieces released over one horizon: the orders' quantities plus the arrivals expected from the
/// interarrival time's mean. A run handles a few events per piece; 100 million pieces is hours of
/// work for one replication.
pub const MAX_PIECES_RELEASED: f64 = 1e8;
/// Replications a scenario may ask for.
pub const MAX_REPLICATIONS: u32 = 10_000;

/// What one simulation run may use before it is stopped with an error (see
/// `takt_sim::Simulation::run_guarded`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunLimits {
    /// Events handled by one replication.
    pub max_events: u64,
    /// Parts in the plant at once (work in progress): the memory a run holds grows with it, about
    /// 100 bytes a part.
    pub max_parts_in_plant: u64,
}

impl Default for RunLimits {
    /// 2 billion events (about half an hour of one core) and 10 million parts in the plant (about
    /// 1 GB).
    fn default() -> Self {
        RunLimits {
            max_events: 2_000_000_000,
            max_parts_in_plant: 10_000_000,
        }
    }
}

use crate::compile::ScenarioFinding;
use crate::scenario::Scenario;

/// A size past one of takt's documented limits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LimitError(pub String);

/// Every size of the scenario against its limit; the problems name the field.
pub(crate) fn check(s: &Scenario) -> Vec<ScenarioFinding> {
    let mut problems = Vec::new();
    let mut push = |path: String, message: String| problems.push(ScenarioFinding { path, message });
    let list = |push: &mut dyn FnMut(String, String), path: &str, len: usize, max: usize| {
        if len > max {
            push(
                path.into(),
                format!("{len} items; takt accepts at most {max}"),
            );
        }
    };
    list(&mut push, "stations", s.stations.len(), MAX_STATIONS);
    list(&mut push, "products", s.products.len(), MAX_LIST_ITEMS);
    list(&mut push, "buffers", s.buffers.len(), MAX_LIST_ITEMS);
    list(&mut push, "crews", s.crews.len(), MAX_LIST_ITEMS);
    if let Some(c) = &s.calendar {
        list(&mut push, "calendar.shifts", c.shifts.len(), MAX_LIST_ITEMS);
        list(&mut push, "calendar.breaks", c.breaks.len(), MAX_LIST_ITEMS);
    }
    list(
        &mut push,
        "demand.orders",
        s.demand.orders.len(),
        MAX_ORDERS,
    );
    if s.run.replications > MAX_REPLICATIONS {
        push(
            "run.replications".into(),
            format!(
                "{} replications; takt accepts at most {MAX_REPLICATIONS}",
                s.run.replications
            ),
        );
    }
    let mut machines = 0u64;
    for (i, st) in s.stations.iter().enumerate() {
        machines += u64::from(st.machines);
        if st.machines > MAX_MACHINES_PER_STATION {
            push(
                format!("stations[{i}].machines"),
                format!(
                    "{} machines; a station may have at most {MAX_MACHINES_PER_STATION}",
                    st.machines
                ),
            );
        }
        list(
            &mut push,
            &format!("stations[{i}].failures"),
            st.failures.len(),
            MAX_FAILURE_MODES,
        );
    }
    if machines > MAX_MACHINES {
        push(
            "stations".into(),
            format!("{machines} machines in all; a plant may have at most {MAX_MACHINES}"),
        );
    }
    for (i, p) in s.products.iter().enumerate() {
        list(
            &mut push,
            &format!("products[{i}].routing"),
            p.routing.len(),
            MAX_ROUTING_STEPS,
        );
    }
    for (i, c) in s.crews.iter().enumerate() {
        if c.count > MAX_CREW_MEMBERS {
            push(
                format!("crews[{i}].count"),
                format!(
                    "{} members; a crew may have at most {MAX_CREW_MEMBERS}",
                    c.count
                ),
            );
        }
    }
    let mut pieces = 0.0;
    for (i, o) in s.demand.orders.iter().enumerate() {
        pieces += f64::from(o.quantity);
        if o.quantity > MAX_ORDER_QUANTITY {
            push(
                format!("demand.orders[{i}].quantity"),
                format!(
                    "{} pieces; an order may have at most {MAX_ORDER_QUANTITY}",
                    o.quantity
                ),
            );
        }
    }
    if let Some(a) = &s.demand.arrivals {
        let mean = a.interarrival.mean();
        let span = a
            .until
            .map_or(s.run.horizon.0, |u| u.0.min(s.run.horizon.0));
        if mean > 0.0 && mean.is_finite() {
            let expected = span / mean;
            pieces += expected;
            if expected > MAX_PIECES_RELEASED {
                push(
                    "demand.arrivals.interarrival".into(),
                    format!(
                        "a part every {mean:.3e} s over {span:.0} s is {expected:.3e} parts; takt \
                         releases at most {MAX_PIECES_RELEASED:.0e} over a horizon"
                    ),
                );
                return problems;
            }
        }
    }
    if pieces > MAX_PIECES_RELEASED {
        push(
            "demand".into(),
            format!(
                "{pieces:.3e} pieces released over the horizon; takt releases at most \
                 {MAX_PIECES_RELEASED:.0e}"
            ),
        );
    }
    problems
}

/// Checks a compiled model run to `horizon_s` (a horizon given on the command line or in a
/// request, past the scenario's own check) against [`MAX_PIECES_RELEASED`].
pub fn check_horizon(model: &crate::model::Model, horizon_s: f64) -> Result<(), LimitError> {
    check_horizon_message(model, horizon_s).map_err(LimitError)
}

fn check_horizon_message(model: &crate::model::Model, horizon_s: f64) -> Result<(), String> {
    let mut pieces: f64 = model.orders.iter().map(|o| f64::from(o.quantity)).sum();
    if let Some(a) = &model.arrivals
        && a.mean_interarrival_s > 0.0
    {
        let span = a.until_s.map_or(horizon_s, |u| u.min(horizon_s));
        pieces += span / a.mean_interarrival_s;
    }
    if pieces > MAX_PIECES_RELEASED {
        return Err(format!(
            "over a horizon of {horizon_s:.0} s the plant releases about {pieces:.3e} pieces; takt \
             releases at most {MAX_PIECES_RELEASED:.0e} over a horizon"
        ));
    }
    Ok(())
}
