//! Lower bounds of a shop problem: no schedule can do better, so a plan's distance to them says how
//! much could still be won at most. Each is a relaxation, computed in O(n log n) for n operations:
//!
//! - **Own path** of every job: from its release, each operation on its fastest eligible machine,
//!   pausing over that machine's breaks, with no waiting and no setups. Bounds the makespan, every
//!   job's tardiness (Σ weight × max(0, path end − due)) and the jobs late whatever is done.
//! - **Machine load** of every set of machines that some operations must share (the eligible
//!   machines of a step): the set works as one machine whose speed at any moment is the number of
//!   its machines not on a break, preemption allowed, no setups. Every operation has a head (its
//!   job's own path up to it) and a tail (the least work of its job after it).
//!   - Makespan: for the operations with a head of at least h, the set cannot be done with them
//!     before their work is done from h, and the last of them has at least the least of their tails
//!     still to go (and symmetrically by tail).
//!   - Tardiness (Chu, 1992): on that one machine, shortest remaining work first gives completion
//!     times that, sorted, are each at most the same-ranked completion of any schedule; paired in
//!     order with the operations' due dates less their tails, they bound Σ max(0, C − d), times the
//!     least weight.
//!
//! Unavailability windows and setups are left out (they can only make a schedule longer), so each
//! bound holds for every schedule the checker accepts. The bounds are weak where a job's own route
//! decides (a job shop's interplay of machines), and tight where one machine group carries the
//! load.

use crate::objective::{Criterion, Objective};
use crate::problem::{Schedule, ShopProblem};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// The figures a schedule is judged by, in the problem's time unit: a schedule's own, or what no
/// schedule can beat ([`lower_bounds`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    pub makespan: i64,
    /// Σ weight × tardiness.
    pub weighted_tardiness: f64,
    /// Jobs finished after their due date.
    pub late_jobs: usize,
    /// Σ setup times (bounded at 0).
    pub setup: i64,
}

impl Figures {
    /// A schedule's figures.
    pub fn of(schedule: &Schedule, p: &ShopProblem) -> Figures {
        Figures {
            makespan: schedule.makespan(),
            weighted_tardiness: schedule.total_weighted_tardiness(p),
            late_jobs: schedule.late_jobs(p),
            setup: schedule.total_setup(p),
        }
    }

    /// As a bound of `plan`: the bound of `objective`'s first level, and the plan's [`gap`] to it.
    pub fn first_level_gap(&self, plan: &Figures, objective: &Objective) -> (f64, Option<f64>) {
        let bound = self.first_level(objective);
        (bound, gap(plan.first_level(objective), bound))
    }

    /// The objective's first level: the weighted sum of its criteria.
    pub fn first_level(&self, objective: &Objective) -> f64 {
        objective.levels.first().map_or(0.0, |terms| {
            terms
                .iter()
                .map(|&(w, c)| {
                    w * match c {
                        Criterion::Makespan => self.makespan as f64,
                        Criterion::Tardiness => self.weighted_tardiness,
                        Criterion::Late => self.late_jobs as f64,
                        Criterion::Setup => self.setup as f64,
                    }
                })
                .sum()
        })
    }
}

/// The share by which `value` exceeds its lower `bound`: (value − bound) / value; 0 when the value
/// is at the bound (both 0 included); `None` when the bound is 0 and the value is not: a bound of 0
/// cannot say how much of the value could be won.
pub fn gap(value: f64, bound: f64) -> Option<f64> {
    if value <= 0.0 || value <= bound {
        Some(0.0)
    } else if bound <= 0.0 {
        None
    } else {
        Some((value - bound) / value)
    }
}

/// An operation as the load bound sees it.
#[derive(Debug, Clone, Copy)]
struct Load {
    head: i64,
    work: i64,
    tail: i64,
    /// The job's due date less the tail, and the job's weight (jobs with a due date).
    due: Option<(i64, f64)>,
}

