//! The lower bounds hold: no schedule any solver finds beats them (random flexible shops with
//! releases, due dates, weights and breaks), none beats the single-machine tardiness bound among all
//! sequences (brute force), and they are exact where the relaxation is the problem.

mod common;
use common::FT06;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::time::Duration;
use takt_scheduler::bounds::lower_bounds;
use takt_scheduler::dispatch::{Rule, dispatch};
use takt_scheduler::instances::{Format, read};
use takt_scheduler::objective::Objective;
use takt_scheduler::problem::{Job, Operation};
use takt_scheduler::tabu::{Limits, solve};
use takt_scheduler::{ShopProblem, check, decode};

fn job(release: i64, due: Option<i64>, weight: f64, ops: Vec<Vec<(usize, i64)>>) -> Job {
    Job {
        name: format!("J{release}-{}", ops.len()),
        release,
        due,
        weight,
        operations: ops
            .into_iter()
            .map(|alternatives| Operation { alternatives })
            .collect(),
    }
}

/// A flexible flow shop of `stages` stages of one to three machines, breaks on some machines.
fn random_shop(rng: &mut Xoshiro256PlusPlus, n: usize, stages: usize) -> ShopProblem {
    let sizes: Vec<usize> = (0..stages).map(|_| rng.random_range(1..=3)).collect();
    let firsts: Vec<usize> = sizes
        .iter()
        .scan(0, |next, s| {
            *next += s;
            Some(*next - s)
        })
        .collect();
    let machines = sizes.iter().sum();
    let jobs = (0..n)
        .map(|_| {
            let release = rng.random_range(0..40);
            let ops: Vec<Vec<(usize, i64)>> = (0..stages)
                .map(|s| {
                    (0..sizes[s])
                        .map(|k| (firsts[s] + k, rng.random_range(1..15)))
                        .collect()
                })
                .collect();
            let work: i64 = ops.iter().map(|o| o[0].1).sum();
            let due = rng
                .random_bool(0.8)
                .then(|| release + work + rng.random_range(0..30));
            job(release, due, rng.random_range(1..4) as f64, ops)
        })
        .collect();
    let mut p = ShopProblem::new("random", machines, jobs);
    for m in 0..machines {
        if rng.random_bool(0.4) {
            let a = rng.random_range(5..60);
            p.breaks[m] = vec![(a, a + rng.random_range(1..20)), (a + 40, a + 50)];
        }
    }
    p
}

#[test]
fn no_schedule_beats_the_bounds() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(24);
    let mut load_decided = 0;
    for case in 0..60 {
        let (n, stages) = (rng.random_range(2..12), rng.random_range(1..4));
        let p = random_shop(&mut rng, n, stages);
        p.validate().expect("valid");
        let b = lower_bounds(&p);
        let mut schedules: Vec<_> = [
            Rule::MostWorkRemaining,
            Rule::EarliestDueDate,
            Rule::ShortestProcessing,
            Rule::Atcs,
        ]
        .into_iter()
        .map(|r| dispatch(&p, r))
        .collect();
        let limits = Limits {
            time: Duration::from_secs(30),
            iterations: 300,
        };
        for objective in ["makespan", "tardiness", "late,tardiness"] {
            let o: Objective = objective.parse().expect("objective");
            schedules.push(solve(&p, &o, case, 1, limits));
        }
        let mut best_makespan = i64::MAX;
        for sol in &schedules {
            let s = decode(&p, sol).expect("acyclic");
            assert!(check(&p, &s).is_empty(), "case {case}: infeasible");
            assert!(s.makespan() >= b.makespan, "case {case}: {b:?}");
            assert!(
                s.total_weighted_tardiness(&p) >= b.weighted_tardiness - 1e-9,
                "case {case}: {} < {b:?}",
                s.total_weighted_tardiness(&p)
            );
            assert!(s.late_jobs(&p) >= b.late_jobs, "case {case}: {b:?}");
            best_makespan = best_makespan.min(s.makespan());
        }
        // The load bound, not only the jobs' own paths, decides in some cases.
        let paths = p
            .jobs
            .iter()
            .map(|j| {
                j.operations.iter().fold(j.release, |t, o| {
                    o.alternatives
                        .iter()
                        .map(|&(m, d)| p.finish(m, t, d))
                        .min()
                        .expect("machine")
                })
            })
            .max()
            .expect("jobs");
        if b.makespan > paths {
            load_decided += 1;
        }
        assert!(best_makespan >= b.makespan);
    }
    assert!(load_decided >= 10, "{load_decided} of 60");
}

