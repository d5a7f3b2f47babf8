//! The OPC UA options of `takt twin listen` and `takt serve`: the server, the mapping file, the
//! security, the certificates and the login.

use anyhow::{Result, bail};
use std::path::{Path, PathBuf};
use std::time::Duration;
use takt_model::Model;
use takt_twin::opcua::map::NodeMap;
use takt_twin::opcua::{OpcuaConfig, OpcuaLogin, Security};

#[derive(clap::Args)]
pub struct OpcuaArgs {
    /// Subscribe to an OPC UA server (a machine's controller): opc.tcp://host:port/path, with
    /// --map.
    #[arg(long, requires = "map")]
    opcua: Option<String>,
    /// Which OPC UA node is which event (TOML, see docs/opcua.md).
    #[arg(long, requires = "opcua")]
    map: Option<PathBuf>,
    /// OPC UA security: none, sign or sign-and-encrypt (Basic256Sha256).
    #[arg(long, value_enum, default_value = "none")]
    opcua_security: SecurityArg,
    /// The twin's OPC UA certificates (own/, private/, trusted/, rejected/); default: `opcua-pki`
    /// beside the store.
    #[arg(long)]
    opcua_pki: Option<PathBuf>,
    /// Log in to the OPC UA server as this user; the password comes from --opcua-password-file or
    /// the environment variable TAKT_OPCUA_PASSWORD (never from the command line).
    #[arg(long, requires = "opcua")]
    opcua_user: Option<String>,
    /// A file whose first line is the OPC UA password (for --opcua-user).
    #[arg(long, requires = "opcua_user")]
    opcua_password_file: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SecurityArg {
    None,
    Sign,
    SignAndEncrypt,
}

impl OpcuaArgs {
    /// The file the OPC UA password is read from, if given (read again when a stopped feed is
    /// started again).
    pub fn password_file(&self) -> Option<&Path> {
        self.opcua_password_file.as_deref()
    }

    /// The listener's settings and its mapping checked against `model`, or `None` without
    /// `--opcua`. `store` is where the twin's events go (the certificates default beside it);
    /// `batch` and `batch_wait_s` as for MQTT.
    pub fn resolve(
        &self,
        model: &Model,
        store: &Path,
        batch: usize,
        batch_wait_s: f64,
    ) -> Result<Option<(OpcuaConfig, NodeMap)>> {
        let (Some(endpoint), Some(map)) = (&self.opcua, &self.map) else {
            return Ok(None);
        };
        if !endpoint.starts_with("opc.tcp://") {
            bail!("--opcua `{endpoint}` is not an OPC UA address (opc.tcp://host:port/path)");
        }
        let map = takt_twin::opcua::map::load(map, model)?;
        let login = match &self.opcua_user {
            None => None,
            Some(username) => Some(OpcuaLogin {
                username: username.clone(),
                password: crate::twin_listen::password(
                    "--opcua",
                    self.opcua_password_file.as_deref(),
                    "TAKT_OPCUA_PASSWORD",
                )?,
            }),
        };
        let pki_dir = self.opcua_pki.clone().unwrap_or_else(|| {
            store
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .join("opcua-pki")
        });
        let config = OpcuaConfig {
            endpoint: endpoint.clone(),
            security: match self.opcua_security {
                SecurityArg::None => Security::None,
                SecurityArg::Sign => Security::Sign,
                SecurityArg::SignAndEncrypt => Security::SignAndEncrypt,
            },
            login,
            pki_dir,
            batch: batch.max(1),
            batch_wait: Duration::from_secs_f64(batch_wait_s.max(0.001)),
            quiet_tick: takt_twin::mqtt::QUIET_TICK,
        };
        Ok(Some((config, map)))
    }
}
