//! The demo's TLS: a local CA and a server certificate for `127.0.0.1` and
//! `localhost`, generated once (rcgen) and kept in `<demo dir>/tls/`, and a
//! loopback HTTPS listener serving the same application as the dashboard.
//!
//! Why a second listener: the dashboard stays on plain `http://127.0.0.1`
//! (no browser warning, no certificate to trust, cookies work), while
//! kube-manager's tunnel takes the real path, a WebSocket over TLS that
//! verifies the server against the demo CA. Both listeners serve one
//! `AppState`: one database, one tunnel registry.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config_file::{create_private_dir, write_private};

/// The demo CA and server certificate files.
#[derive(Debug, Clone)]
pub(crate) struct DemoTls {
    /// The CA certificate: what kube-manager trusts.
    pub(crate) ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl DemoTls {
    /// Loads the files in `dir`, generating them on the first run.
    pub(crate) fn load_or_generate(dir: &Path) -> anyhow::Result<DemoTls> {
        let tls = DemoTls {
            ca: dir.join("ca.pem"),
            cert: dir.join("server-cert.pem"),
            key: dir.join("server-key.pem"),
        };
        if tls.ca.is_file() && tls.cert.is_file() && tls.key.is_file() {
            return Ok(tls);
        }
        create_private_dir(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let ca_key = KeyPair::generate().context("cannot generate the demo CA key")?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Lapdev demo CA (local only)");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::CrlSign,
        ];
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate().context("cannot generate the demo server key")?;
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?;
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let cert = params.signed_by(&key, &issuer)?;
        // The CA key is not kept: nothing else will ever be signed with it.
        for (path, text) in [
            (&tls.key, key.serialize_pem()),
            (&tls.cert, format!("{}{}", cert.pem(), ca_cert.pem())),
            (&tls.ca, ca_cert.pem()),
        ] {
            let _ = std::fs::remove_file(path);
            write_private(path, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(tls)
    }
}

/// Serves `app` over HTTPS on an ephemeral loopback port until `stop`;
/// returns the bound address. The tasks run under `tasks`.
pub(crate) async fn serve_https(
    tls: &DemoTls,
    app: axum::Router,
    tasks: &TaskTracker,
    stop: CancellationToken,
) -> anyhow::Result<SocketAddr> {
    use axum::serve::ListenerExt;
    let config = lapdev_server::tls::server_config(&tls.cert, &tls.key)
        .map_err(anyhow::Error::msg)
        .context("the demo certificate and key do not fit (delete the tls directory)")?;
    let tcp = TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("cannot listen for the demo tunnel")?;
    let listener = lapdev_server::tls::TlsListener::spawn(tcp, config, tasks, stop.clone())?;
    let addr = axum::serve::Listener::local_addr(&listener)?;
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let listener = listener.tap_io(|_| {});
    tasks.spawn(async move {
        let served = axum::serve(listener, service)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the demo tunnel listener failed");
        }
    });
    Ok(addr)
}
