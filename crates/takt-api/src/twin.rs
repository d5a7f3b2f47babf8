//! The live twin behind the API. Ingestion takes the twin's lock, stores the batch durably (fsync)
//! and mirrors it; then it publishes a snapshot of the state. Readers of `/twin/state` and the
//! stream take the snapshot, so a long ingestion never delays them.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use takt_model::Model;
use takt_twin::alerts::{Alert, AlertChange, AlertEngine, Lifetimes, Rule};
use takt_twin::event::{Checked, EventError};
use takt_twin::mirror::MirrorConfig;
use takt_twin::orders::{OrderBook, OrderBookRequest};
use takt_twin::replay::{BATCH, HAND_OVER_BEFORE_WAIT, Pacer, Speed};
use takt_twin::store::{Durability, PostgresLocation, Store, StoreLocation};
use takt_twin::{IngestReport, Sink, Twin, TwinError, TwinState};
use tokio::sync::broadcast;

pub struct TwinHandle {
    pub model: Arc<Model>,
    /// The scenario's start, Unix ms: t = 0 of model time.
    pub start_ms: i64,
    twin: Mutex<Twin>,
    snapshot: RwLock<Arc<TwinState>>,
    changes: broadcast::Sender<Arc<TwinState>>,
    /// This server's clock when it last accepted an event (Unix ms; `i64::MIN`: never).
    last_accepted_ms: std::sync::atomic::AtomicI64,
    /// The alert rules and what they hold open; locked after the twin, never before it.
    alerting: Mutex<Option<Alerting>>,
    alert_changes: broadcast::Sender<Arc<AlertChange>>,
    /// Whether this server judged the rules when last asked (for `/metrics`).
    judging: std::sync::atomic::AtomicBool,
}

struct Alerting {
    engine: AlertEngine,
    lifetimes: Lifetimes,
}

