//! App Catalogs: the operations the REST API and the dashboard share.
//! Members may [`list`] and [`get`]; admins also [`create`], [`update`]
//! (name, description), [`add_workloads`], [`remove_workload`],
//! [`refresh_preview`] / [`refresh_apply`] and [`delete`]. Every function
//! authorizes first and audits its change in the same transaction.
//!
//! Creating asks the source cluster for a snapshot first and then writes
//! everything in one transaction: a missing workload (404 naming it) or a
//! lost cluster leaves nothing behind. kube-manager only reads the source
//! cluster. Secret values are sealed before they reach the database
//! ([`crate::secrets`]) and never returned: [`lapdev_api::Catalog`] lists
//! Secret keys only.
//!
//! A refresh is previewed, then applied: the preview carries a digest of
//! (stored catalog, fresh snapshot); applying takes a fresh snapshot again
//! and refuses with 409 when its digest differs ("changed since preview").

use std::time::Duration;

use lapdev_api::{
    AddWorkloads, ApplyRefresh, Catalog, CatalogSummary, CreateCatalog, Page, RefreshPreview,
    UpdateCatalog, WorkloadRef,
};
use lapdev_db::{CatalogRecord, ClusterRecord, NewAuditEvent, NewCatalog, OrganizationRecord};
use lapdev_domain::CatalogId;
use lapdev_tunnel_proto::{Request, Response, catalog as proto};

use super::catalog_content::{self as content, Content};
use super::organizations::authorize_org;
use super::workloads::{ask, source_cluster, unexpected};
use super::{AppError, AppResult, PageRequest, page};
use crate::auth::AuthUser;
use crate::authz::Action;
use crate::state::AppState;

/// How long a snapshot may take in the cluster (below the request timeout).
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(25);

/// Longest description, in characters.
const MAX_DESCRIPTION: usize = 2000;

fn check_description(d: &str) -> AppResult<()> {
    if d.chars().count() > MAX_DESCRIPTION {
        return Err(AppError::invalid(
            "description",
            format!("at most {MAX_DESCRIPTION} characters"),
        ));
    }
    Ok(())
}

/// Finds a catalog of the organization by name, after `action` was allowed.
async fn find(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    catalog: &str,
    action: Action,
) -> AppResult<(OrganizationRecord, CatalogRecord)> {
    let (org, _) = authorize_org(state, caller, org_name, action).await?;
    let catalog = state
        .db()
        .catalog_by_name(org.id, catalog)
        .await?
        .ok_or(AppError::NotFound("catalog"))?;
    Ok((org, catalog))
}

/// The catalog's source cluster, ready to be asked.
async fn source_of(
    state: &AppState,
    org: &OrganizationRecord,
    catalog: &CatalogRecord,
) -> AppResult<ClusterRecord> {
    let name = catalog.source_cluster_name.as_ref().ok_or_else(|| {
        AppError::Conflict(format!(
            "the source cluster of catalog {} was deleted from Lapdev, so it cannot be \
             refreshed or extended",
            catalog.name
        ))
    })?;
    source_cluster(state, org, name.as_str()).await
}

async fn snapshot(
    state: &AppState,
    cluster: &ClusterRecord,
    workloads: &[WorkloadRef],
    policy: &lapdev_api::SecretPolicy,
) -> AppResult<proto::CatalogSnapshot> {
    let request = Request::SnapshotCatalog(proto::SnapshotCatalog {
        workloads: workloads.iter().map(content::workload_to_proto).collect(),
        secret_policy: content::policy_to_proto(policy),
    });
    match ask(state, cluster, request, SNAPSHOT_TIMEOUT).await? {
        Response::CatalogSnapshot(s) => Ok(s),
        other => Err(unexpected(cluster, &other)),
    }
}

