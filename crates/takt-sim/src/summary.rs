//! The summary of independent replications as a typed report: the shape of one [`Report`], with
//! every number replaced by an [`IntervalEstimate`] (mean and Student-t 95% half-width over the
//! replications), every name by its most frequent value, and the deadlock counted instead of
//! averaged. `takt run --replications`, the what-if variants and their tables all read this type.
//!
//! Each summary type pools the matching report type field by field; a struct pattern in
//! [`pool_struct!`] lists every field of the source, so a field added to a report and not to its
//! summary does not compile.

use crate::deadlock::Deadlock;
use crate::kpi::{
    BufferReport, CrewReport, FailureModeReport, OrderReport, OrdersReport, Report, StateFractions,
    StationReport,
};
use crate::replicate::mean_ci95;
use serde::{Deserialize, Serialize};

/// A figure over replications: its mean and the half-width of its 95% confidence interval
/// (Student t, n - 1 degrees of freedom), in the unit of the figure; `ci95` is absent for a
/// single replication. A yes/no figure becomes the share of replications with yes (0 to 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntervalEstimate {
    pub mean: f64,
    pub ci95: Option<f64>,
}

impl IntervalEstimate {
    /// Mean and half-width of `values`, in their order (the same order gives the same bits).
    pub fn of(values: impl IntoIterator<Item = f64>) -> IntervalEstimate {
        let values: Vec<f64> = values.into_iter().collect();
        let (mean, ci95) = mean_ci95(&values);
        IntervalEstimate { mean, ci95 }
    }
}

/// Pools one field's values over the replications into its summary.
trait Pool: Sized {
    type Pooled;
    fn pool(values: &[&Self]) -> Self::Pooled;
}

macro_rules! pool_numbers {
    ($($number:ty),+) => {$(
        impl Pool for $number {
            type Pooled = IntervalEstimate;
            fn pool(values: &[&Self]) -> IntervalEstimate {
                IntervalEstimate::of(values.iter().map(|&&v| v as f64))
            }
        }
    )+};
}
pool_numbers!(f64, u64, u32);

impl Pool for bool {
    type Pooled = IntervalEstimate;
    fn pool(values: &[&Self]) -> IntervalEstimate {
        IntervalEstimate::of(values.iter().map(|&&v| f64::from(u8::from(v))))
    }
}

/// The most frequent value, the first of them on a tie (the usual bottleneck, say).
impl Pool for String {
    type Pooled = String;
    fn pool(values: &[&Self]) -> String {
        let Some(&first) = values.first() else {
            return String::new();
        };
        let mut best: (&String, usize) = (first, 0);
        for v in values {
            let count = values.iter().filter(|w| *w == v).count();
            if count > best.1 {
                best = (v, count);
            }
        }
        best.0.clone()
    }
}

/// Over the replications that have a value; absent where none has.
impl<T: Pool> Pool for Option<T> {
    type Pooled = Option<T::Pooled>;
    fn pool(values: &[&Self]) -> Option<T::Pooled> {
        let present: Vec<&T> = values.iter().filter_map(|v| v.as_ref()).collect();
        (!present.is_empty()).then(|| T::pool(&present))
    }
}

/// Item by item (a plant's stations, buffers and orders are the same in every replication);
/// should the lengths differ, each item of the first replication stands alone.
impl<T: Pool> Pool for Vec<T> {
    type Pooled = Vec<T::Pooled>;
    fn pool(values: &[&Self]) -> Vec<T::Pooled> {
        let Some(first) = values.first() else {
            return Vec::new();
        };
        if values.iter().all(|v| v.len() == first.len()) {
            (0..first.len())
                .map(|i| T::pool(&values.iter().map(|v| &v[i]).collect::<Vec<_>>()))
                .collect()
        } else {
            first.iter().map(|item| T::pool(&[item])).collect()
        }
    }
}

