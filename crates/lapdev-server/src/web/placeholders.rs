//! `/` and `/orgs/{org}`: redirects into the organization's first
//! section (the remembered organization for `/`).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::layout::{WebError, default_org, redirect};
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
