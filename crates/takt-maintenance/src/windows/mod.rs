//! Where to put maintenance windows over the coming days: for each machine, how often and when to
//! service it so that the expected cost is least, within the repair crew's capacity, only where the
//! shift calendar allows, never letting a machine's failure risk between two renewals exceed a
//! limit, and counting a line stop once however many of the line's machines it serves
//! (opportunistic grouping).
//!
//! The horizon is cut into buckets. A machine's plan is a sequence of services; between two
//! renewals (now, the end of a service, the horizon) it runs a segment, and a segment costs the
//! expected number of failures in it times the failure cost, per failure mode. Failed parts are
//! repaired as good as new, so the count is the renewal function (`renewal.rs`), delayed by the
//! mode's current age in the first segment; modes age in their own basis (calendar time, operating
//! time at the expected utilisation, cycles at the expected rate). A service costs its maintenance
//! cost, and the production lost while its line stands for it from the start of bucket s for
//! the service's length (whole buckets, then a share of the last) at the line's value of those
//! buckets (0 in planned stops, low in low-load shifts); services of one line in the same bucket
//! run together, and the line stands for the longest.
//!
//! The choice per machine is a path through its possible service starts (a segment is an arc),
//! so the exact model is a small MILP of arcs coupled by crew capacity and shared line stops
//! (`solve_milp`, good_lp and HiGHS under the `milp` feature). `solve_greedy` plans one machine
//! at a time by a shortest path given what is already planned; `check` verifies any plan from its
//! windows alone.

use crate::renewal::{Renewal, expected_failures};
use serde::Serialize;
use takt_model::fit::Fit;

mod check;
pub use check::check;
#[cfg(feature = "milp")]
mod milp;
#[cfg(feature = "milp")]
pub use milp::solve_milp;

/// The MILP stops within this relative gap of the optimum (0.1%: well inside the uncertainty of
/// any lifetime fitted from history).
#[cfg(feature = "milp")]
const MIP_REL_GAP: f32 = 1e-3;

/// Grid points per bucket for the renewal function.
const GRID_PER_BUCKET: usize = 8;

/// One way a machine fails, and how it ages.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModeInput {
    pub name: String,
    /// Time-to-failure distribution in the mode's basis (seconds of calendar or operating time, or
    /// cycles), e.g. fitted from history.
    pub lifetime: Fit,
    /// Age now since the mode was last renewed, in its basis.
    pub age: f64,
    /// How fast the mode ages per second: 1 for calendar time, the expected utilisation for
    /// operating time, the expected cycles per second for cycle-counted modes.
    pub per_second: f64,
    /// Whether it ages only in production time (operating time, cycles: `per_second` is then per
    /// production second) or around the clock.
    pub production_only: bool,
    /// Cost of one failure: repair cost plus repair time x lost output.
    pub failure_cost: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MachineInput {
    pub name: String,
    /// The line the machine stands in: servicing it stops the line.
    pub line: String,
    /// Its failure modes; a service renews them all (as good as new).
    pub modes: Vec<ModeInput>,
    /// Buckets one service takes.
    pub duration_buckets: usize,
    /// How long one service takes, seconds: the machine is as good as new that long after the
    /// service starts, and ages again for the rest of its last bucket.
    pub service_s: f64,
    /// Crew members one service takes.
    pub crew: u32,
    pub maintenance_cost: f64,
}

impl MachineInput {
    /// Buckets from a service's start to the machine's renewal: its length, within the buckets
    /// it takes (all of them if the length is not a number > 0).
    pub fn renewed_after(&self, bucket_s: f64) -> f64 {
        let whole = self.duration_buckets as f64;
        let buckets = self.service_s / bucket_s;
        if buckets.is_finite() && buckets > 0.0 {
            buckets.min(whole)
        } else {
            whole
        }
    }

    /// The share of the `k`-th bucket a service takes (0: the one it starts in) in which its line
    /// stands for it: whole buckets, then what is left of the service's length. A one-hour
    /// service in four-hour buckets stops the line for a quarter of its bucket, not all of it.
    pub fn stands_in(&self, bucket_s: f64, k: usize) -> f64 {
        (self.renewed_after(bucket_s) - k as f64).clamp(0.0, 1.0)
    }

