//! The frames of a tunnel session: what kube-manager sends
//! ([`ClientFrame`]) and what the server sends ([`ServerFrame`]), including
//! the handshake and heartbeats.

use serde::{Deserialize, Serialize};

use crate::environment::EnvironmentStatus;
use crate::error::TunnelError;
use crate::request::{ClusterStatus, Request, Response};
use crate::version::VersionRange;

/// Identifies one request within a session. The server allocates ids (see
/// [`Pending`](crate::Pending)); kube-manager echoes them in the response.
/// Ids are never reused within a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(pub u64);

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A frame kube-manager sends to the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// First frame of every session.
    Hello(Hello),
    /// Liveness, every `Welcome::heartbeat_interval_secs`.
    Heartbeat(Heartbeat),
    /// Facts about the cluster, pushed after the handshake and every
    /// `Welcome::status_interval_secs`.
    Status(ClusterStatus),
    /// An environment's status changed (watch-driven; the server may also
    /// ask with `get_environment_status`). Added without a version bump:
    /// older servers ignore unknown frame types.
    EnvironmentStatus(EnvironmentStatus),
    /// The one answer to the server's request `id`.
    Response {
        id: RequestId,
        #[serde(with = "outcome")]
        result: Result<Response, TunnelError>,
    },
}

/// A frame the server sends to kube-manager.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The handshake succeeded.
    Welcome(Welcome),
    /// The handshake failed; the server closes the socket after this.
    Refused(Refused),
    /// Answers the [`Heartbeat`] with the same `seq`.
    HeartbeatAck(HeartbeatAck),
    /// Work for kube-manager, answered by [`ClientFrame::Response`] with the same id.
    Request { id: RequestId, request: Request },
}

impl ServerFrame {
    /// The wire name of each frame type (the `"type"` field).
    pub const TYPES: &'static [&'static str] = &["welcome", "refused", "heartbeat_ack", "request"];
}

impl ClientFrame {
    /// The wire name of each frame type (the `"type"` field).
    pub const TYPES: &'static [&'static str] = &[
        "hello",
        "heartbeat",
        "status",
        "environment_status",
        "response",
    ];
}

/// kube-manager's opening frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    /// The protocol versions this kube-manager speaks.
    pub supported: VersionRange,
    /// kube-manager's own version (its crate version), for display.
    pub kube_manager_version: String,
    /// How many requests kube-manager runs at once; beyond that it answers
    /// [`ErrorCode::Overloaded`](crate::ErrorCode::Overloaded).
    pub max_concurrent_requests: u32,
}

/// The server's answer to a [`Hello`] it accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    /// The negotiated version: the highest in both ranges.
    pub version: u32,
    /// The cluster the token belongs to (opaque to kube-manager; for logs).
    pub cluster_id: String,
    /// The cluster's display name (for logs).
    #[serde(default)]
    pub cluster_name: String,
    /// How often kube-manager sends a [`Heartbeat`] (at least 1).
    pub heartbeat_interval_secs: u32,
    /// How often kube-manager pushes a [`ClusterStatus`] (at least 1).
    pub status_interval_secs: u32,
}

/// The server's answer to a [`Hello`] it refuses; the socket closes next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refused {
    pub code: RefusedCode,
    /// For humans; logged by kube-manager.
    pub message: String,
    /// The server's own range, so the log can say which side to upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_supported: Option<VersionRange>,
}

/// Why a handshake was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusedCode {
    /// No protocol version in common.
    UnsupportedVersion,
    /// The first frame was not a valid [`Hello`].
    InvalidHello,
    /// Anything else (a newer server's reason decodes to this too).
    #[serde(other)]
    Other,
}

/// Liveness from kube-manager.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Starts at 1 in each session and increases by one.
    pub seq: u64,
    /// kube-manager's clock, Unix milliseconds (informational).
    pub sent_at_unix_ms: u64,
}

/// The server's answer to a [`Heartbeat`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeartbeatAck {
    pub seq: u64,
}

/// `result` on the wire: `{"ok": <Response>}` or `{"error": <TunnelError>}`.
mod outcome {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::error::TunnelError;
    use crate::request::Response;

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Ref<'a> {
        Ok(&'a Response),
        Error(&'a TunnelError),
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Owned {
        Ok(Response),
        Error(TunnelError),
    }

    pub(super) fn serialize<S: Serializer>(
        v: &Result<Response, TunnelError>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Ok(r) => Ref::Ok(r),
            Err(e) => Ref::Error(e),
        }
        .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Result<Response, TunnelError>, D::Error> {
        Ok(match Owned::deserialize(d)? {
            Owned::Ok(r) => Ok(r),
            Owned::Error(e) => Err(e),
        })
    }
}
