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
    #[error("the server's store: {0}")]
    Unsupported(&'static str),
}

const ALONE: DbError =
    DbError::Unsupported("chunks of a job need a store the nodes of a site share (PostgreSQL)");

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
    /// A queued job with its title and its input (`JobSpec` as JSON; `None` for work that is
    /// not data).
    fn add_job(
        &self,
        id: &str,
        kind: &str,
        title: Option<&str>,
        spec: Option<&str>,
        now_ms: i64,
    ) -> Result<(), DbError>;
    /// Whether the store is shared by the nodes of a site (its queue is theirs).
    fn is_shared(&self) -> bool;
    /// This process's name among the site's nodes (a shared store).
    fn node(&self) -> Option<&str>;
    /// Takes the oldest queued job for this node, leased for `lease_ms` (a shared store).
    fn claim(&self, now_ms: i64, lease_ms: i64) -> Result<Option<Claimed>, DbError>;
    /// Gives a job this node runs back to the queue (it stops for a shutdown).
    fn release(&self, id: &str) -> Result<(), DbError>;
    /// Jobs waiting in the queue.
    fn queued(&self) -> Result<u64, DbError>;
    fn set_status(&self, id: &str, status: &str) -> Result<(), DbError>;
    /// Stores a job's end: its status, result or error, and its progress (done, total) then.
    fn finish(
        &self,
        id: &str,
        status: &str,
        result: Option<&str>,
        error: Option<&str>,
        progress: Option<(u64, u64)>,
        now_ms: i64,
    ) -> Result<(), DbError>;
    fn job(&self, id: &str) -> Result<Option<StoredJob>, DbError>;
    /// Up to `limit` jobs (not chunks of one), newest first, without their results; only those
    /// of `kind` and submitted before job `before`, where given.
    fn jobs(
        &self,
        limit: u32,
        kind: Option<&str>,
        before: Option<&str>,
    ) -> Result<Vec<StoredJob>, DbError>;
    /// Renews the leases of this node's running jobs with their progress, hands the jobs of
    /// nodes silent past their lease back to the queue, and says what the node must stop.
    fn heartbeat(
        &self,
        now_ms: i64,
        lease_ms: i64,
        progress: &[(String, u64, u64)],
    ) -> Result<Beat, DbError>;
    /// Cancels job `id` run by no node of this process: stored `cancelled` now if still queued,
    /// else asked of the node that runs it (it sees it at its next heartbeat).
    fn request_cancel(&self, id: &str, now_ms: i64) -> Result<(), DbError>;
    /// Whether the database answers.
    fn ping(&self) -> Result<(), DbError>;
    /// Queues the chunks of job `parent` (key, kind, spec); a key stored already (the job was
    /// taken over and splits again) is kept as it is, with its result.
    fn add_chunks(
        &self,
        _parent: &str,
        _chunks: &[(String, &str, String)],
        _now_ms: i64,
    ) -> Result<(), DbError> {
        Err(ALONE)
    }
    /// The chunks of job `parent` as they stand.
    fn chunks(&self, _parent: &str) -> Result<Vec<ChunkState>, DbError> {
        Err(ALONE)
    }
    /// Takes a queued chunk of job `parent` for this node (the node that split the job runs
    /// what no other node took).
    fn claim_chunk(
        &self,
        _parent: &str,
        _now_ms: i64,
        _lease_ms: i64,
    ) -> Result<Option<Claimed>, DbError> {
        Err(ALONE)
    }
}

/// A chunk of a job as it stands in the shared store.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkState {
    pub id: String,
    pub status: String,
    pub error: Option<String>,
    /// Runs done, as its node last stored them.
    pub done: u64,
}

pub struct Db {
    backend: Box<dyn Backend>,
}

/// How often a node renews its jobs' leases.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(1);
/// How long a node's jobs stay its own without a heartbeat, unless it says otherwise.
pub const DEFAULT_LEASE: std::time::Duration = std::time::Duration::from_secs(30);
/// A job taken over this many times (its nodes fell silent each time) is not taken again: it
/// ends `interrupted`, in case the job itself brings its nodes down.
pub const MAX_ATTEMPTS: i32 = 3;

/// A job a node took from the shared queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    pub id: String,
    /// Its `JobSpec` as JSON (absent for a job queued by a release that did not store it).
    pub spec: Option<String>,
    /// 1 the first time it is taken.
    pub attempt: i32,
}

/// What a heartbeat tells the node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Beat {
    /// This node's jobs whose cancel another node asked for.
    pub cancel: Vec<String>,
    /// This node's jobs it no longer holds: their lease ran out and another node took them.
    pub lost: Vec<String>,
    /// Jobs waiting in the site's queue (a shared store).
    pub queued: Option<usize>,
}

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

