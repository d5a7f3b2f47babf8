//! Writes the engine's trace as JSON Lines in the takt event schema: `ts` (RFC 3339 with offset),
//! `asset`, `kind` (`state` or `count`), `seq`, plus `t_s` (simulated seconds since t = 0).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use takt_model::Timebase;
use takt_sim::{TraceRecord, TraceSink};

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
        let line = r.to_json(&self.timebase);
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