    /// The probability of a failure of any mode within `window_s` seconds at the full rate
    /// throughout (production time all along), from as good as new (`fresh`) or from the current
    /// ages: 1 - Π survival.
    pub fn risk(&self, window_s: f64, fresh: bool) -> f64 {
        self.risk_over(|_, m| {
            (
                if fresh { 0.0 } else { m.age },
                window_s.max(0.0) * m.per_second,
            )
        })
    }

    /// The same, from the (age, span) `age_and_span` gives per mode (index, mode), in the mode's
    /// basis.
    fn risk_over(&self, age_and_span: impl Fn(usize, &ModeInput) -> (f64, f64)) -> f64 {
        let survive: f64 = self
            .modes
            .iter()
            .enumerate()
            .map(|(k, m)| {
                let (age, span) = age_and_span(k, m);
                1.0 - m.lifetime.conditional_failure(age, span)
            })
            .product();
        1.0 - survive
    }
}

/// A mode's age reached at each bucket boundary from now (0 at bucket 0), in its basis: its rate
/// times the production fraction of each bucket, or times 1 for modes that age around the clock.
pub fn ageing(p: &WindowProblem, mode: &ModeInput) -> Vec<f64> {
    let mut clock = Vec::with_capacity(p.buckets + 1);
    let mut t = 0.0;
    clock.push(t);
    for b in 0..p.buckets {
        let fraction = if mode.production_only {
            p.production.get(b).copied().unwrap_or(1.0)
        } else {
            1.0
        };
        t += mode.per_second * p.bucket_s * fraction;
        clock.push(t);
    }
    clock
}

/// A mode's age at `x` buckets from now (a fraction within a bucket: it ages evenly through it),
/// from its `clock` at the bucket boundaries.
pub(crate) fn clock_at(clock: &[f64], x: f64) -> f64 {
    let last = clock.len().saturating_sub(1);
    let x = x.clamp(0.0, last as f64);
    let k = (x.floor() as usize).min(last.saturating_sub(1));
    match (clock.get(k), clock.get(k + 1)) {
        (Some(a), Some(b)) => a + (b - a) * (x - k as f64),
        (Some(a), None) => *a,
        _ => 0.0,
    }
}

