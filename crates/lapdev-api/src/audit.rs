//! The audit log: who did what, when, to which object.

use jiff::Timestamp;
use lapdev_domain::{AuditEventId, UserId, Username};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditActor {
    pub user_id: UserId,
    pub username: Username,
}

/// `GET /api/v1/orgs/{org}/audit` (admins), newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    pub id: AuditEventId,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// Absent for actions of the system itself (e.g. first start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<AuditActor>,
    /// Dotted verb, e.g. `member.add`, `member.set_role`, `token.revoke`.
    pub action: String,
    /// Kind of the object acted on, e.g. `user`, `organization`, `api_token`.
    pub object_kind: String,
    pub object_id: String,
    /// A readable name of the object at the time of the action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_name: Option<String>,
    /// Action-specific facts (never secrets), e.g. `{"from":"member","to":"admin"}`.
    #[serde(default)]
    pub details: serde_json::Value,
}
