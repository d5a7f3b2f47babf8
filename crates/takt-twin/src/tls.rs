//! TLS client settings shared by the twin's connections to a broker (`mqtt`) and to PostgreSQL
//! (`store::connection`): the trusted roots (a CA file, or the operating system's) and, for
//! servers that ask for one, the client's certificate; rustls with ring.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why TLS settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// A file given cannot be read or holds nothing usable.
    #[error("{}: {problem}", path.display())]
    File { path: PathBuf, problem: String },
    #[error("{0}")]
    Settings(String),
}

fn file_error(path: &Path, problem: String) -> TlsSetupError {
    TlsSetupError::File {
        path: path.to_path_buf(),
        problem,
    }
}

/// The PEM certificates in `path` (at least one).
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error(path, e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(path, e.to_string()))?;
    if certs.is_empty() {
        return Err(file_error(path, "no PEM certificate in it".into()));
    }
    Ok(certs)
}

/// The client settings: servers are trusted by the CAs in `ca_file` (PEM), or else by the
/// operating system's roots; `client_cert` is the client's certificate chain and private key (PEM
/// files), for servers that require one. `what` names the connection in logs.
pub fn client_config(
    ca_file: Option<&Path>,
    client_cert: Option<(&Path, &Path)>,
    what: &str,
) -> Result<rustls::ClientConfig, TlsSetupError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            for cert in certificates(path)? {
                roots
                    .add(cert)
                    .map_err(|e| file_error(path, format!("not a usable CA certificate: {e}")))?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            for e in &native.errors {
                tracing::warn!("{what} TLS: a system certificate could not be read: {e}");
            }
            let (added, _) = roots.add_parsable_certificates(native.certs);
            if added == 0 {
                return Err(TlsSetupError::Settings(
                    "no CA file given and no trusted root found in the operating system".into(),
                ));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Settings(e.to_string()))?
        .with_root_certificates(roots);
    match client_cert {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let chain = certificates(cert)?;
            let key_der = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| file_error(key, format!("no usable PEM private key in it ({e})")))?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| file_error(cert, format!("client certificate and key: {e}")))
        }
    }
}
