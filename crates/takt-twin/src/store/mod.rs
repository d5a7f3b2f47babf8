//! Durable event storage behind one interface, [`Store`], with three backends:
//! - an embedded SQLite database in WAL mode (the default, `sqlite.rs`);
//! - PostgreSQL, shared by several servers (`postgres.rs`): events partitioned by week, a
//!   retention, idempotency enforced by the database;
//! - plain memory (`memory.rs`), for replays that need no durability: back-testing as fast as
//!   the mirror goes.
//!
//! Every backend keeps one contract, tested on all three: a batch of events and the batch's dead
//! letters go in one transaction, and only when it has committed are they acknowledged; `asset` +
//! `seq` is unique, so a resent event is recognised as a duplicate, within a batch, across batches
//! and across restarts; events are read back in the order they were accepted.
//!
//! The databases' schemas are versioned migrations (refinery; `migrations/sqlite`,
//! `migrations/postgres`), applied when a store is opened. A store written before the schema had a
//! version takes version 1 unchanged.

mod connection;
mod memory;
mod postgres;
mod sqlite;
mod transport;

use crate::alerts::Alert;
use crate::event::{Checked, parse};
use std::path::{Path, PathBuf};

pub use connection::{PostgresConnection, PostgresError, PostgresLocation, is_schema_name};
pub use postgres::{EVENTS_CHANNEL, events_channel};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("event store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("event store (PostgreSQL): {0}")]
    Postgres(#[from] PostgresError),
    #[error("event store: the schema cannot be brought up to date: {0}")]
    Migration(#[from] refinery::Error),
    #[error("event store: stored event {id} cannot be read back: {message}")]
    Corrupt { id: i64, message: String },
}

impl From<::postgres::Error> for StoreError {
    fn from(e: ::postgres::Error) -> StoreError {
        StoreError::Postgres(PostgresError::from(e))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync on every commit: survives power loss.
    Full,
    /// Survives a crash of the process.
    Normal,
}

/// Where a store lives: a SQLite file, or a PostgreSQL database.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreLocation {
    File(PathBuf),
    Postgres(PostgresLocation),
}

impl StoreLocation {
    /// A `postgres://` or `postgresql://` URL (its password not in it: see
    /// [`PostgresLocation::parse`]), or else a file path.
    pub fn parse(text: &str) -> Result<StoreLocation, PostgresError> {
        if PostgresLocation::is_url(text) {
            Ok(StoreLocation::Postgres(PostgresLocation::parse(text)?))
        } else {
            Ok(StoreLocation::File(PathBuf::from(text)))
        }
    }
}

impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::File(p) => write!(f, "{}", p.display()),
            StoreLocation::Postgres(l) => write!(f, "{l}"),
        }
    }
}

