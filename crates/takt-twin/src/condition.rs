//! The mirrored plant read as a simulator starting state ([`condition_of`]), the first step of a
//! forecast. Machines tell their state, what they do with their part and for how long, and the
//! ages of their failure modes directly. Buffers and orders are not sensed by machine events, so
//! they are inferred by conservation along each product's routing: parts in front of a step =
//! parts that came out of the step before (or were released, for the first step) - parts the
//! step's machines finished or hold. This assumes the history starts with the plant empty at the
//! scenario's t = 0 (a shift that starts empty, or a recording from start-up); parts are assigned
//! to orders first released, first served, as FIFO buffers do. What could not be inferred exactly
//! is said in the warnings.
//!
//! The steps, in order: [`read_machines`] (state, stop, work in hand, ages, lifetime counts),
//! [`Balance::new`] (parts per product and step), [`Balance::settle_held`] (the product of a held
//! part no event named), [`OrderQueue`] (orders first released, first served) with
//! [`Balance::departed`] (the parts that left, per order) and [`Balance::queue`] (held and waiting
//! parts, from the last step back).

use crate::event::StateCode;
use crate::forecast::ForecastError;
use crate::mirror::{AgeBasis, AssetState};
use crate::orders::{BookedOrders, OrderBook};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use takt_model::model::Station;
use takt_model::time::format_utc_ms;
use takt_model::{FailureBasis, Model};
use takt_sim::PlantCondition;
use takt_sim::condition::{
    BufferCondition, HeldPart, MachineCondition, OrderCondition, QueuedPart, Stop, Work,
};

mod levels;
pub use levels::{BufferLevel, BufferLevels, buffer_levels};

/// Every machine's failure-mode ages at `now_ms` as the mirror has them (per machine name, then
/// mode name, in the mode's basis), for machines the twin has seen.
pub fn failure_ages(
    model: &Model,
    view: &BTreeMap<String, AssetState>,
    now_ms: i64,
) -> BTreeMap<String, BTreeMap<String, f64>> {
    let mut ages = BTreeMap::new();
    for st in &model.stations {
        for k in 0..st.machines {
            let name = st.machine_name(k);
            if let Some(asset) = view.get(&name) {
                ages.insert(name, mode_ages(st, asset, now_ms));
            }
        }
    }
    ages
}

/// The ages of `station`'s failure modes on `asset` at `now_ms`, each in its mode's basis.
fn mode_ages(station: &Station, asset: &AssetState, now_ms: i64) -> BTreeMap<String, f64> {
    station
        .failure_modes
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                asset.failure_age(&f.name, age_basis(f.basis), now_ms),
            )
        })
        .collect()
}

/// How the mirror ages a failure mode counted in the model's basis.
pub fn age_basis(b: FailureBasis) -> AgeBasis {
    match b {
        FailureBasis::Calendar => AgeBasis::Calendar,
        FailureBasis::Operating => AgeBasis::Operating,
        FailureBasis::Cycles => AgeBasis::Cycles,
    }
}

/// A held part as read from the mirror, before its product and order are settled.
struct Held {
    machine: usize,
    station: usize,
    product: Option<usize>,
    work: Work,
}

/// What the inference works from: the model, the moment, and what it had to assume so far.
struct Reading<'a> {
    model: &'a Model,
    /// With a live order book: what was done before it was given.
    baseline: Option<Baseline<'a>>,
    view: &'a BTreeMap<String, AssetState>,
    now_ms: i64,
    now_s: f64,
    product_index: BTreeMap<&'a str, usize>,
    warnings: BTreeSet<String>,
}

/// What the plant had done when a live order book was given (`crate::orders`).
#[derive(Clone, Copy)]
struct Baseline<'a> {
    /// Per order: pieces finished before, `[good, scrap]`.
    done: &'a [[u32; 2]],
    /// Per product: `[good, scrap]` out of the plant before.
    departed_before: &'a [[u64; 2]],
}

