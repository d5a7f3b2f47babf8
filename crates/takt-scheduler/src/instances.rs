//! Readers for the classic benchmark formats (see shared/jssp/README.md): OR-Library job shop
//! (`jssp`), Brandimarte flexible job shop (`fjsp`), and Fattahi flexible job shop with
//! sequence-dependent setups (`fjsp-sdst`). Errors name the line and what is wrong.

use crate::problem::{Job, Operation, Setups, ShopProblem};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {message}")]
pub struct InstanceError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jssp,
    Fjsp,
    FjspSdst,
}

impl std::str::FromStr for Format {
    type Err = FormatError;
    fn from_str(s: &str) -> Result<Self, FormatError> {
        parse_format(s).map_err(FormatError)
    }
}

fn parse_format(s: &str) -> Result<Format, String> {
    match s {
        "jssp" => Ok(Format::Jssp),
        "fjsp" => Ok(Format::Fjsp),
        "fjsp-sdst" => Ok(Format::FjspSdst),
        other => Err(format!(
            "unknown instance format `{other}`: use jssp, fjsp or fjsp-sdst"
        )),
    }
}

/// A benchmark format that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(pub String);

/// Numbers of one line, with the line number for errors.
fn numbers(line_no: usize, line: &str) -> Result<Vec<i64>, InstanceError> {
    line.split_whitespace()
        .map(|w| {
            w.parse::<i64>().map_err(|_| InstanceError {
                line: line_no,
                message: format!("`{w}` is not a whole number"),
            })
        })
        .collect()
}

fn err(line: usize, message: impl Into<String>) -> InstanceError {
    InstanceError {
        line,
        message: message.into(),
    }
}

pub fn read(text: &str, format: Format, name: &str) -> Result<ShopProblem, InstanceError> {
    let lines: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect();
    let mut content = lines.iter().filter(|(_, l)| !l.trim().is_empty());
    let &(hl, header) = content.next().ok_or_else(|| err(1, "empty instance"))?;
    // The header may carry more fields (Brandimarte: the average of machines per operation, fractional).
    let h = numbers(
        hl,
        &header
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" "),
    )?;
    if h.len() < 2 || h[0] <= 0 || h[1] <= 0 {
        return Err(err(
            hl,
            "the first line must give the number of jobs and of machines",
        ));
    }
    let (n_jobs, machines) = (h[0] as usize, h[1] as usize);
    if n_jobs > MAX_JOBS || machines > MAX_MACHINES {
        return Err(err(
            hl,
            format!(
                "{n_jobs} jobs on {machines} machines: takt reads at most {MAX_JOBS} jobs and {MAX_MACHINES} machines"
            ),
        ));
    }
    let base = if format == Format::FjspSdst { 1 } else { 0 };
    // The header's count is checked against the lines there are before anything is sized by it.
    let mut jobs = Vec::with_capacity(n_jobs.min(lines.len()));
    for j in 0..n_jobs {
        let &(ln, line) = content
            .next()
            .ok_or_else(|| err(hl, format!("expected {n_jobs} job lines, found {j}")))?;
        let v = numbers(ln, line)?;
        let machine = |x: i64| -> Result<usize, InstanceError> {
            let m = x - base;
            if m < 0 || m as usize >= machines {
                return Err(err(
                    ln,
                    format!("machine {x} out of range (machines numbered from {base})"),
                ));
            }
            Ok(m as usize)
        };
        let duration = |x: i64| {
            if x < 0 {
                Err(err(ln, format!("negative processing time {x}")))
            } else {
                Ok(x)
            }
        };
        let mut operations = Vec::new();
        match format {
            Format::Jssp => {
                if v.len() % 2 != 0 || v.is_empty() {
                    return Err(err(ln, "a job line is pairs of machine and time"));
                }
                if v.len() / 2 != machines {
                    return Err(err(
                        ln,
                        format!(
                            "a job line has {} operations; the header says {machines} machines, and a job visits each once",
                            v.len() / 2
                        ),
                    ));
                }
                for pair in v.chunks(2) {
                    operations.push(Operation {
                        alternatives: vec![(machine(pair[0])?, duration(pair[1])?)],
                    });
                }
            }
            Format::Fjsp | Format::FjspSdst => {
                let mut it = v.iter().copied();
                let n_ops = it.next().ok_or_else(|| err(ln, "empty job line"))?;
                for o in 0..n_ops {
                    let k = it
                        .next()
                        .ok_or_else(|| err(ln, format!("operation {} is missing", o + 1)))?;
                    if k <= 0 {
                        return Err(err(
                            ln,
                            format!("operation {} has no eligible machine", o + 1),
                        ));
                    }
                    let mut alternatives = Vec::new();
                    for _ in 0..k {
                        let (Some(m), Some(d)) = (it.next(), it.next()) else {
                            return Err(err(
                                ln,
                                format!("operation {} lists fewer machines than it says", o + 1),
                            ));
                        };
                        alternatives.push((machine(m)?, duration(d)?));
                    }
                    operations.push(Operation { alternatives });
                }
                if it.next().is_some() {
                    return Err(err(ln, "extra numbers after the last operation"));
                }
            }
        }
        jobs.push(Job {
            name: format!("J{}", j + 1),
            release: 0,
            due: None,
            weight: 1.0,
            operations,
        });
    }
    let n_ops: usize = jobs.iter().map(|j| j.operations.len()).sum();
    let setups = if format == Format::FjspSdst {
        let mut all = Vec::with_capacity(machines);
        for m in 0..machines {
            let mut rows = Vec::with_capacity(n_ops);
            for r in 0..n_ops {
                let &(ln, line) = content.next().ok_or_else(|| {
                    err(
                        lines.len(),
                        format!(
                            "setup matrix of machine {} ends after {r} of {n_ops} rows",
                            m + 1
                        ),
                    )
                })?;
                let row = numbers(ln, line)?;
                if row.len() != n_ops {
                    return Err(err(
                        ln,
                        format!("a setup row needs {n_ops} numbers, found {}", row.len()),
                    ));
                }
                if row.iter().any(|&x| x < 0) {
                    return Err(err(ln, "negative setup time"));
                }
                rows.push(row);
            }
            all.push(rows);
        }
        Some(Setups::per_operation(all))
    } else {
        None
    };
    if let Some(&(ln, _)) = content.next() {
        return Err(err(
            ln,
            format!(
                "more lines than the header announces ({n_jobs} jobs{}): the header and the job lines disagree",
                if format == Format::FjspSdst {
                    ", then a setup matrix per machine"
                } else {
                    ""
                }
            ),
        ));
    }
    let mut p = ShopProblem::new(name, machines, jobs);
    p.setups = setups;
    Ok(p)
}