/// What a backend does; [`Store`] adds the parsing of stored events and alerts.
trait Backend: Send {
    fn append(
        &mut self,
        events: &mut [(Checked, String)],
        dead: &[DeadLetter],
    ) -> Result<Vec<bool>, StoreError>;
    /// The stored events with an id after `after` (all: `i64::MIN`), in order.
    fn for_each_text(&self, after: i64, f: &mut dyn FnMut(i64, &str)) -> Result<(), StoreError>;
    /// See [`Store::read_through`].
    fn read_through(&self) -> Option<i64>;
    /// See [`Store::save_mirror`].
    fn save_mirror(&mut self, saved: &SavedMirror) -> Result<(), StoreError>;
    /// See [`Store::saved_mirror`].
    fn saved_mirror(&self) -> Result<Option<SavedMirror>, StoreError>;
    /// See [`Store::save_order_book`].
    fn save_order_book(&mut self, given_ms: i64, body: &str) -> Result<i64, StoreError>;
    /// See [`Store::order_book`].
    fn order_book(&self) -> Result<Option<(i64, String)>, StoreError>;
    /// See [`Store::order_book_version`].
    fn order_book_version(&self) -> Result<Option<i64>, StoreError>;
    /// See [`Store::clear_order_book`].
    fn clear_order_book(&mut self) -> Result<(), StoreError>;
    fn quarantine(&mut self, rows: &[(i64, String)], received_ms: i64) -> Result<(), StoreError>;
    fn event_count(&self) -> Result<u64, StoreError>;
    fn dead_letter_count(&self) -> Result<u64, StoreError>;
    fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>, StoreError>;
    fn save_alerts(&mut self, alerts: &[(u64, bool, String)]) -> Result<(), StoreError>;
    /// Stored alerts' ids and texts, newest first.
    fn alerts(&self, open_only: bool, limit: u32) -> Result<Vec<(u64, String)>, StoreError>;
    fn alert(&self, id: u64) -> Result<Option<String>, StoreError>;
    fn last_alert_id(&self) -> Result<u64, StoreError>;
    fn contains(&self, asset: &str, seq: u64) -> Result<bool, StoreError>;
    /// See [`Store::writer`].
    fn writer(&self) -> Option<&str> {
        None
    }
    /// See [`Store::judging`]; a store with one writer: always.
    fn judging(&mut self) -> Result<Judging, StoreError> {
        Ok(Judging::Judges)
    }
    /// See [`Store::retention_ms`].
    fn retention_ms(&self) -> Option<i64> {
        None
    }
    /// See [`Store::ping`].
    fn ping(&self) -> Result<(), StoreError> {
        self.event_count().map(|_| ())
    }
    /// See [`Store::others`]; a store with one writer has none.
    fn others(&mut self) -> Result<Vec<(i64, String)>, StoreError> {
        Ok(Vec::new())
    }
    /// See [`Store::found_by_append`]; a store with one writer finds none.
    fn found_by_append(&mut self) -> Vec<(i64, String)> {
        Vec::new()
    }
}

pub struct Store {
    backend: Box<dyn Backend>,
}

/// Whether this server judges the alert rules (see [`Store::judging`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judging {
    Judges,
    /// Judges from now on: another server judged until now, so what is open is in the store.
    BecameJudge,
    /// Another server judges.
    Another,
}

