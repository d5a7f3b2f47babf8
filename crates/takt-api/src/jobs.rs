//! Long work (simulations, schedules, maintenance plans) as jobs on a bounded pool of worker
//! threads, off the async runtime. The queue has a fixed length: a full queue refuses new jobs (the
//! handler answers 503 with Retry-After) rather than letting memory grow. A job's result is
//! committed to the server's store before its status turns `done`.
//!
//! Every job's work reads one stop flag (`Progress::cancel_flag`) between its steps. Three things
//! raise it, and the job's end says which: `DELETE /jobs/{id}` (`cancelled`), the server's time
//! limit for a job (`failed`, naming the limit), and a shutdown that outlasts its grace period
//! (`interrupted`). A queued job whose flag is raised never starts.

use crate::db::Db;
use crate::now_ms;
use crate::problem::Problem;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// Why a job's stop flag was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum StopReason {
    None = 0,
    Cancelled = 1,
    TimeLimit = 2,
    Shutdown = 3,
}

/// A job's live progress, shared with its work.
#[derive(Debug)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
    stop: AtomicBool,
    why: AtomicU8,
    started: Mutex<Option<Instant>>,
    /// Its end is stored: no heartbeat carries its progress any more.
    ended: AtomicBool,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            why: AtomicU8::new(StopReason::None as u8),
            started: Mutex::new(None),
            ended: AtomicBool::new(false),
        }
    }
}

