//! The shop problem and a schedule of it. Times are integers in the problem's unit (seconds for plant
//! order books, abstract units for benchmark instances).

use serde::Serialize;

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Eligible machines with the processing time on each.
    pub alternatives: Vec<(usize, i64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub name: String,
    pub release: i64,
    pub due: Option<i64>,
    pub weight: f64,
    /// In routing order: each starts after the previous one ends.
    pub operations: Vec<Operation>,
}

/// Sequence-dependent setup times by setup class: an operation's class is what the machine must be
/// set up for (the operation itself in the Fattahi benchmarks, the product in a plant).
#[derive(Debug, Clone, PartialEq)]
pub struct Setups {
    /// Setup class of every global operation id.
    pub class_of: Vec<usize>,
    /// Per machine, its table in `tables` (the machines of a station share one).
    pub table_of: Vec<usize>,
    pub tables: Vec<SetupTable>,
}

/// Setup times between the classes of one or more machines.
#[derive(Debug, Clone, PartialEq)]
pub enum SetupTable {
    /// Every pair: `times[a * classes + b]` from class `a` to `b`.
    Dense { classes: usize, times: Vec<i64> },
    /// A plant's changeovers with many products: `default` between different classes, none within
    /// one, except the `pairs` written, sorted by (from, to). A dense table of 400 products per
    /// station would take 1.3 GB for 1,000 stations.
    Sparse {
        default: i64,
        pairs: Vec<((usize, usize), i64)>,
    },
}

impl SetupTable {
    /// A dense table from its rows: `rows[a][b]` from class `a` to `b` (square).
    pub fn dense(rows: Vec<Vec<i64>>) -> SetupTable {
        SetupTable::Dense {
            classes: rows.len(),
            times: rows.into_iter().flatten().collect(),
        }
    }

    /// The setup from class `a` to class `b`.
    #[inline]
    pub fn time(&self, a: usize, b: usize) -> i64 {
        match self {
            SetupTable::Dense { classes, times } => times[a * classes + b],
            SetupTable::Sparse { default, pairs } => {
                if a == b {
                    0
                } else {
                    pairs
                        .binary_search_by_key(&(a, b), |&(pair, _)| pair)
                        .map_or(*default, |i| pairs[i].1)
                }
            }
        }
    }

    /// The longest setup of the table.
    pub fn longest(&self) -> i64 {
        match self {
            SetupTable::Dense { times, .. } => times.iter().copied().max().unwrap_or(0),
            SetupTable::Sparse { default, pairs } => {
                pairs.iter().map(|p| p.1).fold(*default, i64::max)
            }
        }
    }

    /// Whether the table answers for classes `0..classes` with no negative time.
    fn is_valid_for(&self, classes: usize) -> bool {
        match self {
            SetupTable::Dense { classes: n, times } => {
                *n >= classes && times.len() == n * n && times.iter().all(|&x| x >= 0)
            }
            SetupTable::Sparse { default, pairs } => {
                *default >= 0
                    && pairs.iter().all(|p| p.1 >= 0)
                    && pairs.windows(2).all(|w| w[0].0 < w[1].0)
            }
        }
    }
}

impl Setups {
    /// One class per operation: `times[m][a][b]` by global operation ids, a table per machine.
    pub fn per_operation(times: Vec<Vec<Vec<i64>>>) -> Setups {
        let n = times.first().map_or(0, Vec::len);
        Setups {
            class_of: (0..n).collect(),
            table_of: (0..times.len()).collect(),
            tables: times.into_iter().map(SetupTable::dense).collect(),
        }
    }

    /// The setup on `machine` from class `a` to class `b`.
    #[inline]
    pub fn between(&self, machine: usize, a: usize, b: usize) -> i64 {
        self.tables[self.table_of[machine]].time(a, b)
    }

