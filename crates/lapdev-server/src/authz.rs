//! Authorization, in one place: `(caller, action, object) → allow or deny`.
//! Every handler's app-layer function calls [`authorize`] before it acts.
//! Authentication (who the caller is) happens earlier, in the `Caller`
//! extractor: anonymous requests to protected endpoints get 401 there.
//!
//! The rules:
//! - a user's own things (profile, password, tokens, the organizations they
//!   belong to) are theirs alone; another user's token is "not found";
//! - any signed-in user may create an organization (and becomes its admin);
//! - in an organization, a non-member gets "not found" for everything (its
//!   existence is not revealed); members may read it and its member list;
//!   admins may also manage members and read the audit log;
//! - clusters: members may list and read them; only admins create, change,
//!   delete them, rotate or revoke their tokens and get install manifests;
//! - catalogs: members may list and read them and list the workloads of a
//!   source cluster; only admins create, edit, refresh and delete them;
//! - environments: any member may create a Personal environment, only
//!   admins a Shared one. Shared environments are visible to every member;
//!   a Personal one only to its owner and the admins (others get "not
//!   found"). Only the owner pauses or resumes a Personal environment and
//!   only admins a Shared one; deleting is the same, except that admins may
//!   also delete any Personal environment (to clean up after someone). The
//!   cluster's own switches (target role, `personal`/`shared` permission)
//!   are checked by the application layer, which knows the cluster.

use lapdev_domain::{EnvironmentKind, Role, UserId};

/// What the caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    ReadSelf,
    ChangeOwnPassword,
    ListOwnOrganizations,
    CreateOrganization,
    ListOwnTokens,
    CreateOwnToken,
    RevokeToken,
    ReadOrganization,
    ListMembers,
    AddMember,
    UpdateMember,
    RemoveMember,
    ReadAudit,
    ListClusters,
    ReadCluster,
    CreateCluster,
    UpdateCluster,
    DeleteCluster,
    ManageClusterToken,
    GetInstallManifest,
    ListWorkloads,
    ListCatalogs,
    ReadCatalog,
    CreateCatalog,
    UpdateCatalog,
    DeleteCatalog,
    ListEnvironments,
    CreatePersonalEnvironment,
    CreateSharedEnvironment,
    ReadEnvironment,
    /// Pause or resume.
    ChangeEnvironment,
    DeleteEnvironment,
}

/// What the action is on, with the facts the decision needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Object {
    /// Nothing in particular (the caller's own account, creating things).
    Caller,
    /// Something a user owns (a token).
    OwnedBy(UserId),
    /// An organization, with the caller's role in it (`None`: not a member).
    Organization { role: Option<Role> },
    /// An environment of an organization, with the caller's role there.
    Environment {
        role: Option<Role>,
        kind: EnvironmentKind,
        owner: Option<UserId>,
    },
}