impl Progress {
    pub fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
    }
    /// Both at once, for work that learns its total as it goes (reported from several threads:
    /// the count shown never goes back).
    pub fn set(&self, done: u64, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        self.done.fetch_max(done, Ordering::Relaxed);
    }
    pub fn step(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }
    pub fn cancelled(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
    /// The flag the work reads between its steps: raised by a cancel, the time limit or a shutdown.
    pub fn cancel_flag(&self) -> &AtomicBool {
        &self.stop
    }
    /// Raises the flag; the first reason given is the one the job's end reports.
    fn raise(&self, why: StopReason) {
        let _ = self.why.compare_exchange(
            StopReason::None as u8,
            why as u8,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        self.stop.store(true, Ordering::Relaxed);
    }
    fn reason(&self) -> StopReason {
        match self.why.load(Ordering::Relaxed) {
            1 => StopReason::Cancelled,
            2 => StopReason::TimeLimit,
            3 => StopReason::Shutdown,
            _ => StopReason::None,
        }
    }
}

pub type Work = Box<dyn FnOnce(&Progress) -> Result<serde_json::Value, String> + Send>;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProgressView {
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct JobView {
    pub id: String,
    pub kind: String,
    /// `queued`, `running`, `done`, `failed`, `cancelled` or `interrupted` (the server stopped).
    pub status: String,
    pub progress: Option<ProgressView>,
    /// By `kind`: a `simulation` gives an `Experiment`, a `schedule` a `PlantSchedule`, a
    /// `maintenance-plan` a `PlanOutput`; `null` until the job is done.
    #[schema(value_type = Option<JobResult>)]
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
}

/// What a finished job gives, by its kind (for the API document; results are stored as JSON).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum JobResult {
    Simulation(Box<takt_experiments::Experiment>),
    Schedule(Box<takt_scheduler::planning::PlantSchedule>),
    MaintenancePlan(Box<crate::routes::MaintenanceResult>),
}

pub struct Jobs {
    /// How long one job may run before its flag is raised.
    time_limit: Duration,
    sender: Mutex<Option<SyncSender<(String, Work)>>>,
    live: Mutex<HashMap<String, Arc<Progress>>>,
    db: Arc<Db>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    queued: AtomicUsize,
    running: AtomicUsize,
}

impl Jobs {
    /// Starts `workers` threads over a queue of `queue` jobs; a job running longer than
    /// `time_limit` is stopped (a watchdog looks every 100 ms).
    pub fn start(db: Arc<Db>, workers: usize, queue: usize, time_limit: Duration) -> Arc<Jobs> {
        let (sender, receiver) = sync_channel::<(String, Work)>(queue.max(1));
        let receiver = Arc::new(Mutex::new(receiver));
        let jobs = Arc::new(Jobs {
            time_limit,
            sender: Mutex::new(Some(sender)),
            live: Mutex::new(HashMap::new()),
            db,
            workers: Mutex::new(Vec::new()),
            queued: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
        });
        let mut handles = Vec::new();
        for k in 0..workers.max(1) {
            let receiver = Arc::clone(&receiver);
            let jobs = Arc::clone(&jobs);
            let handle = std::thread::Builder::new()
                .name(format!("takt-job-{k}"))
                .spawn(move || {
                    loop {
                        let next = receiver.lock().map(|r| r.recv());
                        let Ok(Ok((id, work))) = next else { break };
                        jobs.queued.fetch_sub(1, Ordering::Relaxed);
                        jobs.run_one(&id, work);
                    }
                });
            if let Ok(h) = handle {
                handles.push(h);
            }
        }
        if let Ok(mut w) = jobs.workers.lock() {
            *w = handles;
        }
        let watched = Arc::downgrade(&jobs);
        let _ = std::thread::Builder::new()
            .name("takt-job-watchdog".into())
            .spawn(move || {
                let mut beaten = Instant::now();
                while let Some(jobs) = watched.upgrade() {
                    jobs.stop_overdue();
                    if beaten.elapsed() >= crate::db::HEARTBEAT {
                        jobs.beat();
                        beaten = Instant::now();
                    }
                    drop(jobs);
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        jobs
    }

    /// Raises the flag of every job that has run past the time limit.
    fn stop_overdue(&self) {
        let Ok(live) = self.live.lock() else { return };
        for p in live.values() {
            let started = p.started.lock().ok().and_then(|s| *s);
            if started.is_some_and(|t| t.elapsed() > self.time_limit) {
                p.raise(StopReason::TimeLimit);
            }
        }
    }

    /// Renews this server's jobs in a shared store and stops those another server was asked to
    /// cancel (a queued one is stored `cancelled` now, as [`Jobs::cancel`] does).
    fn beat(&self) {
        let progress: Vec<(String, u64, u64)> = self
            .live
            .lock()
            .map(|live| {
                live.iter()
                    .filter(|(_, p)| !p.ended.load(Ordering::Relaxed))
                    .map(|(id, p)| {
                        (
                            id.clone(),
                            p.done.load(Ordering::Relaxed),
                            p.total.load(Ordering::Relaxed),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let asked = match self.db.heartbeat(now_ms(), &progress) {
            Ok(asked) => asked,
            Err(e) => {
                tracing::error!(error = %e, "cannot renew the jobs' heartbeat");
                return;
            }
        };
        for id in asked {
            if let Some(p) = self.progress_of(&id) {
                tracing::info!(job = id, "cancelled through another server");
                self.stop(&id, &p);
            }
        }
    }

    /// Raises a job's cancel flag; a job not started yet is stored `cancelled` now.
    fn stop(&self, id: &str, progress: &Progress) {
        progress.raise(StopReason::Cancelled);
        let started = progress.started.lock().is_ok_and(|s| s.is_some());
        if !started {
            if let Err(e) = self.db.finish(
                id,
                "cancelled",
                None,
                Some("cancelled before it started"),
                now_ms(),
            ) {
                tracing::error!(job = id, error = %e, "cannot store the job's end");
            }
            progress.ended.store(true, Ordering::Relaxed);
        }
    }

    /// Raises the flag of every job, queued or running, for a shutdown.
    fn stop_all(&self) {
        if let Ok(live) = self.live.lock() {
            for p in live.values() {
                p.raise(StopReason::Shutdown);
            }
        }
    }

    fn progress_of(&self, id: &str) -> Option<Arc<Progress>> {
        self.live.lock().ok().and_then(|l| l.get(id).cloned())
    }

    fn run_one(&self, id: &str, work: Work) {
        let Some(progress) = self.progress_of(id) else {
            return;
        };
        let finish = |status: &str, result: Option<&serde_json::Value>, error: Option<&str>| {
            if let Err(e) = self.db.finish(id, status, result, error, now_ms()) {
                tracing::error!(job = id, error = %e, "cannot store the job's end");
            }
            progress.ended.store(true, Ordering::Relaxed);
        };
        match progress.reason() {
            StopReason::None => {}
            StopReason::Shutdown => {
                return finish(
                    "interrupted",
                    None,
                    Some("the server stopped before the job started"),
                );
            }
            _ => return, // `cancel` has stored it as cancelled
        }
        if let Err(e) = self.db.set_status(id, "running") {
            tracing::error!(job = id, error = %e, "cannot store the job's status");
        }
        if let Ok(mut started) = progress.started.lock() {
            *started = Some(Instant::now());
        }
        self.running.fetch_add(1, Ordering::Relaxed);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&progress)));
        self.running.fetch_sub(1, Ordering::Relaxed);
        let limit = format!(
            "stopped after the server's time limit for a job ({} s)",
            self.time_limit.as_secs_f64()
        );
        match (progress.reason(), outcome) {
            (StopReason::Cancelled, _) => {
                finish("cancelled", None, Some("cancelled while running"))
            }
            (StopReason::TimeLimit, _) => finish("failed", None, Some(&limit)),
            (StopReason::Shutdown, _) => finish(
                "interrupted",
                None,
                Some("the server stopped before the job finished"),
            ),
            (StopReason::None, Ok(Ok(result))) => finish("done", Some(&result), None),
            (StopReason::None, Ok(Err(e))) => finish("failed", None, Some(&e)),
            (StopReason::None, Err(_)) => finish("failed", None, Some("the job panicked")),
        }
        if let Ok(mut started) = progress.started.lock() {
            *started = None; // the watchdog looks at running jobs only
        }
        tracing::info!(job = id, "job finished");
    }

    /// Queues a job; a full queue (or a server shutting down) is a 503 with Retry-After.
    pub fn submit(&self, kind: &str, work: Work) -> Result<String, Problem> {
        let id = self
            .db
            .add_job(kind, now_ms())
            .map_err(|e| Problem::internal(e.to_string()))?;
        if let Ok(mut live) = self.live.lock() {
            live.insert(id.clone(), Arc::new(Progress::default()));
        }
        let sent = match self.sender.lock().ok().and_then(|s| s.clone()) {
            Some(sender) => {
                self.queued.fetch_add(1, Ordering::Relaxed);
                let r = sender.try_send((id.clone(), work));
                if r.is_err() {
                    self.queued.fetch_sub(1, Ordering::Relaxed);
                }
                r.map_err(|e| matches!(e, TrySendError::Full(_)))
            }
            None => Err(false),
        };
        if let Err(full) = sent {
            let why = if full {
                "the job queue is full"
            } else {
                "the server is shutting down"
            };
            let _ = self.db.finish(&id, "failed", None, Some(why), now_ms());
            return Err(Problem::busy(format!("{why}: try again later"), 5));
        }
        Ok(id)
    }

    pub fn get(&self, id: &str) -> Result<Option<JobView>, Problem> {
        let stored = self
            .db
            .job(id)
            .map_err(|e| Problem::internal(e.to_string()))?;
        Ok(stored.map(|j| {
            // Live when this server runs it; else as its server last stored it.
            let progress = self
                .progress_of(id)
                .map(|p| ProgressView {
                    done: p.done.load(Ordering::Relaxed),
                    total: p.total.load(Ordering::Relaxed),
                })
                .or(j.progress.map(|(done, total)| ProgressView { done, total }));
            JobView {
                id: j.id,
                kind: j.kind,
                status: j.status,
                progress,
                result: j.result,
                error: j.error,
            }
        }))
    }

    /// Marks a job cancelled (it stays in the store with that status once its worker sees it).
    pub fn cancel(&self, id: &str) -> Result<Option<JobView>, Problem> {
        let Some(view) = self.get(id)? else {
            return Ok(None);
        };
        if matches!(view.status.as_str(), "queued" | "running") {
            match self.progress_of(id) {
                // It never starts if queued: that is stored now rather than when a worker
                // reaches it.
                Some(p) => self.stop(id, &p),
                // Another server's job (a shared store): it stops at that server's next
                // heartbeat.
                None => self
                    .db
                    .request_cancel(id)
                    .map_err(|e| Problem::internal(e.to_string()))?,
            }
        }
        self.get(id)
    }

    /// Jobs waiting and running (for /metrics).
    pub fn load(&self) -> (usize, usize) {
        (
            self.queued.load(Ordering::Relaxed),
            self.running.load(Ordering::Relaxed),
        )
    }

    /// Takes no more jobs and waits up to `grace` for the queued and running ones to finish; then
    /// stops them all (each ends `interrupted`) and waits up to `grace` again for the workers to
    /// see it. A worker still busy after that is left behind: the process exits without it, and
    /// its job is marked `interrupted` when the store is next opened.
    pub fn shutdown(&self, grace: Duration) {
        if let Ok(mut s) = self.sender.lock() {
            s.take();
        }
        // What has not started will not: it ends `interrupted` as its worker reaches it.
        if let Ok(live) = self.live.lock() {
            for p in live.values() {
                if p.started.lock().is_ok_and(|s| s.is_none()) {
                    p.raise(StopReason::Shutdown);
                }
            }
        }
        let handles: Vec<JoinHandle<()>> = self
            .workers
            .lock()
            .map(|mut w| w.drain(..).collect())
            .unwrap_or_default();
        let all_done = |deadline: Instant| {
            while Instant::now() < deadline {
                if handles.iter().all(JoinHandle::is_finished) {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            handles.iter().all(JoinHandle::is_finished)
        };
        if !all_done(Instant::now() + grace) {
            tracing::warn!("jobs still running after the grace period: stopping them");
            self.stop_all();
            if !all_done(Instant::now() + grace) {
                tracing::error!("a job did not stop; leaving it behind");
                return;
            }
        }
        for h in handles {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs(name: &str, time_limit: Duration) -> Arc<Jobs> {
        let dir = std::env::temp_dir().join(format!("takt-jobs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let db = Arc::new(Db::open(&dir.join("server.sqlite")).expect("db"));
        Jobs::start(db, 1, 4, time_limit)
    }

    /// Work that never ends by itself: it loops until its flag is raised (`obeys`), or for ever.
    fn endless(obeys: bool) -> Work {
        Box::new(move |p| {
            while !(obeys && p.cancelled()) {
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(serde_json::Value::Null)
        })
    }

    fn wait_for(jobs: &Jobs, id: &str, status: &str) -> JobView {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let view = jobs.get(id).expect("get").expect("stored");
            if view.status == status || Instant::now() > deadline {
                return view;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_job_past_its_time_limit_fails_naming_the_limit() {
        let jobs = jobs("limit", Duration::from_millis(300));
        let id = jobs.submit("test", endless(true)).expect("queued");
        let view = wait_for(&jobs, &id, "failed");
        assert_eq!(view.status, "failed", "{view:?}");
        assert!(
            view.error
                .as_deref()
                .is_some_and(|e| e.contains("time limit")),
            "{view:?}"
        );
        jobs.shutdown(Duration::from_secs(1));
    }

    #[test]
    fn ids_are_unguessable() {
        let jobs = jobs("ids", Duration::from_secs(60));
        let a = jobs.submit("test", Box::new(|_| Ok(serde_json::Value::Null)));
        let b = jobs.submit("test", Box::new(|_| Ok(serde_json::Value::Null)));
        let (a, b) = (a.expect("a"), b.expect("b"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 33, "{a}");
        assert!(jobs.get("j1").expect("get").is_none());
        jobs.shutdown(Duration::from_secs(1));
    }

    #[test]
    fn shutdown_ends_within_its_grace_periods_whatever_runs() {
        let jobs = jobs("shutdown", Duration::from_secs(3600));
        let running = jobs.submit("test", endless(true)).expect("queued");
        let queued = jobs.submit("test", endless(true)).expect("queued");
        wait_for(&jobs, &running, "running");
        let t = Instant::now();
        jobs.shutdown(Duration::from_millis(200));
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        for id in [&running, &queued] {
            let view = jobs.get(id).expect("get").expect("stored");
            assert_eq!(view.status, "interrupted", "{view:?}");
        }
        // Work that ignores its flag is left behind after the second grace period.
        let stubborn = self::jobs("stubborn", Duration::from_secs(3600));
        let id = stubborn.submit("test", endless(false)).expect("queued");
        wait_for(&stubborn, &id, "running");
        let t = Instant::now();
        stubborn.shutdown(Duration::from_millis(200));
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    }
}
