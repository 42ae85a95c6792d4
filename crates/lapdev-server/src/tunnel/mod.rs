//! The server end of the kube-manager tunnel (protocol:
//! `lapdev-tunnel-proto`). The server never connects to a cluster: each
//! cluster's kube-manager opens an outbound WebSocket to
//! [`TUNNEL_PATH`](lapdev_tunnel_proto::TUNNEL_PATH), authenticated with the
//! cluster token *before* the upgrade ([`endpoint`]); the session
//! ([`connection`]) starts with the handshake ([`handshake`]) and is kept in
//! the [`TunnelRegistry`], through which the rest of the server sends
//! requests to the cluster.
//!
//! Liveness: kube-manager sends a heartbeat every `heartbeat_interval`; a
//! session that receives nothing for
//! [`HEARTBEAT_MISSES`](lapdev_tunnel_proto::HEARTBEAT_MISSES) intervals is
//! closed, and the cluster shows **Offline** from then on (also when the
//! last heartbeat is older than that, see [`TunnelSettings::offline_after`]).

pub(crate) mod connection;
pub(crate) mod endpoint;
pub(crate) mod handshake;
pub(crate) mod registry;

use std::time::Duration;

pub use registry::{RequestError, TunnelRegistry};

/// Timing of tunnel sessions, from the server configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelSettings {
    /// How often kube-manager sends a heartbeat (told in `Welcome`).
    pub heartbeat_interval: Duration,
    /// How often kube-manager pushes its status (told in `Welcome`).
    pub status_interval: Duration,
}

impl Default for TunnelSettings {
    fn default() -> Self {
        TunnelSettings {
            heartbeat_interval: Duration::from_secs(10),
            status_interval: Duration::from_secs(60),
        }
    }
}

impl TunnelSettings {
    /// No heartbeat for this long: the session is closed and the cluster
    /// is Offline. `HEARTBEAT_MISSES` (3) × the heartbeat interval.
    pub fn offline_after(&self) -> Duration {
        self.heartbeat_interval * lapdev_tunnel_proto::HEARTBEAT_MISSES
    }
}
