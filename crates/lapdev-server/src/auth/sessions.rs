//! Dashboard sessions: a random secret in an HttpOnly, SameSite=Lax cookie
//! (Secure and `__Host-` prefixed when the external URL is https), its hash
//! in the database with a per-session CSRF token (synchronizer token), and an
//! Origin check on every form post.

use std::net::IpAddr;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::header::{COOKIE, HOST, ORIGIN, REFERER};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::{SignedDuration, Timestamp};
use lapdev_domain::{SessionId, UserId, Username};
use subtle::ConstantTimeEq;

use crate::app::{AppError, AppResult};
use crate::error::ApiError;
use crate::state::AppState;

/// How long a dashboard session lasts.
pub const SESSION_LIFETIME: SignedDuration = SignedDuration::from_hours(12);

/// The cookie's name: `__Host-lapdev_session` when cookies are Secure.
pub fn session_cookie_name(state: &AppState) -> &'static str {
    if state.settings().secure_cookies {
        "__Host-lapdev_session"
    } else {
        "lapdev_session"
    }
}

/// A signed-in dashboard user. As an extractor it redirects to `/login` when
/// there is no valid session; `Option<SessionUser>` never rejects.
#[derive(Clone)]
pub struct SessionUser {
    pub id: UserId,
    pub username: Username,
    pub session_id: SessionId,
    csrf_token: String,
}

impl std::fmt::Debug for SessionUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionUser")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

impl SessionUser {
    pub fn auth_user(&self) -> super::AuthUser {
        super::AuthUser {
            id: self.id,
            username: self.username.clone(),
        }
    }
}

/// The session's CSRF token, to put in a hidden `csrf_token` form field.
pub fn csrf_token(user: &SessionUser) -> &str {
    &user.csrf_token
}

/// Why a session could not be read.
#[derive(Debug)]
pub enum SessionRejection {
    /// No valid session: redirect to the sign-in page.
    SignInRequired,
    /// The datastore failed.
    Internal(ApiError),
}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        match self {
            SessionRejection::SignInRequired => Redirect::to("/login").into_response(),
            SessionRejection::Internal(e) => e.into_response(),
        }
    }
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub(crate) fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

async fn load(parts: &Parts, state: &AppState) -> Result<Option<SessionUser>, ApiError> {
    let Some(secret) = cookie_value(&parts.headers, session_cookie_name(state)) else {
        return Ok(None);
    };
    let hash = super::random::sha256_hex(secret);
    let found = state
        .db()
        .session_by_hash(&hash, Timestamp::now())
        .await
        .map_err(|e| ApiError::from(AppError::from(e)))?;
    Ok(found.map(|s| SessionUser {
        id: s.user.id,
        username: s.user.username,
        session_id: s.id,
        csrf_token: s.csrf_token,
    }))
}

impl FromRequestParts<AppState> for SessionUser {
    type Rejection = SessionRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        load(parts, state)
            .await
            .map_err(SessionRejection::Internal)?
            .ok_or(SessionRejection::SignInRequired)
    }
}

impl OptionalFromRequestParts<AppState> for SessionUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        load(parts, state).await
    }
}

/// A new session: the user and the `Set-Cookie` value to send.
#[derive(Debug)]
pub struct LoginSession {
    pub user: SessionUser,
    pub set_cookie: HeaderValue,
}

fn cookie(state: &AppState, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if state.settings().secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let name = session_cookie_name(state);
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    ))
    .expect("cookie values are base64url")
}

/// Checks the password (rate-limited, like the API sign-in) and opens a
/// session. Errors: `WrongCredentials` (401), `RateLimited` (429).
pub async fn login_with_password(
    state: &AppState,
    username: &str,
    password: &str,
    client_ip: Option<IpAddr>,
) -> Result<LoginSession, AppError> {
    let user = super::passwords::authenticate(state, username, password, client_ip).await?;
    let secret = super::random::secret();
    let session = lapdev_db::NewSession {
        id: SessionId::new(),
        user_id: user.id,
        secret_hash: super::random::sha256_hex(&secret),
        csrf_token: super::random::secret(),
        expires_at: Timestamp::now() + SESSION_LIFETIME,
    };
    state.db().session_create(&session).await?;
    Ok(LoginSession {
        set_cookie: cookie(state, &secret, SESSION_LIFETIME.as_secs()),
        user: SessionUser {
            id: user.id,
            username: user.username,
            session_id: session.id,
            csrf_token: session.csrf_token,
        },
    })
}

/// Ends the session; returns the `Set-Cookie` value that clears the cookie.
pub async fn logout(state: &AppState, user: &SessionUser) -> AppResult<HeaderValue> {
    state.db().session_delete(user.session_id).await?;
    Ok(cookie(state, "", 0))
}

/// Why a form post was refused (answer 403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsrfError {
    #[error("the request's Origin does not match this server")]
    Origin,
    #[error("the form's CSRF token is missing or wrong; reload the page and try again")]
    Token,
}

impl IntoResponse for CsrfError {
    fn into_response(self) -> Response {
        ApiError::new(lapdev_api::ErrorCode::Forbidden, self.to_string()).into_response()
    }
}

/// The Origin check, also for posts without a session (the sign-in form):
/// `Origin` (or, failing that, `Referer`) must be this server — the external
/// URL when configured, else the `Host` the request was sent to.
pub fn verify_origin(state: &AppState, headers: &HeaderMap) -> Result<(), CsrfError> {
    let expected: Vec<String> = match &state.settings().external_origin {
        Some(origin) => vec![origin.clone()],
        None => {
            let host = headers
                .get(HOST)
                .and_then(|h| h.to_str().ok())
                .ok_or(CsrfError::Origin)?;
            vec![format!("http://{host}"), format!("https://{host}")]
        }
    };
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    let ok = match origin {
        Some(origin) => expected.iter().any(|e| e == origin),
        None => headers
            .get(REFERER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|referer| {
                expected.iter().any(|e| {
                    referer
                        .strip_prefix(e.as_str())
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
                })
            }),
    };
    if ok { Ok(()) } else { Err(CsrfError::Origin) }
}

/// The full check of a form post by a signed-in user: Origin, then the
/// submitted token against the session's, in constant time.
pub fn verify_csrf(
    state: &AppState,
    user: &SessionUser,
    headers: &HeaderMap,
    submitted: &str,
) -> Result<(), CsrfError> {
    verify_origin(state, headers)?;
    let expected = user.csrf_token.as_bytes();
    if expected.ct_eq(submitted.as_bytes()).into() {
        Ok(())
    } else {
        Err(CsrfError::Token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=1; lapdev_session=xyz; b=2"),
        );
        assert_eq!(cookie_value(&h, "lapdev_session"), Some("xyz"));
        assert_eq!(cookie_value(&h, "__Host-lapdev_session"), None);
    }
}
