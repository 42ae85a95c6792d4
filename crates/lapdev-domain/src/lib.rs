//! Pure domain types shared by the Lapdev crates: typed ids, roles and validated
//! names ("parse, don't validate"). No I/O, no async, no framework types.

mod cluster;
mod ids;
mod names;
mod role;

pub use cluster::{ClusterPermission, ClusterPermissions, ClusterRole, ClusterRoles};
pub use ids::{
    ApiTokenId, AuditEventId, CatalogId, ClusterId, ClusterTokenId, OrganizationId, SessionId,
    UserId,
};
pub use names::{CatalogName, ClusterName, NameError, OrganizationName, TokenName, Username};
pub use role::Role;
