//! The parts waiting in a buffer: in arrival order, with an index for the dispatching rule of the
//! stations that take from it, so that a pick costs O(log n) (earliest due date, shortest
//! processing time) or O(1) (first in first out, same product) instead of a scan of the queue.
//! The part picked is the one a scan would pick: the least key, and among equal keys the one
//! that came first (`tests` below check both against each other on random queues).
//!
//! Entries sit in slots numbered by arrival; a part taken from the middle leaves an empty slot,
//! dropped when it reaches the front or when empty slots outnumber the parts (the slots are then
//! renumbered and the index rebuilt).

use crate::components::QueueEntry;
use bevy_ecs::entity::Entity;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeSet, VecDeque};
use takt_model::DispatchRule;

#[derive(Debug, Clone, Default)]
pub struct PartQueue {
    /// Slot `i` holds the part that arrived `first + i`-th, or nothing once taken.
    slots: VecDeque<Option<QueueEntry>>,
    first: u64,
    live: usize,
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

fn key(rule: DispatchRule, e: &QueueEntry) -> u64 {
    match rule {
        DispatchRule::Edd => ordered(e.due),
        _ => ordered(e.mean_s),
    }
}

impl PartQueue {
    /// Indexes the queue for the rule of the stations that take from it (`None`: several rules,
    /// or a plan; picks then scan).
    pub fn index_for(&mut self, rule: Option<DispatchRule>) {
        self.index = match rule {
            Some(rule @ (DispatchRule::Edd | DispatchRule::Spt)) => Index::Key {
                rule,
                order: BTreeSet::new(),
            },
            Some(DispatchRule::SameProduct) => Index::Product(Vec::new()),
            Some(DispatchRule::Fifo) | None => Index::None,
        };
        let arrivals: Vec<(u64, QueueEntry)> = self.enumerate().collect();
        for (seq, e) in arrivals {
            self.index_insert(seq, &e);
        }
    }

    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The parts in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = &QueueEntry> {
        self.slots.iter().flatten()
    }

    /// The orders the parts belong to, to be renamed (a snapshot read back).
    pub fn order_entities_mut(&mut self) -> impl Iterator<Item = &mut Option<Entity>> {
        self.slots.iter_mut().flatten().map(|e| &mut e.order_entity)
    }

    fn enumerate(&self) -> impl Iterator<Item = (u64, QueueEntry)> + '_ {
        let first = self.first;
        self.slots
            .iter()
            .enumerate()
            .filter_map(move |(i, e)| e.map(|e| (first + i as u64, e)))
    }

    pub fn push_back(&mut self, entry: QueueEntry) {
        let seq = self.first + self.slots.len() as u64;
        self.slots.push_back(Some(entry));
        self.live += 1;
        self.index_insert(seq, &entry);
    }

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
            .position(Option::is_some)
            .map(|i| self.first + i as u64)
    }

    /// Takes the part `rule` picks (for same product, one of `last`'s if one waits).
    pub fn take(&mut self, rule: DispatchRule, last: Option<u32>) -> Option<QueueEntry> {
        let seq = match (&self.index, rule) {
            (_, DispatchRule::Fifo) => self.first_live(),
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
        let mut parts = self.enumerate();
        let first = parts.next()?;
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
            DispatchRule::Edd => least(|e| e.due),
            DispatchRule::Spt => least(|e| e.mean_s),
            DispatchRule::SameProduct => last
                .and_then(|p| self.enumerate().find(|(_, e)| e.product == p))
                .map_or(first.0, |(seq, _)| seq),
        })
    }

    fn remove(&mut self, seq: u64) -> Option<QueueEntry> {
        let slot = usize::try_from(seq.checked_sub(self.first)?).ok()?;
        let entry = self.slots.get_mut(slot)?.take()?;
        self.live -= 1;
        match &mut self.index {
            Index::None => {}
            Index::Key { rule, order } => {
                order.remove(&(key(*rule, &entry), seq));
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
        while let Some(None) = self.slots.front() {
            self.slots.pop_front();
            self.first += 1;
        }
        if self.slots.len() > 2 * self.live + 64 {
            self.compact();
        }
        Some(entry)
    }

    /// Drops the empty slots, renumbering the parts in the same order.
    fn compact(&mut self) {
        let parts: Vec<QueueEntry> = self.iter().copied().collect();
        let rule = match &self.index {
            Index::None => None,
            Index::Key { rule, .. } => Some(*rule),
            Index::Product(_) => Some(DispatchRule::SameProduct),
        };
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

    /// Indexed picks equal a scan's over random pushes and takes, for every rule.
    #[test]
    fn indexed_picks_are_the_parts_a_scan_picks() {
        use DispatchRule::*;
        for rule in [Fifo, Edd, Spt, SameProduct] {
            let mut rng = rand::rngs::StdRng::seed_from_u64(3);
            let (mut indexed, mut scanned) = (PartQueue::default(), PartQueue::default());
            indexed.index_for(Some(rule));
            for step in 0..20_000 {
                if rng.random_bool(0.52) || indexed.is_empty() {
                    let e = entry(&mut rng);
                    indexed.push_back(e);
                    scanned.push_back(e);
                } else {
                    let last = rng.random_bool(0.8).then(|| rng.random_range(0..5));
                    let a = indexed.take(rule, last);
                    let b = scanned.take(rule, last);
                    assert_eq!(
                        a.map(|e| (e.product, e.due, e.mean_s)),
                        b.map(|e| (e.product, e.due, e.mean_s)),
                        "{rule:?}, step {step}"
                    );
                }
                assert_eq!(indexed.len(), scanned.len());
            }
            let a: Vec<_> = indexed.iter().map(|e| (e.product, e.due)).collect();
            let b: Vec<_> = scanned.iter().map(|e| (e.product, e.due)).collect();
            assert_eq!(a, b, "{rule:?}: the same parts in the same order");
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
        let back: PartQueue = serde_json::from_str(&text).expect("reads");
        assert_eq!(serde_json::to_string(&back).expect("json"), text);
        assert_eq!(back.len(), 49);
        let xs = [-1e300, -2.0, -0.0, 0.0, 1e-300, 3.0, f64::INFINITY];
        for w in xs.windows(2) {
            assert!(ordered(w[0]) <= ordered(w[1]), "{w:?}");
        }
        assert_eq!(ordered(-0.0), ordered(0.0));
    }
}
