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
//!   source cluster; only admins create, edit, refresh and delete them.

use lapdev_domain::{Role, UserId};

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
        (_, Object::Organization { role: None }) => Err(Denied::NotFound("organization")),
        (
            ReadOrganization | ListMembers | ListClusters | ReadCluster | ListWorkloads
            | ListCatalogs | ReadCatalog,
            Object::Organization { role: Some(_) },
        ) => Ok(()),
        (
            AddMember | UpdateMember | RemoveMember | ReadAudit | CreateCluster | UpdateCluster
            | DeleteCluster | ManageClusterToken | GetInstallManifest | CreateCatalog
            | UpdateCatalog | DeleteCatalog,
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
