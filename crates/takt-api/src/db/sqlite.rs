//! The server's store in SQLite (WAL, synchronous FULL): one server owns the file, so at opening
//! every job still queued or running was its own, and is marked `interrupted`.

use super::{Backend, Beat, Claimed, DbError, StoredJob, stored_job};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::sync::Mutex;

mod migrations {
    refinery::embed_migrations!("migrations/sqlite");
}

/// The table refinery records the applied versions in (the twin's store keeps its own).
const HISTORY: &str = "takt_server_schema_history";

pub(super) struct Sqlite {
    conn: Mutex<Connection>,
}

impl Sqlite {
    pub(super) fn open(path: &Path) -> Result<Sqlite, DbError> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // A store written before jobs had unguessable ids: its jobs keep their old ids (`j<n>`),
        // given by version 1.
        let has_jobs = conn
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'",
                [],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if has_jobs && conn.prepare("SELECT key FROM jobs LIMIT 0").is_err() {
            conn.execute_batch("ALTER TABLE jobs ADD COLUMN key TEXT;")?;
        }
        migrations::migrations::runner()
            .set_migration_table_name(HISTORY)
            .run(&mut conn)?;
        conn.execute(
            "UPDATE jobs SET status = 'interrupted', error = 'the server stopped before the job finished'
             WHERE status IN ('queued', 'running')",
            [],
        )?;
        Ok(Sqlite {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable: take it back.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Backend for Sqlite {
    fn add_scenario(&self, name: &str, toml: &str, now_ms: i64) -> Result<i64, DbError> {
        let c = self.conn();
        c.execute(
            "INSERT INTO scenarios (name, toml, created_ms) VALUES (?1, ?2, ?3)",
            params![name, toml, now_ms],
        )?;
        Ok(c.last_insert_rowid())
    }

    fn find_scenario(&self, toml: &str) -> Result<Option<i64>, DbError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT n FROM scenarios WHERE toml = ?1 ORDER BY n LIMIT 1",
                params![toml],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn scenarios(&self) -> Result<Vec<(i64, String, i64)>, DbError> {
        let c = self.conn();
        let mut q = c.prepare("SELECT n, name, created_ms FROM scenarios ORDER BY n")?;
        let rows = q.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn scenario(&self, n: i64) -> Result<Option<(String, String, i64)>, DbError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT name, toml, created_ms FROM scenarios WHERE n = ?1",
                params![n],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }

    fn add_job(
        &self,
        id: &str,
        kind: &str,
        title: Option<&str>,
        spec: Option<&str>,
        now_ms: i64,
    ) -> Result<(), DbError> {
        self.conn().execute(
            "INSERT INTO jobs (kind, status, created_ms, key, spec, title)
             VALUES (?1, 'queued', ?2, ?3, ?4, ?5)",
            params![kind, now_ms, id, spec, title],
        )?;
        Ok(())
    }

    fn is_shared(&self) -> bool {
        false
    }

    fn node(&self) -> Option<&str> {
        None
    }

    /// The queue of one server is in its memory: nothing to take from the file.
    fn claim(&self, _now_ms: i64, _lease_ms: i64) -> Result<Option<Claimed>, DbError> {
        Ok(None)
    }

    /// Alone, a stopped job is `interrupted`, never handed back.
    fn release(&self, id: &str) -> Result<(), DbError> {
        self.set_status(id, "interrupted")
    }

    fn queued(&self) -> Result<u64, DbError> {
        let n: i64 = self.conn().query_row(
            "SELECT count(*) FROM jobs WHERE status = 'queued'",
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    fn set_status(&self, id: &str, status: &str) -> Result<(), DbError> {
        self.conn().execute(
            "UPDATE jobs SET status = ?1 WHERE key = ?2",
            params![status, id],
        )?;
        Ok(())
    }

    fn finish(
        &self,
        id: &str,
        status: &str,
        result: Option<&str>,
        error: Option<&str>,
        progress: Option<(u64, u64)>,
        now_ms: i64,
    ) -> Result<(), DbError> {
        let (done, total) =
            progress.map_or((None, None), |(d, t)| (Some(d as i64), Some(t as i64)));
        self.conn().execute(
            "UPDATE jobs SET status = ?1, result = ?2, error = ?3, finished_ms = ?4,
                    progress_done = ?6, progress_total = ?7
             WHERE key = ?5",
            params![status, result, error, now_ms, id, done, total],
        )?;
        Ok(())
    }

    fn job(&self, id: &str) -> Result<Option<StoredJob>, DbError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT key, kind, status, result, error, created_ms, finished_ms,
                        progress_done, progress_total, title
                 FROM jobs WHERE key = ?1",
                params![id],
                job_of,
            )
            .optional()?)
    }

    fn jobs(
        &self,
        limit: u32,
        kind: Option<&str>,
        before: Option<&str>,
    ) -> Result<Vec<StoredJob>, DbError> {
        let conn = self.conn();
        let mut query = conn.prepare_cached(
            "SELECT key, kind, status, NULL, error, created_ms, finished_ms, progress_done,
                    progress_total, title
             FROM jobs
             WHERE (?1 IS NULL OR n < (SELECT n FROM jobs WHERE key = ?1))
               AND (?3 IS NULL OR kind = ?3)
             ORDER BY n DESC LIMIT ?2",
        )?;
        let rows = query.query_map(params![before, limit, kind], job_of)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One server per file: nothing to renew or to hear from others.
    fn heartbeat(
        &self,
        _now_ms: i64,
        _lease_ms: i64,
        _progress: &[(String, u64, u64)],
    ) -> Result<Beat, DbError> {
        Ok(Beat::default())
    }

    fn ping(&self) -> Result<(), DbError> {
        self.conn().query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    /// Every job of the file is this server's: a cancel never needs to be passed on.
    fn request_cancel(&self, _id: &str, _now_ms: i64) -> Result<(), DbError> {
        Ok(())
    }
}

/// A job from a row of its columns: key, kind, status, result, error, created, finished,
/// progress (done, total), title.
fn job_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredJob> {
    let id: String = r.get(0)?;
    let mut job = stored_job(
        &id,
        (
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ),
        (r.get(7)?, r.get(8)?),
    );
    job.title = r.get(9)?;
    Ok(job)
}
