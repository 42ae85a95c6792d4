//! The registry of live tunnels: at most one session per cluster, and the
//! API the rest of the server uses to talk to a cluster
//! ([`TunnelRegistry::send_request`]).
//!
//! Policy: **the newest connection wins.** A kube-manager that reconnects
//! after a half-open TCP connection (its old socket not yet noticed dead by
//! the server) must not be locked out, so a second connection for the same
//! cluster replaces the first, which is closed with
//! [`close_code::REPLACED`]. Revoking the cluster's token or deleting the
//! cluster closes the live session at once ([`TunnelRegistry::close`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use jiff::Timestamp;
use lapdev_domain::ClusterId;
use lapdev_tunnel_proto::{Pending, Request, Response, ServerFrame, TunnelError, close_code};
use tokio::sync::{Semaphore, broadcast, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

/// How many frames may wait for the writer of one session.
const OUTBOUND_QUEUE: usize = 256;

/// Why [`TunnelRegistry::send_request`] got no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("the cluster is not connected")]
    NotConnected,
    #[error("the tunnel closed before the cluster answered")]
    Disconnected,
    #[error("the cluster did not answer within {0:?}")]
    Timeout(Duration),
    /// kube-manager answered with an error.
    #[error("the cluster refused the request: {0}")]
    Tunnel(#[from] TunnelError),
}

type Waiter = oneshot::Sender<Result<Response, TunnelError>>;

/// One live tunnel session, shared by its connection task and the registry.
pub(crate) struct Session {
    pub(crate) id: u64,
    pub(crate) cluster: ClusterId,
    outbound: mpsc::Sender<ServerFrame>,
    pending: Mutex<Pending<Waiter>>,
    /// At most `Hello::max_concurrent_requests` requests in flight (more
    /// would be answered `overloaded`); further ones wait for a slot.
    in_flight: Semaphore,
    last_seen: Mutex<Timestamp>,
    /// Cancelled to close the session; the reason is set first.
    closed: CancellationToken,
    close_reason: Mutex<Option<(u16, String)>>,
    /// When the session's token stops being valid (after a rotation).
    retires_at: watch::Sender<Option<Timestamp>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these short locks cannot leave bad state.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Session {
    /// Asks the connection to close with `code`; the first reason wins.
    pub(crate) fn close(&self, code: u16, reason: impl Into<String>) {
        let mut slot = lock(&self.close_reason);
        if slot.is_none() {
            *slot = Some((code, reason.into()));
        }
        drop(slot);
        self.closed.cancel();
    }

    pub(crate) fn closed(&self) -> &CancellationToken {
        &self.closed
    }

    pub(crate) fn close_reason(&self) -> Option<(u16, String)> {
        lock(&self.close_reason).clone()
    }

    pub(crate) fn touch(&self, at: Timestamp) {
        *lock(&self.last_seen) = at;
    }

    pub(crate) fn last_seen(&self) -> Timestamp {
        *lock(&self.last_seen)
    }

    pub(crate) fn retires_at(&self) -> watch::Receiver<Option<Timestamp>> {
        self.retires_at.subscribe()
    }

    /// Hands a response to the request that waits for it.
    pub(crate) fn complete(
        &self,
        id: lapdev_tunnel_proto::RequestId,
        result: Result<Response, TunnelError>,
    ) -> bool {
        match lock(&self.pending).complete(id) {
            Some(waiter) => {
                let _ = waiter.send(result);
                true
            }
            None => false,
        }
    }

    /// Fails every waiting request (the session ended): dropping the
    /// senders makes them [`RequestError::Disconnected`], and closing the
    /// slots fails those still waiting for one.
    pub(crate) fn fail_pending(&self) {
        self.in_flight.close();
        drop(lock(&self.pending).drain());
    }
}

/// The receiving half a connection task drains into the socket.
pub(crate) type Outbound = mpsc::Receiver<ServerFrame>;

/// Live sessions by cluster. Cheap to clone.
#[derive(Clone, Default)]
pub struct TunnelRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    sessions: Mutex<HashMap<ClusterId, Arc<Session>>>,
    next_session: AtomicU64,
    /// Clusters whose kube-manager just connected (see [`TunnelRegistry::connected`]).
    connects: broadcast::Sender<ClusterId>,
    /// Per cluster, how many times it connected or disconnected (see
    /// [`TunnelRegistry::epoch`]).
    epochs: Mutex<HashMap<ClusterId, u64>>,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            sessions: Mutex::default(),
            next_session: AtomicU64::default(),
            connects: broadcast::channel(256).0,
            epochs: Mutex::default(),
        }
    }
}

