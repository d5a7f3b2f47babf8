//! The MQTT options of `takt twin listen` and `takt serve`: the broker, the site, the login and TLS.

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::time::Duration;
use takt_twin::mqtt::{MqttConfig, MqttCredentials, MqttTls};

#[derive(clap::Args)]
pub struct MqttArgs {
    /// The broker, host:port.
    #[arg(long, default_value = "127.0.0.1:1883")]
    mqtt: String,
    /// The site segment of the topics (takt/<site>/<line>/<asset>/<kind>): given, the twin
    /// subscribes to the broker. With --opcua, `takt twin listen` publishes its alerts there.
    #[arg(long)]
    site: Option<String>,
    /// MQTT client id (the broker keeps its session and unacknowledged messages): one per twin.
    /// Default `takt-twin`; for the servers of a site (`takt serve --store`), `takt-twin-<host
    /// name>`: two clients with one id would take the broker's session from each other in turn.
    #[arg(long)]
    client_id: Option<String>,
    /// Log in to the broker as this user; the password comes from --mqtt-password-file or the
    /// environment variable TAKT_MQTT_PASSWORD (never from the command line, which others can read).
    #[arg(long)]
    mqtt_user: Option<String>,
    /// A file whose first line is the broker password (for --mqtt-user).
    #[arg(long, requires = "mqtt_user")]
    mqtt_password_file: Option<PathBuf>,
    /// Connect over TLS, trusting the operating system's root certificates (or --mqtt-ca).
    #[arg(long)]
    mqtt_tls: bool,
    /// Connect over TLS, trusting the CA certificates in this PEM file.
    #[arg(long)]
    mqtt_ca: Option<PathBuf>,
    /// The twin's client certificate chain (PEM), for brokers that require one; with --mqtt-key.
    #[arg(long, requires = "mqtt_key")]
    mqtt_cert: Option<PathBuf>,
    /// The private key (PEM) of --mqtt-cert.
    #[arg(long, requires = "mqtt_cert")]
    mqtt_key: Option<PathBuf>,
}

impl MqttArgs {
    /// The file the broker password is read from, if one was given: read again when a stopped
    /// feed is started again (`POST /twin/feeds/restart`), so that a changed password is taken.
    pub fn password_file(&self) -> Option<&std::path::Path> {
        self.mqtt_password_file.as_deref()
    }

    /// The broker's settings, or `None` without `--site`. The login and TLS files are checked
    /// now, before anything is opened: a bad one is named at once, not at the first connection.
    /// The broker's settings, if `--site` is given; `shared`: one of a site's servers (its client
    /// id by default names the machine).
    pub fn resolve(
        &self,
        batch: usize,
        batch_wait_s: f64,
        shared: bool,
    ) -> Result<Option<MqttConfig>> {
        let Some(site) = &self.site else {
            return Ok(None);
        };
        let (host, port) = self
            .mqtt
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
            .with_context(|| format!("--mqtt `{}` is not host:port", self.mqtt))?;
        let credentials = match &self.mqtt_user {
            None => None,
            Some(username) => Some(MqttCredentials {
                username: username.clone(),
                password: crate::twin_listen::password(
                    "--mqtt",
                    self.mqtt_password_file.as_deref(),
                    "TAKT_MQTT_PASSWORD",
                )?,
            }),
        };
        let config = MqttConfig {
            host,
            port,
            site: site.clone(),
            line: None,
            client_id: self.client_id.clone().unwrap_or_else(|| match shared {
                true => format!("takt-twin-{}", host_name()),
                false => "takt-twin".into(),
            }),
            batch: batch.max(1),
            batch_wait: Duration::from_secs_f64(batch_wait_s.max(0.001)),
            credentials,
            tls: (self.mqtt_tls || self.mqtt_ca.is_some() || self.mqtt_cert.is_some()).then(|| {
                MqttTls {
                    ca_file: self.mqtt_ca.clone(),
                    client_cert: self.mqtt_cert.clone().zip(self.mqtt_key.clone()),
                }
            }),
            quiet_tick: takt_twin::mqtt::QUIET_TICK,
        };
        if let Some(tls) = &config.tls {
            takt_twin::mqtt::tls_client_config(tls).context("--mqtt-ca/--mqtt-cert/--mqtt-key")?;
        }
        Ok(Some(config))
    }
}

/// This machine's name (Linux), for a client id that differs between the servers of a site.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect::<String>()
        })
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}
