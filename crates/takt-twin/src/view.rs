//! The twin's wire format: what `GET /twin/state`, `GET /twin/kpis`, `takt replay --json` and
//! `takt twin state --json` show, as explicit types (not the mirror's internal state), each field
//! documented, with a schema in the API's OpenAPI document.
//!
//! Times come twice: RFC 3339 in the plant's offset (`since`, `start`) and Unix milliseconds
//! (`since_ms`, `start_ms`) for programs. Fractions are 0 to 1, durations in seconds (`_s`).
//!
//! Compatibility ([`WIRE_VERSION`]): within a version, fields are only added, never removed,
//! renamed or given another meaning; a client ignores fields it does not know. Anything else is a
//! new version, announced in the OpenAPI document's `info.version`.

use crate::AssetInfo;
use crate::event::StateCode;
use crate::mirror::AssetState;
use serde::Serialize;
use std::collections::BTreeMap;
use takt_model::quantity::performance_above_standard;

/// The version of the wire format (the OpenAPI document's `info.version`).
pub const WIRE_VERSION: &str = "1.1.0";

/// Counters since the twin started (accepted and dead letters include what the store held).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Counters {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

/// A signal's latest value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignalReading {
    pub value: f64,
    /// As the sensor sent it (may be empty).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub unit: String,
    pub ts_ms: i64,
}

/// The last maintenance action reported for an asset.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MaintenanceRecord {
    /// `inspect`, `repair`, `replace`, ... as the event said.
    pub action: String,
    pub component: String,
    pub at: String,
    pub at_ms: i64,
}

/// One asset as the API and the CLI show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssetView {
    pub asset: String,
    pub station: String,
    /// The state it reported last (`UNKNOWN` when silent too long).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "RUNNING"))]
    pub state: StateCode,
    /// Since when, RFC 3339 and Unix ms (`null` before the first state event).
    pub since: Option<String>,
    pub since_ms: Option<i64>,
    /// The reason given with the state (a failure mode, a stop reason), or empty.
    pub reason: String,
    /// Pieces in the running shift's window.
    pub good: u64,
    pub scrap: u64,
    pub rework: u64,
    pub work_order: Option<String>,
    pub operation: Option<String>,
    pub product: Option<String>,
    /// Pieces (good, scrap and rework) per product in the window; `""` for pieces of unknown
    /// product. Once an asset has seen as many other products as the scenario has plus 64,
    /// further ones count under `(other products)`.
    pub pieces_by_product: BTreeMap<String, u64>,
    /// Active alarms: code -> severity (at most 256 per asset).
    pub alarms: BTreeMap<String, String>,
    /// The latest value of each signal (at most 256 signals per asset).
    pub signals: BTreeMap<String, SignalReading>,
    pub last_maintenance: Option<MaintenanceRecord>,
    /// Its newest event, Unix ms.
    pub last_seen_ms: Option<i64>,
    /// Events applied, and of them those that arrived after a newer one.
    pub events: u64,
    pub late_events: u64,
    /// The kinds of names (`products`, `signals`, `alarms`, `stop reasons`) of which its events
    /// brought more than the twin keeps per asset, so that some are not shown by name (the events
    /// are stored whole); empty normally.
    pub names_over_bound: Vec<String>,
    /// ISO 22400 over the running shift's window, up to now.
    #[serde(flatten)]
    pub kpis: Kpis,
    /// The shift before, complete (`null` until a shift has ended).
    pub previous_shift: Option<ShiftKpis>,
}

