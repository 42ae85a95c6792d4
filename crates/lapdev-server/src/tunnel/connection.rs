//! One tunnel session over an upgraded WebSocket: the handshake, then a
//! reader task (heartbeats, status reports, responses, idle detection) and a
//! writer task (everything the server sends), both owned by the server's
//! `TaskTracker` and stopped by its `CancellationToken`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use jiff::Timestamp;
use lapdev_db::{ClusterFacts, ClusterRecord, ClusterTokenRecord};
use lapdev_tunnel_proto::{
    ClientFrame, DecodeError, HeartbeatAck, Refused, RefusedCode, ServerFrame, TunnelError,
    close_code, decode_client_frame, encode_server_frame,
};

use super::handshake::answer_hello;
use super::registry::{Outbound, Session, TunnelRegistry};
use crate::error::Chain;
use crate::state::AppState;

/// Time kube-manager has to send its `Hello` after the upgrade.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// `last_seen_at` is written to the database at most this often per
/// cluster; the registry keeps the exact value in memory.
pub(crate) const LAST_SEEN_WRITE_EVERY: Duration = Duration::from_secs(10);
/// WebSocket close code for a server shutdown ("going away").
const GOING_AWAY: u16 = 1001;

/// Runs a session to its end. Called in the upgrade callback.
pub(crate) async fn run(
    socket: WebSocket,
    state: AppState,
    cluster: ClusterRecord,
    token: ClusterTokenRecord,
) {
    let (mut sink, mut stream) = socket.split();
    let settings = state.tunnel_settings().clone();

    let hello = tokio::time::timeout(HANDSHAKE_TIMEOUT, read_frame(&mut stream)).await;
    let hello = match hello {
        Ok(Some(Ok(ClientFrame::Hello(hello)))) => hello,
        Ok(None) => return,
        Err(_) | Ok(Some(_)) => {
            let refused = Refused {
                code: RefusedCode::InvalidHello,
                message: "the first frame must be a `hello`, sent at once".into(),
                server_supported: None,
            };
            refuse(&mut sink, refused).await;
            return;
        }
    };
    let welcome = match answer_hello(&hello, &cluster, &settings) {
        Ok(welcome) => welcome,
        Err(refused) => {
            tracing::warn!(cluster = %cluster.id, message = %refused.message, "tunnel refused");
            refuse(&mut sink, refused).await;
            return;
        }
    };
    let registry = state.tunnels().clone();
    let (session, outbound) =
        registry.register(cluster.id, token.retires_at, hello.max_concurrent_requests);
    // A revocation (or deletion) during the handshake closed nothing, since
    // the session was not registered yet: check the token once more.
    match state
        .db()
        .cluster_token_is_valid(token.id, Timestamp::now())
        .await
    {
        Ok(true) => {}
        Ok(false) => session.close(close_code::TOKEN_REVOKED, "the cluster token was revoked"),
        Err(e) => {
            tracing::warn!(error = %Chain(&e), "could not re-check the cluster token");
            session.close(1011, "the server could not check the token");
        }
    }
    if token.retires_at.is_none() {
        // The new token is in use: the grace period of the old one ends.
        if let Err(e) = state
            .db()
            .cluster_token_retire_others(cluster.id, token.id)
            .await
        {
            tracing::warn!(error = %Chain(&e), "could not retire the previous cluster tokens");
        }
    }
    let now = Timestamp::now();
    if let Err(e) = state.db().cluster_touch(cluster.id, now, 0).await {
        tracing::warn!(error = %Chain(&e), "could not record the cluster as seen");
    }
    tracing::info!(
        cluster = %cluster.id,
        name = %cluster.name,
        kube_manager = %hello.kube_manager_version,
        session = session.id,
        token = %token.id,
        "tunnel connected"
    );

    // Welcome last: once kube-manager has it, the session is registered,
    // the previous tokens are retired and the cluster shows Active. (A
    // session already closed gets only the close frame, from the writer.)
    if !session.closed().is_cancelled()
        && send(&mut sink, &ServerFrame::Welcome(welcome))
            .await
            .is_err()
    {
        session.close(1006, "the connection broke during the handshake");
        registry.unregister(&session);
        session.fail_pending();
        return;
    }
    let tasks = state.tasks().clone();
    let writer = tasks.spawn(write_loop(sink, outbound, session.clone()));
    let reader = tasks.spawn(read_loop(stream, state.clone(), session.clone()));
    if !session.closed().is_cancelled() {
        registry.announce_connected(cluster.id);
        // Environment views show whether their cluster is connected.
        state.environments().changed();
    }
    let _ = reader.await;
    // The reader decided the session is over; make sure the writer closes.
    if session.close_reason().is_none() {
        session.close(1000, "session ended");
    }
    let _ = writer.await;
    registry.unregister(&session);
    session.fail_pending();
    state.environments().changed();
    tracing::info!(
        cluster = %cluster.id,
        session = session.id,
        reason = session.close_reason().map(|(_, r)| r).unwrap_or_default(),
        "tunnel closed"
    );
}

