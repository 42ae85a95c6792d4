//! The workloads table on the page of a source cluster (filters as a GET
//! form, checkboxes, read live through the tunnel by `app::workloads`) and
//! its "Create App Catalog" form, posted to
//! `/orgs/{org}/clusters/{cluster}/catalogs` (`app::catalogs::create`).
//! A cluster that is not a source, or not connected, says so instead.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use lapdev_api::{
    Cluster, ClusterStatus, CreateCatalog, SecretAction, SecretPolicy, SecretRule, WorkloadKind,
    WorkloadRef, WorkloadsQuery,
};
use lapdev_domain::{CatalogName, ClusterName, ClusterRole};
use serde::Deserialize;

use super::cluster_settings;
use super::forms::{CsrfForm, csrf_protected};
use super::layout::{WebError, flash, redirect};
use crate::app::{self, AppError};
use crate::auth::AuthUser;
use crate::state::AppState;

/// The filters of the table, as the GET form sends them.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    pub(super) namespace: String,
    #[serde(default)]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) name: String,
    /// `on` when system workloads are shown.
    #[serde(default)]
    pub(super) system: Option<String>,
}

impl Filters {
    pub(super) fn system(&self) -> bool {
        self.system.as_deref().is_some_and(|s| !s.is_empty())
    }

    fn query(&self) -> WorkloadsQuery {
        let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        WorkloadsQuery {
            namespace: some(&self.namespace),
            kind: some(&self.kind),
            name: some(&self.name),
            include_system: self.system(),
        }
    }

    pub(super) fn any(&self) -> bool {
        !self.namespace.trim().is_empty()
            || !self.kind.trim().is_empty()
            || !self.name.trim().is_empty()
            || self.system()
    }
}

/// One row of the table.
pub(super) struct Row {
    /// `namespace/Kind/name`, the checkbox value.
    pub(super) id: String,
    pub(super) namespace: String,
    pub(super) kind: &'static str,
    pub(super) name: String,
    pub(super) images: Vec<String>,
    pub(super) replicas: String,
    pub(super) ready: bool,
    pub(super) checked: bool,
}

/// The create form as last filled.
#[derive(Default)]
pub(super) struct CatalogDraft {
    pub(super) name: String,
    pub(super) description: String,
    pub(super) secret_default: String,
    pub(super) secret_rules: String,
    pub(super) selected: BTreeSet<String>,
}

/// What the cluster page shows under "Workloads".
pub(super) enum Table {
    /// The cluster does not have the source role.
    NotSource,
    /// kube-manager is not connected; `status` is the cluster's.
    NotConnected {
        status: &'static str,
    },
    /// Listing failed (the cluster went away meanwhile, a bad filter, …).
    Failed {
        message: String,
    },
    Listed {
        rows: Vec<Row>,
        truncated: bool,
    },
}

/// The "Workloads" section of a cluster page.
pub(super) struct Section {
    pub(super) table: Table,
    pub(super) filters: Filters,
    pub(super) kinds: [&'static str; 3],
    pub(super) draft: CatalogDraft,
}

impl Section {
    pub(super) fn is_source(&self) -> bool {
        !matches!(self.table, Table::NotSource)
    }
}

/// Reads the workloads of `cluster` live if it is a connected source.
pub(super) async fn load(
    state: &AppState,
    caller: &AuthUser,
    org: &str,
    cluster: &Cluster,
    filters: Filters,
    draft: Option<CatalogDraft>,
) -> Section {
    let draft = draft.unwrap_or_default();
    let table = if !cluster.roles.contains(&ClusterRole::Source) {
        Table::NotSource
    } else if cluster.status != ClusterStatus::Active {
        Table::NotConnected {
            status: cluster.status.as_str(),
        }
    } else {
        let listed =
            app::workloads::list(state, caller, org, cluster.name.as_str(), filters.query()).await;
        match listed {
            Ok(list) => Table::Listed {
                rows: list
                    .items
                    .into_iter()
                    .map(|w| {
                        let id = format!("{}/{}/{}", w.namespace, w.kind, w.name);
                        Row {
                            checked: draft.selected.contains(&id),
                            id,
                            namespace: w.namespace,
                            kind: w.kind.as_str(),
                            name: w.name,
                            images: w.images,
                            replicas: format!("{}/{}", w.available_replicas, w.replicas),
                            ready: w.ready,
                        }
                    })
                    .collect(),
                truncated: list.truncated,
            },
            Err(e) => Table::Failed {
                message: super::layout::describe(e).1,
            },
        }
    };
    Section {
        table,
        filters,
        kinds: WorkloadKind::ALL.map(WorkloadKind::as_str),
        draft,
    }
}

#[derive(Deserialize)]
pub(crate) struct CreateForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    catalog_name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    secret_default: String,
    #[serde(default)]
    secret_rules: String,
    #[serde(default)]
    filter_namespace: String,
    #[serde(default)]
    filter_kind: String,
    #[serde(default)]
    filter_name: String,
    #[serde(default)]
    filter_system: String,
    /// The checkboxes: `w:namespace/Kind/name` = `on`.
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

csrf_protected!(CreateForm);

fn parse_action(s: &str) -> Option<SecretAction> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "copy" => Some(SecretAction::Copy),
        "redact" => Some(SecretAction::Redact),
        "exclude" => Some(SecretAction::Exclude),
        _ => None,
    }
}

