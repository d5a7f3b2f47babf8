//! The embedded default: SQLite in WAL mode. With `synchronous = FULL` a commit survives a power
//! cut; `NORMAL` survives a killed process, not a power cut, and is faster.

use super::{Backend, DeadLetter, Durability, StoreError};
use crate::event::Checked;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

mod migrations {
    refinery::embed_migrations!("migrations/sqlite");
}

/// The table refinery records the applied versions in (the server's own store, beside it in a
/// PostgreSQL database, keeps its own).
pub(crate) const HISTORY: &str = "takt_twin_schema_history";

pub(super) struct Sqlite {
    conn: Connection,
}

impl Sqlite {
    pub(super) fn open(path: &Path, durability: Durability) -> Result<Sqlite, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(
            None,
            "synchronous",
            match durability {
                Durability::Full => "FULL",
                Durability::Normal => "NORMAL",
            },
        )?;
        migrations::migrations::runner()
            .set_migration_table_name(HISTORY)
            .run(&mut conn)?;
        Ok(Sqlite { conn })
    }
}

impl Backend for Sqlite {
    fn append(
        &mut self,
        events: &mut [(Checked, String)],
        dead: &[DeadLetter],
    ) -> Result<Vec<bool>, StoreError> {
        let tx = self.conn.transaction()?;
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

    fn for_each_text(&self, f: &mut dyn FnMut(i64, &str)) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, body FROM events ORDER BY id")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let body: String = row.get(1)?;
            f(id, &body);
        }
        Ok(())
    }

    fn quarantine(&mut self, rows: &[(i64, String)], received_ms: i64) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
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

    fn event_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    fn dead_letter_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM dead_letters", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }

    fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>, StoreError> {
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

    fn save_alerts(&mut self, alerts: &[(u64, bool, String)]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO alerts (id, open, body) VALUES (?1, ?2, ?3)",
            )?;
            for (id, open, body) in alerts {
                put.execute(params![*id as i64, open, body])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn alerts(&self, open_only: bool, limit: u32) -> Result<Vec<(u64, String)>, StoreError> {
        let mut query = self.conn.prepare_cached(
            "SELECT id, body FROM alerts WHERE open >= ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = query.query_map(params![i64::from(open_only), limit], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn alert(&self, id: u64) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT body FROM alerts WHERE id = ?1",
                params![id as i64],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn last_alert_id(&self) -> Result<u64, StoreError> {
        let id: Option<i64> = self
            .conn
            .query_row("SELECT MAX(id) FROM alerts", [], |r| r.get(0))?;
        Ok(id.unwrap_or(0) as u64)
    }

    fn contains(&self, asset: &str, seq: u64) -> Result<bool, StoreError> {
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