impl TunnelRegistry {
    /// Registers a new session for `cluster`, replacing (and closing) any
    /// previous one: the newest connection wins.
    pub(crate) fn register(
        &self,
        cluster: ClusterId,
        retires_at: Option<Timestamp>,
        max_concurrent_requests: u32,
    ) -> (Arc<Session>, Outbound) {
        let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
        let session = Arc::new(Session {
            id: self.inner.next_session.fetch_add(1, Ordering::Relaxed) + 1,
            cluster,
            outbound: tx,
            pending: Mutex::new(Pending::new()),
            in_flight: Semaphore::new(max_concurrent_requests.clamp(1, 4096) as usize),
            last_seen: Mutex::new(Timestamp::now()),
            closed: CancellationToken::new(),
            close_reason: Mutex::new(None),
            retires_at: watch::Sender::new(retires_at),
        });
        let replaced = lock(&self.inner.sessions).insert(cluster, session.clone());
        if let Some(old) = replaced {
            old.close(
                close_code::REPLACED,
                "another kube-manager connected for this cluster",
            );
        }
        (session, rx)
    }

    /// Announces that `cluster`'s session is ready for requests (after the
    /// handshake): whatever waits for the cluster can go on.
    pub(crate) fn announce_connected(&self, cluster: ClusterId) {
        self.bump_epoch(cluster);
        // No receiver is fine: nobody is waiting.
        let _ = self.inner.connects.send(cluster);
    }

    fn bump_epoch(&self, cluster: ClusterId) {
        *lock(&self.inner.epochs).entry(cluster).or_default() += 1;
    }

    /// Changes whenever `cluster` connects or disconnects (counted since
    /// this server started): views that show the connection add it to
    /// their own version, so a watcher sees the change.
    pub fn epoch(&self, cluster: ClusterId) -> u64 {
        lock(&self.inner.epochs).get(&cluster).copied().unwrap_or(0)
    }

    /// Clusters as they connect (a lagging receiver should rescan everything).
    pub(crate) fn connected(&self) -> broadcast::Receiver<ClusterId> {
        self.inner.connects.subscribe()
    }

    /// Removes `session` if it is still the cluster's current one.
    pub(crate) fn unregister(&self, session: &Session) {
        let mut sessions = lock(&self.inner.sessions);
        if sessions
            .get(&session.cluster)
            .is_some_and(|s| s.id == session.id)
        {
            sessions.remove(&session.cluster);
            drop(sessions);
            self.bump_epoch(session.cluster);
        }
    }

    fn get(&self, cluster: ClusterId) -> Option<Arc<Session>> {
        lock(&self.inner.sessions).get(&cluster).cloned()
    }

    /// Whether a session is up for `cluster`.
    pub fn is_connected(&self, cluster: ClusterId) -> bool {
        self.get(cluster).is_some()
    }

    /// The last heartbeat of the live session (fresher than the database,
    /// whose writes are throttled); `None` when not connected.
    pub fn last_seen(&self, cluster: ClusterId) -> Option<Timestamp> {
        self.get(cluster).map(|s| s.last_seen())
    }

    /// Closes the cluster's live session, if any, with `code` (e.g.
    /// [`close_code::TOKEN_REVOKED`]). Returns whether one was live.
    pub fn close(&self, cluster: ClusterId, code: u16, reason: &str) -> bool {
        let removed = lock(&self.inner.sessions).remove(&cluster);
        match removed {
            Some(session) => {
                session.close(code, reason);
                self.bump_epoch(cluster);
                true
            }
            None => false,
        }
    }

    /// After a rotation: a live session whose token was the current one
    /// must end when that token retires.
    pub(crate) fn retire_current_token(&self, cluster: ClusterId, at: Timestamp) {
        if let Some(session) = self.get(cluster) {
            session.retires_at.send_if_modified(|r| {
                if r.is_none() {
                    *r = Some(at);
                    true
                } else {
                    false
                }
            });
        }
    }

