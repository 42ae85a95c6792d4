//! Users, sign-in and the caller's own identity.

use jiff::Timestamp;
use lapdev_domain::{TokenName, UserId, Username};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::organizations::OrganizationMembership;
use crate::tokens::ApiToken;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// `POST /api/v1/auth/login`: exchange a password for a personal API token
/// (what `lapdev login` does). Rate-limited; a wrong username and a wrong
/// password get the same 401.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// Name of the token to create; default `cli`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_name: Option<TokenName>,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("token_name", &self.token_name)
            .finish()
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// The token secret, shown this once.
    pub token: String,
    pub token_info: ApiToken,
    pub user: User,
}

impl std::fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginResponse")
            .field("token", &"<redacted>")
            .field("token_info", &self.token_info)
            .field("user", &self.user)
            .finish()
    }
}

/// `GET /api/v1/me`: who the caller is and where they belong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub user: User,
    pub organizations: Vec<OrganizationMembership>,
}

/// `PUT /api/v1/me/password`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangePassword {
    pub current_password: String,
    /// At least 12 characters.
    pub new_password: String,
}

impl std::fmt::Debug for ChangePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangePassword { <redacted> }")
    }
}
