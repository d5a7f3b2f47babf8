//! takt's live twin: plant events in (live or replayed), durably stored, mirrored into the plant's
//! state, with live KPIs. The flow of one batch:
//!
//! ```text
//! lines --event::parse--> checked events --known asset?--> Store::append (one transaction)
//!     --new, not duplicate--> Mirror::offer --view(now)--> TwinState (JSON)
//!   bad payloads and unknown assets --> dead letters (same transaction), counted, reported
//! ```
//!
//! The mirror is rebuilt on start by offering it every stored event in the order it was accepted,
//! so a restarted twin shows the state it showed before, whatever killed it.

pub mod adapters;
pub mod alerts;
mod batching;
pub mod calibrate;
pub mod condition;
pub mod event;
pub mod forecast;
pub mod history;
mod ingest;
pub mod mirror;
pub mod mqtt;
pub mod opcua;
pub mod orders;
pub mod replay;
pub mod report;
pub mod saved;
pub mod shift_start;
pub mod shifts;
pub mod store;
pub mod timeline;
pub mod tls;
pub mod totals;
pub mod view;

use event::{Checked, Event, EventError};
use mirror::{AssetState, Mirror, MirrorConfig};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use store::{DeadLetter, Store, StoreError};
use takt_model::Model;
pub use view::{
    AssetKpis, AssetView, Counters, KpiReport, KpiWindow, Kpis, ShiftKpis, TwinState, WIRE_VERSION,
};

/// One event of a batch on its way in: its index in the batch, its source, the parse result and the
/// text as received.
type Received<'a> = (usize, Cow<'a, str>, Result<Checked, EventError>, String);

/// A batch of lines read and checked, not yet stored: [`parse_batch`], then [`Twin::ingest_batch`].
pub struct ParsedBatch<'a> {
    /// One per line, `None` for a blank one: an indexed collect writes each result in its place in
    /// one allocation of the batch's size, where a filtered one grows vectors and moves the results
    /// (some 260 bytes each) as they grow.
    events: Vec<Option<Received<'a>>>,
}

/// Parses and checks a batch of JSON lines from `source` (blank lines are skipped). Needs nothing
/// of the twin, and is most of the cost of an event: it runs on every core, in chunks big enough
/// to pay for the hand-over; the order is kept (rayon's collect).
pub fn parse_batch<'a>(source: &'a str, lines: &[&str]) -> ParsedBatch<'a> {
    use rayon::prelude::*;
    parse_each(source, lines.par_iter().copied())
}

/// [`parse_batch`] of lines the caller hands over: each text is kept as received without a copy.
pub fn parse_owned_batch(source: &str, lines: Vec<String>) -> ParsedBatch<'_> {
    use rayon::prelude::*;
    parse_each(source, lines.into_par_iter())
}

/// Both of the above: the text kept is the line itself when owned, a copy when borrowed.
fn parse_each<'a, L>(
    source: &'a str,
    lines: impl rayon::iter::IndexedParallelIterator<Item = L>,
) -> ParsedBatch<'a>
where
    L: AsRef<str> + Into<String> + Send,
{
    use rayon::prelude::*;
    ParsedBatch {
        events: lines
            .with_min_len(256)
            .enumerate()
            .map(|(i, l)| {
                if is_blank(l.as_ref()) {
                    return None;
                }
                let parsed = event::parse(l.as_ref());
                Some((i, Cow::Borrowed(source), parsed, l.into()))
            })
            .collect(),
    }
}

/// A line with nothing on it but white space. An event begins with `{`, so only a line that does
/// not is worth trimming (trimming decodes every character).
fn is_blank(line: &str) -> bool {
    line.as_bytes().first() != Some(&b'{') && line.trim().is_empty()
}

/// What happened to a batch.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IngestReport {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: Vec<Rejection>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    /// Position in the batch (0-based).
    pub index: usize,
    pub reason: String,
}

/// How far ahead an event's time stamp may be and still be accepted. An event from the future
/// would move the twin's clock there for good (its shift, its silence, its reordering), so it is
/// rejected with the reason instead, and never changes what later events do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeGate {
    /// A live feed: at most `skew_ms` ahead of the clock that received the batch.
    Live { skew_ms: i64 },
    /// A recording (or the store, when it is opened): at most `gap_ms` ahead of the latest of the
    /// receiving clock, the end of the scenario's plan, and the newest event accepted.
    Recording { gap_ms: i64 },
}

