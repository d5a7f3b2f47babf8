//! The parts waiting in a buffer: in arrival order, with an index for the dispatching rule of the
//! stations that take from it, so that a pick costs O(log n) (earliest due date, shortest
//! processing time) or O(1) (first in first out, same product) instead of a scan of the queue.
//! The part picked is the one a scan would pick: the least key, and among equal keys the one
//! that came first (`tests` below check both against each other on random queues).
//!
//! Entries sit in slots numbered by arrival; a part taken from the middle leaves a hole (the
//! entry marked taken), dropped when it reaches the front or when holes outnumber the parts (the
//! slots are then renumbered and the index rebuilt).

use crate::components::QueueEntry;
use bevy_ecs::entity::Entity;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeSet, VecDeque};
use takt_model::DispatchRule;

#[derive(Debug, Clone, Default)]
pub struct PartQueue {
    /// Slot `i` holds the part that arrived `first + i`-th, or a hole once taken from the
    /// middle ([`TAKEN`] as its operation). A FIFO queue has none, and no index: its picks are
    /// a `VecDeque`'s.
    slots: VecDeque<QueueEntry>,
    first: u64,
    holes: usize,
    index: Index,
}

#[derive(Debug, Clone, Default)]
enum Index {
    #[default]
    None,
    /// (key, arrival) of every part, for `rule` (EDD: the due date; SPT: the mean time).
    Key {
        rule: DispatchRule,
        order: BTreeSet<(u64, u64)>,
    },
    /// Arrivals of each product's parts, oldest first (same product).
    Product(Vec<VecDeque<u64>>),
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
        self.index = match rule {
            Some(rule @ (DispatchRule::Edd | DispatchRule::Spt)) => Index::Key {
                rule,
                order: BTreeSet::new(),
            },
            Some(DispatchRule::SameProduct) => Index::Product(Vec::new()),
            Some(DispatchRule::Fifo) | None => Index::None,
        };
        if matches!(self.index, Index::None) {
            return;
        }
        let arrivals: Vec<(u64, QueueEntry)> = self.enumerate().collect();
        for (seq, e) in arrivals {
            self.index_insert(seq, &e);
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.slots.len() - self.holes
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.slots.len() == self.holes
    }

