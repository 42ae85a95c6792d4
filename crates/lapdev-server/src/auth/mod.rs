//! Authentication: password hashing, API tokens, dashboard sessions with CSRF
//! protection, and the sign-in rate limit. Reusable by the API handlers and
//! the dashboard pages.
//!
//! For the dashboard: [`SessionUser`] is the extractor of a signed-in user
//! (it redirects to `/login` when there is none; use `Option<SessionUser>` to
//! handle that yourself); [`login_with_password`], [`logout`],
//! [`csrf_token`], [`verify_csrf`] and [`verify_origin`] do the rest.

pub(crate) mod cluster_tokens;
pub(crate) mod passwords;
pub(crate) mod random;
pub(crate) mod rate_limit;
pub mod sessions;
pub(crate) mod tokens;

pub use sessions::{
    CsrfError, LoginSession, SessionRejection, SessionUser, csrf_token, login_with_password,
    logout, session_cookie_name, verify_csrf, verify_origin,
};

use lapdev_domain::{UserId, Username};

/// A signed-in user, however they proved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    pub id: UserId,
    pub username: Username,
}

impl AuthUser {
    pub(crate) fn actor(&self) -> lapdev_db::Actor {
        lapdev_db::Actor {
            id: self.id,
            username: self.username.clone(),
        }
    }
}

impl From<lapdev_db::UserRecord> for AuthUser {
    fn from(u: lapdev_db::UserRecord) -> Self {
        AuthUser {
            id: u.id,
            username: u.username,
        }
    }
}
