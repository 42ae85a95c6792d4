//! The environment forms: "Create environment" on a catalog page (posted
//! to `/orgs/{org}/catalogs/{catalog}/environments`; its view is
//! [`CreateSection`]) and Pause / Resume / Delete on an environment page.
//! Each calls `app::environments`, which authorizes, checks the cluster and
//! the Secret values, and audits; a refusal shows the page again with a
//! readable message (the form kept, Secret values never echoed).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use lapdev_api::{Catalog, ClusterStatus, CreateEnvironment, ReplicasPolicy, SecretValueInput};
use lapdev_domain::{CatalogName, ClusterName, ClusterRole, EnvironmentKind, EnvironmentName};
use serde::Deserialize;

use super::catalog::{Extras, render as render_catalog};
use super::environment::failed;
use super::forms::{CsrfForm, csrf_protected};
use super::layout::{WebError, describe, flash, redirect};
use crate::app::{self, AppError, PageRequest};
use crate::auth::AuthUser;
use crate::state::AppState;

/// The form field of a Secret value: `secret:SECRET/KEY`.
const SECRET_PREFIX: &str = "secret:";

/// The create form as last filled (never with Secret values).
#[derive(Debug, Default)]
pub(super) struct EnvironmentDraft {
    pub(super) name: String,
    pub(super) kind: String,
    pub(super) cluster: String,
    pub(super) replicas: String,
}

/// A cluster with the target role, as the select offers it.
pub(super) struct TargetOption {
    pub(super) name: String,
    /// `allows personal, shared · active`.
    pub(super) label: String,
    pub(super) selected: bool,
}

/// One password input for a value the catalog redacted.
pub(super) struct SecretInput {
    pub(super) field: String,
    pub(super) secret: String,
    pub(super) key: String,
}

/// The "Create environment" section of a catalog page.
pub(super) struct CreateSection {
    pub(super) action: String,
    pub(super) targets: Vec<TargetOption>,
    /// Admins may create Shared environments.
    pub(super) may_share: bool,
    pub(super) shared: bool,
    pub(super) secrets: Vec<SecretInput>,
    pub(super) draft: EnvironmentDraft,
}

fn target_label(c: &lapdev_api::Cluster) -> String {
    let allows = if c.permissions.is_empty() {
        "allows no environments".to_string()
    } else {
        let names: Vec<&str> = c.permissions.iter().map(|p| p.as_str()).collect();
        format!("allows {}", names.join(", "))
    };
    let status = match c.status {
        ClusterStatus::Active => "connected",
        ClusterStatus::Pending => "never connected",
        ClusterStatus::Offline => "offline",
    };
    format!("{allows} · {status}")
}

/// The section for catalog `c`, with the clusters the caller can see.
pub(super) async fn create_section(
    state: &AppState,
    caller: &AuthUser,
    org: &str,
    c: &Catalog,
    is_admin: bool,
    draft: EnvironmentDraft,
) -> Result<CreateSection, WebError> {
    let clusters = app::clusters::list(state, caller, org, PageRequest::longest(None)).await?;
    let mut targets: Vec<TargetOption> = clusters
        .items
        .iter()
        .filter(|t| t.roles.contains(&ClusterRole::Target))
        .map(|t| TargetOption {
            name: t.name.to_string(),
            label: target_label(t),
            selected: draft.cluster == t.name.as_str(),
        })
        .collect();
    if !targets.iter().any(|t| t.selected)
        && let Some(first) = targets.first_mut()
    {
        first.selected = true;
    }
    Ok(CreateSection {
        action: format!("/orgs/{org}/catalogs/{}/environments", c.summary.name),
        targets,
        may_share: is_admin,
        shared: is_admin && draft.kind == EnvironmentKind::Shared.as_str(),
        secrets: c
            .required_values
            .iter()
            .map(|v| SecretInput {
                field: format!("{SECRET_PREFIX}{}/{}", v.secret, v.key),
                secret: v.secret.clone(),
                key: v.key.clone(),
            })
            .collect(),
        draft,
    })
}

#[derive(Deserialize)]
pub(crate) struct CreateForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    cluster: String,
    #[serde(default)]
    replicas: String,
    /// The Secret values: `secret:SECRET/KEY` = value.
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

