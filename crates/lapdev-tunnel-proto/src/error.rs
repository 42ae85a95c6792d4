//! The typed error kube-manager answers a request with.

use serde::{Deserialize, Serialize};

/// Why a request failed. On the wire: `{"code": "...", ..., "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct TunnelError {
    #[serde(flatten)]
    pub code: ErrorCode,
    /// For humans: what was wrong and, where possible, what to do.
    pub message: String,
}

/// The machine-readable part of a [`TunnelError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum ErrorCode {
    /// kube-manager's own rules refuse it (e.g. a write outside a
    /// Lapdev-managed namespace), whatever the server asked.
    Forbidden,
    /// The object does not exist.
    NotFound,
    /// The request is malformed (bad parameters for a known kind).
    Invalid,
    /// This kube-manager does not know the request kind (it is older than
    /// the server): upgrade kube-manager.
    Unsupported,
    /// The Kubernetes API answered with this HTTP status.
    Kubernetes { status: u16 },
    /// kube-manager already runs `Hello::max_concurrent_requests` requests.
    Overloaded,
    /// The request did not finish in time.
    Timeout,
    /// Anything else on kube-manager's side.
    Internal,
    /// A code from a newer peer.
    #[serde(other)]
    Unknown,
}

impl TunnelError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        TunnelError {
            code,
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
}