/// The lower bounds of `p` (assumed valid: `ShopProblem::validate`).
pub fn lower_bounds(p: &ShopProblem) -> Figures {
    let mut bounds = Figures {
        makespan: 0,
        weighted_tardiness: 0.0,
        late_jobs: 0,
        setup: 0,
    };
    let mut groups: BTreeMap<Vec<usize>, Vec<Load>> = BTreeMap::new();
    for job in &p.jobs {
        let least: Vec<i64> = job
            .operations
            .iter()
            .map(|o| o.alternatives.iter().map(|a| a.1).min().unwrap_or(0))
            .collect();
        let mut tail: i64 = least.iter().sum();
        let mut t = job.release;
        for (op, work) in job.operations.iter().zip(&least) {
            tail -= work;
            let mut set: Vec<usize> = op.alternatives.iter().map(|a| a.0).collect();
            set.sort_unstable();
            set.dedup();
            groups.entry(set).or_default().push(Load {
                head: t,
                work: *work,
                tail,
                due: job.due.map(|d| (d - tail, job.weight)),
            });
            t = op
                .alternatives
                .iter()
                .map(|&(m, d)| p.finish(m, t, d))
                .min()
                .unwrap_or(t);
        }
        bounds.makespan = bounds.makespan.max(t);
        if let Some(due) = job.due
            && t > due
        {
            bounds.weighted_tardiness += job.weight * (t - due) as f64;
            bounds.late_jobs += 1;
        }
    }
    for (machines, loads) in &groups {
        let origin = loads.iter().map(|l| l.head).min().unwrap_or(0);
        let capacity = Capacity::of(p, machines, origin);
        bounds.makespan = bounds.makespan.max(load_makespan(&capacity, loads));
        bounds.weighted_tardiness = bounds
            .weighted_tardiness
            .max(load_tardiness(&capacity, loads));
    }
    bounds
}

/// The working capacity of a set of machines over time: how many of them are not on a break.
struct Capacity {
    /// From each start on, until the next: the number of machines working, and the work the set has
    /// done from the first start (machine × time units).
    steps: Vec<(i64, i64, f64)>,
}

impl Capacity {
    /// The capacity of `machines` from `origin` on.
    fn of(p: &ShopProblem, machines: &[usize], origin: i64) -> Capacity {
        let mut changes: Vec<(i64, i64)> = machines
            .iter()
            .flat_map(|&m| p.breaks[m].iter())
            .flat_map(|&(a, e)| [(a, -1), (e, 1)])
            .collect();
        changes.sort_unstable();
        let mut steps = vec![(origin, machines.len() as i64, 0.0)];
        for (at, delta) in changes {
            let last = steps.last_mut().expect("one step at least");
            let (from, working, done) = *last;
            if at <= from {
                // Breaks under way at the origin, and changes at the same moment.
                last.1 += delta;
            } else {
                steps.push((at, working + delta, done + (working * (at - from)) as f64));
            }
        }
        Capacity { steps }
    }

    /// Work done by the set from the origin to `t` (at or after the origin).
    fn done_at(&self, t: f64) -> f64 {
        let i = self.steps.partition_point(|s| s.0 as f64 <= t).max(1) - 1;
        let (from, working, done) = self.steps[i];
        done + working as f64 * (t - from as f64).max(0.0)
    }

    /// The first moment by which the set has done `done` from the origin.
    fn moment_of(&self, done: f64) -> f64 {
        let j = self.steps.partition_point(|s| s.2 < done);
        if j == 0 {
            return self.steps[0].0 as f64;
        }
        // The step before reaches `done`, so it works: every break ends, and after the last one
        // every machine works.
        let (from, working, start_done) = self.steps[j - 1];
        from as f64 + (done - start_done) / working.max(1) as f64
    }
}

/// The machine-load bound of the makespan: nested sets of operations by head and by tail.
fn load_makespan(capacity: &Capacity, loads: &[Load]) -> i64 {
    let mut best = 0.0_f64;
    let mut by_head: Vec<&Load> = loads.iter().collect();
    by_head.sort_unstable_by_key(|l| Reverse(l.head));
    let (mut work, mut least_tail) = (0.0, i64::MAX);
    for l in &by_head {
        work += l.work as f64;
        least_tail = least_tail.min(l.tail);
        let end = capacity.moment_of(capacity.done_at(l.head as f64) + work);
        best = best.max(end + least_tail as f64);
    }
    let mut by_tail = by_head;
    by_tail.sort_unstable_by_key(|l| Reverse(l.tail));
    let (mut work, mut least_head) = (0.0, i64::MAX);
    for l in &by_tail {
        work += l.work as f64;
        least_head = least_head.min(l.head);
        let end = capacity.moment_of(capacity.done_at(least_head as f64) + work);
        best = best.max(end + l.tail as f64);
    }
    // Schedules are in whole units; the slack absorbs rounding of the sums.
    (best - 1e-6).ceil() as i64
}

