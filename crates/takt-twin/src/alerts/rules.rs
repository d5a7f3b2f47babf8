//! Alert rules as people write them: a TOML file of `[[rule]]` tables, each naming when it fires.
//!
//! ```toml
//! [[rule]]
//! when = "down"              # a machine in UNPLANNED_DOWN longer than this
//! longer_than = "10m"
//!
//! [[rule]]
//! when = "oee_below"         # the running shift's OEE below 60 % once it has run 30 minutes
//! below = 0.60
//! after = "30m"
//! clear_above = 0.65         # hysteresis (default: 5 points above `below`)
//! assets = ["CasePacker"]    # default: the line's last station
//!
//! [[rule]]
//! when = "failure_risk"      # a failure mode's risk of failing within 8 h above 20 %
//! above = 0.20
//! within = "8h"
//!
//! [[rule]]
//! when = "silent"            # no event from a running machine for 10 minutes
//! longer_than = "10m"
//!
//!
//! [[rule]]
//! when = "order_late"        # an order more likely than not to miss its due date
//! probability = 0.5
//! every = "15m"              # a forecast this often (plant time) ...
//! ahead = "1d"               # ... this far ahead: orders due within it are judged
//! ```
//!
//! Every rule may also set `name` (default: its `when`), `severity` (`warning` or `critical`) and
//! `assets` (default: every machine; not for `order_late`). Errors name the file, the line and the
//! rule.

use crate::event::StateCode;
use serde::{Deserialize, Serialize};
use std::path::Path;
use takt_model::Model;
use takt_model::duration::parse_duration;

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// One rule as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "when", rename_all = "snake_case", deny_unknown_fields)]
enum RuleSpec {
    Down {
        name: Option<String>,
        severity: Option<Severity>,
        #[serde(default)]
        assets: Vec<String>,
        longer_than: String,
    },
    Silent {
        name: Option<String>,
        severity: Option<Severity>,
        #[serde(default)]
        assets: Vec<String>,
        longer_than: String,
        /// The states in which a machine must be heard from (default: RUNNING, which counts its
        /// pieces; a machine down, starved or off may well say nothing).
        while_states: Option<Vec<String>>,
    },
    OeeBelow {
        name: Option<String>,
        severity: Option<Severity>,
        #[serde(default)]
        assets: Vec<String>,
        below: f64,
        after: String,
        clear_above: Option<f64>,
    },
    FailureRisk {
        name: Option<String>,
        severity: Option<Severity>,
        #[serde(default)]
        assets: Vec<String>,
        above: f64,
        within: String,
        clear_below: Option<f64>,
    },
    OrderLate {
        name: Option<String>,
        severity: Option<Severity>,
        probability: f64,
        clear_below: Option<f64>,
        every: Option<String>,
        ahead: Option<String>,
        replications: Option<u32>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

/// What a checked rule watches, with its thresholds in SI units.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "when", rename_all = "snake_case")]
pub enum Condition {
    /// A machine in UNPLANNED_DOWN for at least `longer_than_s`; clears when it leaves it.
    Down { longer_than_s: f64 },
    /// No event for at least `longer_than_s` from a machine last known in one of `while_in`;
    /// clears on its next event.
    Silent {
        longer_than_s: f64,
        #[serde(skip)]
        while_in: Vec<StateCode>,
    },
    /// The running shift's OEE below `below` once the twin has watched the machine `after_s` of
    /// the shift (time in UNKNOWN, before its first event or while silent, is left out of both);
    /// clears at `clear_above` or when a new shift begins.
    OeeBelow {
        below: f64,
        after_s: f64,
        clear_above: f64,
    },
    /// A failure mode's probability of failing within `within_s` (from its age now) above
    /// `above`; clears below `clear_below` (a repair or a service renews the mode).
    FailureRisk {
        above: f64,
        within_s: f64,
        clear_below: f64,
    },
    /// An order's probability of missing its due date at or above `probability`, from a forecast
    /// `ahead_s` ahead with `replications`, run every `every_s` of plant time (orders due later
    /// than the forecast sees are not judged); clears below `clear_below` or when the order is
    /// complete.
    OrderLate {
        probability: f64,
        clear_below: f64,
        every_s: f64,
        ahead_s: f64,
        replications: u32,
    },
}

impl Condition {
    pub fn kind(&self) -> &'static str {
        match self {
            Condition::Down { .. } => "down",
            Condition::Silent { .. } => "silent",
            Condition::OeeBelow { .. } => "oee_below",
            Condition::FailureRisk { .. } => "failure_risk",
            Condition::OrderLate { .. } => "order_late",
        }
    }
}

/// A checked rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub name: String,
    pub severity: Severity,
    /// The machines it watches (names as the twin knows them).
    pub assets: Vec<String>,
    #[serde(flatten)]
    pub condition: Condition,
}

