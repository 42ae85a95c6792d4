//! `/orgs/{org}/clusters`: the organization's clusters with their status,
//! roles, permissions and what kube-manager reported, for every member;
//! for admins, a form to connect a cluster, which shows the cluster token
//! and the install command once. Everything goes through `app::clusters`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use lapdev_api::{Cluster, ClusterCredentials, ClusterStatus, CreateCluster};
use lapdev_domain::{ClusterName, ClusterPermission, ClusterRole};
use serde::Deserialize;

use super::forms::{CsrfForm, csrf_protected};
use super::layout::{Rendered, Shell, WebError, date, describe, remember_org, take_flash};
use crate::app::{self, AppError, PageRequest};
use crate::auth::SessionUser;
use crate::state::AppState;

struct Row {
    href: String,
    name: String,
    status: &'static str,
    roles: Vec<&'static str>,
    permissions: Vec<&'static str>,
    kubernetes: String,
    nodes: String,
    last_seen: String,
}

fn last_seen(c: &Cluster) -> String {
    match (c.status, c.last_seen_at) {
        (ClusterStatus::Active, _) => "Connected".into(),
        (_, Some(t)) => date(t),
        (_, None) => "Never".into(),
    }
}

fn row(org: &str, c: Cluster) -> Row {
    Row {
        href: format!("/orgs/{org}/clusters/{}", c.name),
        last_seen: last_seen(&c),
        name: c.name.to_string(),
        status: c.status.as_str(),
        roles: c.roles.iter().map(|r| r.as_str()).collect(),
        permissions: c.permissions.iter().map(|p| p.as_str()).collect(),
        kubernetes: c.kubernetes_version.unwrap_or_else(|| "—".into()),
        nodes: c.node_count.map_or_else(|| "—".into(), |n| n.to_string()),
    }
}

/// The roles and permissions checkboxes (and, on the connect form, a name).
pub(super) struct Draft {
    pub(super) name: String,
    pub(super) source: bool,
    pub(super) target: bool,
    pub(super) personal: bool,
    pub(super) shared: bool,
}

impl Draft {
    pub(super) fn of(c: &Cluster) -> Draft {
        Draft {
            name: c.name.to_string(),
            source: c.roles.contains(&ClusterRole::Source),
            target: c.roles.contains(&ClusterRole::Target),
            personal: c.permissions.contains(&ClusterPermission::Personal),
            shared: c.permissions.contains(&ClusterPermission::Shared),
        }
    }

    pub(super) fn roles(&self) -> Vec<ClusterRole> {
        [
            (self.source, ClusterRole::Source),
            (self.target, ClusterRole::Target),
        ]
        .into_iter()
        .filter_map(|(on, r)| on.then_some(r))
        .collect()
    }

    pub(super) fn permissions(&self) -> Vec<ClusterPermission> {
        [
            (self.personal, ClusterPermission::Personal),
            (self.shared, ClusterPermission::Shared),
        ]
        .into_iter()
        .filter_map(|(on, p)| on.then_some(p))
        .collect()
    }
}

impl Default for Draft {
    fn default() -> Self {
        Draft {
            name: String::new(),
            source: true,
            target: true,
            personal: true,
            shared: true,
        }
    }
}

/// A cluster just connected: its token and install command, shown once.
struct Connected {
    name: String,
    token: String,
    install_command: String,
}

#[derive(Template)]
#[template(path = "clusters.html")]
struct ClustersPage {
    shell: Shell,
    org: String,
    rows: Vec<Row>,
    connected: Option<Connected>,
    draft: Draft,
}

#[derive(Default)]
struct Extras {
    flash: Option<String>,
    error: Option<String>,
    connected: Option<Connected>,
    draft: Option<Draft>,
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
    let page = app::clusters::list(state, &caller, org, PageRequest::longest(None)).await?;
    let mut shell = Shell::load(state, user, headers, Some(&membership), "clusters").await?;
    shell.flash = extras.flash;
    shell.error = extras.error;
    let org = membership.organization.name.to_string();
    let remember = remember_org(state, &org);
    let view = ClustersPage {
        shell,
        rows: page.items.into_iter().map(|c| row(&org, c)).collect(),
        org,
        connected: extras.connected,
        draft: extras.draft.unwrap_or_default(),
    };
    Ok(Rendered::new(&view)?.cookie(remember))
}

/// `GET /orgs/{org}/clusters`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: SessionUser,
    headers: HeaderMap,
    Path(org): Path<String>,
) -> Result<Response, WebError> {
    let (flash, clear) = take_flash(&state, &headers);
    let extras = Extras {
        flash,
        ..Extras::default()
    };
    Ok(render(&state, &user, &headers, &org, extras)
        .await?
        .cookies(clear)
        .into_response())
}

#[derive(Deserialize)]
pub(crate) struct ConnectForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    role_source: Option<String>,
    role_target: Option<String>,
    permission_personal: Option<String>,
    permission_shared: Option<String>,
}

csrf_protected!(ConnectForm);

impl ConnectForm {
    fn draft(&self) -> Draft {
        Draft {
            name: self.name.trim().to_string(),
            source: self.role_source.is_some(),
            target: self.role_target.is_some(),
            personal: self.permission_personal.is_some(),
            shared: self.permission_shared.is_some(),
        }
    }
}

fn parse_connect(d: &Draft) -> Result<CreateCluster, AppError> {
    let name =
        ClusterName::parse(d.name.clone()).map_err(|e| AppError::invalid("name", e.reason))?;
    Ok(CreateCluster {
        name,
        roles: Some(d.roles()),
        permissions: Some(d.permissions()),
    })
}

/// `POST /orgs/{org}/clusters`: connects a cluster (admins) and shows its
/// token and install command in this response only.
pub(crate) async fn connect(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(org): Path<String>,
    CsrfForm(user, f): CsrfForm<ConnectForm>,
) -> Result<Response, WebError> {
    let draft = f.draft();
    let base = crate::http::install::base_url(&state, &headers);
    let created = match parse_connect(&draft) {
        Ok(req) => app::clusters::create(&state, &user.auth_user(), &org, req, &base).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(ClusterCredentials {
            cluster,
            token,
            install_command,
            ..
        }) => {
            let name = cluster.name.to_string();
            let extras = Extras {
                flash: Some(format!(
                    "Created the cluster {name}. Install kube-manager in it to connect it."
                )),
                connected: Some(Connected {
                    name,
                    token,
                    install_command,
                }),
                ..Extras::default()
            };
            Ok(render(&state, &user, &headers, &org, extras)
                .await?
                .status(StatusCode::CREATED)
                .into_response())
        }
        Err(AppError::NotFound("organization")) => Err(AppError::NotFound("organization").into()),
        Err(e) => {
            let (status, message) = describe(e);
            let extras = Extras {
                error: Some(message),
                draft: Some(draft),
                ..Extras::default()
            };
            Ok(render(&state, &user, &headers, &org, extras)
                .await?
                .status(status)
                .into_response())
        }
    }
}
