//! The tunnel to the Lapdev server: connect (outbound TLS WebSocket, token
//! in the `Authorization` header), handshake, then one session in which a
//! reader loop, a writer task, heartbeats, status pushes and request tasks
//! run under one `TaskTracker` and `CancellationToken`. Any failure ends the
//! session; [`run`] reconnects with capped exponential backoff and full
//! jitter, longer after the server refused the token.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::{SinkExt, StreamExt};
use http::header::{AUTHORIZATION, HeaderValue, USER_AGENT};
use lapdev_tunnel_proto::{
    Backoff, ClientFrame, EncodeError, HEARTBEAT_MISSES, Heartbeat, Hello, MAX_FRAME_BYTES,
    Refused, ServerFrame, TunnelError, VersionRange, Welcome, close_code, decode_server_frame,
    encode_client_frame,
};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::config::{AUTH_BACKOFF_FACTOR, Config};
use crate::dispatch::{Dispatcher, REQUEST_TIMEOUT};
use crate::environment::watch::{self, StatusFeed};
use crate::health::Readiness;
use crate::status::{self, KUBE_MANAGER_VERSION};

/// How long the TCP + TLS + WebSocket upgrade may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the server may take to answer `Hello`.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the writer gets to send the closing frame on the way out.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Bounds on the intervals the server may ask for.
const MAX_INTERVAL_SECS: u32 = 3600;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Why a session ended (or never started).
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot connect: {0}")]
    Connect(#[source] tungstenite::Error),
    #[error(
        "the server's TLS certificate is not trusted: {0} (for a server with a private CA set LAPDEV_SERVER_CA_FILE)"
    )]
    Certificate(#[source] tungstenite::Error),
    #[error("cannot load the cluster token: {0}")]
    Token(#[source] crate::config::ConfigError),
    #[error("connecting timed out after {}s", CONNECT_TIMEOUT.as_secs())]
    ConnectTimeout,
    #[error("the server refused the cluster token (HTTP {status})")]
    TokenRefused { status: u16 },
    #[error("the server revoked the cluster token")]
    TokenRevoked,
    #[error(
        "the server answered HTTP {status} instead of upgrading to a WebSocket (is LAPDEV_SERVER_URL the Lapdev server?)"
    )]
    UpgradeFailed { status: u16 },
    #[error("the server did not answer the handshake within {}s", HANDSHAKE_TIMEOUT.as_secs())]
    HandshakeTimeout,
    #[error("the server refused the session ({code:?}): {message}", code = .0.code, message = .0.message)]
    Refused(Refused),
    #[error("protocol error: {0}")]
    Protocol(String),
    #[error("no frame from the server for {0:?}")]
    HeartbeatTimeout(Duration),
    #[error("the server closed the connection{}", match .code { Some(c) => format!(" (code {c}: {reason})"), None => String::new() })]
    Closed { code: Option<u16>, reason: String },
    #[error("connection lost: {0}")]
    Transport(#[source] tungstenite::Error),
}

impl SessionError {
    /// The server does not want this token (or this kube-manager): retry
    /// much less often.
    fn needs_long_backoff(&self) -> bool {
        matches!(
            self,
            SessionError::TokenRefused { .. }
                | SessionError::TokenRevoked
                | SessionError::Refused(_)
        )
    }
}

/// A uniform random `u64` source for backoff jitter (std's randomly keyed
/// hasher; jitter needs spread, not cryptographic strength).
struct Jitter {
    state: std::collections::hash_map::RandomState,
    counter: u64,
}

impl Jitter {
    fn new() -> Self {
        Jitter {
            state: std::collections::hash_map::RandomState::new(),
            counter: 0,
        }
    }

    fn next(&mut self) -> u64 {
        self.counter += 1;
        let mut h = self.state.build_hasher();
        h.write_u64(self.counter);
        h.finish()
    }
}

/// Everything a session needs, shared across reconnects.
struct Context {
    config: Config,
    tls: Arc<rustls::ClientConfig>,
    client: kube::Client,
    dispatcher: Dispatcher,
    readiness: Readiness,
    /// Environment statuses from the watch, forwarded by every session.
    feed: StatusFeed,
}

/// Keeps a tunnel to the server open until `shutdown` is cancelled.
pub async fn run(
    config: Config,
    tls: Arc<rustls::ClientConfig>,
    client: kube::Client,
    shutdown: CancellationToken,
) {
    run_reporting(config, tls, client, shutdown, Readiness::default()).await
}

