//! `/orgs/{org}/members`: the member list for everyone in the organization;
//! for admins, forms to add a member (a generated initial password is shown
//! once), change a role and remove a member. Every change goes through
//! `app::members`, which authorizes and audits it.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use lapdev_api::{AddMember, UpdateMember};
use lapdev_domain::{Role, Username};
use serde::Deserialize;

use super::forms::{CsrfForm, csrf_protected};
use super::layout::{
    CursorQuery, Rendered, Shell, WebError, date, describe, flash, initial, redirect, remember_org,
    take_flash,
};
use crate::app::{self, AppError, PageRequest};
use crate::auth::SessionUser;
use crate::state::AppState;

/// A row of the member table.
struct Row {
    user_id: String,
    username: String,
    initial: String,
    role: &'static str,
    joined: String,
    is_you: bool,
}

/// A generated password, shown once after adding a new user.
struct NewPassword {
    username: String,
    password: String,
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    shell: Shell,
    org: String,
    rows: Vec<Row>,
    next_page: Option<String>,
    new_password: Option<NewPassword>,
    /// What the add form held when it failed, to fill it again.
    form_username: String,
    form_role: &'static str,
}

/// What to show besides the list.
#[derive(Default)]
struct Extras {
    flash: Option<String>,
    error: Option<String>,
    new_password: Option<NewPassword>,
    form_username: String,
    form_role: Option<Role>,
    cursor: Option<String>,
}

async fn render(
    state: &AppState,
    user: &SessionUser,
    headers: &HeaderMap,
    org: &str,
    extras: Extras,
) -> Result<Rendered, WebError> {
    let caller = user.auth_user();
    let membership = app::organizations::get(state, &caller, org).await?;
    let page = app::members::list(state, &caller, org, PageRequest::longest(extras.cursor)).await?;
    let org = membership.organization.name.to_string();
    let mut shell = Shell::load(state, user, headers, Some(&membership), "members").await?;
    shell.flash = extras.flash;
    shell.error = extras.error;
    let rows = page
        .items
        .into_iter()
        .map(|m| {
            let username = m.user.username.to_string();
            Row {
                user_id: m.user.id.to_string(),
                initial: initial(&username),
                username,
                role: m.role.as_str(),
                joined: date(m.joined_at),
                is_you: m.user.id == user.id,
            }
        })
        .collect();
    let next_page = page
        .next_cursor
        .map(|c| format!("/orgs/{org}/members?cursor={c}"));
    let remember = remember_org(state, &org);
    let view = MembersPage {
        shell,
        rows,
        next_page,
        new_password: extras.new_password,
        form_username: extras.form_username,
        form_role: extras.form_role.unwrap_or(Role::Member).as_str(),
        org,
    };
    Ok(Rendered::new(&view)?.cookie(remember))
}

/// `GET /orgs/{org}/members`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: SessionUser,
    headers: HeaderMap,
    Path(org): Path<String>,
    Query(q): Query<CursorQuery>,
) -> Result<Response, WebError> {
    let (flash, clear) = take_flash(&state, &headers);
    let extras = Extras {
        flash,
        cursor: q.cursor,
        ..Extras::default()
    };
    Ok(render(&state, &user, &headers, &org, extras)
        .await?
        .cookies(clear)
        .into_response())
}

/// Shows the list again with the error of a failed change, and its status.
async fn failed(
    state: &AppState,
    user: &SessionUser,
    headers: &HeaderMap,
    org: &str,
    e: AppError,
    form: (String, Option<Role>),
) -> Result<Response, WebError> {
    if matches!(e, AppError::NotFound("organization")) {
        return Err(e.into());
    }
    let (status, message) = describe(e);
    let extras = Extras {
        error: Some(message),
        form_username: form.0,
        form_role: form.1,
        ..Extras::default()
    };
    Ok(render(state, user, headers, org, extras)
        .await?
        .status(status)
        .into_response())
}

fn parse_role(raw: &str) -> Result<Role, AppError> {
    raw.parse()
        .map_err(|_| AppError::invalid("role", "choose admin or member"))
}

#[derive(Deserialize)]
pub(crate) struct AddForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub(crate) struct RoleForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    role: String,
}

#[derive(Deserialize)]
pub(crate) struct RemoveForm {
    #[serde(default)]
    csrf_token: String,
}

csrf_protected!(AddForm, RoleForm, RemoveForm);

/// `POST /orgs/{org}/members`.
pub(crate) async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(org): Path<String>,
    CsrfForm(user, f): CsrfForm<AddForm>,
) -> Result<Response, WebError> {
    let username = f.username.trim().to_string();
    let role = parse_role(&f.role);
    let refill = (username.clone(), role.as_ref().ok().copied());
    let request = Username::parse(username)
        .map_err(|e| AppError::invalid("username", e.reason))
        .and_then(|name| {
            Ok(AddMember {
                username: name,
                role: role?,
                password: Some(f.password).filter(|p| !p.is_empty()),
            })
        });
    let added = match request {
        Ok(req) => app::members::add(&state, &user.auth_user(), &org, req).await,
        Err(e) => Err(e),
    };
    let added = match added {
        Ok(added) => added,
        Err(e) => return failed(&state, &user, &headers, &org, e, refill).await,
    };
    let name = added.member.user.username.to_string();
    let message = format!("Added {name} as {}.", added.member.role);
    match added.initial_password {
        // Shown in this response only: never in a cookie, never again.
        Some(password) => {
            let extras = Extras {
                flash: Some(message),
                new_password: Some(NewPassword {
                    username: name,
                    password,
                }),
                ..Extras::default()
            };
            Ok(render(&state, &user, &headers, &org, extras)
                .await?
                .status(StatusCode::CREATED)
                .into_response())
        }
        None => Ok(redirect(
            &format!("/orgs/{org}/members"),
            [flash(&state, &message)],
        )),
    }
}

/// `POST /orgs/{org}/members/{user_id}/role`.
pub(crate) async fn set_role(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((org, user_id)): Path<(String, String)>,
    CsrfForm(user, f): CsrfForm<RoleForm>,
) -> Result<Response, WebError> {
    let result = match parse_role(&f.role) {
        Ok(role) => {
            app::members::update(
                &state,
                &user.auth_user(),
                &org,
                &user_id,
                UpdateMember { role },
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(member) => Ok(redirect(
            &format!("/orgs/{org}/members"),
            [flash(
                &state,
                &format!("{} is now {}.", member.user.username, member.role),
            )],
        )),
        Err(e) => failed(&state, &user, &headers, &org, e, (String::new(), None)).await,
    }
}

/// `POST /orgs/{org}/members/{user_id}/remove`.
pub(crate) async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((org, user_id)): Path<(String, String)>,
    CsrfForm(user, _): CsrfForm<RemoveForm>,
) -> Result<Response, WebError> {
    match app::members::remove(&state, &user.auth_user(), &org, &user_id).await {
        // Leaving the organization: its pages are no longer visible.
        Ok(()) if user_id == user.id.to_string() => {
            Ok(redirect("/", [flash(&state, &format!("You left {org}."))]))
        }
        Ok(()) => Ok(redirect(
            &format!("/orgs/{org}/members"),
            [flash(&state, "Member removed.")],
        )),
        Err(e) => failed(&state, &user, &headers, &org, e, (String::new(), None)).await,
    }
}
