//! Where to put maintenance windows over the coming days: for each machine, whether and when to
//! service it so that the expected cost is least, within the repair crew's capacity, only where the
//! shift calendar allows, never letting a machine's failure risk before its service (or over the
//! horizon, if it is not serviced) exceed a limit, and counting a line stop once however many of the
//! line's machines it serves (opportunistic grouping).
//!
//! The horizon is cut into buckets. Machine i serviced from bucket s costs
//! - its maintenance cost;
//! - the production lost while its line stands in buckets s .. s + d_i, at the line's value of
//!   those buckets (low in planned stops and low-load shifts);
//! - its expected failure cost, per failure mode: P(fail before s | age) + P(fail between the
//!   service and the horizon | as good as new), times the mode's failure cost (repair cost + repair
//!   time x lost output). Modes age in their own basis: calendar time, operating time (at the
//!   expected utilisation) or cycles (at the expected rate).
//!
//! Not serviced, it costs P(fail within the horizon | age) x the failure cost, per mode. The risk
//! limit applies to a failure of any mode: 1 - the product of the modes' survivals. These are constants
//! per (machine, start), so the model is a small MILP (`solve_milp`, good_lp and HiGHS under the
//! `milp` feature); `solve_greedy` is a fast heuristic, and `check` verifies any plan
//! independently of how it was made.

use serde::Serialize;
use takt_twin::fit::Fit;

/// One way a machine fails, and how it ages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModeInput {
    pub name: String,
    /// Time-to-failure distribution in the mode's basis (seconds of calendar or operating time, or
    /// cycles), e.g. fitted from history.
    pub lifetime: Fit,
    /// Age now since the mode was last renewed, in its basis.
    pub age: f64,
    /// How fast the mode ages per calendar second: 1 for calendar time, the expected utilisation for
    /// operating time, the expected cycles per second for cycle-counted modes.
    pub per_second: f64,
    /// Cost of one failure: repair cost plus repair time x lost output.
    pub failure_cost: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MachineInput {
    pub name: String,
    /// The line the machine stands in: servicing it stops the line.
    pub line: String,
    /// Its failure modes; a service renews them all (as good as new).
    pub modes: Vec<ModeInput>,
    /// Buckets one service takes.
    pub duration_buckets: usize,
    pub maintenance_cost: f64,
}

