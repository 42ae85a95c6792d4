//! What an environment is: its kind (Personal or Shared) and the state its
//! owner asked for (running, paused, deleted). Pure values.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ClusterPermission;

/// Personal (one developer's isolated copy) or Shared (a team's baseline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EnvironmentKind {
    /// Owned by one developer; any member may create one.
    Personal,
    /// Created and managed by admins; the whole team sees it.
    Shared,
}

impl EnvironmentKind {
    pub const ALL: [EnvironmentKind; 2] = [EnvironmentKind::Personal, EnvironmentKind::Shared];

    pub const fn as_str(self) -> &'static str {
        match self {
            EnvironmentKind::Personal => "personal",
            EnvironmentKind::Shared => "shared",
        }
    }

    /// The cluster permission an environment of this kind needs.
    pub const fn permission(self) -> ClusterPermission {
        match self {
            EnvironmentKind::Personal => ClusterPermission::Personal,
            EnvironmentKind::Shared => ClusterPermission::Shared,
        }
    }
}

/// What the environment's owner asked for; the server makes the cluster
/// match it (the `generation` increases with every change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DesiredState {
    Running,
    /// Every workload scaled to zero; resuming restores the replicas.
    Paused,
    /// The namespace is to be removed; the environment disappears once it is gone.
    Deleted,
}

impl DesiredState {
    pub const fn as_str(self) -> &'static str {
        match self {
            DesiredState::Running => "running",
            DesiredState::Paused => "paused",
            DesiredState::Deleted => "deleted",
        }
    }
}

macro_rules! text_enum {
    ($ty:ident, $what:literal, $($variant:ident),+) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $(if s == $ty::$variant.as_str() {
                    return Ok($ty::$variant);
                })+
                let expected: Vec<&str> = vec![$($ty::$variant.as_str()),+];
                Err(format!(
                    "unknown {} {s:?}: expected {}",
                    $what,
                    expected.join(" or ")
                ))
            }
        }
    };
}

text_enum!(EnvironmentKind, "environment kind", Personal, Shared);
text_enum!(DesiredState, "desired state", Running, Paused, Deleted);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for kind in EnvironmentKind::ALL {
            assert_eq!(kind.as_str().parse::<EnvironmentKind>(), Ok(kind));
        }
        for desired in [
            DesiredState::Running,
            DesiredState::Paused,
            DesiredState::Deleted,
        ] {
            assert_eq!(desired.as_str().parse::<DesiredState>(), Ok(desired));
        }
        let err = "branch".parse::<EnvironmentKind>().unwrap_err();
        assert!(err.contains("personal or shared"), "{err}");
    }

    #[test]
    fn kinds_need_their_cluster_permission() {
        assert_eq!(
            EnvironmentKind::Personal.permission(),
            ClusterPermission::Personal
        );
        assert_eq!(
            EnvironmentKind::Shared.permission(),
            ClusterPermission::Shared
        );
    }
}
