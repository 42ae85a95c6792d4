//! Members of an organization: list, add (creating the user if needed),
//! change role, remove. The datastore keeps the last-admin rule.

use lapdev_api::{AddMember, AddedMember, Member, Page, UpdateMember};
use lapdev_db::{MemberRecord, NewAuditEvent};
use lapdev_domain::UserId;

use super::organizations::authorize_org;
use super::users::user_api;
use super::{AppError, AppResult, PageRequest, page};
use crate::auth::{AuthUser, passwords};
use crate::authz::Action;
use crate::state::AppState;

fn member_api(m: MemberRecord) -> Member {
    Member {
        user: user_api(m.user),
        role: m.role,
        joined_at: m.joined_at,
    }
}

/// A user id from the path; malformed ids are simply not found.
fn parse_user_id(raw: &str) -> AppResult<UserId> {
    raw.parse().map_err(|_| AppError::NotFound("member"))
}

pub(crate) async fn list(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    req: PageRequest,
) -> AppResult<Page<Member>> {
    let (org, _) = authorize_org(state, caller, org_name, Action::ListMembers).await?;
    let slice = state
        .db()
        .members_list(org.id, req.cursor::<UserId>()?, req.limit)
        .await?;
    Ok(page(slice, |m| m.user.id.to_string(), member_api))
}

pub(crate) async fn add(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    req: AddMember,
) -> AppResult<AddedMember> {
    let (org, _) = authorize_org(state, caller, org_name, Action::AddMember).await?;
    let event = NewAuditEvent::new(Some(caller.actor()), "member.add", "user")
        .with_object_name(req.username.as_str())
        .with_details(serde_json::json!({ "role": req.role.as_str() }));
    if let Some(existing) = state.db().user_by_username(req.username.as_str()).await? {
        if req.password.is_some() {
            return Err(AppError::invalid(
                "password",
                "the user already exists and keeps their own password; leave it out",
            ));
        }
        let member = state
            .db()
            .member_add_existing(org.id, &existing, req.role, &event)
            .await
            .map_err(|e| match e {
                lapdev_db::DbError::Conflict { .. } => AppError::Conflict(format!(
                    "{} is already a member of {}",
                    req.username, org.name
                )),
                other => other.into(),
            })?;
        return Ok(AddedMember {
            member: member_api(member),
            initial_password: None,
        });
    }
    let (password, generated) = match req.password {
        Some(p) => {
            passwords::check_policy("password", &p)?;
            (p, false)
        }
        None => (passwords::generate(), true),
    };
    let hash = passwords::hash(password.clone())
        .await
        .map_err(AppError::internal)?;
    let event =
        event.with_details(serde_json::json!({ "role": req.role.as_str(), "new_user": true }));
    let member = state
        .db()
        .member_add_new_user(org.id, &req.username, &hash, req.role, &event)
        .await?;
    Ok(AddedMember {
        member: member_api(member),
        initial_password: generated.then_some(password),
    })
}

pub(crate) async fn update(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    user_id: &str,
    req: UpdateMember,
) -> AppResult<Member> {
    let (org, _) = authorize_org(state, caller, org_name, Action::UpdateMember).await?;
    let user_id = parse_user_id(user_id)?;
    let event = NewAuditEvent::new(Some(caller.actor()), "member.set_role", "user");
    let member = state
        .db()
        .member_set_role(org.id, user_id, req.role, &event)
        .await?;
    Ok(member_api(member))
}

pub(crate) async fn remove(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    user_id: &str,
) -> AppResult<()> {
    let (org, _) = authorize_org(state, caller, org_name, Action::RemoveMember).await?;
    let user_id = parse_user_id(user_id)?;
    let event = NewAuditEvent::new(Some(caller.actor()), "member.remove", "user");
    state.db().member_remove(org.id, user_id, &event).await?;
    Ok(())
}