fn conflict_name(org: &OrganizationRecord, name: &str) -> impl Fn(lapdev_db::DbError) -> AppError {
    let message = format!(
        "organization {} already has a catalog named {name}",
        org.name
    );
    move |e| match e {
        lapdev_db::DbError::Conflict { what: "catalog" } => AppError::Conflict(message.clone()),
        other => other.into(),
    }
}

fn names(workloads: &[WorkloadRef]) -> Vec<String> {
    workloads.iter().map(ToString::to_string).collect()
}

async fn list_as<T>(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    req: PageRequest,
    map: impl Fn(CatalogRecord) -> T,
) -> AppResult<Page<T>> {
    let (org, _) = authorize_org(state, caller, org_name, Action::ListCatalogs).await?;
    let slice = state
        .db()
        .catalogs_list(org.id, req.cursor::<CatalogId>()?, req.limit)
        .await?;
    Ok(page(slice, |c| c.id.to_string(), map))
}

/// The organization's catalogs (members and admins).
pub(crate) async fn list(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    req: PageRequest,
) -> AppResult<Page<CatalogSummary>> {
    list_as(state, caller, org_name, req, |c| content::summary_api(&c)).await
}

/// [`list`] with each catalog's warning count (0 when its stored content
/// cannot be read), from the same rows: the dashboard's list shows it.
pub(crate) async fn list_with_warnings(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    req: PageRequest,
) -> AppResult<Page<(CatalogSummary, usize)>> {
    list_as(state, caller, org_name, req, |c| {
        // Only the snapshot's issues are counted: no API view is built.
        let warnings = content::parse(&c).map_or(0, |parsed| parsed.snapshot.issues.len());
        (content::summary_api(&c), warnings)
    })
    .await
}

/// One catalog: workloads, objects, dependencies, warnings, Secret policy
/// and Secret keys (members and admins).
pub(crate) async fn get(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    catalog: &str,
) -> AppResult<Catalog> {
    let (_, catalog) = find(state, caller, org_name, catalog, Action::ReadCatalog).await?;
    content::catalog_api(&catalog)
}

/// Creates a catalog from workloads of a source cluster (admins).
pub(crate) async fn create(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    req: CreateCatalog,
) -> AppResult<Catalog> {
    let (org, _) = authorize_org(state, caller, org_name, Action::CreateCatalog).await?;
    check_description(&req.description)?;
    content::check_workloads(&req.workloads)?;
    // Fail fast, before asking the cluster; the insert checks again.
    if state
        .db()
        .catalog_by_name(org.id, req.name.as_str())
        .await?
        .is_some()
    {
        return Err(conflict_name(&org, req.name.as_str())(
            lapdev_db::DbError::Conflict { what: "catalog" },
        ));
    }
    let cluster = source_cluster(state, &org, req.cluster.as_str()).await?;
    let snap = snapshot(state, &cluster, &req.workloads, &req.secret_policy).await?;
    let id = CatalogId::new();
    let event = NewAuditEvent::new(Some(caller.actor()), "catalog.create", "catalog").with_details(
        serde_json::json!({
            "cluster": cluster.name.as_str(),
            "workloads": names(&req.workloads),
            "objects": snap.objects.len(),
            "warnings": snap.issues.len(),
        }),
    );
    let (stored, values) = content::seal(
        state.keyring(),
        id,
        &req.workloads,
        &req.secret_policy,
        snap,
    )?;
    let new = NewCatalog {
        id,
        organization_id: org.id,
        name: req.name.clone(),
        description: req.description,
        source_cluster_id: cluster.id,
        content: stored,
    };
    let record = state
        .db()
        .catalog_create(&new, &values, &event)
        .await
        .map_err(conflict_name(&org, req.name.as_str()))?;
    content::catalog_api(&record)
}

