//! From a solution (each operation's machine and the order on every machine) to start times: every
//! operation as early as its job predecessor, its machine predecessor plus setup, the job's release
//! and the machine's unavailability allow (a semi-active schedule).

use crate::problem::{Schedule, ScheduledOp, ShopProblem};

/// Machine assignment and sequences, by global operation id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solution {
    pub machine_of: Vec<usize>,
    pub sequences: Vec<Vec<usize>>,
}

/// Precomputed facts of a problem used on every decode.
#[derive(Debug, Clone)]
pub struct Context {
    pub owner: Vec<(usize, usize)>,
    /// Previous operation of the same job.
    pub job_pred: Vec<Option<usize>>,
    pub job_succ: Vec<Option<usize>>,
    pub release: Vec<i64>,
    /// Last operation of every job.
    pub last_op: Vec<usize>,
}

impl Context {
    pub fn new(p: &ShopProblem) -> Self {
        let owner = p.op_owner();
        let n = owner.len();
        let job_pred = (0..n).map(|i| (owner[i].1 > 0).then(|| i - 1)).collect();
        let job_succ = (0..n)
            .map(|i| (owner[i].1 + 1 < p.jobs[owner[i].0].operations.len()).then_some(i + 1))
            .collect();
        let release = owner.iter().map(|&(j, _)| p.jobs[j].release).collect();
        let last_op = p
            .op_ids()
            .iter()
            .map(|ids| ids.last().copied().unwrap_or(0))
            .collect();
        Context {
            owner,
            job_pred,
            job_succ,
            release,
            last_op,
        }
    }
}

/// Start times with what bound each operation (for the critical path).
#[derive(Debug, Clone)]
pub struct Timing {
    pub setup_start: Vec<i64>,
    pub start: Vec<i64>,
    pub end: Vec<i64>,
    pub machine_pred: Vec<Option<usize>>,
    /// Whether the start was set by the machine predecessor (plus setup) rather than the job.
    pub machine_bound: Vec<bool>,
    /// Whether the start was set by the job predecessor.
    pub job_bound: Vec<bool>,
    pub makespan: i64,
    /// Sum of the setup times (work, not counting breaks inside them).
    pub total_setup: i64,
    /// The operations in the order they were timed (a topological order).
    pub order: Vec<usize>,
}

/// Times of a solution, or `None` when its sequences contradict the job routings (a cycle).
pub fn times(p: &ShopProblem, ctx: &Context, sol: &Solution) -> Option<Timing> {
    let n = ctx.owner.len();
    let mut machine_pred = vec![None; n];
    let mut machine_succ = vec![None; n];
    for seq in &sol.sequences {
        for w in seq.windows(2) {
            machine_pred[w[1]] = Some(w[0]);
            machine_succ[w[0]] = Some(w[1]);
        }
    }
    let mut indeg: Vec<u8> = (0..n)
        .map(|i| u8::from(ctx.job_pred[i].is_some()) + u8::from(machine_pred[i].is_some()))
        .collect();
    let mut stack: Vec<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
    let (mut setup_start, mut start, mut end) = (vec![0; n], vec![0; n], vec![0; n]);
    let (mut machine_bound, mut job_bound) = (vec![false; n], vec![false; n]);
    let mut done = 0;
    let mut total_setup = 0;
    let mut order = Vec::with_capacity(n);
    while let Some(i) = stack.pop() {
        done += 1;
        order.push(i);
        let (j, k) = ctx.owner[i];
        let m = sol.machine_of[i];
        let d = p.duration(j, k, m)?;
        let s = p.setup(m, machine_pred[i], i);
        let job_ready = ctx.job_pred[i].map_or(ctx.release[i], |q| end[q]);
        let machine_ready = machine_pred[i].map_or(0, |q| end[q]);
        let (ss, st, en) = p.place(m, job_ready, machine_ready, s, d);
        setup_start[i] = ss;
        start[i] = st;
        end[i] = en;
        total_setup += s;
        // What set the start: the later of the two predecessors (both on a tie). A break or window
        // may have pushed it further; the path still runs through the binding predecessor.
        let machine_term = if p.setup_needs_job {
            machine_ready
        } else {
            machine_ready + s
        };
        machine_bound[i] = machine_pred[i].is_some() && machine_term >= job_ready;
        job_bound[i] = ctx.job_pred[i].is_some() && job_ready >= machine_term;
        for succ in [ctx.job_succ[i], machine_succ[i]].into_iter().flatten() {
            indeg[succ] -= 1;
            if indeg[succ] == 0 {
                stack.push(succ);
            }
        }
    }
    if done < n {
        return None;
    }
    let makespan = end.iter().copied().max().unwrap_or(0);
    Some(Timing {
        setup_start,
        start,
        end,
        machine_pred,
        machine_bound,
        job_bound,
        makespan,
        total_setup,
        order,
    })
}

/// The schedule of a solution, or `None` for a cyclic one.
pub fn decode(p: &ShopProblem, sol: &Solution) -> Option<Schedule> {
    let ctx = Context::new(p);
    let t = times(p, &ctx, sol)?;
    Some(Schedule {
        operations: ctx
            .owner
            .iter()
            .enumerate()
            .map(|(i, &(job, operation))| ScheduledOp {
                job,
                operation,
                machine: sol.machine_of[i],
                setup_start: t.setup_start[i],
                start: t.start[i],
                end: t.end[i],
            })
            .collect(),
    })
}

/// The critical path of a timing: operations from time 0 to the makespan, each bound by the one
/// before it.
pub fn critical_path(ctx: &Context, t: &Timing) -> Vec<usize> {
    match (0..t.end.len()).max_by_key(|&i| (t.end[i], std::cmp::Reverse(i))) {
        Some(last) => critical_path_to(ctx, t, last),
        None => vec![],
    }
}

/// The chain of binding predecessors that ends with operation `last` (for a late job, its last
/// operation).
pub fn critical_path_to(ctx: &Context, t: &Timing, last: usize) -> Vec<usize> {
    let mut i = last;
    let mut path = vec![i];
    loop {
        let next = if t.machine_bound[i] {
            t.machine_pred[i]
        } else if t.job_bound[i] {
            ctx.job_pred[i]
        } else {
            None
        };
        match next {
            Some(q) => {
                path.push(q);
                i = q;
            }
            None => break,
        }
    }
    path.reverse();
    path
}
