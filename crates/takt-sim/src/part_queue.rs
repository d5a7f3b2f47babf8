//! The parts waiting in a buffer: in arrival order, with an index for the dispatching rule of the
//! stations that take from it, so that a pick costs O(log n) (earliest due date, shortest
//! processing time) or O(1) (first in first out, same product) instead of a scan of the queue.
//! The part picked is the one a scan would pick: the least key, and among equal keys the one
//! that came first (`tests` below check both against each other on random queues).
//!
//! Entries sit in slots numbered by arrival; a part taken from the middle leaves a hole (the
//! entry marked taken), dropped when it reaches the front or when holes outnumber the parts (the
//! slots are then renumbered and the index rebuilt). A queue for same product keeps its parts
//! in lanes instead, one per product ([`Lanes`]): its picks take from a lane's front and leave
//! no hole.

use crate::components::QueueEntry;
use bevy_ecs::entity::Entity;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use takt_model::DispatchRule;

#[derive(Debug, Clone, Default)]
pub struct PartQueue {
    /// Slot `i` holds the part that arrived `first + i`-th, or a hole once taken from the
    /// middle ([`TAKEN`] as its operation). A FIFO queue has none, and no index: its picks are
    /// a `VecDeque`'s. Empty in a queue for same product (its parts are in its lanes).
    slots: VecDeque<QueueEntry>,
    first: u64,
    holes: usize,
    index: Index,
    /// The parts waiting (read at every arrival and pick: one field, whatever the index).
    len: usize,
}

#[derive(Debug, Clone, Default)]
enum Index {
    #[default]
    None,
    /// (key, arrival) of every part, least first, for `rule` (EDD: the due date; SPT: the mean
    /// time). A part taken otherwise (a plan's pick, or a pick by another rule) leaves its record
    /// behind, dropped when it comes to the top or when such records outnumber the parts.
    Key {
        rule: DispatchRule,
        order: BinaryHeap<Reverse<(u64, u64)>>,
    },
    /// Same product: the parts themselves, in lanes.
    Product(Lanes),
}

/// The parts of a queue for same product, each product's in a lane of its own, oldest first, with
/// its arrival number. A pick of the last product's part takes a lane's front: it reads and
/// writes where the previous pick of that product did, and leaves no hole behind (slots in
/// arrival order, with a lane index beside them, had every such pick mark a slot in the middle,
/// and compacted the slots and rebuilt the index as holes piled up). The oldest part overall is
/// at the front of one of the lanes that hold parts, which a bit per lane tells (a record of
/// every arrival beside the lanes, as before, cost a cache line more per push and pick).
#[derive(Debug, Clone, Default)]
struct Lanes {
    /// The lane of product `first_product + i` at `i`: lanes for the span of product numbers
    /// that came to this buffer, not for every product of the plant (a buffer of one line of a
    /// plant of 400 products holds 4 lanes, not 400). Up to four in place, beside the queue's
    /// other fields: a push or a pick reads no lane header elsewhere.
    by_product: SmallVec<[Lane; 4]>,
    first_product: u32,
    /// Bit `i % 64` of word `i / 64` is set while lane `i` holds a part.
    holding: SmallVec<[u64; 1]>,
    /// The arrival number of the next part.
    next: u64,
}

/// One product's parts, oldest first, each with its arrival number.
type Lane = VecDeque<(u64, QueueEntry)>;

/// Where the part that arrived `seq`-th is in its lane (a lane is in arrival order).
fn position(lane: &Lane, seq: u64) -> Option<usize> {
    lane.binary_search_by_key(&seq, |&(s, _)| s).ok()
}

impl Lanes {
    fn push(&mut self, entry: QueueEntry) {
        let p = entry.product;
        if self.by_product.is_empty() {
            self.first_product = p;
        } else if p < self.first_product {
            // A product numbered below every one seen: the lanes shift up to make room.
            let below = (self.first_product - p) as usize;
            self.by_product
                .insert_many(0, std::iter::repeat_with(Lane::new).take(below));
            self.first_product = p;
            self.holding.clear();
            self.holding.resize(self.by_product.len().div_ceil(64), 0);
            for at in 0..self.by_product.len() {
                self.mark(at, !self.by_product[at].is_empty());
            }
        }
        let at = (p - self.first_product) as usize;
        if self.by_product.len() <= at {
            self.by_product.resize_with(at + 1, Lane::new);
            self.holding.resize(self.by_product.len().div_ceil(64), 0);
        }
        self.by_product[at].push_back((self.next, entry));
        self.next += 1;
        self.mark(at, true);
    }