impl Reading<'_> {
    /// Pieces of order `oi` finished before the book was given, `[good, scrap]`.
    fn done_before(&self, oi: usize) -> [u32; 2] {
        self.baseline
            .and_then(|b| b.done.get(oi).copied())
            .unwrap_or_default()
    }

    /// Pieces of order `oi` left to finish after what it did before the book was given.
    fn left_of(&self, oi: usize) -> u32 {
        let [good, scrap] = self.done_before(oi);
        self.model.orders[oi]
            .quantity
            .saturating_sub(good.saturating_add(scrap))
    }

    /// `[good, scrap]` of product `p` out of the plant before the book was given.
    fn departed_before(&self, p: usize) -> [u64; 2] {
        self.baseline
            .and_then(|b| b.departed_before.get(p).copied())
            .unwrap_or_default()
    }

    /// Model seconds of a Unix time, within the run so far (none of it when now is before the
    /// scenario's start: a book given to a twin without events, by a clock before `[run] start`).
    fn to_s(&self, ms: i64) -> f64 {
        self.model
            .timebase
            .model_s(ms)
            .clamp(0.0, self.now_s.max(0.0))
    }

    fn product(&self, name: &Option<String>) -> Option<usize> {
        name.as_deref()
            .and_then(|n| self.product_index.get(n).copied())
    }
}

/// The machines as the mirror has them, in the simulator's order.
struct Machines {
    conditions: Vec<MachineCondition>,
    /// The station of each machine.
    station: Vec<usize>,
    /// Lifetime pieces (good, scrap, rework) per product index, per machine.
    lifetime: Vec<BTreeMap<usize, [u64; 3]>>,
    held: Vec<Held>,
}

/// The mirrored plant at `now_ms` as a simulator starting state, with what had to be assumed; the
/// scenario's own orders.
pub fn condition_of(
    model: &Model,
    view: &BTreeMap<String, AssetState>,
    now_ms: i64,
) -> Result<(PlantCondition, Vec<String>), ForecastError> {
    infer(model, None, view, now_ms)
}

/// [`condition_of`] with a live order book's orders (`booked.model`): the pieces that left the
/// plant since the book was given are counted against its orders, after what each had done.
pub fn condition_with_book(
    booked: &BookedOrders,
    view: &BTreeMap<String, AssetState>,
    now_ms: i64,
) -> Result<(PlantCondition, Vec<String>), ForecastError> {
    let baseline = Baseline {
        done: &booked.done,
        departed_before: &booked.departed_before,
    };
    infer(&booked.model, Some(baseline), view, now_ms)
}

/// The mirrored plant at one moment as a simulator starting state, in the model whose orders it
/// counts.
pub struct Observed {
    /// The scenario's model, or, with a live order book, the scenario with the book's orders in
    /// place of its own: runs from `condition` run in it.
    pub model: Arc<Model>,
    pub condition: PlantCondition,
    /// What had to be assumed.
    pub warnings: Vec<String>,
}

/// [`condition_of`], or [`condition_with_book`] with the live order `book` if one was given, with
/// the model runs from it take: what a forecast or a comparison of maintenance policies starts from.
pub fn observe(
    model: &Arc<Model>,
    view: &BTreeMap<String, AssetState>,
    now_ms: i64,
    book: Option<&OrderBook>,
) -> Result<Observed, ForecastError> {
    let (model, (condition, warnings)) = match book {
        Some(book) => {
            let booked = book.booked(model)?;
            let observed = condition_with_book(&booked, view, now_ms)?;
            (booked.model, observed)
        }
        None => (Arc::clone(model), condition_of(model, view, now_ms)?),
    };
    Ok(Observed {
        model,
        condition,
        warnings,
    })
}

/// Per product, the pieces out of the plant in the mirrored `view`: `[good, scrap]`, good out of
/// the product's last step and scrap from any (what a live order book notes when it is given).
pub fn departed_by_product(
    model: &Model,
    view: &BTreeMap<String, AssetState>,
    now_ms: i64,
) -> BTreeMap<String, [u64; 2]> {
    let mut reading = Reading::new(model, None, view, now_ms);
    let machines = read_machines(&mut reading);
    let balance = Balance::new(&mut reading, &machines);
    model
        .products
        .iter()
        .enumerate()
        .map(|(p, product)| (product.name.clone(), balance.out_of_plant(p)))
        .collect()
}

