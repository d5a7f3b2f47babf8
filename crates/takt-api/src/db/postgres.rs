//! The server's store on PostgreSQL, shared by the nodes of a site (servers and workers; its
//! tables beside the twin's events). The jobs table is the site's queue. Each node has a random
//! name for the life of its process; it takes queued jobs (`FOR UPDATE SKIP LOCKED`: one node
//! each), renews their leases with each heartbeat (see [`super::HEARTBEAT`]), and hands the
//! running jobs of a node silent past its lease back to the queue (at most
//! [`super::MAX_ATTEMPTS`] takes each). A node writes a job's end only while the job is its own,
//! so a node that lost a lease cannot overwrite the run of the node that took it over.

use super::{Backend, Beat, ChunkState, Claimed, DbError, MAX_ATTEMPTS, StoredJob, stored_job};
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

/// Whole jobs waiting (chunks of a job under way do not count against the queue's length).
const QUEUED: &str = "SELECT count(*) FROM jobs WHERE status = 'queued' AND parent IS NULL";

const GAVE_UP: &str = "its node stopped each of the times it was taken (no heartbeat within \
                       its lease): not taken again";

impl Postgres {
    pub(super) fn connect(location: &PostgresLocation, now_ms: i64) -> Result<Postgres, DbError> {
        let db = location.connect()?;
        PostgresLocation::migrate(&db, migrations::migrations::runner(), HISTORY)?;
        let store = Postgres {
            db,
            node: format!("n{:016x}", rand::random::<u64>()),
        };
        store.take_over_silent(now_ms)?;
        Ok(store)
    }

    /// Running jobs whose lease ran out go back to the queue (or, taken too often, end
    /// `interrupted`). Their progress goes with them: the next node starts from the beginning.
    fn take_over_silent(&self, now_ms: i64) -> Result<(u64, u64), DbError> {
        Ok(self.db.with(|c| {
            let requeued = c.execute(
                "UPDATE jobs SET status = 'queued', node = NULL, lease_until_ms = NULL,
                        progress_done = NULL, progress_total = NULL
                 WHERE status = 'running' AND lease_until_ms < $1 AND attempts < $2",
                &[&now_ms, &MAX_ATTEMPTS],
            )?;
            let given_up = c.execute(
                "UPDATE jobs SET status = 'interrupted', error = $1, finished_ms = $2
                 WHERE status = 'running' AND lease_until_ms < $2",
                &[&GAVE_UP, &now_ms],
            )?;
            // The chunks of a job that has ended (its result has them, or it failed) go; a
            // node still running one finds it gone at its next heartbeat and stops.
            c.execute(
                "DELETE FROM jobs c WHERE c.parent IS NOT NULL AND NOT EXISTS
                    (SELECT 1 FROM jobs p WHERE p.key = c.parent AND p.status IN ('queued', 'running'))",
                &[],
            )?;
            Ok::<_, postgres::Error>((requeued, given_up))
        })?)
    }

