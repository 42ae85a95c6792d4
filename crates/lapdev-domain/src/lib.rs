//! Pure domain types shared by the Lapdev crates: typed ids, roles and validated
//! names ("parse, don't validate"). No I/O, no async, no framework types.

mod cluster;
mod environment;
mod ids;
mod names;
mod role;

pub use cluster::{ClusterPermission, ClusterPermissions, ClusterRole, ClusterRoles};
pub use environment::{DesiredState, EnvironmentKind};
pub use ids::{
    ApiTokenId, AuditEventId, CatalogId, ClusterId, ClusterTokenId, EnvironmentId, OrganizationId,
    SessionId, UserId,
};
pub use names::{
    CatalogName, ClusterName, ENVIRONMENT_NAME_MAX, EnvironmentName, NameError, OrganizationName,
    TokenName, Username,
};
pub use role::Role;
