//! The 127.0.0.1 listener (plain HTTP or TLS) over the same handler, with a
//! kubeconfig pointing at it. Connections are served by hyper-util's auto
//! (HTTP/1 + HTTP/2) builder; every task is owned by the handle's tracker.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::core::Core;

/// The default bearer token written into kubeconfigs (any token is accepted).
pub const DEFAULT_TOKEN: &str = "kube-sim-token";

/// A running listener. Dropping it stops accepting; `shutdown` also waits.
#[derive(Debug)]
pub struct ServingHandle {
    addr: SocketAddr,
    url: String,
    ca_pem: Option<String>,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl ServingHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The CA certificate (PEM) when serving TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// A kubeconfig for this server with the default token.
    pub fn kubeconfig_yaml(&self) -> String {
        self.kubeconfig_yaml_with_token(DEFAULT_TOKEN)
    }

    /// A kubeconfig for this server whose user sends `token`.
    pub fn kubeconfig_yaml_with_token(&self, token: &str) -> String {
        use base64::Engine as _;
        let ca = self
            .ca_pem
            .as_ref()
            .map(|pem| {
                format!(
                    "    certificate-authority-data: {}\n",
                    base64::engine::general_purpose::STANDARD.encode(pem)
                )
            })
            .unwrap_or_default();
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: kube-sim\n  cluster:\n    server: {url}\n{ca}contexts:\n- name: kube-sim\n  context:\n    cluster: kube-sim\n    user: kube-sim\n    namespace: default\ncurrent-context: kube-sim\nusers:\n- name: kube-sim\n  user:\n    token: {token}\npreferences: {{}}\n",
            url = self.url
        )
    }

    /// Writes the kubeconfig atomically (temp file, then rename).
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("tmp-kube-sim");
        std::fs::write(&tmp, self.kubeconfig_yaml())?;
        std::fs::rename(&tmp, path)
    }

    /// Stops accepting, drops open connections (watches included) and waits.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

impl Drop for ServingHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

pub(crate) async fn serve(
    core: Arc<Core>,
    addr: SocketAddr,
    tls: bool,
) -> Result<ServingHandle, crate::Error> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| crate::Error::Io(format!("cannot listen on {addr}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| crate::Error::Io(e.to_string()))?;
    let tls = if tls {
        Some(crate::tls::generate().map_err(crate::Error::Tls)?)
    } else {
        None
    };
    let url = format!("{}://{addr}", if tls.is_some() { "https" } else { "http" });
    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();
    let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
    let acceptor = tls.map(|t| t.acceptor);
    {
        let cancel = cancel.clone();
        let inner = tracker.clone();
        tracker.spawn(async move {
            loop {
                let stream = tokio::select! {
                    _ = cancel.cancelled() => return,
                    r = listener.accept() => match r {
                        Ok((s, _)) => s,
                        Err(e) => {
                            tracing::warn!("accept failed: {e}");
                            continue;
                        }
                    },
                };
                let core = core.clone();
                let cancel = cancel.clone();
                let acceptor = acceptor.clone();
                inner.spawn(async move {
                    match acceptor {
                        None => serve_conn(core, TokioIo::new(stream), cancel).await,
                        Some(a) => match a.accept(stream).await {
                            Ok(s) => serve_conn(core, TokioIo::new(s), cancel).await,
                            Err(e) => tracing::debug!("TLS handshake failed: {e}"),
                        },
                    }
                });
            }
        });
    }
    Ok(ServingHandle {
        addr,
        url,
        ca_pem,
        cancel,
        tracker,
    })
}

async fn serve_conn<I>(core: Arc<Core>, io: I, cancel: CancellationToken)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |req| {
        let core = core.clone();
        async move { Ok::<_, Infallible>(crate::handler::handle(core, req).await) }
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(io, svc);
    tokio::select! {
        _ = cancel.cancelled() => {}
        r = conn => {
            if let Err(e) = r {
                tracing::debug!("connection ended: {e}");
            }
        }
    }
}
