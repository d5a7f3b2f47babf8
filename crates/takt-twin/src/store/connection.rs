//! A connection to PostgreSQL: where the database is (`PostgresLocation`, its password kept
//! apart and never shown), and one connection shared under a lock (`PostgresConnection`), usable
//! from inside an async runtime and opened again when lost. Shared by the event store and the
//! server's store (`takt-api`'s `db/postgres.rs`).

use crate::store::StoreError;
use crate::store::transport::{self, Transport};
use postgres::{Client, NoTls};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Schema migrations, one server at a time.
pub(crate) const MIGRATION_LOCK: i64 = 0x7461_6b74_0002;

#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    #[error("`{url}` is not a PostgreSQL URL: {message}")]
    Url { url: String, message: String },
    #[error("{}", with_cause(.0))]
    Database(#[from] postgres::Error),
    #[error("`{url}`: TLS: {problem}")]
    Tls { url: String, problem: String },
}

/// The client's words with the database's own (`db error` alone says nothing of which statement
/// failed or why).
fn with_cause(e: &postgres::Error) -> String {
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

/// Where a PostgreSQL store lives: a `postgres://user@host:port/database` URL and the password,
/// kept apart (a password is never shown, and never comes from a command line: see the CLI's
/// `--store`), and how long events are kept.
#[derive(Clone, PartialEq)]
pub struct PostgresLocation {
    /// The URL as given, without its password.
    shown: String,
    /// The URL the client reads: as given, without libpq's TLS parameters (see `transport`).
    url: String,
    /// Plain, or TLS with the server's certificate and name checked.
    transport: Transport,
    password: Option<String>,
    /// Events older than this before the newest stored event are dropped, a week at a time;
    /// `None`: kept for ever.
    pub retention_ms: Option<i64>,
    /// The schema the connection's tables live in (its `search_path`), created when migrating;
    /// `None`: the database's default (`public`).
    schema: Option<String>,
}

impl std::fmt::Debug for PostgresLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresLocation")
            .field("url", &self.shown)
            .field("password", &self.password.as_ref().map(|_| "(hidden)"))
            .field("retention_ms", &self.retention_ms)
            .field("schema", &self.schema)
            .finish()
    }
}

impl std::fmt::Display for PostgresLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)?;
        match &self.schema {
            Some(schema) => write!(f, " (schema {schema})"),
            None => Ok(()),
        }
    }
}

/// A schema name takt may put in a connection's options and statements unquoted: a lower-case
/// letter, then lower-case letters, digits and `_`, at most 48 bytes (PostgreSQL's limit is 63).
pub fn is_schema_name(name: &str) -> bool {
    name.len() <= 48
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl PostgresLocation {
    pub fn is_url(text: &str) -> bool {
        text.starts_with("postgres://") || text.starts_with("postgresql://")
    }

    /// Reads the URL (libpq's form: `postgres://user@host:port/database?options`). A password in
    /// it is taken, and reported by [`PostgresLocation::has_password_in_url`]. TLS as libpq's
    /// `sslmode=verify-full`, `sslrootcert`, `sslcert` and `sslkey` say (see `transport`); the
    /// files are read now, so that a wrong one is told before anything starts.
    pub fn parse(text: &str) -> Result<PostgresLocation, PostgresError> {
        let url_error = |message: String| PostgresError::Url {
            url: redact(text),
            message,
        };
        let (url, transport) = transport::split(text).map_err(url_error)?;
        let config: postgres::Config = url
            .parse()
            .map_err(|e: postgres::Error| url_error(e.to_string()))?;
        if config.get_dbname().is_none() {
            return Err(PostgresError::Url {
                url: redact(text),
                message: "name the database: postgres://user@host:port/DATABASE".into(),
            });
        }
        transport.connector().map_err(|e| PostgresError::Tls {
            url: redact(text),
            problem: e.to_string(),
        })?;
        Ok(PostgresLocation {
            shown: redact(text),
            url,
            transport,
            password: None,
            retention_ms: None,
            schema: None,
        })
    }

    /// The same database, its tables in `schema` (created when the store is first opened): one
    /// database holds several plants' stores side by side. A name that is not
    /// [`is_schema_name`] is refused.
    pub fn with_schema(mut self, schema: &str) -> Result<PostgresLocation, PostgresError> {
        if !is_schema_name(schema) {
            return Err(PostgresError::Url {
                url: self.shown.clone(),
                message: format!(
                    "schema `{schema}`: a lower-case letter, then lower-case letters, digits and _, at most 48"
                ),
            });
        }
        self.schema = Some(schema.to_string());
        Ok(self)
    }

    /// The schema the tables live in, if not the database's default.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Whether the schema is there already (the database's default always is).
    pub fn schema_exists(&self) -> Result<bool, PostgresError> {
        let Some(schema) = &self.schema else {
            return Ok(true);
        };
        let found = self
            .connect()?
            .with(|c| c.query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[schema]))?;
        Ok(found.is_some())
    }

    /// Whether the URL carries a password (it would show in the process list and shell history
    /// if it came from a command line).
    pub fn has_password_in_url(&self) -> bool {
        self.url
            .parse::<postgres::Config>()
            .is_ok_and(|c| c.get_password().is_some())
    }

    /// Whether connections are TLS, the server's certificate and name checked.
    pub fn is_tls(&self) -> bool {
        self.transport != Transport::Plain
    }

    /// The password, from the environment or a file.
    pub fn with_password(mut self, password: Option<String>) -> PostgresLocation {
        self.password = password;
        self
    }

    /// Opens a connection: ten seconds to connect, the application named `takt`.
    pub fn connect(&self) -> Result<PostgresConnection, PostgresError> {
        Ok(PostgresConnection {
            client: Mutex::new(Some(outside_runtime(|| self.client())?)),
            location: self.clone(),
            generation: AtomicU64::new(0),
            failed_at: Mutex::new(None),
        })
    }

    fn client(&self) -> Result<Client, PostgresError> {
        let mut config: postgres::Config =
            self.url
                .parse()
                .map_err(|e: postgres::Error| PostgresError::Url {
                    url: self.shown.clone(),
                    message: e.to_string(),
                })?;
        if let Some(p) = &self.password {
            config.password(p);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("takt");
        }
        if let Some(schema) = &self.schema {
            // Checked by `with_schema`: no quoting needed. Options the URL gave are kept.
            let options = match config.get_options() {
                Some(given) => format!("{given} -c search_path={schema}"),
                None => format!("-c search_path={schema}"),
            };
            config.options(&options);
        }
        let connector = self.transport.connector().map_err(|e| PostgresError::Tls {
            url: self.shown.clone(),
            problem: e.to_string(),
        })?;
        Ok(match connector {
            None => config.connect(NoTls)?,
            Some(tls) => config.connect(tls)?,
        })
    }

    /// Brings a schema up to date with `runner`, one server at a time (a session advisory lock):
    /// servers started together do not apply the same version twice. The location's own schema
    /// is created first, if it names one (refinery's history table is then that schema's).
    pub fn migrate(
        connection: &PostgresConnection,
        mut runner: refinery::Runner,
        history: &str,
    ) -> Result<(), StoreError> {
        let schema = connection.location.schema.clone();
        connection.with(|client| {
            client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
            let created = match &schema {
                Some(s) => client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {s}")),
                None => Ok(()),
            };
            let done = match created {
                Ok(()) => runner
                    .set_migration_table_name(history)
                    .run(client)
                    .map_err(StoreError::from),
                Err(e) => Err(StoreError::from(PostgresError::from(e))),
            };
            client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])?;
            done.map(|_| ())
        })
    }
}