    /// The longest setup of any machine.
    pub fn longest(&self) -> i64 {
        self.tables
            .iter()
            .map(SetupTable::longest)
            .max()
            .unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ShopProblem {
    pub name: String,
    pub machines: usize,
    /// For output; `M0`, `M1`, ... when empty.
    pub machine_names: Vec<String>,
    pub jobs: Vec<Job>,
    /// Setups when operation `b` follows `a` on a machine; no setup before a machine's first operation.
    pub setups: Option<Setups>,
    /// Whether a setup may start only once the job is there (true in a plant, where the setup follows
    /// the lot's arrival; false in the classic benchmarks, where setups are anticipatory).
    pub setup_needs_job: bool,
    /// Per machine, sorted disjoint `[start, end)` windows when it cannot work that no operation or
    /// setup may overlap (work is not preempted).
    pub unavailable: Vec<Vec<(i64, i64)>>,
    /// Per machine, sorted disjoint `[start, end)` breaks (off-shift, planned maintenance): work in
    /// progress pauses and resumes after them.
    pub breaks: Vec<Vec<(i64, i64)>>,
}

/// Why a problem cannot be scheduled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProblemError {
    #[error("job `{job}` operation {operation}: no eligible machine")]
    NoEligibleMachine { job: String, operation: usize },
    #[error(
        "job `{job}` operation {operation}: machine {machine} does not exist ({machines} machines)"
    )]
    UnknownMachine {
        job: String,
        operation: usize,
        machine: usize,
        machines: usize,
    },
    #[error(
        "job `{job}` operation {operation}: processing time {time} on machine {machine}; every \
         operation takes at least one time unit (operations of no time tie on their starts, and \
         no order among them, nor the setups between them, could be checked)"
    )]
    NoTime {
        job: String,
        operation: usize,
        machine: usize,
        time: i64,
    },
    #[error("job `{job}` operation {operation}: negative processing time {time}")]
    NegativeTime {
        job: String,
        operation: usize,
        time: i64,
    },
    #[error("job `{job}` has no operations")]
    EmptyJob { job: String },
    #[error("job `{job}`: due date {due} is before its release {release}")]
    DueBeforeRelease { job: String, release: i64, due: i64 },
    #[error("job `{job}`: weight must be a finite number > 0, got {weight}")]
    BadWeight { job: String, weight: f64 },
    #[error("machine {machine}: {what} windows must be sorted, disjoint and non-empty")]
    BadWindows { machine: usize, what: &'static str },
    #[error("the setup table does not cover every machine and operation")]
    BadSetups,
}

impl ShopProblem {
    /// A problem without setups, unavailability or breaks.
    pub fn new(name: impl Into<String>, machines: usize, jobs: Vec<Job>) -> ShopProblem {
        ShopProblem {
            name: name.into(),
            machines,
            machine_names: Vec::new(),
            jobs,
            setups: None,
            setup_needs_job: false,
            unavailable: vec![Vec::new(); machines],
            breaks: vec![Vec::new(); machines],
        }
    }

    /// Checks what the solvers assume, so that bad input gets an error instead of a panic.
    pub fn validate(&self) -> Result<(), ProblemError> {
        for job in &self.jobs {
            let name = || job.name.clone();
            if job.operations.is_empty() {
                return Err(ProblemError::EmptyJob { job: name() });
            }
            if let Some(due) = job.due
                && due < job.release
            {
                return Err(ProblemError::DueBeforeRelease {
                    job: name(),
                    release: job.release,
                    due,
                });
            }
            if !(job.weight.is_finite() && job.weight > 0.0) {
                return Err(ProblemError::BadWeight {
                    job: name(),
                    weight: job.weight,
                });
            }
            for (k, op) in job.operations.iter().enumerate() {
                if op.alternatives.is_empty() {
                    return Err(ProblemError::NoEligibleMachine {
                        job: name(),
                        operation: k,
                    });
                }
                for &(m, d) in &op.alternatives {
                    if m >= self.machines {
                        return Err(ProblemError::UnknownMachine {
                            job: name(),
                            operation: k,
                            machine: m,
                            machines: self.machines,
                        });
                    }
                    if d < 0 {
                        return Err(ProblemError::NegativeTime {
                            job: name(),
                            operation: k,
                            time: d,
                        });
                    }
                    if d == 0 {
                        return Err(ProblemError::NoTime {
                            job: name(),
                            operation: k,
                            machine: m,
                            time: d,
                        });
                    }
                }
            }
        }
        for (what, all) in [
            ("unavailability", &self.unavailable),
            ("break", &self.breaks),
        ] {
            if all.len() != self.machines {
                return Err(ProblemError::BadWindows {
                    machine: all.len(),
                    what,
                });
            }
            for (m, w) in all.iter().enumerate() {
                let sorted = w.iter().all(|(a, b)| a < b) && w.windows(2).all(|x| x[0].1 < x[1].0);
                if !sorted {
                    return Err(ProblemError::BadWindows { machine: m, what });
                }
            }
        }
        if let Some(s) = &self.setups {
            let n = self.n_ops();
            let classes = s.class_of.iter().max().map_or(0, |c| c + 1);
            let covered = s.table_of.len() == self.machines
                && s.table_of.iter().all(|&t| t < s.tables.len())
                && s.tables.iter().all(|t| t.is_valid_for(classes));
            if s.class_of.len() != n || !covered {
                return Err(ProblemError::BadSetups);
            }
        }
        Ok(())
    }

