//! The event store on PostgreSQL, shared by the servers of a site.
//!
//! - **Partitions.** `events` is partitioned by its time stamp, one partition per UTC week
//!   (Monday to Monday), named `events_w<YYYYMMDD>` by the week's first day. A batch creates the
//!   weeks it needs; the retention drops whole weeks, so old events go without a DELETE's cost.
//! - **Idempotency.** A partitioned table's unique keys must hold its partition key, so `asset` +
//!   `seq` is the primary key of a table of its own, `event_keys`: one `INSERT .. ON CONFLICT DO
//!   NOTHING` per batch says which events are new, and only those go into `events`.
//! - **Order.** Appends take a transaction-level advisory lock, so the servers' appends commit
//!   one after another and the event ids commit in increasing order: whoever has read up to an
//!   id has seen every event below it.
//! - **Round trips.** A batch is a handful of statements whatever its size: the rows go as arrays
//!   (`UNNEST`), not one statement per event.

use super::connection::{PostgresConnection, PostgresLocation};
use super::{Backend, DeadLetter, Judging, SavedMirror, StoreError};
use crate::event::Checked;
use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};

mod migrations {
    refinery::embed_migrations!("migrations/postgres");
}

/// One week, ms.
const WEEK_MS: i64 = 7 * 86_400_000;
/// 1970-01-05, the first Monday of Unix time, ms: weeks start on a Monday, 00:00 UTC.
const FIRST_MONDAY_MS: i64 = 4 * 86_400_000;
/// Advisory lock keys ("takt" and a number; migrations take `0x7461_6b74_0002`): appends.
const APPEND_LOCK: i64 = 0x7461_6b74_0001;
/// Held for the life of a connection by the server that judges the alert rules.
const JUDGE_LOCK: i64 = 0x7461_6b74_0003;

/// What the servers of one store share in the database beyond its tables: the appends' lock, the
/// judge's lock and the notification channel. A store in the default schema has the constants
/// (as before a database held several plants); one in a schema of its own has keys derived from
/// its name, so that each plant's appends and judge are its own.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Keys {
    append_lock: i64,
    judge_lock: i64,
    channel: String,
}

impl Keys {
    fn of(location: &PostgresLocation) -> Keys {
        match location.schema() {
            None => Keys {
                append_lock: APPEND_LOCK,
                judge_lock: JUDGE_LOCK,
                channel: EVENTS_CHANNEL.to_string(),
            },
            Some(schema) => Keys {
                append_lock: fnv1a(&format!("takt/{schema}/append")),
                judge_lock: fnv1a(&format!("takt/{schema}/judge")),
                // A schema name is at most 48 bytes: the channel stays within 63.
                channel: format!("{EVENTS_CHANNEL}_{schema}"),
            },
        }
    }
}

/// FNV-1a, 64 bits: the same key for a name in every process and release (the standard
/// library's hashers promise neither).
fn fnv1a(text: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash as i64
}

/// The channel the appends of the store at `location` notify (in their transaction, so at
/// their commit), with the writer's name as the payload.
pub fn events_channel(location: &PostgresLocation) -> String {
    Keys::of(location).channel
}

pub(super) struct Postgres {
    db: PostgresConnection,
    retention_ms: Option<i64>,
    /// The newest event's time stamp stored through this connection or found at opening (ms).
    newest_ms: Option<i64>,
    /// The first week still stored (its start, ms), as last seen.
    oldest_week_ms: Option<i64>,
    /// The highest event id this store has read or written: every event up to it has been
    /// given to its reader (ids commit in increasing order, see the module's notes).
    cursor: AtomicI64,
    /// Other servers' events found by an append (under the appends' lock, before this one's own
    /// events), waiting for [`Backend::others`].
    from_others: Vec<(i64, String)>,
    /// The connection's generation in which this server took the judge's lock, if it has.
    judging_since: Option<u64>,
    /// This writer's name (`w` and 16 hex digits), the payload of its notifications.
    writer: String,
    keys: Keys,
}

