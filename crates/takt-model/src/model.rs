//! The compiled plant model: validated, index-based, ready for the engine. Names are kept for reports;
//! every cross-reference is an index into the owning vector, so the engine never looks names up.

use crate::distribution::Sampler;
use crate::scenario::{DispatchRule, FailureBasis};

pub const WEEK_S: f64 = 604_800.0;

#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    pub horizon_s: f64,
    pub warmup_s: f64,
    pub seed: u64,
    pub replications: u32,
    pub timebase: Timebase,
    pub products: Vec<Product>,
    pub stations: Vec<Station>,
    pub buffers: Vec<Buffer>,
    pub crews: Vec<Crew>,
    pub calendar: Option<Calendar>,
    /// The calendar's shifts, one per day they run on (empty without a calendar): what the live
    /// twin's shift clock (`Model::shift_clock`) follows. Kept apart from `calendar`, which merges
    /// them into production time (and is `None` for a plant that never stops).
    pub shifts: Vec<WeeklyShift>,
    pub arrivals: Option<Arrivals>,
    pub orders: Vec<Order>,
    /// The scenario's stop reason codes in words (`crate::stop_reasons`).
    pub stop_reasons: std::collections::BTreeMap<String, String>,
}

impl Model {
    /// A stop reason code in words: the scenario's, else takt's own (`no_input`, ...); none for a
    /// code nobody gave words.
    pub fn stop_reason_words(&self, code: &str) -> Option<&str> {
        crate::stop_reasons::words(&self.stop_reasons, code)
    }
}

/// Where t = 0 sits in real time: for trace timestamps and the weekly shift calendar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timebase {
    /// Unix time of t = 0, seconds.
    pub start_unix_s: i64,
    /// The plant's UTC offset, minutes.
    pub utc_offset_min: i32,
    /// Seconds from local Monday 00:00 to t = 0.
    pub week_phase_s: f64,
}

