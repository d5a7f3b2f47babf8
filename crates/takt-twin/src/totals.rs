//! A day's or a week's figures: each machine's pieces and ISO 22400 KPIs over the shifts that
//! started in the plant's day (or week, Monday to Sunday) of the running shift, the running one so
//! far included. The ratios are taken over the summed times and pieces (availability = running
//! time over planned busy time of all the shifts, and so on), not averaged over shifts. A shift
//! belongs to the day it starts on: a night shift from 22:00 to 06:00 is the day's it began.
//!
//! An earlier day or week is asked for by a plant date in it ([`PlantDate`], "2026-01-05"): the
//! day before the running shift's is "yesterday" on the board.
//!
//! Made from what the twin keeps per shift (the running shift, the one before and
//! [`EARLIER_SHIFTS`](crate::mirror::EARLIER_SHIFTS) before it: three weeks of three shifts a
//! working day), so a week is whole while fewer than 45 shifts ended in it; a period that
//! begins before the oldest shift kept says so (`notes`).

use crate::Twin;
use crate::mirror::ShiftFigures;
use crate::shifts::MachineShift;
use serde::Serialize;
use std::collections::BTreeMap;

const DAY_MS: i64 = 86_400_000;

/// The period of [`Twin::totals`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("period `{0}` is not known: use `day` or `week`")]
pub struct PeriodError(pub String);

impl std::str::FromStr for Period {
    type Err = PeriodError;
    fn from_str(text: &str) -> Result<Period, PeriodError> {
        match text {
            "day" => Ok(Period::Day),
            "week" => Ok(Period::Week),
            other => Err(PeriodError(crate::orders::clip(other))),
        }
    }
}

/// A day of the plant's calendar, ISO 8601 ("2026-01-05"): the days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PlantDate(i64);

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("date `{0}` is not a day of the calendar written YYYY-MM-DD")]
pub struct DateError(pub String);

impl std::str::FromStr for PlantDate {
    type Err = DateError;
    fn from_str(text: &str) -> Result<PlantDate, DateError> {
        let wrong = || DateError(crate::orders::clip(text));
        let digits = |r: std::ops::Range<usize>| {
            text.get(r)
                .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(wrong)
        };
        if text.len() != 10 || text.as_bytes()[4] != b'-' || text.as_bytes()[7] != b'-' {
            return Err(wrong());
        }
        let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        // The time parser checks the day against its month (no 2026-02-30).
        let midnight =
            takt_model::time::parse_rfc3339_ms(&format!("{year}-{month}-{day}T00:00:00Z"))
                .map_err(|_| wrong())?;
        Ok(PlantDate(midnight.div_euclid(DAY_MS)))
    }
}

impl Period {
    fn name(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
        }
    }

    /// The period holding `t_ms` in a plant `offset_min` minutes ahead of UTC: its first and its
    /// last millisecond + 1 (the plant's midnight, and for a week Monday's).
    fn around(self, t_ms: i64, offset_min: i32) -> (i64, i64) {
        let offset_ms = i64::from(offset_min) * 60_000;
        let day = (t_ms + offset_ms).div_euclid(DAY_MS);
        let first_day = match self {
            Period::Day => day,
            // 1970-01-01 was a Thursday: Monday is 3 days before day 0's week day.
            Period::Week => day - (day + 3).rem_euclid(7),
        };
        let days = match self {
            Period::Day => 1,
            Period::Week => 7,
        };
        let start = first_day * DAY_MS - offset_ms;
        (start, start + days * DAY_MS)
    }
}

/// `GET /twin/totals`: a day's or a week's figures per machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeriodTotals {
    /// `day` or `week`.
    pub period: String,
    /// The plant's midnight (a week: Monday's) the period starts at, and its end.
    pub start: String,
    pub end: String,
    pub start_ms: i64,
    pub end_ms: i64,
    /// The plant date of the period before (its `date`): the day before, or the week before's
    /// Monday ("yesterday" on the board).
    pub before_date: String,
    /// The twin's moment (its newest event).
    pub now: String,
    /// The shifts counted, oldest first; the running one counts so far.
    pub shifts: Vec<CountedShift>,
    /// Each machine that counted in them, in the line's order.
    pub machines: Vec<MachineShift>,
    /// What the figures leave out: shifts older than the twin keeps, a period still to come.
    pub notes: Vec<String>,
}

/// A shift counted in a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CountedShift {
    pub shift: Option<String>,
    pub start: String,
    pub end: String,
    pub start_ms: i64,
    pub end_ms: i64,
    /// Running at the twin's moment: counted up to it.
    pub running: bool,
}

/// What a machine did over some shifts: pieces, pieces per product, and time per state.
#[derive(Default)]
struct Sum {
    good: u64,
    scrap: u64,
    rework: u64,
    pieces_by_product: BTreeMap<String, u64>,
    state_ms: [i64; 9],
}

impl Sum {
    fn add(
        &mut self,
        (good, scrap, rework): (u64, u64, u64),
        pieces: &BTreeMap<String, u64>,
        state_ms: &[i64; 9],
    ) {
        self.good += good;
        self.scrap += scrap;
        self.rework += rework;
        for (product, n) in pieces {
            *self.pieces_by_product.entry(product.clone()).or_default() += n;
        }
        for (total, ms) in self.state_ms.iter_mut().zip(state_ms) {
            *total += ms;
        }
    }
}