impl Rule {
    /// The rule in words, with its thresholds in their units.
    pub fn describe(&self) -> String {
        use takt_model::quantity::{duration, percent};
        match &self.condition {
            Condition::Down { longer_than_s } => {
                format!(
                    "a machine in UNPLANNED_DOWN longer than {}",
                    duration(*longer_than_s)
                )
            }
            Condition::Silent {
                longer_than_s,
                while_in,
            } => format!(
                "no event for {} from a machine in {}",
                duration(*longer_than_s),
                while_in
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            Condition::OeeBelow {
                below,
                after_s,
                clear_above,
            } => format!(
                "the shift's OEE below {} once watched {} (clears at {})",
                percent(*below),
                duration(*after_s),
                percent(*clear_above)
            ),
            Condition::FailureRisk {
                above,
                within_s,
                clear_below,
            } => format!(
                "a wear-out failure mode's risk of failing within {} above {} (clears below {}, or when renewed)",
                duration(*within_s),
                percent(*above),
                percent(*clear_below)
            ),
            Condition::OrderLate {
                probability,
                every_s,
                ahead_s,
                replications,
                ..
            } => format!(
                "an order due within {} with a chance of {} or more to miss it (a forecast of {} runs every {})",
                duration(*ahead_s),
                percent(*probability),
                replications,
                duration(*every_s)
            ),
        }
    }
}

/// A rules file that cannot be used, located.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct RulesError {
    pub file: String,
    pub message: String,
}

/// Reads and checks a rules file against the plant.
pub fn load(path: &Path, model: &Model) -> Result<Vec<Rule>, RulesError> {
    let text = std::fs::read_to_string(path).map_err(|e| RulesError {
        file: path.display().to_string(),
        message: format!("cannot read it: {e}"),
    })?;
    parse(&text, &path.display().to_string(), model)
}

