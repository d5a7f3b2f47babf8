//! The aggregate plan for large order books: which shift (time bucket) each order's steps run in, on
//! which group of machines, within each group's working capacity - a linear programme through
//! good_lp and HiGHS, solved in well under a second for hundreds of orders, where the detailed
//! sequence is the search's job.
//!
//! Variables `y[o, k, g, b]`: the share of step `k` of order `o` done on machine group `g` (the
//! machines of one station) in bucket `b`. Constraints: every step is done once (shares sum to 1);
//! the work in a bucket fits the group's working time there (breaks and maintenance excluded); a step
//! is never further along than the one before it (cumulative shares, same bucket allowed, since lots
//! can follow each other within a shift); no work before the order's release bucket. Objective:
//! Σ priority × lateness of the last step's work (each share × (bucket end − due), at least 0), and
//! a small pull towards earlier buckets. The result is a load chart per group and bucket and an
//! expected completion bucket per order; orders still late here are late in any plan, up to one
//! bucket's length.

use crate::plant::PlantProblem;
use good_lp::solvers::highs::highs;
use good_lp::{
    Expression, ProblemVariables, Solution as _, SolverModel, Variable, constraint, variable,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// One variable of the model: (group, bucket, share of the step, work seconds of the step there).
type Share = (usize, usize, Variable, f64);

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AggregateError {
    #[error("bucket length must be > 0 s, got {0}")]
    Bucket(i64),
    #[error("the aggregate plan failed: {0}")]
    Solver(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupLoad {
    pub group: String,
    /// Per bucket: planned work and working capacity, seconds.
    pub work_s: Vec<f64>,
    pub capacity_s: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderPlan {
    pub order: String,
    /// Bucket in which the last step completes (its cumulative share reaches 1).
    pub completion_bucket: usize,
    /// End of that bucket, seconds from t = 0.
    pub completion_by_s: i64,
    pub due_s: Option<i64>,
    /// Priority × lateness of the last step's work, seconds (the objective's share).
    pub weighted_lateness_s: f64,
    /// Per step: the buckets it runs in with its shares.
    pub steps: Vec<Vec<(usize, f64)>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AggregatePlan {
    pub bucket_s: i64,
    /// Start of every bucket, seconds from t = 0.
    pub bucket_starts_s: Vec<i64>,
    pub groups: Vec<GroupLoad>,
    pub orders: Vec<OrderPlan>,
    pub objective: f64,
}

/// Plans `plant` in buckets of `bucket_s` starting at `offset_s` (e.g. 6 h to align with shifts
/// starting at 06:00), far enough for the whole book.
pub fn plan(
    plant: &PlantProblem,
    group_names: &[String],
    bucket_s: i64,
    offset_s: i64,
) -> Result<AggregatePlan, AggregateError> {
    if bucket_s <= 0 {
        return Err(AggregateError::Bucket(bucket_s));
    }
    let p = &plant.problem;
    // Groups: machines of one station.
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (m, &(station, _)) in plant.machines.iter().enumerate() {
        groups.entry(station).or_default().push(m);
    }
    let group_of_machine: Vec<usize> = plant
        .machines
        .iter()
        .map(|&(s, _)| groups.keys().position(|&g| g == s).unwrap_or(0))
        .collect();
    let group_machines: Vec<&Vec<usize>> = groups.values().collect();
    // Enough buckets for the last release and due date, and for each group to do its share of the
    // book (work of a step split evenly over its eligible groups) twice over.
    let mut demand = vec![0.0; group_machines.len()];
    for op in p.jobs.iter().flat_map(|j| &j.operations) {
        let mut gs: Vec<(usize, i64)> = op
            .alternatives
            .iter()
            .map(|&(m, d)| (group_of_machine[m], d))
            .collect();
        gs.sort_unstable();
        gs.dedup_by_key(|x| x.0);
        for &(g, d) in &gs {
            demand[g] += d as f64 / gs.len() as f64;
        }
    }
    let last_release = p.jobs.iter().map(|j| j.release).max().unwrap_or(0);
    let last_due = p.jobs.iter().filter_map(|j| j.due).max().unwrap_or(0);
    // Buckets aligned to the offset, the first one covering t = 0.
    let mut start = offset_s.rem_euclid(bucket_s);
    if start > 0 {
        start -= bucket_s;
    }
    let mut starts = vec![start];
    let capacity = |m: usize, a: i64, b: i64| p.working_time(m, a.max(0), b.max(0)) as f64;
    loop {
        let end = starts.last().copied().unwrap_or(0) + bucket_s;
        let enough = end >= last_release.max(last_due)
            && group_machines.iter().zip(&demand).all(|(ms, &need)| {
                ms.iter().map(|&m| capacity(m, start, end)).sum::<f64>() >= 2.0 * need
            });
        if enough || starts.len() > 20_000 {
            break;
        }
        starts.push(end);
    }
    let nb = starts.len();
    let cap: Vec<Vec<f64>> = group_machines
        .iter()
        .map(|ms| {
            starts
                .iter()
                .map(|&a| ms.iter().map(|&m| capacity(m, a, a + bucket_s)).sum())
                .collect()
        })
        .collect();

    let mut vars = ProblemVariables::new();
    let mut y: Vec<Vec<Vec<Share>>> = Vec::new();
    let mut lateness: Vec<Variable> = Vec::new();
    for job in &p.jobs {
        let first_bucket = starts.partition_point(|&s| s + bucket_s <= job.release);
        let mut steps = Vec::new();
        for op in &job.operations {
            let mut by_group: BTreeMap<usize, f64> = BTreeMap::new();
            for &(m, d) in &op.alternatives {
                by_group.entry(group_of_machine[m]).or_insert(d as f64);
            }
            let mut v = Vec::new();
            for (&g, &work) in &by_group {
                for (b, &c) in cap[g].iter().enumerate().skip(first_bucket) {
                    if c > 0.0 || work == 0.0 {
                        v.push((g, b, vars.add(variable().min(0.0).max(1.0)), work));
                    }
                }
            }
            steps.push(v);
        }
        y.push(steps);
        lateness.push(vars.add(variable().min(0.0)));
    }
    let mut objective = Expression::from(0.0);
    let pull = 1e-3 * bucket_s as f64;
    for (j, job) in p.jobs.iter().enumerate() {
        objective += job.weight * lateness[j];
        for step in &y[j] {
            for &(_, b, v, _) in step {
                objective += pull * b as f64 / nb as f64 * v;
            }
        }
    }
    let mut model = highs(vars.minimise(objective));
    model.set_verbose(false);
    for (j, job) in p.jobs.iter().enumerate() {
        for step in &y[j] {
            let total: Expression = step.iter().map(|s| s.2).sum();
            model.add_constraint(constraint!(total == 1.0));
        }
        // A step is never further along than the one before it.
        for k in 1..y[j].len() {
            for b in 0..nb {
                let done = |k: usize| -> Expression {
                    y[j][k].iter().filter(|s| s.1 <= b).map(|s| s.2).sum()
                };
                model.add_constraint(constraint!(done(k) <= done(k - 1)));
            }
        }
        if let (Some(due), Some(last)) = (job.due, y[j].last()) {
            let late: Expression = last
                .iter()
                .map(|&(_, b, v, _)| (starts[b] + bucket_s - due) as f64 * v)
                .sum();
            model.add_constraint(constraint!(lateness[j] >= late));
        }
    }
    for (g, caps) in cap.iter().enumerate() {
        for (b, &c) in caps.iter().enumerate() {
            let load: Expression = y
                .iter()
                .flatten()
                .flatten()
                .filter(|s| s.0 == g && s.1 == b)
                .map(|s| s.3 * s.2)
                .sum();
            model.add_constraint(constraint!(load <= c));
        }
    }
    let solved = model
        .solve()
        .map_err(|e| AggregateError::Solver(e.to_string()))?;
    let mut work = vec![vec![0.0; nb]; cap.len()];
    let mut orders = Vec::new();
    let mut total = 0.0;
    for (j, job) in p.jobs.iter().enumerate() {
        let mut steps = Vec::new();
        for step in &y[j] {
            let mut shares: BTreeMap<usize, f64> = BTreeMap::new();
            for &(g, b, v, w) in step {
                let x = solved.value(v);
                if x > 1e-9 {
                    work[g][b] += x * w;
                    *shares.entry(b).or_insert(0.0) += x;
                }
            }
            steps.push(shares.into_iter().collect::<Vec<_>>());
        }
        let completion_bucket = steps.last().and_then(|s| s.last()).map_or(0, |&(b, _)| b);
        let weighted = job.weight * solved.value(lateness[j]);
        total += weighted;
        orders.push(OrderPlan {
            order: job.name.clone(),
            completion_bucket,
            completion_by_s: starts[completion_bucket] + bucket_s,
            due_s: job.due,
            weighted_lateness_s: weighted,
            steps,
        });
    }
    // Drop trailing buckets nobody uses.
    let used = work
        .iter()
        .flat_map(|w| w.iter().rposition(|x| *x > 1e-6))
        .max()
        .map_or(1, |b| b + 1);
    Ok(AggregatePlan {
        bucket_s,
        bucket_starts_s: starts[..used].to_vec(),
        groups: groups
            .keys()
            .enumerate()
            .map(|(g, &station)| GroupLoad {
                group: group_names
                    .get(station)
                    .cloned()
                    .unwrap_or_else(|| format!("group {g}")),
                work_s: work[g][..used].to_vec(),
                capacity_s: cap[g][..used].to_vec(),
            })
            .collect(),
        orders,
        objective: total,
    })
}