/// `Pool` for a report struct into its summary struct, field by field. The pattern in `_complete`
/// names every field of the source: a new report field must be named here (and so summarised).
macro_rules! pool_struct {
    ($source:ident => $target:ident { $($field:ident),+ $(,)? }) => {
        impl Pool for $source {
            type Pooled = $target;
            fn pool(values: &[&Self]) -> $target {
                #[allow(dead_code)]
                fn _complete(v: &$source) {
                    let $source { $($field: _),+ } = v;
                }
                $target {
                    $($field: Pool::pool(&values.iter().map(|v| &v.$field).collect::<Vec<_>>())),+
                }
            }
        }
    };
}

/// [`StateFractions`] over replications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplicatedStateFractions {
    pub processing: IntervalEstimate,
    pub setup: IntervalEstimate,
    pub starved: IntervalEstimate,
    pub blocked: IntervalEstimate,
    pub down: IntervalEstimate,
    pub planned_down: IntervalEstimate,
    pub off_shift: IntervalEstimate,
}
pool_struct!(StateFractions => ReplicatedStateFractions {
    processing, setup, starved, blocked, down, planned_down, off_shift
});

/// [`FailureModeReport`] over replications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplicatedFailureMode {
    pub name: String,
    pub failures: IntervalEstimate,
    pub repairs: IntervalEstimate,
    pub downtime_s: IntervalEstimate,
    pub mttr_s: Option<IntervalEstimate>,
}
pool_struct!(FailureModeReport => ReplicatedFailureMode {
    name, failures, repairs, downtime_s, mttr_s
});

/// [`StationReport`] over replications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplicatedStation {
    pub name: String,
    pub machines: IntervalEstimate,
    pub oee: Option<IntervalEstimate>,
    pub availability: Option<IntervalEstimate>,
    pub performance: Option<IntervalEstimate>,
    pub quality: Option<IntervalEstimate>,
    pub planned_busy_time_s: IntervalEstimate,
    pub actual_production_time_s: IntervalEstimate,
    pub setup_time_s: IntervalEstimate,
    pub unplanned_downtime_s: IntervalEstimate,
    pub planned_downtime_s: IntervalEstimate,
    pub produced: IntervalEstimate,
    pub good: IntervalEstimate,
    pub scrap: IntervalEstimate,
    pub rework: IntervalEstimate,
    pub setups: IntervalEstimate,
    pub maintenances: IntervalEstimate,
    pub failures: IntervalEstimate,
    pub mtbf_s: Option<IntervalEstimate>,
    pub mttr_s: Option<IntervalEstimate>,
    pub utilisation: IntervalEstimate,
    pub state_fractions: ReplicatedStateFractions,
    pub failure_modes: Vec<ReplicatedFailureMode>,
    pub energy_kwh: IntervalEstimate,
    pub energy_kwh_per_good_part: Option<IntervalEstimate>,
    pub active_period_mean_s: Option<IntervalEstimate>,
}
pool_struct!(StationReport => ReplicatedStation {
    name, machines, oee, availability, performance, quality, planned_busy_time_s,
    actual_production_time_s, setup_time_s, unplanned_downtime_s, planned_downtime_s, produced,
    good, scrap, rework, setups, maintenances, failures, mtbf_s, mttr_s, utilisation,
    state_fractions, failure_modes, energy_kwh, energy_kwh_per_good_part, active_period_mean_s,
});

/// [`BufferReport`] over replications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplicatedBuffer {
    pub name: String,
    /// The same in every replication; absent for an unlimited buffer.
    pub capacity: Option<IntervalEstimate>,
    pub level_mean: IntervalEstimate,
    pub level_max: IntervalEstimate,
}
pool_struct!(BufferReport => ReplicatedBuffer { name, capacity, level_mean, level_max });

/// [`CrewReport`] over replications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplicatedCrew {
    pub name: String,
    pub count: IntervalEstimate,
    pub utilisation: IntervalEstimate,
    pub queue: IntervalEstimate,
}
pool_struct!(CrewReport => ReplicatedCrew { name, count, utilisation, queue });

