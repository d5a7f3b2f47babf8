//! The server's own store: scenarios as submitted and jobs with their results. A job's result is
//! committed before its status says `done`. Events live in the twin's store
//! (`takt_twin::store`), not here. Two backends behind one interface: SQLite (WAL, synchronous
//! FULL; the default, one server) and PostgreSQL (the servers of a site, `postgres.rs`). Both
//! schemas are versioned migrations (refinery; `migrations/`), applied when the store opens.

mod postgres;
mod sqlite;

use serde::Serialize;
use std::path::Path;
use takt_twin::store::{PostgresError, PostgresLocation, StoreError, StoreLocation};
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the server's store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the server's store (PostgreSQL): {0}")]
    Postgres(#[from] PostgresError),
    #[error("the server's store: {0}")]
    Store(#[from] StoreError),
    #[error("the server's store: the schema cannot be brought up to date: {0}")]
    Migration(#[from] refinery::Error),
}

impl From<::postgres::Error> for DbError {
    fn from(e: ::postgres::Error) -> DbError {
        DbError::Postgres(PostgresError::from(e))
    }
}

/// What a backend does; [`Db`] adds the ids people see (`s<n>` for scenarios).
trait Backend: Send + Sync {
    fn add_scenario(&self, name: &str, toml: &str, now_ms: i64) -> Result<i64, DbError>;
    /// The first stored scenario with this exact text.
    fn find_scenario(&self, toml: &str) -> Result<Option<i64>, DbError>;
    fn scenarios(&self) -> Result<Vec<(i64, String, i64)>, DbError>;
    /// Name, text and creation time.
    fn scenario(&self, n: i64) -> Result<Option<(String, String, i64)>, DbError>;
    fn add_job(&self, id: &str, kind: &str, now_ms: i64) -> Result<(), DbError>;
    fn set_status(&self, id: &str, status: &str) -> Result<(), DbError>;
    fn finish(
        &self,
        id: &str,
        status: &str,
        result: Option<&str>,
        error: Option<&str>,
        now_ms: i64,
    ) -> Result<(), DbError>;
    fn job(&self, id: &str) -> Result<Option<StoredJob>, DbError>;
    /// Renews this server's open jobs, marks other servers' silent jobs `interrupted`, and gives
    /// the ids of this server's jobs whose cancel another server asked for.
    fn heartbeat(
        &self,
        now_ms: i64,
        progress: &[(String, u64, u64)],
    ) -> Result<Vec<String>, DbError>;
    /// Asks the server that runs job `id` to cancel it (it sees it at its next heartbeat).
    fn request_cancel(&self, id: &str) -> Result<(), DbError>;
    /// Whether the database answers.
    fn ping(&self) -> Result<(), DbError>;
}

pub struct Db {
    backend: Box<dyn Backend>,
}

/// How often a server renews its jobs, and how long a silent server's jobs wait before another
/// marks them `interrupted`.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(1);
pub const SILENT_AFTER_MS: i64 = 30_000;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ScenarioSummary {
    pub id: String,
    pub name: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StoredScenario {
    pub id: String,
    pub name: String,
    pub created_ms: i64,
    /// The scenario file (TOML) as submitted.
    pub toml: String,
}

/// A job as stored: what finished survives a restart; what was queued or running is marked
/// `interrupted` when its server is gone (SQLite: when the server starts again; PostgreSQL: when
/// its server has been silent for 30 s).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredJob {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    pub created_ms: i64,
    pub finished_ms: Option<i64>,
    /// Done and total steps as the job's server last stored them (a shared store; `None` in
    /// SQLite, where the server that asks runs it and knows it live).
    pub progress: Option<(u64, u64)>,
}

impl Db {
    /// Opens (or creates) the SQLite file.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        Ok(Db {
            backend: Box::new(sqlite::Sqlite::open(path)?),
        })
    }

    /// Opens the store at `location`: a SQLite file, or a PostgreSQL database (shared with the
    /// twin's event store, in tables of its own).
    pub fn connect(location: &StoreLocation, now_ms: i64) -> Result<Db, DbError> {
        match location {
            StoreLocation::File(path) => Db::open(path),
            StoreLocation::Postgres(l) => Db::postgres(l, now_ms),
        }
    }

    fn postgres(location: &PostgresLocation, now_ms: i64) -> Result<Db, DbError> {
        Ok(Db {
            backend: Box::new(postgres::Postgres::connect(location, now_ms)?),
        })
    }

    pub fn add_scenario(&self, name: &str, toml: &str, now_ms: i64) -> Result<String, DbError> {
        Ok(format!(
            "s{}",
            self.backend.add_scenario(name, toml, now_ms)?
        ))
    }

    /// Stores a scenario unless the same text is stored already; its id either way.
    pub fn add_scenario_once(
        &self,
        name: &str,
        toml: &str,
        now_ms: i64,
    ) -> Result<String, DbError> {
        match self.backend.find_scenario(toml)? {
            Some(n) => Ok(format!("s{n}")),
            None => self.add_scenario(name, toml, now_ms),
        }
    }

    pub fn scenarios(&self) -> Result<Vec<ScenarioSummary>, DbError> {
        Ok(self
            .backend
            .scenarios()?
            .into_iter()
            .map(|(n, name, created_ms)| ScenarioSummary {
                id: format!("s{n}"),
                name,
                created_ms,
            })
            .collect())
    }

    pub fn scenario(&self, id: &str) -> Result<Option<StoredScenario>, DbError> {
        let Some(n) = id.strip_prefix('s').and_then(|n| n.parse::<i64>().ok()) else {
            return Ok(None);
        };
        Ok(self
            .backend
            .scenario(n)?
            .map(|(name, toml, created_ms)| StoredScenario {
                id: id.to_string(),
                name,
                created_ms,
                toml,
            }))
    }

    /// A new queued job. Its id is 128 random bits from the operating system's generator
    /// (`j` and 32 hex digits), so that one job's id tells nothing of another's.
    pub fn add_job(&self, kind: &str, now_ms: i64) -> Result<String, DbError> {
        let id = format!("j{:032x}", rand::random::<u128>());
        self.backend.add_job(&id, kind, now_ms)?;
        Ok(id)
    }

    pub fn set_status(&self, id: &str, status: &str) -> Result<(), DbError> {
        self.backend.set_status(id, status)
    }

    /// The job's end: `done` with a result or `failed`/`cancelled` with an error, committed.
    pub fn finish(
        &self,
        id: &str,
        status: &str,
        result: Option<&serde_json::Value>,
        error: Option<&str>,
        now_ms: i64,
    ) -> Result<(), DbError> {
        let text = result.map(|r| r.to_string());
        self.backend
            .finish(id, status, text.as_deref(), error, now_ms)
    }

    pub fn job(&self, id: &str) -> Result<Option<StoredJob>, DbError> {
        self.backend.job(id)
    }

    /// See [`HEARTBEAT`]: renews this server's open jobs with their `progress` (id, done,
    /// total); the ids of its jobs another server was asked to cancel.
    pub fn heartbeat(
        &self,
        now_ms: i64,
        progress: &[(String, u64, u64)],
    ) -> Result<Vec<String>, DbError> {
        self.backend.heartbeat(now_ms, progress)
    }

    pub fn request_cancel(&self, id: &str) -> Result<(), DbError> {
        self.backend.request_cancel(id)
    }

    /// Whether the database answers (a round trip for PostgreSQL).
    pub fn ping(&self) -> Result<(), DbError> {
        self.backend.ping()
    }
}

/// A stored job from its columns (kind, status, result text, error, created, finished).
fn stored_job(
    id: &str,
    (kind, status, result, error, created_ms, finished_ms): (
        String,
        String,
        Option<String>,
        Option<String>,
        i64,
        Option<i64>,
    ),
) -> StoredJob {
    StoredJob {
        id: id.to_string(),
        kind,
        status,
        result: result.and_then(|t| serde_json::from_str(&t).ok()),
        error,
        created_ms,
        finished_ms,
        progress: None,
    }
}