/// [`run`], marking `readiness` while a session is connected and welcomed.
pub async fn run_reporting(
    config: Config,
    tls: Arc<rustls::ClientConfig>,
    client: kube::Client,
    shutdown: CancellationToken,
    readiness: Readiness,
) {
    let mut backoff = Backoff::new(config.reconnect_base, config.reconnect_max);
    let mut long_backoff = Backoff::new(
        config.reconnect_base * AUTH_BACKOFF_FACTOR,
        config.reconnect_max * AUTH_BACKOFF_FACTOR,
    );
    let mut jitter = Jitter::new();
    let ctx = Context {
        dispatcher: Dispatcher::new(client.clone(), config.max_concurrent_requests)
            .with_source_scope(config.source_scope.clone())
            .with_service_account(config.service_account.clone()),
        config,
        tls,
        client,
        readiness,
        feed: StatusFeed::default(),
    };
    // The environment watch outlives sessions: a reconnect gets every
    // current status at once.
    let watches = TaskTracker::new();
    let stop_watch = shutdown.child_token();
    watches.spawn(watch::run(
        ctx.client.clone(),
        ctx.feed.clone(),
        stop_watch.clone(),
    ));
    while !shutdown.is_cancelled() {
        tracing::info!(url = %ctx.config.tunnel_url, "connecting to the Lapdev server");
        let (error, healthy) = match session(&ctx, &shutdown).await {
            SessionEnd::Shutdown => break,
            SessionEnd::Failed { error, healthy } => (error, healthy),
        };
        if healthy {
            backoff.reset();
            long_backoff.reset();
        }
        let chosen = if error.needs_long_backoff() {
            match &error {
                SessionError::Refused(_) => {
                    tracing::error!(error = %error, "the server refused this kube-manager")
                }
                _ => tracing::error!(
                    error = %error,
                    "the server refused the cluster token (revoked or rotated?)"
                ),
            }
            &mut long_backoff
        } else {
            tracing::warn!(error = %error, "the tunnel is down");
            &mut backoff
        };
        let delay = chosen.next_delay(jitter.next());
        tracing::info!(
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            failures_in_a_row = chosen.attempt(),
            "reconnecting after a delay"
        );
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.cancelled() => break,
        }
    }
    stop_watch.cancel();
    watches.close();
    watches.wait().await;
    tracing::info!("tunnel stopped");
}

enum SessionEnd {
    Shutdown,
    Failed {
        error: SessionError,
        /// The server acknowledged a heartbeat: the next reconnect starts
        /// from the shortest delay.
        healthy: bool,
    },
}

async fn session(ctx: &Context, shutdown: &CancellationToken) -> SessionEnd {
    let failed = |error| SessionEnd::Failed {
        error,
        healthy: false,
    };
    let opened = tokio::select! {
        r = open(ctx) => r,
        _ = shutdown.cancelled() => return SessionEnd::Shutdown,
    };
    let (ws, welcome) = match opened {
        Ok(x) => x,
        Err(e) => return failed(e),
    };
    // Ready until this session ends, whichever way (before the caller logs why).
    let _connected = ctx.readiness.connected();
    tracing::info!(
        cluster_id = %welcome.cluster_id,
        cluster_name = %welcome.cluster_name,
        protocol_version = welcome.version,
        "connected to the Lapdev server"
    );
    let span = tracing::info_span!("session", cluster_id = %welcome.cluster_id);
    Session::new(ctx, welcome, shutdown)
        .run(ws)
        .instrument(span)
        .await
}

