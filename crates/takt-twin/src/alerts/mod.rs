//! Alerts people act on: rules ([`rules`]) evaluated on the twin's state after every batch, raised
//! once per episode and cleared with hysteresis, stored, acknowledged by a person.
//!
//! - **One alert per episode.** An alert is keyed by its rule and its subject (a machine, or a
//!   machine's failure mode); while it is open the rule cannot raise it again, whatever the state
//!   does, so a flapping signal gives one alert, not a storm.
//! - **Hysteresis.** Each condition has a raise level and a clear level apart from it (OEE below
//!   60 % raises, above 65 % clears); between them an open alert stays open and a closed one stays
//!   closed. A machine whose state is UNKNOWN (silent) holds its down alert.
//! - **Deterministic.** The engine reads no clock: `now_ms` is the twin's time (its newest event),
//!   or the server's clock for a live plant. Replaying a recording raises the same alerts.

pub mod publish;
pub mod rules;

use crate::TwinState;
use crate::event::StateCode;
use crate::forecast::OrderForecast;
pub use rules::{Condition, Rule, RulesError, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use takt_model::fit::Fit;
use takt_model::{FailureBasis, Model};

/// An alert, open or cleared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    pub id: u64,
    /// The rule's name, and what kind of rule it is (`down`, `silent`, `oee_below`,
    /// `failure_risk`).
    pub rule: String,
    pub kind: String,
    pub severity: Severity,
    /// The machine it concerns.
    pub asset: String,
    /// The failure mode, for a `failure_risk` alert.
    pub mode: Option<String>,
    /// The order, for an `order_late` alert (whose `asset` is empty).
    #[serde(default)]
    pub order: Option<String>,
    /// What is wrong, in words, with its figures in their units.
    pub message: String,
    /// The figure that raised it: the allowance passed, seconds (down, silent), or a share (the
    /// OEE, the risk).
    pub value: f64,
    pub raised_ms: i64,
    /// When it cleared (`null` while open).
    pub cleared_ms: Option<i64>,
    pub acknowledged: Option<Acknowledgement>,
}

impl Alert {
    pub fn is_open(&self) -> bool {
        self.cleared_ms.is_none()
    }
}

/// Who saw an alert and took it on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Acknowledgement {
    pub by: String,
    pub note: String,
    pub at_ms: i64,
}

/// What changed in one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", content = "alert", rename_all = "snake_case")]
pub enum AlertChange {
    Raised(Alert),
    Cleared(Alert),
    Acknowledged(Alert),
}

impl AlertChange {
    /// `raised`, `cleared` or `acknowledged`.
    pub fn kind(&self) -> &'static str {
        match self {
            AlertChange::Raised(_) => "raised",
            AlertChange::Cleared(_) => "cleared",
            AlertChange::Acknowledged(_) => "acknowledged",
        }
    }

    pub fn alert(&self) -> &Alert {
        match self {
            AlertChange::Raised(a) | AlertChange::Cleared(a) | AlertChange::Acknowledged(a) => a,
        }
    }
}

/// A failure mode's probability of failing within a span, from the age it has reached now:
/// `risk(asset, within_s)` gives each of the machine's modes with its age (in its basis) and risk.
pub type FailureRisks<'a> = &'a dyn Fn(&str, f64) -> Vec<ModeRisk>;

/// One failure mode's age now and its risk of failing within the span asked.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeRisk {
    pub mode: String,
    pub age: f64,
    pub risk: f64,
}

/// What the rules read.
pub struct Inputs<'a> {
    pub state: &'a TwinState,
    /// The moment judged, Unix ms: the twin's newest event, or the clock for a live plant.
    pub now_ms: i64,
    /// Needed by `failure_risk` rules (which are skipped without it).
    pub failure_risks: Option<FailureRisks<'a>>,
    /// Writes a Unix ms time in plant time for messages.
    pub plant_time: &'a dyn Fn(i64) -> String,
    /// Unplanned stops that ended since the last judgement, per machine: a stop that began and
    /// ended between two judgements is still judged by its length.
    pub ended_stops: &'a [(String, crate::mirror::Episode)],
}