/// Renames a catalog and/or changes its description (admins).
pub(crate) async fn update(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    catalog: &str,
    req: UpdateCatalog,
) -> AppResult<Catalog> {
    let (org, before) = find(state, caller, org_name, catalog, Action::UpdateCatalog).await?;
    if req.name.is_none() && req.description.is_none() {
        return Err(AppError::invalid(
            "name",
            "nothing to change: give name or description",
        ));
    }
    if let Some(d) = &req.description {
        check_description(d)?;
    }
    let mut details = serde_json::Map::new();
    if let Some(name) = req.name.as_ref().filter(|n| **n != before.name) {
        details.insert(
            "name".into(),
            serde_json::json!({ "from": before.name.as_str(), "to": name.as_str() }),
        );
    }
    if req
        .description
        .as_ref()
        .is_some_and(|d| *d != before.description)
    {
        details.insert("description".into(), serde_json::json!("changed"));
    }
    let event = NewAuditEvent::new(Some(caller.actor()), "catalog.update", "catalog")
        .with_details(serde_json::Value::Object(details));
    let new_name = req.name.as_ref().map_or("", |n| n.as_str()).to_string();
    let after = state
        .db()
        .catalog_update_meta(
            org.id,
            before.id,
            req.name.as_ref(),
            req.description.as_deref(),
            &event,
        )
        .await
        .map_err(conflict_name(&org, &new_name))?;
    content::catalog_api(&after)
}

/// Deletes a catalog with its stored objects and Secret values (admins).
pub(crate) async fn delete(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    catalog: &str,
) -> AppResult<()> {
    let (org, catalog) = find(state, caller, org_name, catalog, Action::DeleteCatalog).await?;
    let event = NewAuditEvent::new(Some(caller.actor()), "catalog.delete", "catalog");
    state
        .db()
        .catalog_delete(org.id, catalog.id, &event)
        .await?;
    Ok(())
}

/// Stores `next` as the catalog's content, if the catalog did not change
/// since `before` was read.
async fn replace(
    state: &AppState,
    org: &OrganizationRecord,
    before: &CatalogRecord,
    next: Content,
    event: NewAuditEvent,
) -> AppResult<Catalog> {
    let (stored, values) = content::seal(
        state.keyring(),
        before.id,
        &next.workloads,
        &next.policy,
        next.snapshot,
    )?;
    let after = state
        .db()
        .catalog_replace_content(
            org.id,
            before.id,
            &stored,
            &values,
            Some(&before.content.snapshot),
            &event,
        )
        .await
        .map_err(|e| match e {
            lapdev_db::DbError::Conflict { .. } => AppError::Conflict(format!(
                "catalog {} changed meanwhile; look at it again and retry",
                before.name
            )),
            other => other.into(),
        })?;
    content::catalog_api(&after)
}

async fn opened(state: &AppState, catalog: &CatalogRecord) -> AppResult<Content> {
    let values = state.db().catalog_secret_values(catalog.id).await?;
    content::open(state.keyring(), catalog, &values)
}

/// Adds workloads of the source cluster, snapshotted with their
/// dependencies like at creation (admins). Objects the catalog already
/// holds keep their stored version; a refresh updates them.
pub(crate) async fn add_workloads(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    catalog: &str,
    req: AddWorkloads,
) -> AppResult<Catalog> {
    let (org, before) = find(state, caller, org_name, catalog, Action::UpdateCatalog).await?;
    content::check_workloads(&req.workloads)?;
    let mut current = opened(state, &before).await?;
    if let Some(w) = req.workloads.iter().find(|w| current.workloads.contains(w)) {
        return Err(AppError::Conflict(format!(
            "{w} is already in catalog {}",
            before.name
        )));
    }
    let cluster = source_of(state, &org, &before).await?;
    let added = snapshot(state, &cluster, &req.workloads, &current.policy).await?;
    current.snapshot = content::merge(current.snapshot, added);
    current.workloads.extend(req.workloads.iter().cloned());
    let event = NewAuditEvent::new(Some(caller.actor()), "catalog.add_workloads", "catalog")
        .with_details(serde_json::json!({ "workloads": names(&req.workloads) }));
    replace(state, &org, &before, current, event).await
}

