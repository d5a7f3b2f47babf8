//! Plant logs kept as tables into takt events.
//!
//! - The Azure predictive-maintenance data set (`PdM_telemetry.csv`, `PdM_errors.csv`,
//!   `PdM_failures.csv`, `PdM_maint.csv`): telemetry -> `sample` (volt V, rotate rev/min, pressure
//!   kPa, vibration mm/s), errors -> `alarm` raised and cleared at the same instant (they are point
//!   events), failures -> `maintenance` replace with reason `failure`, maintenance -> `maintenance`
//!   replace with reason `scheduled`. Assets are `machine<ID>`.
//! - A job-shop MES log with one row per reported operation interval (the 4TU "Production Analysis
//!   with Process Mining Technology" columns: Case ID, Activity, Resource, Start Timestamp, Complete
//!   Timestamp, Work Order Qty, Part Desc., Qty Completed, Qty Rejected, Qty for MRB): per row an
//!   `operation` start and a RUNNING state at the start, then at completion a `count` (good =
//!   completed, scrap = rejected + MRB), an `operation` complete and an IDLE state. Assets are the
//!   resources.
//!
//! Both logs carry local times without an offset: the caller gives the plant's UTC offset. Rows that
//! cannot be read are counted with their line and reason, never silently dropped.

use crate::event::{
    AlarmAction, AlarmBody, Body, CountBody, CountMode, Event, MaintenanceBody, OperationAction,
    OperationBody, SampleBody, Signal, StateBody, StateCode,
};
use std::collections::BTreeMap;

/// A row that could not be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub table: String,
    pub line: usize,
    pub reason: String,
}

/// Events in time order (stable), numbered from 1.
fn finish(mut timed: Vec<(i64, String, Body)>) -> Vec<Event> {
    timed.sort_by_key(|t| t.0);
    timed
        .into_iter()
        .enumerate()
        .map(|(i, (ms, asset, body))| Event {
            ts: takt_model::time::format_utc_ms(ms),
            asset,
            seq: i as u64 + 1,
            body,
            t_s: None,
        })
        .collect()
}

fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes())
}

/// Column indexes by header name (case-insensitive, spaces collapsed).
fn columns(r: &mut csv::Reader<&[u8]>) -> BTreeMap<String, usize> {
    r.headers()
        .map(|h| {
            h.iter()
                .enumerate()
                .map(|(i, name)| {
                    let key = name
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .to_lowercase();
                    (key, i)
                })
                .collect()
        })
        .unwrap_or_default()
}

impl From<takt_sources::RowError> for BadRow {
    fn from(e: takt_sources::RowError) -> BadRow {
        BadRow {
            table: e.table.into(),
            line: e.line,
            reason: e.reason,
        }
    }
}

/// The Azure PdM tables (any of them may be empty text), read by [`takt_sources::azure_pdm`].
pub fn azure(
    telemetry: &str,
    errors: &str,
    failures: &str,
    maintenance: &str,
    utc_offset_min: i32,
) -> (Vec<Event>, Vec<BadRow>) {
    use takt_sources::azure_pdm::{self, Table};
    let offset_ms = i64::from(utc_offset_min) * 60_000;
    let asset = |machine: u32| format!("machine{machine}");
    let mut timed = Vec::new();
    let (rows, errors_read) = azure_pdm::telemetry(telemetry);
    let mut bad: Vec<BadRow> = errors_read.into_iter().map(BadRow::from).collect();
    for row in rows {
        let signals: BTreeMap<String, Signal> = [
            ("volt", row.volt, "V"),
            ("rotate", row.rotate_rev_per_min, "rev/min"),
            ("pressure", row.pressure_kpa, "kPa"),
            ("vibration", row.vibration_mm_per_s, "mm/s"),
        ]
        .into_iter()
        .filter_map(|(name, value, unit)| {
            let signal = Signal {
                value: value?,
                unit: unit.into(),
            };
            Some((name.to_string(), signal))
        })
        .collect();
        if signals.is_empty() {
            bad.push(BadRow {
                table: Table::Telemetry.name().into(),
                line: row.line,
                reason: "no readable signal".into(),
            });
            continue;
        }
        let body = Body::Sample(SampleBody { signals });
        timed.push((row.local_ms - offset_ms, asset(row.machine), body));
    }
    for (table, text) in [
        (Table::Errors, errors),
        (Table::Failures, failures),
        (Table::Maintenance, maintenance),
    ] {
        let (rows, errors_read) = azure_pdm::stamped(table, text);
        bad.extend(errors_read.into_iter().map(BadRow::from));
        for row in rows {
            let ms = row.local_ms - offset_ms;
            match table {
                Table::Errors => {
                    for action in [AlarmAction::Raised, AlarmAction::Cleared] {
                        let body = Body::Alarm(AlarmBody {
                            code: row.what.clone(),
                            severity: "error".into(),
                            action,
                            text: String::new(),
                        });
                        timed.push((ms, asset(row.machine), body));
                    }
                }
                _ => {
                    let reason = if table == Table::Failures {
                        "failure"
                    } else {
                        "scheduled"
                    };
                    let body = Body::Maintenance(MaintenanceBody {
                        action: "replace".into(),
                        component: row.what,
                        reason: reason.into(),
                    });
                    timed.push((ms, asset(row.machine), body));
                }
            }
        }
    }
    (finish(timed), bad)
}

