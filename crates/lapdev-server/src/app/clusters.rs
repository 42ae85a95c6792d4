//! Clusters: list, show, create (with a token shown once), change name,
//! roles and permissions, delete, rotate and revoke the token. Status comes
//! from the tunnel registry (live sessions) and the last heartbeat.
//!
//! Token rotation: the new token works at once; the previous one keeps
//! working for [`ROTATION_GRACE`] or until kube-manager connects with the
//! new one, whichever comes first, so an admin can roll the Secret without
//! downtime. Revocation deletes every token of the cluster and closes its
//! live tunnel at once.

use jiff::{SignedDuration, Timestamp};
use lapdev_api::{Cluster, ClusterCredentials, ClusterStatus, CreateCluster, Page, UpdateCluster};
use lapdev_db::{ClusterChange, ClusterRecord, NewAuditEvent, NewCluster, OrganizationRecord};
use lapdev_domain::{ClusterId, ClusterPermissions, ClusterRole, ClusterRoles};
use lapdev_tunnel_proto::close_code;

use super::organizations::authorize_org;
use super::{AppError, AppResult, PageRequest, page};
use crate::auth::{AuthUser, cluster_tokens};
use crate::authz::Action;
use crate::state::AppState;

/// How long a rotated-out token keeps working (unless the new token
/// connects first).
pub(crate) const ROTATION_GRACE: SignedDuration = SignedDuration::from_hours(1);

/// The status of a cluster now: Active while a tunnel is up and its last
/// heartbeat is within the offline timeout; Pending if never seen.
pub(crate) fn status_of(state: &AppState, c: &ClusterRecord) -> (ClusterStatus, Option<Timestamp>) {
    let live = state.tunnels().last_seen(c.id);
    let last_seen = match (live, c.last_seen_at) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let offline_after = state.tunnel_settings().offline_after();
    let status = match (live, last_seen) {
        (Some(seen), _)
            if Timestamp::now()
                .duration_since(seen)
                .unsigned_abs()
                .le(&offline_after) =>
        {
            ClusterStatus::Active
        }
        (_, None) => ClusterStatus::Pending,
        _ => ClusterStatus::Offline,
    };
    (status, last_seen)
}

pub(crate) fn cluster_api(state: &AppState, c: ClusterRecord) -> Cluster {
    let (status, last_seen_at) = status_of(state, &c);
    let facts = c.facts;
    Cluster {
        id: c.id,
        name: c.name,
        roles: c.roles.to_list(),
        permissions: c.permissions.to_list(),
        status,
        last_seen_at,
        kube_manager_version: facts.as_ref().map(|f| f.kube_manager_version.clone()),
        kubernetes_version: facts.as_ref().map(|f| f.kubernetes_version.clone()),
        node_count: facts.as_ref().map(|f| f.node_count),
        allocatable_cpu_millis: facts.as_ref().map(|f| f.allocatable_cpu_millis),
        allocatable_memory_bytes: facts.as_ref().map(|f| f.allocatable_memory_bytes),
        token_prefix: c.token_prefix,
        created_at: c.created_at,
    }
}

fn roles(list: &[ClusterRole]) -> AppResult<ClusterRoles> {
    ClusterRoles::from_list(list).ok_or_else(|| {
        AppError::invalid(
            "roles",
            "a cluster needs at least one role: source, target or both",
        )
    })
}

/// `kubectl apply -f '<base>/install/kube-manager.yaml?token=...'`.
pub(crate) fn install_command(base_url: &str, token: &str) -> String {
    format!(
        "kubectl apply -f '{base_url}{}?token={token}'",
        crate::install::INSTALL_PATH
    )
}

/// Finds a cluster of the organization by name, after `action` was allowed.
async fn find(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    cluster: &str,
    action: Action,
) -> AppResult<(OrganizationRecord, ClusterRecord)> {
    let (org, _) = authorize_org(state, caller, org_name, action).await?;
    let cluster = state
        .db()
        .cluster_by_name(org.id, cluster)
        .await?
        .ok_or(AppError::NotFound("cluster"))?;
    Ok((org, cluster))
}

pub(crate) async fn list(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    req: PageRequest,
) -> AppResult<Page<Cluster>> {
    let (org, _) = authorize_org(state, caller, org_name, Action::ListClusters).await?;
    let slice = state
        .db()
        .clusters_list(org.id, req.cursor::<ClusterId>()?, req.limit)
        .await?;
    Ok(page(slice, |c| c.id.to_string(), |c| cluster_api(state, c)))
}

pub(crate) async fn get(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    cluster: &str,
) -> AppResult<Cluster> {
    let (_, cluster) = find(state, caller, org_name, cluster, Action::ReadCluster).await?;
    Ok(cluster_api(state, cluster))
}

pub(crate) async fn create(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    req: CreateCluster,
    base_url: &str,
) -> AppResult<ClusterCredentials> {
    let (org, _) = authorize_org(state, caller, org_name, Action::CreateCluster).await?;
    let roles = match &req.roles {
        Some(list) => roles(list)?,
        None => ClusterRoles::BOTH,
    };
    let permissions = req
        .permissions
        .as_deref()
        .map_or(ClusterPermissions::ALL, ClusterPermissions::from_list);
    let (secret, token) = cluster_tokens::generate();
    let new = NewCluster {
        id: ClusterId::new(),
        organization_id: org.id,
        name: req.name,
        roles,
        permissions,
    };
    let event = NewAuditEvent::new(Some(caller.actor()), "cluster.create", "cluster").with_details(
        serde_json::json!({
            "roles": roles.to_list(),
            "permissions": permissions.to_list(),
            "token_prefix": token.prefix,
        }),
    );
    let cluster = state
        .db()
        .cluster_create(&new, &token, &event)
        .await
        .map_err(|e| match e {
            lapdev_db::DbError::Conflict { .. } => AppError::Conflict(format!(
                "organization {} already has a cluster named {}",
                org.name, new.name
            )),
            other => other.into(),
        })?;
    Ok(ClusterCredentials {
        cluster: cluster_api(state, cluster),
        install_command: install_command(base_url, &secret),
        token: secret,
        previous_token_retires_at: None,
    })
}

