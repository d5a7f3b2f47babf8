//! The store in plain memory: a set of `asset` + `seq` per asset and the texts in order. The same
//! contract as the databases without durability, for replays that need none.

use super::{Backend, DeadLetter, SavedMirror, StoreError};
use crate::event::Checked;
use std::collections::{BTreeMap, HashSet};

/// What an in-memory store holds: the texts of the events in the order accepted, the `seq`s seen
/// per asset (deduplication) and the dead letters.
#[derive(Default)]
pub(super) struct Memory {
    bodies: Vec<String>,
    /// A handful of assets, compared as strings.
    seen: BTreeMap<String, SeqSet>,
    dead: Vec<DeadLetter>,
    /// Alert id -> (open, text).
    alerts: BTreeMap<u64, (bool, String)>,
    saved: Option<SavedMirror>,
    /// The order book's last version, and the book unless it was dropped.
    order_book: Option<(i64, Option<String>)>,
}

/// The `seq`s seen of one asset, hashed with Fx: the keys are the plant's own counters, and the
/// default SipHash cost more than the rest of storing an event.
type SeqSet = HashSet<u64, rustc_hash::FxBuildHasher>;

impl Backend for Memory {
    fn append(
        &mut self,
        events: &mut [(Checked, String)],
        dead: &[DeadLetter],
    ) -> Result<Vec<bool>, StoreError> {
        let new = events
            .iter_mut()
            .map(|(c, body)| {
                let seq = c.event.seq;
                let is_new = match self.seen.get_mut(c.event.asset.as_str()) {
                    Some(seqs) => seqs.insert(seq),
                    None => {
                        let mut seqs = SeqSet::default();
                        seqs.insert(seq);
                        self.seen.insert(c.event.asset.clone(), seqs);
                        true
                    }
                };
                if is_new {
                    self.bodies.push(std::mem::take(body));
                }
                is_new
            })
            .collect();
        self.dead.extend_from_slice(dead);
        Ok(new)
    }

    fn for_each_text(&self, after: i64, f: &mut dyn FnMut(i64, &str)) -> Result<(), StoreError> {
        let skip = usize::try_from(after).unwrap_or(0);
        for (i, body) in self.bodies.iter().enumerate().skip(skip) {
            f(i as i64 + 1, body);
        }
        Ok(())
    }

    fn read_through(&self) -> Option<i64> {
        Some(self.bodies.len() as i64)
    }

    fn save_mirror(&mut self, saved: &SavedMirror) -> Result<(), StoreError> {
        if self
            .saved
            .as_ref()
            .is_none_or(|s| s.read_through <= saved.read_through)
        {
            self.saved = Some(saved.clone());
        }
        Ok(())
    }

    fn saved_mirror(&self) -> Result<Option<SavedMirror>, StoreError> {
        Ok(self.saved.clone())
    }

    fn save_order_book(&mut self, given_ms: i64, body: &str) -> Result<i64, StoreError> {
        let version = match &self.order_book {
            Some((last, _)) => given_ms.max(last + 1),
            None => given_ms,
        };
        self.order_book = Some((version, Some(body.to_string())));
        Ok(version)
    }

    fn order_book(&self) -> Result<Option<(i64, String)>, StoreError> {
        Ok(match &self.order_book {
            Some((version, Some(body))) => Some((*version, body.clone())),
            _ => None,
        })
    }

    fn order_book_version(&self) -> Result<Option<i64>, StoreError> {
        Ok(match &self.order_book {
            Some((version, Some(_))) => Some(*version),
            _ => None,
        })
    }

    fn clear_order_book(&mut self) -> Result<(), StoreError> {
        if let Some((version, body)) = &mut self.order_book
            && body.take().is_some()
        {
            *version += 1;
        }
        Ok(())
    }

    fn quarantine(&mut self, rows: &[(i64, String)], received_ms: i64) -> Result<(), StoreError> {
        let gone: BTreeMap<i64, &String> = rows.iter().map(|(id, r)| (*id, r)).collect();
        let bodies = std::mem::take(&mut self.bodies);
        for (i, body) in bodies.into_iter().enumerate() {
            match gone.get(&(i as i64 + 1)) {
                Some(reason) => {
                    // Its key is free again, as in the databases.
                    if let Ok(c) = crate::event::parse(&body)
                        && let Some(seqs) = self.seen.get_mut(c.event.asset.as_str())
                    {
                        seqs.remove(&c.event.seq);
                    }
                    self.dead.push(DeadLetter {
                        received_ms,
                        source: "store repair".into(),
                        payload: body,
                        reason: (*reason).clone(),
                    });
                }
                None => self.bodies.push(body),
            }
        }
        Ok(())
    }

    fn event_count(&self) -> Result<u64, StoreError> {
        Ok(self.bodies.len() as u64)
    }

    fn dead_letter_count(&self) -> Result<u64, StoreError> {
        Ok(self.dead.len() as u64)
    }

    fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>, StoreError> {
        Ok(self
            .dead
            .iter()
            .rev()
            .take(limit as usize)
            .cloned()
            .collect())
    }

    fn save_alerts(&mut self, alerts: &[(u64, bool, String)]) -> Result<(), StoreError> {
        for (id, open, body) in alerts {
            self.alerts.insert(*id, (*open, body.clone()));
        }
        Ok(())
    }

    fn alerts(&self, open_only: bool, limit: u32) -> Result<Vec<(u64, String)>, StoreError> {
        Ok(self
            .alerts
            .iter()
            .rev()
            .filter(|(_, (open, _))| !open_only || *open)
            .take(limit as usize)
            .map(|(id, (_, body))| (*id, body.clone()))
            .collect())
    }

    fn alert(&self, id: u64) -> Result<Option<String>, StoreError> {
        Ok(self.alerts.get(&id).map(|(_, body)| body.clone()))
    }

    fn last_alert_id(&self) -> Result<u64, StoreError> {
        Ok(self.alerts.keys().next_back().copied().unwrap_or(0))
    }

    fn contains(&self, asset: &str, seq: u64) -> Result<bool, StoreError> {
        Ok(self.seen.get(asset).is_some_and(|s| s.contains(&seq)))
    }
}