/// One connection to PostgreSQL, shared under a lock. The client is synchronous and drives a
/// runtime of its own, which cannot run inside another runtime's thread (a server's handler, a
/// listener's task): there each call runs on a thread of its own, which it may borrow from.
pub struct PostgresConnection {
    /// Always `Some` but while it is dropped.
    client: Mutex<Option<Client>>,
    /// To connect again after the connection was lost (a restart of the database).
    location: PostgresLocation,
    /// How many times it connected again: what the connection held (a session lock) is gone.
    generation: AtomicU64,
    /// When connecting again last failed: the next attempt waits a second, so that while the
    /// database is away every call fails at once instead of waiting for its connect timeout.
    failed_at: Mutex<Option<std::time::Instant>>,
}

impl PostgresConnection {
    /// Runs `f` with the client, holding the lock. A connection found lost (the database
    /// restarted, the network failed) is opened again first; if that fails, `f` runs on the lost
    /// one and reports its error. What was in flight when it was lost failed, and was never
    /// acknowledged.
    pub fn with<R: Send>(&self, f: impl FnOnce(&mut Client) -> R + Send) -> R {
        let mut guard = self.client.lock().unwrap_or_else(|e| e.into_inner());
        let slot: &mut Option<Client> = &mut guard;
        outside_runtime(|| {
            let mut failed_at = self.failed_at.lock().unwrap_or_else(|e| e.into_inner());
            let waited = failed_at.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
            if waited && slot.as_ref().is_some_and(Client::is_closed) {
                match self.location.client() {
                    Ok(client) => {
                        tracing::warn!(store = %self.location, "the connection to PostgreSQL was lost: connected again");
                        // The lost client's runtime is dropped here, off any async runtime.
                        *slot = Some(client);
                        self.generation.fetch_add(1, Ordering::Relaxed);
                        *failed_at = None;
                    }
                    Err(e) => {
                        *failed_at = Some(std::time::Instant::now());
                        tracing::error!(store = %self.location, error = %e, "the connection to PostgreSQL was lost");
                    }
                }
            }
            match slot.as_mut() {
                Some(client) => f(client),
                None => unreachable!("the connection is used after it was dropped"),
            }
        })
    }
}

impl PostgresConnection {
    /// Changes when the connection is opened again (what the old one held is gone).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }
}

impl Drop for PostgresConnection {
    /// Closing the connection drives the client's runtime too, and drops it.
    fn drop(&mut self) {
        let client = self
            .client
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        outside_runtime(move || drop(client));
    }
}

/// Runs `f` here, or on a scoped thread of its own when this thread is inside a tokio runtime.
fn outside_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|scope| match scope.spawn(f).join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// `postgres://user:secret@host/db` shown as `postgres://user@host/db`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}@{host}{tail}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_shows() {
        let l =
            PostgresLocation::parse("postgres://takt:s3cret@db.plant:5433/site?connect_timeout=3");
        let Ok(l) = l else { panic!("{l:?}") };
        assert!(l.has_password_in_url());
        assert_eq!(
            l.to_string(),
            "postgres://takt@db.plant:5433/site?connect_timeout=3"
        );
        assert!(!format!("{l:?}").contains("s3cret"));
        let l = PostgresLocation::parse("postgresql://takt@db.plant/site")
            .map(|l| l.with_password(Some("pw".into())));
        let Ok(l) = l else { panic!("{l:?}") };
        assert!(!l.has_password_in_url());
        assert!(!format!("{l:?}").contains("pw\""));
        let missing = PostgresLocation::parse("postgres://takt@db.plant");
        assert!(
            matches!(missing, Err(PostgresError::Url { .. })),
            "{missing:?}"
        );
    }
}
