//! Organizations: list the caller's, create one, read one. Also the lookup
//! every organization-scoped operation starts with ([`authorize_org`]).

use lapdev_api::{CreateOrganization, Organization, OrganizationMembership, Page};
use lapdev_db::{NewAuditEvent, OrganizationRecord};
use lapdev_domain::{OrganizationId, Role};

use super::{AppResult, PageRequest, page};
use crate::auth::AuthUser;
use crate::authz::{self, Action, Object};
use crate::state::AppState;

pub(crate) fn organization_api(o: OrganizationRecord) -> Organization {
    Organization {
        id: o.id,
        name: o.name,
        created_at: o.created_at,
    }
}

/// Finds the organization by name and checks `action` on it for the caller.
/// A non-member gets `NotFound`, exactly as for an organization that does
/// not exist.
pub(crate) async fn authorize_org(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    action: Action,
) -> AppResult<(OrganizationRecord, Role)> {
    let (org, role) = match state
        .db()
        .organization_with_role(org_name, caller.id)
        .await?
    {
        Some((org, role)) => (Some(org), role),
        None => (None, None),
    };
    authz::authorize(caller.id, action, Object::Organization { role })?;
    match (org, role) {
        (Some(org), Some(role)) => Ok((org, role)),
        // authorize() refuses non-members; this is unreachable in practice.
        _ => Err(super::AppError::NotFound("organization")),
    }
}

pub(crate) async fn list(
    state: &AppState,
    caller: &AuthUser,
    req: PageRequest,
) -> AppResult<Page<OrganizationMembership>> {
    authz::authorize(caller.id, Action::ListOwnOrganizations, Object::Caller)?;
    let slice = state
        .db()
        .organizations_of_user(caller.id, req.cursor::<OrganizationId>()?, req.limit)
        .await?;
    Ok(page(
        slice,
        |(o, _)| o.id.to_string(),
        |(o, role)| OrganizationMembership {
            organization: organization_api(o),
            role,
        },
    ))
}

pub(crate) async fn create(
    state: &AppState,
    caller: &AuthUser,
    req: CreateOrganization,
) -> AppResult<Organization> {
    authz::authorize(caller.id, Action::CreateOrganization, Object::Caller)?;
    let event = NewAuditEvent::new(Some(caller.actor()), "organization.create", "organization")
        .with_object_name(req.name.as_str());
    let org = state
        .db()
        .organization_create(&req.name, caller.id, &event)
        .await?;
    Ok(organization_api(org))
}

pub(crate) async fn get(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
) -> AppResult<OrganizationMembership> {
    let (org, role) = authorize_org(state, caller, org_name, Action::ReadOrganization).await?;
    Ok(OrganizationMembership {
        organization: organization_api(org),
        role,
    })
}
