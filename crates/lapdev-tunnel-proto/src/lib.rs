//! The tunnel protocol between the Lapdev server and `lapdev-kube-manager`.
//!
//! This crate is the contract between both ends; it is pure (serde only, no
//! I/O) so the server and kube-manager share one definition of every frame.
//!
//! # Transport
//!
//! * kube-manager opens an **outbound** WebSocket over TLS to
//!   `{LAPDEV_SERVER_URL}`[`TUNNEL_PATH`] (`https://` becomes `wss://`).
//! * It authenticates on the HTTP upgrade request with
//!   `Authorization: Bearer <cluster token>` — never in the URL, so proxies
//!   never log it. The server answers **401** for an unknown, revoked or
//!   rotated token (403 for a cluster that may not connect) *before*
//!   upgrading; kube-manager then backs off for longer.
//! * Every frame is one WebSocket **text** message holding one JSON object
//!   with a `"type"` field ([`ClientFrame`], [`ServerFrame`]). Binary
//!   messages are a protocol error. A message is at most [`MAX_FRAME_BYTES`];
//!   [`encode_client_frame`] and friends refuse larger ones and both ends
//!   configure their WebSocket with the same limit.
//!
//! # Session
//!
//! 1. kube-manager sends [`Hello`] (its supported version range, its version
//!    and how many requests it runs at once).
//! 2. The server answers [`Welcome`] (the negotiated version, see
//!    [`VersionRange::negotiate`], the cluster id, heartbeat and status
//!    intervals) or [`Refused`] and closes the socket.
//! 3. Then, concurrently and in any order:
//!    * kube-manager sends a [`Heartbeat`] every
//!      `Welcome::heartbeat_interval_secs`; the server answers each with a
//!      [`HeartbeatAck`] and marks the cluster Offline (and closes with
//!      [`close_code::HEARTBEAT_TIMEOUT`]) after [`HEARTBEAT_MISSES`]
//!      intervals without one. kube-manager reconnects after the same number
//!      of intervals without hearing from the server.
//!    * kube-manager pushes a [`ClusterStatus`] right after the handshake and
//!      every `Welcome::status_interval_secs`.
//!    * The server sends [`ServerFrame::Request`]s, each with a fresh
//!      [`RequestId`]; kube-manager runs them concurrently and answers each
//!      with exactly one [`ClientFrame::Response`] carrying the same id, in
//!      any order. [`Pending`] is the server's bookkeeping for that.
//! 4. Either side may close. When the server revokes the cluster token it
//!    closes with [`close_code::TOKEN_REVOKED`].
//!
//! # Versioning and compatibility
//!
//! [`PROTOCOL_VERSION`] is bumped for changes an older peer would
//! misunderstand. Additive changes keep the version:
//!
//! * new optional fields (`#[serde(default)]`); unknown fields are ignored;
//! * new [`Request`] kinds: an older kube-manager decodes them to
//!   [`DecodeError::UnsupportedRequest`] and replies with an
//!   [`ErrorCode::Unsupported`] error for that request id — the connection
//!   stays up;
//! * new frame types: receivers get [`DecodeError::UnknownFrame`] and ignore
//!   the frame;
//! * new [`ErrorCode`]s decode as [`ErrorCode::Unknown`].
//!
//! kube-manager also checks every request against its own rules: writes only
//! ever go to a [`ManagedNamespace`], whatever the server asks.
//!
//! # Implementing the server end
//!
//! 1. Serve `GET` [`TUNNEL_PATH`] as a WebSocket upgrade. Before upgrading,
//!    read `Authorization: Bearer <token>`, hash it and compare with the
//!    stored hashes in constant time; answer **401** (no upgrade) when it
//!    matches no live token. Never log the header. Set the WebSocket
//!    message and frame limits to [`MAX_FRAME_BYTES`].
//! 2. Expect a [`ClientFrame::Hello`] within a few seconds (else close).
//!    Negotiate with `VersionRange::CURRENT.negotiate(hello.supported)`;
//!    on `None` send [`Refused`] with [`RefusedCode::UnsupportedVersion`] and
//!    `server_supported`, then close. Otherwise send [`Welcome`] and mark the
//!    cluster Active (keep one session per cluster: the newest wins, close
//!    the older with [`close_code::REPLACED`]).
//! 3. Split the socket into a reader and a writer task. The reader answers
//!    each [`Heartbeat`] with a [`HeartbeatAck`] of the same `seq`, records
//!    the time, stores each [`ClusterStatus`], and completes requests from
//!    [`Pending`] on each [`ClientFrame::Response`]. A watchdog marks the
//!    cluster Offline and closes with [`close_code::HEARTBEAT_TIMEOUT`] after
//!    [`HEARTBEAT_MISSES`] × `heartbeat_interval_secs` without a heartbeat;
//!    a closed socket marks it Offline at once.
//! 4. To send a request: `id = pending.insert(oneshot_sender)`, send
//!    [`ServerFrame::Request`], await the answer with a timeout (then
//!    [`Pending::cancel`]). Keep at most `Hello::max_concurrent_requests` in
//!    flight (kube-manager answers the excess [`ErrorCode::Overloaded`]).
//!    When the session ends, [`Pending::drain`] and fail every waiter.
//! 5. Decoding with [`decode_client_frame`]: [`DecodeError::InvalidResponse`]
//!    fails that one request, [`DecodeError::UnknownFrame`] is ignored, and a
//!    fatal error ([`DecodeError::is_fatal`]) closes with
//!    [`close_code::PROTOCOL_ERROR`]. Binary messages are fatal too.
//! 6. When a token is revoked or rotated, close its live session with
//!    [`close_code::TOKEN_REVOKED`].
//! 7. App Catalogs: [`Request::ListWorkloads`], [`Request::SnapshotCatalog`]
//!    and [`Request::RefreshCatalog`] are read-only on the source cluster;
//!    their answers carry manifests as JSON with the Secret policy already
//!    applied in the cluster (see the `catalog` types). A workload that does
//!    not exist fails the whole request with [`ErrorCode::NotFound`] naming
//!    it (`Deployment/shop/api`); nothing partial is returned. Allow them a
//!    generous timeout (kube-manager gives each request 120 s).
//! 8. Environments: send [`Request::ApplyEnvironment`] with the full
//!    desired state and a generation whenever it changes (and again after a
//!    reconnect or a failed answer: it is idempotent); store each pushed
//!    [`ClientFrame::EnvironmentStatus`]. See the `environment` module.
//!
//! ```
//! use lapdev_tunnel_proto::*;
//!
//! // Server side of a handshake, without sockets.
//! let hello = r#"{"type":"hello","supported":[1,1],"kube_manager_version":"0.1.0","max_concurrent_requests":32}"#;
//! let ClientFrame::Hello(hello) = decode_client_frame(hello).unwrap() else { panic!() };
//! let version = VersionRange::CURRENT.negotiate(hello.supported).expect("a common version");
//! let welcome = ServerFrame::Welcome(Welcome {
//!     version,
//!     cluster_id: "0190c6f2-7b1e-7000-8000-000000000001".into(),
//!     cluster_name: "dev".into(),
//!     heartbeat_interval_secs: 15,
//!     status_interval_secs: 60,
//! });
//! let _text = encode_server_frame(&welcome).unwrap();
//!
//! // A request and its answer, matched by id.
//! let mut pending = Pending::new();
//! let id = pending.insert("waiter");
//! let _request = encode_server_frame(&ServerFrame::Request { id, request: Request::Ping }).unwrap();
//! let answer = format!(r#"{{"type":"response","id":{id},"result":{{"ok":{{"kind":"pong"}}}}}}"#);
//! let ClientFrame::Response { id, result } = decode_client_frame(&answer).unwrap() else { panic!() };
//! assert_eq!(pending.complete(id), Some("waiter"));
//! assert_eq!(result, Ok(Response::Pong));
//! ```

