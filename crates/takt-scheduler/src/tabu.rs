//! Tabu search for makespan over the critical path. Moves: swap the first two or the last two
//! operations of each critical block (the N5 neighbourhood of Nowicki and Smutnicki), and, in a
//! flexible shop, move a critical operation to another eligible machine. Every candidate is evaluated
//! exactly by re-timing the solution in place and then undone. After a long run without improvement
//! the search restarts from the best solution, perturbed. Several independent searches (seeds) run in
//! parallel with rayon; with an iteration limit the result is deterministic for a seed.

use crate::decode::{Context, Solution, Timing, critical_path, times};
use crate::dispatch::{Rule, dispatch};
use crate::problem::Problem;
use rand::{Rng, RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub time: Duration,
    pub iterations: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    /// Swap positions `pos` and `pos + 1` on machine `m`.
    Swap { m: usize, pos: usize },
    /// Move operation `op` from position `from_pos` on machine `from` to position `to_pos` on `to`.
    Reassign {
        op: usize,
        from: usize,
        from_pos: usize,
        to: usize,
        to_pos: usize,
    },
}

fn apply(sol: &mut Solution, mv: Move) {
    match mv {
        Move::Swap { m, pos } => sol.sequences[m].swap(pos, pos + 1),
        Move::Reassign {
            op,
            from,
            from_pos,
            to,
            to_pos,
        } => {
            sol.sequences[from].remove(from_pos);
            sol.sequences[to].insert(to_pos, op);
            sol.machine_of[op] = to;
        }
    }
}

fn undo(sol: &mut Solution, mv: Move) {
    match mv {
        Move::Swap { m, pos } => sol.sequences[m].swap(pos, pos + 1),
        Move::Reassign {
            op,
            from,
            from_pos,
            to,
            to_pos,
        } => {
            sol.sequences[to].remove(to_pos);
            sol.sequences[from].insert(from_pos, op);
            sol.machine_of[op] = from;
        }
    }
}

fn neighbourhood(p: &Problem, ctx: &Context, sol: &Solution, t: &Timing) -> Vec<Move> {
    let path = critical_path(ctx, t);
    let pos_of = |op: usize| {
        let m = sol.machine_of[op];
        sol.sequences[m]
            .iter()
            .position(|&x| x == op)
            .map(|pos| (m, pos))
    };
    // Blocks: runs of the path on one machine, consecutive in its sequence.
    let mut blocks: Vec<Vec<usize>> = Vec::new();
    for &op in &path {
        match blocks.last_mut() {
            Some(b) if t.machine_pred[op] == b.last().copied() => b.push(op),
            _ => blocks.push(vec![op]),
        }
    }
    // N5: swap the first pair of every block but the first, the last pair of every block but the
    // last (both pairs when the path is a single block).
    let mut moves = Vec::new();
    let nb = blocks.len();
    for (bi, b) in blocks.iter().enumerate() {
        if b.len() < 2 {
            continue;
        }
        let Some((m, first)) = pos_of(b[0]) else {
            continue;
        };
        if bi > 0 || nb == 1 {
            moves.push(Move::Swap { m, pos: first });
        }
        if bi + 1 < nb || nb == 1 {
            moves.push(Move::Swap {
                m,
                pos: first + b.len() - 2,
            });
        }
    }
    // Flexible shop: a critical operation to another machine, placed by its current start time.
    for &op in &path {
        let (j, k) = ctx.owner[op];
        let alts = &p.jobs[j].operations[k].alternatives;
        if alts.len() < 2 {
            continue;
        }
        let Some((from, from_pos)) = pos_of(op) else {
            continue;
        };
        for &(to, _) in alts {
            if to == from {
                continue;
            }
            let to_pos = sol.sequences[to]
                .iter()
                .position(|&x| t.start[x] >= t.start[op])
                .unwrap_or(sol.sequences[to].len());
            moves.push(Move::Reassign {
                op,
                from,
                from_pos,
                to,
                to_pos,
            });
        }
    }
    moves.sort_by_key(|m| match *m {
        Move::Swap { m, pos } => (0, m, pos, 0),
        Move::Reassign { op, to, .. } => (1, op, to, 0),
    });
    moves.dedup();
    moves
}

