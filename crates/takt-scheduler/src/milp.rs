//! An exact model through good_lp with the HiGHS solver: the disjunctive big-M formulation of the
//! flexible job shop (assignment binaries per eligible machine, an order binary per pair of
//! operations that may share a machine), releases included, makespan minimized. Warm-started from a
//! heuristic schedule. It proves optima of small instances; beyond about 10x10 it is weak (the
//! search is the tool there), which is why it reports whether optimality was proven.

use crate::decode::Solution;
use crate::problem::ShopProblem;
use good_lp::solvers::highs::highs;
use good_lp::{
    Expression, ProblemVariables, ResolutionError, Solution as _, SolutionStatus, SolverModel,
    Variable, WithInitialSolution, constraint, variable,
};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MilpError {
    #[error("the MILP model does not cover {0}; use the search solver")]
    Unsupported(&'static str),
    #[error("the solver failed: {0}")]
    Solver(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MilpResult {
    pub solution: Solution,
    pub makespan: i64,
    /// The solver proved that no schedule is shorter.
    pub proven_optimal: bool,
}

/// Solves `p` for makespan within `seconds`, starting from `warm` if given.
pub fn solve(
    p: &ShopProblem,
    seconds: f64,
    warm: Option<&Solution>,
) -> Result<MilpResult, MilpError> {
    if p.setups.is_some() {
        return Err(MilpError::Unsupported("sequence-dependent setups"));
    }
    if p.unavailable.iter().any(|w| !w.is_empty()) {
        return Err(MilpError::Unsupported("machine unavailability windows"));
    }
    if p.breaks.iter().any(|w| !w.is_empty()) {
        return Err(MilpError::Unsupported(
            "breaks (shifts, planned maintenance)",
        ));
    }
    let owner = p.op_owner();
    let n = owner.len();
    let alts = |i: usize| &p.jobs[owner[i].0].operations[owner[i].1].alternatives;
    // A horizon that no optimal schedule exceeds: every operation on its slowest machine, in series.
    let big_m: f64 = p.jobs.iter().map(|j| j.release).max().unwrap_or(0) as f64
        + (0..n)
            .map(|i| alts(i).iter().map(|a| a.1).max().unwrap_or(0))
            .sum::<i64>() as f64;
    let mut vars = ProblemVariables::new();
    let start: Vec<Variable> = (0..n)
        .map(|_| vars.add(variable().min(0.0).max(big_m)))
        .collect();
    let assign: Vec<Vec<(usize, i64, Variable)>> = (0..n)
        .map(|i| {
            alts(i)
                .iter()
                .map(|&(m, d)| (m, d, vars.add(variable().binary())))
                .collect()
        })
        .collect();
    let cmax = vars.add(variable().min(0.0).max(big_m));
    // Order binaries for pairs that can meet on a machine.
    let mut pairs = Vec::new();
    for a in 0..n {
        for b in a + 1..n {
            if owner[a].0 == owner[b].0 {
                continue; // the routing orders them already
            }
            for &(m, _, xa) in &assign[a] {
                if let Some(&(_, _, xb)) = assign[b].iter().find(|x| x.0 == m) {
                    pairs.push((a, b, xa, xb, vars.add(variable().binary())));
                }
            }
        }
    }
    let duration =
        |i: usize| -> Expression { assign[i].iter().map(|&(_, d, x)| d as f64 * x).sum() };
    // Data are integers, so a makespan within less than 1 of the bound is optimal: stop there, and
    // count a gap stop as a proof.
    let mut model = highs(vars.minimise(cmax))
        .set_time_limit(seconds)
        .set_threads(1)
        .set_mip_abs_gap(0.999)
        .and_then(|m| m.set_mip_rel_gap(0.0))
        .map_err(|e| MilpError::Solver(format!("{e:?}")))?;
    model.set_verbose(false);
    for i in 0..n {
        let (j, k) = owner[i];
        let one: Expression = assign[i].iter().map(|x| x.2).sum();
        model.add_constraint(constraint!(one == 1.0));
        if k == 0 {
            model.add_constraint(constraint!(start[i] >= p.jobs[j].release as f64));
        } else {
            model.add_constraint(constraint!(start[i] >= start[i - 1] + duration(i - 1)));
        }
        if k + 1 == p.jobs[j].operations.len() {
            model.add_constraint(constraint!(cmax >= start[i] + duration(i)));
        }
    }
    for &(a, b, xa, xb, y) in &pairs {
        // y = 1: a before b; only binding when both are on this machine.
        model.add_constraint(constraint!(
            start[b] >= start[a] + duration(a) - big_m * (1.0 - y) - big_m * (2.0 - xa - xb)
        ));
        model.add_constraint(constraint!(
            start[a] >= start[b] + duration(b) - big_m * y - big_m * (2.0 - xa - xb)
        ));
    }
    if let Some(w) = warm
        && let Some(t) = crate::decode::decode(p, w)
    {
        let mut init: Vec<(Variable, f64)> = Vec::new();
        for i in 0..n {
            init.push((start[i], t.operations[i].start as f64));
            for &(m, _, x) in &assign[i] {
                init.push((x, if w.machine_of[i] == m { 1.0 } else { 0.0 }));
            }
        }
        for &(a, b, _, _, y) in &pairs {
            init.push((
                y,
                if t.operations[a].start <= t.operations[b].start {
                    1.0
                } else {
                    0.0
                },
            ));
        }
        init.push((cmax, t.makespan() as f64));
        model = model.with_initial_solution(init);
    }
    let solved = model
        .solve()
        .map_err(|e: ResolutionError| MilpError::Solver(e.to_string()))?;
    // Read the assignment and order machines by start time.
    let starts: Vec<f64> = start.iter().map(|&s| solved.value(s)).collect();
    let machine_of: Vec<usize> = (0..n)
        .map(|i| {
            assign[i]
                .iter()
                .max_by(|a, b| solved.value(a.2).total_cmp(&solved.value(b.2)))
                .map_or(0, |a| a.0)
        })
        .collect();
    let mut sequences = vec![Vec::new(); p.machines];
    let mut order: Vec<usize> = (0..n).collect();
    // Starts are whole seconds; the solver's are within its tolerance of them. Rounded, ties go
    // to the lower operation id, which follows each job's order, so the sequences are acyclic
    // even where operations of no time share a start.
    order.sort_by(|&a, &b| {
        starts[a]
            .round()
            .total_cmp(&starts[b].round())
            .then(a.cmp(&b))
    });
    for i in order {
        sequences[machine_of[i]].push(i);
    }
    let solution = Solution {
        machine_of,
        sequences,
    };
    let makespan = crate::decode::decode(p, &solution)
        .ok_or_else(|| MilpError::Solver("the solution's sequences are cyclic".into()))?
        .makespan();
    Ok(MilpResult {
        solution,
        makespan,
        proven_optimal: matches!(
            solved.status(),
            SolutionStatus::Optimal | SolutionStatus::GapLimit
        ),
    })
}