/// Chu's bound of the weighted tardiness on one machine group, in the group's work clock.
fn load_tardiness(capacity: &Capacity, loads: &[Load]) -> f64 {
    let mut dues: Vec<i64> = loads.iter().filter_map(|l| l.due.map(|d| d.0)).collect();
    if dues.is_empty() {
        return 0.0;
    }
    let least_weight = loads
        .iter()
        .filter_map(|l| l.due.map(|d| d.1))
        .fold(f64::INFINITY, f64::min);
    dues.sort_unstable();
    let mut arrivals: Vec<(f64, f64)> = loads
        .iter()
        .map(|l| (capacity.done_at(l.head as f64), l.work as f64))
        .collect();
    arrivals.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let completions = shortest_remaining_first(&arrivals);
    let tardiness: f64 = completions
        .iter()
        .zip(&dues)
        // Completions are whole units: a completion at or after a moment is at or after its ceiling
        // (the slack absorbs rounding of the sums).
        .map(|(&c, &d)| (capacity.moment_of(c) - d as f64 - 1e-6).ceil().max(0.0))
        .sum();
    least_weight * tardiness
}

/// Completion times, in order, of one unit-speed machine that always works on the arrived job with
/// the least work left. `arrivals` are (arrival, work), sorted by arrival.
fn shortest_remaining_first(arrivals: &[(f64, f64)]) -> Vec<f64> {
    /// Remaining work, ordered for a min-heap.
    #[derive(PartialEq)]
    struct Left(f64);
    impl Eq for Left {}
    impl Ord for Left {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            other.0.total_cmp(&self.0)
        }
    }
    impl PartialOrd for Left {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    let mut done = Vec::with_capacity(arrivals.len());
    let mut waiting: BinaryHeap<Left> = BinaryHeap::new();
    let (mut now, mut next) = (f64::NEG_INFINITY, 0);
    while next < arrivals.len() || !waiting.is_empty() {
        if waiting.is_empty() {
            now = now.max(arrivals[next].0);
        }
        while next < arrivals.len() && arrivals[next].0 <= now {
            waiting.push(Left(arrivals[next].1));
            next += 1;
        }
        let Some(Left(left)) = waiting.pop() else {
            continue;
        };
        let until = arrivals.get(next).map_or(f64::INFINITY, |a| a.0);
        if now + left <= until {
            now += left;
            done.push(now);
        } else {
            waiting.push(Left(left - (until - now)));
            now = until;
        }
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_remaining_first_preempts_for_a_shorter_arrival() {
        // A (0, 3) runs until B (1, 1) arrives with less left; B ends at 2, A at 4.
        assert_eq!(
            shortest_remaining_first(&[(0.0, 3.0), (1.0, 1.0)]),
            [2.0, 4.0]
        );
        // Idle until the next arrival.
        assert_eq!(
            shortest_remaining_first(&[(0.0, 1.0), (5.0, 2.0)]),
            [1.0, 7.0]
        );
    }

    #[test]
    fn capacity_counts_machines_off_on_breaks() {
        let mut p = ShopProblem::new("p", 2, Vec::new());
        p.breaks = vec![vec![(10, 20)], vec![(15, 30)]];
        let c = Capacity::of(&p, &[0, 1], 0);
        // Both to 10, one to 15, none to 20, one to 30, then both.
        assert_eq!(c.done_at(10.0), 20.0);
        assert_eq!(c.done_at(30.0), 35.0);
        assert_eq!(c.done_at(40.0), 55.0);
        assert_eq!(c.moment_of(25.0), 15.0);
        assert_eq!(c.moment_of(26.0), 21.0);
        assert_eq!(c.moment_of(55.0), 40.0);
        assert_eq!(c.moment_of(0.0), 0.0);
        // From inside a break.
        let c = Capacity::of(&p, &[0], 12);
        assert_eq!(c.done_at(20.0), 0.0);
        assert_eq!(c.done_at(25.0), 5.0);
        assert_eq!(c.moment_of(5.0), 25.0);
    }

    #[test]
    fn gap_is_the_share_above_the_bound() {
        assert_eq!(gap(100.0, 90.0), Some(0.1));
        assert_eq!(gap(0.0, 0.0), Some(0.0));
        assert_eq!(gap(50.0, 50.0), Some(0.0));
        assert_eq!(gap(50.0, 0.0), None);
    }
}