fn infer(
    model: &Model,
    baseline: Option<Baseline>,
    view: &BTreeMap<String, AssetState>,
    now_ms: i64,
) -> Result<(PlantCondition, Vec<String>), ForecastError> {
    let start_ms = model.timebase.start_ms();
    if now_ms < start_ms {
        return Err(ForecastError::BeforeStart {
            now: format_utc_ms(now_ms),
            start: format_utc_ms(start_ms),
        });
    }
    let mut reading = Reading::new(model, baseline, view, now_ms);
    let mut machines = read_machines(&mut reading);
    let mut balance = Balance::new(&mut reading, &machines);
    balance.settle_held(&mut reading, &mut machines);
    let mut orders = OrderQueue::new(&reading);
    let (mut done, last_out) = balance.departed(&reading, &machines, &mut orders);
    let buffers = balance.queue(&mut reading, &mut machines, &mut orders);
    // What a live book's orders had done before it was given.
    for (oi, o) in model.orders.iter().enumerate() {
        let [good, scrap] = reading.done_before(oi);
        if good + scrap > 0 && o.release_s <= reading.now_s {
            let e = done.entry(oi).or_default();
            e.0 += u64::from(good);
            e.1 += u64::from(scrap);
        }
    }
    let orders = done
        .into_iter()
        .map(|(oi, (good, scrap))| OrderCondition {
            order: model.orders[oi].id.clone(),
            good: good as u32,
            scrap: scrap as u32,
            // Known when its last part is the last that left (else it finished at some earlier,
            // unrecorded moment).
            completed_at_s: (good + scrap == u64::from(model.orders[oi].quantity))
                .then(|| last_out.get(&oi).copied())
                .flatten(),
        })
        .collect();
    Ok((
        PlantCondition {
            now_s: reading.now_s,
            machines: machines.conditions,
            buffers,
            orders,
        },
        reading.warnings.into_iter().collect(),
    ))
}

impl<'a> Reading<'a> {
    fn new(
        model: &'a Model,
        baseline: Option<Baseline<'a>>,
        view: &'a BTreeMap<String, AssetState>,
        now_ms: i64,
    ) -> Reading<'a> {
        Reading {
            model,
            baseline,
            view,
            now_ms,
            now_s: model.timebase.model_s(now_ms),
            product_index: model
                .products
                .iter()
                .enumerate()
                .map(|(i, p)| (p.name.as_str(), i))
                .collect(),
            warnings: BTreeSet::new(),
        }
    }
}

/// Step 1: every machine the twin has seen, with its stop, the work in its hands, its failure
/// ages and its lifetime counts per product.
fn read_machines(r: &mut Reading) -> Machines {
    let model = r.model;
    let mut out = Machines {
        conditions: Vec::new(),
        station: Vec::new(),
        lifetime: Vec::new(),
        held: Vec::new(),
    };
    for (si, st) in model.stations.iter().enumerate() {
        for k in 0..st.machines {
            let name = st.machine_name(k);
            let Some(a) = r.view.get(&name) else { continue };
            let mut counts = BTreeMap::new();
            for (p, c) in &a.lifetime_by_product {
                match r.product_index.get(p.as_str()) {
                    Some(&pi) => {
                        counts.insert(pi, *c);
                    }
                    None => {
                        r.warnings.insert(format!(
                            "{name}: {} pieces of unknown product `{p}` are not in the balance",
                            c[0] + c[1] + c[2]
                        ));
                    }
                }
            }
            let stop = stop_of(r, &name, si, a);
            let elapsed_s = a.activity_elapsed_ms(r.now_ms) as f64 / 1000.0;
            let work = match a.activity {
                Some(StateCode::Running) => Some(Work::Processing { elapsed_s }),
                Some(StateCode::Setup) => Some(Work::Setup { elapsed_s }),
                Some(StateCode::Blocked) => Some(Work::Blocked),
                _ => None,
            };
            let made_here = |p: usize| {
                model.products[p]
                    .routing
                    .iter()
                    .any(|op| op.stations.contains(&si))
            };
            if let Some(work) = work {
                out.held.push(Held {
                    machine: out.conditions.len(),
                    station: si,
                    product: r.product(&a.part_product).filter(|&p| made_here(p)),
                    work,
                });
            }
            out.conditions.push(MachineCondition {
                machine: name,
                last_product: r
                    .product(&a.last_product)
                    .map(|p| model.products[p].name.clone()),
                part: None,
                stop,
                failure_ages: mode_ages(st, a, r.now_ms),
            });
            out.station.push(si);
            out.lifetime.push(counts);
        }
    }
    out
}

