//! Constructive dispatching (Giffler-Thompson): repeatedly take the operation that can finish
//! earliest, and among the operations that could start before it on the same machine pick one by a
//! priority rule. Instant, and a good start for the search.

use crate::decode::Solution;
use crate::problem::ShopProblem;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Most work remaining in the job (good for makespan).
    MostWorkRemaining,
    /// Earliest due date (good for tardiness).
    EarliestDueDate,
    /// Shortest processing time, setup included.
    ShortestProcessing,
    /// Apparent tardiness cost with setups (Lee, Bhaskaran and Pinedo): weight per processing time,
    /// discounted by the slack to the due date and by the setup it needs (for weighted tardiness).
    Atcs,
}

/// ATCS look-ahead parameters: slack in units of the mean processing time, setups in units of the
/// mean setup of the candidates.
const ATCS_K1: f64 = 2.0;
const ATCS_K2: f64 = 0.75;

pub fn dispatch(p: &ShopProblem, rule: Rule) -> Solution {
    dispatch_until(p, rule, &|| false).unwrap_or_else(|| job_order(p))
}

/// [`dispatch`] that gives up (`None`) once `stop` says so; it is asked before every operation.
///
/// Each machine keeps the jobs whose next operation may run on it and the one of them that can end
/// first; a step changes one machine and one job, so only their queues are looked at again (not
/// every job): a step costs the chosen machine's queue. On a line whose few machines queue most of
/// a big book, a rule can still take longer than a time limit allows.
pub fn dispatch_until(
    p: &ShopProblem,
    rule: Rule,
    stop: &(dyn Fn() -> bool + Sync),
) -> Option<Solution> {
    let ids = p.op_ids();
    let n = p.n_ops();
    let mut next = vec![0usize; p.jobs.len()];
    let mut job_ready: Vec<i64> = p.jobs.iter().map(|j| j.release).collect();
    let mut machine_ready = vec![0i64; p.machines];
    let mut last: Vec<Option<usize>> = vec![None; p.machines];
    let mut sol = Solution {
        machine_of: vec![0; n],
        sequences: vec![Vec::new(); p.machines],
    };
    // Work remaining per (job, op): the sum of the shortest alternatives from op on.
    let remaining: Vec<Vec<i64>> = p
        .jobs
        .iter()
        .map(|j| {
            let mut acc = 0;
            let mut r: Vec<i64> = j
                .operations
                .iter()
                .rev()
                .map(|o| {
                    acc += o.alternatives.iter().map(|a| a.1).min().unwrap_or(0);
                    acc
                })
                .collect();
            r.reverse();
            r
        })
        .collect();
    let mean_processing =
        remaining.iter().filter_map(|r| r.first()).sum::<i64>() as f64 / n.max(1) as f64;
    // Per machine: the jobs whose next operation may run on it, and the (end, job) that ends first.
    let mut queue: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); p.machines];
    let mut first: Vec<Option<(i64, usize)>> = vec![None; p.machines];
    // The machines' firsts as (end, machine, job): the step's operation is the least.
    let mut frontier: BTreeSet<(i64, usize, usize)> = BTreeSet::new();
    // Every candidate of job `j` on machine `m`: (start, end, setup + duration), in the order of its
    // operation's alternatives.
    let op_ids = &ids;
    let candidates = move |j: usize,
                           m: usize,
                           next: &[usize],
                           job_ready: &[i64],
                           machine_ready: &[i64],
                           last: &[Option<usize>]| {
        let k = next[j];
        let id = op_ids[j][k];
        let (ready, free, before) = (job_ready[j], machine_ready[m], last[m]);
        p.jobs[j].operations[k]
            .alternatives
            .iter()
            .filter(move |a| a.0 == m)
            .map(move |&(_, d)| {
                let s = p.setup(m, before, id);
                let (_, st, end) = p.place(m, ready, free, s, d);
                (st, end, s + d)
            })
    };
    let set_first = |m: usize,
                     value: Option<(i64, usize)>,
                     first: &mut [Option<(i64, usize)>],
                     frontier: &mut BTreeSet<(i64, usize, usize)>| {
        if let Some((end, j)) = first[m] {
            frontier.remove(&(end, m, j));
        }
        if let Some((end, j)) = value {
            frontier.insert((end, m, j));
        }
        first[m] = value;
    };
    macro_rules! first_of {
        ($m:expr) => {{
            let m = $m;
            queue[m]
                .iter()
                .flat_map(|&j| {
                    candidates(j, m, &next, &job_ready, &machine_ready, &last)
                        .map(move |c| (c.1, j))
                })
                .min()
        }};
    }
    for (j, job) in p.jobs.iter().enumerate() {
        for &(m, _) in &job.operations[0].alternatives {
            queue[m].insert(j);
        }
    }
    for m in 0..p.machines {
        let value = first_of!(m);
        set_first(m, value, &mut first, &mut frontier);
    }
    for _ in 0..n {
        if stop() {
            return None;
        }
        let Some(&(end_star, m_star, _)) = frontier.first() else {
            break;
        };
        // The conflict set: candidates on that machine that could start before it finishes.
        // (job, start, setup + duration, end)
        let conflict: Vec<(usize, i64, i64, i64)> = queue[m_star]
            .iter()
            .flat_map(|&j| {
                candidates(j, m_star, &next, &job_ready, &machine_ready, &last)
                    .filter(|c| c.0 < end_star)
                    .map(move |c| (j, c.0, c.2, c.1))
            })
            .collect();
        let now = conflict.iter().map(|c| c.1).min().unwrap_or(0) as f64;
        let mean_setup = {
            let setups: Vec<f64> = conflict
                .iter()
                .map(|c| {
                    let d = p.duration(c.0, next[c.0], m_star).unwrap_or(0);
                    (c.2 - d) as f64
                })
                .collect();
            setups.iter().sum::<f64>() / setups.len().max(1) as f64
        };
        let key = |c: &(usize, i64, i64, i64)| -> f64 {
            let job = &p.jobs[c.0];
            match rule {
                Rule::MostWorkRemaining => -(remaining[c.0][next[c.0]] as f64),
                Rule::EarliestDueDate => job.due.map_or(f64::INFINITY, |d| d as f64),
                Rule::ShortestProcessing => c.2 as f64,
                Rule::Atcs => {
                    let d = p.duration(c.0, next[c.0], m_star).unwrap_or(0) as f64;
                    let setup = c.2 as f64 - d;
                    let slack = job.due.map_or(f64::INFINITY, |due| {
                        (due as f64 - remaining[c.0][next[c.0]] as f64 - now).max(0.0)
                    });
                    let urgency = (-slack / (ATCS_K1 * mean_processing.max(1.0))).exp();
                    let setup_cost = if mean_setup > 0.0 {
                        (-setup / (ATCS_K2 * mean_setup)).exp()
                    } else {
                        1.0
                    };
                    -(job.weight / d.max(1.0) * urgency * setup_cost)
                }
            }
        };
        let chosen = conflict
            .iter()
            .min_by(|a, b| {
                key(a)
                    .total_cmp(&key(b))
                    .then(a.1.cmp(&b.1))
                    .then(a.0.cmp(&b.0))
            })
            .copied();
        let Some((j, _, _, end)) = chosen else {
            break;
        };
        let m = m_star;
        let id = ids[j][next[j]];
        sol.machine_of[id] = m;
        sol.sequences[m].push(id);
        last[m] = Some(id);
        machine_ready[m] = end;
        job_ready[j] = end;
        // The job leaves the queues of its operation's machines; where it was the first, another is
        // (the chosen machine is looked at again below).
        for &(mm, _) in &p.jobs[j].operations[next[j]].alternatives {
            queue[mm].remove(&j);
            if mm != m && first[mm].is_some_and(|f| f.1 == j) {
                let value = first_of!(mm);
                set_first(mm, value, &mut first, &mut frontier);
            }
        }
        next[j] += 1;
        // It joins the queues of its next operation's machines.
        if let Some(op) = p.jobs[j].operations.get(next[j]) {
            for &(mm, _) in &op.alternatives {
                queue[mm].insert(j);
                if mm == m {
                    continue;
                }
                let mine = candidates(j, mm, &next, &job_ready, &machine_ready, &last)
                    .map(|c| (c.1, j))
                    .min();
                if mine.is_some_and(|x| first[mm].is_none_or(|f| x < f)) {
                    set_first(mm, mine, &mut first, &mut frontier);
                }
            }
        }
        // The machine's state changed: every candidate of its queue.
        let value = first_of!(m);
        set_first(m, value, &mut first, &mut frontier);
    }
    Some(sol)
}