/// The channel the appends of a store in the default schema notify; see [`events_channel`].
pub const EVENTS_CHANNEL: &str = "takt_events";

/// The table refinery records the applied versions in.
const HISTORY: &str = "takt_twin_schema_history";

/// The start of the week holding `ts_ms`.
fn week_of(ts_ms: i64) -> i64 {
    (ts_ms - FIRST_MONDAY_MS).div_euclid(WEEK_MS) * WEEK_MS + FIRST_MONDAY_MS
}

fn partition_name(week_ms: i64) -> String {
    let day = chrono::DateTime::from_timestamp_millis(week_ms)
        .map(|d| d.format("%Y%m%d").to_string())
        .unwrap_or_else(|| format!("ms{week_ms}"));
    format!("events_w{day}")
}

impl Postgres {
    pub(super) fn connect(location: &PostgresLocation) -> Result<Postgres, StoreError> {
        let db = location.connect()?;
        PostgresLocation::migrate(&db, migrations::migrations::runner(), HISTORY)?;
        let newest_ms: Option<i64> = db
            .with(|c| c.query_one("SELECT MAX(ts_ms) FROM event_keys", &[]))?
            .get(0);
        let mut store = Postgres {
            db,
            retention_ms: location.retention_ms,
            newest_ms,
            oldest_week_ms: None,
            cursor: AtomicI64::new(0),
            from_others: Vec::new(),
            judging_since: None,
            keys: Keys::of(location),
            // Random keys of the standard library's hasher: a name no other writer has.
            writer: format!(
                "w{:016x}",
                std::hash::BuildHasher::hash_one(
                    &std::collections::hash_map::RandomState::new(),
                    std::process::id()
                )
            ),
        };
        store.oldest_week_ms = store.weeks()?.first().copied();
        store.apply_retention()?;
        Ok(store)
    }

    /// The weeks stored, oldest first, from the catalogue.
    fn weeks(&self) -> Result<Vec<i64>, StoreError> {
        let rows = self.db.with(|c| {
            c.query(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = 'events'::regclass",
                &[],
            )
        })?;
        let mut weeks: Vec<i64> = rows
            .iter()
            .filter_map(|r| {
                let name: String = r.get(0);
                let day = name.strip_prefix("events_w")?;
                let date = chrono::NaiveDate::parse_from_str(day, "%Y%m%d").ok()?;
                Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
            })
            .collect();
        weeks.sort_unstable();
        Ok(weeks)
    }

    /// Drops the weeks that ended before the retention's cut-off (the newest event less the
    /// retention), with their keys, when there are any.
    fn apply_retention(&mut self) -> Result<(), StoreError> {
        let (Some(keep_ms), Some(newest), Some(oldest)) =
            (self.retention_ms, self.newest_ms, self.oldest_week_ms)
        else {
            return Ok(());
        };
        let cut_ms = newest - keep_ms;
        if oldest + WEEK_MS > cut_ms {
            return Ok(());
        }
        let weeks = self.weeks()?;
        let gone: Vec<i64> = weeks
            .iter()
            .copied()
            .filter(|w| w + WEEK_MS <= cut_ms)
            .collect();
        self.db.with(|client| -> Result<(), StoreError> {
            let mut tx = client.transaction()?;
            tx.execute(
                "SELECT pg_advisory_xact_lock($1)",
                &[&self.keys.append_lock],
            )?;
            for w in &gone {
                tx.batch_execute(&format!("DROP TABLE IF EXISTS {}", partition_name(*w)))?;
            }
            if let Some(last) = gone.last() {
                tx.execute(
                    "DELETE FROM event_keys WHERE ts_ms < $1",
                    &[&(last + WEEK_MS)],
                )?;
            }
            tx.commit()?;
            Ok(())
        })?;
        tracing::info!(
            weeks = gone.len(),
            "event store: retention dropped old weeks"
        );
        self.oldest_week_ms = weeks.into_iter().find(|w| w + WEEK_MS > cut_ms);
        Ok(())
    }
}