/// Checks rules text; `file` names it in errors.
pub fn parse(text: &str, file: &str, model: &Model) -> Result<Vec<Rule>, RulesError> {
    let located = |message: String| RulesError {
        file: file.to_string(),
        message,
    };
    let parsed: RulesFile =
        toml::from_str(text).map_err(|e| located(crate::batching::toml_error(text, &e)))?;
    let machines: Vec<String> = crate::assets_of(model)
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    // The line's output: the machines of the last station.
    let line_end: Vec<String> = model
        .stations
        .last()
        .map(|st| (0..st.machines).map(|k| st.machine_name(k)).collect())
        .unwrap_or_default();
    let mut rules = Vec::with_capacity(parsed.rule.len());
    for (i, spec) in parsed.rule.into_iter().enumerate() {
        let at = |field: &str, message: String| located(format!("rule[{i}].{field}: {message}"));
        let duration = |field: &str, text: &str| -> Result<f64, RulesError> {
            match parse_duration(text) {
                Ok(s) if s > 0.0 => Ok(s),
                Ok(_) => Err(at(field, "must be longer than 0".into())),
                Err(e) => Err(at(field, e.to_string())),
            }
        };
        let share = |field: &str, x: f64| -> Result<f64, RulesError> {
            if (0.0..=1.0).contains(&x) {
                Ok(x)
            } else {
                Err(at(
                    field,
                    format!("{x} is not a share from 0 to 1 (write 0.6 for 60 %)"),
                ))
            }
        };
        let check_assets = |assets: Vec<String>, default: &[String]| {
            if assets.is_empty() {
                return Ok(default.to_vec());
            }
            for a in &assets {
                if !machines.contains(a) {
                    return Err(at(
                        "assets",
                        format!(
                            "`{a}` is not a machine of the plant (machines: {})",
                            machines.join(", ")
                        ),
                    ));
                }
            }
            Ok(assets)
        };
        let (name, severity, assets, condition) = match spec {
            RuleSpec::Down {
                name,
                severity,
                assets,
                longer_than,
            } => (
                name,
                severity.unwrap_or(Severity::Critical),
                check_assets(assets, &machines)?,
                Condition::Down {
                    longer_than_s: duration("longer_than", &longer_than)?,
                },
            ),
            RuleSpec::Silent {
                name,
                severity,
                assets,
                longer_than,
                while_states,
            } => {
                let while_in = match while_states {
                    None => vec![StateCode::Running],
                    Some(names) => names
                        .iter()
                        .map(|n| {
                            StateCode::parse(n).ok_or_else(|| {
                                at("while_states", format!("`{n}` is not a machine state"))
                            })
                        })
                        .collect::<Result<_, _>>()?,
                };
                (
                    name,
                    severity.unwrap_or(Severity::Warning),
                    check_assets(assets, &machines)?,
                    Condition::Silent {
                        longer_than_s: duration("longer_than", &longer_than)?,
                        while_in,
                    },
                )
            }
            RuleSpec::OeeBelow {
                name,
                severity,
                assets,
                below,
                after,
                clear_above,
            } => {
                let below = share("below", below)?;
                let clear_above = share("clear_above", clear_above.unwrap_or(below + 0.05))?;
                if clear_above < below {
                    return Err(at(
                        "clear_above",
                        format!("{clear_above} is below `below` ({below}): it would never clear"),
                    ));
                }
                (
                    name,
                    severity.unwrap_or(Severity::Warning),
                    check_assets(assets, &line_end)?,
                    Condition::OeeBelow {
                        below,
                        after_s: duration("after", &after)?,
                        clear_above,
                    },
                )
            }
            RuleSpec::FailureRisk {
                name,
                severity,
                assets,
                above,
                within,
                clear_below,
            } => {
                let above = share("above", above)?;
                let clear_below = share("clear_below", clear_below.unwrap_or(above * 0.8))?;
                if clear_below > above {
                    return Err(at(
                        "clear_below",
                        format!("{clear_below} is above `above` ({above}): it would never clear"),
                    ));
                }
                (
                    name,
                    severity.unwrap_or(Severity::Warning),
                    check_assets(assets, &machines)?,
                    Condition::FailureRisk {
                        above,
                        within_s: duration("within", &within)?,
                        clear_below,
                    },
                )
            }
            RuleSpec::OrderLate {
                name,
                severity,
                probability,
                clear_below,
                every,
                ahead,
                replications,
            } => {
                let probability = share("probability", probability)?;
                if probability == 0.0 {
                    return Err(at("probability", "0 would raise every order".into()));
                }
                let clear_below = share(
                    "clear_below",
                    clear_below.unwrap_or((probability - 0.1).max(0.0)),
                )?;
                if clear_below > probability {
                    return Err(at(
                        "clear_below",
                        format!(
                            "{clear_below} is above `probability` ({probability}): it would never clear"
                        ),
                    ));
                }
                let replications = replications.unwrap_or(50);
                if !(10..=1000).contains(&replications) {
                    return Err(at(
                        "replications",
                        format!("{replications}: from 10 to 1,000"),
                    ));
                }
                let every_s = duration("every", every.as_deref().unwrap_or("15m"))?;
                let ahead_s = duration("ahead", ahead.as_deref().unwrap_or("1d"))?;
                if ahead_s > crate::forecast::MAX_AHEAD_S {
                    return Err(at("ahead", "at most a week".into()));
                }
                if every_s < 60.0 {
                    return Err(at(
                        "every",
                        "at least 1 minute: each judgement runs a forecast".into(),
                    ));
                }
                (
                    name,
                    severity.unwrap_or(Severity::Warning),
                    Vec::new(),
                    Condition::OrderLate {
                        probability,
                        clear_below,
                        every_s,
                        ahead_s,
                        replications,
                    },
                )
            }
        };
        let name = name.unwrap_or_else(|| condition.kind().to_string());
        if rules.iter().any(|r: &Rule| r.name == name) {
            return Err(at(
                "name",
                format!("`{name}` names another rule too; give each rule its own `name`"),
            ));
        }
        rules.push(Rule {
            name,
            severity,
            assets,
            condition,
        });
    }
    Ok(rules)
}

/// The rules an `--alerts` argument names: `default` ([`defaults`]), `none` (no rules), or a rules
/// file to [`load`].
pub fn chosen(choice: &str, model: &Model) -> Result<Vec<Rule>, RulesError> {
    match choice {
        "default" => Ok(defaults(model)),
        "none" => Ok(Vec::new()),
        path => load(Path::new(path), model),
    }
}

/// The rules a shift leader starts from when none are given: a machine down 10 minutes, a running
/// machine silent 10 minutes, the line's OEE below 50 % after the first hour.
pub fn defaults(model: &Model) -> Vec<Rule> {
    const DEFAULTS: &str = r#"
[[rule]]
when = "down"
longer_than = "10m"

[[rule]]
when = "silent"
longer_than = "10m"

[[rule]]
when = "oee_below"
below = 0.5
after = "1h"
"#;
    parse(DEFAULTS, "default rules", model).unwrap_or_default()
}
