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

mod backoff;
mod codec;
mod error;
mod frames;
mod namespace;
mod pending;
mod request;
mod version;

pub use crate::backoff::Backoff;
pub use crate::codec::{
    DecodeError, EncodeError, MAX_FRAME_BYTES, decode_client_frame, decode_server_frame,
    encode_client_frame, encode_server_frame,
};
pub use crate::error::{ErrorCode, TunnelError};
pub use crate::frames::{
    ClientFrame, Heartbeat, HeartbeatAck, Hello, Refused, RefusedCode, RequestId, ServerFrame,
    Welcome,
};
pub use crate::namespace::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, ManagedNamespace, NamespaceError};
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
