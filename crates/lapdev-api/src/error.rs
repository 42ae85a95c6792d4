//! The one error body every failing API call returns.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Machine-readable error class. The HTTP status follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the request could not be read (malformed JSON, bad query).
    BadRequest,
    /// 401: no credentials, or credentials that are wrong, expired or revoked.
    Unauthenticated,
    /// 403: signed in, but not allowed to do this.
    Forbidden,
    /// 404: no such object (or not visible to the caller).
    NotFound,
    /// 409: conflicts with the current state (duplicate name, last admin, ...).
    Conflict,
    /// 413: the body is larger than the limit.
    PayloadTooLarge,
    /// 415: the body is not JSON.
    UnsupportedMediaType,
    /// 422: a field is invalid; `field` names it.
    Invalid,
    /// 429: too many attempts; retry later.
    RateLimited,
    /// 500: a fault on the server; details are in the server log, not here.
    Internal,
    /// 503: a dependency (e.g. the database) is unavailable.
    Unavailable,
}

impl ErrorCode {
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::Invalid => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }
}

/// `{"code": "...", "message": "...", "field": "..."}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// A sentence for humans: what was wrong and, where possible, what to do.
    pub message: String,
    /// The request field at fault, for `invalid` errors; `org` on a 404 for
    /// an organization that does not exist or that the caller is not in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}
