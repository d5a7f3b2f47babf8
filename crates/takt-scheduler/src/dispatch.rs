//! Constructive dispatching (Giffler-Thompson): repeatedly take the operation that can finish
//! earliest, and among the operations that could start before it on the same machine pick one by a
//! priority rule. Instant, and a good start for the search.

use crate::decode::Solution;
use crate::problem::Problem;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Most work remaining in the job (good for makespan).
    MostWorkRemaining,
    /// Earliest due date (good for tardiness).
    EarliestDueDate,
    /// Shortest processing time, setup included.
    ShortestProcessing,
}

pub fn dispatch(p: &Problem, rule: Rule) -> Solution {
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
    for _ in 0..n {
        // Every candidate (job, machine) with its earliest start and end.
        let mut cands = Vec::new();
        for (j, job) in p.jobs.iter().enumerate() {
            let k = next[j];
            let Some(op) = job.operations.get(k) else {
                continue;
            };
            let id = ids[j][k];
            for &(m, d) in &op.alternatives {
                let s = p.setup(m, last[m], id);
                let st = p.earliest_start(m, job_ready[j].max(machine_ready[m] + s), s, d);
                cands.push((j, m, st, st + d, s + d));
            }
        }
        let Some(&(_, m_star, _, end_star, _)) = cands.iter().min_by_key(|c| (c.3, c.1, c.0))
        else {
            break;
        };
        // The conflict set: candidates on that machine that could start before it finishes.
        let chosen = cands
            .iter()
            .filter(|c| c.1 == m_star && c.2 < end_star)
            .min_by(|a, b| {
                let key = |c: &(usize, usize, i64, i64, i64)| -> (i64, i64) {
                    match rule {
                        Rule::MostWorkRemaining => (-remaining[c.0][next[c.0]], c.2),
                        Rule::EarliestDueDate => (p.jobs[c.0].due.unwrap_or(i64::MAX), c.2),
                        Rule::ShortestProcessing => (c.4, c.2),
                    }
                };
                key(a).cmp(&key(b)).then(a.0.cmp(&b.0))
            })
            .copied();
        let Some((j, m, _st, end, _)) = chosen else {
            break;
        };
        let id = ids[j][next[j]];
        sol.machine_of[id] = m;
        sol.sequences[m].push(id);
        last[m] = Some(id);
        machine_ready[m] = end;
        job_ready[j] = end;
        next[j] += 1;
    }
    sol
}