/// Connects, upgrades and completes the handshake.
async fn open(ctx: &Context) -> Result<(Ws, Welcome), SessionError> {
    let mut request = ctx
        .config
        .tunnel_url
        .as_str()
        .into_client_request()
        .map_err(SessionError::Connect)?;
    let token = ctx.config.token.load().map_err(SessionError::Token)?;
    let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
        SessionError::Protocol("the cluster token has characters a header cannot carry".into())
    })?;
    auth.set_sensitive(true);
    request.headers_mut().insert(AUTHORIZATION, auth);
    request.headers_mut().insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("lapdev-kube-manager/", env!("CARGO_PKG_VERSION"))),
    );
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES));
    let connect = tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(ws_config),
        true,
        Some(Connector::Rustls(ctx.tls.clone())),
    );
    let (mut ws, _response) = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Err(_) => return Err(SessionError::ConnectTimeout),
        Ok(Err(tungstenite::Error::Http(response))) => {
            let status = response.status().as_u16();
            return Err(if status == 401 || status == 403 {
                SessionError::TokenRefused { status }
            } else {
                SessionError::UpgradeFailed { status }
            });
        }
        Ok(Err(e)) if is_certificate_error(&e) => return Err(SessionError::Certificate(e)),
        Ok(Err(e)) => return Err(SessionError::Connect(e)),
        Ok(Ok(x)) => x,
    };
    let hello = ClientFrame::Hello(Hello {
        supported: VersionRange::CURRENT,
        kube_manager_version: KUBE_MANAGER_VERSION.to_string(),
        max_concurrent_requests: ctx.config.max_concurrent_requests,
    });
    let text = encode_client_frame(&hello).map_err(|e| SessionError::Protocol(e.to_string()))?;
    ws.send(Message::Text(text.into()))
        .await
        .map_err(SessionError::Transport)?;
    let welcome = match tokio::time::timeout(HANDSHAKE_TIMEOUT, await_welcome(&mut ws)).await {
        Err(_) => return Err(SessionError::HandshakeTimeout),
        Ok(r) => r?,
    };
    if !VersionRange::CURRENT.contains(welcome.version) {
        return Err(SessionError::Protocol(format!(
            "the server chose protocol version {}, outside {}",
            welcome.version,
            VersionRange::CURRENT
        )));
    }
    Ok((ws, welcome))
}

/// A TLS failure because the server's certificate did not verify.
fn is_certificate_error(e: &tungstenite::Error) -> bool {
    let tungstenite::Error::Io(io) = e else {
        return false;
    };
    io.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|r| matches!(r, rustls::Error::InvalidCertificate(_)))
}