/// Jobs one after the other (earliest due date, then release, then order), each operation on the
/// eligible machine that can finish it first. Every machine sequence follows that one order of
/// jobs, so the schedule is acyclic. Linear in the operations: the start a search has when a time
/// limit leaves no room for the dispatching rules.
pub fn job_order(p: &ShopProblem) -> Solution {
    let mut order: Vec<usize> = (0..p.jobs.len()).collect();
    order.sort_by_key(|&j| (p.jobs[j].due.unwrap_or(i64::MAX), p.jobs[j].release, j));
    jobs_in_order(p, &order)
}

/// [`job_order`] with the jobs due within the same window of `window` time units batched by setup
/// class (their first operation's), due date order within a batch: a lot follows one of its own
/// kind instead of paying a setup, at the price of lateness within a window. Linear but for the
/// sort; the starts a search has on a big book with setups, where the dispatching rules cannot
/// finish within the time limit.
pub fn job_order_batched(p: &ShopProblem, window: i64) -> Solution {
    let ids = p.op_ids();
    let class = |j: usize| p.setups.as_ref().map_or(0, |s| s.class_of[ids[j][0]]);
    let window = window.max(1);
    let mut order: Vec<usize> = (0..p.jobs.len()).collect();
    order.sort_by_key(|&j| {
        let due = p.jobs[j].due.unwrap_or(i64::MAX);
        (due.div_euclid(window), class(j), due, p.jobs[j].release, j)
    });
    jobs_in_order(p, &order)
}

/// The jobs one after the other in `order`, each operation on the eligible machine that can finish
/// it first.
fn jobs_in_order(p: &ShopProblem, order: &[usize]) -> Solution {
    let ids = p.op_ids();
    let n = p.n_ops();
    let mut machine_ready = vec![0i64; p.machines];
    let mut last: Vec<Option<usize>> = vec![None; p.machines];
    let mut sol = Solution {
        machine_of: vec![0; n],
        sequences: vec![Vec::new(); p.machines],
    };
    for &j in order {
        let mut ready = p.jobs[j].release;
        for (k, op) in p.jobs[j].operations.iter().enumerate() {
            let id = ids[j][k];
            let best = op
                .alternatives
                .iter()
                .map(|&(m, d)| {
                    let s = p.setup(m, last[m], id);
                    let (_, _, end) = p.place(m, ready, machine_ready[m], s, d);
                    (end, m)
                })
                .min();
            let Some((end, m)) = best else { continue };
            sol.machine_of[id] = m;
            sol.sequences[m].push(id);
            last[m] = Some(id);
            machine_ready[m] = end;
            ready = end;
        }
    }
    sol
}