/// A job-shop MES log (see the module documentation for the columns).
pub fn jobshop(log: &str, utc_offset_min: i32) -> (Vec<Event>, Vec<BadRow>) {
    let mut timed = Vec::new();
    let mut bad = Vec::new();
    let mut r = reader(log);
    let cols = columns(&mut r);
    for (i, rec) in r.records().enumerate() {
        let line = i + 2;
        let mut fail = |reason: String| {
            bad.push(BadRow {
                table: "log".into(),
                line,
                reason,
            })
        };
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                fail(e.to_string());
                continue;
            }
        };
        let get = |name: &str| cols.get(name).and_then(|&c| rec.get(c)).unwrap_or("");
        let (Some(start), Some(end)) = (
            takt_model::time::parse_local_ms(get("start timestamp"), utc_offset_min),
            takt_model::time::parse_local_ms(get("complete timestamp"), utc_offset_min),
        ) else {
            fail("Start/Complete Timestamp: not a time".into());
            continue;
        };
        if end < start {
            fail("completes before it starts".into());
            continue;
        }
        let asset = get("resource").to_string();
        if asset.is_empty() {
            fail("Resource: missing".into());
            continue;
        }
        let number = |name: &str| get(name).parse::<u64>().unwrap_or(0);
        let work_order = get("case id").to_string();
        let operation = get("activity").to_string();
        let product = get("part desc.").to_string();
        let (good, scrap) = (
            number("qty completed"),
            number("qty rejected") + number("qty for mrb"),
        );
        let state = |s: StateCode, reason: &str| {
            Body::State(StateBody {
                state: s,
                reason: reason.into(),
            })
        };
        timed.push((
            start,
            asset.clone(),
            Body::Operation(OperationBody {
                work_order: work_order.clone(),
                operation: operation.clone(),
                action: OperationAction::Start,
                product: product.clone(),
                quantity: get("work order qty").parse().ok(),
                good: None,
                scrap: None,
            }),
        ));
        timed.push((start, asset.clone(), state(StateCode::Running, "operation")));
        if good + scrap > 0 {
            timed.push((
                end,
                asset.clone(),
                Body::Count(CountBody {
                    mode: CountMode::Delta,
                    good,
                    scrap,
                    rework: 0,
                    product: product.clone(),
                }),
            ));
        }
        timed.push((
            end,
            asset.clone(),
            Body::Operation(OperationBody {
                work_order,
                operation,
                action: OperationAction::Complete,
                product,
                quantity: None,
                good: Some(good),
                scrap: Some(scrap),
            }),
        ));
        timed.push((end, asset, state(StateCode::Idle, "reported")));
    }
    (finish(timed), bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn azure_tables_become_samples_alarms_and_maintenance() {
        let telemetry = "datetime,machineID,volt,rotate,pressure,vibration\n2015-01-01 06:00:00,1,176.2,418.5,113.1,45.1\n2015-01-01 07:00:00,1,x,,,\n";
        let errors = "\"datetime\",\"machineID\",\"errorID\"\n2015-01-01 06:30:00,1,\"error1\"\n";
        let failures = "\"datetime\",\"machineID\",\"failure\"\n2015-01-01 08:00:00,1,\"comp4\"\n";
        let maint = "\"datetime\",\"machineID\",\"comp\"\n2014-06-01 06:00:00,1,\"comp2\"\nnot a date,1,\"comp1\"\n";
        let (events, bad) = azure(telemetry, errors, failures, maint, 0);
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert_eq!(bad[0].line, 3);
        let kinds: Vec<&str> = events.iter().map(|e| e.body.kind()).collect();
        assert_eq!(
            kinds,
            ["maintenance", "sample", "alarm", "alarm", "maintenance"]
        );
        assert!(events.iter().all(|e| e.asset == "machine1"));
        assert_eq!(events[1].ts, "2015-01-01T06:00:00.000Z");
        for e in events {
            crate::event::check(e).expect("valid");
        }
    }

    #[test]
    fn a_job_shop_log_becomes_operations_states_and_counts() {
        let log = "Case ID,Activity,Resource,Start Timestamp,Complete Timestamp,Span,Work Order  Qty,Part Desc.,Worker ID,Report Type,Qty Completed,Qty Rejected,Qty for MRB,Rework\n\
Case 7,Turning - Machine 2,Machine 2 - Turning,2012/01/02 08:00:00.000,2012/01/02 09:30:00.000,001:30,40,Shaft,ID1,S,38,1,1,\n\
Case 7,Milling - Machine 5,Machine 5 - Milling,2012/01/02 10:00:00.000,2012/01/02 09:00:00.000,000:00,40,Shaft,ID1,S,38,0,0,\n";
        let (events, bad) = jobshop(log, 60);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].line, 3);
        assert_eq!(events.len(), 5);
        // 08:00 local at +01:00 is 07:00 UTC.
        assert_eq!(events[0].ts, "2012-01-02T07:00:00.000Z");
        match &events[2].body {
            Body::Count(c) => assert_eq!((c.good, c.scrap), (38, 2)),
            other => panic!("{other:?}"),
        }
        match &events[0].body {
            Body::Operation(o) => assert_eq!(o.quantity, Some(40)),
            other => panic!("{other:?}"),
        }
    }
}