async fn await_welcome(ws: &mut Ws) -> Result<Welcome, SessionError> {
    loop {
        let message = match ws.next().await {
            None => return Err(closed(None)),
            Some(Err(e)) => return Err(SessionError::Transport(e)),
            Some(Ok(m)) => m,
        };
        match message {
            Message::Text(text) => match decode_server_frame(&text) {
                Ok(ServerFrame::Welcome(w)) => return Ok(w),
                Ok(ServerFrame::Refused(r)) => return Err(SessionError::Refused(r)),
                Ok(other) => {
                    return Err(SessionError::Protocol(format!(
                        "expected welcome, got {other:?}"
                    )));
                }
                Err(e) if e.is_fatal() => return Err(SessionError::Protocol(e.to_string())),
                Err(e) => tracing::debug!(error = %e, "ignoring a frame during the handshake"),
            },
            Message::Close(frame) => return Err(closed(frame)),
            Message::Binary(_) => {
                return Err(SessionError::Protocol(
                    "binary messages are not part of the protocol".into(),
                ));
            }
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }
}

fn closed(frame: Option<CloseFrame>) -> SessionError {
    match frame {
        Some(f) if u16::from(f.code) == close_code::TOKEN_REVOKED => SessionError::TokenRevoked,
        Some(f) => SessionError::Closed {
            code: Some(u16::from(f.code)),
            reason: f.reason.to_string(),
        },
        None => SessionError::Closed {
            code: None,
            reason: String::new(),
        },
    }
}

/// What the writer task sends.
enum Outgoing {
    Frame(ClientFrame),
    /// Sends this close frame, then stops.
    Close(u16, &'static str),
}

/// One connected session.
struct Session<'a> {
    ctx: &'a Context,
    heartbeat_interval: Duration,
    status_interval: Duration,
    /// Cancelled when the session ends: stops the writer (after it sent
    /// what is queued, the closing frame included), status pushes and
    /// running requests. Not a child of `shutdown`, so that on shutdown the
    /// writer still says goodbye.
    cancel: CancellationToken,
    shutdown: &'a CancellationToken,
    tracker: TaskTracker,
}

fn interval_secs(secs: u32) -> Duration {
    Duration::from_secs(u64::from(secs.clamp(1, MAX_INTERVAL_SECS)))
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl<'a> Session<'a> {
    fn new(ctx: &'a Context, welcome: Welcome, shutdown: &'a CancellationToken) -> Self {
        Session {
            ctx,
            heartbeat_interval: interval_secs(welcome.heartbeat_interval_secs),
            status_interval: interval_secs(welcome.status_interval_secs),
            cancel: CancellationToken::new(),
            shutdown,
            tracker: TaskTracker::new(),
        }
    }

    async fn run(self, ws: Ws) -> SessionEnd {
        let (sink, mut stream) = ws.split();
        let (out, out_rx) = mpsc::channel::<Outgoing>(256);
        let mut writer = self
            .tracker
            .spawn(write_loop(sink, out_rx, self.cancel.clone()).in_current_span());

        let mut heartbeat = tokio::time::interval_at(
            Instant::now() + self.heartbeat_interval,
            self.heartbeat_interval,
        );
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut status_tick = tokio::time::interval(self.status_interval);
        status_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let silence_limit = self.heartbeat_interval * HEARTBEAT_MISSES;
        let mut last_heard = Instant::now();
        let mut seq = 0u64;
        let mut healthy = false;
        let status_running = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (initial, mut environment_changes) = self.ctx.feed.subscribe();
        for status in initial {
            let _ = out
                .send(Outgoing::Frame(ClientFrame::EnvironmentStatus(status)))
                .await;
        }

        let ended: Result<(), SessionError> = loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => break Ok(()),
                written = &mut writer => {
                    break Err(match written {
                        Ok(Err(e)) => SessionError::Transport(e),
                        _ => SessionError::Protocol("the writer stopped".into()),
                    });
                }
                message = stream.next() => {
                    last_heard = Instant::now();
                    let message = match message {
                        None => break Err(closed(None)),
                        Some(Err(e)) => break Err(SessionError::Transport(e)),
                        Some(Ok(m)) => m,
                    };
                    match message {
                        Message::Text(text) => {
                            if let Err(e) = self.on_text(&text, &out, &mut healthy).await {
                                let _ = out.try_send(Outgoing::Close(close_code::PROTOCOL_ERROR, "protocol error"));
                                break Err(e);
                            }
                        }
                        Message::Close(frame) => break Err(closed(frame)),
                        Message::Binary(_) => {
                            let _ = out.try_send(Outgoing::Close(close_code::PROTOCOL_ERROR, "binary messages are not allowed"));
                            break Err(SessionError::Protocol("binary messages are not part of the protocol".into()));
                        }
                        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                    }
                }
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() > silence_limit {
                        break Err(SessionError::HeartbeatTimeout(silence_limit));
                    }
                    seq += 1;
                    let frame = ClientFrame::Heartbeat(Heartbeat { seq, sent_at_unix_ms: unix_ms() });
                    if out.send(Outgoing::Frame(frame)).await.is_err() {
                        break Err(SessionError::Protocol("the writer stopped".into()));
                    }
                }
                _ = status_tick.tick() => self.push_status(&out, &status_running),
                changed = environment_changes.recv() => {
                    let statuses = match changed {
                        Ok(status) => vec![status],
                        // Fell behind: send every current status again.
                        Err(_) => {
                            let (all, rx) = self.ctx.feed.subscribe();
                            environment_changes = rx;
                            all
                        }
                    };
                    for status in statuses {
                        if out.send(Outgoing::Frame(ClientFrame::EnvironmentStatus(status))).await.is_err() {
                            break;
                        }
                    }
                }
            }
        };

        // Say goodbye when we are the ones leaving, then stop everything.
        if ended.is_ok() {
            let _ = out.try_send(Outgoing::Close(1001, "kube-manager is shutting down"));
        }
        self.cancel.cancel();
        if !writer.is_finished()
            && tokio::time::timeout(CLOSE_TIMEOUT, &mut writer)
                .await
                .is_err()
        {
            // A stalled socket must not hold up shutdown or the reconnect.
            writer.abort();
        }
        self.tracker.close();
        self.tracker.wait().await;
        match ended {
            Ok(()) => SessionEnd::Shutdown,
            Err(error) => SessionEnd::Failed { error, healthy },
        }
    }

    /// Handles one text frame; an error ends the session.
    async fn on_text(
        &self,
        text: &str,
        out: &mpsc::Sender<Outgoing>,
        healthy: &mut bool,
    ) -> Result<(), SessionError> {
        let frame = match decode_server_frame(text) {
            Ok(f) => f,
            Err(e) => {
                if let Some((id, error)) = e.error_reply() {
                    tracing::warn!(request_id = %id, error = %e, "answering an undecodable request");
                    let reply = ClientFrame::Response {
                        id,
                        result: Err(error),
                    };
                    let _ = out.send(Outgoing::Frame(reply)).await;
                    return Ok(());
                }
                if e.is_fatal() {
                    return Err(SessionError::Protocol(e.to_string()));
                }
                tracing::debug!(error = %e, "ignoring a frame");
                return Ok(());
            }
        };
        match frame {
            ServerFrame::Request { id, request } => {
                let kind = request.kind();
                tracing::debug!(request_id = %id, kind, "request");
                let permit = match self.ctx.dispatcher.admit() {
                    Ok(p) => p,
                    Err(error) => {
                        let reply = ClientFrame::Response {
                            id,
                            result: Err(error),
                        };
                        let _ = out.send(Outgoing::Frame(reply)).await;
                        return Ok(());
                    }
                };
                let dispatcher = self.ctx.dispatcher.clone();
                let out = out.clone();
                let cancel = self.cancel.clone();
                let span = tracing::debug_span!("request", request_id = %id, kind);
                self.tracker.spawn(async move {
                    let _permit = permit;
                    let result = tokio::select! {
                        r = dispatcher.handle(request) => r,
                        _ = cancel.cancelled() => return,
                    };
                    if let Err(e) = &result {
                        tracing::warn!(request_id = %id, kind, code = ?e.code, error = %e, "request failed");
                    }
                    let _ = out.send(Outgoing::Frame(ClientFrame::Response { id, result })).await;
                }.instrument(span));
            }
            ServerFrame::HeartbeatAck(ack) => {
                tracing::trace!(seq = ack.seq, "heartbeat acknowledged");
                *healthy = true;
            }
            ServerFrame::Welcome(_) | ServerFrame::Refused(_) => {
                return Err(SessionError::Protocol(
                    "a handshake frame in the middle of a session".into(),
                ));
            }
        }
        Ok(())
    }

    /// Collects and sends a status report in the background (one at a time).
    fn push_status(
        &self,
        out: &mpsc::Sender<Outgoing>,
        running: &Arc<std::sync::atomic::AtomicBool>,
    ) {
        use std::sync::atomic::Ordering;
        if running.swap(true, Ordering::AcqRel) {
            return;
        }
        let client = self.ctx.client.clone();
        let out = out.clone();
        let cancel = self.cancel.clone();
        let running = running.clone();
        self.tracker.spawn(async move {
            let collect = tokio::time::timeout(REQUEST_TIMEOUT, status::collect(&client));
            let collected = tokio::select! {
                r = collect => r,
                _ = cancel.cancelled() => return,
            };
            match collected {
                Ok(Ok(s)) => {
                    tracing::debug!(nodes = s.node_count, kubernetes = %s.kubernetes_version, "status report");
                    let _ = out.send(Outgoing::Frame(ClientFrame::Status(s))).await;
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot collect the cluster status"),
                Err(_) => tracing::warn!("collecting the cluster status timed out"),
            }
            running.store(false, Ordering::Release);
        }.in_current_span());
    }
}