    pub fn machine_name(&self, m: usize) -> String {
        self.machine_names
            .get(m)
            .cloned()
            .unwrap_or_else(|| format!("M{m}"))
    }

    /// Global id of every (job, operation), job by job.
    pub fn op_ids(&self) -> Vec<Vec<usize>> {
        let mut next = 0;
        self.jobs
            .iter()
            .map(|j| {
                (0..j.operations.len())
                    .map(|_| {
                        next += 1;
                        next - 1
                    })
                    .collect()
            })
            .collect()
    }

    pub fn n_ops(&self) -> usize {
        self.jobs.iter().map(|j| j.operations.len()).sum()
    }

    /// (job, index in job) of every global operation id.
    pub fn op_owner(&self) -> Vec<(usize, usize)> {
        self.jobs
            .iter()
            .enumerate()
            .flat_map(|(j, job)| (0..job.operations.len()).map(move |k| (j, k)))
            .collect()
    }

    #[inline]
    pub fn setup(&self, machine: usize, from: Option<usize>, to: usize) -> i64 {
        match (&self.setups, from) {
            (Some(s), Some(a)) => s.between(machine, s.class_of[a], s.class_of[to]),
            _ => 0,
        }
    }

    /// The first moment at or after `t` when `machine` is not on a break.
    #[inline]
    pub fn working_from(&self, machine: usize, t: i64) -> i64 {
        let b = &self.breaks[machine];
        let i = b.partition_point(|w| w.1 <= t);
        match b.get(i) {
            Some(&(a, end)) if a <= t => end,
            _ => t,
        }
    }

    /// When `work` units begun at `start` on `machine` are done, pausing over breaks.
    #[inline]
    pub fn finish(&self, machine: usize, start: i64, work: i64) -> i64 {
        let b = &self.breaks[machine];
        if b.is_empty() || work == 0 {
            return start + work;
        }
        let (mut t, mut left) = (start, work);
        let mut i = b.partition_point(|w| w.1 <= t);
        while left > 0 {
            match b.get(i) {
                Some(&(a, end)) if a <= t => {
                    t = end;
                    i += 1;
                }
                Some(&(a, end)) if t + left > a => {
                    left -= a - t;
                    t = end;
                    i += 1;
                }
                _ => {
                    t += left;
                    left = 0;
                }
            }
        }
        t
    }

    /// The latest moment from which `work` units end at `end` on `machine`, pausing over breaks.
    #[inline]
    pub fn start_for(&self, machine: usize, end: i64, work: i64) -> i64 {
        let b = &self.breaks[machine];
        if b.is_empty() || work == 0 {
            return end - work;
        }
        let (mut t, mut left) = (end, work);
        // Breaks that begin before t, latest first.
        let mut i = b.partition_point(|w| w.0 < t);
        while left > 0 {
            match i.checked_sub(1).map(|k| b[k]) {
                Some((a, e)) if e >= t => {
                    t = a;
                    i -= 1;
                }
                Some((a, e)) if t - left < e => {
                    left -= t - e;
                    t = a;
                    i -= 1;
                }
                _ => {
                    t -= left;
                    left = 0;
                }
            }
        }
        t
    }

