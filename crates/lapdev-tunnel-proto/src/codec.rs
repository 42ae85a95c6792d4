//! Encoding frames to JSON text and decoding them back, with the frame size
//! limit and typed decode errors that tell the receiver what to do.

use serde_json::Value;

use crate::error::{ErrorCode, TunnelError};
use crate::frames::{ClientFrame, RequestId, ServerFrame};
use crate::request::Request;

/// The largest frame (one WebSocket text message) either side sends or
/// accepts: 16 MiB. Large enough for the manifests of a big App Catalog,
/// small enough that a broken peer cannot exhaust memory. Both ends also set
/// their WebSocket message and frame limits to this.
pub const MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;

/// A frame could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("the frame is {len} bytes, over the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("the frame could not be serialized: {0}")]
    Serialize(String),
}

/// A received text frame could not be decoded. The variant says what the
/// receiver should do; see [`DecodeError::is_fatal`] and
/// [`DecodeError::error_reply`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Over [`MAX_FRAME_BYTES`]. Fatal: close with
    /// [`close_code::PROTOCOL_ERROR`](crate::close_code::PROTOCOL_ERROR).
    #[error("the frame is {len} bytes, over the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    /// Not a JSON object with a string `"type"`. Fatal.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// A frame type this build does not know (sent by a newer peer).
    /// Not fatal: ignore the frame.
    #[error("unknown frame type {frame_type:?}")]
    UnknownFrame { frame_type: String },
    /// A known frame type with a body that does not match it. Fatal.
    #[error("invalid {frame_type:?} frame: {message}")]
    InvalidFrame { frame_type: String, message: String },
    /// A request of a kind this kube-manager does not know. Not fatal:
    /// answer `id` with [`ErrorCode::Unsupported`].
    #[error("request {id}: unsupported request kind {kind:?}")]
    UnsupportedRequest { id: RequestId, kind: String },
    /// A request of a known kind with invalid parameters. Not fatal: answer
    /// `id` with [`ErrorCode::Invalid`].
    #[error("request {id}: invalid {kind:?} request: {message}")]
    InvalidRequest {
        id: RequestId,
        kind: String,
        message: String,
    },
    /// A response the server cannot decode (e.g. a newer response shape).
    /// Not fatal: fail the pending request `id`.
    #[error("response to request {id} could not be decoded: {message}")]
    InvalidResponse { id: RequestId, message: String },
}

impl DecodeError {
    /// Whether the session should be closed with
    /// [`close_code::PROTOCOL_ERROR`](crate::close_code::PROTOCOL_ERROR).
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            DecodeError::TooLarge { .. }
                | DecodeError::Malformed(_)
                | DecodeError::InvalidFrame { .. }
        )
    }

    /// For a request that could not be decoded, the error kube-manager
    /// answers it with.
    pub fn error_reply(&self) -> Option<(RequestId, TunnelError)> {
        match self {
            DecodeError::UnsupportedRequest { id, kind } => Some((
                *id,
                TunnelError::new(
                    ErrorCode::Unsupported,
                    format!(
                        "this kube-manager does not support {kind:?} requests; upgrade lapdev-kube-manager"
                    ),
                ),
            )),
            DecodeError::InvalidRequest { id, kind, message } => Some((
                *id,
                TunnelError::invalid(format!("invalid {kind:?} request: {message}")),
            )),
            _ => None,
        }
    }
}

fn encode<T: serde::Serialize>(frame: &T) -> Result<String, EncodeError> {
    let text = serde_json::to_string(frame).map_err(|e| EncodeError::Serialize(e.to_string()))?;
    if text.len() > MAX_FRAME_BYTES {
        return Err(EncodeError::TooLarge {
            len: text.len(),
            max: MAX_FRAME_BYTES,
        });
    }
    Ok(text)
}

/// Encodes a frame kube-manager sends.
pub fn encode_client_frame(frame: &ClientFrame) -> Result<String, EncodeError> {
    encode(frame)
}

/// Encodes a frame the server sends.
pub fn encode_server_frame(frame: &ServerFrame) -> Result<String, EncodeError> {
    encode(frame)
}

/// Parses the outer object and returns it with its `"type"`, or the frame
/// type's error.
fn outer(text: &str, known: &[&str]) -> Result<(Value, String), DecodeError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(DecodeError::TooLarge {
            len: text.len(),
            max: MAX_FRAME_BYTES,
        });
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    let Some(frame_type) = value.get("type").and_then(Value::as_str) else {
        return Err(DecodeError::Malformed(
            "expected a JSON object with a string \"type\"".into(),
        ));
    };
    let frame_type = frame_type.to_string();
    if !known.contains(&frame_type.as_str()) {
        return Err(DecodeError::UnknownFrame { frame_type });
    }
    Ok((value, frame_type))
}

fn request_id(value: &Value) -> Option<RequestId> {
    value.get("id").and_then(Value::as_u64).map(RequestId)
}

/// Decodes a frame the server sent (kube-manager's side).
pub fn decode_server_frame(text: &str) -> Result<ServerFrame, DecodeError> {
    let (value, frame_type) = outer(text, ServerFrame::TYPES)?;
    // Remember what is needed to answer a bad request before the value moves.
    let request_info = (frame_type == "request")
        .then(|| request_id(&value).map(|id| (id, value.get("request").cloned())))
        .flatten();
    serde_json::from_value(value).map_err(|e| match request_info {
        Some((id, request)) => {
            let kind = request
                .as_ref()
                .and_then(|r| r.get("kind"))
                .and_then(Value::as_str)
                .map(str::to_string);
            match kind {
                Some(kind) if !Request::KINDS.contains(&kind.as_str()) => {
                    DecodeError::UnsupportedRequest { id, kind }
                }
                kind => DecodeError::InvalidRequest {
                    id,
                    kind: kind.unwrap_or_default(),
                    message: e.to_string(),
                },
            }
        }
        None => DecodeError::InvalidFrame {
            frame_type,
            message: e.to_string(),
        },
    })
}

/// Decodes a frame kube-manager sent (the server's side).
pub fn decode_client_frame(text: &str) -> Result<ClientFrame, DecodeError> {
    let (value, frame_type) = outer(text, ClientFrame::TYPES)?;
    let response_id = (frame_type == "response")
        .then(|| request_id(&value))
        .flatten();
    serde_json::from_value(value).map_err(|e| match response_id {
        Some(id) => DecodeError::InvalidResponse {
            id,
            message: e.to_string(),
        },
        None => DecodeError::InvalidFrame {
            frame_type,
            message: e.to_string(),
        },
    })
}
