//! A job's title: what it was, in a line a planner recognises in a list of earlier jobs ("Bottling
//! line - one shift · 3 variants: base, faster filler, bigger conveyor · 10 runs each"). Made once
//! from the spec when the job is submitted and stored with it, so that a list never reads specs.

use super::JobSpec;
use std::path::Path;
use takt_experiments::Replications;
use takt_model::parse_scenario;
use takt_model::quantity::{Quantity, duration};

/// Variant names listed in a title; more are counted.
const NAMED: usize = 3;
/// A title's length at most, in characters (a name can be long).
const MOST_CHARS: usize = 160;

impl JobSpec {
    /// What the job was, in one line; `None` for a chunk of a job (never listed).
    pub fn title(&self) -> Option<String> {
        let line = match self {
            JobSpec::Simulation { experiment } => {
                let plant = plant_name(&experiment.base_text, &experiment.origin);
                let names: Vec<&str> = experiment
                    .variants
                    .iter()
                    .map(|v| v.name.as_str())
                    .collect();
                let compared = match names.len() {
                    0 => "the scenario as it is".to_string(),
                    n => {
                        let mut shown = names[..n.min(NAMED)].join(", ");
                        if n > NAMED {
                            shown.push_str(&format!(", {} more", n - NAMED));
                        }
                        format!(
                            "{} {}: {shown}",
                            Quantity::Count.value(n as f64),
                            if n == 1 { "variant" } else { "variants" }
                        )
                    }
                };
                let runs = match experiment.replications {
                    Replications::Fixed(n) => {
                        format!("{} runs each", Quantity::Count.value(n.into()))
                    }
                    Replications::Precision { relative, max, .. } => format!(
                        "runs to ±{} (at most {})",
                        Quantity::Share.value(relative),
                        Quantity::Count.value(max.into())
                    ),
                };
                let horizon = experiment
                    .horizon_s
                    .map(|h| format!(" · {}", duration(h)))
                    .unwrap_or_default();
                format!("{plant} · {compared} · {runs}{horizon}")
            }
            JobSpec::SimulationChunk { .. } => return None,
            JobSpec::Schedule {
                scenario,
                origin,
                objective,
                solver,
                time_limit_s,
                ..
            } => {
                let solver = serde_json::to_value(solver)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                format!(
                    "{} · {objective} · {solver}, at most {}",
                    plant_name(scenario, Path::new(origin)),
                    duration(*time_limit_s)
                )
            }
            JobSpec::MaintenancePlan {
                scenario,
                plant,
                request,
                ..
            } => format!(
                "{} · {} ahead from {}",
                scenario.name,
                duration(request.settings.horizon_s),
                if plant.is_some() {
                    "the plant as the twin had it"
                } else {
                    "the scenario's start"
                }
            ),
        };
        Some(cut(line))
    }
}

/// The scenario's `name`, or its file's name when it does not parse.
fn plant_name(text: &str, origin: &Path) -> String {
    parse_scenario(text, origin).map_or_else(|_| origin.display().to_string(), |s| s.name)
}

fn cut(line: String) -> String {
    if line.chars().count() <= MOST_CHARS {
        return line;
    }
    let mut short: String = line.chars().take(MOST_CHARS - 1).collect();
    short.push('…');
    short
}
