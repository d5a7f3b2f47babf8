//! The server's store on PostgreSQL, shared by the servers of a site (its tables beside the
//! twin's events). Each server is a `node` with a random name for the life of its process; it
//! renews its open jobs' `heartbeat_ms` (see [`super::HEARTBEAT`]) and marks the open jobs of a
//! server silent for [`super::SILENT_AFTER_MS`] `interrupted`, as SQLite's single server does
//! with its own at a restart.

use super::{Backend, DbError, SILENT_AFTER_MS, StoredJob, stored_job};
use takt_twin::store::{PostgresConnection, PostgresLocation};

mod migrations {
    refinery::embed_migrations!("migrations/postgres");
}

const HISTORY: &str = "takt_server_schema_history";

pub(super) struct Postgres {
    db: PostgresConnection,
    /// This server's name among the site's (`n` and 16 hex digits).
    node: String,
}

const SILENT: &str = "the server running it stopped (no heartbeat for 30 s)";

impl Postgres {
    pub(super) fn connect(location: &PostgresLocation, now_ms: i64) -> Result<Postgres, DbError> {
        let db = location.connect()?;
        PostgresLocation::migrate(&db, migrations::migrations::runner(), HISTORY)?;
        let store = Postgres {
            db,
            node: format!("n{:016x}", rand::random::<u64>()),
        };
        store.interrupt_silent(now_ms)?;
        Ok(store)
    }

    fn interrupt_silent(&self, now_ms: i64) -> Result<u64, DbError> {
        Ok(self.db.with(|c| {
            c.execute(
                "UPDATE jobs SET status = 'interrupted', error = $1, finished_ms = $2
                 WHERE status IN ('queued', 'running') AND heartbeat_ms < $3",
                &[&SILENT, &now_ms, &(now_ms - SILENT_AFTER_MS)],
            )
        })?)
    }
}

impl Backend for Postgres {
    fn add_scenario(&self, name: &str, toml: &str, now_ms: i64) -> Result<i64, DbError> {
        Ok(self
            .db
            .with(|c| {
                c.query_one(
                    "INSERT INTO scenarios (name, toml, created_ms) VALUES ($1, $2, $3) RETURNING n",
                    &[&name, &toml, &now_ms],
                )
            })?
            .get(0))
    }

    fn find_scenario(&self, toml: &str) -> Result<Option<i64>, DbError> {
        Ok(self
            .db
            .with(|c| {
                c.query_opt(
                    "SELECT n FROM scenarios WHERE md5(toml) = md5($1) AND toml = $1 ORDER BY n LIMIT 1",
                    &[&toml],
                )
            })?
            .map(|r| r.get(0)))
    }

    fn scenarios(&self) -> Result<Vec<(i64, String, i64)>, DbError> {
        let rows = self
            .db
            .with(|c| c.query("SELECT n, name, created_ms FROM scenarios ORDER BY n", &[]))?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    fn scenario(&self, n: i64) -> Result<Option<(String, String, i64)>, DbError> {
        Ok(self
            .db
            .with(|c| {
                c.query_opt(
                    "SELECT name, toml, created_ms FROM scenarios WHERE n = $1",
                    &[&n],
                )
            })?
            .map(|r| (r.get(0), r.get(1), r.get(2))))
    }

    fn add_job(&self, id: &str, kind: &str, now_ms: i64) -> Result<(), DbError> {
        self.db.with(|c| {
            c.execute(
                "INSERT INTO jobs (key, kind, status, created_ms, node, heartbeat_ms)
                 VALUES ($1, $2, 'queued', $3, $4, $3)",
                &[&id, &kind, &now_ms, &self.node],
            )
        })?;
        Ok(())
    }

    fn set_status(&self, id: &str, status: &str) -> Result<(), DbError> {
        self.db.with(|c| {
            c.execute(
                "UPDATE jobs SET status = $1 WHERE key = $2",
                &[&status, &id],
            )
        })?;
        Ok(())
    }

    fn finish(
        &self,
        id: &str,
        status: &str,
        result: Option<&str>,
        error: Option<&str>,
        now_ms: i64,
    ) -> Result<(), DbError> {
        self.db.with(|c| {
            c.execute(
                "UPDATE jobs SET status = $1, result = $2, error = $3, finished_ms = $4
                 WHERE key = $5",
                &[&status, &result, &error, &now_ms, &id],
            )
        })?;
        Ok(())
    }

    fn job(&self, id: &str) -> Result<Option<StoredJob>, DbError> {
        Ok(self
            .db
            .with(|c| {
                c.query_opt(
                    "SELECT kind, status, result, error, created_ms, finished_ms,
                            progress_done, progress_total
                     FROM jobs WHERE key = $1",
                    &[&id],
                )
            })?
            .map(|r| {
                let mut job = stored_job(
                    id,
                    (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)),
                );
                let (done, total): (Option<i64>, Option<i64>) = (r.get(6), r.get(7));
                job.progress = done.zip(total).map(|(d, t)| (d as u64, t as u64));
                job
            }))
    }

    fn heartbeat(
        &self,
        now_ms: i64,
        progress: &[(String, u64, u64)],
    ) -> Result<Vec<String>, DbError> {
        let ids: Vec<&str> = progress.iter().map(|(id, _, _)| id.as_str()).collect();
        let done: Vec<i64> = progress.iter().map(|(_, d, _)| *d as i64).collect();
        let total: Vec<i64> = progress.iter().map(|(_, _, t)| *t as i64).collect();
        let asked = self.db.with(|c| {
            let asked = c.query(
                "UPDATE jobs SET heartbeat_ms = $1
                 WHERE node = $2 AND status IN ('queued', 'running')
                 RETURNING key, cancel_requested",
                &[&now_ms, &self.node],
            )?;
            if !ids.is_empty() {
                c.execute(
                    "UPDATE jobs SET progress_done = p.done, progress_total = p.total
                     FROM UNNEST($1::text[], $2::bigint[], $3::bigint[]) AS p(key, done, total)
                     WHERE jobs.key = p.key AND jobs.node = $4
                       AND jobs.status IN ('queued', 'running')",
                    &[&ids, &done, &total, &self.node],
                )?;
            }
            Ok::<_, postgres::Error>(asked)
        })?;
        let interrupted = self.interrupt_silent(now_ms)?;
        if interrupted > 0 {
            tracing::warn!(
                jobs = interrupted,
                "jobs of a silent server marked interrupted"
            );
        }
        Ok(asked
            .iter()
            .filter(|r| r.get::<_, bool>(1))
            .map(|r| r.get(0))
            .collect())
    }

    fn ping(&self) -> Result<(), DbError> {
        self.db.with(|c| c.simple_query("SELECT 1"))?;
        Ok(())
    }

    fn request_cancel(&self, id: &str) -> Result<(), DbError> {
        self.db.with(|c| {
            c.execute(
                "UPDATE jobs SET cancel_requested = TRUE
                 WHERE key = $1 AND status IN ('queued', 'running')",
                &[&id],
            )
        })?;
        Ok(())
    }
}