type Sink = SplitSink<WebSocket, Message>;
type Stream = SplitStream<WebSocket>;

async fn send(sink: &mut Sink, frame: &ServerFrame) -> Result<(), ()> {
    let text = encode_server_frame(frame).map_err(|e| {
        tracing::error!(error = %e, "cannot encode a tunnel frame");
    })?;
    sink.send(Message::Text(text.into())).await.map_err(drop)
}

async fn close(sink: &mut Sink, code: u16, reason: &str) {
    // Close reasons are limited to 123 bytes by the protocol.
    let mut reason = reason.to_string();
    while reason.len() > 120 {
        reason.pop();
    }
    let _ = sink
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
    let _ = sink.close().await;
}

async fn refuse(sink: &mut Sink, refused: Refused) {
    let _ = send(sink, &ServerFrame::Refused(refused)).await;
    close(sink, close_code::PROTOCOL_ERROR, "handshake refused").await;
}

/// The next text frame, decoded; `None` when the socket closed.
async fn read_frame(stream: &mut Stream) -> Option<Result<ClientFrame, DecodeError>> {
    loop {
        match stream.next().await? {
            Ok(Message::Text(text)) => return Some(decode_client_frame(text.as_str())),
            Ok(Message::Binary(_)) => {
                return Some(Err(DecodeError::Malformed(
                    "binary messages are not part of the protocol".into(),
                )));
            }
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Close(_)) => return None,
            // Over the size limit, a bad WebSocket frame, or a broken
            // connection: the session is over either way.
            Err(e) => {
                return Some(Err(DecodeError::Malformed(format!(
                    "unreadable message: {e}"
                ))));
            }
        }
    }
}

async fn write_loop(mut sink: Sink, mut outbound: Outbound, session: Arc<Session>) {
    loop {
        tokio::select! {
            biased;
            () = session.closed().cancelled() => break,
            frame = outbound.recv() => match frame {
                Some(frame) => {
                    if send(&mut sink, &frame).await.is_err() {
                        session.close(1006, "the connection broke");
                        return;
                    }
                }
                None => break,
            },
        }
    }
    let (code, reason) = session
        .close_reason()
        .unwrap_or((1000, "session ended".into()));
    close(&mut sink, code, &reason).await;
}

/// Waits until the session's token retires (after a rotation), if ever.
async fn token_retired(session: &Session) {
    let mut retires_at = session.retires_at();
    loop {
        let deadline = *retires_at.borrow_and_update();
        match deadline {
            Some(at) => {
                let left = at.duration_since(Timestamp::now());
                let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
                tokio::select! {
                    () = tokio::time::sleep(left) => return,
                    changed = retires_at.changed() => if changed.is_err() {
                        std::future::pending::<()>().await
                    },
                }
            }
            None => {
                if retires_at.changed().await.is_err() {
                    std::future::pending::<()>().await
                }
            }
        }
    }
}