/// A machine's stop as the simulator knows stops: down for one of its station's failure modes,
/// or in planned maintenance.
fn stop_of(r: &mut Reading, name: &str, si: usize, a: &AssetState) -> Option<Stop> {
    let st = &r.model.stations[si];
    let since_s = r.to_s(a.since_ms.unwrap_or(r.now_ms));
    match a.state {
        StateCode::UnplannedDown => {
            let mode = st
                .failure_modes
                .iter()
                .find(|f| f.name == a.reason)
                .or_else(|| st.failure_modes.first());
            match mode {
                Some(f) => {
                    if f.name != a.reason {
                        r.warnings.insert(format!(
                            "{name}: down for `{}`, not a failure mode of `{}`: taken as `{}`",
                            a.reason, st.name, f.name
                        ));
                    }
                    Some(Stop::Down {
                        mode: f.name.clone(),
                        since_s,
                    })
                }
                None => {
                    r.warnings.insert(format!(
                        "{name}: down, but `{}` has no failure modes: taken as up",
                        st.name
                    ));
                    None
                }
            }
        }
        StateCode::PlannedDown if st.maintenance.is_some() => Some(Stop::PlannedDown { since_s }),
        StateCode::PlannedDown => {
            r.warnings.insert(format!(
                "{name}: in planned downtime, but `{}` has no planned maintenance: taken as up",
                st.name
            ));
            None
        }
        _ => None,
    }
}

/// Parts per product and routing step, by conservation.
struct Balance<'a> {
    model: &'a Model,
    /// Pieces (good, scrap) finished by each step's machines, per product.
    finished: Vec<Vec<(u64, u64)>>,
    /// Parts in front of each step (not yet counting held parts of unknown product).
    level: Vec<Vec<i64>>,
}

impl<'a> Balance<'a> {
    /// Step 2: what came in minus what was finished or is held, per product and step.
    fn new(r: &mut Reading<'a>, m: &Machines) -> Balance<'a> {
        let model = r.model;
        let n_products = model.products.len();
        let finished: Vec<Vec<(u64, u64)>> = (0..n_products)
            .map(|p| {
                model.products[p]
                    .routing
                    .iter()
                    .map(|op| {
                        let (mut g, mut s) = (0, 0);
                        for (mi, si) in m.station.iter().enumerate() {
                            if op.stations.contains(si)
                                && let Some(c) = m.lifetime[mi].get(&p)
                            {
                                g += c[0];
                                s += c[1];
                            }
                        }
                        (g, s)
                    })
                    .collect()
            })
            .collect();
        for p in 0..n_products {
            let mut seen = BTreeSet::new();
            for op in &model.products[p].routing {
                for &s in &op.stations {
                    if !seen.insert(s) {
                        r.warnings.insert(format!(
                            "product `{}` visits `{}` twice: its counts there are shared between steps",
                            model.products[p].name, model.stations[s].name
                        ));
                    }
                }
            }
        }
        if model.arrivals.is_some() {
            r.warnings.insert(
                "parts from random arrivals are not sensed: the first buffers hold only order parts"
                    .into(),
            );
        }
        let level = (0..n_products)
            .map(|p| {
                // With a live book: what had left before it, and what its orders had left to do.
                let [good_before, scrap_before] = r.departed_before(p);
                let released: u64 = model
                    .orders
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| o.product == p && o.release_s <= r.now_s)
                    .map(|(oi, _)| u64::from(r.left_of(oi)))
                    .sum::<u64>()
                    + good_before
                    + scrap_before;
                (0..finished[p].len())
                    .map(|k| {
                        let inflow = if k == 0 {
                            released
                        } else {
                            finished[p][k - 1].0
                        };
                        let (g, s) = finished[p][k];
                        inflow as i64 - (g + s) as i64
                    })
                    .collect()
            })
            .collect();
        let mut balance = Balance {
            model,
            finished,
            level,
        };
        for h in &m.held {
            if let Some(p) = h.product
                && let Some(k) = balance.step_at(p, h.station)
            {
                balance.level[p][k] -= 1;
            }
        }
        balance
    }

    /// `[good, scrap]` of product `p` out of the plant: good from its last step, scrap from any.
    fn out_of_plant(&self, p: usize) -> [u64; 2] {
        let good = self.finished[p].last().map_or(0, |f| f.0);
        [good, self.finished[p].iter().map(|f| f.1).sum()]
    }

    /// The step of product `p` station `si` does (its first).
    fn step_at(&self, p: usize, si: usize) -> Option<usize> {
        self.model.products[p]
            .routing
            .iter()
            .position(|op| op.stations.contains(&si))
    }

