//! `/orgs/{org}/catalogs/{catalog}`: one App Catalog — its workloads, what
//! each depends on (Secret keys only, never values), warnings, and the
//! Secret policy — and the "Create environment" form for every member
//! (`environment_actions`); for admins, editing, removing workloads,
//! "Refresh from source" (a per-object diff preview with an Apply button)
//! and deleting (the handlers are in `catalog_actions`). Reads through
//! `app::catalogs::get`.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use lapdev_api::{
    Catalog, CatalogWarning, FieldValue, ObjectChange, ObjectRef, RefreshPreview, SecretAction,
    Severity,
};

use super::environment_actions::{CreateSection, EnvironmentDraft, create_section};
use super::layout::{Rendered, Shell, WebError, date, describe, remember_org, take_flash};
use crate::app::{self, AppError};
use crate::auth::SessionUser;
use crate::state::AppState;

/// A workload of the catalog.
struct WorkloadRow {
    /// `namespace/Kind/name`, what the remove form sends.
    id: String,
    namespace: String,
    kind: String,
    name: String,
    depends_on: Vec<Dependency>,
}

/// One object a workload uses.
struct Dependency {
    kind: String,
    name: String,
    /// For a Secret: stored keys, redacted keys.
    keys: Vec<String>,
    redacted: Vec<String>,
    excluded: bool,
}

struct WarningRow {
    warning: bool,
    workload: String,
    field: String,
    missing: String,
}

/// A Secret of the catalog with what the policy keeps of it.
struct SecretRow {
    name: String,
    namespace: String,
    /// `(key, "copy" | "redact")`.
    keys: Vec<(String, &'static str)>,
    excluded: bool,
}

struct RuleRow {
    target: String,
    action: &'static str,
}

/// A refresh preview as the page shows it.
pub(super) struct Preview {
    digest: String,
    changes: Vec<ChangeRow>,
    warnings: usize,
}

struct ChangeRow {
    object: String,
    change: &'static str,
    fields: Vec<FieldRow>,
}

struct FieldRow {
    path: String,
    old: String,
    new: String,
}

fn action_str(a: SecretAction) -> &'static str {
    match a {
        SecretAction::Copy => "copy",
        SecretAction::Redact => "redact",
        SecretAction::Exclude => "exclude",
    }
}

/// A value of a diff, short: JSON, at most 160 characters.
fn shown(v: &FieldValue) -> String {
    match v {
        FieldValue::Absent => "(absent)".into(),
        FieldValue::Hidden => "(secret value, hidden)".into(),
        FieldValue::Value(v) => {
            let s = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if s.chars().count() > 160 {
                format!("{}…", s.chars().take(160).collect::<String>())
            } else {
                s
            }
        }
    }
}

pub(super) fn preview(p: RefreshPreview) -> Preview {
    Preview {
        digest: p.digest,
        warnings: p.warnings.len(),
        changes: p
            .changes
            .into_iter()
            .map(|d| {
                let (change, fields) = match d.change {
                    ObjectChange::Added => ("added", Vec::new()),
                    ObjectChange::Removed => ("removed", Vec::new()),
                    ObjectChange::Changed { fields } => (
                        "changed",
                        fields
                            .iter()
                            .map(|f| FieldRow {
                                path: f.path.clone(),
                                old: shown(&f.old),
                                new: shown(&f.new),
                            })
                            .collect(),
                    ),
                };
                ChangeRow {
                    object: d.object.to_string(),
                    change,
                    fields,
                }
            })
            .collect(),
    }
}

fn warning_row(w: &CatalogWarning) -> WarningRow {
    WarningRow {
        warning: w.severity == Severity::Warning,
        workload: format!(
            "{}/{}",
            w.workload.namespace.as_deref().unwrap_or("-"),
            w.workload.name
        ),
        field: w.field.clone(),
        missing: match &w.key {
            Some(k) => format!("{} {} (key {k})", w.missing.kind, w.missing.name),
            None => format!("{} {}", w.missing.kind, w.missing.name),
        },
    }
}

#[derive(Template)]
#[template(path = "catalog.html")]
struct CatalogPage {
    shell: Shell,
    org: String,
    base: String,
    name: String,
    description: String,
    source: Option<String>,
    source_href: String,
    created: String,
    updated: String,
    workloads: Vec<WorkloadRow>,
    warnings: Vec<WarningRow>,
    warning_count: usize,
    secret_default: &'static str,
    rules: Vec<RuleRow>,
    secrets: Vec<SecretRow>,
    required: Vec<String>,
    preview: Option<Preview>,
    create_environment: CreateSection,
}

