//! The embedded default: SQLite in WAL mode. With `synchronous = FULL` a commit survives a power
//! cut; `NORMAL` survives a killed process, not a power cut, and is faster.
//!
//! A batch's events are one row of `event_batches`: their keys (asset number, seq), their texts
//! one after another and where each ends (`migrations/sqlite/V2__event_batches.sql`, `rows.rs`).
//! `asset` + `seq` stays unique without an index: the store keeps every stored key in memory
//! (compressed sets: a bit to 2 bytes per event) and, under the write lock of each append, first
//! reads the keys of the rows another process wrote since. A row per event with a unique index
//! cost about 8,900 instructions per event; a row per batch costs about 1,440 (callgrind, a
//! durable replay of a bottling day).

use super::{Backend, DeadLetter, Durability, SavedMirror, StoreError};
use crate::event::Checked;
use rows::{REMOVED, ROW_BYTES, Row, ends_blob, event_id, keys_blob, row_and_position};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::path::Path;

mod rows;

use rows::Keys;

mod migrations {
    refinery::embed_migrations!("migrations/sqlite");
}

/// The table refinery records the applied versions in (the server's own store, beside it in a
/// PostgreSQL database, keeps its own).
pub(crate) const HISTORY: &str = "takt_twin_schema_history";

pub(super) struct Sqlite {
    conn: Connection,
    /// Asset name -> its number in `event_assets`, as committed (assets are never removed).
    asset_ids: FxHashMap<String, u32>,
    /// The keys of the events in the rows up to `loaded_row`.
    keys: Keys,
    loaded_row: i64,
    /// The last row whose events were all given to this store's reader (read, or appended by
    /// it); `None` once another process's row was found that its reader was not given.
    given_row: std::cell::Cell<Option<i64>>,
}

