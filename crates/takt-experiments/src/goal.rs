//! Choosing the best variant: `--goal "max throughput_per_hour"` with constraints such as
//! `--subject-to "wip_mean<=40"` on KPI means. Variants whose paired difference to the best is not
//! significant (its 95% interval covers 0) are reported as statistically indistinguishable from it.

use serde::{Deserialize, Serialize};

/// A goal or constraint of an experiment that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GoalError(pub String);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Goal {
    pub maximize: bool,
    pub key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Relation {
    AtMost,
    AtLeast,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Constraint {
    pub key: String,
    pub relation: Relation,
    pub bound: f64,
}

pub fn parse_goal(text: &str) -> Result<Goal, GoalError> {
    parse_goal_message(text).map_err(GoalError)
}

fn parse_goal_message(text: &str) -> Result<Goal, String> {
    let t = text.trim();
    let (dir, key) = t
        .split_once(char::is_whitespace)
        .ok_or_else(|| format!("`{text}`: expected \"max KPI\" or \"min KPI\""))?;
    let maximize = match dir {
        "max" | "maximize" => true,
        "min" | "minimize" => false,
        _ => return Err(format!("`{text}`: the goal starts with max or min")),
    };
    Ok(Goal {
        maximize,
        key: key.trim().to_string(),
    })
}

pub fn parse_constraint(text: &str) -> Result<Constraint, GoalError> {
    parse_constraint_message(text).map_err(GoalError)
}

fn parse_constraint_message(text: &str) -> Result<Constraint, String> {
    let (key, relation, bound) = if let Some((k, b)) = text.split_once("<=") {
        (k, Relation::AtMost, b)
    } else if let Some((k, b)) = text.split_once(">=") {
        (k, Relation::AtLeast, b)
    } else {
        return Err(format!("`{text}`: expected KPI<=value or KPI>=value"));
    };
    let bound: f64 = bound
        .trim()
        .parse()
        .map_err(|_| format!("`{text}`: `{}` is not a number", bound.trim()))?;
    Ok(Constraint {
        key: key.trim().to_string(),
        relation,
        bound,
    })
}

impl Constraint {
    pub fn holds(&self, mean: f64) -> bool {
        match self.relation {
            Relation::AtMost => mean <= self.bound,
            Relation::AtLeast => mean >= self.bound,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RankedVariant {
    pub variant: String,
    pub mean: f64,
    pub ci95: Option<f64>,
    pub feasible: bool,
    /// Constraints not met, as written.
    pub violated: Vec<String>,
    /// Whether the paired difference to the best variant is not significant.
    pub indistinguishable_from_best: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ranking {
    pub goal: Goal,
    pub constraints: Vec<Constraint>,
    /// Best first; infeasible variants last.
    pub ranked: Vec<RankedVariant>,
    pub best: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_goals_and_constraints() {
        assert_eq!(
            parse_goal("max throughput_per_hour"),
            Ok(Goal {
                maximize: true,
                key: "throughput_per_hour".into()
            })
        );
        assert!(parse_goal("best throughput").is_err());
        let c = parse_constraint("wip_mean<=40").expect("ok");
        assert!(c.holds(39.0) && !c.holds(41.0));
        assert!(parse_constraint("wip_mean<40").is_err());
        assert!(parse_constraint("wip_mean<=forty").is_err());
    }
}