/// The largest instance read: jobs, and machines.
pub const MAX_JOBS: usize = 100_000;
pub const MAX_MACHINES: usize = 10_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_format_and_names_bad_lines() {
        let p = read("2 2\n0 3 1 2\n1 4 0 1\n", Format::Jssp, "t").expect("jssp");
        assert_eq!(p.jobs[1].operations[0].alternatives, vec![(1, 4)]);
        let p = read("1 2\n2 2 0 5 1 6 1 1 3\n", Format::Fjsp, "t").expect("fjsp");
        assert_eq!(p.jobs[0].operations[0].alternatives, vec![(0, 5), (1, 6)]);
        let p = read("1 1 2\n2 1 1 5 1 1 3\n\n0 2\n4 0\n", Format::FjspSdst, "t").expect("sdst");
        assert_eq!(p.setups.as_ref().map(|s| s.between(0, 1, 0)), Some(4));
        assert_eq!(
            read("2 2\n0 3 1\n1 4 0 1\n", Format::Jssp, "t")
                .unwrap_err()
                .line,
            2
        );
        assert!(
            read("2 2\n0 3 7 2\n1 4 0 1\n", Format::Jssp, "t")
                .unwrap_err()
                .message
                .contains("out of range")
        );
        assert!(
            read("1 2\n2 2 0 5 1\n", Format::Fjsp, "t")
                .unwrap_err()
                .message
                .contains("fewer machines")
        );
        assert!(
            read("1 1 2\n2 1 1 5 1 1 3\n\n0 2\n", Format::FjspSdst, "t")
                .unwrap_err()
                .message
                .contains("ends after")
        );
        assert!(read("", Format::Jssp, "t").is_err());
    }

    #[test]
    fn a_header_that_disagrees_with_its_lines_is_an_error() {
        // Three job lines under a header of two.
        let e = read("2 2\n0 3 1 2\n1 4 0 1\n0 1 1 1\n", Format::Jssp, "t").unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("disagree"), "{e}");
        // A job of one operation on a two-machine job shop.
        let e = read("2 2\n0 3\n1 4 0 1\n", Format::Jssp, "t").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        // A header that would size memory by itself.
        let e = read("1000000000000 2\n0 3 1 2\n", Format::Jssp, "t").unwrap_err();
        assert!(e.message.contains("at most"), "{e}");
        let e = read("3 2\n0 3 1 2\n", Format::Jssp, "t").unwrap_err();
        assert!(e.message.contains("expected 3 job lines"), "{e}");
    }
}