impl Sqlite {
    pub(super) fn open(path: &Path, durability: Durability) -> Result<Sqlite, StoreError> {
        let mut conn = Connection::open(path)?;
        // A new file's pages: 16 KiB suit a batch's texts (fewer overflow pages). A file that
        // exists keeps its own (WAL cannot change it).
        conn.pragma_update(None, "page_size", 16384)?;
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
        give_back_free_pages(&conn)?;
        let asset_ids = {
            let mut stmt = conn.prepare("SELECT name, id FROM event_assets")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut store = Sqlite {
            conn,
            asset_ids,
            keys: Keys::default(),
            loaded_row: 0,
            given_row: std::cell::Cell::new(Some(0)),
        };
        load_rows_after(&store.conn, &mut store.keys, &mut store.loaded_row)?;
        Ok(store)
    }

    /// The asset's number if it has one.
    fn stored_asset_id(&self, name: &str) -> Result<Option<u32>, StoreError> {
        if let Some(id) = self.asset_ids.get(name) {
            return Ok(Some(*id));
        }
        asset_number(&self.conn, name)
    }
}

/// The number `event_assets` gives the asset, if it has one.
fn asset_number(conn: &Connection, name: &str) -> Result<Option<u32>, StoreError> {
    conn.query_row("SELECT id FROM event_assets WHERE name = ?1", [name], |r| {
        r.get(0)
    })
    .optional()?
    .map(|id| key_number(name, id))
    .transpose()
}

/// An asset's number as a key holds it.
fn key_number(name: &str, id: i64) -> Result<u32, StoreError> {
    u32::try_from(id)
        .ok()
        .filter(|id| *id != REMOVED)
        .ok_or_else(|| StoreError::Corrupt {
            id: 0,
            message: format!("asset `{name}` has the number {id}, past what a key holds"),
        })
}

/// Gives the file's free pages back to the file system when they are most of it: a store written
/// before version 2 keeps its old rows' pages free after the migration (322 MB of old rows beside
/// 258 MB of new ones for five bottling days) until this rewrites it, once.
fn give_back_free_pages(conn: &Connection) -> Result<(), StoreError> {
    let pages = |pragma: &str| conn.pragma_query_value(None, pragma, |r| r.get::<_, i64>(0));
    let (free, all) = (pages("freelist_count")?, pages("page_count")?);
    if free > 256 && free * 2 > all {
        tracing::info!(free, all, "event store: giving free pages back (VACUUM)");
        conn.execute_batch("VACUUM")?;
    }
    Ok(())
}

/// Loads the keys of the rows stored after `loaded_row` (by this store, or by another process
/// writing the same file), moving it on.
fn load_rows_after(
    conn: &Connection,
    keys: &mut Keys,
    loaded_row: &mut i64,
) -> Result<(), StoreError> {
    for_rows_after(conn, *loaded_row, |row, blob| {
        keys.load(row, blob)?;
        *loaded_row = row;
        Ok(())
    })
}

/// Each row after `row` with its keys, in order.
fn for_rows_after(
    conn: &Connection,
    row: i64,
    mut f: impl FnMut(i64, &[u8]) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT id, keys FROM event_batches WHERE id > ?1 ORDER BY id")?;
    let mut rows = stmt.query([row])?;
    while let Some(r) = rows.next()? {
        f(r.get(0)?, r.get_ref(1)?.as_bytes().unwrap_or_default())?;
    }
    Ok(())
}

/// The asset's number, numbering it in `tx` when new (`added`: numbered in this transaction, known
/// to `committed` only once it commits).
fn asset_id(
    committed: &FxHashMap<String, u32>,
    tx: &Transaction,
    name: &str,
    added: &mut FxHashMap<String, u32>,
) -> Result<u32, StoreError> {
    if let Some(id) = committed.get(name).or_else(|| added.get(name)) {
        return Ok(*id);
    }
    // Another process writing the same file may have numbered it.
    let id = match asset_number(tx, name)? {
        Some(id) => id,
        None => {
            tx.execute("INSERT INTO event_assets (name) VALUES (?1)", [name])?;
            key_number(name, tx.last_insert_rowid())?
        }
    };
    added.insert(name.to_string(), id);
    Ok(id)
}

/// A batch's accepted events written as rows from `first_row` on, each event's key put into
/// `keys` (and into `inserted`, to be taken back if the transaction fails). Per event whether it
/// is new; the last row written.
fn write_rows(
    tx: &Transaction,
    asset_ids: &FxHashMap<String, u32>,
    added: &mut FxHashMap<String, u32>,
    keys: &mut Keys,
    inserted: &mut Vec<(u32, u64)>,
    events: &[(Checked, String)],
    first_row: i64,
) -> Result<(Vec<bool>, i64), StoreError> {
    let mut new = Vec::with_capacity(events.len());
    let mut row = Row::new(first_row);
    let mut put = tx.prepare_cached(
        "INSERT INTO event_batches (id, keys, ends, texts) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut last_row = first_row - 1;
    for (i, (c, body)) in events.iter().enumerate() {
        let asset = asset_id(asset_ids, tx, &c.event.asset, added)?;
        let is_new = keys.insert(asset, c.event.seq);
        if is_new {
            inserted.push((asset, c.event.seq));
            if row.is_full_for(body) {
                put.execute(params![row.id, row.keys, row.ends, row.texts])?;
                last_row = row.id;
                row = Row::new(row.id + 1);
            }
            if row.len() == 0 {
                // Room for what is left of the batch (a row holds at most ROW_BYTES).
                let left: usize = events[i..].iter().map(|(_, b)| b.len()).sum();
                row.texts.reserve(left.min(ROW_BYTES));
            }
            row.push(asset, c.event.seq, body);
        }
        new.push(is_new);
    }
    if row.len() > 0 {
        put.execute(params![row.id, row.keys, row.ends, row.texts])?;
        last_row = row.id;
    }
    Ok((new, last_row))
}

impl Backend for Sqlite {
    fn append(
        &mut self,
        events: &mut [(Checked, String)],
        dead: &[DeadLetter],
    ) -> Result<Vec<bool>, StoreError> {
        // Immediate: what others wrote is read, and the new rows written, under the write lock.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        load_rows_after(&tx, &mut self.keys, &mut self.loaded_row)?;
        if self.given_row.get().is_some_and(|g| g < self.loaded_row) {
            // Rows another process wrote, which this store's reader will not see.
            self.given_row.set(None);
        }
        let highest: i64 =
            tx.query_row("SELECT COALESCE(MAX(id), 0) FROM event_batches", [], |r| {
                r.get(0)
            })?;
        let mut added = FxHashMap::default();
        let mut inserted = Vec::new();
        let written = write_rows(
            &tx,
            &self.asset_ids,
            &mut added,
            &mut self.keys,
            &mut inserted,
            events,
            highest.max(self.loaded_row) + 1,
        )
        .and_then(|written| {
            let mut letter = tx.prepare_cached(
                "INSERT INTO dead_letters (received_ms, source, payload, reason) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for d in dead {
                letter.execute(params![d.received_ms, d.source, d.payload, d.reason])?;
            }
            Ok(written)
        })
        .and_then(|written| Ok(tx.commit().map(|()| written)?));
        match written {
            Ok((new, last_row)) => {
                self.asset_ids.extend(added);
                self.loaded_row = self.loaded_row.max(last_row);
                if let Some(g) = self.given_row.get() {
                    self.given_row.set(Some(g.max(last_row)));
                }
                Ok(new)
            }
            Err(e) => {
                // Not stored: their keys are free.
                for (asset, seq) in inserted {
                    self.keys.remove(asset, seq);
                }
                Err(e)
            }
        }
    }

    fn for_each_text(&self, after: i64, f: &mut dyn FnMut(i64, &str)) -> Result<(), StoreError> {
        let first_row = if after == i64::MIN {
            i64::MIN
        } else {
            row_and_position(after).0
        };
        let mut stmt = self
            .conn
            .prepare("SELECT id, ends, texts FROM event_batches WHERE id >= ?1 ORDER BY id")?;
        let mut rows = stmt.query([first_row])?;
        let mut last_row = None;
        while let Some(r) = rows.next()? {
            let row: i64 = r.get(0)?;
            let ends = match r.get_ref(1)? {
                ValueRef::Blob(b) => Some(b),
                _ => None,
            };
            let texts = r.get_ref(2)?.as_bytes().unwrap_or_default();
            for (position, text) in rows::texts(row, ends, texts)?.into_iter().enumerate() {
                let id = event_id(row, position);
                if !text.is_empty() && id > after {
                    f(id, text);
                }
            }
            last_row = Some(row);
        }
        // What was read, and what a saved state read before `after`, is given.
        let through = last_row.max((after != i64::MIN).then_some(first_row));
        if let (Some(g), Some(t)) = (self.given_row.get(), through) {
            self.given_row.set(Some(g.max(t)));
        }
        Ok(())
    }

    /// All of the last row given: a row is written whole, in one transaction.
    fn read_through(&self) -> Option<i64> {
        self.given_row
            .get()
            .map(|row| event_id(row, rows::ROW_EVENTS - 1))
    }

    fn save_mirror(&mut self, saved: &SavedMirror) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO saved_mirror (id, read_through, saved_ms, fingerprint, body)
             VALUES (1, ?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET read_through = excluded.read_through,
                 saved_ms = excluded.saved_ms, fingerprint = excluded.fingerprint,
                 body = excluded.body
             WHERE excluded.read_through >= saved_mirror.read_through",
            params![
                saved.read_through,
                saved.saved_ms,
                saved.fingerprint,
                saved.body
            ],
        )?;
        Ok(())
    }

    fn saved_mirror(&self) -> Result<Option<SavedMirror>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT read_through, saved_ms, fingerprint, body FROM saved_mirror WHERE id = 1",
                [],
                |r| {
                    Ok(SavedMirror {
                        read_through: r.get(0)?,
                        saved_ms: r.get(1)?,
                        fingerprint: r.get(2)?,
                        body: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    fn save_order_book(&mut self, given_ms: i64, body: &str) -> Result<i64, StoreError> {
        // The version (column `given_ms`) only grows; a dropped book is a row without a body.
        Ok(self.conn.query_row(
            "INSERT INTO order_book (id, given_ms, body) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE
                 SET given_ms = max(excluded.given_ms, order_book.given_ms + 1),
                     body = excluded.body
             RETURNING given_ms",
            params![given_ms, body],
            |r| r.get(0),
        )?)
    }

    fn order_book(&self) -> Result<Option<(i64, String)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT given_ms, body FROM order_book WHERE id = 1 AND body <> ''",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    fn order_book_version(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT given_ms FROM order_book WHERE id = 1 AND body <> ''",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn clear_order_book(&mut self) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE order_book SET given_ms = given_ms + 1, body = '' WHERE id = 1 AND body <> ''",
            [],
        )?;
        Ok(())
    }

    fn quarantine(&mut self, ids: &[(i64, String)], received_ms: i64) -> Result<(), StoreError> {
        // Row -> position -> reason.
        let mut gone: BTreeMap<i64, BTreeMap<usize, &str>> = BTreeMap::new();
        for (id, reason) in ids {
            let (row, position) = row_and_position(*id);
            gone.entry(row).or_default().insert(position, reason);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut freed = Vec::new();
        {
            let mut letter = tx.prepare_cached(
                "INSERT INTO dead_letters (received_ms, source, payload, reason) VALUES (?1, 'store repair', ?2, ?3)",
            )?;
            for (row, positions) in &gone {
                type Stored = (Vec<u8>, Option<Vec<u8>>, String);
                let stored: Option<Stored> = tx
                    .query_row(
                        "SELECT keys, ends, texts FROM event_batches WHERE id = ?1",
                        [row],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?;
                let Some((keys, ends, texts)) = stored else {
                    continue;
                };
                let mut keys = rows::keys(*row, &keys)?;
                let mut texts = rows::texts(*row, ends.as_deref(), texts.as_bytes())?;
                for (position, reason) in positions {
                    let (Some(key), Some(text)) =
                        (keys.get_mut(*position), texts.get_mut(*position))
                    else {
                        continue;
                    };
                    if key.0 != REMOVED {
                        letter.execute(params![received_ms, *text, reason])?;
                        freed.push(*key);
                        key.0 = REMOVED;
                        *text = "";
                    }
                }
                if keys.iter().all(|k| k.0 == REMOVED) {
                    tx.execute("DELETE FROM event_batches WHERE id = ?1", [row])?;
                } else {
                    tx.execute(
                        "UPDATE event_batches SET keys = ?2, ends = ?3, texts = ?4 WHERE id = ?1",
                        params![row, keys_blob(&keys), ends_blob(&texts), texts.concat()],
                    )?;
                }
            }
        }
        tx.commit()?;
        // Their keys are free again.
        for (asset, seq) in freed {
            self.keys.remove(asset, seq);
        }
        Ok(())
    }

    fn event_count(&self) -> Result<u64, StoreError> {
        let mut others = 0;
        for_rows_after(&self.conn, self.loaded_row, |row, blob| {
            others += rows::keys(row, blob)?
                .iter()
                .filter(|k| k.0 != REMOVED)
                .count() as u64;
            Ok(())
        })?;
        Ok(self.keys.count() + others)
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
        let Some(asset) = self.stored_asset_id(asset)? else {
            return Ok(false);
        };
        if self.keys.contains(asset, seq) {
            return Ok(true);
        }
        // Or stored by another process since.
        let mut found = false;
        for_rows_after(&self.conn, self.loaded_row, |row, blob| {
            found |= rows::keys(row, blob)?.contains(&(asset, seq));
            Ok(())
        })?;
        Ok(found)
    }
}
