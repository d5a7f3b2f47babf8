//! Long work (simulations, maintenance plans) as jobs on a bounded pool of worker threads, off the
//! async runtime. The queue has a fixed length: a full queue refuses new jobs (the handler answers
//! 503 with Retry-After) rather than letting memory grow. A job's result is committed to the
//! server's store before its status turns `done`. Cancelling a queued job means it never runs; a
//! running simulation stops within a step of its replications (its worker is free again), other
//! running work finishes its computation in the background and its result is dropped.

use crate::db::Db;
use crate::problem::Problem;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use utoipa::ToSchema;

/// A job's live progress, shared with its work.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
    cancelled: AtomicBool,
}

impl Progress {
    pub fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
    }
    pub fn step(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }
    pub fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
    /// The flag `DELETE /jobs/{id}` sets, for work that can stop early.
    pub fn cancel_flag(&self) -> &AtomicBool {
        &self.cancelled
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
    #[schema(value_type = Object)]
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
}

pub struct Jobs {
    sender: Mutex<Option<SyncSender<(String, Work)>>>,
    live: Mutex<HashMap<String, Arc<Progress>>>,
    db: Arc<Db>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    queued: AtomicUsize,
    running: AtomicUsize,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Jobs {
    pub fn start(db: Arc<Db>, workers: usize, queue: usize) -> Arc<Jobs> {
        let (sender, receiver) = sync_channel::<(String, Work)>(queue.max(1));
        let receiver = Arc::new(Mutex::new(receiver));
        let jobs = Arc::new(Jobs {
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
        jobs
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
        };
        if progress.cancelled() {
            return; // `cancel` has stored it as cancelled
        }
        if let Err(e) = self.db.set_status(id, "running") {
            tracing::error!(job = id, error = %e, "cannot store the job's status");
        }
        self.running.fetch_add(1, Ordering::Relaxed);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&progress)));
        self.running.fetch_sub(1, Ordering::Relaxed);
        match outcome {
            _ if progress.cancelled() => finish("cancelled", None, Some("cancelled while running")),
            Ok(Ok(result)) => finish("done", Some(&result), None),
            Ok(Err(e)) => finish("failed", None, Some(&e)),
            Err(_) => finish("failed", None, Some("the job panicked")),
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
            let progress = self.progress_of(id).map(|p| ProgressView {
                done: p.done.load(Ordering::Relaxed),
                total: p.total.load(Ordering::Relaxed),
            });
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
        if matches!(view.status.as_str(), "queued" | "running")
            && let Some(p) = self.progress_of(id)
        {
            p.cancelled.store(true, Ordering::Relaxed);
            if view.status == "queued" {
                // It never starts: say so now rather than when a worker reaches it.
                self.db
                    .finish(
                        id,
                        "cancelled",
                        None,
                        Some("cancelled before it started"),
                        now_ms(),
                    )
                    .map_err(|e| Problem::internal(e.to_string()))?;
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

    /// Takes no more jobs and waits for the queued and running ones to finish.
    pub fn shutdown(&self) {
        if let Ok(mut s) = self.sender.lock() {
            s.take();
        }
        let handles: Vec<JoinHandle<()>> = self
            .workers
            .lock()
            .map(|mut w| w.drain(..).collect())
            .unwrap_or_default();
        for h in handles {
            let _ = h.join();
        }
    }
}
