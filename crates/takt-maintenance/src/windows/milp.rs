//! The exact window plan: the MILP over every machine's path of renewals (the `milp` feature).

use super::*;

/// The optimal plan of the MILP (see the module docs).
pub fn solve_milp(p: &WindowProblem, time_limit_s: f64) -> Result<MaintenancePlan, WindowError> {
    use good_lp::{
        Expression, Solution, SolutionStatus, SolverModel, Variable, WithInitialSolution, highs,
        variable, variables,
    };
    let models = models(p)?;
    // The greedy plan, if there is one, starts the search: the MILP is never worse.
    let start = greedy_chosen(p, &models).ok();
    let mut vars = variables!();
    let y: Vec<Vec<Variable>> = models
        .iter()
        .map(|mm| {
            mm.arcs
                .iter()
                .map(|_| vars.add(variable().min(0.0).max(1.0)))
                .collect()
        })
        .collect();
    // Whether machine i is serviced from start k: the only integer variables. With them fixed,
    // the arcs form a unit flow through the chosen services, integral at every vertex.
    let x: Vec<Vec<Variable>> = models
        .iter()
        .map(|mm| {
            mm.starts
                .iter()
                .map(|_| vars.add(variable().binary()))
                .collect()
        })
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
    for (ys, mm) in y.iter().zip(&models) {
        for (v, a) in ys.iter().zip(&mm.arcs) {
            objective += a.cost * *v;
        }
    }
    for ((_, values), zs) in p.line_value.iter().zip(&z) {
        for (value, v) in values.iter().zip(zs) {
            objective += *value * *v;
        }
    }
    let mut initial = Vec::new();
    if let Some(chosen) = &start {
        for (i, mm) in models.iter().enumerate() {
            let path = path_of(&chosen[i]);
            for (a, v) in mm.arcs.iter().zip(&y[i]) {
                let on = path.windows(2).any(|w| w[0] == a.from && w[1] == a.to);
                initial.push((*v, if on { 1.0 } else { 0.0 }));
            }
            for (s, v) in mm.starts.iter().zip(&x[i]) {
                initial.push((*v, if chosen[i].contains(s) { 1.0 } else { 0.0 }));
            }
        }
        for (l, zs) in z.iter().enumerate() {
            for (t, v) in zs.iter().enumerate() {
                let stands = p
                    .machines
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| models[*i].line == l)
                    .flat_map(|(i, m)| {
                        chosen[i]
                            .iter()
                            .filter(move |&&s| s <= t && t < s + m.duration_buckets)
                            .map(move |&s| m.stands_in(p.bucket_s, t - s))
                    })
                    .fold(0.0, f64::max);
                initial.push((*v, stands));
            }
        }
    }
    let mut model = highs(vars.minimise(objective))
        .set_threads(1)
        .set_time_limit(time_limit_s)
        .set_mip_rel_gap(MIP_REL_GAP)
        .map_err(|e| WindowError::Solver(e.to_string()))?;
    if !initial.is_empty() {
        model = model.with_initial_solution(initial);
    }
    model.set_verbose(false);
    // Per machine and start: the flow into the service (1 if it is done).
    let mut services: Vec<Vec<(usize, Variable)>> = Vec::new();
    for (i, mm) in models.iter().enumerate() {
        let flow = |node: Node, into: bool| -> Expression {
            mm.arcs
                .iter()
                .zip(&y[i])
                .filter(|(a, _)| if into { a.to == node } else { a.from == node })
                .map(|(_, v)| Expression::from(*v))
                .sum()
        };
        model.add_constraint(flow(Node::Now, false).eq(1.0));
        model.add_constraint(flow(Node::End, true).eq(1.0));
        let mut mine = Vec::new();
        for (k, &s) in mm.starts.iter().enumerate() {
            let node = Node::Service(s);
            model.add_constraint(flow(node, true).eq(flow(node, false)));
            model.add_constraint(flow(node, true).eq(x[i][k]));
            mine.push((s, x[i][k]));
        }
        services.push(mine);
    }
    for (t, &capacity) in p.crew.iter().enumerate() {
        let mut crew = Expression::from(0.0);
        for (i, m) in p.machines.iter().enumerate() {
            let d = m.duration_buckets;
            for (s, done) in &services[i] {
                if *s <= t && t < s + d {
                    crew += f64::from(m.crew) * *done;
                    // The line stands while any of its machines is serviced, for the longest
                    // share of the bucket any of them takes.
                    let share = m.stands_in(p.bucket_s, t - s);
                    model.add_constraint(Expression::from(z[models[i].line][t]).geq(share * *done));
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
    let chosen: Vec<Vec<usize>> = models
        .iter()
        .zip(&x)
        .map(|(mm, xs)| {
            mm.starts
                .iter()
                .zip(xs)
                .filter(|(_, v)| solution.value(**v) > 0.5)
                .map(|(s, _)| *s)
                .collect()
        })
        .collect();
    let solver = match solution.status() {
        SolutionStatus::TimeLimit => "milp (time limit)",
        _ => "milp",
    };
    Ok(plan_of(p, &models, &chosen, solver))
}