/// [`OrderReport`] over replications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplicatedOrder {
    pub id: String,
    pub product: String,
    pub quantity: IntervalEstimate,
    pub good: IntervalEstimate,
    pub release_s: IntervalEstimate,
    pub due_s: Option<IntervalEstimate>,
    /// Over the replications that finished the order.
    pub completed_at_s: Option<IntervalEstimate>,
    pub lateness_s: Option<IntervalEstimate>,
    pub tardiness_s: Option<IntervalEstimate>,
    /// The share of replications (with a due date) that finished it on time.
    pub on_time: Option<IntervalEstimate>,
}
pool_struct!(OrderReport => ReplicatedOrder {
    id, product, quantity, good, release_s, due_s, completed_at_s, lateness_s, tardiness_s,
    on_time,
});

/// [`OrdersReport`] over replications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplicatedOrders {
    pub count: IntervalEstimate,
    pub completed: IntervalEstimate,
    pub on_time_rate: Option<IntervalEstimate>,
    pub tardiness_mean_s: Option<IntervalEstimate>,
    pub tardiness_max_s: Option<IntervalEstimate>,
    pub makespan_s: Option<IntervalEstimate>,
    pub orders: Vec<ReplicatedOrder>,
}
pool_struct!(OrdersReport => ReplicatedOrders {
    count, completed, on_time_rate, tardiness_mean_s, tardiness_max_s, makespan_s, orders,
});

/// The first deadlock met, with the replication it happened in (counted from 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FirstDeadlock {
    pub replication: usize,
    #[serde(flatten)]
    pub deadlock: Deadlock,
}

/// A deadlock is not averaged: in how many replications the plant locked up, and the first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplicatedDeadlock {
    pub replications: usize,
    pub of: usize,
    pub first: FirstDeadlock,
}

impl ReplicatedDeadlock {
    /// In words, for people: when, which machines, and what to do about it.
    pub fn in_words(&self) -> String {
        let how_often = if self.of > 1 {
            format!(
                " in {} of {} replications (first: replication {})",
                self.replications, self.of, self.first.replication
            )
        } else {
            String::new()
        };
        self.first.deadlock.in_words(&how_often)
    }
}

/// Every figure of [`Report`] over independent replications of one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplicatedReport {
    pub scenario: String,
    /// The base seed: replication r ran with `rng::replication_seed(seed, r)`.
    pub seed: u64,
    pub replications: usize,
    pub time_s: IntervalEstimate,
    pub warmup_s: IntervalEstimate,
    pub window_s: IntervalEstimate,
    pub events: IntervalEstimate,
    pub throughput_per_hour: IntervalEstimate,
    pub released: IntervalEstimate,
    pub completed: IntervalEstimate,
    pub scrapped: IntervalEstimate,
    pub wip_mean: IntervalEstimate,
    pub wip_now: IntervalEstimate,
    pub lead_time_mean_s: Option<IntervalEstimate>,
    pub lead_time_p50_s: Option<IntervalEstimate>,
    pub lead_time_p95_s: Option<IntervalEstimate>,
    pub departures_per_hour: IntervalEstimate,
    pub sojourn_mean_s: Option<IntervalEstimate>,
    pub energy_kwh: IntervalEstimate,
    pub energy_kwh_per_good_part: Option<IntervalEstimate>,
    /// The most frequent bottleneck.
    pub bottleneck: Option<String>,
    pub stations: Vec<ReplicatedStation>,
    pub buffers: Vec<ReplicatedBuffer>,
    pub crews: Vec<ReplicatedCrew>,
    pub orders: Option<ReplicatedOrders>,
    pub deadlock: Option<ReplicatedDeadlock>,
}