    /// Sets or clears lane `at`'s bit.
    #[inline(always)]
    fn mark(&mut self, at: usize, holds: bool) {
        let (word, bit) = (at / 64, 1u64 << (at % 64));
        let bits = &mut self.holding[word];
        *bits = if holds { *bits | bit } else { *bits & !bit };
    }

    /// The lanes that hold parts.
    fn held(&self) -> impl Iterator<Item = usize> + '_ {
        self.holding.iter().enumerate().flat_map(|(word, &bits)| {
            let mut bits = bits;
            std::iter::from_fn(move || {
                let bit = bits.trailing_zeros();
                (bits != 0).then(|| {
                    bits &= bits - 1;
                    word * 64 + bit as usize
                })
            })
        })
    }

    /// The oldest part of lane `at`, if one waits.
    #[inline]
    fn take_front(&mut self, at: usize) -> Option<QueueEntry> {
        let lane = self.by_product.get_mut(at)?;
        let (_, entry) = lane.pop_front()?;
        if lane.is_empty() {
            self.mark(at, false);
        }
        Some(entry)
    }

    /// The oldest of product `p`, if one waits.
    #[inline]
    fn take_product(&mut self, p: u32) -> Option<QueueEntry> {
        self.take_front(p.wrapping_sub(self.first_product) as usize)
    }

    /// The oldest part overall: the oldest of the lanes' fronts.
    fn take_first(&mut self) -> Option<QueueEntry> {
        let at = self
            .held()
            .min_by_key(|&at| self.by_product[at].front().map(|&(seq, _)| seq))?;
        self.take_front(at)
    }

    /// Takes the part that arrived `seq`-th, wherever it waits in its lane.
    fn remove(&mut self, seq: u64) -> Option<QueueEntry> {
        let (at, i) = self
            .held()
            .find_map(|at| Some((at, position(&self.by_product[at], seq)?)))?;
        let (_, entry) = self.by_product[at].remove(i)?;
        self.mark(at, !self.by_product[at].is_empty());
        Some(entry)
    }

    /// The parts in arrival order, with their arrival numbers: the lanes' parts sorted by it
    /// (read for a snapshot or a rebuild, not for a pick).
    fn enumerate(&self) -> impl Iterator<Item = (u64, &QueueEntry)> + '_ {
        let mut all: Vec<(u64, &QueueEntry)> = self
            .by_product
            .iter()
            .flatten()
            .map(|(seq, e)| (*seq, e))
            .collect();
        all.sort_unstable_by_key(|&(seq, _)| seq);
        all.into_iter()
    }
}