    /// Sends `request` to the cluster's kube-manager and waits up to
    /// `timeout` for its response (including the wait for a free slot when
    /// kube-manager's `max_concurrent_requests` are in flight). Many
    /// requests may be in flight on one tunnel; each is matched to its
    /// response by a fresh request id.
    pub async fn send_request(
        &self,
        cluster: ClusterId,
        request: Request,
        timeout: Duration,
    ) -> Result<Response, RequestError> {
        let session = self.get(cluster).ok_or(RequestError::NotConnected)?;
        let (tx, rx) = oneshot::channel();
        let mut id = None;
        let exchange = async {
            let _slot = session
                .in_flight
                .acquire()
                .await
                .map_err(|_| RequestError::Disconnected)?;
            let id = *id.insert(lock(&session.pending).insert(tx));
            session
                .outbound
                .send(ServerFrame::Request { id, request })
                .await
                .map_err(|_| RequestError::Disconnected)?;
            match rx.await {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(e)) => Err(RequestError::Tunnel(e)),
                Err(_) => Err(RequestError::Disconnected),
            }
        };
        let result = tokio::time::timeout(timeout, exchange).await;
        if !matches!(result, Ok(Ok(_)))
            && let Some(id) = id
        {
            lock(&session.pending).cancel(id);
        }
        result.unwrap_or(Err(RequestError::Timeout(timeout)))
    }

    /// Queues a frame for the session's writer (heartbeat acks).
    pub(crate) async fn send_frame(session: &Session, frame: ServerFrame) -> bool {
        session.outbound.send(frame).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_newest_session_wins() {
        let registry = TunnelRegistry::default();
        let cluster = ClusterId::new();
        let (first, _rx1) = registry.register(cluster, None, 8);
        let (second, _rx2) = registry.register(cluster, None, 8);
        assert!(first.closed().is_cancelled());
        assert_eq!(first.close_reason().unwrap().0, close_code::REPLACED);
        assert!(!second.closed().is_cancelled());
        // The replaced session unregistering does not remove the new one.
        registry.unregister(&first);
        assert!(registry.is_connected(cluster));
        registry.unregister(&second);
        assert!(!registry.is_connected(cluster));
    }

    #[tokio::test]
    async fn requests_are_matched_by_id_and_fail_without_a_session() {
        let registry = TunnelRegistry::default();
        let cluster = ClusterId::new();
        assert_eq!(
            registry
                .send_request(cluster, Request::Ping, Duration::from_secs(1))
                .await,
            Err(RequestError::NotConnected)
        );
        let (session, mut rx) = registry.register(cluster, None, 8);
        let answer = tokio::spawn(async move {
            // Answer in reverse order of arrival, by what was asked.
            let mut asked = vec![];
            for _ in 0..2 {
                match rx.recv().await.unwrap() {
                    ServerFrame::Request { id, request } => asked.push((id, request)),
                    other => panic!("unexpected {other:?}"),
                }
            }
            for (id, request) in asked.into_iter().rev() {
                let result = match request {
                    Request::Ping => Ok(Response::Pong),
                    _ => Err(TunnelError::not_found("no such thing")),
                };
                assert!(session.complete(id, result));
            }
        });
        let long = Duration::from_secs(60);
        let (a, b) = tokio::join!(
            registry.send_request(cluster, Request::Ping, long),
            registry.send_request(cluster, Request::GetClusterStatus, long),
        );
        answer.await.unwrap();
        assert_eq!(a, Ok(Response::Pong));
        assert!(matches!(b, Err(RequestError::Tunnel(_))), "{b:?}");
    }

    #[tokio::test]
    async fn requests_beyond_the_limit_wait_for_a_slot() {
        let registry = TunnelRegistry::default();
        let cluster = ClusterId::new();
        let (session, mut rx) = registry.register(cluster, None, 1);
        let long = Duration::from_secs(60);
        let first = tokio::spawn({
            let registry = registry.clone();
            async move { registry.send_request(cluster, Request::Ping, long).await }
        });
        let ServerFrame::Request { id, .. } = rx.recv().await.unwrap() else {
            panic!("a request")
        };
        // The second waits for the slot: it times out without being sent.
        let second = registry
            .send_request(cluster, Request::Ping, Duration::from_millis(50))
            .await;
        assert_eq!(
            second,
            Err(RequestError::Timeout(Duration::from_millis(50)))
        );
        assert!(rx.try_recv().is_err(), "nothing sent beyond the limit");
        assert!(session.complete(id, Ok(Response::Pong)));
        assert_eq!(first.await.unwrap(), Ok(Response::Pong));
    }

    #[tokio::test]
    async fn a_closed_session_fails_its_requests() {
        let registry = TunnelRegistry::default();
        let cluster = ClusterId::new();
        let (session, mut rx) = registry.register(cluster, None, 8);
        let ender = tokio::spawn(async move {
            rx.recv().await.unwrap();
            session.fail_pending();
        });
        let result = registry
            .send_request(cluster, Request::Ping, Duration::from_secs(60))
            .await;
        ender.await.unwrap();
        assert_eq!(result, Err(RequestError::Disconnected));
    }
}