    /// Places an operation of `duration` on `machine` after a setup of `setup`, given when its job and
    /// the machine are ready: (setup start, start, end), as early as breaks and unavailability allow.
    pub fn place(
        &self,
        machine: usize,
        job_ready: i64,
        machine_ready: i64,
        setup: i64,
        duration: i64,
    ) -> (i64, i64, i64) {
        let windows = &self.unavailable[machine];
        if windows.is_empty() && self.breaks[machine].is_empty() {
            let st = if self.setup_needs_job {
                job_ready.max(machine_ready) + setup
            } else {
                job_ready.max(machine_ready + setup)
            };
            return (st - setup, st, st + duration);
        }
        // The earliest setup start (with a job-bound setup) or start (anticipatory setup).
        let mut from = if self.setup_needs_job {
            job_ready.max(machine_ready)
        } else {
            job_ready.max(self.finish(machine, self.working_from(machine, machine_ready), setup))
        };
        let mut placed = self.place_from(machine, from, setup, duration);
        for &(a, b) in windows {
            if placed.0 < b && a < placed.2 {
                from = if self.setup_needs_job {
                    from.max(b)
                } else {
                    from.max(self.finish(machine, b, setup))
                };
                placed = self.place_from(machine, from, setup, duration);
            }
        }
        placed
    }

    fn place_from(&self, machine: usize, from: i64, setup: i64, duration: i64) -> (i64, i64, i64) {
        let (setup_start, start) = if self.setup_needs_job {
            let ss = self.working_from(machine, from);
            (
                ss,
                self.working_from(machine, self.finish(machine, ss, setup)),
            )
        } else {
            let st = self.working_from(machine, from);
            (self.start_for(machine, st, setup), st)
        };
        (setup_start, start, self.finish(machine, start, duration))
    }

    /// Working (not on a break) time of `machine` inside `[from, to)`. The breaks are sorted and
    /// apart: only those that reach into the span are looked at (a calendar lays out years of them).
    pub fn working_time(&self, machine: usize, from: i64, to: i64) -> i64 {
        let b = &self.breaks[machine];
        let first = b.partition_point(|w| w.1 <= from);
        let off: i64 = b[first..]
            .iter()
            .take_while(|w| w.0 < to)
            .map(|&(a, e)| (e.min(to) - a.max(from)).max(0))
            .sum();
        (to - from) - off
    }