/// The writer task: encodes frames in order and sends them; a response too
/// large for a frame is replaced by an `internal` error for the same id.
async fn write_loop(
    mut sink: futures::stream::SplitSink<Ws, Message>,
    mut frames: mpsc::Receiver<Outgoing>,
    cancel: CancellationToken,
) -> Result<(), tungstenite::Error> {
    loop {
        // Queued frames first: on the way out the closing frame still goes.
        let next = tokio::select! {
            biased;
            n = frames.recv() => n,
            _ = cancel.cancelled() => None,
        };
        let Some(next) = next else {
            return Ok(());
        };
        let frame = match next {
            Outgoing::Frame(f) => f,
            Outgoing::Close(code, reason) => {
                let close = CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason.into(),
                };
                let _ = sink.send(Message::Close(Some(close))).await;
                let _ = sink.close().await;
                return Ok(());
            }
        };
        let text = match encode_client_frame(&frame) {
            Ok(t) => t,
            Err(e @ EncodeError::TooLarge { .. }) => match frame {
                ClientFrame::Response { id, .. } => {
                    tracing::warn!(request_id = %id, error = %e, "response too large");
                    let reply = ClientFrame::Response {
                        id,
                        result: Err(TunnelError::internal(format!(
                            "the response is too large: {e}"
                        ))),
                    };
                    encode_client_frame(&reply).expect("a short error response encodes")
                }
                _ => {
                    tracing::warn!(error = %e, "dropping a frame that is too large");
                    continue;
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "dropping a frame that does not encode");
                continue;
            }
        };
        sink.send(Message::Text(text.into())).await?;
    }
}
