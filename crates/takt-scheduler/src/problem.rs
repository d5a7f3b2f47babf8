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

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub name: String,
    pub machines: usize,
    pub jobs: Vec<Job>,
    /// `setups[m][a][b]`: setup on machine `m` when operation `b` follows `a` (global operation ids).
    /// No setup before the first operation of a machine.
    pub setups: Option<Vec<Vec<Vec<i64>>>>,
    /// Per machine, sorted `[start, end)` windows when it cannot work (no operation or setup may
    /// overlap one; work is not preempted).
    pub unavailable: Vec<Vec<(i64, i64)>>,
}

impl Problem {
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

    pub fn setup(&self, machine: usize, from: Option<usize>, to: usize) -> i64 {
        match (&self.setups, from) {
            (Some(s), Some(a)) => s[machine][a][to],
            _ => 0,
        }
    }

    /// The earliest start at or after `ready` such that the setup (`setup` before the start) and the
    /// operation (`duration` after it) avoid every unavailability window of `machine`.
    pub fn earliest_start(&self, machine: usize, ready: i64, setup: i64, duration: i64) -> i64 {
        let mut start = ready;
        for &(a, b) in &self.unavailable[machine] {
            if start - setup < b && a < start + duration {
                start = start.max(b + setup);
            }
        }
        start
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
    /// Start of the setup before the operation (equal to `start` without one).
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
    pub fn completions(&self, p: &Problem) -> Vec<i64> {
        let mut c = vec![0; p.jobs.len()];
        for o in &self.operations {
            c[o.job] = c[o.job].max(o.end);
        }
        c
    }

    pub fn total_weighted_tardiness(&self, p: &Problem) -> f64 {
        self.completions(p)
            .iter()
            .zip(&p.jobs)
            .map(|(c, j)| j.due.map_or(0.0, |d| j.weight * (c - d).max(0) as f64))
            .sum()
    }

    pub fn late_jobs(&self, p: &Problem) -> usize {
        self.completions(p)
            .iter()
            .zip(&p.jobs)
            .filter(|(c, j)| j.due.is_some_and(|d| **c > d))
            .count()
    }

    pub fn total_setup(&self) -> i64 {
        self.operations
            .iter()
            .map(|o| o.start - o.setup_start)
            .sum()
    }
}
