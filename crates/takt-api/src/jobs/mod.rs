//! Long work (simulations, schedules, maintenance plans) as jobs on a bounded pool of worker
//! threads, off the async runtime. A job is data (`JobSpec`, stored with it), and its result is
//! committed to the store before its status turns `done`. The queue has a fixed length: a full
//! queue refuses new jobs (the handler answers 503 with Retry-After) rather than letting memory
//! grow. It lives in one of two places:
//! - **in memory** (SQLite, one server): the pool runs the jobs its own routes queued;
//! - **in the shared store** (PostgreSQL): every node of a site (servers and `takt worker`s)
//!   claims queued jobs (`FOR UPDATE SKIP LOCKED`, so each is taken once), holds a lease it renews
//!   with each heartbeat, and a job whose node fell silent past its lease goes back to the queue
//!   for another (at most [`crate::db::MAX_ATTEMPTS`] times). A node that lost a job's lease stops
//!   it and stores nothing of it.
//!
//! Every job's work reads one stop flag (`Progress::cancel_flag`) between its steps. Three things
//! raise it, and the job's end says which: `DELETE /jobs/{id}` (`cancelled`), the server's time
//! limit for a job (`failed`, naming the limit), and a shutdown that outlasts its grace period
//! (`interrupted`). A queued job whose flag is raised never starts.

mod spec;
mod split;
mod title;

pub use spec::{JobSpec, MaintenanceResult, PlantAtStart};

use crate::db::{Claimed, Db};
use crate::now_ms;
use crate::problem::Problem;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
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
    /// Its lease ran out and another node took the job (a shared store).
    Lost = 4,
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
    /// The job it is a chunk of, when run by that job's own thread: it stops when that one does.
    within: std::sync::OnceLock<Arc<Progress>>,
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
            within: std::sync::OnceLock::new(),
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
    /// Done and total steps now.
    fn now(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
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
            4 => StopReason::Lost,
            _ => StopReason::None,
        }
    }
}

/// A job's work, given its progress and the pool that runs it (where a job split into chunks
/// queues them).
pub type Work = Box<dyn FnOnce(&Progress, &Jobs) -> Result<serde_json::Value, String> + Send>;

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
    /// On a site (a shared store): the node that runs the job, or ran it last (a server's or a
    /// `takt worker`'s name, as it prints when it starts), and how often a node took it (more
    /// than once when a node fell silent and another took it over).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<i32>,
    /// What the job was, in one line: the plant, and its variants, objective or horizon (`null`
    /// for a job stored before titles).
    pub title: Option<String>,
}

/// A job in a list: what it is and how it stands, without its result (`GET /jobs/{id}` has it).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct JobSummary {
    pub id: String,
    /// `simulation`, `schedule` or `maintenance-plan`.
    pub kind: String,
    /// As in `JobView`.
    pub title: Option<String>,
    /// As in `JobView`.
    pub status: String,
    pub progress: Option<ProgressView>,
    pub error: Option<String>,
    /// When it was submitted, and when it ended (Unix ms).
    pub created_ms: i64,
    pub finished_ms: Option<i64>,
    /// On a site: the node that runs it or ran it last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

/// A page of jobs, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct JobList {
    pub jobs: Vec<JobSummary>,
    /// The next page (older jobs) when this one is full: a path with `before` and `limit`.
    pub next: Option<String>,
}

/// What a finished job gives, by its kind (for the API document; results are stored as JSON).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum JobResult {
    Simulation(Box<takt_experiments::Experiment>),
    Schedule(Box<takt_scheduler::planning::PlantSchedule>),
    MaintenancePlan(Box<MaintenanceResult>),
}

/// How a node runs jobs.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Threads that run jobs. With a shared store 0 is a server that accepts jobs and leaves them
    /// to the site's other nodes; alone it runs at least one.
    pub workers: usize,
    /// Jobs that may wait (on a shared store: the site's queue).
    pub queue: usize,
    /// How long one job may run before its flag is raised.
    pub time_limit: Duration,
    /// How long this node's jobs stay its own without a heartbeat (a shared store).
    pub lease: Duration,
}

/// How often a node with nothing to run asks the shared store for a job (a job queued by this
/// node wakes its threads at once).
const POLL: Duration = Duration::from_millis(250);

enum Queue {
    Local {
        sender: Mutex<Option<SyncSender<(String, Work)>>>,
        receiver: Mutex<Receiver<(String, Work)>>,
    },
    Shared {
        closed: AtomicBool,
        wake: (Mutex<()>, Condvar),
    },
}

pub struct Jobs {
    config: PoolConfig,
    queue: Queue,
    live: Mutex<HashMap<String, Arc<Progress>>>,
    db: Arc<Db>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    queued: AtomicUsize,
    running: AtomicUsize,
}