/// One rule's verdict on one subject.
enum Verdict {
    /// `at_ms`: when the condition was first met, where the rule can tell (a stop's start plus
    /// its allowance), so that the alert's time does not depend on when it was judged.
    Raise {
        value: f64,
        message: String,
        at_ms: Option<i64>,
    },
    Hold,
    Clear,
}

/// The rules and the alerts they hold open.
pub struct AlertEngine {
    rules: Vec<Rule>,
    /// (rule index, asset, mode) -> the open alert.
    open: BTreeMap<(usize, String, Option<String>), Alert>,
    next_id: u64,
    /// Each machine's last state other than UNKNOWN: a silent machine is judged by what it was.
    last_known: BTreeMap<String, StateCode>,
    /// Per `down` rule and machine: the start of the last stop alerted, so that a stop seen while
    /// it ran is not alerted again when it is seen ended (events wait out the reorder window).
    alerted_stop: BTreeMap<(usize, String), i64>,
    /// Per `failure_risk` rule, machine and mode: the age at the last judgement; a younger age
    /// now means a repair or a service renewed the mode, which clears its alert.
    risk_age: BTreeMap<(usize, String, String), f64>,
    /// When the orders were last forecast for `order_late` rules (plant time, Unix ms).
    last_order_forecast_ms: Option<i64>,
}

