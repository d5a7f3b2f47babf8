//! Ingesting a batch in two halves: storing it (the asset and time gates, the retention, the
//! store's transaction, other servers' events) and mirroring it once it is durable. `Twin::ingest_*`
//! run them one after the other; the replay's pipeline (`Twin::ingest_pipelined`) mirrors batch
//! k while it stores batch k + 1, so a commit's wait for the disk overlaps the mirror's work.

use crate::event::{self, Checked};
use crate::mirror::Mirror;
use crate::store::{DeadLetter, Store};
use crate::{
    AssetInfo, IngestReport, Received, TimeGate, TwinError, human_span, plant_time, refuse,
};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// What storing needs of the twin (all but the mirror).
pub(crate) struct Storing<'a> {
    pub(crate) gate: TimeGate,
    pub(crate) plan_end_ms: i64,
    pub(crate) store: &'a mut Store,
    pub(crate) assets: &'a BTreeMap<String, AssetInfo>,
    pub(crate) utc_offset_min: i32,
    /// The newest event stored before this batch.
    pub(crate) newest_ms: Option<i64>,
}

/// A batch stored, for the mirror: other servers' events stored before it, then its new events,
/// in order.
#[derive(Default)]
pub(crate) struct Stored {
    pub(crate) events: Vec<Checked>,
    pub(crate) report: IngestReport,
    /// How many of `events` other servers stored.
    pub(crate) others: u64,
    pub(crate) newest_ms: Option<i64>,
}

impl Storing<'_> {
    /// Gates and stores a batch (`lines`: how many events at most); returns once it is durable.
    pub(crate) fn store<'a>(
        self,
        parsed: impl IntoIterator<Item = Received<'a>>,
        lines: usize,
        received_ms: i64,
    ) -> Result<Stored, TwinError> {
        let mut report = IngestReport::default();
        let mut good = Vec::with_capacity(lines);
        // Where each good event came from, in case the retention refuses it.
        let mut origins = Vec::with_capacity(lines);
        let mut dead = Vec::new();
        for (index, source, result, raw) in parsed {
            let reason = match result {
                Ok(c) if self.assets.contains_key(&c.event.asset) => {
                    match crate::too_far_ahead(
                        self.gate,
                        &c,
                        received_ms,
                        self.plan_end_ms,
                        self.newest_ms,
                    ) {
                        None => {
                            good.push((c, raw));
                            origins.push((index, source));
                            continue;
                        }
                        Some(reason) => reason,
                    }
                }
                Ok(c) => format!(
                    "asset: unknown asset `{}` (the scenario has {})",
                    c.event.asset,
                    self.assets.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
                Err(e) => e.to_string(),
            };
            tracing::debug!(%source, index, %reason, "event rejected");
            refuse(
                (&mut dead, &mut report),
                received_ms,
                index,
                source,
                raw,
                reason,
            );
        }
        if let Some(keep_ms) = self.store.retention_ms() {
            self.refuse_past_retention(
                keep_ms,
                &mut good,
                origins,
                &mut dead,
                &mut report,
                received_ms,
            );
        }
        let new = self.store.append(&mut good, &dead)?;
        let mut stored = Stored::default();
        // Other servers' events stored before this batch go into the mirror first; those stored
        // after it wait for the next append or catch-up: the mirror takes events in the order of
        // their ids, as a rebuild or a start from a saved mirror reads them.
        let earlier = self.store.found_by_append();
        from_others(earlier, self.assets, &mut stored);
        stored.events.reserve(good.len());
        for ((c, _), is_new) in good.into_iter().zip(new) {
            if is_new {
                report.accepted += 1;
                stored.newest_ms = stored.newest_ms.max(Some(c.ts_ms));
                stored.events.push(c);
            } else {
                report.duplicates += 1;
            }
        }
        stored.report = report;
        Ok(stored)
    }

    /// Refuses the events older than the store keeps (`keep_ms` before the newest event, this
    /// batch's included): stored, they would be dropped by the same batch's retention, accepted
    /// and lost.
    fn refuse_past_retention(
        &self,
        keep_ms: i64,
        good: &mut Vec<(Checked, String)>,
        origins: Vec<(usize, Cow<'_, str>)>,
        dead: &mut Vec<DeadLetter>,
        report: &mut IngestReport,
        received_ms: i64,
    ) {
        let Some(newest) = good
            .iter()
            .map(|(c, _)| c.ts_ms)
            .chain(self.newest_ms)
            .max()
        else {
            return;
        };
        let cut_ms = newest.saturating_sub(keep_ms);
        if good.iter().all(|(c, _)| c.ts_ms >= cut_ms) {
            return;
        }
        let mut kept = Vec::with_capacity(good.len());
        for ((c, raw), (index, source)) in std::mem::take(good).into_iter().zip(origins) {
            if c.ts_ms >= cut_ms {
                kept.push((c, raw));
                continue;
            }
            let reason = format!(
                "ts: older than the store keeps ({} before the newest event: from {})",
                human_span(keep_ms),
                plant_time(cut_ms, self.utc_offset_min)
            );
            refuse((dead, report), received_ms, index, source, raw, reason);
        }
        report.rejected.sort_by_key(|r| r.index);
        *good = kept;
    }
}

/// The events other servers sharing the store (PostgreSQL) stored since this one last read or
/// wrote it, in the order stored, added to `stored`. They were checked by the server that took
/// them; one of an asset this scenario lacks, or that cannot be read, is logged and left out.
pub(crate) fn others(
    store: &mut Store,
    assets: &BTreeMap<String, AssetInfo>,
    stored: &mut Stored,
) -> Result<(), TwinError> {
    loop {
        let others = store.others()?;
        if others.is_empty() {
            return Ok(());
        }
        from_others(others, assets, stored);
    }
}

/// Other servers' stored events (id, text) added to `stored`, in the order given.
fn from_others(
    others: Vec<(i64, String)>,
    assets: &BTreeMap<String, AssetInfo>,
    stored: &mut Stored,
) {
    for (id, text) in others {
        match event::parse(&text) {
            Ok(c) if assets.contains_key(&c.event.asset) => {
                stored.newest_ms = stored.newest_ms.max(Some(c.ts_ms));
                stored.events.push(c);
                stored.others += 1;
            }
            Ok(c) => tracing::warn!(
                id,
                asset = %c.event.asset,
                "another server stored an event of an asset this scenario does not have: not mirrored"
            ),
            Err(e) => {
                tracing::warn!(id, error = %e, "another server stored an event this server cannot read: not mirrored")
            }
        }
    }
}

/// Hands a stored batch's events to the mirror, in order (leaving `stored.events` empty).
pub(crate) fn mirror(mirror: &mut Mirror, stored: &mut Stored) {
    for c in stored.events.drain(..) {
        mirror.offer(c);
    }
}