impl MachineInput {
    /// Per mode, the probability of failing within `window_s` calendar seconds from `fresh` (as
    /// good as new) or from the current ages.
    fn mode_risks(&self, window_s: f64, fresh: bool) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.modes.iter().map(move |m| {
            let age = if fresh { 0.0 } else { m.age };
            (
                m.lifetime
                    .conditional_failure(age, window_s.max(0.0) * m.per_second),
                m.failure_cost,
            )
        })
    }

    /// The probability of any failure within `window_s`, and the expected failure cost.
    pub fn risk(&self, window_s: f64, fresh: bool) -> (f64, f64) {
        let mut survive = 1.0;
        let mut cost = 0.0;
        for (p, c) in self.mode_risks(window_s, fresh) {
            survive *= 1.0 - p;
            cost += p * c;
        }
        (1.0 - survive, cost)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub bucket_s: f64,
    pub buckets: usize,
    pub machines: Vec<MachineInput>,
    /// Per line name, the production value lost per bucket if the line stands (from the production
    /// schedule or the forecast load; 0 in planned stops).
    pub line_value: Vec<(String, Vec<f64>)>,
    /// Maintenance may run in bucket t only if `allowed[t]` (the shift calendar).
    pub allowed: Vec<bool>,
    /// Services the crew can run at once, per bucket.
    pub crew: Vec<u32>,
    /// The largest acceptable probability of a failure before a machine is serviced.
    pub max_risk: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Window {
    pub machine: String,
    pub start_bucket: usize,
    pub start_s: f64,
    pub duration_s: f64,
    /// The probability of a failure over the horizon without this service, and with it (before
    /// or after it).
    pub risk_before: f64,
    pub risk_after: f64,
    /// Maintenance cost plus the expected failure cost with the service.
    pub cost: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaintenancePlan {
    pub windows: Vec<Window>,
    /// Machines left unserviced, with their risk over the horizon.
    pub unserviced: Vec<(String, f64)>,
    pub expected_cost: f64,
    /// The same cost if nothing were serviced (run to failure over the horizon).
    pub run_to_failure_cost: f64,
    pub solver: &'static str,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WindowError {
    #[error("{0}")]
    Invalid(String),
    #[error("no plan meets the risk limit {max_risk}: {detail}")]
    Infeasible { max_risk: f64, detail: String },
    #[error("the MILP solver failed: {0}")]
    Solver(String),
}

/// The constants of the model: per machine, the starts it may take and their costs.
struct Options {
    /// Per machine: (start bucket, expected cost of servicing then, risk before the start plus
    /// after the service).
    starts: Vec<Vec<(usize, f64, f64)>>,
    /// Per machine: cost and risk of not servicing it in the horizon.
    none: Vec<(f64, f64)>,
    /// Per machine: its line's index in `line_value`.
    line_of: Vec<usize>,
}

fn options(p: &Problem) -> Result<Options, WindowError> {
    let invalid = |m: String| Err(WindowError::Invalid(m));
    if !(p.bucket_s.is_finite() && p.bucket_s > 0.0) {
        return invalid(format!("bucket_s must be > 0, not {}", p.bucket_s));
    }
    if p.allowed.len() != p.buckets || p.crew.len() != p.buckets {
        return invalid(format!(
            "allowed and crew need {} buckets, have {} and {}",
            p.buckets,
            p.allowed.len(),
            p.crew.len()
        ));
    }
    if !(0.0..=1.0).contains(&p.max_risk) {
        return invalid(format!("max_risk must be in [0, 1], not {}", p.max_risk));
    }
    let horizon = p.buckets as f64 * p.bucket_s;
    let mut out = Options {
        starts: Vec::new(),
        none: Vec::new(),
        line_of: Vec::new(),
    };
    for m in &p.machines {
        let line = p
            .line_value
            .iter()
            .position(|(l, _)| *l == m.line)
            .ok_or_else(|| {
                WindowError::Invalid(format!("{}: no value for line `{}`", m.name, m.line))
            })?;
        if p.line_value[line].1.len() != p.buckets {
            return invalid(format!(
                "line `{}` needs {} bucket values",
                m.line, p.buckets
            ));
        }
        if m.duration_buckets == 0 {
            return invalid(format!("{}: a service takes at least one bucket", m.name));
        }
        if !(m.maintenance_cost.is_finite() && m.maintenance_cost >= 0.0) {
            return invalid(format!(
                "{}: maintenance_cost must be a number >= 0, not {}",
                m.name, m.maintenance_cost
            ));
        }
        for mode in &m.modes {
            for (what, x) in [
                ("age", mode.age),
                ("per_second", mode.per_second),
                ("failure_cost", mode.failure_cost),
            ] {
                if !(x.is_finite() && x >= 0.0) {
                    return invalid(format!(
                        "{} ({}): {what} must be a number >= 0, not {x}",
                        m.name, mode.name
                    ));
                }
            }
        }
        let d = m.duration_buckets;
        let mut starts = Vec::new();
        for s in 0..p.buckets.saturating_sub(d - 1) {
            if !p.allowed[s..s + d].iter().all(|a| *a) {
                continue;
            }
            let (before, before_cost) = m.risk(s as f64 * p.bucket_s, false);
            if before > p.max_risk {
                continue;
            }
            let (after, after_cost) = m.risk(horizon - (s + d) as f64 * p.bucket_s, true);
            starts.push((
                s,
                m.maintenance_cost + before_cost + after_cost,
                1.0 - (1.0 - before) * (1.0 - after),
            ));
        }
        let (none_risk, none_cost) = m.risk(horizon, false);
        out.none.push((none_cost, none_risk));
        if none_risk > p.max_risk && starts.is_empty() {
            return Err(WindowError::Infeasible {
                max_risk: p.max_risk,
                detail: format!(
                    "{} reaches risk {none_risk:.3} over the horizon and has no allowed window early enough",
                    m.name
                ),
            });
        }
        out.starts.push(starts);
        out.line_of.push(line);
    }
    Ok(out)
}

/// Turns chosen starts (per machine) into a plan, with its expected cost.
fn plan_of(
    p: &Problem,
    o: &Options,
    chosen: &[Option<usize>],
    solver: &'static str,
) -> MaintenancePlan {
    let mut windows = Vec::new();
    let mut unserviced = Vec::new();
    let mut cost = 0.0;
    let mut stopped = vec![vec![false; p.buckets]; p.line_value.len()];
    for (i, m) in p.machines.iter().enumerate() {
        match chosen[i].and_then(|k| o.starts[i].get(k)) {
            Some(&(s, c, with_service)) => {
                cost += c;
                stopped[o.line_of[i]][s..s + m.duration_buckets].fill(true);
                windows.push(Window {
                    machine: m.name.clone(),
                    start_bucket: s,
                    start_s: s as f64 * p.bucket_s,
                    duration_s: m.duration_buckets as f64 * p.bucket_s,
                    risk_before: o.none[i].1,
                    risk_after: with_service,
                    cost: c,
                });
            }
            None => {
                cost += o.none[i].0;
                unserviced.push((m.name.clone(), o.none[i].1));
            }
        }
    }
    for (l, (_, values)) in p.line_value.iter().enumerate() {
        for t in 0..p.buckets {
            if stopped[l][t] {
                cost += values[t];
            }
        }
    }
    windows.sort_by(|a, b| {
        a.start_bucket
            .cmp(&b.start_bucket)
            .then(a.machine.cmp(&b.machine))
    });
    MaintenancePlan {
        windows,
        unserviced,
        expected_cost: cost,
        run_to_failure_cost: o.none.iter().map(|n| n.0).sum(),
        solver,
    }
}

/// A fast plan: machines that must be serviced first (earliest deadline first), then the others by
/// expected failure cost, each at its cheapest start given what is already planned (a line already
/// standing costs nothing more), within the crew's capacity.
pub fn solve_greedy(p: &Problem) -> Result<MaintenancePlan, WindowError> {
    let o = options(p)?;
    // Machines that must be serviced first, the one whose last allowed start comes first leading;
    // then the others, the costliest to leave first.
    let must = |i: usize| o.none[i].1 > p.max_risk;
    let deadline = |i: usize| o.starts[i].last().map_or(0, |s| s.0);
    let mut order: Vec<usize> = (0..p.machines.len()).collect();
    order.sort_by(|&a, &b| {
        must(b)
            .cmp(&must(a))
            .then_with(|| {
                if must(a) && must(b) {
                    deadline(a).cmp(&deadline(b))
                } else {
                    o.none[b].0.total_cmp(&o.none[a].0)
                }
            })
            .then(a.cmp(&b))
    });
    let mut crew_used = vec![0u32; p.buckets];
    let mut stopped = vec![vec![false; p.buckets]; p.line_value.len()];
    let mut chosen = vec![None; p.machines.len()];
    for i in order {
        let d = p.machines[i].duration_buckets;
        let l = o.line_of[i];
        let mut best: Option<(f64, usize)> = None;
        for (k, &(s, c, _)) in o.starts[i].iter().enumerate() {
            if (s..s + d).any(|t| crew_used[t] >= p.crew[t]) {
                continue;
            }
            let stop: f64 = (s..s + d)
                .filter(|&t| !stopped[l][t])
                .map(|t| p.line_value[l].1[t])
                .sum();
            let total = c + stop;
            if best.is_none_or(|(b, _)| total < b) {
                best = Some((total, k));
            }
        }
        let must = must(i);
        match best {
            Some((total, k)) if must || total < o.none[i].0 => {
                let s = o.starts[i][k].0;
                for t in s..s + d {
                    crew_used[t] += 1;
                    stopped[l][t] = true;
                }
                chosen[i] = Some(k);
            }
            None if must => {
                return Err(WindowError::Infeasible {
                    max_risk: p.max_risk,
                    detail: format!("no crew left for {} early enough", p.machines[i].name),
                });
            }
            _ => {}
        }
    }
    Ok(plan_of(p, &o, &chosen, "greedy"))
}

/// The optimal plan of the MILP (see the module docs).
#[cfg(feature = "milp")]
pub fn solve_milp(p: &Problem) -> Result<MaintenancePlan, WindowError> {
    use good_lp::{Expression, Solution, SolverModel, Variable, highs, variable, variables};
    let o = options(p)?;
    let mut vars = variables!();
    let y: Vec<Vec<Variable>> = o
        .starts
        .iter()
        .map(|st| st.iter().map(|_| vars.add(variable().binary())).collect())
        .collect();
    let z: Vec<Vec<Variable>> = p
        .line_value
        .iter()
        .map(|_| {
            (0..p.buckets)
                .map(|_| vars.add(variable().min(0.0).max(1.0)))
                .collect()
        })
        .collect();
    let mut objective = Expression::from(0.0);
    for ((ys, starts), none) in y.iter().zip(&o.starts).zip(&o.none) {
        // Not serviced: 1 - Σ y.
        objective += none.0;
        for (v, &(_, c, _)) in ys.iter().zip(starts) {
            objective += (c - none.0) * *v;
        }
    }
    for ((_, values), zs) in p.line_value.iter().zip(&z) {
        for (value, v) in values.iter().zip(zs) {
            objective += *value * *v;
        }
    }
    let mut model = highs(vars.minimise(objective)).set_threads(1);
    model.set_verbose(false);
    for (ys, none) in y.iter().zip(&o.none) {
        let once: Expression = ys.iter().copied().sum();
        if none.1 > p.max_risk {
            model.add_constraint(once.eq(1.0));
        } else {
            model.add_constraint(once.leq(1.0));
        }
    }
    for (t, &capacity) in p.crew.iter().enumerate() {
        let mut crew = Expression::from(0.0);
        for (i, m) in p.machines.iter().enumerate() {
            let d = m.duration_buckets;
            for (k, &(s, _, _)) in o.starts[i].iter().enumerate() {
                if s <= t && t < s + d {
                    crew += y[i][k];
                    // The line stands while any of its machines is serviced.
                    model.add_constraint(Expression::from(z[o.line_of[i]][t]).geq(y[i][k]));
                }
            }
        }
        model.add_constraint(crew.leq(f64::from(capacity)));
    }
    let solution = model.solve().map_err(|e| match e {
        good_lp::ResolutionError::Infeasible => WindowError::Infeasible {
            max_risk: p.max_risk,
            detail: "the crew cannot service every machine at risk in time".into(),
        },
        other => WindowError::Solver(other.to_string()),
    })?;
    let chosen: Vec<Option<usize>> = y
        .iter()
        .map(|vs| vs.iter().position(|v| solution.value(*v) > 0.5))
        .collect();
    Ok(plan_of(p, &o, &chosen, "milp"))
}

/// Every rule a plan must keep, checked from the plan alone: one service per machine at most,
/// inside the horizon and the allowed buckets, within the crew's capacity, and every machine's risk
/// before its service (or over the horizon) within the limit. Returns the violations.
pub fn check(p: &Problem, plan: &MaintenancePlan) -> Vec<String> {
    let mut problems = Vec::new();
    let mut crew = vec![0u32; p.buckets];
    let horizon = p.buckets as f64 * p.bucket_s;
    for m in &p.machines {
        let mine: Vec<&Window> = plan
            .windows
            .iter()
            .filter(|w| w.machine == m.name)
            .collect();
        if mine.len() > 1 {
            problems.push(format!("{} is serviced {} times", m.name, mine.len()));
        }
        match mine.first() {
            None => {
                let r = m.risk(horizon, false).0;
                if r > p.max_risk + 1e-9 {
                    problems.push(format!("{} unserviced at risk {r:.3}", m.name));
                }
            }
            Some(w) => {
                let (s, d) = (w.start_bucket, m.duration_buckets);
                if s + d > p.buckets {
                    problems.push(format!("{} serviced past the horizon", m.name));
                    continue;
                }
                for (t, used) in crew.iter_mut().enumerate().skip(s).take(d) {
                    if !p.allowed[t] {
                        problems.push(format!("{} serviced in closed bucket {t}", m.name));
                    }
                    *used += 1;
                }
                let r = m.risk(s as f64 * p.bucket_s, false).0;
                if r > p.max_risk + 1e-9 {
                    problems.push(format!("{} reaches risk {r:.3} before its service", m.name));
                }
            }
        }
    }
    for (t, (&used, &cap)) in crew.iter().zip(&p.crew).enumerate() {
        if used > cap {
            problems.push(format!("bucket {t}: {used} services, crew of {cap}"));
        }
    }
    problems
}