impl AlertEngine {
    /// An engine over checked rules, taking on alerts still open from before (a restart) and
    /// numbering new ones after `last_id`.
    pub fn new(rules: Vec<Rule>, open: Vec<Alert>, last_id: u64) -> AlertEngine {
        let mut engine = AlertEngine {
            rules,
            open: BTreeMap::new(),
            next_id: last_id + 1,
            last_known: BTreeMap::new(),
            alerted_stop: BTreeMap::new(),
            risk_age: BTreeMap::new(),
            last_order_forecast_ms: None,
        };
        for a in open.into_iter().filter(Alert::is_open) {
            if let Some(r) = engine.rules.iter().position(|r| r.name == a.rule) {
                if let Condition::Down { longer_than_s } = engine.rules[r].condition {
                    engine.alerted_stop.insert(
                        (r, a.asset.clone()),
                        a.raised_ms - (longer_than_s * 1000.0) as i64,
                    );
                }
                engine.next_id = engine.next_id.max(a.id + 1);
                engine.open.insert((r, a.asset.clone(), a.mode.clone()), a);
            }
        }
        engine
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The alerts open now, oldest first.
    pub fn open(&self) -> Vec<&Alert> {
        let mut v: Vec<&Alert> = self.open.values().collect();
        v.sort_by_key(|a| a.id);
        v
    }

    /// Notes an acknowledgement of an open alert (the store keeps it for closed ones).
    pub fn acknowledged(&mut self, alert: &Alert) {
        if let Some(a) = self.open.values_mut().find(|a| a.id == alert.id) {
            a.acknowledged.clone_from(&alert.acknowledged);
        }
    }

    /// Judges every rule on the state; returns the alerts raised and cleared, in rule order.
    pub fn evaluate(&mut self, inputs: &Inputs) -> Vec<AlertChange> {
        for a in &inputs.state.assets {
            if a.state != StateCode::Unknown {
                self.last_known.insert(a.asset.clone(), a.state);
            }
        }
        let mut changes = Vec::new();
        for r in 0..self.rules.len() {
            self.judge_ended_stops(r, inputs, &mut changes);
            let verdicts = self.judge(r, inputs);
            for ((asset, mode), verdict) in verdicts {
                let key = (r, asset, mode);
                match (verdict, self.open.contains_key(&key)) {
                    (
                        Verdict::Raise {
                            value,
                            message,
                            at_ms,
                        },
                        false,
                    ) => {
                        let rule = &self.rules[r];
                        let alert = Alert {
                            id: self.next_id,
                            rule: rule.name.clone(),
                            kind: rule.condition.kind().to_string(),
                            severity: rule.severity,
                            asset: key.1.clone(),
                            mode: key.2.clone(),
                            order: None,
                            message,
                            value,
                            raised_ms: at_ms.unwrap_or(inputs.now_ms),
                            cleared_ms: None,
                            acknowledged: None,
                        };
                        self.next_id += 1;
                        if let Condition::Down { longer_than_s } = rule.condition {
                            self.alerted_stop.insert(
                                (r, key.1.clone()),
                                alert.raised_ms - (longer_than_s * 1000.0) as i64,
                            );
                        }
                        self.open.insert(key, alert.clone());
                        changes.push(AlertChange::Raised(alert));
                    }
                    (Verdict::Clear, true) => {
                        if let Some(mut alert) = self.open.remove(&key) {
                            alert.cleared_ms = Some(inputs.now_ms);
                            changes.push(AlertChange::Cleared(alert));
                        }
                    }
                    _ => {}
                }
            }
        }
        changes
    }

    /// The forecast `order_late` rules want now (replications, and how far ahead in seconds), if
    /// one is due: the shortest period of plant time has passed since the last forecast.
    pub fn order_forecast_due(&self, now_ms: i64) -> Option<(u32, f64)> {
        let (every_s, replications, ahead_s) = self
            .rules
            .iter()
            .filter_map(|r| match r.condition {
                Condition::OrderLate {
                    every_s,
                    replications,
                    ahead_s,
                    ..
                } => Some((every_s, replications, ahead_s)),
                _ => None,
            })
            .fold(None, |acc: Option<(f64, u32, f64)>, (e, n, a)| {
                Some(acc.map_or((e, n, a), |(ae, an, aa)| (ae.min(e), an.max(n), aa.max(a))))
            })?;
        match self.last_order_forecast_ms {
            Some(last) if now_ms - last < (every_s * 1000.0) as i64 => None,
            _ => Some((replications, ahead_s)),
        }
    }

    /// Judges the `order_late` rules on a forecast made at `now_ms` (`None`: none could be made,
    /// e.g. between shifts; the period starts again all the same).
    pub fn evaluate_orders(
        &mut self,
        orders: Option<&[OrderForecast]>,
        now_ms: i64,
        plant_time: &dyn Fn(&str) -> String,
    ) -> Vec<AlertChange> {
        self.last_order_forecast_ms = Some(now_ms);
        let Some(orders) = orders else {
            return Vec::new();
        };
        let mut changes = Vec::new();
        for r in 0..self.rules.len() {
            let Condition::OrderLate {
                probability,
                clear_below,
                ..
            } = self.rules[r].condition
            else {
                continue;
            };
            for o in orders {
                let key = (r, String::new(), Some(o.id.clone()));
                let late = o.p_on_time.map(|p| 1.0 - p);
                let open = self.open.contains_key(&key);
                match late {
                    _ if o.complete_now && open => self.clear(&key, now_ms, &mut changes),
                    Some(late) if late >= probability && !open && !o.complete_now => {
                        let rule = &self.rules[r];
                        let due = o.due.as_deref().map(plant_time).unwrap_or_default();
                        let alert = Alert {
                            id: self.next_id,
                            rule: rule.name.clone(),
                            kind: rule.condition.kind().to_string(),
                            severity: rule.severity,
                            asset: String::new(),
                            mode: None,
                            order: Some(o.id.clone()),
                            message: format!(
                                "order {} ({} pieces, due {due}): {} likely to be late",
                                o.id,
                                takt_model::quantity::count(u64::from(o.quantity)),
                                takt_model::quantity::percent(late)
                            ),
                            value: late,
                            raised_ms: now_ms,
                            cleared_ms: None,
                            acknowledged: None,
                        };
                        self.next_id += 1;
                        self.open.insert(key, alert.clone());
                        changes.push(AlertChange::Raised(alert));
                    }
                    Some(late) if late < clear_below && open => {
                        self.clear(&key, now_ms, &mut changes)
                    }
                    _ => {}
                }
            }
        }
        changes
    }

    fn clear(
        &mut self,
        key: &(usize, String, Option<String>),
        now_ms: i64,
        changes: &mut Vec<AlertChange>,
    ) {
        if let Some(mut alert) = self.open.remove(key) {
            alert.cleared_ms = Some(now_ms);
            changes.push(AlertChange::Cleared(alert));
        }
    }

    /// A `down` rule on the stops that ended since the last judgement: one that lasted the
    /// allowance is raised (at its start plus the allowance) and cleared (at its end), unless it
    /// was raised while it ran; then that alert is cleared at its end.
    fn judge_ended_stops(&mut self, r: usize, inputs: &Inputs, changes: &mut Vec<AlertChange>) {
        let rule = &self.rules[r];
        let Condition::Down { longer_than_s } = rule.condition else {
            return;
        };
        let allowance_ms = (longer_than_s * 1000.0) as i64;
        for (asset, stop) in inputs.ended_stops {
            if !rule.assets.contains(asset) || stop.end_ms - stop.start_ms < allowance_ms {
                continue;
            }
            let stop_key = (r, asset.clone());
            let alerted = self.alerted_stop.get(&stop_key) == Some(&stop.start_ms);
            self.alerted_stop.insert(stop_key, stop.start_ms);
            let key = (r, asset.clone(), None);
            let mut alert = match self.open.remove(&key) {
                Some(open) if alerted => open,
                other => {
                    if let Some(open) = other {
                        self.open.insert(key.clone(), open);
                    }
                    if alerted {
                        // Raised and cleared already while it was seen running.
                        continue;
                    }
                    let reason = if stop.reason.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", stop.reason)
                    };
                    let alert = Alert {
                        id: self.next_id,
                        rule: rule.name.clone(),
                        kind: rule.condition.kind().to_string(),
                        severity: rule.severity,
                        asset: asset.clone(),
                        mode: None,
                        order: None,
                        message: format!(
                            "{asset} down{reason} since {}: over {}",
                            (inputs.plant_time)(stop.start_ms),
                            takt_model::quantity::duration(longer_than_s)
                        ),
                        value: longer_than_s,
                        raised_ms: stop.start_ms + allowance_ms,
                        cleared_ms: None,
                        acknowledged: None,
                    };
                    self.next_id += 1;
                    changes.push(AlertChange::Raised(alert.clone()));
                    alert
                }
            };
            alert.cleared_ms = Some(stop.end_ms);
            changes.push(AlertChange::Cleared(alert));
        }
    }