/// Creates a week's partition unless it exists.
fn create_week(week_ms: i64) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {} PARTITION OF events FOR VALUES FROM ({week_ms}) TO ({})",
        partition_name(week_ms),
        week_ms + WEEK_MS
    )
}

/// Claims the batch's keys and stores the events whose key was free: per event whether it is new
/// (the first of a batch's copies is the new one, as in the other backends), and the highest id
/// given.
fn insert_new(
    tx: &mut postgres::Transaction<'_>,
    events: &[(Checked, String)],
) -> Result<(Vec<bool>, Option<i64>), StoreError> {
    if events.is_empty() {
        return Ok((Vec::new(), None));
    }
    let seqs: Vec<i64> = events.iter().map(|(c, _)| c.event.seq as i64).collect();
    let assets: Vec<&str> = events.iter().map(|(c, _)| c.event.asset.as_str()).collect();
    let times: Vec<i64> = events.iter().map(|(c, _)| c.ts_ms).collect();
    let fresh = tx.query(
        "INSERT INTO event_keys (seq, asset, ts_ms)
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[])
         ON CONFLICT DO NOTHING RETURNING seq, asset",
        &[&seqs, &assets, &times],
    )?;
    let mut fresh: HashSet<(i64, String)> = fresh.iter().map(|r| (r.get(0), r.get(1))).collect();
    let new: Vec<bool> = events
        .iter()
        .map(|(c, _)| fresh.remove(&(c.event.seq as i64, c.event.asset.clone())))
        .collect();
    let (mut n_assets, mut n_seqs, mut n_times, mut kinds, mut bodies) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((c, body), _) in events.iter().zip(&new).filter(|(_, is_new)| **is_new) {
        n_assets.push(c.event.asset.as_str());
        n_seqs.push(c.event.seq as i64);
        n_times.push(c.ts_ms);
        kinds.push(c.event.body.kind());
        bodies.push(body.as_str());
    }
    if bodies.is_empty() {
        return Ok((new, None));
    }
    let ids = tx.query(
        "INSERT INTO events (asset, seq, ts_ms, kind, body)
         SELECT a, s, t, k, b
         FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[])
              WITH ORDINALITY AS u(a, s, t, k, b, n)
         ORDER BY n
         RETURNING id",
        &[&n_assets, &n_seqs, &n_times, &kinds, &bodies],
    )?;
    Ok((new, ids.iter().map(|r| r.get::<_, i64>(0)).max()))
}

fn insert_dead(tx: &mut postgres::Transaction<'_>, dead: &[DeadLetter]) -> Result<(), StoreError> {
    if dead.is_empty() {
        return Ok(());
    }
    let received: Vec<i64> = dead.iter().map(|d| d.received_ms).collect();
    let sources: Vec<&str> = dead.iter().map(|d| d.source.as_str()).collect();
    let payloads: Vec<&str> = dead.iter().map(|d| d.payload.as_str()).collect();
    let reasons: Vec<&str> = dead.iter().map(|d| d.reason.as_str()).collect();
    tx.execute(
        "INSERT INTO dead_letters (received_ms, source, payload, reason)
         SELECT r, s, p, w
         FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[])
              WITH ORDINALITY AS u(r, s, p, w, n)
         ORDER BY n",
        &[&received, &sources, &payloads, &reasons],
    )?;
    Ok(())
}

