//! `GET /twin/buffers`: the parts in each buffer now, by the forecast's own inference.

use super::{condition_of, condition_with_book};
use crate::mirror::AssetState;
use crate::orders::OrderBook;
use std::collections::BTreeMap;
use takt_model::Model;

/// A buffer's parts now, as [`condition_of`] infers them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BufferLevel {
    pub buffer: String,
    /// The station that takes its parts.
    pub station: String,
    /// Parts it holds at most; absent: unlimited.
    pub capacity: Option<u32>,
    /// Parts waiting in it now (inferred, see `warnings`); absent when they cannot be inferred.
    pub parts: Option<u64>,
}

/// `GET /twin/buffers`: every buffer's parts now. Machine events do not sense buffers: the levels
/// are inferred by conservation along the routings, assuming the history began with the plant
/// empty at the scenario's start; what could not be inferred exactly is in `warnings`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BufferLevels {
    pub now_ms: i64,
    pub buffers: Vec<BufferLevel>,
    pub warnings: Vec<String>,
}

/// Every buffer's parts at `now_ms`, in the scenario's order of buffers, with the orders of the
/// live `book` if one was given (the parts in front of the first steps are its orders' left to
/// start); `None` (`now_ms` before the scenario's start, or no events yet) when they cannot be
/// inferred, with the reason.
pub fn buffer_levels(
    model: &Model,
    view: Option<(&BTreeMap<String, AssetState>, i64)>,
    book: Option<&OrderBook>,
) -> BufferLevels {
    let (condition, warnings, now_ms) = match view {
        None => (None, vec!["the twin has no events yet".to_string()], 0),
        Some((view, now_ms)) => {
            let inferred = match book.map(|b| b.booked(model)) {
                None => condition_of(model, view, now_ms),
                Some(Ok(booked)) => condition_with_book(&booked, view, now_ms),
                Some(Err(e)) => Err(e.into()),
            };
            match inferred {
                Ok((c, w)) => (Some(c), w, now_ms),
                Err(e) => (None, vec![e.to_string()], now_ms),
            }
        }
    };
    let buffers = model
        .buffers
        .iter()
        .map(|b| BufferLevel {
            buffer: b.name.clone(),
            station: model.stations[b.station].name.clone(),
            capacity: b.capacity,
            parts: condition.as_ref().map(|c| {
                c.buffers
                    .iter()
                    .find(|q| q.buffer == b.name)
                    .map_or(0, |q| q.parts.len() as u64)
            }),
        })
        .collect();
    BufferLevels {
        now_ms,
        buffers,
        warnings,
    }
}