    pub fn duration(&self, job: usize, op: usize, machine: usize) -> Option<i64> {
        self.jobs[job].operations[op]
            .alternatives
            .iter()
            .find(|(m, _)| *m == machine)
            .map(|(_, d)| *d)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScheduledOp {
    pub job: usize,
    pub operation: usize,
    pub machine: usize,
    /// Start of the setup before the operation (equal to `start` without one; earlier than
    /// `start - setup` when a break falls inside the setup).
    pub setup_start: i64,
    pub start: i64,
    pub end: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schedule {
    /// One entry per operation, by global operation id.
    pub operations: Vec<ScheduledOp>,
}

impl Schedule {
    pub fn makespan(&self) -> i64 {
        self.operations.iter().map(|o| o.end).max().unwrap_or(0)
    }

    /// Completion time of each job.
    pub fn completions(&self, p: &ShopProblem) -> Vec<i64> {
        let mut c = vec![0; p.jobs.len()];
        for o in &self.operations {
            c[o.job] = c[o.job].max(o.end);
        }
        c
    }

    pub fn total_weighted_tardiness(&self, p: &ShopProblem) -> f64 {
        self.completions(p)
            .iter()
            .zip(&p.jobs)
            .map(|(c, j)| j.due.map_or(0.0, |d| j.weight * (c - d).max(0) as f64))
            .sum()
    }

    pub fn late_jobs(&self, p: &ShopProblem) -> usize {
        self.completions(p)
            .iter()
            .zip(&p.jobs)
            .filter(|(c, j)| j.due.is_some_and(|d| **c > d))
            .count()
    }

    /// The setup time the problem requires between consecutive operations on each machine.
    pub fn total_setup(&self, p: &ShopProblem) -> i64 {
        let mut total = 0;
        for m in 0..p.machines {
            let mut on: Vec<usize> = (0..self.operations.len())
                .filter(|&i| self.operations[i].machine == m)
                .collect();
            on.sort_by_key(|&i| (self.operations[i].start, i));
            total += on
                .windows(2)
                .map(|w| p.setup(m, Some(w[0]), w[1]))
                .sum::<i64>();
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_machine(breaks: Vec<(i64, i64)>, setup_needs_job: bool) -> ShopProblem {
        let job = Job {
            name: "j".into(),
            release: 0,
            due: None,
            weight: 1.0,
            operations: vec![Operation {
                alternatives: vec![(0, 5)],
            }],
        };
        let mut p = ShopProblem::new("t", 1, vec![job]);
        p.breaks[0] = breaks;
        p.setup_needs_job = setup_needs_job;
        p
    }

    #[test]
    fn work_pauses_over_breaks() {
        let p = one_machine(vec![(10, 20), (25, 30)], true);
        assert_eq!(p.working_from(0, 5), 5);
        assert_eq!(p.working_from(0, 10), 20);
        assert_eq!(p.working_from(0, 27), 30);
        // 8 units from 6: 4 before the break, 4 after it.
        assert_eq!(p.finish(0, 6, 8), 24);
        // 12 units from 6: 4, then 5 (20-25), then 3 after the second break.
        assert_eq!(p.finish(0, 6, 12), 33);
        assert_eq!(p.finish(0, 6, 4), 10);
        // Backwards: the latest start for 8 units ending at 24 is 6.
        assert_eq!(p.start_for(0, 24, 8), 6);
        assert_eq!(p.start_for(0, 33, 12), 6);
        assert_eq!(p.start_for(0, 20, 3), 7);
        assert_eq!(p.working_time(0, 6, 33), 12);
    }

    #[test]
    fn placing_respects_setups_breaks_and_windows() {
        // A job-bound setup of 3 from 8: 2 before the break, 1 after; processing 5 from 21 to 26,
        // paused by the second break until 31.
        let p = one_machine(vec![(10, 20), (25, 30)], true);
        assert_eq!(p.place(0, 8, 0, 3, 5), (8, 21, 31));
        // Anticipatory setups finish by the time the job is there: 2 units after the break, 1 before.
        let q = one_machine(vec![(10, 20)], false);
        assert_eq!(q.place(0, 22, 0, 3, 5), (9, 22, 27));
        // A non-preemptive window moves the whole operation after it.
        let mut r = one_machine(vec![], true);
        r.unavailable[0] = vec![(4, 6)];
        assert_eq!(r.place(0, 0, 0, 1, 5), (6, 7, 12));
    }

    #[test]
    fn validate_names_what_cannot_be_scheduled() {
        let mut p = one_machine(vec![], true);
        p.jobs[0].operations[0].alternatives.clear();
        assert!(matches!(
            p.validate(),
            Err(ProblemError::NoEligibleMachine { .. })
        ));
        let mut p = one_machine(vec![], true);
        p.jobs[0].release = 10;
        p.jobs[0].due = Some(5);
        assert!(matches!(
            p.validate(),
            Err(ProblemError::DueBeforeRelease { .. })
        ));
        let p = one_machine(vec![(5, 9), (8, 12)], true);
        assert!(matches!(p.validate(), Err(ProblemError::BadWindows { .. })));
        let mut p = one_machine(vec![], true);
        p.jobs[0].operations[0].alternatives[0].0 = 3;
        assert!(matches!(
            p.validate(),
            Err(ProblemError::UnknownMachine { .. })
        ));
        assert_eq!(one_machine(vec![(1, 2)], true).validate(), Ok(()));
    }
}