impl Backend for Postgres {
    fn append(
        &mut self,
        events: &mut [(Checked, String)],
        dead: &[DeadLetter],
    ) -> Result<Vec<bool>, StoreError> {
        let mut weeks: Vec<i64> = events.iter().map(|(c, _)| week_of(c.ts_ms)).collect();
        weeks.sort_unstable();
        weeks.dedup();
        let cursor = self.cursor.load(Ordering::Relaxed);
        let writer = self.writer.as_str();
        let channel = self.keys.channel.as_str();
        let (new, from_others, newest_id) = self.db.with(|client| {
            let mut tx = client.transaction()?;
            tx.execute(
                "SELECT pg_advisory_xact_lock($1)",
                &[&self.keys.append_lock],
            )?;
            for w in &weeks {
                tx.batch_execute(&create_week(*w))?;
            }
            // What others stored since this store last looked comes before this batch in the
            // order of ids, so its reader mirrors it first.
            let from_others: Vec<(i64, String)> = tx
                .query(
                    "SELECT id, body FROM events WHERE id > $1 ORDER BY id",
                    &[&cursor],
                )?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            let mut newest_id = from_others.last().map_or(cursor, |(id, _)| *id);
            let new = insert_new(&mut tx, events)?;
            if let Some(last) = new.1 {
                newest_id = newest_id.max(last);
                tx.execute("SELECT pg_notify($1, $2)", &[&channel, &writer])?;
            }
            insert_dead(&mut tx, dead)?;
            tx.commit()?;
            Ok::<_, StoreError>((new.0, from_others, newest_id))
        })?;
        self.cursor.fetch_max(newest_id, Ordering::Relaxed);
        self.from_others.extend(from_others);
        if let Some(newest) = events.iter().map(|(c, _)| c.ts_ms).max() {
            self.newest_ms = Some(self.newest_ms.map_or(newest, |n| n.max(newest)));
        }
        if let Some(first) = weeks.first() {
            self.oldest_week_ms = Some(self.oldest_week_ms.map_or(*first, |o| o.min(*first)));
        }
        self.apply_retention()?;
        Ok(new)
    }

    /// Reads in pages of 10,000 by id, so that a store of any size is read in bounded memory.
    fn for_each_text(&self, after: i64, f: &mut dyn FnMut(i64, &str)) -> Result<(), StoreError> {
        // What a saved state read before `after` is given too.
        if after != i64::MIN {
            self.cursor.fetch_max(after, Ordering::Relaxed);
        }
        let mut after = after;
        loop {
            let rows = self.db.with(|c| {
                c.query(
                    "SELECT id, body FROM events WHERE id > $1 ORDER BY id LIMIT 10000",
                    &[&after],
                )
            })?;
            for row in &rows {
                after = row.get(0);
                self.cursor.fetch_max(after, Ordering::Relaxed);
                f(after, row.get(1));
            }
            if rows.len() < 10_000 {
                return Ok(());
            }
        }
    }

    /// Everything up to the cursor, unless other servers' events found by an append still wait
    /// for [`Backend::others`].
    fn read_through(&self) -> Option<i64> {
        self.from_others
            .is_empty()
            .then(|| self.cursor.load(Ordering::Relaxed))
    }

