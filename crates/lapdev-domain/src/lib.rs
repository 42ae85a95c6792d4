//! Pure domain types shared by the Lapdev crates: typed ids, roles and validated
//! names ("parse, don't validate"). No I/O, no async, no framework types.

mod ids;
mod names;
mod role;

pub use ids::{ApiTokenId, AuditEventId, OrganizationId, SessionId, UserId};
pub use names::{NameError, OrganizationName, TokenName, Username};
pub use role::Role;
