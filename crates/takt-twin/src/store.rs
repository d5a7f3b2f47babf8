//! Durable event storage: an embedded SQLite database in WAL mode. A batch of events and the batch's
//! dead letters go in one transaction; only when it has committed are they acknowledged. `asset` +
//! `seq` is unique, so a resent event is recognised as a duplicate across restarts too. With
//! `synchronous = FULL` (the default) a commit survives a power cut; `NORMAL` survives a killed
//! process, not a power cut, and is faster.

use crate::event::{Checked, parse};
use rusqlite::{Connection, OptionalExtension, params};
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
    conn: Connection,
}

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

    /// A store in memory: deduplication without durability (tests, quick replays).
    pub fn memory() -> Result<Store, StoreError> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Store, StoreError> {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS events (
                 id INTEGER PRIMARY KEY,
                 asset TEXT NOT NULL,
                 seq INTEGER NOT NULL,
                 ts_ms INTEGER NOT NULL,
                 kind TEXT NOT NULL,
                 body TEXT NOT NULL,
                 UNIQUE (asset, seq)
             );
             CREATE TABLE IF NOT EXISTS dead_letters (
                 id INTEGER PRIMARY KEY,
                 received_ms INTEGER NOT NULL,
                 source TEXT NOT NULL,
                 payload TEXT NOT NULL,
                 reason TEXT NOT NULL
             );",
        )?;
        Ok(Store { conn })
    }

    /// Stores a batch in one transaction: each checked event with its JSON text as received. Returns,
    /// per event, whether it is new (false: a duplicate of a stored one). Dead letters are stored
    /// with it.
    pub fn append(
        &mut self,
        events: &[(Checked, String)],
        dead: &[DeadLetter],
    ) -> Result<Vec<bool>, StoreError> {
        let tx = self.conn.transaction()?;
        let mut new = Vec::with_capacity(events.len());
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO events (asset, seq, ts_ms, kind, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (c, body) in events {
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
        let mut stmt = self
            .conn
            .prepare("SELECT id, body FROM events ORDER BY id")?;
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

    pub fn event_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    pub fn dead_letter_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM dead_letters", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }

    /// The most recent dead letters, newest first.
    pub fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>, StoreError> {
        let mut stmt = self.conn.prepare(
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

    /// Whether an event is stored.
    pub fn contains(&self, asset: &str, seq: u64) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM events WHERE asset = ?1 AND seq = ?2",
                params![asset, seq as i64],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
}