/// Removes one workload and the objects only it used (admins).
pub(crate) async fn remove_workload(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    catalog: &str,
    workload: WorkloadRef,
) -> AppResult<Catalog> {
    let (org, before) = find(state, caller, org_name, catalog, Action::UpdateCatalog).await?;
    let mut current = opened(state, &before).await?;
    if !current.workloads.contains(&workload) {
        return Err(AppError::Missing(format!(
            "workload {workload} is not in catalog {}",
            before.name
        )));
    }
    current.workloads.retain(|w| *w != workload);
    if current.workloads.is_empty() {
        return Err(AppError::Conflict(format!(
            "{workload} is the last workload of catalog {}: delete the catalog instead",
            before.name
        )));
    }
    current.snapshot = content::without_workloads(current.snapshot, &current.workloads);
    let event = NewAuditEvent::new(Some(caller.actor()), "catalog.remove_workload", "catalog")
        .with_details(serde_json::json!({ "workload": workload.to_string() }));
    replace(state, &org, &before, current, event).await
}

/// A fresh snapshot of the catalog's workloads, its diff from the stored
/// objects, and the digest naming exactly this pair.
async fn fresh(
    state: &AppState,
    org: &OrganizationRecord,
    catalog: &CatalogRecord,
) -> AppResult<(Content, proto::CatalogRefresh, String)> {
    let current = opened(state, catalog).await?;
    let cluster = source_of(state, org, catalog).await?;
    let request = Request::RefreshCatalog(proto::RefreshCatalog {
        workloads: current
            .workloads
            .iter()
            .map(content::workload_to_proto)
            .collect(),
        secret_policy: content::policy_to_proto(&current.policy),
        current: current.snapshot.objects.clone(),
    });
    let refresh = match ask(state, &cluster, request, SNAPSHOT_TIMEOUT).await? {
        Response::CatalogRefresh(r) => r,
        other => return Err(unexpected(&cluster, &other)),
    };
    let fresh_json = serde_json::to_vec(&refresh.snapshot).map_err(AppError::internal)?;
    let digest = state.keyring().digest(&[
        catalog.id.to_string().as_bytes(),
        catalog.content.snapshot.as_bytes(),
        catalog.content.workloads.as_bytes(),
        catalog.content.secret_policy.as_bytes(),
        &fresh_json,
    ]);
    Ok((current, refresh, digest))
}

/// What refreshing from the source cluster would change (admins). Changes
/// nothing; apply with [`refresh_apply`] and the returned digest.
pub(crate) async fn refresh_preview(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    catalog: &str,
) -> AppResult<RefreshPreview> {
    let (org, catalog) = find(state, caller, org_name, catalog, Action::UpdateCatalog).await?;
    let (_, refresh, digest) = fresh(state, &org, &catalog).await?;
    Ok(RefreshPreview {
        digest,
        changes: content::diff_api(&refresh.diff),
        warnings: refresh
            .snapshot
            .issues
            .iter()
            .map(content::warning_api)
            .collect(),
    })
}

/// Applies exactly the previewed refresh (admins): 409 "changed since
/// preview" when the source or the catalog changed after the preview.
pub(crate) async fn refresh_apply(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    catalog: &str,
    req: ApplyRefresh,
) -> AppResult<Catalog> {
    let (org, before) = find(state, caller, org_name, catalog, Action::UpdateCatalog).await?;
    let (mut current, refresh, digest) = fresh(state, &org, &before).await?;
    if digest != req.digest {
        return Err(AppError::Conflict(format!(
            "catalog {} or its source changed since the preview: preview the refresh again",
            before.name
        )));
    }
    let changed = refresh.diff.objects.len();
    current.snapshot = refresh.snapshot;
    let event = NewAuditEvent::new(Some(caller.actor()), "catalog.refresh", "catalog")
        .with_details(serde_json::json!({ "changed_objects": changed }));
    replace(state, &org, &before, current, event).await
}
