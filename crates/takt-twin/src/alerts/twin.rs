//! The alerts' side of the twin: judging the rules on its state and stores, lifetimes for the
//! failure-risk rules, and the forecast the order rules read.

use super::*;

/// Each machine's failure modes with the lifetime the plant expects of them (the scenario's
/// time-to-failure distributions, or calibrated ones), for `failure_risk` rules.
#[derive(Debug, Clone, Default)]
pub struct Lifetimes {
    /// Machine -> (mode, lifetime, basis).
    by_asset: BTreeMap<String, Vec<(String, Fit, FailureBasis)>>,
}

impl Lifetimes {
    /// `lifetime(station, mode)` gives the lifetime of failure mode `mode` of station `station`
    /// (indices into the model), or `None` where it has none to judge by.
    pub fn new(model: &Model, lifetime: impl Fn(usize, usize) -> Option<Fit>) -> Lifetimes {
        let mut by_asset = BTreeMap::new();
        for (si, st) in model.stations.iter().enumerate() {
            let modes: Vec<(String, Fit, FailureBasis)> = st
                .failure_modes
                .iter()
                .enumerate()
                .filter_map(|(fi, m)| lifetime(si, fi).map(|f| (m.name.clone(), f, m.basis)))
                .collect();
            for k in 0..st.machines {
                by_asset.insert(st.machine_name(k), modes.clone());
            }
        }
        Lifetimes { by_asset }
    }

    /// The risk of each of `asset`'s modes failing within `within_s` from its age now. Ages in
    /// operating time grow at most as fast as the clock, so their risk is an upper bound; modes
    /// that age in counted cycles are left out (the span is a time).
    pub fn risks(
        &self,
        ages: &BTreeMap<String, BTreeMap<String, f64>>,
        asset: &str,
        within_s: f64,
    ) -> Vec<ModeRisk> {
        let Some(modes) = self.by_asset.get(asset) else {
            return Vec::new();
        };
        modes
            .iter()
            .filter(|(_, _, basis)| *basis != FailureBasis::Cycles)
            .map(|(mode, life, _)| {
                let age = ages
                    .get(asset)
                    .and_then(|a| a.get(mode))
                    .copied()
                    .unwrap_or(0.0);
                ModeRisk {
                    mode: mode.clone(),
                    age,
                    risk: life.conditional_failure(age, within_s),
                }
            })
            .collect()
    }
}

/// The forecast `order_late` rules judge: `ahead_s` from the mirrored `view` at `now_ms`, with
/// `replications` seeded by the scenario's seed, of the live order `book` if one was given (else
/// of the scenario's orders); `None` where none can be made.
pub fn order_forecast(
    model: &std::sync::Arc<Model>,
    view: &BTreeMap<String, crate::mirror::AssetState>,
    now_ms: i64,
    (replications, ahead_s): (u32, f64),
    book: Option<&crate::orders::OrderBook>,
) -> Option<crate::forecast::Forecast> {
    let options = crate::forecast::ForecastOptions {
        replications,
        seed: model.seed,
        until_s: Some(model.timebase.model_s(now_ms) + ahead_s),
        plan_replications: 0,
        min_deviation: crate::forecast::DEFAULT_MIN_DEVIATION,
    };
    let stop = std::sync::atomic::AtomicBool::new(false);
    let inputs = crate::forecast::ForecastInputs {
        book,
        ..Default::default()
    };
    crate::forecast::forecast_with_plans(model, view, now_ms, options, inputs, &stop)
        .map_err(|e| tracing::debug!(error = %e, "alerts: no order forecast now"))
        .ok()
}

/// Writes an RFC 3339 time (an order's due date) as a plant minute.
pub fn due_text(model: &Model) -> impl Fn(&str) -> String + '_ {
    move |rfc3339: &str| {
        takt_model::time::parse_rfc3339_ms(rfc3339).map_or_else(
            |_| rfc3339.to_string(),
            |ms| model.timebase.plant_minute(model.timebase.model_s(ms)),
        )
    }
}

impl crate::Twin {
    /// Judges the rules on `state` (the twin's state at `now_ms`), stores what was raised or
    /// cleared, and returns it. Failure risks come from the mirrored ages and `lifetimes`. A store
    /// that fails to keep the alerts is logged, and the changes are returned all the same, so
    /// that they are still announced (the engine holds them open either way).
    pub fn evaluate_alerts(
        &mut self,
        engine: &mut AlertEngine,
        model: &Model,
        state: &TwinState,
        lifetimes: Option<&Lifetimes>,
        now_ms: i64,
    ) -> Result<Vec<AlertChange>, crate::store::StoreError> {
        let needs_risks = engine
            .rules()
            .iter()
            .any(|r| matches!(r.condition, Condition::FailureRisk { .. }));
        let ages = match (needs_risks, lifetimes) {
            (true, Some(_)) => Some(crate::condition::failure_ages(
                model,
                &self.view(now_ms),
                now_ms,
            )),
            _ => None,
        };
        let risk = |asset: &str, within_s: f64| match (&ages, lifetimes) {
            (Some(ages), Some(l)) => l.risks(ages, asset, within_s),
            _ => Vec::new(),
        };
        let plant_time = |ms: i64| model.timebase.plant_minute(model.timebase.model_s(ms));
        let ended_stops = self.mirror.take_ended_stops();
        let changes = engine.evaluate(&Inputs {
            state,
            now_ms,
            failure_risks: ages.is_some().then_some(&risk as FailureRisks),
            plant_time: &plant_time,
            stop_reasons: &model.stop_reasons,
            ended_stops: &ended_stops,
        });
        self.keep(&changes);
        Ok(changes)
    }