/// A key's bits in an order that agrees with `<` on every number (-0 taken as 0; NaN, which no
/// entry carries, after infinity).
fn ordered(x: f64) -> u64 {
    let x = if x == 0.0 { 0.0 } else { x };
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// The operation of a hole: no routing has this many steps (`takt_model::limits`).
const TAKEN: u32 = u32::MAX;

/// The figure a rule that picks the least one compares: EDD the due date, SPT the mean time.
fn figure(rule: DispatchRule) -> fn(&QueueEntry) -> f64 {
    match rule {
        DispatchRule::Edd => |e| e.due,
        _ => |e| e.mean_s,
    }
}

fn key(rule: DispatchRule, e: &QueueEntry) -> u64 {
    ordered(figure(rule)(e))
}

impl Index {
    /// An empty index for `rule` (none for FIFO, or for several rules).
    fn empty_for(rule: Option<DispatchRule>) -> Index {
        match rule {
            Some(rule @ (DispatchRule::Edd | DispatchRule::Spt)) => Index::Key {
                rule,
                order: BinaryHeap::new(),
            },
            Some(DispatchRule::SameProduct) => Index::Product(Lanes::default()),
            Some(DispatchRule::Fifo) | None => Index::None,
        }
    }

    /// The rule it serves (`None` for FIFO, which needs none).
    fn rule(&self) -> Option<DispatchRule> {
        match self {
            Index::None => None,
            Index::Key { rule, .. } => Some(*rule),
            Index::Product(_) => Some(DispatchRule::SameProduct),
        }
    }
}

impl PartQueue {
    /// Indexes the queue for the rule of the stations that take from it (`None`: several rules,
    /// or a plan; picks then scan).
    pub fn index_for(&mut self, rule: Option<DispatchRule>) {
        if self.index.rule() == rule.filter(|&r| r != DispatchRule::Fifo) {
            return; // as it is (a copy of an indexed queue, or FIFO)
        }
        self.rebuild(rule);
    }

    /// The same parts in the same order, numbered afresh, in a queue indexed for `rule`.
    fn rebuild(&mut self, rule: Option<DispatchRule>) {
        let parts: Vec<QueueEntry> = self.iter().copied().collect();
        *self = PartQueue {
            index: Index::empty_for(rule),
            ..PartQueue::default()
        };
        self.extend(parts);
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The parts in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = &QueueEntry> {
        self.enumerate().map(|(_, e)| e)
    }

    /// The orders the parts belong to, to be renamed (a snapshot read back).
    pub fn order_entities_mut(&mut self) -> impl Iterator<Item = &mut Option<Entity>> {
        let lanes = match &mut self.index {
            Index::Product(lanes) => Some(lanes.by_product.iter_mut().flatten()),
            _ => None,
        };
        let slots = self.slots.iter_mut().filter(|e| e.operation != TAKEN);
        slots
            .chain(lanes.into_iter().flatten().map(|(_, e)| e))
            .map(|e| &mut e.order_entity)
    }

    /// The parts in arrival order, with their arrival numbers.
    fn enumerate(&self) -> Box<dyn Iterator<Item = (u64, &QueueEntry)> + '_> {
        if let Index::Product(lanes) = &self.index {
            return Box::new(lanes.enumerate());
        }
        let first = self.first;
        Box::new(
            self.slots
                .iter()
                .enumerate()
                .filter(|(_, e)| e.operation != TAKEN)
                .map(move |(i, e)| (first + i as u64, e)),
        )
    }

    #[inline(always)]
    pub fn push_back(&mut self, entry: QueueEntry) {
        self.len += 1;
        if !matches!(self.index, Index::None) {
            self.index_insert(entry);
            return;
        }
        self.slots.push_back(entry);
    }

    /// A part into an indexed queue: its lane, or its slot and its key.
    #[inline(never)]
    fn index_insert(&mut self, entry: QueueEntry) {
        match &mut self.index {
            Index::None => {}
            Index::Key { rule, order } => {
                let seq = self.first + self.slots.len() as u64;
                order.push(Reverse((key(*rule, &entry), seq)));
                self.slots.push_back(entry);
            }
            Index::Product(lanes) => lanes.push(entry),
        }
    }

    /// The arrival of the first part waiting in the slots.
    fn first_live(&self) -> Option<u64> {
        self.slots
            .iter()
            .position(|e| e.operation != TAKEN)
            .map(|i| self.first + i as u64)
    }

    /// Takes the part `rule` picks (for same product, one of `last`'s if one waits).
    #[inline(always)]
    pub fn take(&mut self, rule: DispatchRule, last: Option<u32>) -> Option<QueueEntry> {
        let taken = if rule == DispatchRule::Fifo {
            self.pop_front()
        } else {
            self.take_indexed(rule, last)
        };
        self.taken(taken)
    }

    /// Counts a part taken, and bounds what parts taken leave behind: once the key heap's records
    /// of parts taken outnumber the parts, or the holes do, the queue is rebuilt (the slots
    /// renumbered, the index made afresh). Lanes leave nothing behind.
    #[inline(always)]
    fn taken(&mut self, taken: Option<QueueEntry>) -> Option<QueueEntry> {
        if taken.is_none() {
            return taken;
        }
        self.len -= 1;
        let records = match &self.index {
            Index::Key { order, .. } => order.len(),
            Index::None | Index::Product(_) => 0,
        };
        if records > 2 * self.len + 64 || self.holes > self.len + 64 {
            self.drop_records();
        }
        taken
    }

    /// [`PartQueue::taken`]'s rare half: the queue rebuilt.
    #[cold]
    #[inline(never)]
    fn drop_records(&mut self) {
        self.rebuild(self.index.rule());
    }

    /// The first part: the front slot holds one whenever the queue is not empty.
    #[inline(always)]
    fn pop_front(&mut self) -> Option<QueueEntry> {
        if !matches!(self.index, Index::None) {
            return self.pop_front_indexed();
        }
        let entry = self.slots.pop_front()?;
        self.first += 1;
        // A part taken from the middle earlier may have left a hole next.
        if self.holes > 0 {
            self.drop_holes_in_front();
        }
        Some(entry)
    }

    /// [`PartQueue::pop_front`] of a queue indexed for another rule.
    fn pop_front_indexed(&mut self) -> Option<QueueEntry> {
        match &mut self.index {
            Index::Product(lanes) => lanes.take_first(),
            _ => {
                let seq = self.first_live()?;
                self.remove(seq)
            }
        }
    }

    fn take_indexed(&mut self, rule: DispatchRule, last: Option<u32>) -> Option<QueueEntry> {
        let seq = match (&mut self.index, rule) {
            (
                Index::Key {
                    rule: indexed,
                    order,
                },
                _,
            ) if *indexed == rule => {
                // The least key whose part still waits; the records of parts taken otherwise go.
                let (first, slots) = (self.first, &self.slots);
                let waits = |seq: u64| {
                    seq.checked_sub(first)
                        .and_then(|i| slots.get(i as usize))
                        .is_some_and(|e| e.operation != TAKEN)
                };
                loop {
                    let Reverse((_, seq)) = order.pop()?;
                    if waits(seq) {
                        break Some(seq);
                    }
                }
            }
            (Index::Product(lanes), DispatchRule::SameProduct) => {
                return last
                    .and_then(|p| lanes.take_product(p))
                    .or_else(|| lanes.take_first());
            }
            _ => self.scan(rule, last),
        }?;
        self.remove(seq)
    }

    /// Takes the first part for which `wanted` holds.
    pub fn take_where(&mut self, wanted: impl Fn(&QueueEntry) -> bool) -> Option<QueueEntry> {
        let seq = self.enumerate().find(|(_, e)| wanted(e)).map(|(s, _)| s)?;
        let taken = self.remove(seq);
        self.taken(taken)
    }

    /// The part `rule` picks, found by looking at every part (a queue indexed for another rule).
    fn scan(&self, rule: DispatchRule, last: Option<u32>) -> Option<u64> {
        let first = self.enumerate().next()?;
        let least = |k: fn(&QueueEntry) -> f64| {
            let mut best = first;
            for (seq, e) in self.enumerate().skip(1) {
                if k(e) < k(best.1) {
                    best = (seq, e);
                }
            }
            best.0
        };
        Some(match rule {
            DispatchRule::Fifo => first.0,
            DispatchRule::Edd | DispatchRule::Spt => least(figure(rule)),
            DispatchRule::SameProduct => last
                .and_then(|p| self.enumerate().find(|(_, e)| e.product == p))
                .map_or(first.0, |(seq, _)| seq),
        })
    }

    fn remove(&mut self, seq: u64) -> Option<QueueEntry> {
        if let Index::Product(lanes) = &mut self.index {
            return lanes.remove(seq);
        }
        let slot = usize::try_from(seq.checked_sub(self.first)?).ok()?;
        let place = self.slots.get_mut(slot)?;
        if place.operation == TAKEN {
            return None;
        }
        let entry = *place;
        place.operation = TAKEN;
        self.holes += 1;
        self.drop_holes_in_front();
        Some(entry)
    }

    fn drop_holes_in_front(&mut self) {
        while self.slots.front().is_some_and(|e| e.operation == TAKEN) {
            self.slots.pop_front();
            self.first += 1;
            self.holes -= 1;
        }
    }
}

impl Extend<QueueEntry> for PartQueue {
    fn extend<I: IntoIterator<Item = QueueEntry>>(&mut self, entries: I) {
        for e in entries {
            self.push_back(e);
        }
    }
}

/// Written as the list of parts in arrival order (as before the index); read back unindexed
/// until the engine indexes it.
impl Serialize for PartQueue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for PartQueue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let parts = Vec::<QueueEntry>::deserialize(d)?;
        let mut q = PartQueue::default();
        q.extend(parts);
        Ok(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    fn entry(rng: &mut impl RngExt) -> QueueEntry {
        QueueEntry {
            released_at: 0.0,
            order_entity: None,
            product: rng.random_range(0..4),
            operation: 0,
            order: u32::MAX,
            // Few distinct keys: ties are common, and broken by arrival.
            due: f64::from(rng.random_range(0..6u32)) * 10.0,
            mean_s: f64::from(rng.random_range(0..5u32)) * 0.5,
        }
    }

    /// What the engine did before the index: a scan of the queue for the rule's part.
    fn reference_pick(parts: &[QueueEntry], rule: DispatchRule, last: Option<u32>) -> usize {
        let argmin = |key: &dyn Fn(&QueueEntry) -> f64| {
            let mut best = 0;
            for (i, e) in parts.iter().enumerate().skip(1) {
                if key(e) < key(&parts[best]) {
                    best = i;
                }
            }
            best
        };
        match rule {
            DispatchRule::Fifo => 0,
            DispatchRule::Edd => argmin(&|e| e.due),
            DispatchRule::Spt => argmin(&|e| e.mean_s),
            DispatchRule::SameProduct => last
                .and_then(|p| parts.iter().position(|e| e.product == p))
                .unwrap_or(0),
        }
    }

    /// A plan's pick, the first part of product `p` if one waits, from the queue and from the
    /// parts in arrival order: the same part.
    fn check_plan_pick(queue: &mut PartQueue, reference: &mut Vec<QueueEntry>, p: u32, step: u32) {
        let a = queue.take_where(|e| e.product == p);
        let b = reference
            .iter()
            .position(|e| e.product == p)
            .map(|i| reference.remove(i));
        assert_eq!(a.map(|e| e.due), b.map(|e| e.due), "step {step}");
    }

    /// Picks equal the scan's over random pushes and takes: queues indexed for each rule (and
    /// none), taken from by their rule, or by any rule and by a plan (a part by its product).
    #[test]
    fn indexed_picks_are_the_parts_a_scan_picks() {
        use DispatchRule::*;
        let rules = [Fifo, Edd, Spt, SameProduct];
        for indexed_for in [None, Some(Fifo), Some(Edd), Some(Spt), Some(SameProduct)] {
            for mixed in [false, true] {
                let mut rng = rand::rngs::StdRng::seed_from_u64(3);
                let mut queue = PartQueue::default();
                queue.index_for(indexed_for);
                let mut reference: Vec<QueueEntry> = Vec::new();
                for step in 0..20_000u32 {
                    if rng.random_bool(0.52) || reference.is_empty() {
                        let e = entry(&mut rng);
                        queue.push_back(e);
                        reference.push(e);
                    } else if mixed && rng.random_bool(0.1) {
                        let p = rng.random_range(0..4);
                        check_plan_pick(&mut queue, &mut reference, p, step);
                    } else {
                        let rule = match (mixed, indexed_for) {
                            (false, Some(rule)) => rule,
                            _ => rules[rng.random_range(0..4)],
                        };
                        let last = rng.random_bool(0.8).then(|| rng.random_range(0..5));
                        let a = queue.take(rule, last);
                        let b = reference.remove(reference_pick(&reference, rule, last));
                        assert_eq!(
                            a.map(|e| (e.product, e.due, e.mean_s)),
                            Some((b.product, b.due, b.mean_s)),
                            "{indexed_for:?}, {rule:?}, step {step}"
                        );
                    }
                    assert_eq!(queue.len(), reference.len());
                }
                let a: Vec<_> = queue.iter().map(|e| (e.product, e.due)).collect();
                let b: Vec<_> = reference.iter().map(|e| (e.product, e.due)).collect();
                assert_eq!(a, b, "{indexed_for:?}: the same parts in the same order");
            }
        }
    }

    /// A queue for same product keeps lanes for the span of product numbers that came, whatever
    /// the order they came in: a product numbered below the first one's takes a lane of its own,
    /// and every pick is still the scan's.
    #[test]
    fn same_product_lanes_take_products_numbered_below_the_first() {
        let mut queue = PartQueue::default();
        queue.index_for(Some(DispatchRule::SameProduct));
        let mut reference: Vec<QueueEntry> = Vec::new();
        let arriving = |product, due| QueueEntry {
            released_at: 0.0,
            order_entity: None,
            product,
            operation: 0,
            order: u32::MAX,
            due,
            mean_s: 1.0,
        };
        // Parts of products 7, 3, 9, 3, 0, 7 arrive (due dates tell them apart), then six picks.
        for (k, product) in [7, 3, 9, 3, 0, 7].into_iter().enumerate() {
            let e = arriving(product, k as f64);
            queue.push_back(e);
            reference.push(e);
        }
        for last in [Some(3), Some(0), Some(7), Some(8), None, Some(3)] {
            let i = reference_pick(&reference, DispatchRule::SameProduct, last);
            let expected = reference.remove(i);
            let taken = queue
                .take(DispatchRule::SameProduct, last)
                .expect("a part waits");
            assert_eq!(taken.due, expected.due, "after {last:?}");
        }
        assert!(queue.is_empty());
        let Index::Product(lanes) = &queue.index else {
            panic!("lanes");
        };
        assert_eq!((lanes.first_product, lanes.by_product.len()), (0, 10));
    }

    /// A queue for same product of more products than one word of lane bits holds, numbered
    /// downwards as they come (the lanes shift), taken from by its rule (often for a product
    /// with none waiting: the oldest part overall) and by a plan: the parts a scan picks.
    #[test]
    fn a_same_product_queue_of_many_products_picks_what_a_scan_picks() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let mut queue = PartQueue::default();
        queue.index_for(Some(DispatchRule::SameProduct));
        let mut reference: Vec<QueueEntry> = Vec::new();
        for step in 0..20_000u32 {
            if rng.random_bool(0.5) || reference.is_empty() {
                // Products from 199 down to 0 over the first half, then any of them.
                let lowest = 199u32.saturating_sub(step / 50);
                let e = QueueEntry {
                    product: rng.random_range(lowest..200),
                    due: f64::from(step),
                    ..entry(&mut rng)
                };
                queue.push_back(e);
                reference.push(e);
            } else if rng.random_bool(0.1) {
                let p = rng.random_range(0..200);
                check_plan_pick(&mut queue, &mut reference, p, step);
            } else {
                let last = Some(rng.random_range(0..200));
                let i = reference_pick(&reference, DispatchRule::SameProduct, last);
                let taken = queue.take(DispatchRule::SameProduct, last);
                assert_eq!(
                    taken.map(|e| e.due),
                    Some(reference.remove(i).due),
                    "step {step}"
                );
            }
            assert_eq!(queue.len(), reference.len());
        }
        let order: Vec<f64> = queue.iter().map(|e| e.due).collect();
        assert_eq!(order, reference.iter().map(|e| e.due).collect::<Vec<_>>());
        let Index::Product(lanes) = &queue.index else {
            panic!("lanes");
        };
        assert_eq!((lanes.first_product, lanes.by_product.len()), (0, 200));
    }

    /// A queue for EDD whose parts a plan takes, not the rule: the records those parts leave in
    /// the heap do not pile up.
    #[test]
    fn a_key_queue_keeps_its_records_bounded() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let mut q = PartQueue::default();
        q.index_for(Some(DispatchRule::Edd));
        q.push_back(entry(&mut rng));
        for _ in 0..10_000 {
            q.push_back(entry(&mut rng));
            assert!(q.take_where(|_| true).is_some());
            let Index::Key { order, .. } = &q.index else {
                panic!("indexed for EDD")
            };
            assert!(order.len() <= 2 * q.len() + 65, "{}", order.len());
        }
        assert_eq!(q.len(), 1);
        assert!(q.take(DispatchRule::Edd, None).is_some());
    }

    #[test]
    fn it_reads_back_as_written_and_keys_order_as_numbers() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let mut q = PartQueue::default();
        q.index_for(Some(DispatchRule::Edd));
        q.extend((0..50).map(|_| entry(&mut rng)));
        q.take(DispatchRule::Edd, None);
        let text = serde_json::to_string(&q).expect("json");
        let mut back: PartQueue = serde_json::from_str(&text).expect("reads");
        assert_eq!(serde_json::to_string(&back).expect("json"), text);
        assert_eq!(back.len(), 49);
        // Indexed again (a snapshot read back), or a copy kept as it is: the same picks.
        back.index_for(Some(DispatchRule::Edd));
        let mut copy = q.clone();
        copy.index_for(Some(DispatchRule::Edd));
        for _ in 0..49 {
            let picks = [&mut q, &mut back, &mut copy].map(|q| q.take(DispatchRule::Edd, None));
            let dues = picks.map(|p| p.map(|e| (e.due, e.product)));
            assert!(
                dues[0].is_some() && dues.iter().all(|d| *d == dues[0]),
                "{dues:?}"
            );
        }
        let xs = [-1e300, -2.0, -0.0, 0.0, 1e-300, 3.0, f64::INFINITY];
        for w in xs.windows(2) {
            assert!(ordered(w[0]) <= ordered(w[1]), "{w:?}");
        }
        assert_eq!(ordered(-0.0), ordered(0.0));
    }
}
#[test]
fn sizes_tmp() {
    eprintln!(
        "BQ {} PQ {} Lanes {}",
        std::mem::size_of::<crate::components::BufferQueue>(),
        std::mem::size_of::<PartQueue>(),
        std::mem::size_of::<Lanes>()
    );
}
