//! Readers of plant data kept as tables. Each turns the text of a table into typed rows, and every
//! row it cannot read into a [`RowError`] with its line and reason: a caller decides whether a bad
//! row stops it (training a model) or is counted and skipped (events for the twin). Nothing here
//! opens a file; the callers read the text.
//!
//! Used by `takt_twin::adapters::tables` (rows into events) and `takt_maintenance::azure`
//! (rows into features), so the tables are read one way.

pub mod azure_pdm;

/// A row that could not be read: the table, its line (1-based, the header is line 1) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub table: &'static str,
    pub line: usize,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, line {}: {}", self.table, self.line, self.reason)
    }
}

impl std::error::Error for RowError {}
