//! `/` and the organization pages whose resources do not exist yet:
//! Environments shows an honest empty state that says what will come,
//! never sample data.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::layout::{Rendered, Shell, WebError, default_org, redirect, remember_org, take_flash};
use crate::auth::SessionUser;
use crate::state::AppState;

/// `GET /`: the remembered (or first) organization's clusters.
pub(crate) async fn home(
    State(state): State<AppState>,
    user: SessionUser,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    Ok(match default_org(&state, &user, &headers).await? {
        Some(org) => redirect(&format!("/orgs/{org}/clusters"), []),
        None => redirect("/settings", []),
    })
}

/// `GET /orgs/{org}`.
pub(crate) async fn organization(
    State(state): State<AppState>,
    user: SessionUser,
    Path(org): Path<String>,
) -> Result<Response, WebError> {
    let m = crate::app::organizations::get(&state, &user.auth_user(), &org).await?;
    Ok(redirect(
        &format!("/orgs/{}/clusters", m.organization.name),
        [],
    ))
}

#[derive(Template)]
#[template(path = "empty.html")]
struct EmptyPage {
    shell: Shell,
    title: &'static str,
    lead: &'static str,
    heading: &'static str,
    body: &'static str,
    next: &'static str,
}

struct Section {
    nav: &'static str,
    title: &'static str,
    lead: &'static str,
    heading: &'static str,
    body: &'static str,
    next: &'static str,
}

const ENVIRONMENTS: Section = Section {
    nav: "environments",
    title: "Environments",
    lead: "Running copies of your applications on target clusters.",
    heading: "No environments yet",
    body: "An environment runs an App Catalog on a target cluster: a Personal copy of your \
           own, a Shared one for the whole team, or a lightweight Branch on top of a shared \
           one with only the services you change.",
    next: "When a catalog and a target cluster exist, you will create, pause, resume and \
           delete environments here, and open their preview URLs.",
};

async fn section(
    state: AppState,
    user: SessionUser,
    headers: HeaderMap,
    org: String,
    s: &Section,
) -> Result<Response, WebError> {
    let m = crate::app::organizations::get(&state, &user.auth_user(), &org).await?;
    let (flash, clear) = take_flash(&state, &headers);
    let shell = Shell::load(&state, &user, &headers, Some(&m), s.nav)
        .await?
        .with_flash(flash);
    let page = EmptyPage {
        shell,
        title: s.title,
        lead: s.lead,
        heading: s.heading,
        body: s.body,
        next: s.next,
    };
    Ok(Rendered::new(&page)?
        .cookies(clear)
        .cookie(remember_org(&state, m.organization.name.as_str()))
        .into_response())
}

pub(crate) async fn environments(
    State(state): State<AppState>,
    user: SessionUser,
    headers: HeaderMap,
    Path(org): Path<String>,
) -> Result<Response, WebError> {
    section(state, user, headers, org, &ENVIRONMENTS).await
}