impl AssetView {
    /// The view of mirrored state `st` of asset `asset` (its parts moved, not copied: a view is
    /// built after every ingested batch); `format` writes a Unix ms time.
    pub(crate) fn of(
        asset: String,
        info: AssetInfo,
        st: AssetState,
        kpis: Kpis,
        previous_shift: Option<ShiftKpis>,
        format: &dyn Fn(i64) -> String,
    ) -> AssetView {
        AssetView {
            asset,
            station: info.station,
            state: st.state,
            since: st.since_ms.map(format),
            since_ms: st.since_ms,
            names_over_bound: st.names_over_bound(),
            reason: st.reason,
            good: st.good,
            scrap: st.scrap,
            rework: st.rework,
            work_order: st.work_order,
            operation: st.operation,
            product: st.product,
            pieces_by_product: st.pieces_by_product,
            alarms: st.alarms,
            signals: st
                .signals
                .into_iter()
                .map(|(name, s)| {
                    (
                        name,
                        SignalReading {
                            value: s.value,
                            unit: s.unit,
                            ts_ms: s.ts_ms,
                        },
                    )
                })
                .collect(),
            last_maintenance: st.last_maintenance.map(|(action, component, ms)| {
                MaintenanceRecord {
                    action,
                    component,
                    at: format(ms),
                    at_ms: ms,
                }
            }),
            last_seen_ms: st.last_seen_ms,
            events: st.events,
            late_events: st.late_events,
            kpis,
            previous_shift,
        }
    }
}

/// ISO 22400 over a window: availability = running / (window − off − planned down),
/// performance = Σ ideal cycle × pieces (per product) / running, quality = good / pieces.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Kpis {
    /// Fractions (0 to 1); `null` where the window gives no basis (no planned time, no pieces,
    /// no ideal cycle time).
    pub availability: Option<f64>,
    /// Above 1 where the machine beat its standard cycle; then `performance_above_standard`.
    pub performance: Option<f64>,
    pub quality: Option<f64>,
    pub oee: Option<f64>,
    /// The performance reads above 100.0 %: faster than the standard cycle, so the standard
    /// (`ideal_cycle_time`) is too slow or was beaten by chance. Shown flagged, never silently.
    pub performance_above_standard: bool,
    /// Seconds in each state (`RUNNING`, `UNPLANNED_DOWN`, ...) inside the window.
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, f64>))]
    pub state_s: BTreeMap<&'static str, f64>,
}

impl Kpis {
    /// From the window's piece counts and milliseconds per state (by `StateCode::index`).
    pub(crate) fn of(
        info: &AssetInfo,
        (good, scrap, rework): (u64, u64, u64),
        pieces_by_product: &BTreeMap<String, u64>,
        state_ms: &[i64; 9],
    ) -> Kpis {
        let secs = |s: StateCode| state_ms[s.index()] as f64 / 1000.0;
        let window_s = state_ms.iter().sum::<i64>() as f64 / 1000.0;
        let pbt = window_s - secs(StateCode::Off) - secs(StateCode::PlannedDown);
        let running = secs(StateCode::Running);
        let pieces = (good + scrap + rework) as f64;
        let ratio = |a: f64, b: f64| (b > 0.0).then(|| a / b);
        let availability = ratio(running, pbt);
        let performance = info
            .ideal_s(pieces_by_product)
            .and_then(|i| ratio(i, running));
        let quality = ratio(good as f64, pieces);
        let oee = match (availability, performance, quality) {
            (Some(a), Some(p), Some(q)) => Some(a * p * q),
            _ => None,
        };
        Kpis {
            availability,
            performance,
            quality,
            oee,
            performance_above_standard: performance.is_some_and(performance_above_standard),
            state_s: StateCode::ALL
                .iter()
                .filter(|s| state_ms[s.index()] > 0)
                .map(|s| (s.name(), secs(*s)))
                .collect(),
        }
    }
}

/// A shift that ended, with its figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShiftKpis {
    /// The shift's name, if the calendar names it.
    pub shift: Option<String>,
    pub start: String,
    pub end: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub good: u64,
    pub scrap: u64,
    pub rework: u64,
    #[serde(flatten)]
    pub kpis: Kpis,
}

/// The mirrored plant at a moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TwinState {
    /// The moment shown: the newest event (or the scenario's start before any).
    pub now: String,
    pub now_ms: i64,
    /// The shift the KPIs count in: its name (if the calendar gives one), start and end.
    pub shift: Option<String>,
    pub window_start: String,
    pub window_end: String,
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    /// When the next shift starts (the window's end when shifts follow each other): between
    /// shifts, `now` is past `window_end` and before this.
    pub next_shift_start: String,
    pub next_shift_start_ms: i64,
    /// In the line's order (the scenario's stations, then machines), not by name.
    pub assets: Vec<AssetView>,
    pub counters: Counters,
}