impl TimeGate {
    /// A live feed's default: five minutes for clocks that drift.
    pub const LIVE: TimeGate = TimeGate::Live {
        skew_ms: 5 * 60_000,
    };
    /// A recording's default: a week past what it has shown so far.
    pub const RECORDING: TimeGate = TimeGate::Recording {
        gap_ms: 7 * 86_400_000,
    };
}

pub struct Twin {
    /// What a new event's time stamp is held to.
    gate: TimeGate,
    /// Where the scenario's plan ends, Unix ms.
    plan_end_ms: i64,
    mirror: Mirror,
    store: Store,
    /// Asset name -> its station and ideal cycles.
    assets: BTreeMap<String, AssetInfo>,
    /// Asset name -> its place in the line (the scenario's order of stations and machines): the
    /// state lists assets in that order, as people read a line, not by name.
    line_order: BTreeMap<String, usize>,
    counters: Counters,
    newest_ms: Option<i64>,
    /// The plant's UTC offset, minutes: the state's times are shown in plant time, as its shifts.
    utc_offset_min: i32,
    /// Events mirrored since the mirror was last saved or the twin opened, and when that was
    /// (`saved`).
    unsaved: u64,
    saved_at: std::time::Instant,
    /// The id through which the saved mirror it opened from had read the store, if it did.
    resumed_through: Option<i64>,
    /// The live order book read last (`orders.rs`), kept while the store holds the same one.
    order_book_read: std::sync::Mutex<Option<(i64, std::sync::Arc<orders::OrderBook>)>>,
}

/// What a live listening session (MQTT, OPC UA) did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListenStats {
    /// Messages (MQTT) or data changes (OPC UA) received.
    pub received: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Connections made again after a lost one.
    pub reconnects: u64,
}

/// Where a live listener (MQTT, OPC UA) puts what it receives: a twin of its own
/// (`takt twin listen`), or a server's, locked batch by batch (`takt serve --opcua`).
pub trait Sink {
    /// Stores and mirrors events parsed by the listener: `(source, parse result, text as
    /// received)`; returns once the batch is durable.
    fn ingest_parsed(
        &mut self,
        parsed: Vec<(String, Result<Checked, EventError>, String)>,
        received_ms: i64,
    ) -> Result<IngestReport, TwinError>;
    /// The plant's UTC offset, minutes: events made by the listener are stamped in plant time.
    fn utc_offset_min(&self) -> i32;
}

impl Sink for Twin {
    fn ingest_parsed(
        &mut self,
        parsed: Vec<(String, Result<Checked, EventError>, String)>,
        received_ms: i64,
    ) -> Result<IngestReport, TwinError> {
        Twin::ingest_parsed(self, parsed, received_ms)
    }

