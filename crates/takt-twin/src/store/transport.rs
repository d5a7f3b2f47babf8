//! How a connection to PostgreSQL is secured, from libpq's parameters in the store's URL:
//! `sslmode=verify-full` (or `require`, `verify-ca`: takt always checks the server's certificate
//! against the trusted roots and its name against the host), `sslrootcert=FILE` (the CA that signed
//! the server's certificate; `system` or absent: the operating system's roots), and `sslcert=FILE`
//! with `sslkey=FILE` for a server that asks for the client's certificate. Without `sslmode`, or
//! with `sslmode=disable`, the connection is plain (loopback, a private network or a tunnel).
//! `prefer` and `allow` are refused: they fall back to a plain or unchecked connection without a
//! word.

use crate::tls::{TlsSetupError, client_config};
use percent_encoding::percent_decode_str;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Transport {
    Plain,
    /// TLS, the server's certificate and name checked.
    Verified {
        root_cert: Option<PathBuf>,
        client_cert: Option<(PathBuf, PathBuf)>,
    },
}

/// Takes libpq's TLS parameters out of `url`: the URL the client reads (`sslmode=require` when
/// TLS, which it then negotiates through [`Transport::connector`]) and how to connect. The error is
/// in words, for the URL's error.
pub(crate) fn split(url: &str) -> Result<(String, Transport), String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, query),
        None => (url, ""),
    };
    let (mut mode, mut root_cert, mut cert, mut key) = (None, None, None, None);
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = || percent_decode_str(value).decode_utf8_lossy().into_owned();
        match name {
            "sslmode" => mode = Some(decoded()),
            "sslrootcert" => root_cert = Some(decoded()),
            "sslcert" => cert = Some(decoded()),
            "sslkey" => key = Some(decoded()),
            _ => kept.push(pair),
        }
    }
    let tls = match mode.as_deref() {
        None | Some("disable") => false,
        Some("require" | "verify-ca" | "verify-full") => true,
        Some(m @ ("prefer" | "allow")) => {
            return Err(format!(
                "sslmode={m} may fall back to a plain or unchecked connection without a word: \
                 use sslmode=verify-full (with sslrootcert=FILE for a private CA), or leave \
                 sslmode out on loopback, a private network or a tunnel"
            ));
        }
        Some(other) => {
            return Err(format!(
                "sslmode={other}: one of disable, require, verify-ca, verify-full"
            ));
        }
    };
    let client_cert = match (cert, key) {
        (None, None) => None,
        (Some(cert), Some(key)) => Some((PathBuf::from(cert), PathBuf::from(key))),
        _ => return Err("sslcert and sslkey come together".into()),
    };
    if !tls && (root_cert.is_some() || client_cert.is_some()) {
        return Err("sslrootcert, sslcert and sslkey need sslmode=verify-full".into());
    }
    if tls {
        kept.push("sslmode=require");
    }
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let transport = if tls {
        Transport::Verified {
            root_cert: root_cert.filter(|r| r != "system").map(PathBuf::from),
            client_cert,
        }
    } else {
        Transport::Plain
    };
    Ok((url, transport))
}

impl Transport {
    /// The TLS connector, its files read now; `None` for a plain connection.
    pub(crate) fn connector(
        &self,
    ) -> Result<Option<tokio_postgres_rustls::MakeRustlsConnect>, TlsSetupError> {
        match self {
            Transport::Plain => Ok(None),
            Transport::Verified {
                root_cert,
                client_cert,
            } => {
                let client_cert = client_cert
                    .as_ref()
                    .map(|(cert, key)| (cert.as_path(), key.as_path()));
                let config = client_config(root_cert.as_deref(), client_cert, "PostgreSQL")?;
                Ok(Some(tokio_postgres_rustls::MakeRustlsConnect::new(config)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_are_taken_out_of_the_url_and_unsafe_modes_refused() {
        let (url, t) = split("postgres://u@db:5432/site?connect_timeout=3").expect("plain");
        assert_eq!(url, "postgres://u@db:5432/site?connect_timeout=3");
        assert_eq!(t, Transport::Plain);
        let (url, t) = split(
            "postgres://u@db/site?sslmode=verify-full&sslrootcert=%2Fetc%2Ftakt%2Fca.pem&application_name=x",
        )
        .expect("verified");
        assert_eq!(
            url,
            "postgres://u@db/site?application_name=x&sslmode=require"
        );
        assert_eq!(
            t,
            Transport::Verified {
                root_cert: Some("/etc/takt/ca.pem".into()),
                client_cert: None
            }
        );
        let (_, t) = split(
            "postgres://u@db/site?sslmode=require&sslrootcert=system&sslcert=c.pem&sslkey=k.pem",
        )
        .expect("verified");
        assert_eq!(
            t,
            Transport::Verified {
                root_cert: None,
                client_cert: Some(("c.pem".into(), "k.pem".into()))
            }
        );
        assert_eq!(
            split("postgres://u@db/site?sslmode=disable").map(|s| s.1),
            Ok(Transport::Plain)
        );
        for (url, words) in [
            ("postgres://u@db/site?sslmode=prefer", "fall back"),
            ("postgres://u@db/site?sslmode=allow", "fall back"),
            ("postgres://u@db/site?sslmode=strict", "one of disable"),
            (
                "postgres://u@db/site?sslrootcert=ca.pem",
                "need sslmode=verify-full",
            ),
            (
                "postgres://u@db/site?sslmode=verify-full&sslcert=c.pem",
                "come together",
            ),
        ] {
            let e = split(url).expect_err(url);
            assert!(e.contains(words), "{url}: {e}");
        }
    }
}