/// Which window KPIs cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KpiWindow {
    /// The running shift, from its start to now.
    Shift,
    /// The shift before it, complete.
    Previous,
}

impl std::str::FromStr for KpiWindow {
    type Err = KpiWindowError;
    fn from_str(text: &str) -> Result<KpiWindow, KpiWindowError> {
        parse_kpiwindow(text).map_err(KpiWindowError)
    }
}

fn parse_kpiwindow(text: &str) -> Result<KpiWindow, String> {
    match text {
        "shift" => Ok(KpiWindow::Shift),
        "previous" => Ok(KpiWindow::Previous),
        other => Err(format!(
            "window `{other}` is not known: use `shift` or `previous`"
        )),
    }
}

/// A KPI window that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KpiWindowError(pub String);

/// One asset's ISO 22400 figures over a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssetKpis {
    pub asset: String,
    pub station: String,
    /// The asset's window when it is not the report's (an asset silent through a whole shift
    /// keeps, as its previous one, the last shift it counted in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_start: Option<String>,
    /// Fractions, 0 to 1 (performance above 1: see `performance_above_standard`).
    pub availability: Option<f64>,
    pub performance: Option<f64>,
    pub quality: Option<f64>,
    pub oee: Option<f64>,
    /// Faster than the standard cycle: check the standard (`ideal_cycle_time`).
    pub performance_above_standard: bool,
    pub good: u64,
    pub scrap: u64,
}

impl AssetKpis {
    fn of(
        a: &AssetView,
        kpis: &Kpis,
        (good, scrap): (u64, u64),
        window_start: Option<String>,
    ) -> Self {
        AssetKpis {
            asset: a.asset.clone(),
            station: a.station.clone(),
            window_start,
            availability: kpis.availability,
            performance: kpis.performance,
            quality: kpis.quality,
            oee: kpis.oee,
            performance_above_standard: kpis.performance_above_standard,
            good,
            scrap,
        }
    }
}

/// ISO 22400 KPIs per asset over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KpiReport {
    /// `shift` or `previous`.
    pub window: String,
    /// The shift's name, if the calendar names it; `null` with `window_start` for a previous
    /// shift no asset has yet.
    pub shift: Option<String>,
    pub window_start: Option<String>,
    pub window_end: Option<String>,
    pub now: String,
    pub assets: Vec<AssetKpis>,
}

impl TwinState {
    /// The KPIs of `window`. For the shift before, the latest previous shift of any asset names
    /// the window; an asset whose previous shift is another (silent since) says so.
    pub fn kpis(&self, window: KpiWindow) -> KpiReport {
        match window {
            KpiWindow::Shift => KpiReport {
                window: "shift".into(),
                shift: self.shift.clone(),
                window_start: Some(self.window_start.clone()),
                window_end: Some(self.window_end.clone()),
                now: self.now.clone(),
                assets: self
                    .assets
                    .iter()
                    .map(|a| AssetKpis::of(a, &a.kpis, (a.good, a.scrap), None))
                    .collect(),
            },
            KpiWindow::Previous => {
                let latest = self
                    .assets
                    .iter()
                    .filter_map(|a| a.previous_shift.as_ref())
                    .max_by_key(|p| p.start_ms);
                KpiReport {
                    window: "previous".into(),
                    shift: latest.and_then(|p| p.shift.clone()),
                    window_start: latest.map(|p| p.start.clone()),
                    window_end: latest.map(|p| p.end.clone()),
                    now: self.now.clone(),
                    assets: self
                        .assets
                        .iter()
                        .filter_map(|a| {
                            let p = a.previous_shift.as_ref()?;
                            let own_window = latest
                                .filter(|l| l.start_ms != p.start_ms)
                                .map(|_| p.start.clone());
                            Some(AssetKpis::of(a, &p.kpis, (p.good, p.scrap), own_window))
                        })
                        .collect(),
                }
            }
        }
    }
}
