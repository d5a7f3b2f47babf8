//! The decision an experiment supports, in words: which variant is best for the goal, and each
//! variant's change of a KPI against the base with its 95 % interval, called significant only when
//! the interval excludes 0. The HTML report and `takt whatif` open with it.

use crate::experiment::{Experiment, VariantResult};
use crate::goal::Relation;
use crate::kpi::KpiColumn;
use takt_model::quantity::{Quantity, relative_change};

/// One variant's change of one KPI, in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub variant: String,
    pub words: String,
    pub significant: bool,
}

/// The KPI a decision is stated on: the goal's, else throughput, else the first compared.
pub fn decision_kpi(x: &Experiment) -> Option<&KpiColumn> {
    let goal = x.ranking.as_ref().map(|r| r.goal.key.as_str());
    goal.and_then(|g| x.kpis.iter().find(|k| k.key == g))
        .or_else(|| x.kpis.iter().find(|k| k.key == "throughput_per_hour"))
        .or_else(|| x.kpis.first())
}

/// The variant's change of `kpi` against the base in words: "bigger conveyors: throughput +2.1 %
/// ± 0.4 % (+21.4 ± 4.1 parts/h), significant". Shares change in points, not in percent of
/// themselves; a change whose interval covers 0 is "no significant change", never a gain.
pub fn decide(x: &Experiment, v: &VariantResult, kpi: &KpiColumn) -> Decision {
    let estimate = |r: &VariantResult| r.estimates.iter().find(|e| e.key == kpi.key).cloned();
    let base = x.variants.first().and_then(estimate).and_then(|e| e.mean);
    let Some(d) = estimate(v).and_then(|e| e.difference) else {
        return Decision {
            variant: v.name.clone(),
            words: format!("{}: {} not measured", v.name, kpi.label),
            significant: false,
        };
    };
    if d.mean == 0.0 && d.ci95.unwrap_or(0.0) == 0.0 {
        return Decision {
            variant: v.name.clone(),
            words: format!(
                "{}: {} the same as the base in every replication",
                v.name, kpi.label
            ),
            significant: false,
        };
    }
    let absolute = kpi.quantity.change_within(d.mean, d.ci95);
    let change = match kpi.quantity {
        Quantity::Share => absolute,
        _ => match relative_change(base, d.mean, d.ci95) {
            Some(r) => format!("{r} ({absolute})"),
            None => absolute,
        },
    };
    let verdict = if d.significant {
        "significant"
    } else {
        "no significant change: the 95 % interval includes 0"
    };
    Decision {
        variant: v.name.clone(),
        words: format!("{}: {} {change}, {verdict}", v.name, kpi.label),
        significant: d.significant,
    }
}

/// What the experiment says, one sentence per line: the best variant for the goal (with those it
/// cannot be told from), then each variant's change of the decision KPI.
pub fn summary(x: &Experiment) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(r) = &x.ranking {
        let kpi = x.kpis.iter().find(|k| k.key == r.goal.key);
        let label = kpi.map_or(r.goal.key.as_str(), |k| k.label.as_str());
        let aim = if r.goal.maximize { "highest" } else { "lowest" };
        match &r.best {
            Some(best) => {
                let mean = r.ranked.iter().find(|v| &v.variant == best);
                let value = match (kpi, mean) {
                    (Some(k), Some(m)) => format!(" ({})", k.quantity.estimate(m.mean, m.ci95)),
                    _ => String::new(),
                };
                let alike: Vec<&str> = r
                    .ranked
                    .iter()
                    .filter(|v| v.indistinguishable_from_best && &v.variant != best && v.feasible)
                    .map(|v| v.variant.as_str())
                    .collect();
                let tie = if alike.is_empty() {
                    String::new()
                } else {
                    format!("; not significantly different: {}", alike.join(", "))
                };
                lines.push(format!("Best for the {aim} {label}: {best}{value}{tie}."));
            }
            None => lines.push(format!(
                "No variant meets every constraint ({}).",
                r.constraints
                    .iter()
                    .map(|c| {
                        let relation = match c.relation {
                            Relation::AtMost => "at most",
                            Relation::AtLeast => "at least",
                        };
                        let label = x.kpis.iter().find(|k| k.key == c.key);
                        match label {
                            Some(k) => {
                                format!("{} {relation} {}", k.label, k.quantity.value(c.bound))
                            }
                            None => format!("{} {relation} {}", c.key, c.bound),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
    if let Some(kpi) = decision_kpi(x) {
        for v in x.variants.iter().skip(1) {
            lines.push(decide(x, v, kpi).words);
        }
    }
    lines
}
