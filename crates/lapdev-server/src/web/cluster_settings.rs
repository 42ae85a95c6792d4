//! `/orgs/{org}/clusters/{cluster}`: one cluster — what kube-manager
//! reported, its roles and permissions — and, for admins, changing them,
//! rotating or revoking its token (a new token is shown once) and deleting
//! it. Everything goes through `app::clusters`, which authorizes and audits.
//! A source cluster's page also lists its workloads ([`super::workloads`]).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use lapdev_api::{Cluster, ClusterStatus, UpdateCluster};
use serde::Deserialize;

use super::clusters::Draft;
use super::forms::{CsrfForm, csrf_protected};
use super::layout::{
    Rendered, Shell, WebError, date, describe, flash, redirect, remember_org, take_flash,
};
use super::workloads::{self, CatalogDraft, Filters};
use crate::app::{self, AppError};
use crate::auth::SessionUser;
use crate::state::AppState;

/// What the page shows of the cluster.
struct Details {
    name: String,
    status: &'static str,
    /// "Source and target cluster, allowing personal environments."
    summary: String,
    /// "Pending · kube-manager has not connected yet".
    status_line: String,
    kube_manager: String,
    kubernetes: String,
    nodes: String,
    cpu: String,
    memory: String,
    token: String,
    created: String,
}

fn or_dash(v: Option<String>) -> String {
    v.unwrap_or_else(|| "—".into())
}

/// `["a"]` → `a`, `["a", "b"]` → `a and b`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn summary(c: &Cluster) -> String {
    let roles: Vec<&str> = c.roles.iter().map(|r| r.as_str()).collect();
    let permissions: Vec<&str> = c.permissions.iter().map(|p| p.as_str()).collect();
    let roles = and_list(&roles);
    let mut chars = roles.chars();
    let roles: String = chars
        .next()
        .map(|f| f.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if permissions.is_empty() {
        format!("{roles} cluster, allowing no environments.")
    } else {
        format!(
            "{roles} cluster, allowing {} environments.",
            and_list(&permissions)
        )
    }
}

fn status_line(c: &Cluster) -> String {
    match (c.status, c.last_seen_at) {
        (ClusterStatus::Active, _) => "Active · kube-manager is connected".into(),
        (ClusterStatus::Pending, _) => "Pending · kube-manager has not connected yet".into(),
        (ClusterStatus::Offline, Some(t)) => format!("Offline · last seen {}", date(t)),
        (ClusterStatus::Offline, None) => "Offline".into(),
    }
}

fn details(c: &Cluster) -> Details {
    Details {
        name: c.name.to_string(),
        status: c.status.as_str(),
        summary: summary(c),
        status_line: status_line(c),
        kube_manager: or_dash(c.kube_manager_version.clone()),
        kubernetes: or_dash(c.kubernetes_version.clone()),
        nodes: or_dash(c.node_count.map(|n| n.to_string())),
        cpu: or_dash(
            c.allocatable_cpu_millis
                .map(|m| format!("{:.1} cores", m as f64 / 1000.0)),
        ),
        memory: or_dash(
            c.allocatable_memory_bytes
                .map(|b| format!("{:.1} GiB", b as f64 / f64::from(1u32 << 30))),
        ),
        token: c
            .token_prefix
            .as_ref()
            .map_or_else(|| "Revoked".into(), |p| format!("{p}…")),
        created: date(c.created_at),
    }
}

/// A token just issued, shown once.
struct NewToken {
    token: String,
    install_command: String,
    previous_retires: Option<String>,
}

#[derive(Template)]
#[template(path = "cluster.html")]
struct ClusterPage {
    shell: Shell,
    org: String,
    cluster: Details,
    base: String,
    draft: Draft,
    new_token: Option<NewToken>,
    workloads: workloads::Section,
}

#[derive(Default)]
struct Extras {
    flash: Option<String>,
    error: Option<String>,
    new_token: Option<NewToken>,
    filters: Filters,
    catalog: Option<CatalogDraft>,
}

async fn render(
    state: &AppState,
    user: &SessionUser,
    headers: &HeaderMap,
    org: &str,
    cluster: &str,
    extras: Extras,
) -> Result<Rendered, WebError> {
    let caller = user.auth_user();
    let membership = app::organizations::get(state, &caller, org).await?;
    let c = app::clusters::get(state, &caller, org, cluster).await?;
    let mut shell = Shell::load(state, user, headers, Some(&membership), "clusters").await?;
    shell.flash = extras.flash;
    shell.error = extras.error;
    let org = membership.organization.name.to_string();
    let remember = remember_org(state, &org);
    let workloads = workloads::load(state, &caller, &org, &c, extras.filters, extras.catalog).await;
    let view = ClusterPage {
        workloads,
        shell,
        base: format!("/orgs/{org}/clusters/{}", c.name),
        org,
        cluster: details(&c),
        draft: Draft::of(&c),
        new_token: extras.new_token,
    };
    Ok(Rendered::new(&view)?.cookie(remember))
}

/// Shows the page again with a failed action's message and status; a
/// cluster or organization that is not visible is a 404 page.
async fn failed(
    state: &AppState,
    user: &SessionUser,
    headers: &HeaderMap,
    (org, cluster): (&str, &str),
    e: AppError,
) -> Result<Response, WebError> {
    if matches!(e, AppError::NotFound(_)) {
        return Err(e.into());
    }
    let (status, message) = describe(e);
    let extras = Extras {
        error: Some(message),
        ..Extras::default()
    };
    Ok(render(state, user, headers, org, cluster, extras)
        .await?
        .status(status)
        .into_response())
}

