//! Tabu search over critical paths. For makespan the moves swap the first two or the last two
//! operations of each critical block (the N5 neighbourhood of Nowicki and Smutnicki). For tardiness
//! and late jobs the paths run to each late job's last operation, and every adjacent pair inside
//! their blocks may swap (as in Kreipl's and Bierwirth and Kuhpfahl's tardiness searches); for setup
//! time, the pairs where a setup happens may swap. In a flexible shop a critical operation may also
//! move to another eligible machine. Every candidate is evaluated exactly by re-timing the solution
//! in place and then undone. After a long run without improvement the search restarts from the best
//! solution, perturbed. Several independent searches (seeds) run in parallel with rayon; with an
//! iteration limit the result is deterministic for a seed.

use crate::decode::{Context, Solution, Timing, critical_path, critical_path_to, times};
use crate::dispatch::{Rule, dispatch_until, job_order, job_order_batched};
use crate::objective::{Cost, Criterion, Objective, better};
use crate::problem::{Setups, ShopProblem};
use rand::{Rng, RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
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

/// Late jobs, most weighted tardiness first, at most `limit`.
fn late_jobs(p: &ShopProblem, ctx: &Context, t: &Timing, limit: usize) -> Vec<usize> {
    let mut late: Vec<(f64, usize)> = p
        .jobs
        .iter()
        .enumerate()
        .filter_map(|(j, job)| {
            let due = job.due?;
            let c = t.end[ctx.last_op[j]];
            (c > due).then(|| (job.weight * (c - due) as f64, j))
        })
        .collect();
    late.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    late.into_iter().take(limit).map(|(_, j)| j).collect()
}

/// Runs of a path on one machine, consecutive in its sequence.
fn blocks(path: &[usize], t: &Timing) -> Vec<Vec<usize>> {
    let mut blocks: Vec<Vec<usize>> = Vec::new();
    for &op in path {
        match blocks.last_mut() {
            Some(b) if t.machine_pred[op] == b.last().copied() => b.push(op),
            _ => blocks.push(vec![op]),
        }
    }
    blocks
}

/// At most this many candidate moves are evaluated per iteration (a random sample beyond it).
const MAX_MOVES: usize = 200;

fn neighbourhood(
    p: &ShopProblem,
    ctx: &Context,
    objective: &Objective,
    sol: &Solution,
    t: &Timing,
    rng: &mut impl Rng,
) -> Vec<Move> {
    let pos_of = |op: usize| {
        let m = sol.machine_of[op];
        sol.sequences[m]
            .iter()
            .position(|&x| x == op)
            .map(|pos| (m, pos))
    };
    let mut moves = Vec::new();
    let mut critical = Vec::new();
    if objective.is_makespan() {
        // N5: swap the first pair of every block but the first, the last pair of every block but the
        // last (both pairs when the path is a single block).
        let path = critical_path(ctx, t);
        let blocks = blocks(&path, t);
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
        critical = path;
    } else {
        let mut paths = Vec::new();
        if objective.uses(Criterion::Makespan) {
            paths.push(critical_path(ctx, t));
        }
        if objective.uses(Criterion::Tardiness) || objective.uses(Criterion::Late) {
            for j in late_jobs(p, ctx, t, 10) {
                paths.push(critical_path_to(ctx, t, ctx.last_op[j]));
            }
        }
        for path in &paths {
            for b in blocks(path, t) {
                if let Some((m, first)) = pos_of(b[0]) {
                    for pos in first..first + b.len().saturating_sub(1) {
                        moves.push(Move::Swap { m, pos });
                    }
                }
            }
            critical.extend_from_slice(path);
        }
        if objective.uses(Criterion::Setup) && p.setups.is_some() {
            for (m, seq) in sol.sequences.iter().enumerate() {
                for pos in 1..seq.len() {
                    if p.setup(m, Some(seq[pos - 1]), seq[pos]) > 0 {
                        moves.push(Move::Swap { m, pos: pos - 1 });
                        if pos + 1 < seq.len() {
                            moves.push(Move::Swap { m, pos });
                        }
                    }
                }
            }
        }
        critical.sort_unstable();
        critical.dedup();
    }
    // Flexible shop: a critical operation to another machine, placed by its current start time.
    for &op in &critical {
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
    if moves.len() > MAX_MOVES {
        // A partial Fisher-Yates shuffle: a uniform sample, reproducible for the seed.
        for i in 0..MAX_MOVES {
            let k = rng.random_range(i..moves.len());
            moves.swap(i, k);
        }
        moves.truncate(MAX_MOVES);
    }
    moves
}

/// Tails: the longest path from the end of each operation to the end of the schedule.
fn tails(
    ctx: &Context,
    sol: &Solution,
    t: &Timing,
    machine_succ: &mut [Option<usize>],
    tail: &mut [i64],
) {
    machine_succ.fill(None);
    for seq in &sol.sequences {
        for w in seq.windows(2) {
            machine_succ[w[0]] = Some(w[1]);
        }
    }
    for &i in t.order.iter().rev() {
        let mut q = 0;
        for s in [ctx.job_succ[i], machine_succ[i]].into_iter().flatten() {
            q = q.max(t.end[s] - t.start[s] + tail[s]);
        }
        tail[i] = q;
    }
}

/// Taillard's estimate of the makespan after swapping positions `pos` and `pos + 1` on machine `m`:
/// the longest path through either operation, from the heads and tails around them.
fn swap_estimate(
    ctx: &Context,
    sol: &Solution,
    t: &Timing,
    tail: &[i64],
    m: usize,
    pos: usize,
) -> i64 {
    let seq = &sol.sequences[m];
    let (u, v) = (seq[pos], seq[pos + 1]);
    let dur = |x: usize| t.end[x] - t.start[x];
    let job_ready = |x: usize| ctx.job_pred[x].map_or(ctx.release[x], |q| t.end[q]);
    let job_tail = |x: usize| ctx.job_succ[x].map_or(0, |s| dur(s) + tail[s]);
    let before = pos.checked_sub(1).map_or(0, |k| t.end[seq[k]]);
    let after = seq.get(pos + 2).map_or(0, |&w| dur(w) + tail[w]);
    let head_v = job_ready(v).max(before);
    let head_u = job_ready(u).max(head_v + dur(v));
    let tail_u = job_tail(u).max(after);
    let tail_v = job_tail(v).max(dur(u) + tail_u);
    (head_v + dur(v) + tail_v).max(head_u + dur(u) + tail_u)
}

/// One tabu search from `start`; returns the best solution and its cost. It ends at its limits, or
/// early with the best so far once `stop` is set (read with the clock, every 64 iterations).
pub fn search(
    p: &ShopProblem,
    objective: &Objective,
    start: Solution,
    seed: u64,
    limits: Limits,
    stop: &AtomicBool,
) -> (Solution, Cost) {
    let ctx = Context::new(p);
    let deadline = Instant::now() + limits.time;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut cur = start;
    let Some(mut cur_t) = times(p, &ctx, &cur) else {
        return (cur, [f64::INFINITY; crate::objective::MAX_LEVELS + 1]);
    };
    let mut best = cur.clone();
    let mut best_cost = objective.cost(p, &ctx, &cur_t);
    // (a, b): "a before b on a machine" is tabu until the stored iteration.
    let mut tabu_order: HashMap<(usize, usize), u64> = HashMap::new();
    let mut tabu_machine: HashMap<(usize, usize), u64> = HashMap::new();
    let n = ctx.owner.len() as u64;
    let mut stale = 0u64;
    // Plain makespan problems (no setups, breaks or windows) rate swaps in O(1) from heads and
    // tails (Taillard's estimate) and time only the chosen one exactly.
    let fast = *objective == Objective::makespan()
        && p.setups.is_none()
        && p.breaks.iter().all(Vec::is_empty)
        && p.unavailable.iter().all(Vec::is_empty);
    let mut machine_succ = vec![None; ctx.owner.len()];
    let mut tail = vec![0i64; ctx.owner.len()];
    // The clock is read before every iteration and every few moves: on a large book one
    // iteration's moves take long (each is timed in full), and the limit is the caller's.
    let past = || Instant::now() >= deadline || stop.load(Ordering::Relaxed);
    for iter in 0..limits.iterations {
        if past() {
            break;
        }
        let moves = neighbourhood(p, &ctx, objective, &cur, &cur_t, &mut rng);
        if moves.is_empty() {
            // No critical block to change: no move of this neighbourhood can improve the objective
            // (for makespan without unavailability windows the path is then one job's chain, a lower
            // bound; for tardiness, no job is late).
            break;
        }
        if fast {
            tails(&ctx, &cur, &cur_t, &mut machine_succ, &mut tail);
        }
        let mut chosen: Option<(Cost, u64, Move, Option<Timing>)> = None;
        let mut out_of_time = false;
        for (k, &mv) in moves.iter().enumerate() {
            if k % 8 == 7 && past() {
                out_of_time = true;
                break;
            }
            let tabu = match mv {
                Move::Swap { m, pos } => {
                    let (a, b) = (cur.sequences[m][pos], cur.sequences[m][pos + 1]);
                    tabu_order.get(&(b, a)).is_some_and(|&until| until > iter)
                }
                Move::Reassign { op, to, .. } => tabu_machine
                    .get(&(op, to))
                    .is_some_and(|&until| until > iter),
            };
            let (cost, timing) = match mv {
                Move::Swap { m, pos } if fast => {
                    let est = swap_estimate(&ctx, &cur, &cur_t, &tail, m, pos);
                    let mut c = [0.0; crate::objective::MAX_LEVELS + 1];
                    c[0] = est as f64;
                    c[crate::objective::MAX_LEVELS] = est as f64;
                    (c, None)
                }
                _ => {
                    apply(&mut cur, mv);
                    let t = times(p, &ctx, &cur);
                    undo(&mut cur, mv);
                    match t {
                        Some(t) => (objective.cost(p, &ctx, &t), Some(t)),
                        None => continue,
                    }
                }
            };
            let admissible = !tabu || better(&cost, &best_cost);
            let tie = rng.next_u64();
            if admissible
                && chosen
                    .as_ref()
                    .is_none_or(|c| better(&cost, &c.0) || (cost == c.0 && tie < c.1))
            {
                chosen = Some((cost, tie, mv, timing));
            }
        }
        if out_of_time {
            break;
        }
        let Some((cost, _, mv, timing)) = chosen else {
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
        let (cost, t) = match timing {
            Some(t) => (cost, t),
            // An estimated move: time it exactly now.
            None => match times(p, &ctx, &cur) {
                Some(t) => (objective.cost(p, &ctx, &t), t),
                None => {
                    // The estimate hid a cycle (not possible for N5 swaps in a plain job shop, but
                    // cheap to guard): undo it and forbid it for a while.
                    undo(&mut cur, mv);
                    if let Move::Swap { m, pos } = mv {
                        let (a, b) = (cur.sequences[m][pos], cur.sequences[m][pos + 1]);
                        tabu_order.insert((b, a), iter + tenure);
                    }
                    continue;
                }
            },
        };
        cur_t = t;
        if better(&cost, &best_cost) {
            best_cost = cost;
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
    (best, best_cost)
}

/// The best of the dispatching rules, then `searches` tabu searches in parallel (seeds `seed`,
/// `seed + 1`, ...). Ties go to the lowest seed, so the result does not depend on the threads.
pub fn solve(
    p: &ShopProblem,
    objective: &Objective,
    seed: u64,
    searches: u32,
    limits: Limits,
) -> Solution {
    solve_until_stopped(
        p,
        objective,
        seed,
        searches,
        limits,
        &AtomicBool::new(false),
    )
}

/// [`solve`] that a caller can stop early (a cancelled job): once `stop` is set, every search
/// returns the best it has found, and the best of them is the answer.
///
/// `limits.time` covers all of it: the instant starts (the jobs in due-date order, and with setups
/// that order batched by setup class), the dispatching rules (run in parallel, each dropped if the
/// time runs out before it is done), and the searches, which end at the same deadline. The best
/// start is searched from.
pub fn solve_until_stopped(
    p: &ShopProblem,
    objective: &Objective,
    seed: u64,
    searches: u32,
    limits: Limits,
    stop: &AtomicBool,
) -> Solution {
    let deadline = Instant::now() + limits.time;
    let past = || Instant::now() >= deadline || stop.load(Ordering::Relaxed);
    let ctx = Context::new(p);
    let rules = [
        Rule::MostWorkRemaining,
        Rule::EarliestDueDate,
        Rule::ShortestProcessing,
        Rule::Atcs,
    ];
    let rated = |s: Solution| times(p, &ctx, &s).map(|t| (objective.cost(p, &ctx, &t), s));
    // The instant starts first, rated before the rules take what is left of the time: the due-date
    // order, and with setups that order batched by setup class over windows from 4 to 1,024
    // longest setups (far better than the plain order when setups weigh).
    let mut instant = vec![job_order(p)];
    if let Some(longest) = p.setups.as_ref().map(Setups::longest).filter(|&s| s > 0) {
        for k in [4, 16, 64, 256, 1024] {
            instant.push(job_order_batched(p, longest.saturating_mul(k)));
        }
    }
    let instant: Vec<_> = instant.into_iter().filter_map(rated).collect();
    let start = rules
        .into_par_iter()
        .map(|r| dispatch_until(p, r, &past).and_then(rated))
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .chain(instant)
        .reduce(|a, b| if better(&b.0, &a.0) { b } else { a })
        .map(|(_, s)| s)
        .unwrap_or_else(|| job_order(p));
    if limits.iterations == 0 {
        return start;
    }
    let limits = Limits {
        time: deadline.saturating_duration_since(Instant::now()),
        ..limits
    };
    (0..searches.max(1))
        .into_par_iter()
        .map(|i| {
            let (s, cost) = search(
                p,
                objective,
                start.clone(),
                seed.wrapping_add(u64::from(i)),
                limits,
                stop,
            );
            (cost, i, s)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .reduce(|a, b| if better(&b.0, &a.0) { b } else { a })
        .map_or(start, |(_, _, s)| s)
}