/// A twin's mirror as saved in its store (see `crate::saved`).
#[derive(Debug, Clone, PartialEq)]
pub struct SavedMirror {
    /// Every stored event with an id up to this one made the state.
    pub read_through: i64,
    /// When it was saved (the saving server's clock), Unix ms.
    pub saved_ms: i64,
    /// What else the state depends on ([`crate::mirror::Mirror::fingerprint`]).
    pub fingerprint: String,
    pub body: Vec<u8>,
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
    /// Opens (or creates) the SQLite database file.
    pub fn open(path: &Path, durability: Durability) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Box::new(sqlite::Sqlite::open(path, durability)?),
        })
    }

    /// Opens the store at `location`: a SQLite file with `durability`, or a PostgreSQL database
    /// (whose commits are as durable as its own settings make them).
    pub fn connect(location: &StoreLocation, durability: Durability) -> Result<Store, StoreError> {
        match location {
            StoreLocation::File(path) => Store::open(path, durability),
            StoreLocation::Postgres(l) => Ok(Store {
                backend: Box::new(postgres::Postgres::connect(l)?),
            }),
        }
    }

    /// A store in memory: deduplication without durability (tests, replays for back-testing). It
    /// cannot fail; the `Result` keeps it interchangeable with [`Store::open`].
    pub fn memory() -> Result<Store, StoreError> {
        Ok(Store {
            backend: Box::new(memory::Memory::default()),
        })
    }

    /// Stores a batch in one transaction: each checked event with its JSON text as received. Returns,
    /// per event, whether it is new (false: a duplicate of a stored one, or of one earlier in the
    /// batch). Dead letters are stored with it.
    /// The texts of new events may be taken (left empty): the caller needs only the checked events
    /// afterwards.
    pub fn append(
        &mut self,
        events: &mut [(Checked, String)],
        dead: &[DeadLetter],
    ) -> Result<Vec<bool>, StoreError> {
        self.backend.append(events, dead)
    }

    /// Every stored event in the order it was accepted.
    pub fn for_each(&self, mut f: impl FnMut(Checked)) -> Result<u64, StoreError> {
        let mut n = 0;
        let mut failed = None;
        self.backend.for_each_text(i64::MIN, &mut |id, body| {
            if failed.is_some() {
                return;
            }
            match parse(body) {
                Ok(c) => {
                    f(c);
                    n += 1;
                }
                Err(e) => {
                    failed = Some(StoreError::Corrupt {
                        id,
                        message: e.to_string(),
                    })
                }
            }
        })?;
        match failed {
            Some(e) => Err(e),
            None => Ok(n),
        }
    }

    /// Every stored event's row id and text, in the order accepted, unchecked: for a repair that
    /// checks them again by today's rules.
    pub fn for_each_text(&self, mut f: impl FnMut(i64, &str)) -> Result<(), StoreError> {
        self.backend.for_each_text(i64::MIN, &mut f)
    }

    /// [`Store::for_each_text`] of the events stored after the id `after` only.
    pub fn for_each_text_after(
        &self,
        after: i64,
        mut f: impl FnMut(i64, &str),
    ) -> Result<(), StoreError> {
        self.backend.for_each_text(after, &mut f)
    }

    /// The id through which every stored event has been given to this store's reader (read, or
    /// appended by it, or handed over by [`Store::others`]), so that a state made of what it was
    /// given is the state of the events through that id. `None` when this store cannot tell: a
    /// SQLite file another process wrote to since it was opened, or other servers' events found by
    /// an append and not yet taken by [`Store::others`].
    pub fn read_through(&self) -> Option<i64> {
        self.backend.read_through()
    }

    /// Keeps `saved` as the store's saved mirror, unless the one it holds was saved through a
    /// later event (another server's).
    pub fn save_mirror(&mut self, saved: &SavedMirror) -> Result<(), StoreError> {
        self.backend.save_mirror(saved)
    }

    /// The saved mirror the store holds, if any.
    pub fn saved_mirror(&self) -> Result<Option<SavedMirror>, StoreError> {
        self.backend.saved_mirror()
    }

    /// Keeps `body` (JSON, `crate::orders::OrderBook`) as the plant's live order book, in place of
    /// the one it held, given at `given_ms` (Unix ms, the giving server's clock). Returns the
    /// book's version: `given_ms`, or one more than the last version of the plant's book when
    /// that is not smaller (two servers giving books in one millisecond, a clock behind, a book
    /// given in the millisecond another was dropped), so that every book and every drop has a
    /// version of its own.
    pub fn save_order_book(&mut self, given_ms: i64, body: &str) -> Result<i64, StoreError> {
        self.backend.save_order_book(given_ms, body)
    }

    /// The live order book the store holds (its version, and the JSON), if one was given.
    pub fn order_book(&self) -> Result<Option<(i64, String)>, StoreError> {
        self.backend.order_book()
    }

    /// The version of the order book the store holds, if one was given: a cheap look whether a
    /// book read before is still the one held, whichever of the plant's servers gave or dropped
    /// one since.
    pub fn order_book_version(&self) -> Result<Option<i64>, StoreError> {
        self.backend.order_book_version()
    }

    /// Drops the live order book: the plant is back on the scenario's orders. The drop takes a
    /// version of its own (the store keeps the version, with no book).
    pub fn clear_order_book(&mut self) -> Result<(), StoreError> {
        self.backend.clear_order_book()
    }

    /// Moves stored events (by row id, with the reason) to the dead letters, in one transaction:
    /// events an earlier version accepted that today's checks refuse. Their asset and sequence
    /// number are free again, so a corrected resend is accepted.
    pub fn quarantine(
        &mut self,
        rows: &[(i64, String)],
        received_ms: i64,
    ) -> Result<(), StoreError> {
        self.backend.quarantine(rows, received_ms)
    }

    pub fn event_count(&self) -> Result<u64, StoreError> {
        self.backend.event_count()
    }

    pub fn dead_letter_count(&self) -> Result<u64, StoreError> {
        self.backend.dead_letter_count()
    }

    /// The most recent dead letters, newest first.
    pub fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>, StoreError> {
        self.backend.dead_letters(limit)
    }

    /// Stores alerts as they are now (raised, cleared or acknowledged), in one transaction. An
    /// acknowledgement stored is kept when the alert changes again (on a shared store, another
    /// server may have taken it).
    pub fn save_alerts<'a>(
        &mut self,
        alerts: impl IntoIterator<Item = &'a Alert>,
    ) -> Result<(), StoreError> {
        let mut kept = Vec::new();
        for a in alerts {
            let mut a = std::borrow::Cow::Borrowed(a);
            if a.acknowledged.is_none()
                && let Some(stored) = self.alert(a.id)?
                && stored.acknowledged.is_some()
            {
                a.to_mut().acknowledged = stored.acknowledged;
            }
            kept.push(a);
        }
        let rows = kept
            .iter()
            .map(|a| {
                serde_json::to_string(a)
                    .map(|body| (a.id, a.is_open(), body))
                    .map_err(|e| StoreError::Corrupt {
                        id: a.id as i64,
                        message: e.to_string(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.backend.save_alerts(&rows)
    }

    /// Stored alerts, newest first: the open ones only, or all; at most `limit`.
    pub fn alerts(&self, open_only: bool, limit: u32) -> Result<Vec<Alert>, StoreError> {
        self.backend
            .alerts(open_only, limit)?
            .into_iter()
            .map(|(id, body)| parse_alert(id, &body))
            .collect()
    }

    /// One stored alert.
    pub fn alert(&self, id: u64) -> Result<Option<Alert>, StoreError> {
        self.backend
            .alert(id)?
            .map(|body| parse_alert(id, &body))
            .transpose()
    }

    /// The highest alert id stored (0 when none).
    pub fn last_alert_id(&self) -> Result<u64, StoreError> {
        self.backend.last_alert_id()
    }

    /// The events that other servers sharing this store (PostgreSQL) stored since this one last
    /// read or wrote it, in the order stored (by id), up to 10,000 at a time: what this server's
    /// mirror has not seen. Each is given once. Empty for a store of one writer.
    pub fn others(&mut self) -> Result<Vec<(i64, String)>, StoreError> {
        self.backend.others()
    }

    /// The other servers' events the last append found stored before its own (their ids are
    /// below its events'), taken once; [`Store::others`] gives them too when they are not taken.
    pub(crate) fn found_by_append(&mut self) -> Vec<(i64, String)> {
        self.backend.found_by_append()
    }

    /// This store's name among the writers of a shared store (PostgreSQL): the payload of the
    /// notifications its appends send on [`EVENTS_CHANNEL`]. `None` for a store of one writer.
    pub fn writer(&self) -> Option<&str> {
        self.backend.writer()
    }

    /// How long before its newest event the store keeps events (PostgreSQL with a retention);
    /// `None`: every event.
    pub fn retention_ms(&self) -> Option<i64> {
        self.backend.retention_ms()
    }

    /// Whether the store answers (a round trip for PostgreSQL).
    pub fn ping(&self) -> Result<(), StoreError> {
        self.backend.ping()
    }

    /// Whether this server judges the alert rules. Of the servers sharing a store (PostgreSQL),
    /// one at a time does: the one holding a lock that the database releases when its
    /// connection ends, so another takes over when it stops. A store of one writer always does.
    pub fn judging(&mut self) -> Result<Judging, StoreError> {
        self.backend.judging()
    }

    /// Whether an event is stored.
    pub fn contains(&self, asset: &str, seq: u64) -> Result<bool, StoreError> {
        self.backend.contains(asset, seq)
    }
}

fn parse_alert(id: u64, body: &str) -> Result<Alert, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt {
        id: id as i64,
        message: e.to_string(),
    })
}
