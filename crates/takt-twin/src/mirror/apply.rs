//! An event applied to its asset's state.

use super::names::{self, KnownNames, MAX_ALARMS, MAX_SIGNALS, Refused};
use super::{AssetState, Renewal, SignalValue, up_ms};
use crate::event::{
    AlarmAction, AlarmBody, Body, Checked, CountBody, CountMode, MaintenanceBody, OperationAction,
    OperationBody, SampleBody, StateBody, StateCode,
};
use takt_model::ShiftClock;

/// Applies an event to its asset's state.
pub(super) fn apply(a: &mut AssetState, known: &KnownNames, clock: &ShiftClock, c: Checked) {
    let ts = c.ts_ms;
    let late = ts < a.applied_ms;
    a.roll_to_event(clock, ts);
    a.events += 1;
    a.late_events += u64::from(late);
    a.first_seen_ms = Some(a.first_seen_ms.map_or(ts, |f| f.min(ts)));
    a.last_seen_ms = Some(a.last_seen_ms.map_or(ts, |s| s.max(ts)));
    a.applied_ms = a.applied_ms.max(ts);
    match c.event.body {
        Body::State(StateBody { state, reason }) => {
            if a.since_ms.is_none_or(|s| ts >= s) {
                a.book_until(ts);
                let renewal = |a: &AssetState| {
                    let life = a.life_ms;
                    Renewal {
                        at_ms: ts,
                        up_ms: up_ms(&life),
                        running_ms: life[StateCode::Running.index()],
                        cycles: a.cycles(),
                    }
                };
                if a.state == StateCode::UnplannedDown
                    && state != StateCode::UnplannedDown
                    && known.keeps_renewal(&a.renewals, &a.reason, &mut a.refused)
                {
                    let r = renewal(a);
                    a.renewals.insert(std::mem::take(&mut a.reason), r);
                }
                if a.state == StateCode::PlannedDown && state != StateCode::PlannedDown {
                    a.maintained = Some(renewal(a));
                }
                match state {
                    StateCode::Running | StateCode::Setup => {
                        if a.activity != Some(state) {
                            // A new part (or its setup): its work starts now, its product is
                            // known once counted or told by its work order.
                            a.activity_ms = 0;
                            a.activity_clock_ms = ts;
                            if a.activity != Some(StateCode::Setup) {
                                a.part_product = None;
                            }
                        }
                        a.activity = Some(state);
                    }
                    StateCode::Blocked => a.activity = Some(state),
                    StateCode::Starved | StateCode::Idle => {
                        a.activity = Some(StateCode::Starved);
                        a.part_product = None;
                    }
                    _ => {}
                }
                a.state = state;
                a.since_ms = Some(ts);
                a.reason = reason;
            }
        }
        Body::Count(CountBody {
            mode,
            good,
            scrap,
            rework,
            product,
        }) => {
            let (g, s, r) = match mode {
                CountMode::Delta => (good, scrap, rework),
                CountMode::Total => {
                    // A counter that goes down was reset: count from zero again.
                    let step =
                        |now: u64, before: u64| if now >= before { now - before } else { now };
                    let d = match a.last_total {
                        Some((g0, s0, r0)) if !late => {
                            (step(good, g0), step(scrap, s0), step(rework, r0))
                        }
                        Some(_) => (0, 0, 0),
                        None => (0, 0, 0),
                    };
                    if !late {
                        a.last_total = Some((good, scrap, rework));
                    }
                    d
                }
            };
            // The piece's product: the count's own, else the part's or the work order's. Maps are
            // looked up by reference first: this runs once per counted cycle.
            let key: String = if product.is_empty() {
                a.part_product
                    .as_deref()
                    .or(a.product.as_deref())
                    .unwrap_or_default()
                    .to_string()
            } else {
                product.clone()
            };
            match a.lifetime_by_product.get_mut(&key) {
                Some(life) => {
                    life[0] = life[0].saturating_add(g);
                    life[1] = life[1].saturating_add(s);
                    life[2] = life[2].saturating_add(r);
                }
                None => {
                    let kept = known.product_key(&a.lifetime_by_product, &key, &mut a.refused);
                    let life = a.lifetime_by_product.entry(kept).or_default();
                    life[0] = life[0].saturating_add(g);
                    life[1] = life[1].saturating_add(s);
                    life[2] = life[2].saturating_add(r);
                }
            }
            if g > 0 || s > 0 {
                match a.last_out_ms_by_product.get_mut(&key) {
                    Some(last) => *last = (*last).max(ts),
                    None => {
                        let kept =
                            known.product_key(&a.last_out_ms_by_product, &key, &mut a.refused);
                        let last = a.last_out_ms_by_product.entry(kept).or_insert(ts);
                        *last = (*last).max(ts);
                    }
                }
            }
            if !late && (g > 0 || s > 0 || r > 0) {
                // A cycle ended: the next part's work starts now.
                a.activity_ms = 0;
                a.activity_clock_ms = ts;
                let known = (!key.is_empty()).then_some(key);
                if a.last_product != known {
                    a.last_product.clone_from(&known);
                }
                a.part_product = known;
            }
            if a.shift.as_ref().is_some_and(|w| w.contains(ts)) {
                a.good = a.good.saturating_add(g);
                a.scrap = a.scrap.saturating_add(s);
                a.rework = a.rework.saturating_add(r);
                // Pieces by product: the count's own, else the running work order's product.
                let product = if product.is_empty() {
                    a.product.clone().unwrap_or_default()
                } else {
                    product
                };
                let add = |pieces: &mut u64| {
                    *pieces = pieces.saturating_add(g).saturating_add(s).saturating_add(r);
                };
                let product = match a.pieces_by_product.get_mut(&product) {
                    Some(pieces) => {
                        add(pieces);
                        product
                    }
                    None => {
                        let key = known.product_key(&a.pieces_by_product, &product, &mut a.refused);
                        add(a.pieces_by_product.entry(key.clone()).or_insert(0));
                        key
                    }
                };
                // The same keys as the pieces'.
                let good = a.good_by_product.entry(product).or_insert(0);
                *good = good.saturating_add(g);
            }
        }
        Body::Sample(SampleBody { signals }) => {
            for (name, s) in signals {
                let newer = a.signals.get(&name).is_none_or(|old| ts >= old.ts_ms);
                if newer
                    && names::keeps(
                        &a.signals,
                        &name,
                        MAX_SIGNALS,
                        &mut a.refused,
                        Refused::SIGNAL,
                    )
                {
                    a.signals.insert(
                        name,
                        SignalValue {
                            value: s.value,
                            unit: s.unit,
                            ts_ms: ts,
                        },
                    );
                }
            }
        }
        Body::Alarm(AlarmBody {
            code,
            severity,
            action,
            ..
        }) => match action {
            AlarmAction::Raised => {
                if names::keeps(&a.alarms, &code, MAX_ALARMS, &mut a.refused, Refused::ALARM) {
                    a.alarms.insert(code, severity);
                }
            }
            AlarmAction::Cleared => {
                a.alarms.remove(&code);
            }
        },
        Body::Maintenance(MaintenanceBody {
            action, component, ..
        }) => {
            if a.last_maintenance.as_ref().is_none_or(|m| ts >= m.2) {
                a.last_maintenance = Some((action, component, ts));
            }
        }
        Body::Operation(OperationBody {
            work_order,
            operation,
            action,
            product,
            ..
        }) => match action {
            OperationAction::Start if !late => {
                a.work_order = Some(work_order);
                a.operation = (!operation.is_empty()).then_some(operation);
                a.product = (!product.is_empty()).then_some(product);
            }
            OperationAction::Complete if a.work_order.as_deref() == Some(work_order.as_str()) => {
                a.work_order = None;
                a.operation = None;
            }
            _ => {}
        },
    }
}
