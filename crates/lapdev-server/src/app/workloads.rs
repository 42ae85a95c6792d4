//! Workload discovery on a source cluster, through its tunnel
//! (`ListWorkloads`), and the checks every catalog operation makes before
//! it asks a source cluster anything: the cluster exists, has the `source`
//! role and is connected ([`source_cluster`]); tunnel failures become clear
//! [`AppError`]s ([`ask`]).

use std::time::Duration;

use lapdev_api::{ClusterStatus, Workload, WorkloadKind, WorkloadList, WorkloadsQuery};
use lapdev_db::{ClusterRecord, OrganizationRecord};
use lapdev_tunnel_proto::{ErrorCode, Request, Response, catalog as proto};

use super::clusters::status_of;
use super::organizations::authorize_org;
use super::{AppError, AppResult};
use crate::auth::AuthUser;
use crate::authz::Action;
use crate::state::AppState;
use crate::tunnel::RequestError;

/// How long a listing may take in the cluster.
const LIST_TIMEOUT: Duration = Duration::from_secs(15);

/// `cluster` of `org`, if it may serve as a catalog source now: it has the
/// `source` role (else 409) and kube-manager is connected (409 when it never
/// connected, 503 when offline).
pub(crate) async fn source_cluster(
    state: &AppState,
    org: &OrganizationRecord,
    cluster: &str,
) -> AppResult<ClusterRecord> {
    let cluster = state
        .db()
        .cluster_by_name(org.id, cluster)
        .await?
        .ok_or(AppError::NotFound("cluster"))?;
    if !cluster.roles.source() {
        return Err(AppError::Conflict(format!(
            "cluster {} does not have the source role, so Lapdev may not read its workloads; \
             an admin can add it (lapdev cluster edit {} --roles source,target)",
            cluster.name, cluster.name
        )));
    }
    connected(state, cluster)
}

/// `cluster`, if kube-manager is connected now (409 when it never
/// connected, 503 when offline).
pub(crate) fn connected(state: &AppState, cluster: ClusterRecord) -> AppResult<ClusterRecord> {
    match status_of(state, &cluster).0 {
        ClusterStatus::Active => Ok(cluster),
        ClusterStatus::Pending => Err(AppError::Conflict(format!(
            "cluster {} has never connected: install kube-manager in it first \
             (lapdev cluster install-manifest {})",
            cluster.name, cluster.name
        ))),
        ClusterStatus::Offline => Err(offline(&cluster)),
    }
}

fn offline(cluster: &ClusterRecord) -> AppError {
    AppError::ClusterUnavailable(format!(
        "cluster {} is offline: its kube-manager is not connected; check that it runs, then \
         try again",
        cluster.name
    ))
}

/// Sends `request` to the cluster and maps every failure to an [`AppError`]
/// that says what to do.
pub(crate) async fn ask(
    state: &AppState,
    cluster: &ClusterRecord,
    request: Request,
    timeout: Duration,
) -> AppResult<Response> {
    let name = &cluster.name;
    state
        .tunnels()
        .send_request(cluster.id, request, timeout)
        .await
        .map_err(|e| match e {
            RequestError::NotConnected | RequestError::Disconnected => offline(cluster),
            RequestError::Timeout(t) => AppError::ClusterUnavailable(format!(
                "cluster {name} did not answer within {} s; try again",
                t.as_secs()
            )),
            RequestError::Tunnel(e) => match e.code {
                ErrorCode::NotFound => AppError::Missing(e.message),
                ErrorCode::Invalid => AppError::invalid("workloads", e.message),
                ErrorCode::Forbidden => AppError::Conflict(format!(
                    "kube-manager of cluster {name} refused: {}",
                    e.message
                )),
                ErrorCode::Unsupported => AppError::Conflict(format!(
                    "kube-manager of cluster {name} is too old for this request: upgrade it"
                )),
                _ => AppError::ClusterUnavailable(format!(
                    "cluster {name} could not do it: {}",
                    e.message
                )),
            },
        })
}

/// A response of the wrong kind: the peer broke the protocol.
pub(crate) fn unexpected(cluster: &ClusterRecord, got: &Response) -> AppError {
    tracing::warn!(cluster = %cluster.id, kind = ?std::mem::discriminant(got), "unexpected tunnel response");
    AppError::ClusterUnavailable(format!(
        "kube-manager of cluster {} answered with something unexpected: upgrade it",
        cluster.name
    ))
}

pub(crate) fn kind_to_proto(k: WorkloadKind) -> proto::WorkloadKind {
    match k {
        WorkloadKind::Deployment => proto::WorkloadKind::Deployment,
        WorkloadKind::StatefulSet => proto::WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet => proto::WorkloadKind::DaemonSet,
    }
}

pub(crate) fn kind_from_proto(k: proto::WorkloadKind) -> WorkloadKind {
    match k {
        proto::WorkloadKind::Deployment => WorkloadKind::Deployment,
        proto::WorkloadKind::StatefulSet => WorkloadKind::StatefulSet,
        proto::WorkloadKind::DaemonSet => WorkloadKind::DaemonSet,
    }
}

fn parse_kinds(kind: Option<&str>) -> AppResult<Vec<proto::WorkloadKind>> {
    let Some(list) = kind.filter(|k| !k.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    list.split(',')
        .map(|k| {
            WorkloadKind::parse(k.trim())
                .map(kind_to_proto)
                .ok_or_else(|| {
                    AppError::invalid(
                        "kind",
                        format!(
                            "{k:?} is not a workload kind: use Deployment, StatefulSet or DaemonSet"
                        ),
                    )
                })
        })
        .collect()
}

/// The workloads of a source cluster (members and admins).
pub(crate) async fn list(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    cluster: &str,
    query: WorkloadsQuery,
) -> AppResult<WorkloadList> {
    let (org, _) = authorize_org(state, caller, org_name, Action::ListWorkloads).await?;
    let kinds = parse_kinds(query.kind.as_deref())?;
    let cluster = source_cluster(state, &org, cluster).await?;
    let request = Request::ListWorkloads(proto::ListWorkloads {
        namespace: query.namespace.filter(|n| !n.is_empty()),
        kinds,
        name_contains: query.name.filter(|n| !n.is_empty()),
        include_system: query.include_system,
    });
    match ask(state, &cluster, request, LIST_TIMEOUT).await? {
        Response::Workloads(list) => Ok(WorkloadList {
            items: list
                .workloads
                .into_iter()
                .map(|w| Workload {
                    namespace: w.namespace,
                    kind: kind_from_proto(w.kind),
                    name: w.name,
                    images: w.images,
                    replicas: w.replicas,
                    ready_replicas: w.ready_replicas,
                    available_replicas: w.available_replicas,
                    ready: w.ready,
                })
                .collect(),
            truncated: list.truncated,
        }),
        other => Err(unexpected(&cluster, &other)),
    }
}