/// A refusal. The HTTP layer maps it to 404 or 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denied {
    /// Pretend it does not exist: the caller may not know about it.
    NotFound(&'static str),
    /// The caller may see it but not do this.
    Forbidden(&'static str),
}

pub(crate) fn authorize(caller: UserId, action: Action, object: Object) -> Result<(), Denied> {
    use Action::*;
    match (action, object) {
        (
            ReadSelf | ChangeOwnPassword | ListOwnOrganizations | CreateOrganization
            | ListOwnTokens | CreateOwnToken,
            Object::Caller,
        ) => Ok(()),
        (RevokeToken, Object::OwnedBy(owner)) => {
            if owner == caller {
                Ok(())
            } else {
                Err(Denied::NotFound("token"))
            }
        }
        (_, Object::Organization { role: None } | Object::Environment { role: None, .. }) => {
            Err(Denied::NotFound("organization"))
        }
        (
            ReadEnvironment | ChangeEnvironment | DeleteEnvironment,
            Object::Environment {
                role: Some(role),
                kind,
                owner,
            },
        ) => environment(caller, action, role, kind, owner),
        (
            ReadOrganization
            | ListMembers
            | ListClusters
            | ReadCluster
            | ListWorkloads
            | ListCatalogs
            | ReadCatalog
            | ListEnvironments
            | CreatePersonalEnvironment,
            Object::Organization { role: Some(_) },
        ) => Ok(()),
        (
            AddMember
            | UpdateMember
            | RemoveMember
            | ReadAudit
            | CreateCluster
            | UpdateCluster
            | DeleteCluster
            | ManageClusterToken
            | GetInstallManifest
            | CreateCatalog
            | UpdateCatalog
            | DeleteCatalog
            | CreateSharedEnvironment,
            Object::Organization { role: Some(role) },
        ) => match role {
            Role::Admin => Ok(()),
            Role::Member => Err(Denied::Forbidden(
                "only admins of the organization may do this",
            )),
        },
        // An action asked about the wrong kind of object is a bug: refuse.
        _ => Err(Denied::Forbidden("not allowed")),
    }
}

/// The environment rules (see the module docs); the caller is a member.
fn environment(
    caller: UserId,
    action: Action,
    role: Role,
    kind: EnvironmentKind,
    owner: Option<UserId>,
) -> Result<(), Denied> {
    let admin = role == Role::Admin;
    let owns = owner == Some(caller);
    if kind == EnvironmentKind::Personal && !owns && !admin {
        // Another member's Personal environment is not even visible.
        return Err(Denied::NotFound("environment"));
    }
    match (action, kind) {
        (Action::ReadEnvironment, _) => Ok(()),
        (Action::ChangeEnvironment | Action::DeleteEnvironment, EnvironmentKind::Shared) => {
            if admin {
                Ok(())
            } else {
                Err(Denied::Forbidden(
                    "only admins of the organization may change a shared environment",
                ))
            }
        }
        (Action::ChangeEnvironment, EnvironmentKind::Personal) => {
            if owns {
                Ok(())
            } else {
                Err(Denied::Forbidden(
                    "only its owner may pause or resume a personal environment",
                ))
            }
        }
        (Action::DeleteEnvironment, EnvironmentKind::Personal) => Ok(()),
        _ => Err(Denied::Forbidden("not allowed")),
    }
}

impl From<Denied> for crate::app::AppError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::NotFound(what) => crate::app::AppError::NotFound(what),
            Denied::Forbidden(why) => crate::app::AppError::Forbidden(why.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organization_rules() {
        let me = UserId::new();
        let org = |role| Object::Organization { role };
        let check = |action, role| authorize(me, action, org(role));
        for action in [
            Action::ReadOrganization,
            Action::ListMembers,
            Action::ListClusters,
            Action::ReadCluster,
            Action::ListWorkloads,
            Action::ListCatalogs,
            Action::ReadCatalog,
            Action::ListEnvironments,
            Action::CreatePersonalEnvironment,
        ] {
            assert_eq!(check(action, None), Err(Denied::NotFound("organization")));
            assert_eq!(check(action, Some(Role::Member)), Ok(()));
            assert_eq!(check(action, Some(Role::Admin)), Ok(()));
        }
        for action in [
            Action::AddMember,
            Action::UpdateMember,
            Action::RemoveMember,
            Action::ReadAudit,
            Action::CreateCluster,
            Action::UpdateCluster,
            Action::DeleteCluster,
            Action::ManageClusterToken,
            Action::GetInstallManifest,
            Action::CreateCatalog,
            Action::UpdateCatalog,
            Action::DeleteCatalog,
            Action::CreateSharedEnvironment,
        ] {
            assert_eq!(check(action, None), Err(Denied::NotFound("organization")));
            assert!(matches!(
                check(action, Some(Role::Member)),
                Err(Denied::Forbidden(_))
            ));
            assert_eq!(check(action, Some(Role::Admin)), Ok(()));
        }
    }

    #[test]
    fn environment_rules() {
        use EnvironmentKind::{Personal, Shared};
        let me = UserId::new();
        let other = UserId::new();
        let check = |action, role, kind, owner| {
            authorize(
                me,
                action,
                Object::Environment {
                    role,
                    kind,
                    owner: Some(owner),
                },
            )
        };
        let forbidden = |r: Result<(), Denied>| matches!(r, Err(Denied::Forbidden(_)));
        let hidden = Err(Denied::NotFound("environment"));
        for action in [
            Action::ReadEnvironment,
            Action::ChangeEnvironment,
            Action::DeleteEnvironment,
        ] {
            // Outsiders learn nothing, whatever the environment.
            for kind in EnvironmentKind::ALL {
                assert_eq!(
                    check(action, None, kind, me),
                    Err(Denied::NotFound("organization"))
                );
            }
            // Own Personal: everything; another member's: invisible.
            assert_eq!(check(action, Some(Role::Member), Personal, me), Ok(()));
            assert_eq!(check(action, Some(Role::Member), Personal, other), hidden);
            // Shared as a member: read only.
            let shared = check(action, Some(Role::Member), Shared, other);
            if action == Action::ReadEnvironment {
                assert_eq!(shared, Ok(()));
            } else {
                assert!(forbidden(shared), "{action:?}");
            }
            // Admins: all Shared; others' Personal: read and delete only.
            assert_eq!(check(action, Some(Role::Admin), Shared, other), Ok(()));
            let personal = check(action, Some(Role::Admin), Personal, other);
            if action == Action::ChangeEnvironment {
                assert!(forbidden(personal));
            } else {
                assert_eq!(personal, Ok(()));
            }
        }
    }

    #[test]
    fn tokens_are_private() {
        let me = UserId::new();
        let other = UserId::new();
        assert_eq!(
            authorize(me, Action::RevokeToken, Object::OwnedBy(me)),
            Ok(())
        );
        assert_eq!(
            authorize(me, Action::RevokeToken, Object::OwnedBy(other)),
            Err(Denied::NotFound("token"))
        );
    }
}