    /// Stores alerts, logging a failure instead of losing the changes.
    fn keep(&mut self, changes: &[AlertChange]) {
        if let Err(e) = self.record_alerts(changes) {
            tracing::error!(error = %e, alerts = changes.len(), "alerts: not stored (still announced)");
        }
    }

    /// Judges every rule at `now_ms` on the twin's state then, the orders too when an
    /// `order_late` rule's period has passed (inline: for a replay or a listener, which own the
    /// twin; a server forecasts outside its lock), and stores and returns what changed.
    pub fn judge_alerts(
        &mut self,
        engine: &mut AlertEngine,
        model: &std::sync::Arc<Model>,
        lifetimes: Option<&Lifetimes>,
        now_ms: i64,
    ) -> Result<Vec<AlertChange>, crate::store::StoreError> {
        let state = self.state(now_ms);
        let mut changes = self.evaluate_alerts(engine, model, &state, lifetimes, now_ms)?;
        changes.extend(self.order_alerts_if_due(engine, model, now_ms)?);
        Ok(changes)
    }

    /// The moment a live listener judges the rules at after a stored batch: the newest event when
    /// the batch brought news; after a quiet tick (an empty report), the later of the newest event
    /// and `clock_ms`, so that a machine gone silent is noticed on the clock; `None` when there is
    /// nothing to judge (a batch of duplicates or refusals, or no event yet).
    pub fn judging_moment(&self, report: &crate::IngestReport, clock_ms: i64) -> Option<i64> {
        let newest = self.newest_ms()?;
        if report.accepted > 0 {
            Some(newest)
        } else if report == &crate::IngestReport::default() {
            Some(newest.max(clock_ms))
        } else {
            None
        }
    }

    /// Forecasts the orders (the live book's, if one was given) if an `order_late` rule is due at
    /// `now_ms` (a forecast of the running shift from the mirrored state, seeded by the scenario's
    /// seed), judges them, stores and
    /// returns what changed. A forecast that cannot be made (between shifts) is skipped.
    pub fn order_alerts_if_due(
        &mut self,
        engine: &mut AlertEngine,
        model: &std::sync::Arc<Model>,
        now_ms: i64,
    ) -> Result<Vec<AlertChange>, crate::store::StoreError> {
        let Some(wanted) = engine.order_forecast_due(now_ms) else {
            return Ok(Vec::new());
        };
        let book = self
            .order_book()
            .map_err(|e| tracing::error!(error = %e, "alerts: the order book cannot be read"))
            .ok()
            .flatten();
        let forecast = order_forecast(model, &self.view(now_ms), now_ms, wanted, book.as_deref());
        let plant_time = due_text(model);
        let changes = engine.evaluate_orders(
            forecast.as_ref().map(|f| f.orders.as_slice()),
            now_ms,
            &plant_time,
        );
        self.keep(&changes);
        Ok(changes)
    }

    /// Stores alerts as changes left them (for a caller that judged outside the twin's lock).
    pub fn record_alerts(
        &mut self,
        changes: &[AlertChange],
    ) -> Result<(), crate::store::StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        self.store
            .save_alerts(changes.iter().map(AlertChange::alert))
    }

    /// Records that `by` took on alert `id` (open or cleared); `None` if there is no such alert.
    pub fn acknowledge_alert(
        &mut self,
        engine: &mut AlertEngine,
        id: u64,
        by: &str,
        note: &str,
        at_ms: i64,
    ) -> Result<Option<AlertChange>, crate::store::StoreError> {
        let Some(mut alert) = self.store.alert(id)? else {
            return Ok(None);
        };
        alert.acknowledged = Some(Acknowledgement {
            by: by.to_string(),
            note: note.to_string(),
            at_ms,
        });
        self.store.save_alerts([&alert])?;
        engine.acknowledged(&alert);
        Ok(Some(AlertChange::Acknowledged(alert)))
    }

    /// An engine over `rules` that takes on the alerts the store holds open (after a restart).
    /// From now on the mirror keeps the stops that end, for the engine to judge.
    pub fn alert_engine(
        &mut self,
        rules: Vec<Rule>,
    ) -> Result<AlertEngine, crate::store::StoreError> {
        self.mirror.keep_ended_stops();
        let open = self.store.alerts(true, u32::MAX)?;
        Ok(AlertEngine::new(rules, open, self.store.last_alert_id()?))
    }

    /// Whether this twin judges `engine`'s rules (see [`crate::store::Store::judging`]): when it
    /// has just become the judge of a shared store, the engine takes on what the store holds
    /// open first, as after a restart.
    pub fn judges_alerts(
        &mut self,
        engine: &mut AlertEngine,
    ) -> Result<bool, crate::store::StoreError> {
        match self.store.judging()? {
            crate::store::Judging::Judges => Ok(true),
            crate::store::Judging::Another => Ok(false),
            crate::store::Judging::BecameJudge => {
                let open = self.store.alerts(true, u32::MAX)?;
                *engine =
                    AlertEngine::new(engine.rules().to_vec(), open, self.store.last_alert_id()?);
                Ok(true)
            }
        }
    }

    /// Stored alerts, newest first.
    pub fn alerts(
        &self,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<Alert>, crate::store::StoreError> {
        self.store.alerts(open_only, limit)
    }
}
