//! Writes the engine's trace as JSON Lines in the takt event schema: `ts` (RFC 3339 with offset),
//! `asset`, `kind` (`state` or `count`), `seq`, plus `t_s` (simulated seconds since t = 0).

use serde_json::json;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use takt_model::Timebase;
use takt_sim::{TraceKind, TraceRecord, TraceSink};

pub struct JsonLinesTrace {
    out: BufWriter<File>,
    timebase: Timebase,
    error: Option<std::io::Error>,
}

impl JsonLinesTrace {
    pub fn create(path: &Path, timebase: Timebase) -> std::io::Result<Self> {
        Ok(JsonLinesTrace {
            out: BufWriter::new(File::create(path)?),
            timebase,
            error: None,
        })
    }
}

impl TraceSink for JsonLinesTrace {
    fn record(&mut self, r: &TraceRecord<'_>) {
        if self.error.is_some() {
            return;
        }
        let ts = self.timebase.rfc3339(r.time_s);
        let line = match r.kind {
            TraceKind::State { state, reason } => json!({
                "ts": ts, "asset": r.asset, "kind": "state", "seq": r.seq, "t_s": r.time_s,
                "state": state.schema_name(), "reason": reason,
            }),
            TraceKind::Count {
                good,
                scrap,
                rework,
                product,
            } => json!({
                "ts": ts, "asset": r.asset, "kind": "count", "seq": r.seq, "t_s": r.time_s,
                "mode": "delta", "good": good, "scrap": scrap, "rework": rework, "product": product,
            }),
        };
        if let Err(e) = writeln!(self.out, "{line}") {
            self.error = Some(e);
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()
    }
}