impl Default for Timebase {
    fn default() -> Self {
        // Monday 2026-01-05T00:00:00Z.
        Timebase {
            start_unix_s: 1_767_571_200,
            utc_offset_min: 0,
            week_phase_s: 0.0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Product {
    pub name: String,
    pub routing: Vec<Operation>,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub name: String,
    /// Eligible stations (one, or a group of alternatives), as indices into `Model::stations`.
    pub stations: Vec<usize>,
    pub process_time: Sampler,
    pub process_mean_s: f64,
    pub scrap_probability: f64,
    pub rework_probability: f64,
}

#[derive(Debug, Clone)]
pub struct Station {
    pub name: String,
    pub machines: u32,
    pub input_buffer: usize,
    pub dispatch: DispatchRule,
    /// Ideal cycle time per product index; `None` for products that never visit the station.
    pub ideal_cycle_s: Vec<Option<f64>>,
    pub power_kw: PowerKw,
    pub changeover: Option<Changeover>,
    pub failure_modes: Vec<FailureMode>,
    pub maintenance: Option<Maintenance>,
    pub follows_calendar: bool,
}

impl Station {
    /// The name of machine `k` (0-based): the station's name for a single machine, `station.k+1`
    /// for parallel machines. The engine, traces, the live twin and plans all use it.
    pub fn machine_name(&self, k: u32) -> String {
        if self.machines == 1 {
            self.name.clone()
        } else {
            format!("{}.{}", self.name, k + 1)
        }
    }
}

/// kW per machine state.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PowerKw {
    pub processing: f64,
    pub setup: f64,
    pub idle: f64,
    pub down: f64,
    pub planned_down: f64,
    pub off: f64,
}

/// A station's changeovers: a default, and the scenario's entries for given pairs of products.
/// Kept sparse: a plant of hundreds of products would otherwise hold a products x products
/// table per station (gigabytes for 1,000 stations and 400 products), and every lookup would miss
/// the caches.
#[derive(Debug, Clone)]
pub struct Changeover {
    pub default: Sampler,
    /// Mean of `default`, seconds (for planning).
    pub default_mean_s: f64,
    pub n_products: usize,
    /// The scenario's matrix entries as (from, to) products, in the file's order: entry `i` is
    /// `changeover.matrix[i]` (calibration writes back there).
    pub entries: Vec<(usize, usize)>,
    /// Each entry's setup distribution and its mean, seconds, in the order of `entries`.
    times: Vec<(Sampler, f64)>,
    /// `(from * n_products + to, entry)`, sorted by the pair, the last entry of a pair written:
    /// what a lookup searches.
    by_pair: Vec<(u64, u32)>,
}

impl Changeover {
    /// A changeover of `default` and `entries` ((from, to) products with their setup and its
    /// mean, seconds, in the file's order; for a pair written twice, the last counts).
    pub fn new(
        default: Sampler,
        default_mean_s: f64,
        n_products: usize,
        entries: Vec<((usize, usize), Sampler, f64)>,
    ) -> Changeover {
        let mut by_pair: std::collections::BTreeMap<u64, u32> = std::collections::BTreeMap::new();
        for (i, ((from, to), _, _)) in entries.iter().enumerate() {
            if from != to {
                by_pair.insert((from * n_products + to) as u64, i as u32);
            }
        }
        let (pairs, times) = entries.into_iter().map(|(p, s, m)| (p, (s, m))).unzip();
        Changeover {
            default,
            default_mean_s,
            n_products,
            entries: pairs,
            times,
            by_pair: by_pair.into_iter().collect(),
        }
    }

    /// The entry written for `from` -> `to`, if any.
    fn entry(&self, from: usize, to: usize) -> Option<&(Sampler, f64)> {
        let key = (from * self.n_products + to) as u64;
        let at = self.by_pair.binary_search_by_key(&key, |&(k, _)| k).ok()?;
        self.times.get(self.by_pair[at].1 as usize)
    }

    /// The setup distribution when switching `from` -> `to`; no setup for the same product.
    pub fn between(&self, from: usize, to: usize) -> Option<&Sampler> {
        if from == to {
            return None;
        }
        Some(self.entry(from, to).map_or(&self.default, |(s, _)| s))
    }

    /// The mean setup when switching `from` -> `to`, seconds; 0 for the same product.
    pub fn mean_between_s(&self, from: usize, to: usize) -> f64 {
        if from == to {
            return 0.0;
        }
        self.entry(from, to)
            .map_or(self.default_mean_s, |(_, m)| *m)
    }
}

#[derive(Debug, Clone)]
pub struct FailureMode {
    pub name: String,
    pub basis: FailureBasis,
    pub ttf: Sampler,
    pub ttr: Sampler,
    pub ttf_mean: f64,
    pub ttr_mean_s: f64,
    pub crew: Option<usize>,
}

/// When planned maintenance starts: every `interval_s` from `first_s`, or at listed times (a plan
/// from the window optimizer, or a maintenance calendar).
#[derive(Debug, Clone, PartialEq)]
pub enum MaintenanceTimes {
    Every {
        first_s: f64,
        interval_s: f64,
    },
    /// Sorted, distinct starts.
    At(Vec<f64>),
}

#[derive(Debug, Clone)]
pub struct Maintenance {
    pub times: MaintenanceTimes,
    pub duration: Sampler,
    pub duration_mean_s: f64,
    pub crew: Option<usize>,
    pub renews: bool,
}

impl Maintenance {
    /// The first planned start, if any.
    pub fn first_s(&self) -> Option<f64> {
        match &self.times {
            MaintenanceTimes::Every { first_s, .. } => Some(*first_s),
            MaintenanceTimes::At(at) => at.first().copied(),
        }
    }

    /// The planned start after the one at `current_s` (the engine's next due time).
    pub fn following(&self, current_s: f64) -> Option<f64> {
        match &self.times {
            MaintenanceTimes::Every { interval_s, .. } => Some(current_s + interval_s),
            MaintenanceTimes::At(at) => at.iter().copied().find(|t| *t > current_s),
        }
    }

    /// The first planned start at or after `t_s`.
    pub fn at_or_after(&self, t_s: f64) -> Option<f64> {
        match &self.times {
            MaintenanceTimes::Every {
                first_s,
                interval_s,
            } => Some(if *first_s >= t_s {
                *first_s
            } else {
                first_s + ((t_s - first_s) / interval_s).ceil() * interval_s
            }),
            MaintenanceTimes::At(at) => at.iter().copied().find(|t| *t >= t_s),
        }
    }

    /// Every planned start before `until_s`; `Err(n)` when there are more than `max` (n, counted
    /// from the interval, is how many there would be).
    pub fn starts_before(&self, until_s: f64, max: usize) -> Result<Vec<f64>, f64> {
        if let MaintenanceTimes::Every {
            first_s,
            interval_s,
        } = &self.times
        {
            let n = ((until_s - first_s) / interval_s).ceil().max(0.0);
            if n > max as f64 {
                return Err(n);
            }
        }
        let mut out = Vec::new();
        let mut next = self.first_s();
        while let Some(t) = next.filter(|t| *t < until_s) {
            out.push(t);
            // A start that does not move on (an interval lost in the start's rounding) ends it.
            next = self.following(t).filter(|n| *n > t);
        }
        Ok(out)
    }
}

#[derive(Debug, Clone)]
pub struct Buffer {
    pub name: String,
    /// `None`: unlimited.
    pub capacity: Option<u32>,
    /// The station that takes parts from this buffer.
    pub station: usize,
    /// Created for a station without a declared input buffer.
    pub implicit: bool,
}

#[derive(Debug, Clone)]
pub struct Crew {
    pub name: String,
    pub count: u32,
}

/// One shift of the week, in the plant's local time.
#[derive(Debug, Clone, PartialEq)]
pub struct WeeklyShift {
    pub name: Option<String>,
    /// From local Monday 00:00, seconds.
    pub start_s: f64,
    pub length_s: f64,
}

/// A weekly pattern of production time, as sorted, disjoint `[start, end)` seconds from local Monday 00:00.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    pub on_intervals: Vec<(f64, f64)>,
}

impl Calendar {
    /// Whether production is planned at simulation time `t`, and when that next changes.
    pub fn at(&self, timebase: &Timebase, t: f64) -> (bool, f64) {
        let week_t = t + timebase.week_phase_s;
        let week_start = (week_t / WEEK_S).floor() * WEEK_S;
        let in_week = week_t - week_start;
        for &(start, end) in &self.on_intervals {
            if in_week < start {
                return (false, t + (start - in_week));
            }
            if in_week < end {
                return (true, t + (end - in_week));
            }
        }
        // After the last interval: off until the first interval of next week.
        let first = self.on_intervals.first().map_or(WEEK_S, |i| i.0);
        (false, t + (WEEK_S - in_week) + first)
    }

