//! The job pool's own tests: time limits, progress kept in the store, unguessable ids, shutdown.

use super::*;

fn jobs(name: &str, time_limit: Duration) -> Arc<Jobs> {
    let dir = std::env::temp_dir().join(format!("takt-jobs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let db = Arc::new(Db::open(&dir.join("server.sqlite")).expect("db"));
    Jobs::start(
        db,
        PoolConfig {
            workers: 1,
            queue: 4,
            time_limit,
            lease: Duration::from_secs(30),
        },
    )
}

/// Work that never ends by itself: it loops until its flag is raised (`obeys`), or for ever.
fn endless(obeys: bool) -> Work {
    Box::new(move |p, _| {
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
    let id = jobs.submit_work("test", endless(true)).expect("queued");
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
fn an_ended_job_keeps_its_progress_in_the_store_not_in_memory() {
    let jobs = jobs("ended", Duration::from_secs(60));
    let counted = jobs
        .submit_work(
            "test",
            Box::new(|p, _| {
                p.set_total(3);
                (0..3).for_each(|_| p.step());
                Ok(serde_json::Value::Null)
            }),
        )
        .expect("queued");
    // One that runs while another waits, cancelled while it waits.
    let running = jobs.submit_work("test", endless(true)).expect("queued");
    let waiting = jobs.submit_work("test", endless(true)).expect("queued");
    wait_for(&jobs, &running, "running");
    jobs.cancel(&waiting).expect("cancel");
    jobs.cancel(&running).expect("cancel");
    let view = wait_for(&jobs, &running, "cancelled");
    assert_eq!(view.status, "cancelled", "{view:?}");
    // The worker has passed the cancelled one by the time it takes the next.
    let last = jobs
        .submit_work("test", Box::new(|_, _| Ok(serde_json::Value::Null)))
        .expect("queued");
    wait_for(&jobs, &last, "done");
    let view = wait_for(&jobs, &counted, "done");
    assert_eq!(
        view.progress,
        Some(ProgressView { done: 3, total: 3 }),
        "{view:?}"
    );
    assert_eq!(wait_for(&jobs, &waiting, "cancelled").status, "cancelled");
    let deadline = Instant::now() + Duration::from_secs(10);
    while jobs.live.lock().map_or(0, |l| l.len()) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(jobs.live.lock().map_or(99, |l| l.len()), 0);
    jobs.shutdown(Duration::from_secs(1));
}

#[test]
fn ids_are_unguessable() {
    let jobs = jobs("ids", Duration::from_secs(60));
    let a = jobs.submit_work("test", Box::new(|_, _| Ok(serde_json::Value::Null)));
    let b = jobs.submit_work("test", Box::new(|_, _| Ok(serde_json::Value::Null)));
    let (a, b) = (a.expect("a"), b.expect("b"));
    assert_ne!(a, b);
    assert_eq!(a.len(), 33, "{a}");
    assert!(jobs.get("j1").expect("get").is_none());
    jobs.shutdown(Duration::from_secs(1));
}

#[test]
fn shutdown_ends_within_its_grace_periods_whatever_runs() {
    let jobs = jobs("shutdown", Duration::from_secs(3600));
    let running = jobs.submit_work("test", endless(true)).expect("queued");
    let queued = jobs.submit_work("test", endless(true)).expect("queued");
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
    let id = stubborn
        .submit_work("test", endless(false))
        .expect("queued");
    wait_for(&stubborn, &id, "running");
    let t = Instant::now();
    stubborn.shutdown(Duration::from_millis(200));
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}
