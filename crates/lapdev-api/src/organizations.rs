//! Organizations and their members.

use jiff::Timestamp;
use lapdev_domain::{OrganizationId, OrganizationName, Role, Username};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::User;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: OrganizationName,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// An organization together with the caller's role in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrganizationMembership {
    pub organization: Organization,
    pub role: Role,
}

/// `POST /api/v1/orgs`: any signed-in user may create an organization and
/// becomes its first admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreateOrganization {
    pub name: OrganizationName,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Member {
    pub user: User,
    pub role: Role,
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: Timestamp,
}

/// `POST /api/v1/orgs/{org}/members` (admins). Adds an existing user, or
/// creates the user first. A new user gets `password` or, when it is absent, a
/// generated one returned once in `initial_password`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AddMember {
    pub username: Username,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

impl std::fmt::Debug for AddMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddMember")
            .field("username", &self.username)
            .field("role", &self.role)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AddedMember {
    pub member: Member,
    /// Set only when the user was created here without a given password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_password: Option<String>,
}

impl std::fmt::Debug for AddedMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddedMember")
            .field("member", &self.member)
            .field(
                "initial_password",
                &self.initial_password.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// `PATCH /api/v1/orgs/{org}/members/{user_id}` (admins). Demoting or
/// removing the last admin is refused with 409.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UpdateMember {
    pub role: Role,
}
