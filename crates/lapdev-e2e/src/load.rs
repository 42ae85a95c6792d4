//! The benchmark's load: many simulated kube-managers in one process, each
//! speaking the tunnel protocol over TLS (tokio-tungstenite, rustls):
//! upgrade with its cluster token, `Hello`, `Welcome`, one `Status`, then a
//! `Heartbeat` every `Welcome::heartbeat_interval_secs`; reconnecting with
//! the protocol's [`Backoff`] like kube-manager. Counters say how many are
//! connected; the caller measures the server around them.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use lapdev_tunnel_proto::{
    Backoff, ClientFrame, ClusterStatus, Heartbeat, Hello, MAX_FRAME_BYTES, ServerFrame,
    VersionRange, decode_server_frame, encode_client_frame,
};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What the simulated kube-managers did so far.
#[derive(Debug, Default)]
pub struct LoadStats {
    /// Sessions open now (after `Welcome`).
    pub live: AtomicUsize,
    /// Handshakes completed, in total.
    pub welcomed: AtomicUsize,
    /// Heartbeats acknowledged, in total.
    pub acks: AtomicU64,
    /// Upgrade or handshake failures, in total.
    pub failures: AtomicU64,
}

/// A running load of simulated kube-managers.
pub struct Load {
    pub stats: Arc<LoadStats>,
    stop: CancellationToken,
    tasks: TaskTracker,
}

/// Reconnect delays of the load (kube-manager's defaults).
const RECONNECT_BASE: Duration = Duration::from_secs(1);
const RECONNECT_MAX: Duration = Duration::from_secs(60);
/// Handshakes in flight at once, so 1,000 clients do not overflow the
/// listen backlog in one burst.
const CONNECTING_AT_ONCE: usize = 64;

impl Load {
    /// Starts one client per token against `url` (`wss://…/api/v1/tunnel`).
    pub fn start(url: &str, tokens: Vec<String>, tls: Arc<rustls::ClientConfig>) -> Load {
        let stats = Arc::new(LoadStats::default());
        let stop = CancellationToken::new();
        let tasks = TaskTracker::new();
        let gate = Arc::new(Semaphore::new(CONNECTING_AT_ONCE));
        for token in tokens {
            let client = Client {
                url: url.to_string(),
                token,
                tls: tls.clone(),
                stats: stats.clone(),
                gate: gate.clone(),
            };
            tasks.spawn(client.run(stop.clone()));
        }
        tasks.close();
        Load { stats, stop, tasks }
    }

    pub fn live(&self) -> usize {
        self.stats.live.load(Ordering::Acquire)
    }

    /// Closes every client and waits for them.
    pub async fn stop(self) {
        self.stop.cancel();
        self.tasks.wait().await;
    }
}

struct Client {
    url: String,
    token: String,
    tls: Arc<rustls::ClientConfig>,
    stats: Arc<LoadStats>,
    gate: Arc<Semaphore>,
}

impl Client {
    async fn run(self, stop: CancellationToken) {
        let mut backoff = Backoff::new(RECONNECT_BASE, RECONNECT_MAX);
        let seed = std::collections::hash_map::RandomState::new();
        let mut n = 0u64;
        while !stop.is_cancelled() {
            let healthy = tokio::select! {
                h = self.session(&stop) => h,
                () = stop.cancelled() => return,
            };
            if healthy {
                backoff.reset();
            }
            n += 1;
            let mut h = seed.build_hasher();
            h.write_u64(n);
            let delay = backoff.next_delay(h.finish());
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = stop.cancelled() => return,
            }
        }
    }

    /// One session; true when it got as far as an acknowledged heartbeat.
    async fn session(&self, stop: &CancellationToken) -> bool {
        let permit = self.gate.acquire().await.expect("the gate stays open");
        let Some(mut ws) = self.connect().await else {
            self.stats.failures.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        let hello = ClientFrame::Hello(Hello {
            supported: VersionRange::CURRENT,
            kube_manager_version: "tunnel-load".into(),
            max_concurrent_requests: 32,
        });
        if ws.send(text(&hello)).await.is_err() {
            return false;
        }
        let welcome = loop {
            match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => match decode_server_frame(&t) {
                    Ok(ServerFrame::Welcome(w)) => break w,
                    Ok(_) | Err(_) => {
                        self.stats.failures.fetch_add(1, Ordering::Relaxed);
                        return false;
                    }
                },
                Ok(Some(Ok(_))) => continue,
                _ => {
                    self.stats.failures.fetch_add(1, Ordering::Relaxed);
                    return false;
                }
            }
        };
        drop(permit);
        self.stats.live.fetch_add(1, Ordering::AcqRel);
        self.stats.welcomed.fetch_add(1, Ordering::AcqRel);
        let status = ClientFrame::Status(ClusterStatus {
            kube_manager_version: "tunnel-load".into(),
            kubernetes_version: "v1.33.0-load".into(),
            node_count: 1,
            ready_node_count: 1,
            allocatable_cpu_millis: 1000,
            allocatable_memory_bytes: 1 << 30,
        });
        let _ = ws.send(text(&status)).await;
        let every = Duration::from_secs(u64::from(welcome.heartbeat_interval_secs.max(1)));
        let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        let mut seq = 0u64;
        let mut healthy = false;
        loop {
            tokio::select! {
                _ = beat.tick() => {
                    seq += 1;
                    let hb = ClientFrame::Heartbeat(Heartbeat { seq, sent_at_unix_ms: 0 });
                    if ws.send(text(&hb)).await.is_err() {
                        break;
                    }
                }
                msg = tokio::time::timeout(every * 3, ws.next()) => match msg {
                    Ok(Some(Ok(Message::Text(t)))) => {
                        if let Ok(ServerFrame::HeartbeatAck(_)) = decode_server_frame(&t) {
                            healthy = true;
                            self.stats.acks.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) | Err(_) => break,
                    Ok(Some(Ok(_))) => {}
                },
                () = stop.cancelled() => {
                    let _ = ws.close(None).await;
                    break;
                }
            }
        }
        self.stats.live.fetch_sub(1, Ordering::AcqRel);
        healthy
    }

    async fn connect(
        &self,
    ) -> Option<
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
    > {
        let mut request = self.url.as_str().into_client_request().ok()?;
        request.headers_mut().insert(
            http::header::AUTHORIZATION,
            format!("Bearer {}", self.token).parse().ok()?,
        );
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_FRAME_BYTES))
            .max_frame_size(Some(MAX_FRAME_BYTES));
        let connecting = tokio_tungstenite::connect_async_tls_with_config(
            request,
            Some(config),
            true,
            Some(tokio_tungstenite::Connector::Rustls(self.tls.clone())),
        );
        match tokio::time::timeout(Duration::from_secs(30), connecting).await {
            Ok(Ok((ws, _))) => Some(ws),
            _ => None,
        }
    }
}

fn text(frame: &ClientFrame) -> Message {
    Message::text(encode_client_frame(frame).expect("a small frame encodes"))
}