/// Summarises replications of one scenario; `base_seed` is the seed they were drawn from. One
/// report gives its own figures with no interval; none gives no figures (`NaN` means).
pub fn summarize(reports: &[Report], base_seed: u64) -> ReplicatedReport {
    #[allow(dead_code)]
    fn _complete(r: &Report) {
        // Every field of a report, so that a new one must be summarised below.
        let Report {
            scenario: _,
            seed: _,
            time_s: _,
            warmup_s: _,
            window_s: _,
            events: _,
            throughput_per_hour: _,
            released: _,
            completed: _,
            scrapped: _,
            wip_mean: _,
            wip_now: _,
            lead_time_mean_s: _,
            lead_time_p50_s: _,
            lead_time_p95_s: _,
            departures_per_hour: _,
            sojourn_mean_s: _,
            energy_kwh: _,
            energy_kwh_per_good_part: _,
            bottleneck: _,
            stations: _,
            buffers: _,
            crews: _,
            orders: _,
            deadlock: _,
        } = r;
    }
    macro_rules! pooled {
        ($field:ident) => {
            Pool::pool(&reports.iter().map(|r| &r.$field).collect::<Vec<_>>())
        };
    }
    let deadlocks: Vec<(usize, &Deadlock)> = reports
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.deadlock.as_ref().map(|d| (i, d)))
        .collect();
    ReplicatedReport {
        scenario: pooled!(scenario),
        seed: base_seed,
        replications: reports.len(),
        time_s: pooled!(time_s),
        warmup_s: pooled!(warmup_s),
        window_s: pooled!(window_s),
        events: pooled!(events),
        throughput_per_hour: pooled!(throughput_per_hour),
        released: pooled!(released),
        completed: pooled!(completed),
        scrapped: pooled!(scrapped),
        wip_mean: pooled!(wip_mean),
        wip_now: pooled!(wip_now),
        lead_time_mean_s: pooled!(lead_time_mean_s),
        lead_time_p50_s: pooled!(lead_time_p50_s),
        lead_time_p95_s: pooled!(lead_time_p95_s),
        departures_per_hour: pooled!(departures_per_hour),
        sojourn_mean_s: pooled!(sojourn_mean_s),
        energy_kwh: pooled!(energy_kwh),
        energy_kwh_per_good_part: pooled!(energy_kwh_per_good_part),
        bottleneck: pooled!(bottleneck),
        stations: pooled!(stations),
        buffers: pooled!(buffers),
        crews: pooled!(crews),
        orders: pooled!(orders),
        deadlock: deadlocks
            .first()
            .map(|&(replication, first)| ReplicatedDeadlock {
                replications: deadlocks.len(),
                of: reports.len(),
                first: FirstDeadlock {
                    replication,
                    deadlock: first.clone(),
                },
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fractions(processing: f64) -> StateFractions {
        StateFractions {
            processing,
            ..StateFractions::default()
        }
    }

    #[test]
    fn pooling_keeps_the_shape_and_counts_only_present_values() {
        let names = ["A".to_string(), "B".to_string(), "B".to_string()];
        assert_eq!(String::pool(&names.iter().collect::<Vec<_>>()), "B");
        let optional = [None, Some(2.0), None];
        let pooled = Option::<f64>::pool(&optional.iter().collect::<Vec<_>>());
        assert_eq!(
            pooled,
            Some(IntervalEstimate {
                mean: 2.0,
                ci95: None
            })
        );
        assert_eq!(Option::<f64>::pool(&[&None, &None]), None);
        let flags = [true, false, true];
        let share = bool::pool(&flags.iter().collect::<Vec<_>>());
        assert!((share.mean - 2.0 / 3.0).abs() < 1e-12);
        let lists = [vec![1u32, 2], vec![3, 4], vec![5, 6]];
        let pooled = Vec::<u32>::pool(&lists.iter().collect::<Vec<_>>());
        assert_eq!(pooled[1].mean, 4.0);
        let f = [fractions(0.5), fractions(0.7)];
        let pooled = StateFractions::pool(&f.iter().collect::<Vec<_>>());
        assert!((pooled.processing.mean - 0.6).abs() < 1e-12);
        assert_eq!(pooled.down.ci95, Some(0.0));
    }
}