    /// Of the servers of a plant, the one that saved through the highest id keeps the row.
    fn save_mirror(&mut self, saved: &SavedMirror) -> Result<(), StoreError> {
        self.db.with(|c| {
            c.execute(
                "INSERT INTO saved_mirror (id, read_through, saved_ms, fingerprint, body)
                 VALUES (1, $1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET read_through = excluded.read_through,
                     saved_ms = excluded.saved_ms, fingerprint = excluded.fingerprint,
                     body = excluded.body
                 WHERE excluded.read_through >= saved_mirror.read_through",
                &[
                    &saved.read_through,
                    &saved.saved_ms,
                    &saved.fingerprint,
                    &saved.body,
                ],
            )
        })?;
        Ok(())
    }

    fn saved_mirror(&self) -> Result<Option<SavedMirror>, StoreError> {
        let row = self.db.with(|c| {
            c.query_opt(
                "SELECT read_through, saved_ms, fingerprint, body FROM saved_mirror WHERE id = 1",
                &[],
            )
        })?;
        Ok(row.map(|r| SavedMirror {
            read_through: r.get(0),
            saved_ms: r.get(1),
            fingerprint: r.get(2),
            body: r.get(3),
        }))
    }

    fn save_order_book(&mut self, given_ms: i64, body: &str) -> Result<i64, StoreError> {
        // The version (column `given_ms`) only grows, whichever server writes: the upsert takes
        // the row's lock. A dropped book is a row without a body.
        let row = self.db.with(|c| {
            c.query_one(
                "INSERT INTO order_book (id, given_ms, body) VALUES (1, $1, $2)
                 ON CONFLICT (id) DO UPDATE
                     SET given_ms = GREATEST(excluded.given_ms, order_book.given_ms + 1),
                         body = excluded.body
                 RETURNING given_ms",
                &[&given_ms, &body],
            )
        })?;
        Ok(row.get(0))
    }

    fn order_book(&self) -> Result<Option<(i64, String)>, StoreError> {
        let row = self.db.with(|c| {
            c.query_opt(
                "SELECT given_ms, body FROM order_book WHERE id = 1 AND body <> ''",
                &[],
            )
        })?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    fn order_book_version(&self) -> Result<Option<i64>, StoreError> {
        let row = self.db.with(|c| {
            c.query_opt(
                "SELECT given_ms FROM order_book WHERE id = 1 AND body <> ''",
                &[],
            )
        })?;
        Ok(row.map(|r| r.get(0)))
    }

    fn clear_order_book(&mut self) -> Result<(), StoreError> {
        self.db.with(|c| {
            c.execute(
                "UPDATE order_book SET given_ms = given_ms + 1, body = '' \
                 WHERE id = 1 AND body <> ''",
                &[],
            )
        })?;
        Ok(())
    }

    fn quarantine(&mut self, rows: &[(i64, String)], received_ms: i64) -> Result<(), StoreError> {
        self.db.with(|client| {
            let mut tx = client.transaction()?;
            tx.execute(
                "SELECT pg_advisory_xact_lock($1)",
                &[&self.keys.append_lock],
            )?;
            for (id, reason) in rows {
                tx.execute(
                    "WITH gone AS (DELETE FROM events WHERE id = $1 RETURNING asset, seq, body),
                          freed AS (DELETE FROM event_keys k USING gone
                                    WHERE k.asset = gone.asset AND k.seq = gone.seq)
                     INSERT INTO dead_letters (received_ms, source, payload, reason)
                     SELECT $2, 'store repair', body, $3 FROM gone",
                    &[id, &received_ms, reason],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn event_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .db
            .with(|c| c.query_one("SELECT COUNT(*) FROM events", &[]))?
            .get(0);
        Ok(n as u64)
    }

    fn dead_letter_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .db
            .with(|c| c.query_one("SELECT COUNT(*) FROM dead_letters", &[]))?
            .get(0);
        Ok(n as u64)
    }

    fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>, StoreError> {
        let rows = self.db.with(|c| {
            c.query(
                "SELECT received_ms, source, payload, reason FROM dead_letters ORDER BY id DESC LIMIT $1",
                &[&i64::from(limit)],
            )
        })?;
        Ok(rows
            .iter()
            .map(|r| DeadLetter {
                received_ms: r.get(0),
                source: r.get(1),
                payload: r.get(2),
                reason: r.get(3),
            })
            .collect())
    }

    fn save_alerts(&mut self, alerts: &[(u64, bool, String)]) -> Result<(), StoreError> {
        self.db.with(|client| {
            let mut tx = client.transaction()?;
            for (id, open, body) in alerts {
                tx.execute(
                    "INSERT INTO alerts (id, open, body) VALUES ($1, $2, $3)
                     ON CONFLICT (id) DO UPDATE SET open = excluded.open, body = excluded.body",
                    &[&(*id as i64), open, body],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn alerts(&self, open_only: bool, limit: u32) -> Result<Vec<(u64, String)>, StoreError> {
        let rows = self.db.with(|c| {
            c.query(
                "SELECT id, body FROM alerts WHERE open OR NOT $1 ORDER BY id DESC LIMIT $2",
                &[&open_only, &i64::from(limit)],
            )
        })?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<_, i64>(0) as u64, r.get(1)))
            .collect())
    }

    fn alert(&self, id: u64) -> Result<Option<String>, StoreError> {
        Ok(self
            .db
            .with(|c| c.query_opt("SELECT body FROM alerts WHERE id = $1", &[&(id as i64)]))?
            .map(|r| r.get(0)))
    }

    fn last_alert_id(&self) -> Result<u64, StoreError> {
        let id: Option<i64> = self
            .db
            .with(|c| c.query_one("SELECT MAX(id) FROM alerts", &[]))?
            .get(0);
        Ok(id.unwrap_or(0) as u64)
    }

    fn writer(&self) -> Option<&str> {
        Some(&self.writer)
    }

    fn retention_ms(&self) -> Option<i64> {
        self.retention_ms
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.db.with(|c| c.simple_query("SELECT 1"))?;
        Ok(())
    }

    fn judging(&mut self) -> Result<Judging, StoreError> {
        let generation = self.db.generation();
        if self.judging_since == Some(generation) {
            return Ok(Judging::Judges);
        }
        let took: bool = self
            .db
            .with(|c| c.query_one("SELECT pg_try_advisory_lock($1)", &[&self.keys.judge_lock]))?
            .get(0);
        if took {
            self.judging_since = Some(self.db.generation());
            tracing::info!("this server judges the alert rules of the site");
            Ok(Judging::BecameJudge)
        } else {
            self.judging_since = None;
            Ok(Judging::Another)
        }
    }

    fn found_by_append(&mut self) -> Vec<(i64, String)> {
        std::mem::take(&mut self.from_others)
    }

    fn others(&mut self) -> Result<Vec<(i64, String)>, StoreError> {
        if !self.from_others.is_empty() {
            return Ok(std::mem::take(&mut self.from_others));
        }
        let cursor = self.cursor.load(Ordering::Relaxed);
        let rows = self.db.with(|c| {
            c.query(
                "SELECT id, body FROM events WHERE id > $1 ORDER BY id LIMIT 10000",
                &[&cursor],
            )
        })?;
        let others: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        if let Some((last, _)) = others.last() {
            self.cursor.fetch_max(*last, Ordering::Relaxed);
        }
        Ok(others)
    }

    fn contains(&self, asset: &str, seq: u64) -> Result<bool, StoreError> {
        Ok(self
            .db
            .with(|c| {
                c.query_opt(
                    "SELECT 1 FROM event_keys WHERE asset = $1 AND seq = $2",
                    &[&asset, &(seq as i64)],
                )
            })?
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_midnight_utc() {
        // 2026-12-04 is a Friday; its week began on Monday 2026-11-30.
        let monday = chrono::NaiveDate::from_ymd_opt(2026, 11, 30)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc().timestamp_millis());
        let friday = chrono::NaiveDate::from_ymd_opt(2026, 12, 4)
            .and_then(|d| d.and_hms_opt(13, 30, 0))
            .map(|d| d.and_utc().timestamp_millis());
        let (Some(monday), Some(friday)) = (monday, friday) else {
            panic!("dates")
        };
        assert_eq!(week_of(friday), monday);
        assert_eq!(week_of(monday), monday);
        assert_eq!(week_of(monday - 1), monday - WEEK_MS);
        assert_eq!(partition_name(monday), "events_w20261130");
        // Before 1970 too.
        assert_eq!(partition_name(week_of(-1)), "events_w19691229");
    }
}
