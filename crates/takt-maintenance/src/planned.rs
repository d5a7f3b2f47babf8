//! The scenario with the plan in it: each planned station's maintenance becomes the plan's service
//! starts (`maintenance.at`), so that the plan can be simulated, scheduled around and kept.

use crate::plant::PlannedMachine;
use crate::windows::MaintenancePlan;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum PlannedScenarioError {
    #[error("the scenario is not TOML: {0}")]
    Toml(String),
    #[error("the scenario has no [[stations]]")]
    NoStations,
    #[error("the planned scenario is not valid: {0}")]
    Invalid(#[from] takt_model::ScenarioError),
}

/// `text` (the scenario file the plan was made for) with each planned station's maintenance
/// replaced by the plan's starts, `start_s` being the plan's start in scenario time. A planned
/// station the plan does not service loses its periodic maintenance, as in the comparison. The
/// result is checked by loading it (`origin` and `base_dir` as for the original).
pub fn planned_scenario(
    text: &str,
    origin: &Path,
    base_dir: Option<&Path>,
    machines: &[PlannedMachine],
    plan: &MaintenancePlan,
    start_s: f64,
) -> Result<String, PlannedScenarioError> {
    let mut table: toml::Table =
        toml::from_str(text).map_err(|e| PlannedScenarioError::Toml(e.message().to_string()))?;
    let Some(toml::Value::Array(stations)) = table.get_mut("stations") else {
        return Err(PlannedScenarioError::NoStations);
    };
    for m in machines {
        let Some(toml::Value::Table(st)) = stations.get_mut(m.station) else {
            continue;
        };
        let at: Vec<toml::Value> = plan
            .windows
            .iter()
            .filter(|w| w.machine == m.name)
            .map(|w| toml::Value::Float((start_s + w.start_s).round()))
            .collect();
        if at.is_empty() {
            st.remove("maintenance");
            continue;
        }
        let mut mt = match st.remove("maintenance") {
            Some(toml::Value::Table(t)) => t,
            _ => {
                let mut t = toml::Table::new();
                t.insert(
                    "duration".into(),
                    toml::Value::String(format!("{}s", m.service_s)),
                );
                if let Some(c) = &m.crew {
                    t.insert("crew".into(), toml::Value::String(c.clone()));
                }
                t
            }
        };
        mt.remove("interval");
        mt.remove("first");
        mt.insert("at".into(), toml::Value::Array(at));
        st.insert("maintenance".into(), toml::Value::Table(mt));
    }
    let header = format!(
        "# Maintenance planned by takt ({} windows, {}): each planned station's `maintenance.at`.\n",
        plan.windows.len(),
        plan.solver
    );
    let body =
        toml::to_string_pretty(&table).map_err(|e| PlannedScenarioError::Toml(e.to_string()))?;
    let out = header + &body;
    takt_model::load_str(&out, origin, base_dir)?;
    Ok(out)
}
