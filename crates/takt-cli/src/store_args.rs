//! Where the stores live, for `takt serve` and the twin's commands: SQLite files by default, or a
//! PostgreSQL database shared by the servers of a site. Its password comes from the environment
//! or a file, never from a command line (where the process list and the shell's history show it).

use anyhow::{Result, bail};
use std::path::{Path, PathBuf};
use std::time::Duration;
use takt_twin::store::{PostgresLocation, StoreLocation};

#[derive(clap::Args, Debug)]
pub struct StoreArgs {
    /// A PostgreSQL database holding the stores, shared by the servers of a site:
    /// `postgres://user@host:port/database`, over TLS with `?sslmode=verify-full` (and
    /// `&sslrootcert=CA.pem` for a private CA). Its password comes from TAKT_STORE_PASSWORD or
    /// --store-password-file, not from this URL. Default: SQLite files (see --data).
    #[arg(long, env = "TAKT_STORE", hide_env_values = true, value_name = "URL")]
    pub store: Option<String>,
    /// A file holding the PostgreSQL password (its first line).
    #[arg(long, value_name = "FILE")]
    pub store_password_file: Option<PathBuf>,
    /// PostgreSQL: keep events this long before the newest one (e.g. `90d`); older weeks are
    /// dropped whole. Default: keep every event.
    #[arg(long, value_name = "DURATION", value_parser = crate::serve::positive_duration)]
    pub store_retention: Option<Duration>,
}

impl StoreArgs {
    /// The PostgreSQL database named, with its password and retention; `None`: SQLite.
    pub fn postgres(&self) -> Result<Option<PostgresLocation>> {
        let Some(url) = &self.store else {
            if self.store_retention.is_some() || self.store_password_file.is_some() {
                bail!("--store-retention and --store-password-file go with --store postgres://...");
            }
            return Ok(None);
        };
        let from_environment = std::env::var("TAKT_STORE").is_ok_and(|v| &v == url);
        let mut location =
            postgres_location(url, from_environment, self.store_password_file.as_deref())?;
        location.retention_ms = self.store_retention.map(|d| d.as_millis() as i64);
        Ok(Some(location))
    }
}

/// `--plant` beside `--db`: which plant of a site's database (`takt serve --plant ID=FILE`).
#[derive(clap::Args, Debug, Default)]
pub struct PlantArg {
    /// With a PostgreSQL --db: the plant of a site whose events these are (`takt serve --plant
    /// ID=FILE`; its schema plant_ID). Default: the site's default plant. With SQLite, --db names
    /// the plant's own file (twin-ID.sqlite).
    #[arg(long, value_name = "ID")]
    pub plant: Option<String>,
}

/// A store named on a command line (`--db`): a SQLite file, or a PostgreSQL URL whose password
/// comes from TAKT_STORE_PASSWORD, in the schema of `plant` if one is named.
pub fn location(text: &str, plant: &PlantArg) -> Result<StoreLocation> {
    if PostgresLocation::is_url(text) {
        let location = postgres_location(text, false, None)?;
        Ok(StoreLocation::Postgres(match &plant.plant {
            None => location,
            Some(id) => takt_api::plant::in_database(location, id)
                .map_err(|e| anyhow::anyhow!("--plant: {e}"))?,
        }))
    } else {
        if let Some(id) = &plant.plant {
            bail!(
                "--plant goes with a PostgreSQL --db; with SQLite, name the plant's file (--db twin-{id}.sqlite)"
            );
        }
        Ok(StoreLocation::File(PathBuf::from(text)))
    }
}

fn postgres_location(
    url: &str,
    from_environment: bool,
    password_file: Option<&Path>,
) -> Result<PostgresLocation> {
    let location = PostgresLocation::parse(url)?;
    if location.has_password_in_url() && !from_environment {
        bail!(
            "the store's URL holds a password, which a command line shows to every user of this \
             machine: give it in TAKT_STORE_PASSWORD or --store-password-file, or the whole URL in \
             TAKT_STORE"
        );
    }
    let password = match password_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("--store-password-file {}: {e}", path.display()))?;
            Some(text.lines().next().unwrap_or("").to_string())
        }
        None => std::env::var("TAKT_STORE_PASSWORD").ok(),
    };
    Ok(match password {
        Some(p) => location.with_password(Some(p)),
        None => location,
    })
}

/// Opens the event store named by `--db` (created if new).
pub fn open(
    text: &str,
    plant: &PlantArg,
    durability: takt_twin::store::Durability,
) -> Result<takt_twin::store::Store> {
    connect(&location(text, plant)?, durability)
}

fn connect(
    location: &StoreLocation,
    durability: takt_twin::store::Durability,
) -> Result<takt_twin::store::Store> {
    takt_twin::store::Store::connect(location, durability)
        .map_err(|e| anyhow::anyhow!("opening the event store {location}: {e}"))
}

/// Opens the event store named by `--db`, which must exist already (a file path that names
/// nothing is a mistake, not a new store).
pub fn open_existing(text: &str, plant: &PlantArg) -> Result<takt_twin::store::Store> {
    if !PostgresLocation::is_url(text) && !Path::new(text).exists() {
        bail!("{text}: no such event store");
    }
    // A plant the database has no schema for would be created empty (and the default plant,
    // named by its id, lives in the database's default schema, not in one of its own).
    let location = location(text, plant)?;
    if let (Some(id), StoreLocation::Postgres(pg)) = (&plant.plant, &location)
        && !pg.schema_exists()?
    {
        bail!(
            "--plant {id}: {pg} holds no such plant (the site's default plant is read without --plant)"
        );
    }
    connect(&location, takt_twin::store::Durability::Full)
}
