//! The one HTTP error type. Every failing request answers with
//! [`lapdev_api::ErrorBody`]; internal detail goes to the log, never into
//! the response.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lapdev_api::{ErrorBody, ErrorCode};

use crate::app::AppError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            code: ErrorCode::Invalid,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorCode::Unauthenticated,
            "sign in first: send `Authorization: Bearer <token>` (see `lapdev login`)",
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn internal() -> Self {
        Self::new(
            ErrorCode::Internal,
            "internal server error; the server log has the details",
        )
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code,
            message: self.message.clone(),
            field: self.field.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            // `field: "org"` lets clients tell an unknown (or invisible)
            // organization from an unknown object inside one.
            AppError::NotFound("organization") => ApiError {
                field: Some("org".into()),
                ..ApiError::not_found("organization")
            },
            AppError::NotFound(what) => ApiError::not_found(what),
            AppError::Forbidden(why) => ApiError::new(ErrorCode::Forbidden, why),
            AppError::Unauthenticated => ApiError::unauthenticated(),
            AppError::WrongCredentials => {
                ApiError::new(ErrorCode::Unauthenticated, "wrong username or password")
            }
            AppError::Conflict(message) => ApiError::new(ErrorCode::Conflict, message),
            AppError::Missing(message) => ApiError::new(ErrorCode::NotFound, message),
            AppError::ClusterUnavailable(message) => ApiError::new(ErrorCode::Unavailable, message),
            AppError::Invalid { field, message } => ApiError::invalid(field, message),
            AppError::RateLimited => ApiError::new(
                ErrorCode::RateLimited,
                "too many failed sign-in attempts; wait a few minutes and try again",
            ),
            AppError::Unavailable => {
                ApiError::new(ErrorCode::Unavailable, "the database is unavailable")
            }
            AppError::Internal(source) => {
                tracing::error!(error = %crate::error::Chain(&*source), "request failed");
                ApiError::internal()
            }
        }
    }
}

/// Displays an error with its sources, `a: b: c`, for the log.
pub(crate) struct Chain<'a>(pub(crate) &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}
