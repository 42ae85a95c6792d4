//! The health endpoints the Deployment's probes call (`LAPDEV_HEALTH_LISTEN`,
//! off when unset): a tiny HTTP/1 server on hyper, one request per
//! connection, with a header read timeout, a small header limit and a
//! bound on open connections.
//!
//! * `/healthz` (liveness): 200 while the process and its runtime run. It
//!   never looks at the tunnel: a Lapdev server outage must not make the
//!   kubelet restart every kube-manager.
//! * `/readyz` (readiness): 200 while the tunnel is connected and welcomed
//!   ([`Readiness`]), else 503 with a one-line reason.
//! * anything else: 404.
//!
//! [`respond`] is the whole routing decision, a pure function tested without
//! sockets; [`serve`] only moves bytes.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Response, StatusCode, header};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a client may take to send its request line and headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one connection may stay open at all.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);
/// Probes send a handful of headers.
const MAX_HEADERS: usize = 32;
/// Read buffer limit (hyper's minimum), which bounds the header size.
const MAX_BUF_SIZE: usize = 8192;
/// Connections served at once; more are closed right away.
const MAX_CONNECTIONS: usize = 32;
/// Pause after a failed `accept` (e.g. out of file descriptors).
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// The `/readyz` body while the tunnel is down.
pub const NOT_CONNECTED: &str = "not connected to the Lapdev server (retrying)";

/// Whether the tunnel is connected and welcomed; shared between the
/// connection loop (which sets it) and the health server (which reads it).
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// Marks the tunnel connected until the guard is dropped, so no exit
    /// path of a session can leave it marked ready.
    pub fn connected(&self) -> Connected {
        self.0.store(true, Ordering::Release);
        Connected(self.clone())
    }
}

/// While alive, the tunnel counts as connected.
#[derive(Debug)]
pub struct Connected(Readiness);

impl Drop for Connected {
    fn drop(&mut self) {
        self.0.0.store(false, Ordering::Release);
    }
}

/// The answer to one request.
pub fn respond(method: &Method, path: &str, readiness: &Readiness) -> Response<Full<Bytes>> {
    let (status, body) = match path {
        "/healthz" | "/readyz" if method != Method::GET && method != Method::HEAD => {
            (StatusCode::METHOD_NOT_ALLOWED, "use GET")
        }
        "/healthz" => (StatusCode::OK, "ok"),
        "/readyz" if readiness.is_ready() => (StatusCode::OK, "ok"),
        "/readyz" => (StatusCode::SERVICE_UNAVAILABLE, NOT_CONNECTED),
        _ => (StatusCode::NOT_FOUND, "not found"),
    };
    let mut response = Response::new(Full::new(Bytes::from(format!("{body}\n"))));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// Binds the health listener (before anything else, so a taken port fails
/// the start) and logs the bound address as `health listening addr=…`.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "health listening");
    Ok(listener)
}

/// Serves the health endpoints until `shutdown` is cancelled; every
/// connection task is owned and awaited before this returns.
pub async fn serve(listener: TcpListener, readiness: Readiness, shutdown: CancellationToken) {
    let tasks = TaskTracker::new();
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(false)
        .max_headers(MAX_HEADERS)
        .max_buf_size(MAX_BUF_SIZE);
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                tracing::warn!(error = %e, "the health listener cannot accept");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => continue,
                }
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::debug!("too many health connections; closing one");
            continue;
        };
        let readiness = readiness.clone();
        let service = hyper::service::service_fn(move |request: http::Request<_>| {
            let response = respond(request.method(), request.uri().path(), &readiness);
            async move { Ok::<_, Infallible>(response) }
        });
        let connection = builder.serve_connection(TokioIo::new(tcp), service);
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            let _slot = slot;
            tokio::select! {
                served = tokio::time::timeout(CONNECTION_TIMEOUT, connection) => {
                    if let Ok(Err(e)) = served {
                        tracing::debug!(error = %e, "health connection failed");
                    }
                }
                _ = shutdown.cancelled() => {}
            }
        });
    }
    tasks.close();
    tasks.wait().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn check(method: Method, path: &str, ready: bool) -> String {
        let readiness = Readiness::default();
        let _connected = ready.then(|| readiness.connected());
        let response = respond(&method, path, &readiness);
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        format!("{status} {}", String::from_utf8_lossy(&body).trim_end())
    }

    #[tokio::test]
    async fn routes() {
        assert_eq!(check(Method::GET, "/healthz", false).await, "200 ok");
        assert_eq!(check(Method::GET, "/healthz", true).await, "200 ok");
        assert_eq!(check(Method::HEAD, "/healthz", false).await, "200 ok");
        assert_eq!(check(Method::GET, "/readyz", true).await, "200 ok");
        assert_eq!(
            check(Method::GET, "/readyz", false).await,
            "503 not connected to the Lapdev server (retrying)"
        );
        assert_eq!(check(Method::POST, "/readyz", true).await, "405 use GET");
        assert_eq!(check(Method::GET, "/", true).await, "404 not found");
        assert_eq!(
            check(Method::GET, "/healthz/x", true).await,
            "404 not found"
        );
        assert_eq!(check(Method::GET, "/metrics", true).await, "404 not found");
    }

    #[test]
    fn the_guard_clears_readiness() {
        let readiness = Readiness::default();
        let connected = readiness.connected();
        assert!(readiness.is_ready());
        drop(connected);
        assert!(!readiness.is_ready());
    }
}