    /// Takes the oldest queued job (chunks of jobs under way first; only `parent`'s if given).
    fn claim_one(
        &self,
        now_ms: i64,
        lease_ms: i64,
        parent: Option<&str>,
    ) -> Result<Option<Claimed>, DbError> {
        let row = self.db.with(|c| {
            c.query_opt(
                "UPDATE jobs SET status = 'running', node = $1, heartbeat_ms = $2,
                        lease_until_ms = $2::bigint + $3::bigint, attempts = attempts + 1
                 WHERE n = (SELECT n FROM jobs
                            WHERE status = 'queued' AND ($4::text IS NULL OR parent = $4)
                            ORDER BY parent IS NULL, n
                            FOR UPDATE SKIP LOCKED LIMIT 1)
                 RETURNING key, spec, attempts",
                &[&self.node, &now_ms, &lease_ms, &parent],
            )
        })?;
        Ok(row.map(|r| Claimed {
            id: r.get(0),
            spec: r.get(1),
            attempt: r.get(2),
        }))
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

    fn add_job(
        &self,
        id: &str,
        kind: &str,
        title: Option<&str>,
        spec: Option<&str>,
        now_ms: i64,
    ) -> Result<(), DbError> {
        self.db.with(|c| {
            c.execute(
                "INSERT INTO jobs (key, kind, status, created_ms, heartbeat_ms, spec, title)
                 VALUES ($1, $2, 'queued', $3, $3, $4, $5)",
                &[&id, &kind, &now_ms, &spec, &title],
            )
        })?;
        Ok(())
    }

    fn is_shared(&self) -> bool {
        true
    }

    fn node(&self) -> Option<&str> {
        Some(&self.node)
    }

    fn claim(&self, now_ms: i64, lease_ms: i64) -> Result<Option<Claimed>, DbError> {
        self.claim_one(now_ms, lease_ms, None)
    }

    fn release(&self, id: &str) -> Result<(), DbError> {
        self.db.with(|c| {
            c.execute(
                "UPDATE jobs SET status = 'queued', node = NULL, lease_until_ms = NULL,
                        progress_done = NULL, progress_total = NULL,
                        attempts = greatest(attempts - 1, 0)
                 WHERE key = $1 AND node = $2 AND status = 'running'",
                &[&id, &self.node],
            )
        })?;
        Ok(())
    }

    fn queued(&self) -> Result<u64, DbError> {
        let n: i64 = self.db.with(|c| c.query_one(QUEUED, &[]))?.get(0);
        Ok(n as u64)
    }

    fn set_status(&self, id: &str, status: &str) -> Result<(), DbError> {
        self.db.with(|c| {
            c.execute(
                "UPDATE jobs SET status = $1 WHERE key = $2 AND (node = $3 OR node IS NULL)",
                &[&status, &id, &self.node],
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
        progress: Option<(u64, u64)>,
        now_ms: i64,
    ) -> Result<(), DbError> {
        let (done, total) =
            progress.map_or((None, None), |(d, t)| (Some(d as i64), Some(t as i64)));
        self.db.with(|c| {
            c.execute(
                "UPDATE jobs SET status = $1, result = $2, error = $3, finished_ms = $4,
                        lease_until_ms = NULL,
                        progress_done = COALESCE($7, progress_done),
                        progress_total = COALESCE($8, progress_total)
                 WHERE key = $5 AND status IN ('queued', 'running')
                   AND (node = $6 OR node IS NULL)",
                &[
                    &status, &result, &error, &now_ms, &id, &self.node, &done, &total,
                ],
            )
        })?;
        Ok(())
    }

    fn job(&self, id: &str) -> Result<Option<StoredJob>, DbError> {
        Ok(self
            .db
            .with(|c| {
                c.query_opt(
                    "SELECT key, kind, status, result, error, created_ms, finished_ms,
                            progress_done, progress_total, node, attempts, title
                     FROM jobs WHERE key = $1",
                    &[&id],
                )
            })?
            .map(|r| job_of(&r)))
    }

    fn jobs(
        &self,
        limit: u32,
        kind: Option<&str>,
        before: Option<&str>,
    ) -> Result<Vec<StoredJob>, DbError> {
        let rows = self.db.with(|c| {
            c.query(
                "SELECT key, kind, status, NULL::text, error, created_ms, finished_ms,
                        progress_done, progress_total, node, attempts, title
                 FROM jobs
                 WHERE parent IS NULL
                   AND ($1::text IS NULL OR n < (SELECT n FROM jobs WHERE key = $1))
                   AND ($3::text IS NULL OR kind = $3)
                 ORDER BY n DESC LIMIT $2",
                &[&before, &i64::from(limit), &kind],
            )
        })?;
        Ok(rows.iter().map(job_of).collect())
    }

    fn heartbeat(
        &self,
        now_ms: i64,
        lease_ms: i64,
        progress: &[(String, u64, u64)],
    ) -> Result<Beat, DbError> {
        let ids: Vec<&str> = progress.iter().map(|(id, _, _)| id.as_str()).collect();
        let done: Vec<i64> = progress.iter().map(|(_, d, _)| *d as i64).collect();
        let total: Vec<i64> = progress.iter().map(|(_, _, t)| *t as i64).collect();
        let (held, queued) = self.db.with(|c| {
            let held = c.query(
                "UPDATE jobs SET heartbeat_ms = $1, lease_until_ms = $1::bigint + $2::bigint,
                        progress_done = p.done, progress_total = p.total
                 FROM UNNEST($3::text[], $4::bigint[], $5::bigint[]) AS p(key, done, total)
                 WHERE jobs.key = p.key AND jobs.node = $6 AND jobs.status = 'running'
                 RETURNING jobs.key, jobs.cancel_requested",
                &[&now_ms, &lease_ms, &ids, &done, &total, &self.node],
            )?;
            let queued: i64 = c.query_one(QUEUED, &[])?.get(0);
            Ok::<_, postgres::Error>((held, queued))
        })?;
        let (requeued, given_up) = self.take_over_silent(now_ms)?;
        if requeued + given_up > 0 {
            tracing::warn!(
                requeued,
                given_up,
                "jobs of a node silent past its lease taken over"
            );
        }
        let held_ids: std::collections::HashSet<String> =
            held.iter().map(|r| r.get::<_, String>(0)).collect();
        Ok(Beat {
            cancel: held
                .iter()
                .filter(|r| r.get::<_, bool>(1))
                .map(|r| r.get(0))
                .collect(),
            lost: ids
                .iter()
                .filter(|id| !held_ids.contains(**id))
                .map(|id| id.to_string())
                .collect(),
            queued: usize::try_from(queued).ok(),
        })
    }

    fn ping(&self) -> Result<(), DbError> {
        self.db.with(|c| c.simple_query("SELECT 1"))?;
        Ok(())
    }

    fn request_cancel(&self, id: &str, now_ms: i64) -> Result<(), DbError> {
        self.db.with(|c| {
            c.execute(
                "UPDATE jobs SET status = 'cancelled', error = 'cancelled before it started',
                        finished_ms = $2
                 WHERE key = $1 AND status = 'queued'",
                &[&id, &now_ms],
            )?;
            c.execute(
                "UPDATE jobs SET cancel_requested = TRUE WHERE key = $1 AND status = 'running'",
                &[&id],
            )
        })?;
        Ok(())
    }

    fn add_chunks(
        &self,
        parent: &str,
        chunks: &[(String, &str, String)],
        now_ms: i64,
    ) -> Result<(), DbError> {
        let keys: Vec<&str> = chunks.iter().map(|(k, _, _)| k.as_str()).collect();
        let kinds: Vec<&str> = chunks.iter().map(|(_, kind, _)| *kind).collect();
        let specs: Vec<&str> = chunks.iter().map(|(_, _, s)| s.as_str()).collect();
        self.db.with(|c| {
            c.execute(
                "INSERT INTO jobs (key, kind, status, created_ms, heartbeat_ms, spec, parent)
                 SELECT k, kind, 'queued', $1, $1, spec, $2
                 FROM UNNEST($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS c(k, kind, spec, i)
                 ORDER BY i
                 ON CONFLICT (key) DO NOTHING",
                &[&now_ms, &parent, &keys, &kinds, &specs],
            )
        })?;
        Ok(())
    }

    fn chunks(&self, parent: &str) -> Result<Vec<ChunkState>, DbError> {
        let rows = self.db.with(|c| {
            c.query(
                "SELECT key, status, error, coalesce(progress_done, 0) FROM jobs
                 WHERE parent = $1 ORDER BY n",
                &[&parent],
            )
        })?;
        Ok(rows
            .iter()
            .map(|r| ChunkState {
                id: r.get(0),
                status: r.get(1),
                error: r.get(2),
                done: r.get::<_, i64>(3).max(0) as u64,
            })
            .collect())
    }

    fn claim_chunk(
        &self,
        parent: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<Claimed>, DbError> {
        self.claim_one(now_ms, lease_ms, Some(parent))
    }
}

/// A job from a row of its columns: key, kind, status, result, error, created, finished,
/// progress (done, total), node, attempts, title.
fn job_of(r: &postgres::Row) -> StoredJob {
    let id: String = r.get(0);
    let mut job = stored_job(
        &id,
        (r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6)),
        (r.get(7), r.get(8)),
    );
    job.node = r.get(9);
    job.attempts = Some(r.get(10));
    job.title = r.get(11);
    job
}
