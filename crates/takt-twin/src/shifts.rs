//! The shifts that ended, as the twin keeps them: the shift before the running one and up to
//! [`EARLIER_SHIFTS`](crate::mirror::EARLIER_SHIFTS) before it, each machine's counts and ISO
//! 22400 KPIs complete to the shift's end. What a shift leader or a planner looks back on (how did
//! last week's shifts go), without a replay of the store. The twin's saved mirror keeps them
//! across restarts and beyond a store's retention.

use crate::Twin;
use crate::view::Kpis;
use serde::Serialize;
use std::collections::BTreeMap;

/// `GET /twin/shifts`: the ended shifts, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShiftHistory {
    pub shifts: Vec<EndedShift>,
}

/// One ended shift, and what each machine did in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndedShift {
    /// The shift's name, if the calendar names it.
    pub shift: Option<String>,
    pub start: String,
    pub end: String,
    pub start_ms: i64,
    pub end_ms: i64,
    /// The machines that had counted in it when it ended, in the line's order.
    pub machines: Vec<MachineShift>,
}

/// A machine's pieces and KPIs in one ended shift.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MachineShift {
    pub asset: String,
    pub good: u64,
    pub scrap: u64,
    pub rework: u64,
    #[serde(flatten)]
    pub kpis: Kpis,
}

impl Twin {
    /// The shifts that ended by `now_ms` (a shift that ended since the newest event counts as
    /// ended, as in [`Twin::state`]), newest first.
    pub fn shifts(&self, now_ms: i64) -> ShiftHistory {
        let mut view: Vec<_> = self.mirror.view(now_ms).into_iter().collect();
        view.sort_by_key(|(name, _)| self.line_order.get(name).copied());
        let mut by_start: BTreeMap<i64, EndedShift> = BTreeMap::new();
        for (name, st) in &view {
            for f in st.earlier_shifts.iter().chain(st.previous.as_deref()) {
                let w = &f.shift;
                let shift = by_start.entry(w.start_ms).or_insert_with(|| EndedShift {
                    shift: w.name.clone(),
                    start: self.plant_time(w.start_ms),
                    end: self.plant_time(w.end_ms),
                    start_ms: w.start_ms,
                    end_ms: w.end_ms,
                    machines: Vec::new(),
                });
                let counts = (f.good, f.scrap, f.rework);
                shift.machines.push(self.machine_figures(
                    name,
                    counts,
                    &f.pieces_by_product,
                    &f.state_ms,
                ));
            }
        }
        ShiftHistory {
            shifts: by_start.into_values().rev().collect(),
        }
    }

    /// Machine `name`'s pieces and ISO 22400 KPIs over a span (a shift, a day): its counts (good,
    /// scrap, rework), pieces per product and time per state in the span.
    pub(crate) fn machine_figures(
        &self,
        name: &str,
        (good, scrap, rework): (u64, u64, u64),
        pieces_by_product: &BTreeMap<String, u64>,
        state_ms: &[i64; 9],
    ) -> MachineShift {
        let unknown = crate::AssetInfo::default();
        let info = self.assets.get(name).unwrap_or(&unknown);
        MachineShift {
            asset: name.to_string(),
            good,
            scrap,
            rework,
            kpis: Kpis::of(info, (good, scrap, rework), pieces_by_product, state_ms),
        }
    }
}
