//! What a cluster is for: its roles (source, target) and the environment
//! types it accepts (permissions). Pure values; the tunnel and the database
//! live elsewhere.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A role of a connected cluster. A cluster has one or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ClusterRole {
    /// Lapdev reads production manifests here (read-only) to build App Catalogs.
    Source,
    /// Lapdev deploys development environments here.
    Target,
}

/// An environment type a (target) cluster accepts; both may be off (a
/// source-only production cluster).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ClusterPermission {
    /// Developers may create Personal environments.
    Personal,
    /// Admins may create Shared environments; developers Branch environments on them.
    Shared,
}

impl ClusterRole {
    pub const ALL: [ClusterRole; 2] = [ClusterRole::Source, ClusterRole::Target];

    pub const fn as_str(self) -> &'static str {
        match self {
            ClusterRole::Source => "source",
            ClusterRole::Target => "target",
        }
    }
}

impl ClusterPermission {
    pub const ALL: [ClusterPermission; 2] =
        [ClusterPermission::Personal, ClusterPermission::Shared];

    pub const fn as_str(self) -> &'static str {
        match self {
            ClusterPermission::Personal => "personal",
            ClusterPermission::Shared => "shared",
        }
    }
}

impl fmt::Display for ClusterRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ClusterPermission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ClusterRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "source" => Ok(ClusterRole::Source),
            "target" => Ok(ClusterRole::Target),
            other => Err(format!(
                "unknown cluster role {other:?}: expected source or target"
            )),
        }
    }
}

impl FromStr for ClusterPermission {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "personal" => Ok(ClusterPermission::Personal),
            "shared" => Ok(ClusterPermission::Shared),
            other => Err(format!(
                "unknown cluster permission {other:?}: expected personal or shared"
            )),
        }
    }
}

/// The roles of a cluster: at least one ("parse, don't validate").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClusterRoles {
    source: bool,
    target: bool,
}

impl ClusterRoles {
    /// Both roles: the most common setup, and the default.
    pub const BOTH: ClusterRoles = ClusterRoles {
        source: true,
        target: true,
    };

    /// `None` when neither role is set.
    pub const fn new(source: bool, target: bool) -> Option<ClusterRoles> {
        if source || target {
            Some(ClusterRoles { source, target })
        } else {
            None
        }
    }

    /// From a list (duplicates allowed); an empty list is refused.
    pub fn from_list(roles: &[ClusterRole]) -> Option<ClusterRoles> {
        Self::new(
            roles.contains(&ClusterRole::Source),
            roles.contains(&ClusterRole::Target),
        )
    }

    pub const fn source(self) -> bool {
        self.source
    }

    pub const fn target(self) -> bool {
        self.target
    }

    /// The roles in a fixed order.
    pub fn to_list(self) -> Vec<ClusterRole> {
        ClusterRole::ALL
            .into_iter()
            .filter(|r| match r {
                ClusterRole::Source => self.source,
                ClusterRole::Target => self.target,
            })
            .collect()
    }
}

/// The environment types a cluster accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClusterPermissions {
    pub personal: bool,
    pub shared: bool,
}

impl ClusterPermissions {
    pub const ALL: ClusterPermissions = ClusterPermissions {
        personal: true,
        shared: true,
    };
    pub const NONE: ClusterPermissions = ClusterPermissions {
        personal: false,
        shared: false,
    };

    pub fn from_list(permissions: &[ClusterPermission]) -> ClusterPermissions {
        ClusterPermissions {
            personal: permissions.contains(&ClusterPermission::Personal),
            shared: permissions.contains(&ClusterPermission::Shared),
        }
    }

    /// Whether environments needing `permission` may be created.
    pub const fn allows(self, permission: ClusterPermission) -> bool {
        match permission {
            ClusterPermission::Personal => self.personal,
            ClusterPermission::Shared => self.shared,
        }
    }

    pub fn to_list(self) -> Vec<ClusterPermission> {
        ClusterPermission::ALL
            .into_iter()
            .filter(|p| match p {
                ClusterPermission::Personal => self.personal,
                ClusterPermission::Shared => self.shared,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_need_at_least_one() {
        assert_eq!(ClusterRoles::from_list(&[]), None);
        let both = ClusterRoles::from_list(&[ClusterRole::Target, ClusterRole::Source]).unwrap();
        assert_eq!(both, ClusterRoles::BOTH);
        assert_eq!(
            both.to_list(),
            vec![ClusterRole::Source, ClusterRole::Target]
        );
        let target = ClusterRoles::from_list(&[ClusterRole::Target, ClusterRole::Target]).unwrap();
        assert_eq!(target.to_list(), vec![ClusterRole::Target]);
        assert!("owner".parse::<ClusterRole>().is_err());
    }

    #[test]
    fn permissions_may_be_empty() {
        assert_eq!(ClusterPermissions::from_list(&[]), ClusterPermissions::NONE);
        assert_eq!(
            ClusterPermissions::ALL.to_list(),
            vec![ClusterPermission::Personal, ClusterPermission::Shared]
        );
    }
}
