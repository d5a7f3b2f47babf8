//! A shift's plan past the scenario's horizon. The scenario's plan runs from its `[run] start`; a
//! live plant weeks on is past it, and its shifts would have nothing to be compared with. Their
//! plan is then the plant as the twin had it when the shift began (`Mirror::at_shift_start`), run
//! in the scenario, with the live order book's orders if one was given: what the model expected
//! of the shift at its start. The shift report ([`crate::report::compare_with_plan`]) and the
//! forecast ([`crate::forecast::forecast_with_plans`]) both compare against it.

use crate::condition::{Observed, observe};
use crate::forecast::{ForecastBasis, ForecastError};
use crate::mirror::AssetState;
use crate::orders::OrderBook;
use crate::{Twin, TwinError};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use takt_model::{Model, RunLimits};
use takt_sim::{Simulation, rng};

/// What a shift's plan starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PlanBasis {
    /// The scenario from its start (its `[run] start`), counted from the shift's start.
    Scenario,
    /// The plant as the twin had it when the shift began (past the scenario's horizon).
    PlantAtShiftStart,
}

/// The plant as the twin had it when a shift began, and the live order book.
#[derive(Debug, Clone)]
pub struct ShiftStart {
    pub start_ms: i64,
    /// Every asset's state at the shift's start.
    pub plant: BTreeMap<String, AssetState>,
    /// The live order book given last, with its version in the store.
    pub book: Option<(i64, Arc<OrderBook>)>,
}

/// The live order book as one read of the twin gave it: its version in the store, and the book.
pub type VersionedBook = Option<(i64, Arc<OrderBook>)>;

impl Twin {
    /// The plant at the start of the shift that began at `start_ms`, with the live order book
    /// `book` (the caller's read of [`Twin::order_book_versioned`], so that what else it runs
    /// has the same orders), if the twin saw the plant before that start (one of the last two
    /// shifts).
    pub fn shift_start(&self, start_ms: i64, book: VersionedBook) -> Option<ShiftStart> {
        let plant = self.mirror().at_shift_start(start_ms)?;
        Some(ShiftStart {
            start_ms,
            plant,
            book,
        })
    }

    /// [`Twin::shift_start`] of the shift running at `now_ms` (what a forecast compares with).
    pub fn shift_start_at(&self, now_ms: i64, book: VersionedBook) -> Option<ShiftStart> {
        self.shift_start(self.mirror().shift_clock().at(now_ms).start_ms, book)
    }

    /// The live order book and the plant at the start of the shift running at `now_ms` with it:
    /// one read of the store, for a forecast.
    pub fn forecast_basis(&self, now_ms: i64) -> Result<ForecastBasis, TwinError> {
        let book = self.order_book_versioned()?;
        let start = self.shift_start_at(now_ms, book.clone());
        Ok(ForecastBasis { book, start })
    }
}

/// A plan's runs from the plant at a shift's start.
pub struct PlanFromStart {
    /// The version of the live order book in it, if one was given (what a kept plan is kept by).
    pub book_version: Option<i64>,
    observed: Observed,
    /// What the plan is, and what had to be assumed to start it, for the notes.
    pub notes: Vec<String>,
}

impl PlanFromStart {
    /// The plant at `start` as a simulator's starting state in `model`, with the live book's
    /// orders if one was given.
    pub fn new(
        model: &Arc<Model>,
        start: &ShiftStart,
        replications: u32,
    ) -> Result<PlanFromStart, ForecastError> {
        let observed = observe(
            model,
            &start.plant,
            start.start_ms,
            start.book.as_ref().map(|(_, book)| book.as_ref()),
        )?;
        let mut notes = vec![format!(
            "the plan: the plant as it stood at the shift's start, run {replications} times with \
             {}; the scenario's own plan ends at {} (plant time)",
            if start.book.is_some() {
                "the live order book's orders"
            } else {
                "the scenario's orders and demand"
            },
            model.timebase.plant_minute(model.horizon_s)
        )];
        notes.extend(
            observed
                .warnings
                .iter()
                .map(|w| format!("the plant at the shift's start: {w}")),
        );
        Ok(PlanFromStart {
            book_version: start.book.as_ref().map(|(version, _)| *version),
            observed,
            notes,
        })
    }

    /// `replications` runs to `until_s` (model seconds), each read by `read`; they end with
    /// [`ForecastError::Run`] once a `stop` is raised.
    pub fn run<T: Send>(
        &self,
        until_s: f64,
        replications: u32,
        seed: u64,
        stop: &[&AtomicBool],
        read: impl Fn(&takt_sim::Report) -> T + Sync,
    ) -> Result<Vec<T>, ForecastError> {
        (0..replications)
            .into_par_iter()
            .map(|r| {
                let mut sim = Simulation::from_condition(
                    Arc::clone(&self.observed.model),
                    rng::replication_seed(seed, r),
                    &self.observed.condition,
                )?;
                sim.run_guarded(until_s, &RunLimits::default(), stop)?;
                Ok(read(&sim.report()))
            })
            .collect()
    }
}
