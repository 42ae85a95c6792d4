//! A fresh CA and a server certificate for `127.0.0.1` and `localhost`
//! signed by it (rcgen), written as PEM files the server and kube-manager
//! read (`--tls-cert`/`--tls-key`, `LAPDEV_SERVER_CA_FILE`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::CertificateDer;

/// The PEM files of a test CA and its server certificate.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The CA certificate: what clients trust.
    pub ca: PathBuf,
    /// The server certificate chain (leaf, then CA).
    pub cert: PathBuf,
    /// The server's private key (PKCS#8).
    pub key: PathBuf,
}

impl TlsFiles {
    /// Generates a CA and server certificate and writes them into `dir`.
    pub fn generate_in(dir: &Path) -> TlsFiles {
        let ca_key = KeyPair::generate().expect("generate the CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "lapdev e2e test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::CrlSign,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign the CA");
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().expect("generate the server key");
        let mut leaf_params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .expect("server params");
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let leaf = leaf_params
            .signed_by(&leaf_key, &issuer)
            .expect("sign the server certificate");
        let files = TlsFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join("server-cert.pem"),
            key: dir.join("server-key.pem"),
        };
        std::fs::write(&files.ca, ca_cert.pem()).expect("write ca.pem");
        std::fs::write(&files.cert, format!("{}{}", leaf.pem(), ca_cert.pem()))
            .expect("write the server certificate");
        std::fs::write(&files.key, leaf_key.serialize_pem()).expect("write the server key");
        files
    }

    /// A rustls client configuration that trusts only this CA.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        client_config_for(&std::fs::read(&self.ca).expect("read ca.pem"))
    }
}

/// A rustls client configuration (ring) that trusts only the CAs in `ca_pem`.
pub fn client_config_for(ca_pem: &[u8]) -> Arc<rustls::ClientConfig> {
    crate::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_certs(ca_pem) {
        roots.add(cert).expect("a valid CA certificate");
    }
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

fn rustls_pki_certs(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .expect("PEM certificates")
}
