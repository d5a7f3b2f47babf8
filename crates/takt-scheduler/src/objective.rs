//! What a schedule is judged by: makespan, total weighted tardiness, the number of late jobs, total
//! setup time, or a combination. Levels separated by `,` are lexicographic (the first decides, the
//! next breaks ties); terms joined by `+` inside a level are a weighted sum, e.g.
//! `late,tardiness` or `tardiness+0.5*setup`. Makespan always breaks the last tie.

use crate::decode::{Context, Timing};
use crate::problem::ShopProblem;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Criterion {
    Makespan,
    /// Σ weight × max(0, completion − due).
    Tardiness,
    /// Jobs finished after their due date.
    Late,
    /// Σ setup times.
    Setup,
}

impl Criterion {
    fn name(self) -> &'static str {
        match self {
            Criterion::Makespan => "makespan",
            Criterion::Tardiness => "tardiness",
            Criterion::Late => "late",
            Criterion::Setup => "setup",
        }
    }
}

/// At most this many lexicographic levels (plus the makespan tie-break).
pub const MAX_LEVELS: usize = 3;

/// Lexicographic cost: the levels, then makespan. Lower is better.
pub type Cost = [f64; MAX_LEVELS + 1];

#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    pub levels: Vec<Vec<(f64, Criterion)>>,
}

impl Objective {
    pub fn makespan() -> Objective {
        Objective {
            levels: vec![vec![(1.0, Criterion::Makespan)]],
        }
    }

    pub fn uses(&self, c: Criterion) -> bool {
        self.levels.iter().flatten().any(|&(_, x)| x == c)
    }

    /// Whether the objective is makespan alone (the search then uses the classic N5 neighbourhood).
    pub fn is_makespan(&self) -> bool {
        self.levels
            .iter()
            .flatten()
            .all(|&(_, c)| c == Criterion::Makespan)
    }

    /// The cost of a timed solution.
    pub fn cost(&self, p: &ShopProblem, ctx: &Context, t: &Timing) -> Cost {
        let (mut tardiness, mut late) = (0.0, 0.0);
        if self.uses(Criterion::Tardiness) || self.uses(Criterion::Late) {
            for (j, job) in p.jobs.iter().enumerate() {
                if let Some(due) = job.due {
                    let c = t.end[ctx.last_op[j]];
                    if c > due {
                        tardiness += job.weight * (c - due) as f64;
                        late += 1.0;
                    }
                }
            }
        }
        let mut cost = [0.0; MAX_LEVELS + 1];
        for (level, terms) in self.levels.iter().enumerate().take(MAX_LEVELS) {
            cost[level] = terms
                .iter()
                .map(|&(w, c)| {
                    w * match c {
                        Criterion::Makespan => t.makespan as f64,
                        Criterion::Tardiness => tardiness,
                        Criterion::Late => late,
                        Criterion::Setup => t.total_setup as f64,
                    }
                })
                .sum();
        }
        cost[MAX_LEVELS] = t.makespan as f64;
        cost
    }
}

/// Lexicographic comparison of costs (they are finite sums of finite numbers).
pub fn better(a: &Cost, b: &Cost) -> bool {
    a.iter()
        .zip(b)
        .find(|(x, y)| x != y)
        .is_some_and(|(x, y)| x < y)
}

impl FromStr for Objective {
    type Err = ObjectiveError;

    fn from_str(text: &str) -> Result<Objective, ObjectiveError> {
        parse_objective(text).map_err(ObjectiveError)
    }
}

fn parse_objective(text: &str) -> Result<Objective, String> {
    let mut levels = Vec::new();
    for level in text.split(',') {
        let mut terms = Vec::new();
        for term in level.split('+') {
            let term = term.trim();
            let (weight, name) = match term.split_once('*') {
                Some((w, n)) => (
                    w.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|w| w.is_finite() && *w > 0.0)
                        .ok_or_else(|| format!("`{}` in `{term}` is not a weight > 0", w.trim()))?,
                    n.trim(),
                ),
                None => (1.0, term),
            };
            let c = match name {
                "makespan" => Criterion::Makespan,
                "tardiness" | "weighted-tardiness" => Criterion::Tardiness,
                "late" | "late-jobs" | "late-orders" => Criterion::Late,
                "setup" | "setups" | "changeover" => Criterion::Setup,
                _ => {
                    return Err(format!(
                        "unknown criterion `{name}`: use makespan, tardiness, late or setup, \
                         weighted with `+` (tardiness+0.5*setup) or ranked with `,` (late,tardiness)"
                    ));
                }
            };
            terms.push((weight, c));
        }
        levels.push(terms);
    }
    if levels.len() > MAX_LEVELS {
        return Err(format!("at most {MAX_LEVELS} levels separated by `,`"));
    }
    Ok(Objective { levels })
}

/// An objective that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ObjectiveError(pub String);

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let levels: Vec<String> = self
            .levels
            .iter()
            .map(|terms| {
                terms
                    .iter()
                    .map(|&(w, c)| {
                        if w == 1.0 {
                            c.name().to_string()
                        } else {
                            format!("{w}*{}", c.name())
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("+")
            })
            .collect();
        f.write_str(&levels.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_weighted_and_lexicographic_objectives() {
        let o: Objective = "late, tardiness+0.5*setup".parse().expect("parses");
        assert_eq!(
            o.levels,
            vec![
                vec![(1.0, Criterion::Late)],
                vec![(1.0, Criterion::Tardiness), (0.5, Criterion::Setup)]
            ]
        );
        assert_eq!(o.to_string(), "late,tardiness+0.5*setup");
        assert!("speed".parse::<Objective>().is_err());
        assert!("-1*setup".parse::<Objective>().is_err());
        assert!("a,b,c,d".parse::<Objective>().is_err());
        assert!(better(&[1.0, 5.0, 0.0, 0.0], &[2.0, 0.0, 0.0, 0.0]));
        assert!(!better(&[1.0, 0.0, 0.0, 0.0], &[1.0, 0.0, 0.0, 0.0]));
    }
}
