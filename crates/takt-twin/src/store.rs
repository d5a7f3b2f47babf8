//! Durable event storage: an embedded SQLite database in WAL mode. A batch of events and the batch's
//! dead letters go in one transaction; only when it has committed are they acknowledged. `asset` +
//! `seq` is unique, so a resent event is recognised as a duplicate across restarts too. With
//! `synchronous = FULL` (the default) a commit survives a power cut; `NORMAL` survives a killed
//! process, not a power cut, and is faster.
//!
//! [`Store::memory`] keeps the same contract in plain memory (a set of `asset` + `seq` and the
//! texts in order), for replays that need no durability: back-testing as fast as the mirror goes.

use crate::alerts::Alert;
use crate::event::{Checked, parse};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("event store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("event store: stored event {id} cannot be read back: {message}")]
    Corrupt { id: i64, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync on every commit: survives power loss.
    Full,
    /// Survives a crash of the process.
    Normal,
}

pub struct Store {
    backend: Backend,
}

enum Backend {
    Sqlite(Connection),
    Memory(Memory),
}

/// What an in-memory store holds: the texts of the events in the order accepted, the `seq`s seen
/// per asset (deduplication) and the dead letters.
#[derive(Default)]
struct Memory {
    bodies: Vec<String>,
    /// A handful of assets, compared as strings.
    seen: BTreeMap<String, SeqSet>,
    dead: Vec<DeadLetter>,
    alerts: BTreeMap<u64, Alert>,
}

/// The `seq`s seen of one asset, hashed with Fx: the keys are the plant's own counters, and the
/// default SipHash cost more than the rest of storing an event.
type SeqSet = HashSet<u64, rustc_hash::FxBuildHasher>;

/// One refused payload, kept for inspection.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub received_ms: i64,
    pub source: String,
    pub payload: String,
    pub reason: String,
}