impl TwinHandle {
    /// Opens the event store at `location` (SQLite: WAL, fsync on commit) and rebuilds the
    /// mirror from it.
    pub fn open(
        model: Arc<Model>,
        location: &StoreLocation,
        reorder_window: Duration,
        max_clock_skew: Duration,
    ) -> Result<TwinHandle, TwinError> {
        let store = Store::connect(location, Durability::Full)?;
        let start_ms = model.timebase.start_ms();
        let config = MirrorConfig {
            reorder_window_ms: reorder_window.as_millis() as i64,
            ..MirrorConfig::default()
        };
        let mut twin = Twin::open(&model, store, config)?;
        twin.set_time_gate(takt_twin::TimeGate::Live {
            skew_ms: max_clock_skew.as_millis() as i64,
        });
        let snapshot = Arc::new(twin.state(twin.newest_ms().unwrap_or(start_ms)));
        let (changes, _) = broadcast::channel(64);
        let (alert_changes, _) = broadcast::channel(1024);
        Ok(TwinHandle {
            model,
            start_ms,
            twin: Mutex::new(twin),
            snapshot: RwLock::new(snapshot),
            changes,
            last_accepted_ms: std::sync::atomic::AtomicI64::new(i64::MIN),
            alerting: Mutex::new(None),
            alert_changes,
            judging: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Judges `rules` after every accepted batch from now on, taking on the alerts the store
    /// holds open; `lifetimes` for `failure_risk` rules.
    pub fn enable_alerts(&self, rules: Vec<Rule>, lifetimes: Lifetimes) -> Result<(), TwinError> {
        let mut twin = self.lock();
        let engine = twin.alert_engine(rules)?;
        *self.lock_alerting() = Some(Alerting { engine, lifetimes });
        Ok(())
    }

    fn lock_alerting(&self) -> std::sync::MutexGuard<'_, Option<Alerting>> {
        self.alerting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The rules judged (empty when alerts are off).
    pub fn alert_rules(&self) -> Vec<Rule> {
        self.lock_alerting()
            .as_ref()
            .map(|a| a.engine.rules().to_vec())
            .unwrap_or_default()
    }

    /// Judges the rules at `now_ms` on the state then (under the twin's lock), stores and
    /// announces what changed.
    fn judge(&self, twin: &mut Twin, state: &TwinState, now_ms: i64) -> Vec<AlertChange> {
        let mut alerting = self.lock_alerting();
        let Some(a) = alerting.as_mut() else {
            return Vec::new();
        };
        if !self.judges(twin, a) {
            return Vec::new();
        }
        match twin.evaluate_alerts(
            &mut a.engine,
            &self.model,
            state,
            Some(&a.lifetimes),
            now_ms,
        ) {
            Ok(changes) => changes,
            Err(e) => {
                tracing::error!(error = %e, "alerts: not judged");
                Vec::new()
            }
        }
    }

    /// Whether this server judges the rules: of the servers sharing a store, one does.
    fn judges(&self, twin: &mut Twin, a: &mut Alerting) -> bool {
        let judges = twin.judges_alerts(&mut a.engine).unwrap_or_else(|e| {
            tracing::error!(error = %e, "alerts: cannot tell which server judges them");
            false
        });
        self.judging
            .store(judges, std::sync::atomic::Ordering::Relaxed);
        judges
    }

    /// Whether this server judged the alert rules when they were last judged (alerts on, and of
    /// the servers sharing a store the one that holds the judge's lock).
    pub fn judges_alerts(&self) -> bool {
        self.judging.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn announce(&self, changes: Vec<AlertChange>) {
        for c in changes {
            let a = c.alert();
            tracing::info!(alert = a.id, change = c.kind(), asset = %a.asset, message = %a.message, "alert");
            // Nobody listening is fine.
            let _ = self.alert_changes.send(Arc::new(c));
        }
    }

    /// Judges the rules at `now_ms` (a live plant's clock: a machine that fell silent is noticed
    /// though no event arrives), if that is after the newest event.
    pub fn judge_alerts_at(&self, now_ms: i64) {
        let changes = {
            let mut twin = self.lock();
            if twin.newest_ms().is_none_or(|n| n >= now_ms) {
                return;
            }
            let state = twin.state(now_ms);
            self.judge(&mut twin, &state, now_ms)
        };
        self.announce(changes);
    }

    /// Forecasts the orders and judges the `order_late` rules, if one is due at the newest event;
    /// the forecast (a fraction of a second) runs outside the twin's lock.
    pub fn judge_orders(&self) {
        let (now, view, replications, book) = {
            let mut twin = self.lock();
            let Some(now) = twin.newest_ms() else { return };
            let mut alerting = self.lock_alerting();
            let Some(a) = alerting.as_mut() else { return };
            if !self.judges(&mut twin, a) {
                return;
            }
            let Some(n) = a.engine.order_forecast_due(now) else {
                return;
            };
            let book = twin
                .order_book()
                .map_err(|e| tracing::error!(error = %e, "alerts: the order book cannot be read"))
                .ok()
                .flatten();
            (now, twin.view(now), n, book)
        };
        let forecast = takt_twin::alerts::order_forecast(
            &self.model,
            &view,
            now,
            replications,
            book.as_deref(),
        );
        let changes = {
            let mut twin = self.lock();
            let mut alerting = self.lock_alerting();
            let Some(a) = alerting.as_mut() else { return };
            let changes = a.engine.evaluate_orders(
                forecast.as_ref().map(|f| f.orders.as_slice()),
                now,
                &takt_twin::alerts::due_text(&self.model),
            );
            if let Err(e) = twin.record_alerts(&changes) {
                tracing::error!(error = %e, "alerts: the store failed");
            }
            changes
        };
        self.announce(changes);
    }

    /// Stored alerts, newest first.
    pub fn alerts(&self, open_only: bool, limit: u32) -> Result<Vec<Alert>, TwinError> {
        Ok(self.lock().alerts(open_only, limit)?)
    }

    /// Records that `by` took on alert `id`; `None` if there is no such alert or alerts are off.
    pub fn acknowledge(
        &self,
        id: u64,
        by: &str,
        note: &str,
        at_ms: i64,
    ) -> Result<Option<Alert>, TwinError> {
        let change = {
            let mut twin = self.lock();
            let mut alerting = self.lock_alerting();
            let Some(a) = alerting.as_mut() else {
                return Ok(None);
            };
            twin.acknowledge_alert(&mut a.engine, id, by, note, at_ms)?
        };
        let alert = change.as_ref().map(|c| c.alert().clone());
        if let Some(c) = change {
            self.announce(vec![c]);
        }
        Ok(alert)
    }

    pub fn subscribe_alerts(&self) -> broadcast::Receiver<Arc<AlertChange>> {
        self.alert_changes.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Twin> {
        self.twin.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks, stores and mirrors a batch of event lines (blocking: call off the runtime). The
    /// report is returned only once the accepted events are durable.
    pub fn ingest(
        &self,
        source: &str,
        lines: &[&str],
        received_ms: i64,
    ) -> Result<IngestReport, TwinError> {
        self.ingest_under(None, source, lines, received_ms)
    }

    /// [`TwinHandle::ingest`] for the recording the server replays: its events are held to the
    /// recording's time gate, not to the live clock skew (a recording may be dated ahead).
    pub fn ingest_recording(
        &self,
        source: &str,
        lines: &[&str],
        received_ms: i64,
    ) -> Result<IngestReport, TwinError> {
        self.ingest_under(
            Some(takt_twin::TimeGate::RECORDING),
            source,
            lines,
            received_ms,
        )
    }

    /// Stores and mirrors events a listener of the server (OPC UA, MQTT) has parsed, as
    /// [`TwinHandle::ingest`] does lines: the stream, the snapshot and the alerts follow.
    pub fn ingest_parsed(
        &self,
        parsed: Vec<(String, Result<Checked, EventError>, String)>,
        received_ms: i64,
    ) -> Result<IngestReport, TwinError> {
        self.ingest_with(received_ms, |twin| twin.ingest_parsed(parsed, received_ms))
    }

    fn ingest_under(
        &self,
        gate: Option<takt_twin::TimeGate>,
        source: &str,
        lines: &[&str],
        received_ms: i64,
    ) -> Result<IngestReport, TwinError> {
        self.ingest_with(received_ms, |twin| match gate {
            Some(gate) => twin.ingest_lines_under(gate, source, lines, received_ms),
            None => twin.ingest_lines(source, lines, received_ms),
        })
    }

    /// Ingests with `ingest` under the twin's lock, then judges the alerts, publishes the
    /// snapshot and tells the stream.
    fn ingest_with(
        &self,
        received_ms: i64,
        ingest: impl FnOnce(&mut Twin) -> Result<IngestReport, TwinError>,
    ) -> Result<IngestReport, TwinError> {
        let (report, state, alerts, mirrored) = {
            let mut twin = self.lock();
            let before = twin.counters().accepted;
            let report = ingest(&mut twin)?;
            // This batch's events and other servers' (a shared store) that came with it.
            let mirrored = twin.counters().accepted > before;
            if !mirrored && report.rejected.is_empty() {
                // Nothing changed: the snapshot stands.
                return Ok(report);
            }
            let now = twin.newest_ms().unwrap_or(self.start_ms);
            let state = twin.state(now);
            let alerts = if mirrored {
                self.judge(&mut twin, &state, now)
            } else {
                Vec::new()
            };
            (report, Arc::new(state), alerts, mirrored)
        };
        self.announce(alerts);
        if report.accepted > 0 {
            self.last_accepted_ms
                .fetch_max(received_ms, std::sync::atomic::Ordering::Relaxed);
        }
        if mirrored || !report.rejected.is_empty() {
            if let Ok(mut s) = self.snapshot.write() {
                *s = Arc::clone(&state);
            }
            // Nobody listening is fine.
            let _ = self.changes.send(state);
        }
        Ok(report)
    }

    /// Mirrors what other servers sharing the store (PostgreSQL) store, as soon as they commit
    /// it: a thread of its own LISTENs on the events channel and catches the twin up on every
    /// notification, and at least once a second should one be lost (a reconnection). The state,
    /// the stream and the alerts follow as after an ingestion here. It ends with the twin.
    pub fn follow(self: &Arc<Self>, location: PostgresLocation) -> std::io::Result<()> {
        let twin = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("takt-twin-follow".into())
            .spawn(move || follow(&twin, &location))
            .map(|_| ())
    }

    /// Mirrors what other servers stored since this one last looked; see [`TwinHandle::follow`].
    pub fn catch_up(&self, now_ms: i64) -> Result<u64, TwinError> {
        let mut caught = 0;
        self.ingest_with(now_ms, |twin| {
            caught = twin.catch_up()?;
            Ok(IngestReport::default())
        })?;
        Ok(caught)
    }

    /// Saves the twin's mirror into its store, so that the next start reads only the events
    /// stored after now (`takt_twin::saved`); `false` when the store cannot tell through which
    /// event the mirror is.
    pub fn save_mirror(&self) -> Result<bool, TwinError> {
        let mut twin = self.lock();
        // Another server's events first, so that the saved mirror is as of the store's newest.
        twin.catch_up()?;
        twin.save_mirror()
    }

    /// The live order book given last (`takt_twin::orders`), read from the store: every server of
    /// a plant forecasts the one given last to any of them.
    pub fn order_book(&self) -> Result<Option<Arc<OrderBook>>, TwinError> {
        self.lock().order_book()
    }

    /// Makes `request` the plant's live order book, as of the newest event once the other
    /// servers' events are in (`given_ms`: this server's clock).
    pub fn set_order_book(
        &self,
        request: OrderBookRequest,
        given_ms: i64,
    ) -> Result<OrderBook, TwinError> {
        let mut twin = self.lock();
        twin.catch_up()?;
        twin.set_order_book(&self.model, request, given_ms)
    }

    /// Drops the live order book (every server of the plant goes back to the scenario's orders).
    pub fn clear_order_book(&self) -> Result<(), TwinError> {
        self.lock().clear_order_book()
    }

    /// Whether the event store answers: the twin's lock is waited for (an ingestion holds it
    /// for one batch).
    pub fn ping(&self) -> Result<(), TwinError> {
        Ok(self.lock().store().ping()?)
    }

    /// This server's clock when it last accepted an event, if it has since it started.
    pub fn last_accepted_ms(&self) -> Option<i64> {
        let ms = self
            .last_accepted_ms
            .load(std::sync::atomic::Ordering::Relaxed);
        (ms != i64::MIN).then_some(ms)
    }

    /// The state as of the newest accepted event.
    pub fn snapshot(&self) -> Arc<TwinState> {
        self.snapshot
            .read()
            .map(|s| Arc::clone(&s))
            .unwrap_or_else(|e| Arc::clone(&e.into_inner()))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<TwinState>> {
        self.changes.subscribe()
    }

    /// The machines' timelines and stops over the running shift or the one before, as of the
    /// newest event (as the state is).
    pub fn timeline(&self, window: takt_twin::KpiWindow) -> takt_twin::timeline::TimelineReport {
        let twin = self.lock();
        let now = twin.newest_ms().unwrap_or(self.start_ms);
        twin.timeline(now, window)
    }

    /// The shifts that ended, as of the newest event (as the state is), newest first.
    pub fn shifts(&self) -> takt_twin::shifts::ShiftHistory {
        let twin = self.lock();
        let now = twin.newest_ms().unwrap_or(self.start_ms);
        twin.shifts(now)
    }

    /// The figures of the day or the week of the running shift (or of the plant date `on`), as
    /// of the newest event.
    pub fn totals(
        &self,
        period: takt_twin::totals::Period,
        on: Option<takt_twin::totals::PlantDate>,
    ) -> takt_twin::totals::PeriodTotals {
        let twin = self.lock();
        let now = twin.newest_ms().unwrap_or(self.start_ms);
        twin.totals(now, period, on)
    }

    /// The report of the running shift or the one before, as of the newest event, without the
    /// plan (`takt_twin::report::compare_with_plan` adds it, outside this lock).
    pub fn shift_report(
        &self,
        window: takt_twin::KpiWindow,
    ) -> Result<
        (
            takt_twin::report::ShiftReport,
            Option<takt_twin::report::ShiftStart>,
        ),
        TwinError,
    > {
        let twin = self.lock();
        let now = twin.newest_ms().unwrap_or(self.start_ms);
        let report = twin.shift_report(&self.model, now, window);
        let start = twin.shift_start(report.start_ms, twin.order_book_versioned()?);
        Ok((report, start))
    }

    /// The plant at the start of the shift running at `now_ms` with the live order book `book`
    /// (as the caller read it), for a forecast's plan past the scenario's horizon.
    pub fn shift_start_at(
        &self,
        now_ms: i64,
        book: takt_twin::shift_start::VersionedBook,
    ) -> Option<takt_twin::report::ShiftStart> {
        self.lock().shift_start_at(now_ms, book)
    }

    /// [`TwinHandle::order_book`] with its version in the store.
    pub fn order_book_versioned(&self) -> Result<takt_twin::shift_start::VersionedBook, TwinError> {
        self.lock().order_book_versioned()
    }

    /// The newest event time and the mirrored assets then (for a forecast).
    pub fn view(
        &self,
    ) -> (
        Option<i64>,
        std::collections::BTreeMap<String, takt_twin::mirror::AssetState>,
    ) {
        let twin = self.lock();
        let now = twin.newest_ms();
        (now, twin.view(now.unwrap_or(self.start_ms)))
    }
}

/// The server's twin as a listener's [`Sink`]: each batch is stored under the twin's lock, and the
/// stream, the snapshot and the alerts follow as after `POST /twin/events`.
pub struct ServedTwin(pub Arc<TwinHandle>);

impl Sink for ServedTwin {
    fn ingest_parsed(
        &mut self,
        parsed: Vec<(String, Result<Checked, EventError>, String)>,
        received_ms: i64,
    ) -> Result<IngestReport, TwinError> {
        self.0.ingest_parsed(parsed, received_ms)
    }

    fn utc_offset_min(&self) -> i32 {
        self.0.model.timebase.utc_offset_min
    }
}

/// Feeds a recording into the twin through the same ingestion path as `POST /twin/events`, paced
/// by the events' own time stamps (`takt_twin::replay`, as `takt replay` paces them).
pub async fn replay(twin: Arc<TwinHandle>, lines: Vec<String>, speed: Speed) {
    let mut pacer = Pacer::new(speed);
    let started = tokio::time::Instant::now();
    let mut batch: Vec<String> = Vec::new();
    let mut fed = 0u64;
    for line in lines {
        if let Some(due) = pacer.due(&line)
            && started + due > tokio::time::Instant::now() + HAND_OVER_BEFORE_WAIT
        {
            fed += flush(&twin, &mut batch).await;
            tokio::time::sleep_until(started + due).await;
        }
        batch.push(line);
        if batch.len() >= BATCH {
            fed += flush(&twin, &mut batch).await;
        }
    }
    fed += flush(&twin, &mut batch).await;
    tracing::info!(events = fed, "replay finished");
}

async fn flush(twin: &Arc<TwinHandle>, batch: &mut Vec<String>) -> u64 {
    if batch.is_empty() {
        return 0;
    }
    let lines = std::mem::take(batch);
    let twin = Arc::clone(twin);
    let now_ms = crate::now_ms();
    let result = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        twin.ingest_recording("replay", &refs, now_ms)
    })
    .await;
    match result {
        Ok(Ok(r)) => r.accepted,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "replay: the event store failed");
            0
        }
        Err(e) => {
            tracing::error!(error = %e, "replay: ingestion panicked");
            0
        }
    }
}

/// The follower's loop: listens while the twin lives, connecting again a second after a failure.
fn follow(twin: &std::sync::Weak<TwinHandle>, location: &PostgresLocation) {
    let channel = takt_twin::store::events_channel(location);
    let mut listening = None;
    // This server's own appends notify too: nothing to catch up on after those alone.
    let own = twin
        .upgrade()
        .and_then(|h| h.lock().store().writer().map(str::to_string));
    let mut due = true;
    loop {
        let Some(handle) = twin.upgrade() else { return };
        if listening.is_none() {
            match location.connect().and_then(|c| {
                c.with(|c| c.batch_execute(&format!("LISTEN {channel}")))?;
                Ok(c)
            }) {
                Ok(c) => listening = Some(c),
                Err(e) => {
                    tracing::error!(store = %location, error = %e, "cannot listen for other servers' events");
                }
            }
        }
        if due && let Err(e) = handle.catch_up(crate::now_ms()) {
            tracing::error!(error = %e, "cannot mirror other servers' events");
        }
        drop(handle);
        due = true;
        match &listening {
            Some(c) => {
                let heard = c.with(|c| {
                    use postgres::fallible_iterator::FallibleIterator;
                    let mut notifications = c.notifications();
                    let Some(first) = notifications.timeout_iter(Duration::from_secs(1)).next()?
                    else {
                        // A second without news: look anyway (a notification may be lost).
                        return Ok(true);
                    };
                    let mut others = Some(first.payload()) != own.as_deref();
                    // Several commits wake it once.
                    while let Some(n) = notifications.iter().next()? {
                        others |= Some(n.payload()) != own.as_deref();
                    }
                    Ok::<_, postgres::Error>(others)
                });
                match heard {
                    Ok(others) => due = others,
                    Err(e) => {
                        tracing::warn!(error = %e, "listening for other servers' events: connecting again");
                        listening = None;
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
            }
            None => std::thread::sleep(Duration::from_secs(1)),
        }
    }
}
