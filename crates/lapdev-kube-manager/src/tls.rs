//! The rustls client configuration for the tunnel: ring as the crypto
//! provider, the system's root certificates plus an optional private CA.

use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};

/// The TLS setup failed; the message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("LAPDEV_SERVER_CA_FILE holds no PEM certificate")]
    NoCertificateInCaFile,
    #[error("LAPDEV_SERVER_CA_FILE is not valid PEM: {0}")]
    BadPem(std::io::Error),
    #[error("a certificate in LAPDEV_SERVER_CA_FILE is unusable: {0}")]
    BadCertificate(rustls::Error),
    #[error("no trusted root certificates (none in the system store and no LAPDEV_SERVER_CA_FILE)")]
    NoRoots,
    #[error("TLS configuration failed: {0}")]
    Config(rustls::Error),
}

/// Trusts the system roots and, when given, the CAs in `extra_ca_pem`.
pub fn client_config(extra_ca_pem: Option<&[u8]>) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(added, "system root certificates");
    if let Some(pem) = extra_ca_pem {
        let mut count = 0;
        for cert in rustls_pemfile::certs(&mut &pem[..]) {
            roots
                .add(cert.map_err(TlsError::BadPem)?)
                .map_err(TlsError::BadCertificate)?;
            count += 1;
        }
        if count == 0 {
            return Err(TlsError::NoCertificateInCaFile);
        }
    }
    if roots.is_empty() {
        return Err(TlsError::NoRoots);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