impl Store {
    /// Opens (or creates) the database file.
    pub fn open(path: &Path, durability: Durability) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(
            None,
            "synchronous",
            match durability {
                Durability::Full => "FULL",
                Durability::Normal => "NORMAL",
            },
        )?;
        Store::init(conn)
    }

    /// A store in memory: deduplication without durability (tests, replays for back-testing). It
    /// cannot fail; the `Result` keeps it interchangeable with [`Store::open`].
    pub fn memory() -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Memory(Memory::default()),
        })
    }

    fn init(conn: Connection) -> Result<Store, StoreError> {
        // The unique key puts `seq` first: the same pairs are unique either way, but the probe for
        // a duplicate, on every insert, then compares an integer before it compares any text.
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS events (
                 id INTEGER PRIMARY KEY,
                 asset TEXT NOT NULL,
                 seq INTEGER NOT NULL,
                 ts_ms INTEGER NOT NULL,
                 kind TEXT NOT NULL,
                 body TEXT NOT NULL,
                 UNIQUE (seq, asset)
             );
             CREATE TABLE IF NOT EXISTS dead_letters (
                 id INTEGER PRIMARY KEY,
                 received_ms INTEGER NOT NULL,
                 source TEXT NOT NULL,
                 payload TEXT NOT NULL,
                 reason TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS alerts (
                 id INTEGER PRIMARY KEY,
                 open INTEGER NOT NULL,
                 body TEXT NOT NULL
             );",
        )?;
        Ok(Store {
            backend: Backend::Sqlite(conn),
        })
    }

    /// Stores a batch in one transaction: each checked event with its JSON text as received. Returns,
    /// per event, whether it is new (false: a duplicate of a stored one). Dead letters are stored
    /// with it.
    /// The texts of new events may be taken (left empty): the caller needs only the checked events
    /// afterwards.
    pub fn append(
        &mut self,
        events: &mut [(Checked, String)],
        dead: &[DeadLetter],
    ) -> Result<Vec<bool>, StoreError> {
        let conn = match &mut self.backend {
            Backend::Sqlite(conn) => conn,
            Backend::Memory(m) => return Ok(m.append(events, dead)),
        };
        let tx = conn.transaction()?;
        let mut new = Vec::with_capacity(events.len());
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO events (asset, seq, ts_ms, kind, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (c, body) in events.iter() {
                let n = insert.execute(params![
                    c.event.asset,
                    c.event.seq as i64,
                    c.ts_ms,
                    c.event.body.kind(),
                    body
                ])?;
                new.push(n == 1);
            }
            let mut letter = tx.prepare_cached(
                "INSERT INTO dead_letters (received_ms, source, payload, reason) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for d in dead {
                letter.execute(params![d.received_ms, d.source, d.payload, d.reason])?;
            }
        }
        tx.commit()?;
        Ok(new)
    }

    /// Every stored event in the order it was accepted.
    pub fn for_each(&self, mut f: impl FnMut(Checked)) -> Result<u64, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(conn) => conn,
            Backend::Memory(m) => {
                for (i, body) in m.bodies.iter().enumerate() {
                    f(parse(body).map_err(|e| StoreError::Corrupt {
                        id: i as i64 + 1,
                        message: e.to_string(),
                    })?);
                }
                return Ok(m.bodies.len() as u64);
            }
        };
        let mut stmt = conn.prepare("SELECT id, body FROM events ORDER BY id")?;
        let mut rows = stmt.query([])?;
        let mut n = 0;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let body: String = row.get(1)?;
            let c = parse(&body).map_err(|e| StoreError::Corrupt {
                id,
                message: e.to_string(),
            })?;
            f(c);
            n += 1;
        }
        Ok(n)
    }

    /// Every stored event's row id and text, in the order accepted, unchecked: for a repair that
    /// checks them again by today's rules.
    pub fn for_each_text(&self, mut f: impl FnMut(i64, &str)) -> Result<(), StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(conn) => conn,
            Backend::Memory(m) => {
                for (i, body) in m.bodies.iter().enumerate() {
                    f(i as i64 + 1, body);
                }
                return Ok(());
            }
        };
        let mut stmt = conn.prepare("SELECT id, body FROM events ORDER BY id")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let body: String = row.get(1)?;
            f(id, &body);
        }
        Ok(())
    }

    /// Moves stored events (by row id, with the reason) to the dead letters, in one transaction:
    /// events an earlier version accepted that today's checks refuse. In a database their asset
    /// and sequence number are free again, so a corrected resend is accepted (a store in memory
    /// is empty when it is opened, and keeps them).
    pub fn quarantine(
        &mut self,
        rows: &[(i64, String)],
        received_ms: i64,
    ) -> Result<(), StoreError> {
        let conn = match &mut self.backend {
            Backend::Sqlite(conn) => conn,
            Backend::Memory(m) => {
                let mut gone = BTreeMap::new();
                for (id, reason) in rows {
                    gone.insert(*id, reason);
                }
                let bodies = std::mem::take(&mut m.bodies);
                for (i, body) in bodies.into_iter().enumerate() {
                    match gone.get(&(i as i64 + 1)) {
                        Some(reason) => m.dead.push(DeadLetter {
                            received_ms,
                            source: "store repair".into(),
                            payload: body,
                            reason: (*reason).clone(),
                        }),
                        None => m.bodies.push(body),
                    }
                }
                return Ok(());
            }
        };
        let tx = conn.transaction()?;
        {
            let mut letter = tx.prepare_cached(
                "INSERT INTO dead_letters (received_ms, source, payload, reason)
                 SELECT ?1, 'store repair', body, ?2 FROM events WHERE id = ?3",
            )?;
            let mut delete = tx.prepare_cached("DELETE FROM events WHERE id = ?1")?;
            for (id, reason) in rows {
                letter.execute(params![received_ms, reason, id])?;
                delete.execute(params![id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn event_count(&self) -> Result<u64, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(conn) => conn,
            Backend::Memory(m) => return Ok(m.bodies.len() as u64),
        };
        Ok(conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))? as u64)
    }

    pub fn dead_letter_count(&self) -> Result<u64, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(conn) => conn,
            Backend::Memory(m) => return Ok(m.dead.len() as u64),
        };
        Ok(
            conn.query_row("SELECT COUNT(*) FROM dead_letters", [], |r| {
                r.get::<_, i64>(0)
            })? as u64,
        )
    }

    /// The most recent dead letters, newest first.
    pub fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(conn) => conn,
            Backend::Memory(m) => {
                return Ok(m.dead.iter().rev().take(limit as usize).cloned().collect());
            }
        };
        let mut stmt = conn.prepare(
            "SELECT received_ms, source, payload, reason FROM dead_letters ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok(DeadLetter {
                received_ms: r.get(0)?,
                source: r.get(1)?,
                payload: r.get(2)?,
                reason: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores alerts as they are now (raised, cleared or acknowledged), in one transaction.
    pub fn save_alerts<'a>(
        &mut self,
        alerts: impl IntoIterator<Item = &'a Alert>,
    ) -> Result<(), StoreError> {
        let conn = match &mut self.backend {
            Backend::Sqlite(conn) => conn,
            Backend::Memory(m) => {
                for a in alerts {
                    m.alerts.insert(a.id, a.clone());
                }
                return Ok(());
            }
        };
        let tx = conn.transaction()?;
        {
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO alerts (id, open, body) VALUES (?1, ?2, ?3)",
            )?;
            for a in alerts {
                let body = serde_json::to_string(a).map_err(|e| StoreError::Corrupt {
                    id: a.id as i64,
                    message: e.to_string(),
                })?;
                put.execute(params![a.id as i64, a.is_open(), body])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Stored alerts, newest first: the open ones only, or all; at most `limit`.
    pub fn alerts(&self, open_only: bool, limit: u32) -> Result<Vec<Alert>, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(conn) => conn,
            Backend::Memory(m) => {
                return Ok(m
                    .alerts
                    .values()
                    .rev()
                    .filter(|a| !open_only || a.is_open())
                    .take(limit as usize)
                    .cloned()
                    .collect());
            }
        };
        let mut query = conn.prepare_cached(
            "SELECT id, body FROM alerts WHERE open >= ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = query.query_map(params![i64::from(open_only), limit], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, body) = row?;
            out.push(
                serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                    id,
                    message: e.to_string(),
                })?,
            );
        }
        Ok(out)
    }

    /// One stored alert.
    pub fn alert(&self, id: u64) -> Result<Option<Alert>, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(conn) => conn,
            Backend::Memory(m) => return Ok(m.alerts.get(&id).cloned()),
        };
        let body: Option<String> = conn
            .query_row(
                "SELECT body FROM alerts WHERE id = ?1",
                params![id as i64],
                |r| r.get(0),
            )
            .optional()?;
        body.map(|b| {
            serde_json::from_str(&b).map_err(|e| StoreError::Corrupt {
                id: id as i64,
                message: e.to_string(),
            })
        })
        .transpose()
    }

    /// The highest alert id stored (0 when none).
    pub fn last_alert_id(&self) -> Result<u64, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(conn) => conn,
            Backend::Memory(m) => return Ok(m.alerts.keys().next_back().copied().unwrap_or(0)),
        };
        let id: Option<i64> = conn.query_row("SELECT MAX(id) FROM alerts", [], |r| r.get(0))?;
        Ok(id.unwrap_or(0) as u64)
    }

    /// Whether an event is stored.
    pub fn contains(&self, asset: &str, seq: u64) -> Result<bool, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(conn) => conn,
            Backend::Memory(m) => return Ok(m.seen.get(asset).is_some_and(|s| s.contains(&seq))),
        };
        Ok(conn
            .query_row(
                "SELECT 1 FROM events WHERE asset = ?1 AND seq = ?2",
                params![asset, seq as i64],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
}

impl Memory {
    fn append(&mut self, events: &mut [(Checked, String)], dead: &[DeadLetter]) -> Vec<bool> {
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
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(asset: &str, seq: u64, good: u64) -> (Checked, String) {
        let text = format!(
            r#"{{"ts":"2026-01-05T06:00:{:02}Z","asset":"{asset}","kind":"count","seq":{seq},"good":{good}}}"#,
            seq % 60
        );
        match parse(&text) {
            Ok(c) => (c, text),
            Err(e) => panic!("{text}: {e}"),
        }
    }

    /// The in-memory store keeps the SQLite store's contract: duplicates by asset + seq within a
    /// batch and across batches, events read back in the order accepted, dead letters newest first.
    #[test]
    fn the_memory_store_behaves_as_the_database() {
        let path = std::env::temp_dir().join(format!("takt-store-test-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let stores = [Store::open(&path, Durability::Normal), Store::memory()];
        let mut seen = Vec::new();
        for store in stores {
            let mut store = store.unwrap_or_else(|e| panic!("{e}"));
            let letter = |n: i64| DeadLetter {
                received_ms: n,
                source: "test".into(),
                payload: "{".into(),
                reason: format!("bad {n}"),
            };
            let first = store
                .append(
                    &mut [event("A", 1, 1), event("B", 1, 2), event("A", 1, 3)],
                    &[letter(1)],
                )
                .unwrap_or_else(|e| panic!("{e}"));
            let second = store
                .append(&mut [event("B", 2, 4), event("B", 1, 5)], &[letter(2)])
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(first, [true, true, false]);
            assert_eq!(second, [true, false]);
            let mut goods = Vec::new();
            let n = store
                .for_each(|c| {
                    if let crate::event::Body::Count(b) = &c.event.body {
                        goods.push((c.event.asset.clone(), c.event.seq, b.good));
                    }
                })
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(n, 3);
            let counts = (
                store.event_count().ok(),
                store.dead_letter_count().ok(),
                store.contains("B", 2).ok(),
                store.contains("A", 2).ok(),
                store.contains("C", 1).ok(),
            );
            let letters: Vec<String> = store
                .dead_letters(1)
                .unwrap_or_else(|e| panic!("{e}"))
                .into_iter()
                .map(|d| d.reason)
                .collect();
            seen.push((goods, counts, letters));
        }
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        assert_eq!(
            seen[0].0,
            [
                ("A".to_string(), 1, 1),
                ("B".to_string(), 1, 2),
                ("B".to_string(), 2, 4)
            ]
        );
        assert_eq!(
            seen[0].1,
            (Some(3), Some(2), Some(true), Some(false), Some(false))
        );
        assert_eq!(seen[0].2, ["bad 2"]);
        assert_eq!(seen[0], seen[1]);
    }
}
