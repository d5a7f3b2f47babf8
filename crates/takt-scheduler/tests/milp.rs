//! The exact model proves optima of small instances, and its schedules pass the checker.
#![cfg(feature = "milp")]

mod common;
use common::FT06;
use std::time::Duration;
use takt_scheduler::instances::{Format, read};
use takt_scheduler::milp::{MilpError, solve};
use takt_scheduler::objective::Objective;
use takt_scheduler::tabu::{self, Limits};
use takt_scheduler::{Setups, check, decode};

#[test]
fn milp_proves_the_ft06_optimum() {
    let p = read(FT06, Format::Jssp, "ft06").expect("reads");
    let warm = tabu::solve(
        &p,
        &Objective::makespan(),
        1,
        1,
        Limits {
            time: Duration::from_secs(5),
            iterations: 200,
        },
    );
    let r = solve(&p, 120.0, Some(&warm)).expect("solves");
    assert_eq!(r.makespan, 55);
    assert!(r.proven_optimal);
    let s = decode(&p, &r.solution).expect("acyclic");
    assert!(check(&p, &s).is_empty());
}

#[test]
fn milp_solves_a_small_flexible_shop_with_releases() {
    // Job 0: op on M0 (4) or M1 (6), then M1 (3). Job 1: M0 (5), then M0 (4) or M1 (2). Job 2 released at 3.
    let mut p = read(
        "3 2\n2 2 0 4 1 6 1 1 3\n2 1 0 5 2 0 4 1 2\n1 2 0 6 1 5\n",
        Format::Fjsp,
        "flex",
    )
    .expect("reads");
    p.jobs[2].release = 3;
    let r = solve(&p, 60.0, None).expect("solves");
    assert!(r.proven_optimal);
    let s = decode(&p, &r.solution).expect("acyclic");
    assert!(check(&p, &s).is_empty(), "{:?}", check(&p, &s));
    // No heuristic schedule is shorter than the proven optimum.
    let h = tabu::solve(
        &p,
        &Objective::makespan(),
        1,
        2,
        Limits {
            time: Duration::from_secs(5),
            iterations: 2_000,
        },
    );
    let hs = decode(&p, &h).expect("acyclic").makespan();
    assert!(
        hs >= r.makespan,
        "heuristic {hs} < proven optimum {}",
        r.makespan
    );
}

#[test]
fn milp_says_what_it_does_not_model() {
    let mut p = read("1 1\n0 3\n", Format::Jssp, "tiny").expect("reads");
    p.setups = Some(Setups::per_operation(vec![vec![vec![0]]]));
    assert_eq!(
        solve(&p, 1.0, None).unwrap_err(),
        MilpError::Unsupported("sequence-dependent setups")
    );
    p.setups = None;
    p.unavailable[0] = vec![(1, 2)];
    assert!(
        solve(&p, 1.0, None)
            .unwrap_err()
            .to_string()
            .contains("unavailability")
    );
}