/// One tabu search from `start`; returns the best solution and its makespan.
pub fn search(p: &Problem, start: Solution, seed: u64, limits: Limits) -> (Solution, i64) {
    let ctx = Context::new(p);
    let deadline = Instant::now() + limits.time;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut cur = start;
    let Some(mut cur_t) = times(p, &ctx, &cur) else {
        return (cur, i64::MAX);
    };
    let mut best = cur.clone();
    let mut best_ms = cur_t.makespan;
    // (a, b): "a before b on a machine" is tabu until the stored iteration.
    let mut tabu_order: HashMap<(usize, usize), u64> = HashMap::new();
    let mut tabu_machine: HashMap<(usize, usize), u64> = HashMap::new();
    let n = ctx.owner.len() as u64;
    let mut stale = 0u64;
    for iter in 0..limits.iterations {
        if iter % 64 == 0 && Instant::now() >= deadline {
            break;
        }
        let moves = neighbourhood(p, &ctx, &cur, &cur_t);
        if moves.is_empty() {
            // No critical block to change: no move of this neighbourhood can shorten the makespan
            // (without unavailability windows the path is then one job's chain, a lower bound).
            break;
        }
        let mut chosen: Option<(i64, u64, Move, Timing)> = None;
        for &mv in &moves {
            let tabu = match mv {
                Move::Swap { m, pos } => {
                    let (a, b) = (cur.sequences[m][pos], cur.sequences[m][pos + 1]);
                    tabu_order.get(&(b, a)).is_some_and(|&until| until > iter)
                }
                Move::Reassign { op, to, .. } => tabu_machine
                    .get(&(op, to))
                    .is_some_and(|&until| until > iter),
            };
            apply(&mut cur, mv);
            if let Some(t) = times(p, &ctx, &cur) {
                let admissible = !tabu || t.makespan < best_ms;
                let tie = rng.next_u64();
                if admissible
                    && chosen
                        .as_ref()
                        .is_none_or(|c| (t.makespan, tie) < (c.0, c.1))
                {
                    chosen = Some((t.makespan, tie, mv, t));
                }
            }
            undo(&mut cur, mv);
        }
        let Some((ms, _, mv, t)) = chosen else {
            // Every move is tabu: lift all restrictions.
            tabu_order.clear();
            tabu_machine.clear();
            continue;
        };
        let tenure = 8 + (n as f64).sqrt() as u64 / 2 + rng.random_range(0..6u64);
        match mv {
            Move::Swap { m, pos } => {
                let (a, b) = (cur.sequences[m][pos], cur.sequences[m][pos + 1]);
                tabu_order.insert((a, b), iter + tenure);
            }
            Move::Reassign { op, from, .. } => {
                tabu_machine.insert((op, from), iter + tenure);
            }
        }
        apply(&mut cur, mv);
        cur_t = t;
        if ms < best_ms {
            best_ms = ms;
            best = cur.clone();
            stale = 0;
        } else {
            stale += 1;
        }
        if stale > 1500 + 20 * n {
            // Restart from the best, with a few random adjacent swaps that keep it acyclic.
            cur = best.clone();
            for _ in 0..(2 + n / 20) {
                let m = rng.random_range(0..p.machines);
                let len = cur.sequences[m].len();
                if len < 2 {
                    continue;
                }
                let mv = Move::Swap {
                    m,
                    pos: rng.random_range(0..len - 1),
                };
                apply(&mut cur, mv);
                if times(p, &ctx, &cur).is_none() {
                    undo(&mut cur, mv);
                }
            }
            match times(p, &ctx, &cur) {
                Some(t) => cur_t = t,
                None => {
                    cur = best.clone();
                    cur_t = match times(p, &ctx, &cur) {
                        Some(t) => t,
                        None => break,
                    };
                }
            }
            tabu_order.clear();
            tabu_machine.clear();
            stale = 0;
        }
    }
    (best, best_ms)
}

/// The best of the dispatching rules, then `searches` tabu searches in parallel (seeds `seed`,
/// `seed + 1`, ...). Ties go to the lowest seed, so the result does not depend on the threads.
pub fn solve(p: &Problem, seed: u64, searches: u32, limits: Limits) -> Solution {
    let ctx = Context::new(p);
    let start = [
        Rule::MostWorkRemaining,
        Rule::EarliestDueDate,
        Rule::ShortestProcessing,
    ]
    .into_iter()
    .map(|r| dispatch(p, r))
    .filter_map(|s| times(p, &ctx, &s).map(|t| (t.makespan, s)))
    .min_by_key(|(ms, _)| *ms)
    .map(|(_, s)| s)
    .unwrap_or_else(|| dispatch(p, Rule::MostWorkRemaining));
    if limits.iterations == 0 {
        return start;
    }
    (0..searches.max(1))
        .into_par_iter()
        .map(|i| {
            let (s, ms) = search(p, start.clone(), seed.wrapping_add(u64::from(i)), limits);
            (ms, i, s)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .min_by_key(|(ms, i, _)| (*ms, *i))
        .map_or(start, |(_, _, s)| s)
}
