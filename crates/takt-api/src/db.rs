//! The server's own store (SQLite, WAL, synchronous FULL): scenarios as submitted and jobs with
//! their results. A job's result is committed before its status says `done`. Events live in the
//! twin's store (`takt_twin::store`), not here.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::path::Path;
use std::sync::Mutex;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
#[error("the server's store: {0}")]
pub struct DbError(#[from] rusqlite::Error);

pub struct Db {
    conn: Mutex<Connection>,
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

/// A job as stored: what finished survives a restart; what was queued or running is marked
/// `interrupted` when the server starts again.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredJob {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    pub created_ms: i64,
    pub finished_ms: Option<i64>,
}

impl Db {
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS scenarios (
                 n INTEGER PRIMARY KEY AUTOINCREMENT,
                 name TEXT NOT NULL, toml TEXT NOT NULL, created_ms INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS jobs (
                 n INTEGER PRIMARY KEY AUTOINCREMENT,
                 kind TEXT NOT NULL, status TEXT NOT NULL, result TEXT, error TEXT,
                 created_ms INTEGER NOT NULL, finished_ms INTEGER, key TEXT);
             UPDATE jobs SET status = 'interrupted', error = 'the server stopped before the job finished'
                 WHERE status IN ('queued', 'running');",
        )?;
        // A store written before jobs had unguessable ids: its jobs keep their old ids (`j<n>`).
        if conn.prepare("SELECT key FROM jobs LIMIT 0").is_err() {
            conn.execute_batch("ALTER TABLE jobs ADD COLUMN key TEXT;")?;
        }
        conn.execute_batch(
            "UPDATE jobs SET key = 'j' || n WHERE key IS NULL;
             CREATE UNIQUE INDEX IF NOT EXISTS jobs_by_key ON jobs (key);",
        )?;
        Ok(Db {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable: take it back.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_scenario(&self, name: &str, toml: &str, now_ms: i64) -> Result<String, DbError> {
        let c = self.conn();
        c.execute(
            "INSERT INTO scenarios (name, toml, created_ms) VALUES (?1, ?2, ?3)",
            params![name, toml, now_ms],
        )?;
        Ok(format!("s{}", c.last_insert_rowid()))
    }

    /// Stores a scenario unless the same text is stored already; its id either way.
    pub fn add_scenario_once(
        &self,
        name: &str,
        toml: &str,
        now_ms: i64,
    ) -> Result<String, DbError> {
        let existing: Option<i64> = self
            .conn()
            .query_row(
                "SELECT n FROM scenarios WHERE toml = ?1 ORDER BY n LIMIT 1",
                params![toml],
                |r| r.get(0),
            )
            .optional()?;
        match existing {
            Some(n) => Ok(format!("s{n}")),
            None => self.add_scenario(name, toml, now_ms),
        }
    }

    pub fn scenarios(&self) -> Result<Vec<ScenarioSummary>, DbError> {
        let c = self.conn();
        let mut q = c.prepare("SELECT n, name, created_ms FROM scenarios ORDER BY n")?;
        let rows = q.query_map([], |r| {
            Ok(ScenarioSummary {
                id: format!("s{}", r.get::<_, i64>(0)?),
                name: r.get(1)?,
                created_ms: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn scenario(&self, id: &str) -> Result<Option<StoredScenario>, DbError> {
        let Some(n) = id.strip_prefix('s').and_then(|n| n.parse::<i64>().ok()) else {
            return Ok(None);
        };
        let c = self.conn();
        Ok(c.query_row(
            "SELECT name, toml, created_ms FROM scenarios WHERE n = ?1",
            params![n],
            |r| {
                Ok(StoredScenario {
                    id: id.to_string(),
                    name: r.get(0)?,
                    toml: r.get(1)?,
                    created_ms: r.get(2)?,
                })
            },
        )
        .optional()?)
    }

    /// A new queued job. Its id is 128 random bits from the operating system's generator
    /// (`j` and 32 hex digits), so that one job's id tells nothing of another's.
    pub fn add_job(&self, kind: &str, now_ms: i64) -> Result<String, DbError> {
        let id = format!("j{:032x}", rand::random::<u128>());
        self.conn().execute(
            "INSERT INTO jobs (kind, status, created_ms, key) VALUES (?1, 'queued', ?2, ?3)",
            params![kind, now_ms, id],
        )?;
        Ok(id)
    }

    pub fn set_status(&self, id: &str, status: &str) -> Result<(), DbError> {
        self.conn().execute(
            "UPDATE jobs SET status = ?1 WHERE key = ?2",
            params![status, id],
        )?;
        Ok(())
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
        self.conn().execute(
            "UPDATE jobs SET status = ?1, result = ?2, error = ?3, finished_ms = ?4 WHERE key = ?5",
            params![status, text, error, now_ms, id],
        )?;
        Ok(())
    }

    pub fn job(&self, id: &str) -> Result<Option<StoredJob>, DbError> {
        let c = self.conn();
        Ok(c.query_row(
            "SELECT kind, status, result, error, created_ms, finished_ms FROM jobs WHERE key = ?1",
            params![id],
            |r| {
                let result: Option<String> = r.get(2)?;
                Ok(StoredJob {
                    id: id.to_string(),
                    kind: r.get(0)?,
                    status: r.get(1)?,
                    result: result.and_then(|t| serde_json::from_str(&t).ok()),
                    error: r.get(3)?,
                    created_ms: r.get(4)?,
                    finished_ms: r.get(5)?,
                })
            },
        )
        .optional()?)
    }
}
