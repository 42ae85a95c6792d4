//! Extractors of the API: the authenticated [`Caller`], a JSON body whose
//! errors become the API's error body ([`ApiJson`]), query strings
//! ([`ApiQuery`]) and the client's IP ([`ClientIp`]).

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Query, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use lapdev_api::{ApiTokenId, ErrorCode};
use serde::de::DeserializeOwned;

use crate::auth::{AuthUser, tokens};
use crate::error::ApiError;
use crate::state::AppState;

/// The signed-in caller of an API endpoint, from `Authorization: Bearer`.
/// Anonymous requests and bad tokens are refused with 401 here; what the
/// caller may do is decided by `authz`.
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub(crate) AuthUser);

/// The caller and the id of the token the request carries (for
/// `DELETE /tokens/current`).
#[derive(Debug, Clone)]
pub(crate) struct CallerToken(pub(crate) AuthUser, pub(crate) ApiTokenId);

/// The secret of an `Authorization: Bearer <secret>` value, if it is one.
pub(crate) fn bearer_secret(value: &HeaderValue) -> Option<&str> {
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The secret of `Authorization: Bearer <secret>`; a missing or malformed
/// header is a 401 with a message saying so.
pub(crate) fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Err(ApiError::unauthenticated());
    };
    bearer_secret(value).ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unauthenticated,
            "the Authorization header must be `Bearer <token>`",
        )
    })
}

impl FromRequestParts<AppState> for CallerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        match tokens::authenticate(state, token).await {
            Ok((user, id)) => Ok(CallerToken(user, id)),
            Err(crate::app::AppError::Unauthenticated) => Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "the token is unknown, expired or revoked; sign in again (`lapdev login`)",
            )),
            Err(e) => Err(e.into()),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        CallerToken::from_request_parts(parts, state)
            .await
            .map(|CallerToken(user, _)| Caller(user))
    }
}

/// The client's address, when the server was started with connect info.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// A JSON request body. Not JSON → 415; too large → 413; unreadable → 400;
/// a field that fails validation (including validated newtypes) → 422
/// naming the field.
#[derive(Debug, Clone)]
pub(crate) struct ApiJson<T>(pub(crate) T);

fn is_json(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or_default().trim();
    mime.eq_ignore_ascii_case("application/json")
        || (mime.starts_with("application/") && mime.ends_with("+json"))
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !is_json(content_type) {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "the body must be JSON: send `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    format!(
                        "the body is larger than {} bytes",
                        lapdev_api::MAX_BODY_BYTES
                    ),
                )
            } else {
                ApiError::bad_request("the body could not be read")
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Drops serde_json's " at line L column C" suffix.
fn without_position(message: &str) -> &str {
    message
        .find(" at line ")
        .map_or(message, |at| &message[..at])
}

pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => value,
        Err(e) => {
            let inner = e.inner();
            let message = without_position(&inner.to_string()).to_string();
            return Err(match inner.classify() {
                serde_json::error::Category::Data => {
                    let mut field = e.path().to_string();
                    if let Some(missing) = message
                        .strip_prefix("missing field `")
                        .and_then(|m| m.strip_suffix('`'))
                    {
                        field = if field == "." {
                            missing.to_string()
                        } else {
                            format!("{field}.{missing}")
                        };
                    }
                    ApiError::invalid(field, message)
                }
                _ => ApiError::bad_request(format!("malformed JSON: {message}")),
            });
        }
    };
    de.end()
        .map_err(|_| ApiError::bad_request("malformed JSON: trailing characters"))?;
    Ok(value)
}

/// A query string; unreadable ones are 400 with the error body.
#[derive(Debug, Clone)]
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| ApiError::bad_request(format!("invalid query string: {}", e.body_text())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapdev_api::CreateOrganization;

    #[track_caller]
    fn check(body: &str, expect: &str) {
        let got = match parse_json::<CreateOrganization>(body.as_bytes()) {
            Ok(v) => format!("ok {}", v.name),
            Err(e) => format!(
                "{} {:?} {}",
                e.code.http_status(),
                e.field.unwrap_or_default(),
                e.message
            ),
        };
        assert_eq!(got, expect);
    }

    #[test]
    fn json_errors_are_classified() {
        check(r#"{"name":"acme"}"#, "ok acme");
        check(
            r#"{"name":"Acme"}"#,
            r#"422 "name" invalid organization name: 'A' is not allowed (use lowercase letters, digits and '-')"#,
        );
        check("{}", r#"422 "name" missing field `name`"#);
        check(
            r#"{"name":1}"#,
            r#"422 "name" invalid type: integer `1`, expected a string"#,
        );
        check(
            r#"{"name":"#,
            r#"400 "" malformed JSON: EOF while parsing a value"#,
        );
        check(
            r#"{"name":"a"} x"#,
            r#"400 "" malformed JSON: trailing characters"#,
        );
        check("nope", r#"400 "" malformed JSON: expected ident"#);
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json(""));
    }
}
