//! A site's plants. A server holds one plant or several, each with its scenario, its twin (its
//! events in a store of its own) and its plans' caches, addressed by id: `/plants/{plant}/twin/…`.
//! The first is the default plant, also at `/twin/…`, and keeps the store a server of one plant
//! had (`twin.sqlite`, the PostgreSQL database's default schema), so a server that grows into a
//! site keeps its history. The others' events live in `twin-<id>.sqlite`, or in the schema
//! `plant_<id>` of the site's database (its own appends' lock, judge and notification channel).

use crate::twin::TwinHandle;
use crate::{Config, ServeError};
use std::sync::Arc;
use takt_model::{Model, Scenario};
use takt_twin::store::{PostgresLocation, StoreLocation};

/// One plant of the site: its scenario and its live twin.
pub struct Plant {
    /// How the API and MQTT topics name it: lower-case letters, digits and `-`.
    pub id: String,
    pub scenario: Scenario,
    pub model: Arc<Model>,
    pub twin: Arc<TwinHandle>,
    /// The plan's runs for the forecasts' deviation flags: the same for every forecast of a shift.
    pub plans: Arc<takt_twin::forecast::PlanCache>,
    /// The plans of shifts whose report was asked for (`GET /twin/report`).
    pub report_plans: Arc<takt_twin::report::PlanMemo>,
    /// The last forecast answered, for the same request within the same plant minute.
    pub(crate) last_forecast: crate::routes::LastForecast,
}

/// A plant to open: its id, its scenario (compiled) and its alert rules.
pub struct PlantSource {
    pub id: String,
    pub scenario: Scenario,
    pub model: Model,
    /// The rules judged after every batch (checked against this plant's machines); `None`: the
    /// server's `Config::alert_rules` for the default plant, else the default rules
    /// (`takt_twin::alerts::rules::defaults`). Empty: no alerts.
    pub alert_rules: Option<Vec<takt_twin::alerts::Rule>>,
}

impl PlantSource {
    /// A plant named by its scenario's name ([`id_from_name`]).
    pub fn named(scenario: Scenario, model: Model) -> PlantSource {
        PlantSource {
            id: id_from_name(&model.name),
            scenario,
            model,
            alert_rules: None,
        }
    }
}

/// A plant id that cannot be used in a URL, a topic or a schema name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plant id `{id}`: {why}")]
pub struct PlantIdError {
    pub id: String,
    pub why: &'static str,
}

/// The longest plant id (its schema, `plant_<id>`, stays within PostgreSQL's limits).
pub const MAX_ID_LEN: usize = 40;

/// Checks a plant id: 1 to 40 lower-case letters, digits and `-`, starting with a letter or digit
/// and not ending with `-` (a path segment, an MQTT topic level and, `-` as `_`, a schema name).
pub fn check_id(id: &str) -> Result<(), PlantIdError> {
    let bad = |why| {
        Err(PlantIdError {
            id: id.chars().take(MAX_ID_LEN + 10).collect(),
            why,
        })
    };
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return bad("1 to 40 characters");
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return bad("only lower-case letters, digits and -");
    }
    if id.starts_with('-') || id.ends_with('-') {
        return bad("starts and ends with a letter or digit");
    }
    Ok(())
}

/// A plant id from a plant's name: lower-case ASCII letters and digits, every other run of
/// characters one `-` (`Bottling line 2` is `bottling-line-2`); `plant` if nothing is left.
pub fn id_from_name(name: &str) -> String {
    let mut id = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    id.truncate(MAX_ID_LEN);
    let id = id.trim_end_matches('-').to_string();
    if id.is_empty() { "plant".into() } else { id }
}

/// The store of plant `id`, not the default, in a site's database: its schema, `plant_` and the
/// id with `-` as `_`. The id is checked first.
pub fn in_database(
    database: PostgresLocation,
    id: &str,
) -> Result<PostgresLocation, PlantStoreError> {
    check_id(id)?;
    Ok(database.with_schema(&format!("plant_{}", id.replace('-', "_")))?)
}

/// Why a plant's store cannot be named.
#[derive(Debug, thiserror::Error)]
pub enum PlantStoreError {
    #[error(transparent)]
    Id(#[from] PlantIdError),
    #[error(transparent)]
    Postgres(#[from] takt_twin::store::PostgresError),
}

/// Where a plant's events live: see the module's notes.
fn twin_store(config: &Config, id: &str, default: bool) -> Result<StoreLocation, ServeError> {
    Ok(match (&config.store, default) {
        (Some(pg), true) => StoreLocation::Postgres(pg.clone()),
        (Some(pg), false) => StoreLocation::Postgres(
            in_database(pg.clone(), id).map_err(|e| ServeError::Plant(e.to_string()))?,
        ),
        (None, true) => StoreLocation::File(config.data_dir.join("twin.sqlite")),
        (None, false) => StoreLocation::File(config.data_dir.join(format!("twin-{id}.sqlite"))),
    })
}

impl Plant {
    /// Opens the plant's event store, rebuilds its twin, enables its alert rules (the server's
    /// rules, or the defaults for this plant's machines) and, on a shared store, follows the other
    /// servers' events.
    pub(crate) fn open(
        config: &Config,
        source: PlantSource,
        default: bool,
    ) -> Result<Plant, ServeError> {
        let PlantSource {
            id,
            scenario,
            model,
            alert_rules,
        } = source;
        let model = Arc::new(model);
        let location = twin_store(config, &id, default)?;
        let twin = Arc::new(TwinHandle::open(
            Arc::clone(&model),
            &location,
            config.reorder_window,
            config.max_clock_skew,
        )?);
        let rules = alert_rules
            .or_else(|| config.alert_rules.clone().filter(|_| default))
            .unwrap_or_else(|| takt_twin::alerts::rules::defaults(&model));
        let lifetimes = takt_twin::alerts::Lifetimes::new(&model, |si, fi| {
            takt_maintenance::plant::wear_out_lifetime(&scenario, si, fi)
        });
        twin.enable_alerts(rules, lifetimes)?;
        if let StoreLocation::Postgres(pg) = location {
            twin.follow(pg).map_err(|source| ServeError::Io {
                path: format!("the thread that follows other servers' events of plant {id}"),
                source,
            })?;
        }
        Ok(Plant {
            id,
            scenario,
            model,
            twin,
            plans: Arc::default(),
            report_plans: Arc::default(),
            last_forecast: Default::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_and_made_from_names() {
        for good in ["press", "line-2", "a", "0", &"x".repeat(40)] {
            assert_eq!(check_id(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "Press",
            "line_2",
            "-a",
            "a-",
            "a/b",
            "..",
            "é",
            &"x".repeat(41),
        ] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
        assert_eq!(id_from_name("Bottling line 2"), "bottling-line-2");
        assert_eq!(
            id_from_name("  Injection-moulding (hall B) "),
            "injection-moulding-hall-b"
        );
        assert_eq!(id_from_name("Über"), "ber");
        assert_eq!(id_from_name("***"), "plant");
        let long = id_from_name(&"ab ".repeat(30));
        assert_eq!(check_id(&long), Ok(()), "{long}");
    }
}