#[derive(Deserialize)]
pub(crate) struct ActionForm {
    #[serde(default)]
    csrf_token: String,
}

csrf_protected!(CreateForm, ActionForm);

/// `keep`, a number of pods, or empty for the kind's default.
fn parse_replicas(s: &str) -> Result<Option<ReplicasPolicy>, AppError> {
    match s.trim() {
        "" | "default" => Ok(None),
        "keep" => Ok(Some(ReplicasPolicy::Keep)),
        n => n
            .parse::<u32>()
            .map(|n| Some(ReplicasPolicy::AtMost(n)))
            .map_err(|_| {
                AppError::invalid(
                    "replicas",
                    format!(
                        "{n:?} is not a number of pods: leave it empty for the default, \
                         or write keep (as in the catalog) or a number"
                    ),
                )
            }),
    }
}

impl CreateForm {
    fn draft(&self) -> EnvironmentDraft {
        EnvironmentDraft {
            name: self.name.trim().to_string(),
            kind: self.kind.trim().to_string(),
            cluster: self.cluster.trim().to_string(),
            replicas: self.replicas.trim().to_string(),
        }
    }

    fn request(&self, catalog: &str, d: &EnvironmentDraft) -> Result<CreateEnvironment, AppError> {
        let name = EnvironmentName::parse(d.name.clone())
            .map_err(|e| AppError::invalid("name", e.reason))?;
        let catalog =
            CatalogName::parse(catalog.to_string()).map_err(|_| AppError::NotFound("catalog"))?;
        let kind = match d.kind.as_str() {
            "" => EnvironmentKind::Personal,
            k => k
                .parse::<EnvironmentKind>()
                .map_err(|e| AppError::invalid("kind", e))?,
        };
        if d.cluster.is_empty() {
            return Err(AppError::invalid(
                "cluster",
                "choose a cluster with the target role",
            ));
        }
        let cluster =
            ClusterName::parse(d.cluster.clone()).map_err(|_| AppError::NotFound("cluster"))?;
        let secret_values = self
            .rest
            .iter()
            .filter_map(|(field, value)| {
                let place = field.strip_prefix(SECRET_PREFIX)?;
                let (secret, key) = place.split_once('/')?;
                // An empty input is a value not given (the app names it).
                (!value.is_empty()).then(|| SecretValueInput {
                    secret: secret.to_string(),
                    key: key.to_string(),
                    value: value.clone(),
                })
            })
            .collect();
        Ok(CreateEnvironment {
            name,
            catalog,
            cluster,
            kind,
            replicas: parse_replicas(&d.replicas)?,
            secret_values,
        })
    }
}

/// `POST /orgs/{org}/catalogs/{catalog}/environments`: creates an
/// environment from the catalog and opens its page; on failure the
/// catalog page again, with the form and the message.
pub(crate) async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((org, catalog)): Path<(String, String)>,
    CsrfForm(user, f): CsrfForm<CreateForm>,
) -> Result<Response, WebError> {
    let draft = f.draft();
    let created = match f.request(&catalog, &draft) {
        Ok(req) => app::environments::create(&state, &user.auth_user(), &org, req).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(env) => {
            let s = env.summary;
            Ok(redirect(
                &format!("/orgs/{org}/environments/{}", s.name),
                [flash(
                    &state,
                    &format!(
                        "Created the environment {}: it is starting on cluster {} in namespace {}.",
                        s.name, s.cluster, s.namespace
                    ),
                )],
            ))
        }
        Err(e) => {
            if matches!(e, AppError::NotFound("organization" | "catalog")) {
                return Err(e.into());
            }
            let (status, message) = describe(e);
            let extras = Extras {
                error: Some(message),
                environment: Some(draft),
                ..Extras::default()
            };
            Ok(
                render_catalog(&state, &user, &headers, (&org, &catalog), extras)
                    .await?
                    .status(status)
                    .into_response(),
            )
        }
    }
}

/// `POST /orgs/{org}/environments/{env}/pause`.
pub(crate) async fn pause(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((org, name)): Path<(String, String)>,
    CsrfForm(user, _): CsrfForm<ActionForm>,
) -> Result<Response, WebError> {
    match app::environments::pause(&state, &user.auth_user(), &org, &name).await {
        Ok(env) => Ok(redirect(
            &format!("/orgs/{org}/environments/{}", env.summary.name),
            [flash(
                &state,
                &format!("Pausing {}: its workloads scale to zero.", env.summary.name),
            )],
        )),
        Err(e) => failed(&state, &user, &headers, (&org, &name), e).await,
    }
}

