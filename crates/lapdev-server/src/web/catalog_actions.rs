//! The admin forms of a catalog page: edit name and description, remove a
//! workload, preview a refresh from the source cluster and apply exactly
//! that preview, delete. Each calls `app::catalogs`, which authorizes
//! (members get the 403 page) and audits.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use lapdev_api::{ApplyRefresh, UpdateCatalog, WorkloadRef};
use lapdev_domain::CatalogName;
use serde::Deserialize;

use super::catalog::{Extras, failed, preview, render};
use super::forms::{CsrfForm, csrf_protected};
use super::layout::{WebError, flash, redirect};
use crate::app::{self, AppError};
use crate::state::AppState;

#[derive(Deserialize)]
pub(crate) struct EditForm {
    #[serde(default)]
    csrf_token: String,
    name: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RemoveForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    workload: String,
}

#[derive(Deserialize)]
pub(crate) struct ApplyForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    digest: String,
}

#[derive(Deserialize)]
pub(crate) struct ActionForm {
    #[serde(default)]
    csrf_token: String,
}

csrf_protected!(EditForm, RemoveForm, ApplyForm, ActionForm);

fn parse_edit(f: &EditForm, current: &str) -> Result<UpdateCatalog, AppError> {
    let name = match f.name.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(n) if n == current => None,
        Some(n) => Some(
            CatalogName::parse(n.to_string()).map_err(|e| AppError::invalid("name", e.reason))?,
        ),
    };
    Ok(UpdateCatalog {
        name,
        description: f.description.as_ref().map(|d| d.trim().to_string()),
    })
}

/// `POST /orgs/{org}/catalogs/{catalog}`: name and description.
pub(crate) async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((org, catalog)): Path<(String, String)>,
    CsrfForm(user, f): CsrfForm<EditForm>,
) -> Result<Response, WebError> {
    let done = match parse_edit(&f, &catalog) {
        Ok(req) => app::catalogs::update(&state, &user.auth_user(), &org, &catalog, req).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(c) => Ok(redirect(
            &format!("/orgs/{org}/catalogs/{}", c.summary.name),
            [flash(
                &state,
                &format!("Saved the catalog {}.", c.summary.name),
            )],
        )),
        Err(e) => failed(&state, &user, &headers, (&org, &catalog), e).await,
    }
}

/// `POST /orgs/{org}/catalogs/{catalog}/workloads/remove`: one workload,
/// named by the form (never by the URL), and what only it used.
pub(crate) async fn remove_workload(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((org, catalog)): Path<(String, String)>,
    CsrfForm(user, f): CsrfForm<RemoveForm>,
) -> Result<Response, WebError> {
    let done = match f.workload.parse::<WorkloadRef>() {
        Ok(w) => app::catalogs::remove_workload(&state, &user.auth_user(), &org, &catalog, w).await,
        Err(e) => Err(AppError::invalid("workload", e)),
    };
    match done {
        Ok(c) => Ok(redirect(
            &format!("/orgs/{org}/catalogs/{}", c.summary.name),
            [flash(
                &state,
                &format!("Removed {} from the catalog.", f.workload),
            )],
        )),
        Err(e) => failed(&state, &user, &headers, (&org, &catalog), e).await,
    }
}

/// `POST /orgs/{org}/catalogs/{catalog}/refresh`: what refreshing from the
/// source would change; the page shows it with an Apply button carrying
/// the preview's digest. Changes nothing.
pub(crate) async fn refresh(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((org, catalog)): Path<(String, String)>,
    CsrfForm(user, _): CsrfForm<ActionForm>,
) -> Result<Response, WebError> {
    match app::catalogs::refresh_preview(&state, &user.auth_user(), &org, &catalog).await {
        Ok(p) => {
            let extras = Extras {
                preview: Some(preview(p)),
                ..Extras::default()
            };
            Ok(render(&state, &user, &headers, (&org, &catalog), extras)
                .await?
                .into_response())
        }
        Err(e) => failed(&state, &user, &headers, (&org, &catalog), e).await,
    }
}

/// `POST /orgs/{org}/catalogs/{catalog}/refresh/apply`: exactly the
/// previewed refresh, or a 409 when the source changed since.
pub(crate) async fn apply(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((org, catalog)): Path<(String, String)>,
    CsrfForm(user, f): CsrfForm<ApplyForm>,
) -> Result<Response, WebError> {
    let req = ApplyRefresh { digest: f.digest };
    match app::catalogs::refresh_apply(&state, &user.auth_user(), &org, &catalog, req).await {
        Ok(c) => Ok(redirect(
            &format!("/orgs/{org}/catalogs/{}", c.summary.name),
            [flash(
                &state,
                &format!("Refreshed the catalog {} from its source.", c.summary.name),
            )],
        )),
        Err(e) => failed(&state, &user, &headers, (&org, &catalog), e).await,
    }
}

/// `POST /orgs/{org}/catalogs/{catalog}/delete`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((org, catalog)): Path<(String, String)>,
    CsrfForm(user, _): CsrfForm<ActionForm>,
) -> Result<Response, WebError> {
    match app::catalogs::delete(&state, &user.auth_user(), &org, &catalog).await {
        Ok(()) => Ok(redirect(
            &format!("/orgs/{org}/catalogs"),
            [flash(&state, &format!("Deleted the catalog {catalog}."))],
        )),
        Err(e) => failed(&state, &user, &headers, (&org, &catalog), e).await,
    }
}