/// The probability of a failure of any of `m`'s modes between `a` and `b` buckets from now,
/// starting as good as new (`fresh`) or from the current ages at bucket 0 (`a` is then 0).
pub(crate) fn span_risk(m: &MachineInput, clocks: &[Vec<f64>], a: f64, b: f64, fresh: bool) -> f64 {
    m.risk_over(|k, mode| {
        let clock = &clocks[k];
        let age = if fresh {
            0.0
        } else {
            mode.age + clock_at(clock, a)
        };
        (age, clock_at(clock, b) - clock_at(clock, a))
    })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WindowProblem {
    pub bucket_s: f64,
    pub buckets: usize,
    pub machines: Vec<MachineInput>,
    /// Per line name, the production value lost per bucket if the line stands (from the production
    /// schedule or the forecast load; 0 in planned stops).
    pub line_value: Vec<(String, Vec<f64>)>,
    /// Maintenance may run in bucket t only if `allowed[t]` (the shift calendar).
    pub allowed: Vec<bool>,
    /// Crew members available per bucket.
    pub crew: Vec<u32>,
    /// The fraction of each bucket that is production time (modes that age only in production
    /// age at that fraction of their rate).
    pub production: Vec<f64>,
    /// The largest acceptable probability of a failure between two renewals of a machine (now
    /// and its first service, two services, the last service and the horizon).
    pub max_risk: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Window {
    pub machine: String,
    pub start_bucket: usize,
    pub start_s: f64,
    /// How long the service takes: the line stands that long from `start_s`, and the machine is
    /// as good as new at its end. It is planned in whole buckets (the crew is held for the
    /// buckets it reaches into).
    pub duration_s: f64,
    /// Crew members it takes.
    pub crew: u32,
    /// The probability of a failure between the previous renewal and this service.
    pub risk_before: f64,
    /// The probability of a failure between this service and the next one (or the horizon), and
    /// the same over that span had this service not been done (the risk it removes).
    pub risk_after: f64,
    pub risk_without: f64,
    pub maintenance_cost: f64,
    /// The value of the production lost while the line stands for it, for the service's length
    /// (a bucket shared with other services of the line is split among them by their shares).
    pub production_cost: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MachinePlan {
    pub machine: String,
    pub services: usize,
    /// Expected failures over the horizon with the plan, and without any service.
    pub expected_failures: f64,
    pub run_to_failure_failures: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MaintenancePlan {
    pub windows: Vec<Window>,
    pub machines: Vec<MachinePlan>,
    /// Maintenance + lost production + expected failure cost.
    pub expected_cost: f64,
    /// The expected failure cost if nothing were serviced (run to failure over the horizon).
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

/// A node of a machine's path: a renewal point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Now,
    Service(usize),
    End,
}

/// A segment between two renewals (an arc of the machine's path graph) with its expected failure
/// cost (plus the maintenance cost of the service that ends it, if any) and risk.
#[derive(Debug, Clone, Copy)]
struct Segment {
    from: Node,
    to: Node,
    cost: f64,
}

/// The constants of the model, per machine.
struct MachineModel {
    line: usize,
    /// Allowed service starts, increasing.
    starts: Vec<usize>,
    arcs: Vec<Segment>,
    /// Per mode: its age at each bucket boundary (`ageing`), and its expected failures from as
    /// good as new and from the current age, on a grid in its basis.
    clocks: Vec<Vec<f64>>,
    fresh: Vec<Renewal>,
    aged: Vec<Renewal>,
}

impl MachineModel {
    /// Expected failure cost and count between `a` and `b` buckets from now, from the renewal
    /// `from`.
    fn segment(&self, m: &MachineInput, from: Node, a: f64, b: f64) -> (f64, f64) {
        let tables = if from == Node::Now {
            &self.aged
        } else {
            &self.fresh
        };
        let mut cost = 0.0;
        let mut count = 0.0;
        for ((mode, table), clock) in m.modes.iter().zip(tables).zip(&self.clocks) {
            let n = table.at(clock_at(clock, b) - clock_at(clock, a));
            cost += n * mode.failure_cost;
            count += n;
        }
        (cost, count)
    }

    fn risk(&self, m: &MachineInput, from: Node, a: f64, b: f64) -> f64 {
        span_risk(m, &self.clocks, a, b, from != Node::Now)
    }
}

fn validate(p: &WindowProblem) -> Result<(), WindowError> {
    let invalid = |m: String| Err(WindowError::Invalid(m));
    if !(p.bucket_s.is_finite() && p.bucket_s > 0.0) {
        return invalid(format!("bucket_s must be > 0, not {}", p.bucket_s));
    }
    if p.allowed.len() != p.buckets || p.crew.len() != p.buckets || p.production.len() != p.buckets
    {
        return invalid(format!(
            "allowed, crew and production need {} buckets, have {}, {} and {}",
            p.buckets,
            p.allowed.len(),
            p.crew.len(),
            p.production.len()
        ));
    }
    if let Some(x) = p.production.iter().find(|x| !(0.0..=1.0).contains(*x)) {
        return invalid(format!("production fractions must be in [0, 1], not {x}"));
    }
    if !(0.0..=1.0).contains(&p.max_risk) {
        return invalid(format!("max_risk must be in [0, 1], not {}", p.max_risk));
    }
    for m in &p.machines {
        let Some((_, values)) = p.line_value.iter().find(|(l, _)| *l == m.line) else {
            return invalid(format!("{}: no value for line `{}`", m.name, m.line));
        };
        if values.len() != p.buckets {
            return invalid(format!(
                "line `{}` needs {} bucket values",
                m.line, p.buckets
            ));
        }
        if m.duration_buckets == 0 {
            return invalid(format!("{}: a service takes at least one bucket", m.name));
        }
        if m.crew == 0 {
            return invalid(format!(
                "{}: a service takes at least one crew member",
                m.name
            ));
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
    }
    if let Some((l, v)) = p
        .line_value
        .iter()
        .find(|(_, v)| v.iter().any(|x| !(x.is_finite() && *x >= 0.0)))
    {
        let x = v.iter().find(|x| !(x.is_finite() && **x >= 0.0));
        return invalid(format!(
            "line `{l}`: values must be numbers >= 0, not {x:?}"
        ));
    }
    Ok(())
}

/// Where a node's segment starts, in buckets from now: the renewal, the service's length after its
/// start.
fn begins(p: &WindowProblem, m: &MachineInput, n: Node) -> f64 {
    match n {
        Node::Now => 0.0,
        Node::Service(s) => s as f64 + m.renewed_after(p.bucket_s),
        Node::End => p.buckets as f64,
    }
}

/// Where a node's segment ends, in buckets from now: the service's start.
fn ends(p: &WindowProblem, n: Node) -> f64 {
    match n {
        Node::Now => 0.0,
        Node::Service(s) => s as f64,
        Node::End => p.buckets as f64,
    }
}

fn models(p: &WindowProblem) -> Result<Vec<MachineModel>, WindowError> {
    validate(p)?;
    let steps = p.buckets * GRID_PER_BUCKET;
    let mut out = Vec::with_capacity(p.machines.len());
    for m in &p.machines {
        let line = p
            .line_value
            .iter()
            .position(|(l, _)| *l == m.line)
            .unwrap_or_default();
        let d = m.duration_buckets;
        let starts: Vec<usize> = (0..p.buckets.saturating_sub(d - 1))
            .filter(|&s| p.allowed[s..s + d].iter().all(|a| *a))
            .collect();
        let clocks: Vec<Vec<f64>> = m.modes.iter().map(|mode| ageing(p, mode)).collect();
        // The grid spans the most a mode can age over the horizon.
        let table = |age: f64, mode: &ModeInput, clock: &[f64]| {
            let most = clock[p.buckets];
            if most > 0.0 {
                expected_failures(&mode.lifetime, age, most / steps as f64, steps)
            } else {
                Renewal {
                    step: 0.0,
                    values: vec![0.0; steps + 1],
                }
            }
        };
        let mut model = MachineModel {
            line,
            fresh: m
                .modes
                .iter()
                .zip(&clocks)
                .map(|(mode, c)| table(0.0, mode, c))
                .collect(),
            aged: m
                .modes
                .iter()
                .zip(&clocks)
                .map(|(mode, c)| table(mode.age, mode, c))
                .collect(),
            clocks,
            starts,
            arcs: Vec::new(),
        };
        let froms: Vec<Node> = std::iter::once(Node::Now)
            .chain(model.starts.iter().map(|&s| Node::Service(s)))
            .collect();
        let tos: Vec<Node> = model
            .starts
            .iter()
            .map(|&s| Node::Service(s))
            .chain(std::iter::once(Node::End))
            .collect();
        let mut arcs = Vec::new();
        for &from in &froms {
            let a = begins(p, m, from);
            for &to in &tos {
                let b = ends(p, to);
                if b < a {
                    continue;
                }
                let risk = model.risk(m, from, a, b);
                if risk > p.max_risk + 1e-12 {
                    continue;
                }
                let (failures, _) = model.segment(m, from, a, b);
                let service = if to == Node::End {
                    0.0
                } else {
                    m.maintenance_cost
                };
                arcs.push(Segment {
                    from,
                    to,
                    cost: failures + service,
                });
            }
        }
        // Some path from now to the horizon must exist.
        if !reachable(&arcs) {
            let first_deadline = model
                .starts
                .first()
                .map_or("no allowed window at all".to_string(), |_| {
                    "no allowed window early enough".to_string()
                });
            return Err(WindowError::Infeasible {
                max_risk: p.max_risk,
                detail: format!(
                    "{} reaches risk {:.3} over the horizon and has {first_deadline}",
                    m.name,
                    model.risk(m, Node::Now, 0.0, p.buckets as f64)
                ),
            });
        }
        model.arcs = arcs;
        out.push(model);
    }
    Ok(out)
}

/// Whether `End` is reachable from `Now` along the arcs (which all go forward in time).
fn reachable(arcs: &[Segment]) -> bool {
    let mut reached: Vec<Node> = vec![Node::Now];
    // Arcs are generated from earlier to later nodes, so one pass in order suffices.
    for a in arcs {
        if reached.contains(&a.from) && !reached.contains(&a.to) {
            reached.push(a.to);
        }
    }
    reached.contains(&Node::End)
}

/// Turns chosen service starts (per machine, increasing) into a plan, with its expected cost.
fn plan_of(
    p: &WindowProblem,
    models: &[MachineModel],
    chosen: &[Vec<usize>],
    solver: &'static str,
) -> MaintenancePlan {
    let mut windows = Vec::new();
    let mut machines = Vec::new();
    let mut cost = 0.0;
    let mut run_to_failure = 0.0;
    // Per line and bucket: the share of it the line stands (the longest of the services in it:
    // services of one line run together), and the sum of the services' shares, by which each
    // service's part of the lost production is weighed.
    let mut standing = vec![vec![0.0f64; p.buckets]; p.line_value.len()];
    let mut shares = vec![vec![0.0f64; p.buckets]; p.line_value.len()];
    for (i, m) in p.machines.iter().enumerate() {
        let line = models[i].line;
        for &s in &chosen[i] {
            for k in 0..m.duration_buckets {
                let share = m.stands_in(p.bucket_s, k);
                standing[line][s + k] = standing[line][s + k].max(share);
                shares[line][s + k] += share;
            }
        }
    }
    for (i, m) in p.machines.iter().enumerate() {
        let model = &models[i];
        let nodes = path_of(&chosen[i]);
        let mut failures = 0.0;
        let mut risks = Vec::new();
        for pair in nodes.windows(2) {
            let (a, b) = (begins(p, m, pair[0]), ends(p, pair[1]));
            let b = b.max(a);
            let (c, n) = model.segment(m, pair[0], a, b);
            cost += c;
            failures += n;
            risks.push(model.risk(m, pair[0], a, b));
        }
        let (rtf_cost, rtf_count) = model.segment(m, Node::Now, 0.0, p.buckets as f64);
        run_to_failure += rtf_cost;
        for (k, &s) in chosen[i].iter().enumerate() {
            let d = m.duration_buckets;
            let line = model.line;
            let production: f64 = (0..d)
                .map(|k| (s + k, m.stands_in(p.bucket_s, k)))
                .filter(|&(t, share)| share > 0.0 && shares[line][t] > 0.0)
                .map(|(t, share)| {
                    p.line_value[line].1[t] * standing[line][t] * share / shares[line][t]
                })
                .sum();
            cost += m.maintenance_cost + production;
            // The risk this service removes: the span after it, from the ages reached without it.
            let renewed = begins(p, m, nodes[k + 1]);
            let (since, next) = (begins(p, m, nodes[k]), ends(p, nodes[k + 2]).max(renewed));
            let risk_without = m.risk_over(|mode_index, mode| {
                let clock = &model.clocks[mode_index];
                // Aged since the renewal before this service: from its age now, or from 0.
                let base = if nodes[k] == Node::Now { mode.age } else { 0.0 };
                (
                    base + clock_at(clock, renewed) - clock_at(clock, since),
                    clock_at(clock, next) - clock_at(clock, renewed),
                )
            });
            windows.push(Window {
                machine: m.name.clone(),
                start_bucket: s,
                start_s: s as f64 * p.bucket_s,
                duration_s: m.renewed_after(p.bucket_s) * p.bucket_s,
                crew: m.crew,
                risk_before: risks[k],
                risk_after: risks[k + 1],
                risk_without,
                maintenance_cost: m.maintenance_cost,
                production_cost: production,
            });
        }
        machines.push(MachinePlan {
            machine: m.name.clone(),
            services: chosen[i].len(),
            expected_failures: failures,
            run_to_failure_failures: rtf_count,
        });
    }
    windows.sort_by(|a, b| {
        a.start_bucket
            .cmp(&b.start_bucket)
            .then(a.machine.cmp(&b.machine))
    });
    MaintenancePlan {
        windows,
        machines,
        expected_cost: cost,
        run_to_failure_cost: run_to_failure,
        solver,
    }
}

/// A fast plan: machines with the costliest run to failure first, each by its cheapest path of
/// services given what is already planned (a line already standing costs nothing more; a bucket
/// whose crew is taken is closed).
pub fn solve_greedy(p: &WindowProblem) -> Result<MaintenancePlan, WindowError> {
    let models = models(p)?;
    let chosen = greedy_chosen(p, &models)?;
    Ok(plan_of(p, &models, &chosen, "greedy"))
}

/// The greedy plan's service starts per machine.
fn greedy_chosen(
    p: &WindowProblem,
    models: &[MachineModel],
) -> Result<Vec<Vec<usize>>, WindowError> {
    // Machines that must be serviced first, the one whose first service is due soonest leading;
    // then the others, the costliest to leave first.
    let horizon = p.buckets as f64;
    let must = |i: usize| models[i].risk(&p.machines[i], Node::Now, 0.0, horizon) > p.max_risk;
    let deadline = |i: usize| {
        models[i]
            .arcs
            .iter()
            .filter(|a| a.from == Node::Now)
            .map(|a| ends(p, a.to))
            .fold(0.0, f64::max)
    };
    let rtf = |i: usize| models[i].segment(&p.machines[i], Node::Now, 0.0, horizon).0;
    let mut order: Vec<usize> = (0..p.machines.len()).collect();
    order.sort_by(|&a, &b| {
        must(b)
            .cmp(&must(a))
            .then_with(|| {
                if must(a) && must(b) {
                    deadline(a).total_cmp(&deadline(b))
                } else {
                    rtf(b).total_cmp(&rtf(a))
                }
            })
            .then(a.cmp(&b))
    });
    // A machine left without a feasible path moves to the front and the plan starts again, at
    // most once per machine.
    let mut last_error = None;
    for _ in 0..=p.machines.len() {
        match greedy_in_order(p, models, &order) {
            Ok(chosen) => return Ok(chosen),
            Err((i, e)) => {
                if order.first() == Some(&i) {
                    return Err(e);
                }
                order.retain(|&k| k != i);
                order.insert(0, i);
                last_error = Some(e);
            }
        }
    }
    Err(last_error.unwrap_or_else(|| WindowError::Invalid("no machine to plan".into())))
}

/// Plans the machines one at a time in `order`; on failure, the machine that found no path.
fn greedy_in_order(
    p: &WindowProblem,
    models: &[MachineModel],
    order: &[usize],
) -> Result<Vec<Vec<usize>>, (usize, WindowError)> {
    let mut crew_used = vec![0u32; p.buckets];
    // Per line and bucket: the share of it the line already stands for the services planned.
    let mut stopped = vec![vec![0.0f64; p.buckets]; p.line_value.len()];
    let mut chosen = vec![Vec::new(); p.machines.len()];
    for &i in order {
        let m = &p.machines[i];
        let model = &models[i];
        let d = m.duration_buckets;
        let line = model.line;
        let open = |s: usize| (s..s + d).all(|t| crew_used[t] + m.crew <= p.crew[t]);
        // What a service starting at `s` adds to the line's stop.
        let stop_cost = |s: usize| -> f64 {
            (0..d)
                .map(|k| {
                    let more = m.stands_in(p.bucket_s, k) - stopped[line][s + k];
                    p.line_value[line].1[s + k] * more.max(0.0)
                })
                .sum()
        };
        // Shortest path over the arcs (generated in time order of their start node).
        let index = |n: Node| match n {
            Node::Now => 0,
            Node::Service(s) => 1 + model.starts.binary_search(&s).unwrap_or_default(),
            Node::End => model.starts.len() + 1,
        };
        let mut best: Vec<Option<(f64, Option<Node>)>> = vec![None; model.starts.len() + 2];
        best[0] = Some((0.0, None));
        for a in &model.arcs {
            if let Node::Service(s) = a.to
                && !open(s)
            {
                continue;
            }
            let Some((base, _)) = best[index(a.from)] else {
                continue;
            };
            let extra = match a.to {
                Node::Service(s) => stop_cost(s),
                _ => 0.0,
            };
            let total = base + a.cost + extra;
            let slot = &mut best[index(a.to)];
            if slot.is_none_or(|(b, _)| total < b) {
                *slot = Some((total, Some(a.from)));
            }
        }
        if best[index(Node::End)].is_none() {
            return Err((
                i,
                WindowError::Infeasible {
                    max_risk: p.max_risk,
                    detail: format!("no crew left for {} early enough", m.name),
                },
            ));
        }
        let mut services = Vec::new();
        let mut at = Node::End;
        while let Some((_, Some(prev))) = best[index(at)] {
            if let Node::Service(s) = prev {
                services.push(s);
            }
            at = prev;
        }
        services.reverse();
        for &s in &services {
            for k in 0..d {
                crew_used[s + k] += m.crew;
                let standing = &mut stopped[line][s + k];
                *standing = standing.max(m.stands_in(p.bucket_s, k));
            }
        }
        chosen[i] = services;
    }
    Ok(chosen)
}

/// A machine's renewal points for its chosen service starts.
fn path_of(starts: &[usize]) -> Vec<Node> {
    std::iter::once(Node::Now)
        .chain(starts.iter().map(|&s| Node::Service(s)))
        .chain(std::iter::once(Node::End))
        .collect()
}
