//! What the twin's behaviour tests share: the shipped bottling line and a trace sink that collects
//! the simulator's events as the lines sensors send.

use std::path::Path;
use std::sync::{Arc, Mutex};
use takt_model::{Model, Timebase};
use takt_sim::{TraceRecord, TraceSink};

/// Collects the trace as event lines, the form sensors send.
#[derive(Clone)]
pub struct Lines(pub Arc<Mutex<Vec<String>>>, pub Timebase);

impl TraceSink for Lines {
    fn record(&mut self, r: &TraceRecord<'_>) {
        if let Ok(mut v) = self.0.lock() {
            v.push(r.to_json(&self.1).to_string());
        }
    }
}

pub fn bottling() -> Arc<Model> {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/bottling-line.toml"
    ));
    match takt_model::load_file(path) {
        Ok(l) => Arc::new(l.model),
        Err(e) => panic!("shipped scenario: {e}"),
    }
}
