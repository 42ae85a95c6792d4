//! Native TLS (`--tls-cert`, `--tls-key`): rustls with the ring provider,
//! so kube-manager's WebSocket and browsers reach the server over HTTPS
//! without a reverse proxy. TLS handshakes run in their own tasks (with a
//! timeout), never in the accept loop, so a slow client cannot stall others.
//! Public so embedders (the demo's tunnel listener) serve TLS the same way.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Time a client has to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshaken connections waiting for the HTTP server to take them.
const READY_QUEUE: usize = 64;

/// Loads the certificate chain and key into a rustls server configuration
/// (HTTP/1.1 only, which the WebSocket upgrade needs).
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let cert_pem = read(cert)?;
    let key_pem = read(key)?;
    let certs = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{} is not a PEM certificate chain: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no certificate", cert.display()));
    }
    let key_der = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| format!("{} is not a PEM private key: {e}", key.display()))?
        .ok_or_else(|| format!("{} holds no private key", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .map_err(|e| format!("the TLS certificate and key do not fit: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// An axum [`Listener`](axum::serve::Listener) of TLS connections. The
/// accept loop runs in a task of its own and hands over only connections
/// whose handshake finished.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
}

impl TlsListener {
    /// Starts the accept loop under `tasks`; it stops with `stop`.
    pub fn spawn(
        tcp: TcpListener,
        config: Arc<rustls::ServerConfig>,
        tasks: &TaskTracker,
        stop: CancellationToken,
    ) -> std::io::Result<Self> {
        let local_addr = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(READY_QUEUE);
        let acceptor = TlsAcceptor::from(config);
        let handshakes = tasks.clone();
        tasks.spawn(async move {
            loop {
                let (stream, addr) = tokio::select! {
                    () = stop.cancelled() => break,
                    accepted = tcp.accept() => match accepted {
                        Ok(pair) => pair,
                        Err(e) => {
                            tracing::debug!(error = %e, "accept failed");
                            // e.g. too many open files: do not spin.
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    },
                };
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                let stop = stop.clone();
                handshakes.spawn(async move {
                    let handshake =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream));
                    tokio::select! {
                        () = stop.cancelled() => {}
                        done = handshake => match done {
                            Ok(Ok(tls)) => {
                                let _ = tx.send((tls, addr)).await;
                            }
                            Ok(Err(e)) => tracing::debug!(%addr, error = %e, "TLS handshake failed"),
                            Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
                        },
                    }
                });
            }
        });
        Ok(TlsListener { ready, local_addr })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop stopped (shutdown): accept nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}