impl CatalogPage {
    fn new(
        shell: Shell,
        org: String,
        c: Catalog,
        preview: Option<Preview>,
        create_environment: CreateSection,
    ) -> CatalogPage {
        let objects: BTreeMap<&ObjectRef, _> = c.objects.iter().map(|o| (&o.object, o)).collect();
        let dependency = |r: &ObjectRef| {
            let o = objects.get(r);
            Dependency {
                kind: r.kind.clone(),
                name: r.name.clone(),
                keys: o.map(|o| o.secret_keys.clone()).unwrap_or_default(),
                redacted: o.map(|o| o.redacted_keys.clone()).unwrap_or_default(),
                excluded: r.kind == "Secret" && c.excluded_secrets.contains(r),
            }
        };
        let workloads = c
            .workloads
            .iter()
            .map(|w| {
                let deps = c
                    .dependencies
                    .iter()
                    .find(|d| {
                        d.workload.name == w.name
                            && d.workload.kind == w.kind.as_str()
                            && d.workload.namespace.as_deref() == Some(w.namespace.as_str())
                    })
                    .map(|d| d.depends_on.iter().map(dependency).collect())
                    .unwrap_or_default();
                WorkloadRow {
                    id: w.to_string(),
                    namespace: w.namespace.clone(),
                    kind: w.kind.to_string(),
                    name: w.name.clone(),
                    depends_on: deps,
                }
            })
            .collect();
        let mut secrets: Vec<SecretRow> = c
            .objects
            .iter()
            .filter(|o| o.object.kind == "Secret")
            .map(|o| SecretRow {
                name: o.object.name.clone(),
                namespace: o.object.namespace.clone().unwrap_or_default(),
                keys: o
                    .secret_keys
                    .iter()
                    .map(|k| (k.clone(), "copy"))
                    .chain(o.redacted_keys.iter().map(|k| (k.clone(), "redact")))
                    .collect(),
                excluded: false,
            })
            .collect();
        secrets.extend(c.excluded_secrets.iter().map(|r| SecretRow {
            name: r.name.clone(),
            namespace: r.namespace.clone().unwrap_or_default(),
            keys: Vec::new(),
            excluded: true,
        }));
        let s = c.summary;
        CatalogPage {
            shell,
            base: format!("/orgs/{org}/catalogs/{}", s.name),
            source_href: s
                .source_cluster
                .as_ref()
                .map(|n| format!("/orgs/{org}/clusters/{n}"))
                .unwrap_or_default(),
            org,
            name: s.name.to_string(),
            description: s.description,
            source: s.source_cluster.map(|n| n.to_string()),
            created: date(s.created_at),
            updated: date(s.updated_at),
            workloads,
            warning_count: c.warnings.len(),
            warnings: c.warnings.iter().map(warning_row).collect(),
            secret_default: action_str(c.secret_policy.default),
            rules: c
                .secret_policy
                .rules
                .iter()
                .map(|r| RuleRow {
                    target: format!(
                        "{}{}{}",
                        r.namespace
                            .as_ref()
                            .map(|n| format!("{n}/"))
                            .unwrap_or_default(),
                        r.secret,
                        r.key
                            .as_ref()
                            .map(|k| format!(" key {k}"))
                            .unwrap_or_default()
                    ),
                    action: action_str(r.action),
                })
                .collect(),
            secrets,
            required: c
                .required_values
                .iter()
                .map(|v| format!("{} / {}", v.secret, v.key))
                .collect(),
            preview,
            create_environment,
        }
    }
}

/// What a render adds to the stored catalog.
#[derive(Default)]
pub(super) struct Extras {
    pub(super) flash: Option<String>,
    pub(super) error: Option<String>,
    pub(super) preview: Option<Preview>,
    /// The "Create environment" form as last posted.
    pub(super) environment: Option<EnvironmentDraft>,
}

pub(super) async fn render(
    state: &AppState,
    user: &SessionUser,
    headers: &HeaderMap,
    (org, catalog): (&str, &str),
    extras: Extras,
) -> Result<Rendered, WebError> {
    let caller = user.auth_user();
    let membership = app::organizations::get(state, &caller, org).await?;
    let c = app::catalogs::get(state, &caller, org, catalog).await?;
    let mut shell = Shell::load(state, user, headers, Some(&membership), "catalogs").await?;
    shell.flash = extras.flash;
    shell.error = extras.error;
    let org = membership.organization.name.to_string();
    let create_environment = create_section(
        state,
        &caller,
        &org,
        &c,
        shell.is_admin,
        extras.environment.unwrap_or_default(),
    )
    .await?;
    let remember = remember_org(state, &org);
    let view = CatalogPage::new(shell, org, c, extras.preview, create_environment);
    Ok(Rendered::new(&view)?.cookie(remember))
}

/// The page again with a failed action's message and status; a catalog or
/// organization that is not visible is a 404 page.
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
    let extras = Extras {
        error: Some(message),
        ..Extras::default()
    };
    Ok(render(state, user, headers, at, extras)
        .await?
        .status(status)
        .into_response())
}

/// `GET /orgs/{org}/catalogs/{catalog}`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: SessionUser,
    headers: HeaderMap,
    Path((org, catalog)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let (flash, clear) = take_flash(&state, &headers);
    let extras = Extras {
        flash,
        ..Extras::default()
    };
    Ok(render(&state, &user, &headers, (&org, &catalog), extras)
        .await?
        .cookies(clear)
        .into_response())
}