/// A job as stored: what finished survives a restart. Alone (SQLite), what was queued or running
/// is marked `interrupted` when the server starts again; on a shared store (PostgreSQL) a job
/// whose node fell silent goes back to the queue for another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredJob {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    pub created_ms: i64,
    pub finished_ms: Option<i64>,
    /// Done and total steps as the job's server last stored them: at its end, and with each
    /// heartbeat while it runs on a shared store (a server alone knows its running jobs' live).
    pub progress: Option<(u64, u64)>,
    /// The node of the site that runs it or ran it last, and how often it was taken (a shared
    /// store).
    pub node: Option<String>,
    pub attempts: Option<i32>,
    /// What the job was, in one line (`JobSpec::title`); none for jobs stored before titles.
    pub title: Option<String>,
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
    pub fn add_job(
        &self,
        kind: &str,
        title: Option<&str>,
        spec: Option<&str>,
        now_ms: i64,
    ) -> Result<String, DbError> {
        let id = format!("j{:032x}", rand::random::<u128>());
        self.backend.add_job(&id, kind, title, spec, now_ms)?;
        Ok(id)
    }

    /// Whether the nodes of a site share this store, and with it the job queue.
    pub fn is_shared(&self) -> bool {
        self.backend.is_shared()
    }

    /// This process's name among the nodes of a site (`None` alone): the jobs it takes carry it.
    pub fn node(&self) -> Option<&str> {
        self.backend.node()
    }

    /// Takes the oldest queued job (each is taken by one node), leased for `lease_ms`.
    pub fn claim(&self, now_ms: i64, lease_ms: i64) -> Result<Option<Claimed>, DbError> {
        self.backend.claim(now_ms, lease_ms)
    }

    /// Gives a job back to the queue, for another node to run from its start.
    pub fn release(&self, id: &str) -> Result<(), DbError> {
        self.backend.release(id)
    }

    /// Jobs waiting in the queue.
    pub fn queued(&self) -> Result<u64, DbError> {
        self.backend.queued()
    }

    pub fn set_status(&self, id: &str, status: &str) -> Result<(), DbError> {
        self.backend.set_status(id, status)
    }

    /// The job's end; on a shared store only while the job is this node's (or nobody's yet): `done` with a result or `failed`/`cancelled` with an error, committed.
    pub fn finish(
        &self,
        id: &str,
        status: &str,
        result: Option<&serde_json::Value>,
        error: Option<&str>,
        progress: Option<(u64, u64)>,
        now_ms: i64,
    ) -> Result<(), DbError> {
        let text = result.map(|r| r.to_string());
        self.backend
            .finish(id, status, text.as_deref(), error, progress, now_ms)
    }

    pub fn job(&self, id: &str) -> Result<Option<StoredJob>, DbError> {
        self.backend.job(id)
    }

    /// Up to `limit` jobs, newest first, without their results (`result` is `None`); with
    /// `kind`, of that kind only; with `before`, those submitted before that job.
    pub fn jobs(
        &self,
        limit: u32,
        kind: Option<&str>,
        before: Option<&str>,
    ) -> Result<Vec<StoredJob>, DbError> {
        self.backend.jobs(limit, kind, before)
    }

    /// See [`HEARTBEAT`]: renews this node's running jobs for `lease_ms` with their `progress`
    /// (id, done, total).
    pub fn heartbeat(
        &self,
        now_ms: i64,
        lease_ms: i64,
        progress: &[(String, u64, u64)],
    ) -> Result<Beat, DbError> {
        self.backend.heartbeat(now_ms, lease_ms, progress)
    }

    pub fn request_cancel(&self, id: &str, now_ms: i64) -> Result<(), DbError> {
        self.backend.request_cancel(id, now_ms)
    }

    /// Queues chunks of job `parent`: (id, kind, spec as JSON); ids stored already stay as they
    /// are.
    pub fn add_chunks(
        &self,
        parent: &str,
        chunks: &[(String, &str, String)],
        now_ms: i64,
    ) -> Result<(), DbError> {
        self.backend.add_chunks(parent, chunks, now_ms)
    }

    pub fn chunks(&self, parent: &str) -> Result<Vec<ChunkState>, DbError> {
        self.backend.chunks(parent)
    }

    pub fn claim_chunk(
        &self,
        parent: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<Claimed>, DbError> {
        self.backend.claim_chunk(parent, now_ms, lease_ms)
    }

    /// Whether the database answers (a round trip for PostgreSQL).
    pub fn ping(&self) -> Result<(), DbError> {
        self.backend.ping()
    }
}

/// A stored job from its columns (kind, status, result text, error, created, finished) and its
/// progress (done, total).
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
    (done, total): (Option<i64>, Option<i64>),
) -> StoredJob {
    StoredJob {
        id: id.to_string(),
        kind,
        status,
        result: result.and_then(|t| serde_json::from_str(&t).ok()),
        error,
        created_ms,
        finished_ms,
        progress: done.zip(total).map(|(d, t)| (d as u64, t as u64)),
        node: None,
        attempts: None,
        title: None,
    }
}