/// `POST /orgs/{org}/environments/{env}/resume`.
pub(crate) async fn resume(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((org, name)): Path<(String, String)>,
    CsrfForm(user, _): CsrfForm<ActionForm>,
) -> Result<Response, WebError> {
    match app::environments::resume(&state, &user.auth_user(), &org, &name).await {
        Ok(env) => Ok(redirect(
            &format!("/orgs/{org}/environments/{}", env.summary.name),
            [flash(
                &state,
                &format!(
                    "Resuming {}: its workloads scale back up.",
                    env.summary.name
                ),
            )],
        )),
        Err(e) => failed(&state, &user, &headers, (&org, &name), e).await,
    }
}

/// `POST /orgs/{org}/environments/{env}/delete`: back to the list, where
/// it shows as deleting until its namespace is gone.
pub(crate) async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((org, name)): Path<(String, String)>,
    CsrfForm(user, _): CsrfForm<ActionForm>,
) -> Result<Response, WebError> {
    match app::environments::delete(&state, &user.auth_user(), &org, &name).await {
        Ok(env) => Ok(redirect(
            &format!("/orgs/{org}/environments"),
            [flash(
                &state,
                &format!(
                    "Deleting {}: its namespace {} is being removed.",
                    env.summary.name, env.summary.namespace
                ),
            )],
        )),
        Err(e) => failed(&state, &user, &headers, (&org, &name), e).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A form as posted: the named fields, the rest as Secret inputs.
    fn form(fields: &[(&str, &str)]) -> CreateForm {
        let get = |k: &str| {
            fields
                .iter()
                .find(|(f, _)| *f == k)
                .map(|(_, v)| v.to_string())
                .unwrap_or_default()
        };
        CreateForm {
            csrf_token: get("csrf_token"),
            name: get("name"),
            kind: get("kind"),
            cluster: get("cluster"),
            replicas: get("replicas"),
            rest: fields
                .iter()
                .filter(|(f, _)| f.starts_with(SECRET_PREFIX))
                .map(|(f, v)| (f.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn the_form_reads_into_a_request() {
        let f = form(&[
            ("csrf_token", "t"),
            ("name", " mine "),
            ("kind", "shared"),
            ("cluster", "dev"),
            ("replicas", "keep"),
            ("secret:db/password", "hunter2"),
            ("secret:db/empty", ""),
        ]);
        let req = f.request("shop", &f.draft()).unwrap();
        assert_eq!(req.name.as_str(), "mine");
        assert_eq!(req.kind, EnvironmentKind::Shared);
        assert_eq!(req.replicas, Some(ReplicasPolicy::Keep));
        assert_eq!(req.secret_values.len(), 1, "an empty value is not given");
        assert_eq!(
            (
                req.secret_values[0].secret.as_str(),
                req.secret_values[0].key.as_str()
            ),
            ("db", "password")
        );
        // The draft never carries a value.
        assert!(!format!("{:?}", f.draft()).contains("hunter2"));
    }

    #[test]
    fn replicas_are_empty_keep_or_a_number() {
        assert_eq!(parse_replicas(" ").unwrap(), None);
        assert_eq!(parse_replicas("keep").unwrap(), Some(ReplicasPolicy::Keep));
        assert_eq!(
            parse_replicas("2").unwrap(),
            Some(ReplicasPolicy::AtMost(2))
        );
        let e = parse_replicas("many").unwrap_err();
        assert!(describe(e).1.starts_with("Replicas: \"many\" is not"));
    }

    #[test]
    fn a_cluster_is_required_and_kinds_are_checked() {
        let f = form(&[("name", "mine")]);
        let e = f.request("shop", &f.draft()).unwrap_err();
        assert_eq!(
            describe(e).1,
            "Cluster: choose a cluster with the target role"
        );
        let f = form(&[("name", "mine"), ("kind", "branch"), ("cluster", "dev")]);
        let e = f.request("shop", &f.draft()).unwrap_err();
        assert!(describe(e).1.starts_with("Kind: unknown environment kind"));
    }
}