    /// Rule `r`'s verdict on each of its subjects.
    fn judge(&mut self, r: usize, inputs: &Inputs) -> Vec<((String, Option<String>), Verdict)> {
        let rule = &self.rules[r];
        let now = inputs.now_ms;
        let mut out = Vec::new();
        for a in inputs
            .state
            .assets
            .iter()
            .filter(|a| rule.assets.contains(&a.asset))
        {
            let subject = (a.asset.clone(), None);
            let verdict = match &rule.condition {
                Condition::Down { longer_than_s } => match (a.state, a.since_ms) {
                    (StateCode::UnplannedDown, Some(since)) => {
                        let down_s = (now - since) as f64 / 1000.0;
                        if down_s >= *longer_than_s {
                            let reason = if a.reason.is_empty() {
                                String::new()
                            } else {
                                format!(" ({})", a.reason)
                            };
                            Verdict::Raise {
                                at_ms: Some(since + (longer_than_s * 1000.0) as i64),
                                value: *longer_than_s,
                                message: format!(
                                    "{} down{reason} since {}: over {}",
                                    a.asset,
                                    (inputs.plant_time)(since),
                                    takt_model::quantity::duration(*longer_than_s)
                                ),
                            }
                        } else {
                            Verdict::Hold
                        }
                    }
                    (StateCode::UnplannedDown | StateCode::Unknown, _) => Verdict::Hold,
                    _ => Verdict::Clear,
                },
                Condition::Silent {
                    longer_than_s,
                    while_in,
                } => {
                    let was = self.last_known.get(&a.asset).copied();
                    match a.last_seen_ms {
                        Some(seen) => {
                            let silent_s = (now - seen) as f64 / 1000.0;
                            if silent_s < *longer_than_s {
                                Verdict::Clear
                            } else if !was.is_some_and(|s| while_in.contains(&s)) {
                                Verdict::Hold
                            } else {
                                Verdict::Raise {
                                    at_ms: Some(seen + (longer_than_s * 1000.0) as i64),
                                    value: *longer_than_s,
                                    message: format!(
                                        "{} silent: no event since {} (over {})",
                                        a.asset,
                                        (inputs.plant_time)(seen),
                                        takt_model::quantity::duration(*longer_than_s)
                                    ),
                                }
                            }
                        }
                        None => Verdict::Hold,
                    }
                }
                Condition::OeeBelow {
                    below,
                    after_s,
                    clear_above,
                } => {
                    // Judged on the time the twin has watched the machine this shift: before its
                    // first event (a twin started mid-shift) or while it was silent, the state is
                    // UNKNOWN, which says nothing of the machine and is taken out of the OEE's
                    // planned time.
                    let seconds = |state: &str| a.kpis.state_s.get(state).copied().unwrap_or(0.0);
                    let total_s: f64 = a.kpis.state_s.values().sum();
                    let watched_s = total_s - seconds("UNKNOWN");
                    let planned_s = total_s - seconds("OFF") - seconds("PLANNED_DOWN");
                    let known_oee = a.kpis.oee.and_then(|oee| {
                        let known_planned_s = planned_s - seconds("UNKNOWN");
                        (known_planned_s > 0.0).then(|| oee * planned_s / known_planned_s)
                    });
                    match known_oee {
                        _ if watched_s < *after_s => Verdict::Clear,
                        Some(oee) if oee < *below => Verdict::Raise {
                            at_ms: None,
                            value: oee,
                            message: format!(
                                "{} OEE {} this shift, below {} (over the {} the twin has watched it)",
                                a.asset,
                                takt_model::quantity::percent(oee),
                                takt_model::quantity::percent(*below),
                                takt_model::quantity::duration(watched_s)
                            ),
                        },
                        Some(oee) if oee >= *clear_above => Verdict::Clear,
                        _ => Verdict::Hold,
                    }
                }
                // Judged on a forecast: `evaluate_orders`.
                Condition::OrderLate { .. } => continue,
                Condition::FailureRisk {
                    above,
                    within_s,
                    clear_below,
                } => {
                    let Some(risks) = inputs.failure_risks else {
                        continue;
                    };
                    for ModeRisk { mode, age, risk } in risks(&a.asset, *within_s) {
                        let renewed = self
                            .risk_age
                            .insert((r, a.asset.clone(), mode.clone()), age)
                            .is_some_and(|before| age < before);
                        let verdict = if renewed {
                            Verdict::Clear
                        } else if risk > *above {
                            Verdict::Raise {
                                at_ms: None,
                                value: risk,
                                message: format!(
                                    "{} `{mode}`: {} risk of failing within {}",
                                    a.asset,
                                    takt_model::quantity::percent(risk),
                                    takt_model::quantity::duration(*within_s)
                                ),
                            }
                        } else if risk < *clear_below {
                            Verdict::Clear
                        } else {
                            Verdict::Hold
                        };
                        out.push(((a.asset.clone(), Some(mode)), verdict));
                    }
                    continue;
                }
            };
            out.push((subject, verdict));
        }
        out
    }
}

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
/// `replications` seeded by the scenario's seed; `None` where none can be made.
pub fn order_forecast(
    model: &std::sync::Arc<Model>,
    view: &BTreeMap<String, crate::mirror::AssetState>,
    now_ms: i64,
    (replications, ahead_s): (u32, f64),
) -> Option<crate::forecast::Forecast> {
    let options = crate::forecast::ForecastOptions {
        replications,
        seed: model.seed,
        until_s: Some(model.timebase.model_s(now_ms) + ahead_s),
        plan_replications: 0,
        min_deviation: crate::forecast::DEFAULT_MIN_DEVIATION,
    };
    crate::forecast::forecast(model, view, now_ms, options)
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
    /// cleared, and returns it. Failure risks come from the mirrored ages and `lifetimes`.
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
            ended_stops: &ended_stops,
        });
        if !changes.is_empty() {
            self.store
                .save_alerts(changes.iter().map(AlertChange::alert))?;
        }
        Ok(changes)
    }

    /// Forecasts the orders if an `order_late` rule is due at `now_ms` (a forecast of the running
    /// shift from the mirrored state, seeded by the scenario's seed), judges them, stores and
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
        let forecast = order_forecast(model, &self.view(now_ms), now_ms, wanted);
        let plant_time = due_text(model);
        let changes = engine.evaluate_orders(
            forecast.as_ref().map(|f| f.orders.as_slice()),
            now_ms,
            &plant_time,
        );
        self.record_alerts(&changes)?;
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

    /// Stored alerts, newest first.
    pub fn alerts(
        &self,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<Alert>, crate::store::StoreError> {
        self.store.alerts(open_only, limit)
    }
}

#[cfg(test)]
mod tests;