/// Parses the policy: a default and one rule a line, `secret action` or
/// `secret/key action` (action: copy, redact or exclude).
pub(super) fn parse_policy(default: &str, rules: &str) -> Result<SecretPolicy, AppError> {
    let default = parse_action(default)
        .ok_or_else(|| AppError::invalid("secret_default", "choose copy, redact or exclude"))?;
    let mut parsed = Vec::new();
    for (n, line) in rules.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = || {
            AppError::invalid(
                "secret_rules",
                format!(
                    "line {}: {line:?} is not `secret action` or `secret/key action` \
                     (action: copy, redact or exclude)",
                    n + 1
                ),
            )
        };
        let (target, action) = line.rsplit_once(char::is_whitespace).ok_or_else(bad)?;
        let action = parse_action(action)
            .filter(|_| !action.is_empty())
            .ok_or_else(bad)?;
        let (secret, key) = match target.trim().split_once('/') {
            Some((s, k)) => (s.trim(), Some(k.trim().to_string())),
            None => (target.trim(), None),
        };
        if secret.is_empty() || key.as_deref() == Some("") {
            return Err(bad());
        }
        parsed.push(SecretRule {
            namespace: None,
            secret: secret.to_string(),
            key,
            action,
        });
    }
    Ok(SecretPolicy {
        default,
        rules: parsed,
    })
}

impl CreateForm {
    fn draft(&self) -> CatalogDraft {
        CatalogDraft {
            name: self.catalog_name.trim().to_string(),
            description: self.description.clone(),
            secret_default: self.secret_default.clone(),
            secret_rules: self.secret_rules.clone(),
            selected: self
                .rest
                .keys()
                .filter_map(|k| k.strip_prefix("w:"))
                .map(str::to_string)
                .collect(),
        }
    }

    fn filters(&self) -> Filters {
        Filters {
            namespace: self.filter_namespace.clone(),
            kind: self.filter_kind.clone(),
            name: self.filter_name.clone(),
            system: Some(self.filter_system.clone()).filter(|s| !s.is_empty()),
        }
    }

    fn request(&self, cluster: &str, draft: &CatalogDraft) -> Result<CreateCatalog, AppError> {
        let name = CatalogName::parse(draft.name.clone())
            .map_err(|e| AppError::invalid("name", e.reason))?;
        let cluster =
            ClusterName::parse(cluster.to_string()).map_err(|_| AppError::NotFound("cluster"))?;
        if draft.selected.is_empty() {
            return Err(AppError::invalid(
                "workloads",
                "select at least one workload in the table",
            ));
        }
        let workloads = draft
            .selected
            .iter()
            .map(|w| {
                w.parse::<WorkloadRef>()
                    .map_err(|e| AppError::invalid("workloads", e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CreateCatalog {
            name,
            description: draft.description.trim().to_string(),
            cluster,
            workloads,
            secret_policy: parse_policy(&self.secret_default, &self.secret_rules)?,
        })
    }
}

/// `POST /orgs/{org}/clusters/{cluster}/catalogs`: creates a catalog from
/// the selected workloads (admins) and opens it; on failure the cluster
/// page again, with the selection and the message.
pub(crate) async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((org, cluster)): Path<(String, String)>,
    CsrfForm(user, f): CsrfForm<CreateForm>,
) -> Result<Response, WebError> {
    let draft = f.draft();
    let created = match f.request(&cluster, &draft) {
        Ok(req) => app::catalogs::create(&state, &user.auth_user(), &org, req).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(c) => Ok(redirect(
            &format!("/orgs/{org}/catalogs/{}", c.summary.name),
            [flash(
                &state,
                &format!(
                    "Created the catalog {} with {} {}.",
                    c.summary.name,
                    c.workloads.len(),
                    if c.workloads.len() == 1 {
                        "workload"
                    } else {
                        "workloads"
                    }
                ),
            )],
        )),
        Err(e) => {
            cluster_settings::failed_create(
                &state,
                &user,
                &headers,
                (&org, &cluster),
                e,
                f.filters(),
                draft,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_rules_read_one_a_line() {
        let p = parse_policy("redact", "db exclude\n\n  api-keys/token  copy \n").unwrap();
        assert_eq!(p.default, SecretAction::Redact);
        assert_eq!(p.rules.len(), 2);
        assert_eq!(
            (p.rules[0].secret.as_str(), p.rules[0].key.as_deref()),
            ("db", None)
        );
        assert_eq!(p.rules[0].action, SecretAction::Exclude);
        assert_eq!(
            (p.rules[1].secret.as_str(), p.rules[1].key.as_deref()),
            ("api-keys", Some("token"))
        );
        assert!(parse_policy("", "db").is_err());
        assert!(parse_policy("", "db/ redact").is_err());
        assert!(parse_policy("", "db nuke").is_err());
        assert!(parse_policy("maybe", "").is_err());
    }
}