mod backoff;
pub mod catalog;
mod codec;
pub mod environment;
mod error;
mod frames;
mod namespace;
mod pending;
mod request;
mod version;

pub use crate::backoff::Backoff;
pub use crate::catalog::{
    CatalogRefresh, CatalogSnapshot, FieldChange, FieldValue, ListWorkloads, MAX_LISTED_WORKLOADS,
    ManifestDiff, ObjectChange, ObjectDiff, ObjectKind, ObjectRef, RefreshCatalog, ResolutionIssue,
    SYSTEM_NAMESPACES, SecretAction, SecretKey, SecretPolicy, SecretRule, Severity,
    SnapshotCatalog, WorkloadDependencies, WorkloadKind, WorkloadList, WorkloadRef,
    WorkloadSummary, is_system_namespace,
};
pub use crate::codec::{
    DecodeError, EncodeError, MAX_FRAME_BYTES, decode_client_frame, decode_server_frame,
    encode_client_frame, encode_server_frame,
};
pub use crate::environment::{
    ApplyEnvironment, EnvironmentApplied, EnvironmentKind, EnvironmentPhase, EnvironmentStatus,
    GetEnvironmentStatus, Identity, ReplicasPolicy, SecretValues, WorkloadStatus,
};
pub use crate::error::{ErrorCode, TunnelError};
pub use crate::frames::{
    ClientFrame, Heartbeat, HeartbeatAck, Hello, Refused, RefusedCode, RequestId, ServerFrame,
    Welcome,
};
pub use crate::namespace::{MANAGED_LABEL, MANAGED_LABEL_VALUE, ManagedNamespace, NamespaceError};
pub use crate::pending::Pending;
pub use crate::request::{ClusterStatus, Request, Response};
pub use crate::version::{MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, VersionRange};

/// The path of the tunnel endpoint on the Lapdev server.
pub const TUNNEL_PATH: &str = "/api/v1/tunnel";

/// How many heartbeat intervals without a heartbeat (server side) or without
/// any frame from the server (kube-manager side) end a session.
pub const HEARTBEAT_MISSES: u32 = 3;

/// WebSocket close codes (RFC 6455 private range 4000–4999) used by the
/// tunnel, so the peer can tell why a session ended.
pub mod close_code {
    /// The cluster token was revoked or rotated: kube-manager logs it and
    /// backs off like for a 401 on upgrade.
    pub const TOKEN_REVOKED: u16 = 4001;
    /// No heartbeat for [`HEARTBEAT_MISSES`](crate::HEARTBEAT_MISSES) intervals.
    pub const HEARTBEAT_TIMEOUT: u16 = 4002;
    /// Another kube-manager connected with the same token; the newest wins.
    pub const REPLACED: u16 = 4003;
    /// The peer broke the protocol (bad frame, binary message, second Hello).
    pub const PROTOCOL_ERROR: u16 = 4004;
}