    /// The parts in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = &QueueEntry> {
        self.slots.iter().filter(|e| e.operation != TAKEN)
    }

    /// The orders the parts belong to, to be renamed (a snapshot read back).
    pub fn order_entities_mut(&mut self) -> impl Iterator<Item = &mut Option<Entity>> {
        self.slots
            .iter_mut()
            .filter(|e| e.operation != TAKEN)
            .map(|e| &mut e.order_entity)
    }

    fn enumerate(&self) -> impl Iterator<Item = (u64, QueueEntry)> + '_ {
        let first = self.first;
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, e)| e.operation != TAKEN)
            .map(move |(i, e)| (first + i as u64, *e))
    }

    #[inline(always)]
    pub fn push_back(&mut self, entry: QueueEntry) {
        if !matches!(self.index, Index::None) {
            let seq = self.first + self.slots.len() as u64;
            self.index_insert(seq, &entry);
        }
        self.slots.push_back(entry);
    }

    #[inline(never)]
    fn index_insert(&mut self, seq: u64, e: &QueueEntry) {
        match &mut self.index {
            Index::None => {}
            Index::Key { rule, order } => {
                order.insert((key(*rule, e), seq));
            }
            Index::Product(by) => {
                let p = e.product as usize;
                if by.len() <= p {
                    by.resize_with(p + 1, VecDeque::new);
                }
                by[p].push_back(seq);
            }
        }
    }

    /// The arrival of the first part waiting.
    fn first_live(&self) -> Option<u64> {
        self.slots
            .iter()
            .position(|e| e.operation != TAKEN)
            .map(|i| self.first + i as u64)
    }

    /// Takes the part `rule` picks (for same product, one of `last`'s if one waits).
    #[inline(always)]
    pub fn take(&mut self, rule: DispatchRule, last: Option<u32>) -> Option<QueueEntry> {
        if rule == DispatchRule::Fifo {
            return self.pop_front();
        }
        self.take_indexed(rule, last)
    }

    /// The first part: the front slot holds one whenever the queue is not empty.
    #[inline(always)]
    fn pop_front(&mut self) -> Option<QueueEntry> {
        let entry = self.slots.pop_front()?;
        self.first += 1;
        if !matches!(self.index, Index::None) {
            self.unindex(self.first - 1, &entry);
        }
        // A part taken from the middle earlier may have left a hole next.
        if self.holes > 0 {
            self.drop_holes_in_front();
        }
        Some(entry)
    }

    fn take_indexed(&mut self, rule: DispatchRule, last: Option<u32>) -> Option<QueueEntry> {
        let seq = match (&self.index, rule) {
            (
                Index::Key {
                    rule: indexed,
                    order,
                },
                _,
            ) if *indexed == rule => order.first().map(|&(_, seq)| seq),
            (Index::Product(by), DispatchRule::SameProduct) => last
                .and_then(|p| by.get(p as usize))
                .and_then(|q| q.front().copied())
                .or_else(|| self.first_live()),
            _ => self.scan(rule, last),
        }?;
        self.remove(seq)
    }

    /// Takes the first part for which `wanted` holds.
    pub fn take_where(&mut self, wanted: impl Fn(&QueueEntry) -> bool) -> Option<QueueEntry> {
        let seq = self.enumerate().find(|(_, e)| wanted(e)).map(|(s, _)| s)?;
        self.remove(seq)
    }

    /// The part `rule` picks, found by looking at every part (a queue indexed for another rule).
    fn scan(&self, rule: DispatchRule, last: Option<u32>) -> Option<u64> {
        let first = self.enumerate().next()?;
        let least = |k: fn(&QueueEntry) -> f64| {
            let mut best = first;
            for (seq, e) in self.enumerate().skip(1) {
                if k(&e) < k(&best.1) {
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
        let slot = usize::try_from(seq.checked_sub(self.first)?).ok()?;
        let place = self.slots.get_mut(slot)?;
        if place.operation == TAKEN {
            return None;
        }
        let entry = *place;
        place.operation = TAKEN;
        self.holes += 1;
        self.unindex(seq, &entry);
        self.drop_holes_in_front();
        if self.holes > self.len() + 64 {
            self.compact();
        }
        Some(entry)
    }

    fn unindex(&mut self, seq: u64, entry: &QueueEntry) {
        match &mut self.index {
            Index::None => {}
            Index::Key { rule, order } => {
                order.remove(&(key(*rule, entry), seq));
            }
            Index::Product(by) => {
                if let Some(q) = by.get_mut(entry.product as usize) {
                    if q.front() == Some(&seq) {
                        q.pop_front();
                    } else if let Some(i) = q.iter().position(|&s| s == seq) {
                        q.remove(i);
                    }
                }
            }
        }
    }

    fn drop_holes_in_front(&mut self) {
        while self.slots.front().is_some_and(|e| e.operation == TAKEN) {
            self.slots.pop_front();
            self.first += 1;
            self.holes -= 1;
        }
    }

    /// Drops the empty slots, renumbering the parts in the same order.
    fn compact(&mut self) {
        let parts: Vec<QueueEntry> = self.iter().copied().collect();
        let rule = self.index.rule();
        *self = PartQueue::default();
        self.extend(parts);
        self.index_for(rule);
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
                for step in 0..20_000 {
                    if rng.random_bool(0.52) || reference.is_empty() {
                        let e = entry(&mut rng);
                        queue.push_back(e);
                        reference.push(e);
                    } else if mixed && rng.random_bool(0.1) {
                        // A plan's part: the first of a product, if one waits.
                        let p = rng.random_range(0..4);
                        let a = queue.take_where(|e| e.product == p);
                        let b = reference
                            .iter()
                            .position(|e| e.product == p)
                            .map(|i| reference.remove(i));
                        assert_eq!(a.map(|e| e.due), b.map(|e| e.due), "step {step}");
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
