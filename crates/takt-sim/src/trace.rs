//! The machine-event stream a run can emit: state changes with reasons, and piece counts. It is the same
//! kind of stream a plant's sensors send; the engine hands records to a [`TraceSink`] and does no I/O
//! itself (the CLI's sink writes JSON Lines).

use crate::components::MachineState;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TraceKind<'a> {
    State {
        state: MachineState,
        reason: &'a str,
    },
    /// Pieces finished by one cycle: good, scrapped, sent to rework, and their product.
    Count {
        good: u32,
        scrap: u32,
        rework: u32,
        product: &'a str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceRecord<'a> {
    /// Simulated seconds since t = 0.
    pub time_s: f64,
    /// Increases by one per record of the run.
    pub seq: u64,
    /// Machine name: the station's name, or `station.k` for its k-th parallel machine.
    pub asset: &'a str,
    pub kind: TraceKind<'a>,
}

impl TraceRecord<'_> {
    /// The record as a takt plant event (docs/events.md): `ts` in the plant's offset from `timebase`,
    /// plus `t_s`, the simulated seconds.
    pub fn to_json(&self, timebase: &takt_model::Timebase) -> serde_json::Value {
        let ts = timebase.rfc3339(self.time_s);
        match self.kind {
            TraceKind::State { state, reason } => serde_json::json!({
                "ts": ts, "asset": self.asset, "kind": "state", "seq": self.seq, "t_s": self.time_s,
                "state": state.schema_name(), "reason": reason,
            }),
            TraceKind::Count {
                good,
                scrap,
                rework,
                product,
            } => serde_json::json!({
                "ts": ts, "asset": self.asset, "kind": "count", "seq": self.seq, "t_s": self.time_s,
                "mode": "delta", "good": good, "scrap": scrap, "rework": rework, "product": product,
            }),
        }
    }
}

pub trait TraceSink: Send {
    fn record(&mut self, record: &TraceRecord<'_>);

    /// Makes everything recorded durable (a file sink reports write errors here).
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Keeps records in memory (tests, small runs). Clones share the same records, so the caller can keep
/// one and hand the other to the engine.
#[derive(Debug, Default, Clone)]
pub struct VecSink(Arc<Mutex<Vec<OwnedRecord>>>);

impl VecSink {
    pub fn records(&self) -> Vec<OwnedRecord> {
        self.0.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OwnedRecord {
    pub time_s: f64,
    pub seq: u64,
    pub asset: String,
    pub state: Option<(MachineState, String)>,
    pub count: Option<(u32, u32, u32)>,
}

impl TraceSink for VecSink {
    fn record(&mut self, r: &TraceRecord<'_>) {
        let (state, count) = match r.kind {
            TraceKind::State { state, reason } => (Some((state, reason.to_string())), None),
            TraceKind::Count {
                good,
                scrap,
                rework,
                ..
            } => (None, Some((good, scrap, rework))),
        };
        if let Ok(mut records) = self.0.lock() {
            records.push(OwnedRecord {
                time_s: r.time_s,
                seq: r.seq,
                asset: r.asset.to_string(),
                state,
                count,
            });
        }
    }
}
