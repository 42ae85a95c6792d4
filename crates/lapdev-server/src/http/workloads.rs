//! `/orgs/{org}/clusters/{cluster}/workloads`: workload discovery on a
//! source cluster, through its tunnel.

use axum::Json;
use axum::extract::{Path, State};
use lapdev_api::{ErrorBody, WorkloadList, WorkloadsQuery};

use super::extract::{ApiQuery, Caller};
use crate::app;
use crate::error::ApiError;
use crate::state::AppState;

/// The Deployments, StatefulSets and DaemonSets of a source cluster, sorted
/// by namespace, kind and name. System namespaces are hidden unless
/// `include_system` (or named in `namespace`).
#[utoipa::path(
    operation_id = "list_cluster_workloads",
    get,
    path = "/api/v1/orgs/{org}/clusters/{cluster}/workloads",
    tag = "catalogs",
    security(("bearer" = [])),
    params(
        ("org" = String, Path, description = "Organization name"),
        ("cluster" = String, Path, description = "Cluster name"),
        WorkloadsQuery,
    ),
    responses(
        (status = 200, description = "OK", body = WorkloadList),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
        (status = 409, description = "Not a source cluster, or never connected", body = ErrorBody),
        (status = 422, description = "A filter is invalid; `field` names it", body = ErrorBody),
        (status = 503, description = "The cluster is offline or did not answer", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, cluster)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<WorkloadsQuery>,
) -> Result<Json<WorkloadList>, ApiError> {
    Ok(Json(
        app::workloads::list(&state, &caller, &org, &cluster, query).await?,
    ))
}
