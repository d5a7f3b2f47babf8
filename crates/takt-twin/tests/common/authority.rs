//! A certificate authority for the tests of TLS connections (a broker's, a database's), and the
//! certificates it signs, made with rcgen and written as PEM files into a folder. Shared by test
//! binaries through `#[path]`.

#![allow(dead_code)]

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use std::path::{Path, PathBuf};

/// A certificate authority, and certificates it signs, written as PEM files into a folder.
pub struct Authority {
    params: CertificateParams,
    key: KeyPair,
}

impl Authority {
    pub fn new(dir: &Path, name: &str) -> (Authority, PathBuf) {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("CA certificate");
        let path = dir.join(format!("{name}.pem"));
        std::fs::write(&path, cert.pem()).expect("CA file");
        (Authority { params, key }, path)
    }

    /// A leaf certificate for `names` (DNS names or IP addresses): its certificate and key files.
    pub fn issue(&self, dir: &Path, file: &str, names: &[&str]) -> (PathBuf, PathBuf) {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("leaf params");
        params.distinguished_name.push(DnType::CommonName, file);
        let key = KeyPair::generate().expect("leaf key");
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).expect("leaf certificate");
        let (cert_path, key_path) = (
            dir.join(format!("{file}.crt")),
            dir.join(format!("{file}.key")),
        );
        std::fs::write(&cert_path, cert.pem()).expect("certificate file");
        std::fs::write(&key_path, key.serialize_pem()).expect("key file");
        (cert_path, key_path)
    }
}