/// The page again after a failed "Create App Catalog", with the selection.
pub(super) async fn failed_create(
    state: &AppState,
    user: &SessionUser,
    headers: &HeaderMap,
    (org, cluster): (&str, &str),
    e: AppError,
    filters: Filters,
    catalog: CatalogDraft,
) -> Result<Response, WebError> {
    if matches!(e, AppError::NotFound("organization")) {
        return Err(e.into());
    }
    let (status, message) = describe(e);
    let extras = Extras {
        error: Some(message),
        filters,
        catalog: Some(catalog),
        ..Extras::default()
    };
    Ok(render(state, user, headers, org, cluster, extras)
        .await?
        .status(status)
        .into_response())
}

/// `GET /orgs/{org}/clusters/{cluster}`, with the workload filters.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: SessionUser,
    headers: HeaderMap,
    Path((org, cluster)): Path<(String, String)>,
    Query(filters): Query<Filters>,
) -> Result<Response, WebError> {
    let (flash, clear) = take_flash(&state, &headers);
    let extras = Extras {
        flash,
        filters,
        ..Extras::default()
    };
    Ok(render(&state, &user, &headers, &org, &cluster, extras)
        .await?
        .cookies(clear)
        .into_response())
}

#[derive(Deserialize)]
pub(crate) struct SettingsForm {
    #[serde(default)]
    csrf_token: String,
    role_source: Option<String>,
    role_target: Option<String>,
    permission_personal: Option<String>,
    permission_shared: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct ActionForm {
    #[serde(default)]
    csrf_token: String,
}

csrf_protected!(SettingsForm, ActionForm);

/// `POST /orgs/{org}/clusters/{cluster}`: roles and permissions.
pub(crate) async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((org, cluster)): Path<(String, String)>,
    CsrfForm(user, f): CsrfForm<SettingsForm>,
) -> Result<Response, WebError> {
    let draft = Draft {
        name: String::new(),
        source: f.role_source.is_some(),
        target: f.role_target.is_some(),
        personal: f.permission_personal.is_some(),
        shared: f.permission_shared.is_some(),
    };
    let req = UpdateCluster {
        name: None,
        roles: Some(draft.roles()),
        permissions: Some(draft.permissions()),
    };
    match app::clusters::update(&state, &user.auth_user(), &org, &cluster, req).await {
        Ok(c) => Ok(redirect(
            &format!("/orgs/{org}/clusters/{}", c.name),
            [flash(&state, &format!("Saved the settings of {}.", c.name))],
        )),
        Err(e) => failed(&state, &user, &headers, (&org, &cluster), e).await,
    }
}

/// `POST /orgs/{org}/clusters/{cluster}/rotate`: a new token, shown once;
/// the previous one keeps working for a grace period.
pub(crate) async fn rotate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((org, cluster)): Path<(String, String)>,
    CsrfForm(user, _): CsrfForm<ActionForm>,
) -> Result<Response, WebError> {
    let base = crate::http::install::base_url(&state, &headers);
    match app::clusters::rotate_token(&state, &user.auth_user(), &org, &cluster, &base).await {
        Ok(creds) => {
            let extras = Extras {
                flash: Some("Issued a new cluster token.".into()),
                new_token: Some(NewToken {
                    token: creds.token,
                    install_command: creds.install_command,
                    previous_retires: creds.previous_token_retires_at.map(date),
                }),
                ..Extras::default()
            };
            Ok(render(&state, &user, &headers, &org, &cluster, extras)
                .await?
                .into_response())
        }
        Err(e) => failed(&state, &user, &headers, (&org, &cluster), e).await,
    }
}

/// `POST /orgs/{org}/clusters/{cluster}/revoke`: every token stops working
/// and the live tunnel closes.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((org, cluster)): Path<(String, String)>,
    CsrfForm(user, _): CsrfForm<ActionForm>,
) -> Result<Response, WebError> {
    match app::clusters::revoke_token(&state, &user.auth_user(), &org, &cluster).await {
        Ok(c) => Ok(redirect(
            &format!("/orgs/{org}/clusters/{}", c.name),
            [flash(
                &state,
                "Revoked the cluster token: kube-manager is disconnected until you issue a new one.",
            )],
        )),
        Err(e) => failed(&state, &user, &headers, (&org, &cluster), e).await,
    }
}

/// `POST /orgs/{org}/clusters/{cluster}/delete`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((org, cluster)): Path<(String, String)>,
    CsrfForm(user, _): CsrfForm<ActionForm>,
) -> Result<Response, WebError> {
    match app::clusters::delete(&state, &user.auth_user(), &org, &cluster).await {
        Ok(()) => Ok(redirect(
            &format!("/orgs/{org}/clusters"),
            [flash(&state, &format!("Deleted the cluster {cluster}."))],
        )),
        Err(e) => failed(&state, &user, &headers, (&org, &cluster), e).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_reads_in_cores_and_gib() {
        let c: Cluster = serde_json::from_value(serde_json::json!({
            "id": "01932c4e-0000-7000-8000-000000000000",
            "name": "dev",
            "roles": ["target"],
            "permissions": [],
            "status": "active",
            "allocatable_cpu_millis": 7500,
            "allocatable_memory_bytes": 32u64 << 30,
            "node_count": 3,
            "created_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        let d = details(&c);
        assert_eq!(
            (d.cpu.as_str(), d.memory.as_str(), d.nodes.as_str()),
            ("7.5 cores", "32.0 GiB", "3")
        );
        assert_eq!(d.token, "Revoked");
        assert_eq!(d.status_line, "Active · kube-manager is connected");
        assert_eq!(d.summary, "Target cluster, allowing no environments.");
        assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
    }
}