    /// Step 3: held parts of unknown product. The same product as before if it still waits and no
    /// changeover happened, else the waiting product of the earliest released order.
    fn settle_held(&mut self, r: &mut Reading, m: &mut Machines) {
        let model = self.model;
        let release_rank = |p: usize| {
            model
                .orders
                .iter()
                .enumerate()
                .filter(|(_, o)| o.product == p && o.release_s <= r.now_s)
                .map(|(i, o)| (o.release_s, i))
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                .map_or((f64::MAX, usize::MAX), |r| r)
        };
        for h in m.held.iter_mut().filter(|h| h.product.is_none()) {
            let waiting: Vec<usize> = (0..model.products.len())
                .filter(|&p| {
                    self.step_at(p, h.station)
                        .is_some_and(|k| self.level[p][k] > 0)
                })
                .collect();
            let last = r.product(&m.conditions[h.machine].last_product);
            let choice = match (h.work, last) {
                (Work::Processing { .. } | Work::Blocked, Some(l)) if waiting.contains(&l) => {
                    Some(l)
                }
                _ => waiting
                    .iter()
                    .copied()
                    .filter(|&p| Some(p) != last || waiting.len() == 1)
                    .min_by(|&a, &b| {
                        let (ra, rb) = (release_rank(a), release_rank(b));
                        ra.0.total_cmp(&rb.0).then(ra.1.cmp(&rb.1))
                    })
                    .or(last),
            };
            match choice {
                Some(p) => {
                    if let Some(k) = self.step_at(p, h.station) {
                        self.level[p][k] -= 1;
                    }
                    h.product = Some(p);
                }
                None => {
                    r.warnings.insert(format!(
                        "{}: its part's product is unknown and none waits for it: taken as free",
                        m.conditions[h.machine].machine
                    ));
                }
            }
        }
    }

    /// Step 4: the parts that left (good from the last step, scrap from any), taken from the
    /// orders first released; scrap spread over them in proportion. Per order (good, scrap), and
    /// when the order holding each product's last part out left.
    #[allow(clippy::type_complexity)]
    fn departed(
        &self,
        r: &Reading,
        m: &Machines,
        orders: &mut OrderQueue,
    ) -> (BTreeMap<usize, (u64, u64)>, BTreeMap<usize, f64>) {
        let model = self.model;
        let mut done: BTreeMap<usize, (u64, u64)> = BTreeMap::new();
        let mut last_out: BTreeMap<usize, f64> = BTreeMap::new();
        for p in 0..model.products.len() {
            let last = self.finished[p].len() - 1;
            // With a live book, only what left since it was given.
            let [good_out, scrap] = self.out_of_plant(p);
            let [good_before, scrap_before] = r.departed_before(p);
            let (good_out, scrap) = (
                good_out.saturating_sub(good_before),
                scrap.saturating_sub(scrap_before),
            );
            let departed = good_out + scrap;
            let mut scrap_left = scrap;
            let taken = orders.take(p, departed);
            if let Some(&(oi, _)) = taken.last() {
                let name = &model.products[p].name;
                let left_ms = m
                    .conditions
                    .iter()
                    .zip(&m.station)
                    .filter(|(_, si)| model.products[p].routing[last].stations.contains(si))
                    .filter_map(|(c, _)| r.view.get(&c.machine))
                    .filter_map(|a| a.last_out_ms_by_product.get(name).copied())
                    .max();
                if let Some(ms) = left_ms {
                    last_out.insert(oi, r.to_s(ms));
                }
            }
            for (oi, n) in taken {
                let s = if departed > 0 {
                    (scrap * n).div_ceil(departed).min(scrap_left).min(n)
                } else {
                    0
                };
                scrap_left -= s;
                let e = done.entry(oi).or_default();
                e.0 += n - s;
                e.1 += s;
            }
        }
        (done, last_out)
    }