/// One machine, releases and due dates: the tardiness bound is below the best of every sequence.
#[test]
fn the_tardiness_bound_holds_against_every_sequence() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut positive = 0;
    for case in 0..200 {
        let n = rng.random_range(2..7);
        let jobs: Vec<Job> = (0..n)
            .map(|_| {
                let release = rng.random_range(0..20);
                let p = rng.random_range(1..10);
                job(
                    release,
                    Some(release + rng.random_range(0..15)),
                    1.0,
                    vec![vec![(0, p)]],
                )
            })
            .collect();
        let p = ShopProblem::new("one", 1, jobs);
        let b = lower_bounds(&p);
        let mut order: Vec<usize> = (0..n).collect();
        let mut best = i64::MAX;
        permute(&mut order, 0, &mut |seq| {
            let mut t = 0;
            let mut tardiness = 0;
            for &j in seq {
                let job = &p.jobs[j];
                t = t.max(job.release) + job.operations[0].alternatives[0].1;
                tardiness += (t - job.due.expect("due")).max(0);
            }
            best = best.min(tardiness);
        });
        assert!(
            b.weighted_tardiness <= best as f64 + 1e-9,
            "case {case}: bound {} above the optimum {best}",
            b.weighted_tardiness
        );
        if b.weighted_tardiness > 0.0 {
            positive += 1;
        }
    }
    assert!(positive >= 50, "{positive}");
}

fn permute(v: &mut Vec<usize>, k: usize, visit: &mut impl FnMut(&[usize])) {
    if k == v.len() {
        visit(v);
        return;
    }
    for i in k..v.len() {
        v.swap(k, i);
        permute(v, k + 1, visit);
        v.swap(k, i);
    }
}

#[test]
fn the_bounds_are_exact_where_the_relaxation_is_the_problem() {
    // One machine, everything at 0: the work; shortest first is optimal for tardiness with dues at 0.
    let p = ShopProblem::new(
        "one",
        1,
        [1, 2, 3]
            .map(|d| job(0, Some(0), 1.0, vec![vec![(0, d)]]))
            .to_vec(),
    );
    let b = lower_bounds(&p);
    assert_eq!(b.makespan, 6);
    assert_eq!(b.weighted_tardiness, 1.0 + 3.0 + 6.0);
    assert_eq!(b.late_jobs, 3);
    // Two machines, four lots of 10: 20. A break of machine 1 in [0, 10): 25.
    let mut p = ShopProblem::new(
        "two",
        2,
        (0..4)
            .map(|_| job(0, None, 1.0, vec![vec![(0, 10), (1, 10)]]))
            .collect(),
    );
    assert_eq!(lower_bounds(&p).makespan, 20);
    p.breaks[1] = vec![(0, 10)];
    assert_eq!(lower_bounds(&p).makespan, 25);
    // A lot over a break on its only machine pauses there.
    let mut p = ShopProblem::new(
        "paused",
        1,
        vec![job(0, Some(10), 2.0, vec![vec![(0, 10)]])],
    );
    p.breaks[0] = vec![(5, 15)];
    let b = lower_bounds(&p);
    assert_eq!(
        (b.makespan, b.weighted_tardiness, b.late_jobs),
        (20, 20.0, 1)
    );
    // ft06: below its optimum, 55.
    let p = read(FT06, Format::Jssp, "ft06").expect("reads");
    let b = lower_bounds(&p);
    assert!(b.makespan > 40 && b.makespan <= 55, "{b:?}");
}
