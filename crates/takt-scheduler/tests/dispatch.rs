//! The dispatching rules keep a queue per machine and look again only at what a step changed; the
//! plain Giffler-Thompson procedure, which looks at every job on every step, is the reference: for
//! every rule, on random flexible shops with releases, due dates, setups, breaks and unavailability,
//! both choose the same operation at every step.

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use takt_scheduler::dispatch::{Rule, dispatch};
use takt_scheduler::problem::{Job, Operation};
use takt_scheduler::{SetupTable, Setups, ShopProblem, Solution};

/// Giffler-Thompson as written first: every candidate (job, machine) on every step.
fn reference(p: &ShopProblem, rule: Rule) -> Solution {
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
                let (_, st, end) = p.place(m, job_ready[j], machine_ready[m], s, d);
                cands.push((j, m, st, end, s + d));
            }
        }
        let Some(&(_, m_star, _, end_star, _)) = cands.iter().min_by_key(|c| (c.3, c.1, c.0))
        else {
            break;
        };
        // The conflict set: candidates on that machine that could start before it finishes.
        let conflict: Vec<_> = cands
            .iter()
            .filter(|c| c.1 == m_star && c.2 < end_star)
            .copied()
            .collect();
        let now = conflict.iter().map(|c| c.2).min().unwrap_or(0) as f64;
        let mean_setup = {
            let setups: Vec<f64> = conflict
                .iter()
                .map(|c| {
                    let d = p.duration(c.0, next[c.0], c.1).unwrap_or(0);
                    (c.4 - d) as f64
                })
                .collect();
            setups.iter().sum::<f64>() / setups.len().max(1) as f64
        };
        let key = |c: &(usize, usize, i64, i64, i64)| -> f64 {
            let job = &p.jobs[c.0];
            match rule {
                Rule::MostWorkRemaining => -(remaining[c.0][next[c.0]] as f64),
                Rule::EarliestDueDate => job.due.map_or(f64::INFINITY, |d| d as f64),
                Rule::ShortestProcessing => c.4 as f64,
                Rule::Atcs => {
                    let d = p.duration(c.0, next[c.0], c.1).unwrap_or(0) as f64;
                    let setup = c.4 as f64 - d;
                    let slack = job.due.map_or(f64::INFINITY, |due| {
                        (due as f64 - remaining[c.0][next[c.0]] as f64 - now).max(0.0)
                    });
                    let urgency = (-slack / (2.0 * mean_processing.max(1.0))).exp();
                    let setup_cost = if mean_setup > 0.0 {
                        (-setup / (0.75 * mean_setup)).exp()
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
                    .then(a.2.cmp(&b.2))
                    .then(a.0.cmp(&b.0))
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

fn random_shop(rng: &mut Xoshiro256PlusPlus) -> ShopProblem {
    let machines = rng.random_range(1..7);
    let n = rng.random_range(1..25);
    let classes = rng.random_range(1..4);
    let jobs: Vec<Job> = (0..n)
        .map(|j| {
            let release = rng.random_range(0..50);
            let ops = rng.random_range(1..5);
            Job {
                name: format!("J{j}"),
                release,
                due: rng
                    .random_bool(0.7)
                    .then(|| release + rng.random_range(10..120)),
                weight: rng.random_range(1..4) as f64,
                operations: (0..ops)
                    .map(|_| {
                        let mut alternatives: Vec<(usize, i64)> = Vec::new();
                        for m in 0..machines {
                            if rng.random_bool(0.5) {
                                alternatives.push((m, rng.random_range(1..20)));
                            }
                        }
                        if alternatives.is_empty() {
                            alternatives.push((rng.random_range(0..machines), 5));
                        }
                        Operation { alternatives }
                    })
                    .collect(),
            }
        })
        .collect();
    let mut p = ShopProblem::new("random", machines, jobs);
    let n_ops = p.n_ops();
    if rng.random_bool(0.6) {
        p.setup_needs_job = rng.random_bool(0.5);
        p.setups = Some(Setups {
            class_of: (0..n_ops).map(|_| rng.random_range(0..classes)).collect(),
            table_of: (0..machines).map(|m| m % 2).collect(),
            tables: vec![
                SetupTable::Sparse {
                    default: rng.random_range(0..10),
                    pairs: vec![((0, 1), 3)],
                },
                SetupTable::dense(
                    (0..classes)
                        .map(|_| (0..classes).map(|_| rng.random_range(0..8)).collect())
                        .collect(),
                ),
            ],
        });
    }
    for m in 0..machines {
        if rng.random_bool(0.3) {
            let a = rng.random_range(10..60);
            p.breaks[m] = vec![(a, a + rng.random_range(1..15))];
        }
        if rng.random_bool(0.2) {
            let a = rng.random_range(80..120);
            p.unavailable[m] = vec![(a, a + rng.random_range(1..15))];
        }
    }
    p
}

#[test]
fn every_rule_chooses_as_the_plain_procedure_does() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2024);
    for case in 0..400 {
        let p = random_shop(&mut rng);
        p.validate().expect("valid");
        for rule in [
            Rule::MostWorkRemaining,
            Rule::EarliestDueDate,
            Rule::ShortestProcessing,
            Rule::Atcs,
        ] {
            assert_eq!(
                dispatch(&p, rule),
                reference(&p, rule),
                "case {case}, {rule:?}"
            );
        }
    }
}
