//! Typed identifiers. Each wraps a UUIDv7 (time-ordered, so ids sort by creation
//! and can serve as pagination cursors) and cannot be confused with another kind.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = "uuid"))]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

define_id!(
    /// An organization (the tenant).
    OrganizationId
);
define_id!(
    /// A user account.
    UserId
);
define_id!(
    /// A personal API token (its id, never its secret).
    ApiTokenId
);
define_id!(
    /// A dashboard login session (its id, never its cookie secret).
    SessionId
);
define_id!(
    /// One entry of the audit log.
    AuditEventId
);
define_id!(
    /// A connected Kubernetes cluster.
    ClusterId
);
define_id!(
    /// A cluster token (its id, never its secret).
    ClusterTokenId
);
define_id!(
    /// An App Catalog.
    CatalogId
);
define_id!(
    /// A Personal or Shared environment.
    EnvironmentId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_strings_and_sort_by_creation() {
        let a = UserId::new();
        let b = UserId::new();
        assert!(a < b, "UUIDv7 ids are time-ordered");
        assert_eq!(a.to_string().parse::<UserId>().unwrap(), a);
        assert!("not-a-uuid".parse::<UserId>().is_err());
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            format!("\"{a}\""),
            "ids serialize as plain strings"
        );
    }
}
