//! `/orgs/{org}/environments/{env}`: one environment — its summary (kind,
//! catalog, cluster, namespace, owner, status and why, what was asked
//! for, generation and the one observed, whether the cluster is
//! connected), its workloads as the cluster last reported them, warnings
//! from the last apply, the newest events, and the Pause / Resume /
//! Delete buttons the caller may use (the `app` layer decides anyway; the
//! handlers are in `environment_actions`). While the environment is
//! changing the page refreshes itself, without JavaScript.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use lapdev_api::{Environment, EnvironmentEvent, EnvironmentQuery, ReplicasPolicy};
use lapdev_domain::{DesiredState, EnvironmentKind, Role};

use super::environments::{REFRESH_SECS, age, is_problem, kind_label};
use super::layout::{Rendered, Shell, WebError, date, describe, remember_org, take_flash};
use crate::app::{self, AppError};
use crate::auth::SessionUser;
use crate::authz::{self, Action, Object};
use crate::state::AppState;

/// How many events the page shows, newest first.
const EVENTS: u32 = 50;

struct WorkloadRow {
    kind: String,
    name: String,
    ready: String,
    available: u32,
    healthy: bool,
    reason: Option<String>,
    message: Option<String>,
}

struct EventRow {
    at: String,
    warning: bool,
    message: String,
}

/// What the caller may do here (the `app` layer checks again).
struct Actions {
    pause: bool,
    resume: bool,
    delete: bool,
}

#[derive(Template)]
#[template(path = "environment.html")]
struct EnvironmentPage {
    shell: Shell,
    org: String,
    base: String,
    name: String,
    kind: &'static str,
    kind_class: &'static str,
    catalog: String,
    catalog_href: String,
    cluster: String,
    cluster_href: String,
    connected: bool,
    namespace: String,
    owner: Option<String>,
    status: &'static str,
    message: Option<String>,
    problem: bool,
    desired: &'static str,
    replicas: String,
    generation: u64,
    observed: Option<u64>,
    created: String,
    age: String,
    updated: String,
    workloads: Vec<WorkloadRow>,
    warnings: Vec<String>,
    events: Vec<EventRow>,
    events_max: u32,
    actions: Actions,
    refresh: bool,
    refresh_secs: u32,
}

fn replicas_text(policy: ReplicasPolicy) -> String {
    match policy {
        ReplicasPolicy::Keep => "As in the catalog".into(),
        ReplicasPolicy::AtMost(n) => {
            format!(
                "At most {n} {} per workload",
                if n == 1 { "pod" } else { "pods" }
            )
        }
    }
}

/// The caller's buttons, from the same rules `app::environments` applies.
fn actions(user: &SessionUser, role: Role, env: &Environment) -> Actions {
    let owner = (env.summary.owner.as_ref() == Some(&user.username)).then_some(user.id);
    let may = |action| {
        authz::authorize(
            user.id,
            action,
            Object::Environment {
                role: Some(role),
                kind: env.summary.kind,
                owner,
            },
        )
        .is_ok()
    };
    let change = may(Action::ChangeEnvironment);
    Actions {
        pause: change && env.desired == DesiredState::Running,
        resume: change && env.desired == DesiredState::Paused,
        delete: may(Action::DeleteEnvironment) && env.desired != DesiredState::Deleted,
    }
}

fn events(items: Vec<EnvironmentEvent>) -> Vec<EventRow> {
    items
        .into_iter()
        .map(|e| EventRow {
            at: e.at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
            warning: e.level == "warning",
            message: e.message,
        })
        .collect()
}

impl EnvironmentPage {
    fn new(
        shell: Shell,
        org: String,
        env: Environment,
        events: Vec<EventRow>,
        actions: Actions,
    ) -> EnvironmentPage {
        let s = env.summary;
        // A page showing an error keeps it: no reload.
        let refresh = s.status.is_transitional() && shell.error.is_none();
        EnvironmentPage {
            base: format!("/orgs/{org}/environments/{}", s.name),
            catalog_href: format!("/orgs/{org}/catalogs/{}", s.catalog),
            cluster_href: format!("/orgs/{org}/clusters/{}", s.cluster),
            shell,
            org,
            name: s.name.to_string(),
            kind: kind_label(s.kind),
            kind_class: s.kind.as_str(),
            catalog: s.catalog,
            cluster: s.cluster.to_string(),
            connected: env.cluster_connected,
            namespace: s.namespace,
            owner: s.owner.map(|o| o.to_string()),
            status: s.status.as_str(),
            problem: is_problem(s.status),
            message: s.message,
            desired: env.desired.as_str(),
            replicas: replicas_text(env.replicas),
            generation: env.generation,
            observed: env.observed_generation,
            created: date(s.created_at),
            age: age(s.created_at, Timestamp::now()),
            updated: date(s.updated_at),
            workloads: env
                .workloads
                .into_iter()
                .map(|w| WorkloadRow {
                    kind: w.kind.to_string(),
                    healthy: w.available >= w.desired && w.reason.is_none(),
                    ready: format!("{}/{}", w.ready, w.desired),
                    available: w.available,
                    name: w.name,
                    reason: w.reason,
                    message: w.message,
                })
                .collect(),
            warnings: env.warnings,
            events,
            events_max: EVENTS,
            actions,
            refresh,
            refresh_secs: REFRESH_SECS,
        }
    }

    fn is_personal(&self) -> bool {
        self.kind_class == EnvironmentKind::Personal.as_str()
    }
}

/// The page, with a flash or an error message.
pub(super) async fn render(
    state: &AppState,
    user: &SessionUser,
    headers: &HeaderMap,
    (org, name): (&str, &str),
    flash: Option<String>,
    error: Option<String>,
) -> Result<Rendered, WebError> {
    let caller = user.auth_user();
    let membership = app::organizations::get(state, &caller, org).await?;
    let org = membership.organization.name.to_string();
    let env =
        app::environments::get(state, &caller, &org, name, EnvironmentQuery::default()).await?;
    let listed = app::environments::events(state, &caller, &org, name, Some(EVENTS)).await?;
    let actions = actions(user, membership.role, &env);
    let mut shell = Shell::load(state, user, headers, Some(&membership), "environments").await?;
    shell.flash = flash;
    shell.error = error;
    let remember = remember_org(state, &org);
    let view = EnvironmentPage::new(shell, org, env, events(listed.items), actions);
    Ok(Rendered::new(&view)?.cookie(remember))
}

/// The page again with a failed action's message and status; an
/// environment or organization that is not visible is a 404 page.
pub(super) async fn failed(
    state: &AppState,
    user: &SessionUser,
    headers: &HeaderMap,
    at: (&str, &str),
    e: AppError,
) -> Result<Response, WebError> {
    if matches!(e, AppError::NotFound(_)) {
        return Err(e.into());
    }
    let (status, message) = describe(e);
    Ok(render(state, user, headers, at, None, Some(message))
        .await?
        .status(status)
        .into_response())
}

/// `GET /orgs/{org}/environments/{env}`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: SessionUser,
    headers: HeaderMap,
    Path((org, name)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let (flash, clear) = take_flash(&state, &headers);
    Ok(render(&state, &user, &headers, (&org, &name), flash, None)
        .await?
        .cookies(clear)
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_read_as_words() {
        assert_eq!(replicas_text(ReplicasPolicy::Keep), "As in the catalog");
        assert_eq!(
            replicas_text(ReplicasPolicy::AtMost(1)),
            "At most 1 pod per workload"
        );
        assert_eq!(
            replicas_text(ReplicasPolicy::AtMost(0)),
            "At most 0 pods per workload"
        );
    }
}