pub(crate) async fn update(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    cluster: &str,
    req: UpdateCluster,
) -> AppResult<Cluster> {
    let (org, before) = find(state, caller, org_name, cluster, Action::UpdateCluster).await?;
    if req.name.is_none() && req.roles.is_none() && req.permissions.is_none() {
        return Err(AppError::invalid(
            "name",
            "nothing to change: give name, roles or permissions",
        ));
    }
    let change = ClusterChange {
        name: req.name,
        roles: req.roles.as_deref().map(roles).transpose()?,
        permissions: req
            .permissions
            .as_deref()
            .map(ClusterPermissions::from_list),
    };
    let mut details = serde_json::Map::new();
    let mut note = |key: &str, from: serde_json::Value, to: serde_json::Value| {
        if from != to {
            details.insert(key.into(), serde_json::json!({ "from": from, "to": to }));
        }
    };
    if let Some(name) = &change.name {
        note("name", before.name.as_str().into(), name.as_str().into());
    }
    if let Some(r) = change.roles {
        note(
            "roles",
            serde_json::json!(before.roles.to_list()),
            serde_json::json!(r.to_list()),
        );
    }
    if let Some(p) = change.permissions {
        note(
            "permissions",
            serde_json::json!(before.permissions.to_list()),
            serde_json::json!(p.to_list()),
        );
    }
    let event = NewAuditEvent::new(Some(caller.actor()), "cluster.update", "cluster")
        .with_details(serde_json::Value::Object(details));
    let after = state
        .db()
        .cluster_update(org.id, before.id, &change, &event)
        .await
        .map_err(|e| match e {
            lapdev_db::DbError::Conflict { .. } => AppError::Conflict(format!(
                "organization {} already has a cluster named {}",
                org.name,
                change.name.as_ref().map_or("", |n| n.as_str())
            )),
            other => other.into(),
        })?;
    Ok(cluster_api(state, after))
}

pub(crate) async fn delete(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    cluster: &str,
) -> AppResult<()> {
    let (org, cluster) = find(state, caller, org_name, cluster, Action::DeleteCluster).await?;
    // Its environments would be orphaned in the cluster: they go first.
    // Those already being deleted go with the cluster (it may never come
    // back to confirm).
    let environments = state.db().environments_on_cluster(Some(cluster.id)).await?;
    let live = environments
        .iter()
        .filter(|e| e.desired != lapdev_domain::DesiredState::Deleted)
        .count();
    if live > 0 {
        return Err(AppError::Conflict(format!(
            "cluster {} still has {live} environment(s): delete them first \
             (lapdev env list), then the cluster",
            cluster.name
        )));
    }
    for env in &environments {
        state.db().environment_remove(env.id).await?;
    }
    let event = NewAuditEvent::new(Some(caller.actor()), "cluster.delete", "cluster");
    state
        .db()
        .cluster_delete(org.id, cluster.id, &event)
        .await?;
    state.tunnels().close(
        cluster.id,
        close_code::TOKEN_REVOKED,
        "the cluster was deleted from Lapdev",
    );
    Ok(())
}

pub(crate) async fn rotate_token(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    cluster: &str,
    base_url: &str,
) -> AppResult<ClusterCredentials> {
    let (org, cluster) = find(state, caller, org_name, cluster, Action::ManageClusterToken).await?;
    let (secret, token) = cluster_tokens::generate();
    let retires_at =
        jiff::Timestamp::from_millisecond((Timestamp::now() + ROTATION_GRACE).as_millisecond())
            .map_err(AppError::internal)?;
    let had_token = cluster.token_prefix.is_some();
    let event = NewAuditEvent::new(Some(caller.actor()), "cluster.rotate_token", "cluster")
        .with_details(serde_json::json!({
            "token_prefix": token.prefix,
            "previous_token_retires_at": had_token.then(|| retires_at.to_string()),
        }));
    let updated = state
        .db()
        .cluster_token_rotate(org.id, cluster.id, &token, retires_at, &event)
        .await?;
    state.tunnels().retire_current_token(cluster.id, retires_at);
    Ok(ClusterCredentials {
        cluster: cluster_api(state, updated),
        install_command: install_command(base_url, &secret),
        token: secret,
        previous_token_retires_at: had_token.then_some(retires_at),
    })
}

pub(crate) async fn revoke_token(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    cluster: &str,
) -> AppResult<Cluster> {
    let (org, cluster) = find(state, caller, org_name, cluster, Action::ManageClusterToken).await?;
    let event = NewAuditEvent::new(Some(caller.actor()), "cluster.revoke_token", "cluster");
    state
        .db()
        .cluster_token_revoke(org.id, cluster.id, &event)
        .await?;
    state.tunnels().close(
        cluster.id,
        close_code::TOKEN_REVOKED,
        "the cluster token was revoked",
    );
    let cluster = state
        .db()
        .cluster_by_id(cluster.id)
        .await?
        .ok_or(AppError::NotFound("cluster"))?;
    Ok(cluster_api(state, cluster))
}

/// The cluster for the authenticated install-manifest endpoint.
pub(crate) async fn for_manifest(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    cluster: &str,
) -> AppResult<ClusterRecord> {
    let (_, cluster) = find(state, caller, org_name, cluster, Action::GetInstallManifest).await?;
    Ok(cluster)
}
