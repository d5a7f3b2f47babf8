//! The last forecast a plant answered, kept for the same request within the same plant minute:
//! every open board asks every two minutes, and boards that open together (a shift change, a
//! server restart) ask together. A forecast starts from the newest event, so within a plant
//! minute the answer would differ only by that minute's events. A cached answer carries `Age`.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// What makes two forecast requests the same.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ForecastKey {
    /// The twin's newest event, whole minutes (Unix ms / 60,000).
    pub(super) minute: i64,
    pub(super) until: Option<String>,
    pub(super) replications: u32,
    pub(super) plan_replications: u32,
    pub(super) seed: Option<u64>,
    pub(super) min_deviation_bits: u64,
    /// The version in the store of the live order book forecast, if one was given.
    pub(super) book_version: Option<i64>,
}

/// A plant's last forecast: its request, when it was made and its JSON.
#[derive(Default)]
pub struct LastForecast(Mutex<Option<(ForecastKey, Instant, axum::body::Bytes)>>);

impl LastForecast {
    /// The answer to `key` if it is the last one made, and its age in whole seconds.
    pub(super) fn get(&self, key: &ForecastKey) -> Option<(axum::body::Bytes, u64)> {
        let last = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        last.as_ref()
            .filter(|(k, _, _)| k == key)
            .map(|(_, at, body)| (body.clone(), at.elapsed().as_secs()))
    }

    pub(super) fn put(&self, key: ForecastKey, body: axum::body::Bytes) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some((key, Instant::now(), body));
    }
}