impl Jobs {
    /// Starts `config.workers` threads over the store's queue; a job running longer than
    /// `config.time_limit` is stopped (a watchdog looks every 100 ms, and renews the leases).
    pub fn start(db: Arc<Db>, config: PoolConfig) -> Arc<Jobs> {
        let queue = if db.is_shared() {
            Queue::Shared {
                closed: AtomicBool::new(false),
                wake: (Mutex::new(()), Condvar::new()),
            }
        } else {
            let (sender, receiver) = sync_channel::<(String, Work)>(config.queue.max(1));
            Queue::Local {
                sender: Mutex::new(Some(sender)),
                receiver: Mutex::new(receiver),
            }
        };
        let threads = match queue {
            Queue::Local { .. } => config.workers.max(1),
            Queue::Shared { .. } => config.workers,
        };
        let jobs = Arc::new(Jobs {
            config,
            queue,
            live: Mutex::new(HashMap::new()),
            db,
            workers: Mutex::new(Vec::new()),
            queued: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
        });
        let mut handles = Vec::new();
        for k in 0..threads {
            let jobs = Arc::clone(&jobs);
            let handle = std::thread::Builder::new()
                .name(format!("takt-job-{k}"))
                .spawn(move || {
                    while let Some((id, work)) = jobs.next() {
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

    /// The next job for a worker thread; `None` once the pool is closing.
    fn next(&self) -> Option<(String, Work)> {
        match &self.queue {
            Queue::Local { receiver, .. } => {
                let next = receiver.lock().map(|r| r.recv());
                let Ok(Ok(job)) = next else { return None };
                self.queued.fetch_sub(1, Ordering::Relaxed);
                Some(job)
            }
            Queue::Shared { closed, wake } => loop {
                if closed.load(Ordering::Relaxed) {
                    return None;
                }
                match self.db.claim(now_ms(), self.lease_ms()) {
                    Ok(Some(claimed)) => return Some(self.taken(claimed)),
                    Ok(None) => {
                        let (lock, condvar) = wake;
                        if let Ok(guard) = lock.lock() {
                            let _ = condvar.wait_timeout(guard, POLL);
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot take a job from the shared queue");
                        std::thread::sleep(crate::db::HEARTBEAT);
                    }
                }
            },
        }
    }

    /// A job this node claimed from the shared queue, ready to run.
    fn taken(&self, claimed: Claimed) -> (String, Work) {
        tracing::info!(job = claimed.id, attempt = claimed.attempt, "job taken");
        if let Ok(mut live) = self.live.lock() {
            live.insert(claimed.id.clone(), Arc::new(Progress::default()));
        }
        let spec = claimed
            .spec
            .ok_or_else(|| "queued by an earlier release, which did not store it".to_string())
            .and_then(|text| serde_json::from_str::<JobSpec>(&text).map_err(|e| e.to_string()));
        let id = claimed.id.clone();
        let work: Work = match spec {
            // An experiment is split into chunks of replications for the site's nodes.
            Ok(spec) => Box::new(move |p, jobs| {
                let round = std::cell::Cell::new(0);
                let runner = |chunks, progress: &(dyn Fn(u64) + Sync)| {
                    round.set(round.get() + 1);
                    jobs.run_chunks(&id, round.get() - 1, chunks, progress)
                };
                spec.run(p, Some(&runner))
            }),
            Err(e) => Box::new(move |_, _| Err(format!("the job's input does not read back: {e}"))),
        };
        (claimed.id, work)
    }

    /// Wakes this node's idle threads to look at the shared queue now.
    fn wake_all(&self) {
        if let Queue::Shared { wake, .. } = &self.queue {
            wake.1.notify_all();
        }
    }

    fn lease_ms(&self) -> i64 {
        i64::try_from(self.config.lease.as_millis()).unwrap_or(i64::MAX)
    }

    fn shared(&self) -> bool {
        matches!(self.queue, Queue::Shared { .. })
    }

    /// Raises the flag of every job that has run past the time limit, and of every chunk whose
    /// job, run by the same thread, has stopped (the chunk goes back to the queue).
    fn stop_overdue(&self) {
        let Ok(live) = self.live.lock() else { return };
        for p in live.values() {
            let started = p.started.lock().ok().and_then(|s| *s);
            if started.is_some_and(|t| t.elapsed() > self.config.time_limit) {
                p.raise(StopReason::TimeLimit);
            }
            if p.within.get().is_some_and(|job| job.cancelled()) {
                p.raise(StopReason::Shutdown);
            }
        }
    }

    /// Renews this node's jobs in a shared store (their leases and progress), stops those another
    /// node was asked to cancel (a queued one is stored `cancelled` now, as [`Jobs::cancel`]
    /// does) and those whose lease another node has taken over.
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
        let beat = match self.db.heartbeat(now_ms(), self.lease_ms(), &progress) {
            Ok(beat) => beat,
            Err(e) => {
                tracing::error!(error = %e, "cannot renew the jobs' heartbeat");
                return;
            }
        };
        if let Some(queued) = beat.queued {
            self.queued.store(queued, Ordering::Relaxed);
        }
        for id in beat.cancel {
            if let Some(p) = self.progress_of(&id) {
                tracing::info!(job = id, "cancelled through another node");
                self.stop(&id, &p);
            }
        }
        for id in beat.lost {
            // A job whose end was stored while the heartbeat ran is not running any more.
            if let Some(p) = self.progress_of(&id)
                && !p.ended.load(Ordering::Relaxed)
            {
                tracing::warn!(
                    job = id,
                    "this node's lease on the job ran out: stopping it"
                );
                p.raise(StopReason::Lost);
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
                Some(progress.now()),
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
        self.run_to_its_end(id, &progress, work);
        // Its end is stored with its last progress (or it went back to the shared queue, or
        // another node runs it): this node's memory of it can go.
        if let Ok(mut live) = self.live.lock() {
            live.remove(id);
        }
    }

    fn run_to_its_end(&self, id: &str, progress: &Progress, work: Work) {
        let finish = |status: &str, result: Option<&serde_json::Value>, error: Option<&str>| {
            match self
                .db
                .finish(id, status, result, error, Some(progress.now()), now_ms())
            {
                Ok(()) => tracing::info!(job = id, status, error, "job ended"),
                Err(e) => tracing::error!(job = id, error = %e, "cannot store the job's end"),
            }
            progress.ended.store(true, Ordering::Relaxed);
        };
        match progress.reason() {
            StopReason::None => {}
            // Taken from the shared queue but not started: back to it, for another node.
            StopReason::Shutdown if self.shared() => {
                if let Err(e) = self.db.release(id) {
                    tracing::error!(job = id, error = %e, "cannot hand the job back");
                }
                progress.ended.store(true, Ordering::Relaxed);
                return;
            }
            StopReason::Shutdown => {
                return finish(
                    "interrupted",
                    None,
                    Some("the server stopped before the job started"),
                );
            }
            _ => return, // `cancel` has stored it as cancelled
        }
        if !self.shared()
            && let Err(e) = self.db.set_status(id, "running")
        {
            tracing::error!(job = id, error = %e, "cannot store the job's status");
        }
        if let Ok(mut started) = progress.started.lock() {
            *started = Some(Instant::now());
        }
        self.running.fetch_add(1, Ordering::Relaxed);
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(progress, self)));
        self.running.fetch_sub(1, Ordering::Relaxed);
        let limit = format!(
            "stopped after the server's time limit for a job ({} s)",
            self.config.time_limit.as_secs_f64()
        );
        match (progress.reason(), outcome) {
            (StopReason::Cancelled, _) => {
                finish("cancelled", None, Some("cancelled while running"))
            }
            (StopReason::TimeLimit, _) => finish("failed", None, Some(&limit)),
            // Another node of the site may run it from the start.
            (StopReason::Shutdown, _) if self.shared() => {
                if let Err(e) = self.db.release(id) {
                    tracing::error!(job = id, error = %e, "cannot hand the job back");
                }
                progress.ended.store(true, Ordering::Relaxed);
            }
            (StopReason::Shutdown, _) => finish(
                "interrupted",
                None,
                Some("the server stopped before the job finished"),
            ),
            // Another node runs it now: what this one found is not stored.
            (StopReason::Lost, _) => progress.ended.store(true, Ordering::Relaxed),
            (StopReason::None, Ok(Ok(result))) => finish("done", Some(&result), None),
            (StopReason::None, Ok(Err(e))) => finish("failed", None, Some(&e)),
            (StopReason::None, Err(_)) => finish("failed", None, Some("the job panicked")),
        }
        if let Ok(mut started) = progress.started.lock() {
            *started = None; // the watchdog looks at running jobs only
        }
    }

    /// Queues a job; a full queue (or a server shutting down) is a 503 with Retry-After.
    pub fn submit(&self, spec: JobSpec) -> Result<String, Problem> {
        let text = serde_json::to_string(&spec)
            .map_err(|e| Problem::internal(format!("the job does not serialise: {e}")))?;
        let kind = spec.kind();
        let title = spec.title();
        let title = title.as_deref();
        match &self.queue {
            Queue::Local { .. } => self.enqueue_local(
                kind,
                title,
                Some(&text),
                Box::new(move |p, _| spec.run(p, None)),
            ),
            Queue::Shared { closed, wake } => {
                if closed.load(Ordering::Relaxed) {
                    return Err(Problem::busy(
                        "the server is shutting down: try again later",
                        5,
                    ));
                }
                let waiting = self
                    .db
                    .queued()
                    .map_err(|e| Problem::internal(e.to_string()))?;
                if waiting >= self.config.queue as u64 {
                    return Err(Problem::busy(
                        format!(
                            "the site's job queue is full ({waiting} waiting): try again later"
                        ),
                        5,
                    ));
                }
                let id = self
                    .db
                    .add_job(kind, title, Some(&text), now_ms())
                    .map_err(|e| Problem::internal(e.to_string()))?;
                wake.1.notify_one();
                Ok(id)
            }
        }
    }

    /// Queues `work` in memory (one server alone).
    fn enqueue_local(
        &self,
        kind: &str,
        title: Option<&str>,
        spec: Option<&str>,
        work: Work,
    ) -> Result<String, Problem> {
        let Queue::Local { sender, .. } = &self.queue else {
            return Err(Problem::internal("not a pool of its own"));
        };
        let id = self
            .db
            .add_job(kind, title, spec, now_ms())
            .map_err(|e| Problem::internal(e.to_string()))?;
        if let Ok(mut live) = self.live.lock() {
            live.insert(id.clone(), Arc::new(Progress::default()));
        }
        let sent = match sender.lock().ok().and_then(|s| s.clone()) {
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
            let _ = self
                .db
                .finish(&id, "failed", None, Some(why), None, now_ms());
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
            // Live when this node runs it; else as its node last stored it.
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
                node: j.node,
                attempts: j.attempts,
                title: j.title,
            }
        }))
    }

    /// Up to `limit` jobs, newest first, of `kind` and submitted before job `before` where given
    /// (a job of another server of the site too); each running one's progress live when this
    /// server runs it.
    pub fn list(
        &self,
        limit: u32,
        kind: Option<&str>,
        before: Option<&str>,
    ) -> Result<JobList, Problem> {
        let internal = |e: crate::db::DbError| Problem::internal(e.to_string());
        let stored = self.db.jobs(limit, kind, before).map_err(internal)?;
        // An empty page after an id that is no job's is a mistake, said as one; the job is read
        // (with its result) only then, not for every page.
        if stored.is_empty()
            && let Some(id) = before
            && self.db.job(id).map_err(internal)?.is_none()
        {
            return Err(Problem::bad_request(format!("before: no job `{id}`")));
        }
        let jobs: Vec<JobSummary> = stored
            .into_iter()
            .map(|j| JobSummary {
                progress: self
                    .progress_of(&j.id)
                    .map(|p| ProgressView {
                        done: p.done.load(Ordering::Relaxed),
                        total: p.total.load(Ordering::Relaxed),
                    })
                    .or(j.progress.map(|(done, total)| ProgressView { done, total })),
                id: j.id,
                kind: j.kind,
                status: j.status,
                error: j.error,
                created_ms: j.created_ms,
                finished_ms: j.finished_ms,
                node: j.node,
                title: j.title,
            })
            .collect();
        let of_kind = kind.map_or(String::new(), |k| format!("&kind={k}"));
        let next = (jobs.len() == limit as usize)
            .then(|| {
                jobs.last()
                    .map(|j| format!("/jobs?before={}&limit={limit}{of_kind}", j.id))
            })
            .flatten();
        Ok(JobList { jobs, next })
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
                // In the shared queue, or another node's job: a queued one is stored cancelled
                // now, a running one stops at its node's next heartbeat.
                None => self
                    .db
                    .request_cancel(id, now_ms())
                    .map_err(|e| Problem::internal(e.to_string()))?,
            }
        }
        self.get(id)
    }