    /// Planned production seconds per week.
    pub fn on_secs_per_week(&self) -> f64 {
        self.on_intervals.iter().map(|(a, b)| b - a).sum()
    }
}

#[derive(Debug, Clone)]
pub struct Arrivals {
    pub interarrival: Sampler,
    /// The interarrival time's mean, seconds (for the limit on pieces released).
    pub mean_interarrival_s: f64,
    pub mix_products: Vec<usize>,
    pub mix_cumulative: Vec<f64>,
    pub due_in_s: Option<f64>,
    pub until_s: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: String,
    pub product: usize,
    pub quantity: u32,
    pub release_s: f64,
    pub due_s: Option<f64>,
    /// Weight of the order's tardiness in scheduling (> 0).
    pub priority: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let tb = Timebase::default();
        assert_eq!(tb.rfc3339(0.0), "2026-01-05T00:00:00.000+00:00");
        assert_eq!(tb.rfc3339(90_061.5), "2026-01-06T01:01:01.500+00:00");
        let cet = Timebase {
            start_unix_s: 1_767_571_200 - 3600,
            utc_offset_min: 60,
            week_phase_s: 0.0,
        };
        assert_eq!(cet.rfc3339(0.0), "2026-01-05T00:00:00.000+01:00");
    }

    #[test]
    fn calendar_finds_state_and_next_change() {
        // Monday 06:00-14:00 only.
        let cal = Calendar {
            on_intervals: vec![(6.0 * 3600.0, 14.0 * 3600.0)],
        };
        let tb = Timebase::default();
        assert_eq!(cal.at(&tb, 0.0), (false, 6.0 * 3600.0));
        assert_eq!(cal.at(&tb, 7.0 * 3600.0), (true, 14.0 * 3600.0));
        assert_eq!(cal.at(&tb, 15.0 * 3600.0), (false, WEEK_S + 6.0 * 3600.0));
        // Start on a Monday at 07:00: t = 0 is inside the shift.
        let tb7 = Timebase {
            week_phase_s: 7.0 * 3600.0,
            ..tb
        };
        assert_eq!(cal.at(&tb7, 0.0), (true, 7.0 * 3600.0));
    }
}

#[cfg(test)]
mod changeover_tests {
    use super::*;

    fn constant(s: f64) -> Sampler {
        Sampler::Constant(s)
    }

    fn seconds(sampler: Option<&Sampler>) -> Option<f64> {
        match sampler {
            Some(Sampler::Constant(s)) => Some(*s),
            Some(other) => panic!("{other:?}"),
            None => None,
        }
    }

    /// The sparse table answers what the dense one did: an entry where written (the last of a
    /// pair written twice), the default elsewhere, nothing for the same product.
    #[test]
    fn a_changeover_finds_its_entries_and_falls_back_to_its_default() {
        let n = 400;
        let c = Changeover::new(
            constant(60.0),
            60.0,
            n,
            vec![
                ((3, 399), constant(10.0), 10.0),
                ((399, 3), constant(20.0), 20.0),
                ((0, 1), constant(30.0), 30.0),
                ((3, 399), constant(40.0), 40.0),
            ],
        );
        assert_eq!(c.entries, [(3, 399), (399, 3), (0, 1), (3, 399)]);
        assert_eq!(seconds(c.between(3, 399)), Some(40.0));
        assert_eq!(seconds(c.between(399, 3)), Some(20.0));
        assert_eq!(seconds(c.between(0, 1)), Some(30.0));
        assert_eq!(seconds(c.between(1, 0)), Some(60.0));
        assert_eq!(seconds(c.between(7, 7)), None);
        assert_eq!(c.mean_between_s(3, 399), 40.0);
        assert_eq!(c.mean_between_s(5, 6), 60.0);
        assert_eq!(c.mean_between_s(5, 5), 0.0);
        // Every pair of a 400-product plant, against the entries read in order.
        for from in 0..n {
            for to in 0..n {
                let written = [
                    ((3, 399), 10.0),
                    ((399, 3), 20.0),
                    ((0, 1), 30.0),
                    ((3, 399), 40.0),
                ]
                .iter()
                .rev()
                .find(|(p, _)| *p == (from, to))
                .map(|(_, s)| *s);
                let want = if from == to {
                    None
                } else {
                    Some(written.unwrap_or(60.0))
                };
                assert_eq!(seconds(c.between(from, to)), want, "{from} -> {to}");
            }
        }
    }
}
