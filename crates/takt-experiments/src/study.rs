//! The parts of a what-if study that every front end reads the same way: how many replications (a
//! count, or a precision target within a cap) and the variants of one or two sweeps. The CLI and the
//! HTTP API parse their own syntax into these and report the errors at their own field names.

use crate::experiment::Replications;
use crate::variants::{self, VariantSpec};

/// A part of a study request that cannot be run; `field` names it as the request does
/// (`precision`, `sweeps[1]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct StudyError {
    pub field: String,
    pub message: String,
}

fn error(field: impl Into<String>, message: impl Into<String>) -> StudyError {
    StudyError {
        field: field.into(),
        message: message.into(),
    }
}

/// Replications of one study: `count` of them; or, with a `precision` (the 95 % half-width as a
/// share of the mean, 0 < p < 1), rounds from `count` (default 10) until every headline KPI is that
/// precise or `max` is reached. The most any variant may run is `limit` (the server's or the CLI's
/// cap), and a study needs at least 2 for an interval.
pub fn replications(
    count: Option<u32>,
    precision: Option<f64>,
    max: Option<u32>,
    limit: u32,
) -> Result<Replications, StudyError> {
    let within = |field: &str, n: u32| {
        if (2..=limit).contains(&n) {
            Ok(n)
        } else {
            Err(error(
                field,
                format!("must be between 2 and {limit}, not {n}"),
            ))
        }
    };
    match precision {
        None => {
            if max.is_some() {
                return Err(error(
                    "max_replications",
                    "a cap applies only with a precision target",
                ));
            }
            Ok(Replications::Fixed(within(
                "replications",
                count.unwrap_or(10),
            )?))
        }
        Some(p) if !(p > 0.0 && p < 1.0) => Err(error(
            "precision",
            format!("must be a share between 0 and 1 (0.02 for 2 %), not {p}"),
        )),
        Some(relative) => {
            let min = within("replications", count.unwrap_or(10))?;
            let max = within("max_replications", max.unwrap_or(200.min(limit).max(min)))?;
            if max < min {
                return Err(error(
                    "max_replications",
                    format!("{max} is below the {min} replications to start with"),
                ));
            }
            Ok(Replications::Precision { relative, min, max })
        }
    }
}

/// The variants of at most two sweeps (`path=from..to:step` or `path=a,b,c`; two make a grid).
pub fn sweep_variants(sweeps: &[String]) -> Result<Vec<VariantSpec>, StudyError> {
    if sweeps.len() > 2 {
        return Err(error(
            "sweeps",
            format!("at most two sweeps (a grid); got {}", sweeps.len()),
        ));
    }
    let parsed = sweeps
        .iter()
        .enumerate()
        .map(|(i, s)| variants::parse_sweep(s).map_err(|e| error(format!("sweeps[{i}]"), e.0)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(variants::expand_sweeps(&parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_or_a_precision_within_the_cap() {
        assert_eq!(
            replications(None, None, None, 1000),
            Ok(Replications::Fixed(10))
        );
        assert_eq!(
            replications(Some(30), None, None, 1000),
            Ok(Replications::Fixed(30))
        );
        assert_eq!(
            replications(None, Some(0.02), None, 1000),
            Ok(Replications::Precision {
                relative: 0.02,
                min: 10,
                max: 200
            })
        );
        assert_eq!(
            replications(Some(5), Some(0.05), Some(40), 1000),
            Ok(Replications::Precision {
                relative: 0.05,
                min: 5,
                max: 40
            })
        );
        // A server allowing 50 caps a precision study there, not at 200.
        assert_eq!(
            replications(None, Some(0.01), None, 50).expect("ok").most(),
            50
        );
        let field = |r: Result<Replications, StudyError>| r.expect_err("refused").field;
        assert_eq!(
            field(replications(Some(1), None, None, 1000)),
            "replications"
        );
        assert_eq!(
            field(replications(Some(2000), None, None, 1000)),
            "replications"
        );
        assert_eq!(
            field(replications(None, Some(2.0), None, 1000)),
            "precision"
        );
        assert_eq!(
            field(replications(None, Some(f64::NAN), None, 1000)),
            "precision"
        );
        assert_eq!(
            field(replications(None, None, Some(40), 1000)),
            "max_replications"
        );
        assert_eq!(
            field(replications(Some(50), Some(0.02), Some(20), 1000)),
            "max_replications"
        );
    }

    #[test]
    fn sweeps_make_a_grid_and_name_the_bad_one() {
        let grid = sweep_variants(&[
            "buffers.B.capacity=10..30:10".into(),
            "crews.technician.count=1,2".into(),
        ])
        .expect("reads");
        assert_eq!(grid.len(), 6);
        assert_eq!(grid[0].name, "capacity=10, count=1");
        assert_eq!(
            sweep_variants(&["a=1,2".into(), "b=x".into()])
                .expect_err("refused")
                .field,
            "sweeps[1]"
        );
        assert_eq!(
            sweep_variants(&["a=1".into(), "b=1".into(), "c=1".into()])
                .expect_err("refused")
                .field,
            "sweeps"
        );
    }
}