impl Twin {
    /// The figures of the `period` (the plant's day or week) of the shift running at `now_ms`,
    /// or of the one holding the plant date `on` (see the module docs).
    pub fn totals(&self, now_ms: i64, period: Period, on: Option<PlantDate>) -> PeriodTotals {
        let view = self.mirror.view(now_ms);
        let running = crate::mirror::shift_of(&view, self.mirror.shift_clock(), now_ms);
        let offset_ms = i64::from(self.utc_offset_min) * 60_000;
        let at = on.map_or(running.start_ms, |d| d.0 * DAY_MS - offset_ms);
        let (start_ms, end_ms) = period.around(at, self.utc_offset_min);
        let within = |t: i64| (start_ms..end_ms).contains(&t);
        let mut shifts: BTreeMap<i64, CountedShift> = BTreeMap::new();
        let mut counted = |w: &takt_model::shift::ShiftWindow| {
            shifts.entry(w.start_ms).or_insert_with(|| CountedShift {
                shift: w.name.clone(),
                start: self.plant_time(w.start_ms),
                end: self.plant_time(w.end_ms),
                start_ms: w.start_ms,
                end_ms: w.end_ms,
                running: w.start_ms <= now_ms && now_ms < w.end_ms,
            });
        };
        let mut machines: Vec<(&String, Sum)> = Vec::new();
        // The oldest shift kept of a machine that keeps as many as it can: older ones are gone.
        let mut kept_from: Option<i64> = None;
        for (name, st) in &view {
            if st.earlier_shifts.len() == crate::mirror::EARLIER_SHIFTS
                && let Some(oldest) = st.earlier_shifts.front()
            {
                kept_from = Some(
                    kept_from.map_or(oldest.shift.start_ms, |k: i64| k.max(oldest.shift.start_ms)),
                );
            }
            let mut sum = Sum::default();
            let mut any = false;
            let ended: Vec<&ShiftFigures> = st
                .earlier_shifts
                .iter()
                .chain(st.previous.as_deref())
                .collect();
            for f in ended.into_iter().filter(|f| within(f.shift.start_ms)) {
                counted(&f.shift);
                sum.add(
                    (f.good, f.scrap, f.rework),
                    &f.pieces_by_product,
                    &f.state_ms,
                );
                any = true;
            }
            if let Some(w) = st.shift.as_ref().filter(|w| within(w.start_ms)) {
                counted(w);
                let counts = (st.good, st.scrap, st.rework);
                sum.add(
                    counts,
                    &st.pieces_by_product,
                    &st.state_durations_ms(now_ms),
                );
                any = true;
            }
            if any {
                machines.push((name, sum));
            }
        }
        machines.sort_by_key(|(name, _)| self.line_order.get(*name).copied());
        let mut notes = Vec::new();
        if let Some(kept) = kept_from.filter(|k| start_ms < *k) {
            // As people read it: "2026-01-07 06:00" (plant time).
            let minute = crate::report::plant_time(&self.plant_time(kept));
            notes.push(format!(
                "the twin keeps the last {} shifts, from {minute} (plant time): the {} counts only those",
                crate::mirror::EARLIER_SHIFTS + 2,
                period.name()
            ));
        }
        if start_ms > now_ms {
            notes.push(format!(
                "the {} begins after the twin's newest event: nothing to count yet",
                period.name()
            ));
        }
        PeriodTotals {
            period: period.name().into(),
            start: self.plant_time(start_ms),
            end: self.plant_time(end_ms),
            start_ms,
            end_ms,
            before_date: self
                .plant_time(start_ms - (end_ms - start_ms))
                .chars()
                .take(10)
                .collect(),
            now: self.plant_time(now_ms),
            shifts: shifts.into_values().collect(),
            notes,
            machines: machines
                .into_iter()
                .map(|(name, s)| {
                    let counts = (s.good, s.scrap, s.rework);
                    self.machine_figures(name, counts, &s.pieces_by_product, &s.state_ms)
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_starts_at_the_plants_midnight_and_a_week_on_monday() {
        let ms = |t: &str| takt_model::time::parse_rfc3339_ms(t).expect("a time");
        // Wednesday 2026-01-07 02:00 in a plant at +01:00 (01:00 UTC).
        let t = ms("2026-01-07T02:00:00+01:00");
        assert_eq!(
            Period::Day.around(t, 60),
            (
                ms("2026-01-07T00:00:00+01:00"),
                ms("2026-01-08T00:00:00+01:00")
            )
        );
        assert_eq!(
            Period::Week.around(t, 60),
            (
                ms("2026-01-05T00:00:00+01:00"),
                ms("2026-01-12T00:00:00+01:00")
            )
        );
        // A Monday and a Sunday are their week's first and last day; UTC and west of it too.
        let monday = ms("2026-01-05T00:00:00-05:00");
        assert_eq!(Period::Week.around(monday, -300).0, monday);
        let sunday = ms("2026-01-11T23:59:59Z");
        assert_eq!(
            Period::Week.around(sunday, 0),
            (ms("2026-01-05T00:00:00Z"), ms("2026-01-12T00:00:00Z"))
        );
        assert_eq!(
            "month".parse::<Period>().err().map(|e| e.0),
            Some("month".into())
        );
        // A plant date is its day; a date that is none is refused.
        let day: PlantDate = "2026-01-07".parse().expect("a date");
        assert_eq!(
            Period::Day.around(day.0 * DAY_MS - 3_600_000, 60).0,
            ms("2026-01-07T00:00:00+01:00")
        );
        for wrong in [
            "2026-02-30",
            "2026-1-07",
            "07.01.2026",
            "2026-01-07T00:00",
            "yesterday",
        ] {
            assert!(wrong.parse::<PlantDate>().is_err(), "{wrong}");
        }
    }
}
