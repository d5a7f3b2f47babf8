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
mod twin;

pub use twin::{Lifetimes, due_text, order_forecast};

use crate::TwinState;
use crate::event::StateCode;
use crate::forecast::OrderForecast;
pub use rules::{Condition, Rule, RulesError, Severity};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What an open alert is about: its rule, its asset (empty for an order), and its order.
type AlertKey = (usize, String, Option<String>);
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
    /// The scenario's stop reason codes in words (`takt_model::stop_reasons`), for messages.
    pub stop_reasons: &'a BTreeMap<String, String>,
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
    open: BTreeMap<AlertKey, Alert>,
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
                // Keyed as they were raised: a failure mode's by its mode, an order's by its id.
                let subject = a.order.clone().or_else(|| a.mode.clone());
                engine.open.insert((r, a.asset.clone(), subject), a);
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
                        let alert = self.new_alert(
                            r,
                            (key.1.clone(), key.2.clone(), None),
                            message,
                            value,
                            at_ms.unwrap_or(inputs.now_ms),
                        );
                        if let Condition::Down { longer_than_s } = self.rules[r].condition {
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
                        let due = o.due.as_deref().map(plant_time).unwrap_or_default();
                        let message = format!(
                            "order {} ({} pieces, due {due}): {} likely to be late",
                            o.id,
                            takt_model::quantity::count(u64::from(o.quantity)),
                            takt_model::quantity::percent(late)
                        );
                        let alert = self.new_alert(
                            r,
                            (String::new(), None, Some(o.id.clone())),
                            message,
                            late,
                            now_ms,
                        );
                        self.open.insert(key, alert.clone());
                        changes.push(AlertChange::Raised(alert));
                    }
                    Some(late) if late < clear_below && open => {
                        self.clear(&key, now_ms, &mut changes)
                    }
                    _ => {}
                }
            }
            // An order no longer forecast left the order book (a new live book was given without
            // it, or the scenario's orders gave way to a book): its alert has nothing left to say.
            let forecast: BTreeSet<&str> = orders.iter().map(|o| o.id.as_str()).collect();
            let gone: Vec<AlertKey> = self
                .open
                .keys()
                .filter(|(rule, _, order)| {
                    *rule == r && order.as_deref().is_some_and(|id| !forecast.contains(id))
                })
                .cloned()
                .collect();
            for key in gone {
                self.clear(&key, now_ms, &mut changes);
            }
        }
        changes
    }

    /// A new alert of rule `r` about (asset, mode, order), numbered next.
    fn new_alert(
        &mut self,
        r: usize,
        (asset, mode, order): (String, Option<String>, Option<String>),
        message: String,
        value: f64,
        raised_ms: i64,
    ) -> Alert {
        let rule = &self.rules[r];
        let alert = Alert {
            id: self.next_id,
            rule: rule.name.clone(),
            kind: rule.condition.kind().to_string(),
            severity: rule.severity,
            asset,
            mode,
            order,
            message,
            value,
            raised_ms,
            cleared_ms: None,
            acknowledged: None,
        };
        self.next_id += 1;
        alert
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
        let Condition::Down { longer_than_s } = self.rules[r].condition else {
            return;
        };
        let allowance_ms = (longer_than_s * 1000.0) as i64;
        for (asset, stop) in inputs.ended_stops {
            if !self.rules[r].assets.contains(asset) || stop.end_ms - stop.start_ms < allowance_ms {
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
                    let message = down_message(
                        asset,
                        &stop.reason,
                        inputs.stop_reasons,
                        (inputs.plant_time)(stop.start_ms),
                        longer_than_s,
                    );
                    let alert = self.new_alert(
                        r,
                        (asset.clone(), None, None),
                        message,
                        longer_than_s,
                        stop.start_ms + allowance_ms,
                    );
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
                            Verdict::Raise {
                                at_ms: Some(since + (longer_than_s * 1000.0) as i64),
                                value: *longer_than_s,
                                message: down_message(
                                    &a.asset,
                                    &a.reason,
                                    inputs.stop_reasons,
                                    (inputs.plant_time)(since),
                                    *longer_than_s,
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
                                    "{} {mode}: {} risk of failing within {}",
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

/// "Filler down (breakdown) since 2026-01-05 17:37: over 10 min"; a code with words in them:
/// "Labeller down (bottle jam at the infeed star, E1043) since …".
fn down_message(
    asset: &str,
    reason: &str,
    stop_reasons: &BTreeMap<String, String>,
    since: String,
    allowance_s: f64,
) -> String {
    let reason = match (
        reason.is_empty(),
        takt_model::stop_reasons::words(stop_reasons, reason),
    ) {
        (true, _) => String::new(),
        (false, Some(words)) => format!(" ({words}, {reason})"),
        (false, None) => format!(" ({reason})"),
    };
    format!(
        "{asset} down{reason} since {since}: over {}",
        takt_model::quantity::duration(allowance_s)
    )
}

#[cfg(test)]
mod tests;
