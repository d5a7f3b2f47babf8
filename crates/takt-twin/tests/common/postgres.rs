//! A throwaway PostgreSQL cluster on loopback for the tests (Debian's `postgresql`, installed by
//! `scripts/setup.sh`): `initdb` in a temporary folder, a free port, stopped when dropped. Shared by
//! the test binaries of several crates (`#[path]`), so it needs nothing but the standard library.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Cluster {
    pub port: u16,
    bin: PathBuf,
    data: PathBuf,
    /// Run as root, the server runs as `postgres` (it refuses root).
    as_postgres: bool,
    _dir: tempfile::TempDir,
}

/// The newest installed PostgreSQL's programs (Debian keeps them off the PATH).
fn bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

impl Cluster {
    /// Starts a cluster, or `None` when PostgreSQL is not installed (which fails in CI).
    pub fn start() -> Option<Cluster> {
        let Some(bin) = bin_dir() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "PostgreSQL missing in CI: scripts/setup.sh installs it"
            );
            eprintln!("skipped: PostgreSQL is not installed (scripts/setup.sh installs it)");
            return None;
        };
        let dir = tempfile::tempdir().expect("a temporary folder");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("the cluster's folder");
        let as_postgres = is_root();
        if as_postgres {
            // The server's user must reach its folder.
            run(Command::new("chmod").arg("755").arg(dir.path()));
            run(Command::new("chown").arg("postgres:").arg(&data));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let cluster = Cluster {
            port,
            bin,
            data,
            as_postgres,
            _dir: dir,
        };
        run(cluster.tool("initdb").arg("-D").arg(&cluster.data).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ]));
        cluster.start_again();
        Some(cluster)
    }

    fn tool(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    /// Creates database `name` and gives its URL (user `postgres`, no password: trust on
    /// loopback).
    pub fn database(&self, name: &str) -> String {
        run(self
            .tool("createdb")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
            .arg(self.port.to_string())
            .arg(name));
        self.url(name)
    }

    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs SQL with psql against database `name`; its output, unaligned.
    pub fn sql(&self, name: &str, sql: &str) -> String {
        let out = self
            .tool("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-p",
            ])
            .arg(self.port.to_string())
            .args(["-d", name, "-c", sql])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "psql: {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Stops the server (`fast`: connections are cut), as a restart of the database does.
    pub fn stop(&self) {
        run(self
            .tool("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w", "stop"]));
    }

    /// Starts the server (again, after `stop`) on its port, with what it held.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.data.display()
        );
        run(self
            .tool("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.data.join("server.log"))
            .args(["-o", &options, "-w", "start"]));
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// Restarts the server taking TLS connections only (`hostssl` in `pg_hba.conf`, `ssl = on`),
    /// with the certificate and key in the PEM files `cert` and `key`.
    pub fn require_tls(&self, cert: &Path, key: &Path) {
        self.stop();
        let (server_cert, server_key) =
            (self.data.join("server.crt"), self.data.join("server.key"));
        std::fs::copy(cert, &server_cert).expect("the server's certificate");
        std::fs::copy(key, &server_key).expect("the server's key");
        std::fs::write(
            self.data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .expect("pg_hba.conf");
        let mut conf = std::fs::read_to_string(self.data.join("postgresql.conf")).expect("conf");
        conf.push_str("\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        std::fs::write(self.data.join("postgresql.conf"), conf).expect("postgresql.conf");
        // The server reads its key only if no one else may.
        run(Command::new("chmod").arg("600").arg(&server_key));
        if self.as_postgres {
            run(Command::new("chown")
                .arg("postgres:")
                .arg(&server_cert)
                .arg(&server_key));
        }
        self.start_again();
    }
}

fn run(c: &mut Command) {
    let out = c.stdin(Stdio::null()).output().expect("the command runs");
    assert!(
        out.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