    /// Jobs waiting (this server's, or the site's on a shared store) and running here (for
    /// /metrics).
    pub fn load(&self) -> (usize, usize) {
        (
            self.queued.load(Ordering::Relaxed),
            self.running.load(Ordering::Relaxed),
        )
    }

    /// Takes no more jobs and waits up to `grace` for the running ones (and, alone, the queued
    /// ones) to finish; then stops them all and waits up to `grace` again for the workers to see
    /// it. Alone, what was stopped ends `interrupted`; on a shared store it goes back to the
    /// queue for another node, and the queue itself stays for the others. A worker still busy
    /// after that is left behind: the process exits without it, and its job is marked
    /// `interrupted` when the store is next opened (alone) or taken over when its lease runs
    /// out (shared).
    pub fn shutdown(&self, grace: Duration) {
        match &self.queue {
            Queue::Local { sender, .. } => {
                if let Ok(mut s) = sender.lock() {
                    s.take();
                }
            }
            Queue::Shared { closed, wake } => {
                closed.store(true, Ordering::Relaxed);
                wake.1.notify_all();
            }
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

    /// Queues a closure instead of a spec (the pool's own tests: work that ignores its flag).
    #[cfg(test)]
    fn submit_work(&self, kind: &str, work: Work) -> Result<String, Problem> {
        self.enqueue_local(kind, None, None, work)
    }
}

#[cfg(test)]
mod tests;
