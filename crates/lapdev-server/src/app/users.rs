//! Users: the caller's own profile, password changes, and password sign-in
//! for the API (which issues a personal token).

use lapdev_api::{ChangePassword, LoginRequest, LoginResponse, Me, OrganizationMembership};
use lapdev_db::{NewAuditEvent, UserRecord};
use lapdev_domain::TokenName;

use super::organizations::organization_api;
use super::{AppError, AppResult};
use crate::auth::{AuthUser, passwords};
use crate::authz::{self, Action, Object};
use crate::state::AppState;

pub(crate) fn user_api(u: UserRecord) -> lapdev_api::User {
    lapdev_api::User {
        id: u.id,
        username: u.username,
        created_at: u.created_at,
    }
}

/// How many organizations `GET /me` lists (use `GET /orgs` to page through more).
const ME_ORGANIZATIONS: u32 = 200;

pub(crate) async fn me(state: &AppState, caller: &AuthUser) -> AppResult<Me> {
    authz::authorize(caller.id, Action::ReadSelf, Object::Caller)?;
    let user = state
        .db()
        .user_by_id(caller.id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let orgs = state
        .db()
        .organizations_of_user(caller.id, None, ME_ORGANIZATIONS)
        .await?;
    Ok(Me {
        user: user_api(user),
        organizations: orgs
            .items
            .into_iter()
            .map(|(org, role)| OrganizationMembership {
                organization: organization_api(org),
                role,
            })
            .collect(),
    })
}

pub(crate) async fn change_password(
    state: &AppState,
    caller: &AuthUser,
    req: ChangePassword,
    client_ip: Option<std::net::IpAddr>,
) -> AppResult<()> {
    authz::authorize(caller.id, Action::ChangeOwnPassword, Object::Caller)?;
    passwords::check_policy("new_password", &req.new_password)?;
    match passwords::authenticate(
        state,
        caller.username.as_str(),
        &req.current_password,
        client_ip,
    )
    .await
    {
        Ok(_) => {}
        Err(AppError::WrongCredentials) => {
            return Err(AppError::invalid(
                "current_password",
                "is not your current password",
            ));
        }
        Err(e) => return Err(e),
    }
    let hash = passwords::hash(req.new_password)
        .await
        .map_err(AppError::internal)?;
    let event = NewAuditEvent::new(Some(caller.actor()), "user.change_password", "user")
        .with_object_id(caller.id)
        .with_object_name(caller.username.as_str());
    state
        .db()
        .user_set_password(caller.id, &hash, None, &event)
        .await?;
    Ok(())
}

/// `POST /auth/login`: password → a new personal token.
pub(crate) async fn login(
    state: &AppState,
    req: LoginRequest,
    client_ip: Option<std::net::IpAddr>,
) -> AppResult<LoginResponse> {
    let user = passwords::authenticate(state, &req.username, &req.password, client_ip).await?;
    let caller = AuthUser::from(user.clone());
    let name = match req.token_name {
        Some(name) => name,
        None => TokenName::parse("cli").map_err(AppError::internal)?,
    };
    let created = super::tokens::create_for(state, &caller, name, None, "login").await?;
    Ok(LoginResponse {
        token: created.token,
        token_info: created.token_info,
        user: user_api(user),
    })
}