async fn read_loop(mut stream: Stream, state: AppState, session: Arc<Session>) {
    let idle_limit = state.tunnel_settings().offline_after();
    let shutdown = state.shutdown().clone();
    let mut last_write = tokio::time::Instant::now();
    // Only heartbeats keep the session alive (the protocol's watchdog).
    let mut deadline = tokio::time::Instant::now() + idle_limit;
    // One waiter for the whole session, not a new one (and a new timer
    // during a rotation's grace) for every frame read.
    let retired = token_retired(&session);
    tokio::pin!(retired);
    loop {
        let next = tokio::select! {
            biased;
            () = session.closed().cancelled() => return,
            () = shutdown.cancelled() => {
                session.close(GOING_AWAY, "the Lapdev server is shutting down");
                return;
            }
            () = &mut retired => {
                session.close(close_code::TOKEN_REVOKED, "the cluster token was rotated out");
                return;
            }
            next = tokio::time::timeout_at(deadline, read_frame(&mut stream)) => next,
        };
        let frame = match next {
            Err(_) => {
                session.close(
                    close_code::HEARTBEAT_TIMEOUT,
                    format!("no heartbeat for {} s", idle_limit.as_secs()),
                );
                return;
            }
            Ok(None) => {
                session.close(1000, "kube-manager closed the tunnel");
                return;
            }
            Ok(Some(frame)) => frame,
        };
        match frame {
            Ok(ClientFrame::Heartbeat(beat)) => {
                deadline = tokio::time::Instant::now() + idle_limit;
                let now = Timestamp::now();
                session.touch(now);
                if last_write.elapsed() >= LAST_SEEN_WRITE_EVERY {
                    last_write = tokio::time::Instant::now();
                    let granularity = LAST_SEEN_WRITE_EVERY.as_millis() as i64;
                    if let Err(e) = state
                        .db()
                        .cluster_touch(session.cluster, now, granularity)
                        .await
                    {
                        tracing::warn!(error = %Chain(&e), "could not record a heartbeat");
                    }
                }
                let ack = ServerFrame::HeartbeatAck(HeartbeatAck { seq: beat.seq });
                if !TunnelRegistry::send_frame(&session, ack).await {
                    return;
                }
            }
            Ok(ClientFrame::Status(status)) => {
                let now = Timestamp::now();
                session.touch(now);
                let facts = ClusterFacts {
                    kube_manager_version: status.kube_manager_version,
                    kubernetes_version: status.kubernetes_version,
                    node_count: status.node_count,
                    allocatable_cpu_millis: status.allocatable_cpu_millis,
                    allocatable_memory_bytes: status.allocatable_memory_bytes,
                    reported_at: now,
                };
                if let Err(e) = state
                    .db()
                    .cluster_record_facts(session.cluster, &facts)
                    .await
                {
                    tracing::warn!(error = %Chain(&e), "could not record a cluster status");
                }
            }
            Ok(ClientFrame::Response { id, result }) => {
                session.touch(Timestamp::now());
                if !session.complete(id, result) {
                    tracing::debug!(request = %id, "a response to no waiting request (timed out?)");
                }
            }
            Ok(ClientFrame::EnvironmentStatus(status)) => {
                session.touch(Timestamp::now());
                // Stored inline, so reports are applied in the order sent
                // (only changes are pushed: a few small writes).
                if let Err(e) =
                    crate::reconciler::record_report(&state, session.cluster, status).await
                {
                    tracing::warn!(error = %Chain(&e), "could not store an environment status");
                }
            }
            Ok(ClientFrame::Hello(_)) => {
                session.close(close_code::PROTOCOL_ERROR, "a second hello");
                return;
            }
            Err(DecodeError::InvalidResponse { id, message }) => {
                session.complete(id, Err(TunnelError::internal(message)));
            }
            Err(e) if e.is_fatal() => {
                tracing::info!(cluster = %session.cluster, error = %e, "tunnel protocol error");
                session.close(close_code::PROTOCOL_ERROR, e.to_string());
                return;
            }
            Err(e) => tracing::debug!(error = %e, "ignored a tunnel frame"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapdev_domain::ClusterId;

    #[tokio::test]
    async fn a_rotated_out_token_ends_its_session() {
        let registry = TunnelRegistry::default();
        let cluster = ClusterId::new();
        let (session, _rx) = registry.register(cluster, None, 1);
        let waiting = tokio::spawn({
            let session = session.clone();
            async move { token_retired(&session).await }
        });
        // Rotation: the session's token retires now (the grace is over).
        registry.retire_current_token(cluster, Timestamp::now());
        tokio::time::timeout(Duration::from_secs(30), waiting)
            .await
            .expect("the session learns that its token retired")
            .unwrap();
        // A token that retires at a past time ends a new session at once.
        let (session, _rx) = registry.register(
            cluster,
            Some(Timestamp::now() - jiff::SignedDuration::from_secs(1)),
            1,
        );
        tokio::time::timeout(Duration::from_secs(30), token_retired(&session))
            .await
            .expect("already retired");
    }
}