    /// Step 5: per product, from the last step back, held parts first (on their machines), then
    /// waiting ones (in their step's buffers, in line as FIFO keeps them).
    fn queue(
        &self,
        r: &mut Reading,
        m: &mut Machines,
        orders: &mut OrderQueue,
    ) -> Vec<BufferCondition> {
        let model = self.model;
        let name_of = |oi: usize| model.orders[oi].id.clone();
        let n_products = model.products.len();
        let steps = |p: usize| self.finished[p].len();
        let mut queued: BTreeMap<usize, Vec<(usize, QueuedPart)>> = BTreeMap::new();
        let max_steps = (0..n_products).map(steps).max().unwrap_or(0);
        for k in (0..max_steps).rev() {
            for p in (0..n_products).filter(|&p| k < steps(p)) {
                for h in m
                    .held
                    .iter()
                    .filter(|h| h.product == Some(p) && self.step_at(p, h.station) == Some(k))
                {
                    let order = orders.next(p);
                    m.conditions[h.machine].part = Some(HeldPart {
                        product: model.products[p].name.clone(),
                        order: order.map(name_of),
                        step: Some(k),
                        work: h.work,
                    });
                }
                let n = self.level[p][k];
                if n < 0 {
                    r.warnings.insert(format!(
                        "product `{}` step {k}: {} more parts counted out than in: taken as none waiting",
                        model.products[p].name, -n
                    ));
                    continue;
                }
                let buffers: Vec<usize> = model.products[p].routing[k]
                    .stations
                    .iter()
                    .map(|&s| model.stations[s].input_buffer)
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                if buffers.len() > 1 && n > 0 {
                    r.warnings.insert(format!(
                        "product `{}` step {k}: waiting parts split evenly between alternative stations' buffers",
                        model.products[p].name
                    ));
                }
                for j in 0..n as usize {
                    let order = orders.next(p);
                    let rank = order.map_or(usize::MAX, |oi| oi);
                    queued.entry(buffers[j % buffers.len()]).or_default().push((
                        rank,
                        QueuedPart {
                            product: model.products[p].name.clone(),
                            order: order.map(name_of),
                            step: Some(k),
                        },
                    ));
                }
            }
        }
        let order_rank: Vec<(f64, usize)> = model
            .orders
            .iter()
            .enumerate()
            .map(|(i, o)| (o.release_s, i))
            .collect();
        let rank = |i: usize| order_rank.get(i).copied().unwrap_or((f64::MAX, usize::MAX));
        queued
            .into_iter()
            .map(|(bi, mut parts)| {
                // Earlier released orders first.
                parts.sort_by(|a, b| {
                    let (ra, rb) = (rank(a.0), rank(b.0));
                    ra.0.total_cmp(&rb.0).then(ra.1.cmp(&rb.1))
                });
                if let Some(c) = model.buffers[bi].capacity
                    && parts.len() > c as usize
                {
                    r.warnings.insert(format!(
                        "buffer `{}`: {} parts inferred, more than its capacity {c}",
                        model.buffers[bi].name,
                        parts.len()
                    ));
                }
                BufferCondition {
                    buffer: model.buffers[bi].name.clone(),
                    parts: parts.into_iter().map(|(_, q)| q).collect(),
                }
            })
            .collect()
    }
}

/// The released orders of each product, first released first served, as pieces are taken from
/// them.
struct OrderQueue {
    /// Per product: (order index, pieces not yet taken).
    units: Vec<VecDeque<(usize, u32)>>,
}

impl OrderQueue {
    /// The pieces each released order has left, after what it did before a live book was given.
    fn new(r: &Reading) -> OrderQueue {
        let (model, now_s) = (r.model, r.now_s);
        OrderQueue {
            units: (0..model.products.len())
                .map(|p| {
                    let mut os: Vec<(usize, &takt_model::Order)> = model
                        .orders
                        .iter()
                        .enumerate()
                        .filter(|(_, o)| o.product == p && o.release_s <= now_s)
                        .collect();
                    os.sort_by(|a, b| a.1.release_s.total_cmp(&b.1.release_s).then(a.0.cmp(&b.0)));
                    os.into_iter()
                        .map(|(i, _)| (i, r.left_of(i)))
                        .filter(|&(_, left)| left > 0)
                        .collect()
                })
                .collect(),
        }
    }

    /// Takes `n` pieces of product `p`: (order, pieces) in order.
    fn take(&mut self, p: usize, n: u64) -> Vec<(usize, u64)> {
        let mut out = Vec::new();
        let mut left = n;
        while left > 0 {
            let Some(front) = self.units[p].front_mut() else {
                break;
            };
            let k = u64::from(front.1).min(left);
            out.push((front.0, k));
            front.1 -= k as u32;
            left -= k;
            if front.1 == 0 {
                self.units[p].pop_front();
            }
        }
        out
    }

    /// The order of the next piece of product `p`.
    fn next(&mut self, p: usize) -> Option<usize> {
        self.take(p, 1).first().map(|(oi, _)| *oi)
    }
}