    fn utc_offset_min(&self) -> i32 {
        self.utc_offset_min
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TwinError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mqtt(#[from] mqtt::MqttError),
    #[error(transparent)]
    Opcua(#[from] opcua::OpcuaError),
    #[error("the mirror cannot be saved: {0}")]
    Unsaved(#[from] postcard::Error),
    #[error(transparent)]
    OrderBook(#[from] orders::OrderBookError),
}

/// What the twin knows of an asset from the scenario.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssetInfo {
    pub station: String,
    /// Ideal cycle time per product name, seconds.
    pub ideal_cycle_s: BTreeMap<String, f64>,
    /// For pieces of unknown product: the mean over the station's products.
    pub mean_ideal_cycle_s: Option<f64>,
}

impl AssetInfo {
    /// Σ ideal cycle × pieces per product in the window (ISO 22400 performance numerator); pieces of
    /// unknown product at the station's mean ideal cycle.
    pub fn ideal_s(&self, pieces_by_product: &BTreeMap<String, u64>) -> Option<f64> {
        pieces_by_product
            .iter()
            .map(|(p, n)| {
                self.ideal_cycle_s
                    .get(p)
                    .copied()
                    .or(self.mean_ideal_cycle_s)
                    .map(|c| c * *n as f64)
            })
            .sum()
    }
}

/// The plant's assets as the simulator names them (`station`, or `station.k` for parallel
/// machines), with their station and ideal cycle times.
pub fn assets_of(model: &Model) -> Vec<(String, AssetInfo)> {
    let mut out = Vec::new();
    for st in &model.stations {
        let ideal_cycle_s: BTreeMap<String, f64> = st
            .ideal_cycle_s
            .iter()
            .zip(&model.products)
            .filter_map(|(c, p)| c.map(|c| (p.name.clone(), c)))
            .collect();
        let mean = (!ideal_cycle_s.is_empty())
            .then(|| ideal_cycle_s.values().sum::<f64>() / ideal_cycle_s.len() as f64);
        for k in 0..st.machines {
            let name = st.machine_name(k);
            out.push((
                name,
                AssetInfo {
                    station: st.name.clone(),
                    ideal_cycle_s: ideal_cycle_s.clone(),
                    mean_ideal_cycle_s: mean,
                },
            ));
        }
    }
    out
}

impl Twin {
    /// A recorded history (the text of a takt event file) mirrored into a twin in memory, in
    /// batches as a replay sends them, with how many events it refused (malformed, unknown
    /// assets, past the recording's time gate).
    pub fn from_history(
        model: &Model,
        text: &str,
        config: MirrorConfig,
    ) -> Result<(Twin, usize), TwinError> {
        let mut twin = Twin::open(model, Store::memory()?, config)?;
        let lines: Vec<&str> = text.lines().collect();
        let mut rejected = 0;
        for chunk in lines.chunks(10_000) {
            rejected += twin.ingest_lines("history", chunk, 0)?.rejected.len();
        }
        Ok((twin, rejected))
    }

    /// A twin of `model` over `store`, rebuilt from what the store holds. KPIs count in the
    /// running shift of the model's shift clock.
    pub fn open(model: &Model, mut store: Store, config: MirrorConfig) -> Result<Twin, TwinError> {
        let line_order: BTreeMap<String, usize> = assets_of(model)
            .into_iter()
            .enumerate()
            .map(|(k, (name, _))| (name, k))
            .collect();
        let assets: BTreeMap<String, AssetInfo> = assets_of(model).into_iter().collect();
        let names: Vec<String> = assets.keys().cloned().collect();
        let mut mirror = Mirror::new(&names, model.shift_clock(), config)
            .with_known_names(mirror::KnownNames::of(model));
        let mut newest_ms: Option<i64> = None;
        let plan_end_ms = model
            .timebase
            .start_unix_s
            .saturating_mul(1000)
            .saturating_add((model.horizon_s * 1000.0) as i64);
        // Every stored event is checked again by today's rules (and the recording's time gate,
        // from the clock now): what an earlier version let in and these refuse moves to the dead
        // letters instead of poisoning the state.
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        // From the saved mirror, when it fits this scenario, and the events stored after it.
        let resumed = saved::resume(&store, &mut mirror)?;
        let (mut accepted, after) = match &resumed {
            Some(r) => {
                newest_ms = r.newest_ms;
                (r.accepted, r.read_through)
            }
            None => (0, i64::MIN),
        };
        let mut unsaved = 0;
        let mut refused = Vec::new();
        store.for_each_text_after(after, |id, text| {
            let reason = match event::parse(text) {
                Err(e) => e.to_string(),
                Ok(c) => {
                    match too_far_ahead(TimeGate::RECORDING, &c, now_ms, plan_end_ms, newest_ms) {
                        Some(reason) => reason,
                        None => {
                            newest_ms = Some(newest_ms.map_or(c.ts_ms, |n| n.max(c.ts_ms)));
                            mirror.offer(c);
                            accepted += 1;
                            unsaved += 1;
                            return;
                        }
                    }
                }
            };
            refused.push((id, reason));
        })?;
        if !refused.is_empty() {
            tracing::warn!(
                events = refused.len(),
                "stored events refused by today's checks: moved to the dead letters"
            );
            store.quarantine(&refused, now_ms)?;
        }
        let rejected = store.dead_letter_count()?;
        Ok(Twin {
            gate: TimeGate::RECORDING,
            plan_end_ms,
            mirror,
            store,
            assets,
            line_order,
            counters: Counters {
                accepted,
                duplicates: 0,
                rejected,
            },
            newest_ms,
            utc_offset_min: model.timebase.utc_offset_min,
            unsaved,
            saved_at: std::time::Instant::now(),
            resumed_through: resumed.map(|r| r.read_through),
            order_book_read: std::sync::Mutex::new(None),
        })
    }

    /// Parses, checks, stores and mirrors a batch of JSON lines from `source`; returns once the batch
    /// is durable. Blank lines are skipped.
    pub fn ingest_lines(
        &mut self,
        source: &str,
        lines: &[&str],
        received_ms: i64,
    ) -> Result<IngestReport, TwinError> {
        self.ingest_batch(parse_batch(source, lines), received_ms)
    }

    /// Stores and mirrors a batch read by [`parse_batch`]; returns once it is durable. The same as
    /// [`Twin::ingest_lines`] in two steps, so that a replay can read the next batch while the twin
    /// stores and mirrors this one.
    pub fn ingest_batch(
        &mut self,
        batch: ParsedBatch<'_>,
        received_ms: i64,
    ) -> Result<IngestReport, TwinError> {
        let lines = batch.events.len();
        self.ingest_checked(batch.events.into_iter().flatten(), lines, received_ms)
    }

    /// Ingests `batches` of lines in order, the replay path as fast as possible: while the twin
    /// stores batch k (and waits for the disk), the other side mirrors batch k - 1, stored before,
    /// then takes and reads batch k + 1 (on the cores left). An event is mirrored only once its
    /// batch is durable, and each batch is gated by the newest event stored before it, as
    /// [`Twin::ingest_batch`] one batch after the other does. The batches' texts are kept as
    /// handed over, without a copy. `on_report` sees each batch's report once the batch is
    /// mirrored, with the twin (to read or judge it after the batch), the batch's position and
    /// number of lines; the first error, the twin's or `on_report`'s, stops the replay (the
    /// batches stored before it reported first).
    pub fn ingest_pipelined<I, E>(
        &mut self,
        source: &str,
        batches: I,
        received_ms: impl Fn() -> i64,
        mut on_report: impl FnMut(&mut Twin, usize, usize, &IngestReport) -> Result<(), E>,
    ) -> Result<(), E>
    where
        I: IntoIterator<Item = Vec<String>>,
        I::IntoIter: Send,
        E: From<TwinError>,
    {
        let mut batches = batches.into_iter();
        let mut take = || {
            batches
                .next()
                .map(|lines| (lines.len(), parse_owned_batch(source, lines)))
        };
        let mut pending = take();
        // The batch stored and not yet mirrored: its position, lines and what was stored.
        let mut unmirrored: Option<(usize, usize, ingest::Stored)> = None;
        let mut k = 0;
        loop {
            let pending_ms = unmirrored.as_ref().and_then(|u| u.2.newest_ms);
            let (storing, mirror) = self.halves(pending_ms);
            let mut to_mirror = unmirrored.take();
            let mirror_it = || {
                if let Some(u) = to_mirror.as_mut() {
                    ingest::mirror(mirror, &mut u.2);
                }
                to_mirror
            };
            // Batch k stored beside batch k - 1 mirrored and batch k + 1 read.
            let (mirrored, next, stored) = match pending {
                Some((lines, parsed)) => {
                    let now = received_ms();
                    let events = parsed.events.len();
                    let ((mirrored, next), stored) = rayon::join(
                        || (mirror_it(), take()),
                        || {
                            storing
                                .store(parsed.events.into_iter().flatten(), events, now)
                                .map(|s| (k, lines, s))
                        },
                    );
                    (mirrored, next, Some(stored))
                }
                None => (mirror_it(), None, None),
            };
            // Each batch's report once it is mirrored, before a later batch's error.
            if let Some((j, lines, done)) = mirrored {
                let report = self.mirrored(done);
                if let Err(e) = on_report(self, j, lines, &report) {
                    // Batch k is stored: the twin mirrors it too, as its store has it.
                    if let Some(Ok((_, _, stored))) = stored {
                        self.mirror_stored(stored);
                    }
                    return Err(e);
                }
            }
            match stored {
                Some(stored) => unmirrored = Some(stored?),
                None => {
                    // Everything stored is mirrored: the one moment of a replay to save.
                    if self.unsaved > 0
                        && let Err(e) = self.save_mirror()
                    {
                        tracing::warn!(error = %e, "twin: mirror not saved");
                    }
                    return Ok(());
                }
            }
            pending = next;
            k += 1;
        }
    }

    /// Like [`Twin::ingest_lines`] for events already deserialized.
    pub fn ingest_events(
        &mut self,
        source: &str,
        events: Vec<Event>,
        received_ms: i64,
    ) -> Result<IngestReport, TwinError> {
        let n = events.len();
        let parsed = events.into_iter().enumerate().map(|(i, e)| {
            let raw = serde_json::to_string(&e).unwrap_or_default();
            (i, Cow::Borrowed(source), event::check(e), raw)
        });
        self.ingest_checked(parsed, n, received_ms)
    }

    /// Stores and mirrors events parsed elsewhere (MQTT): `(source, parse result, text as received)`.
    pub fn ingest_parsed(
        &mut self,
        parsed: Vec<(String, Result<Checked, EventError>, String)>,
        received_ms: i64,
    ) -> Result<IngestReport, TwinError> {
        let n = parsed.len();
        let parsed = parsed
            .into_iter()
            .enumerate()
            .map(|(i, (source, r, raw))| (i, Cow::Owned(source), r, raw));
        self.ingest_checked(parsed, n, received_ms)
    }

    /// `(index in the batch, source, parse result, text as received)` per event; the source is
    /// borrowed when the whole batch has one, so an event costs no copy of it.
    /// `lines` is how many there are at most.
    fn ingest_checked<'a>(
        &mut self,
        parsed: impl IntoIterator<Item = Received<'a>>,
        lines: usize,
        received_ms: i64,
    ) -> Result<IngestReport, TwinError> {
        let (storing, _) = self.halves(None);
        let stored = storing.store(parsed, lines, received_ms)?;
        let report = self.mirror_stored(stored);
        self.save_mirror_if_due();
        Ok(report)
    }

    /// Mirrors a stored batch and counts it; its report.
    fn mirror_stored(&mut self, mut stored: ingest::Stored) -> IngestReport {
        ingest::mirror(&mut self.mirror, &mut stored);
        self.mirrored(stored)
    }

    /// The twin in the two halves of ingestion: storing (gated by the newest event mirrored, or
    /// `pending_ms` of a batch stored and not yet mirrored when newer) and the mirror.
    fn halves(&mut self, pending_ms: Option<i64>) -> (ingest::Storing<'_>, &mut Mirror) {
        (
            ingest::Storing {
                gate: self.gate,
                plan_end_ms: self.plan_end_ms,
                store: &mut self.store,
                assets: &self.assets,
                utc_offset_min: self.utc_offset_min,
                newest_ms: self.newest_ms.max(pending_ms),
            },
            &mut self.mirror,
        )
    }

    /// Counts a batch the mirror has taken; its report.
    fn mirrored(&mut self, stored: ingest::Stored) -> IngestReport {
        self.newest_ms = self.newest_ms.max(stored.newest_ms);
        let report = stored.report;
        self.counters.accepted += report.accepted + stored.others;
        self.unsaved += report.accepted + stored.others;
        self.counters.duplicates += report.duplicates;
        self.counters.rejected += report.rejected.len() as u64;
        report
    }

    /// Mirrors the events other servers sharing the store (PostgreSQL) stored since this twin
    /// last read or wrote it, in the order stored; how many. Each is mirrored once: the store
    /// gives each once. They were checked by the server that took them.
    pub fn catch_up(&mut self) -> Result<u64, TwinError> {
        let mut stored = ingest::Stored::default();
        ingest::others(&mut self.store, &self.assets, &mut stored)?;
        let others = stored.others;
        self.mirror_stored(stored);
        self.save_mirror_if_due();
        Ok(others)
    }

    /// Holds new events' time stamps to `gate` (the default is [`TimeGate::RECORDING`]; a live
    /// feed sets [`TimeGate::Live`]).
    pub fn set_time_gate(&mut self, gate: TimeGate) {
        self.gate = gate;
    }

    /// [`Twin::ingest_lines`] under `gate` for this batch only: a server that takes live events
    /// replays a recording it was started with as a recording.
    pub fn ingest_lines_under(
        &mut self,
        gate: TimeGate,
        source: &str,
        lines: &[&str],
        received_ms: i64,
    ) -> Result<IngestReport, TwinError> {
        let own = std::mem::replace(&mut self.gate, gate);
        let report = self.ingest_lines(source, lines, received_ms);
        self.gate = own;
        report
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Unix ms as RFC 3339 in the plant's offset, to the millisecond: every time the twin shows.
    pub fn plant_time(&self, ms: i64) -> String {
        plant_time(ms, self.utc_offset_min)
    }

    /// The mirrored plant at `now_ms` with live KPIs over the running shift.
    pub fn state(&self, now_ms: i64) -> TwinState {
        let ts = |ms: i64| self.plant_time(ms);
        let view = self.mirror.view(now_ms);
        let shift = mirror::shift_of(&view, self.mirror.shift_clock(), now_ms);
        let assets = view
            .into_iter()
            .map(|(name, st)| {
                let info = self.assets.get(&name).cloned().unwrap_or_default();
                let counts = (st.good, st.scrap, st.rework);
                let kpis = Kpis::of(
                    &info,
                    counts,
                    &st.pieces_by_product,
                    &st.state_durations_ms(now_ms),
                );
                let previous_shift = st.previous.as_deref().map(|p| ShiftKpis {
                    shift: p.shift.name.clone(),
                    start: ts(p.shift.start_ms),
                    end: ts(p.shift.end_ms),
                    start_ms: p.shift.start_ms,
                    end_ms: p.shift.end_ms,
                    good: p.good,
                    scrap: p.scrap,
                    rework: p.rework,
                    kpis: Kpis::of(
                        &info,
                        (p.good, p.scrap, p.rework),
                        &p.pieces_by_product,
                        &p.state_ms,
                    ),
                });
                AssetView::of(name, info, st, kpis, previous_shift, &ts)
            })
            .collect::<Vec<_>>();
        let mut assets = assets;
        assets.sort_by_key(|a| self.line_order.get(&a.asset).copied());
        TwinState {
            now: ts(now_ms),
            now_ms,
            shift: shift.name,
            window_start: ts(shift.start_ms),
            window_end: ts(shift.end_ms),
            window_start_ms: shift.start_ms,
            window_end_ms: shift.end_ms,
            next_shift_start: ts(shift.next_start_ms),
            next_shift_start_ms: shift.next_start_ms,
            assets,
            counters: self.counters,
        }
    }

    /// The mirrored assets at `now_ms`, as the forecast reads them.
    pub fn view(&self, now_ms: i64) -> BTreeMap<String, AssetState> {
        self.mirror.view(now_ms)
    }

    /// The newest event time stamp accepted (Unix ms), if any.
    pub fn newest_ms(&self) -> Option<i64> {
        self.newest_ms
    }

    pub fn mirror(&self) -> &Mirror {
        &self.mirror
    }

    /// When the twin opened from its store's saved mirror (`saved`): the id through which that
    /// mirror had read the store (only later events were read).
    pub fn resumed_through(&self) -> Option<i64> {
        self.resumed_through
    }
}

/// The reason an event is refused by `gate`, or `None` when its time stamp is acceptable.
/// A refused event: kept as a dead letter, and reported at its place in the batch.
pub(crate) fn refuse(
    (dead, report): (&mut Vec<DeadLetter>, &mut IngestReport),
    received_ms: i64,
    index: usize,
    source: Cow<'_, str>,
    payload: String,
    reason: String,
) {
    dead.push(DeadLetter {
        received_ms,
        source: source.into_owned(),
        payload,
        reason: reason.clone(),
    });
    report.rejected.push(Rejection { index, reason });
}

pub(crate) fn too_far_ahead(
    gate: TimeGate,
    c: &Checked,
    received_ms: i64,
    plan_end_ms: i64,
    newest_ms: Option<i64>,
) -> Option<String> {
    // The limit on every event; the words only for one refused (formatting them for each event
    // cost a sixth of a replay's instructions).
    let (reference, allowed) = match gate {
        TimeGate::Live { skew_ms } => (received_ms, skew_ms),
        TimeGate::Recording { gap_ms } => (
            received_ms
                .max(plan_end_ms)
                .max(newest_ms.unwrap_or(i64::MIN)),
            gap_ms,
        ),
    };
    (c.ts_ms > reference.saturating_add(allowed)).then(|| {
        let ahead = human_span(c.ts_ms.saturating_sub(reference));
        let clock = takt_model::time::format_utc_ms(reference);
        let against = match gate {
            TimeGate::Live { .. } => format!("{ahead} ahead of the receiving clock ({clock})"),
            TimeGate::Recording { .. } => format!(
                "{ahead} after the recording so far, the scenario's plan and the clock ({clock})"
            ),
        };
        format!(
            "ts: {} is {against}; at most {} is accepted",
            c.event.ts,
            human_span(allowed)
        )
    })
}

/// A Unix time in ms as the plant reads it: RFC 3339 in its UTC offset.
pub(crate) fn plant_time(ms: i64, utc_offset_min: i32) -> String {
    takt_model::time::format_ms(ms, utc_offset_min, takt_model::time::Precision::Millis)
}

/// A span of milliseconds in the largest unit that keeps it readable.
pub(crate) fn human_span(ms: i64) -> String {
    let s = ms as f64 / 1000.0;
    match s {
        s if s >= 365.25 * 86_400.0 => format!("{:.1} years", s / (365.25 * 86_400.0)),
        s if s >= 86_400.0 => format!("{:.1} days", s / 86_400.0),
        s if s >= 3600.0 => format!("{:.1} h", s / 3600.0),
        s if s >= 60.0 => format!("{:.1} min", s / 60.0),
        s => format!("{s:.1} s"),
    }
}
