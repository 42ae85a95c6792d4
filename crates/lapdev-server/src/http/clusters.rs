//! `/orgs/{org}/clusters`: connected clusters, their tokens and the
//! authenticated install manifest.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lapdev_api::{
    Cluster, ClusterCredentials, CreateCluster, ErrorBody, InstallManifestQuery,
    MANIFEST_CONTENT_TYPE, Page, PageQuery, TOKEN_PLACEHOLDER, UpdateCluster,
};

use super::extract::{ApiJson, ApiQuery, Caller};
use super::install::base_url;
use crate::app::{self, AppError, PageRequest};
use crate::error::ApiError;
use crate::install::{InstallParams, parse_namespaces, render};
use crate::state::AppState;

/// The organization's clusters, with status, roles and permissions.
#[utoipa::path(
    operation_id = "list_clusters",
    get,
    path = "/api/v1/orgs/{org}/clusters",
    tag = "clusters",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name"), PageQuery),
    responses(
        (status = 200, description = "OK", body = Page<Cluster>),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<Cluster>>, ApiError> {
    let page = PageRequest::parse(page)?;
    Ok(Json(
        app::clusters::list(&state, &caller, &org, page).await?,
    ))
}

/// Create a cluster (admins). The response holds its token, shown this once.
#[utoipa::path(
    operation_id = "create_cluster",
    post,
    path = "/api/v1/orgs/{org}/clusters",
    tag = "clusters",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name")),
    request_body = CreateCluster,
    responses(
        (status = 201, description = "Created", body = ClusterCredentials),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
        (status = 409, description = "The name is taken in this organization", body = ErrorBody),
        (status = 422, description = "A field is invalid; `field` names it", body = ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<String>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CreateCluster>,
) -> Result<(StatusCode, Json<ClusterCredentials>), ApiError> {
    let base = base_url(&state, &headers);
    let created = app::clusters::create(&state, &caller, &org, req, &base).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One cluster.
#[utoipa::path(
    operation_id = "get_cluster",
    get,
    path = "/api/v1/orgs/{org}/clusters/{cluster}",
    tag = "clusters",
    security(("bearer" = [])),
    params(
        ("org" = String, Path, description = "Organization name"),
        ("cluster" = String, Path, description = "Cluster name"),
    ),
    responses(
        (status = 200, description = "OK", body = Cluster),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
    )
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, cluster)): Path<(String, String)>,
) -> Result<Json<Cluster>, ApiError> {
    Ok(Json(
        app::clusters::get(&state, &caller, &org, &cluster).await?,
    ))
}

/// Rename a cluster, or set its roles or permissions (admins).
#[utoipa::path(
    operation_id = "update_cluster",
    patch,
    path = "/api/v1/orgs/{org}/clusters/{cluster}",
    tag = "clusters",
    security(("bearer" = [])),
    params(
        ("org" = String, Path, description = "Organization name"),
        ("cluster" = String, Path, description = "Cluster name"),
    ),
    request_body = UpdateCluster,
    responses(
        (status = 200, description = "OK", body = Cluster),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
        (status = 409, description = "The new name is taken", body = ErrorBody),
        (status = 422, description = "A field is invalid; `field` names it", body = ErrorBody),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, cluster)): Path<(String, String)>,
    ApiJson(req): ApiJson<UpdateCluster>,
) -> Result<Json<Cluster>, ApiError> {
    Ok(Json(
        app::clusters::update(&state, &caller, &org, &cluster, req).await?,
    ))
}

/// Delete a cluster (admins); its tunnel is closed at once.
#[utoipa::path(
    operation_id = "delete_cluster",
    delete,
    path = "/api/v1/orgs/{org}/clusters/{cluster}",
    tag = "clusters",
    security(("bearer" = [])),
    params(
        ("org" = String, Path, description = "Organization name"),
        ("cluster" = String, Path, description = "Cluster name"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
    )
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, cluster)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    app::clusters::delete(&state, &caller, &org, &cluster).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rotate the cluster token (admins). The new token is in the response this
/// once; the previous one keeps working for one hour, or until kube-manager
/// connects with the new one.
#[utoipa::path(
    operation_id = "rotate_cluster_token",
    post,
    path = "/api/v1/orgs/{org}/clusters/{cluster}/token",
    tag = "clusters",
    security(("bearer" = [])),
    params(
        ("org" = String, Path, description = "Organization name"),
        ("cluster" = String, Path, description = "Cluster name"),
    ),
    responses(
        (status = 200, description = "Rotated", body = ClusterCredentials),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
    )
)]
pub(crate) async fn rotate_token(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, cluster)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<ClusterCredentials>, ApiError> {
    let base = base_url(&state, &headers);
    Ok(Json(
        app::clusters::rotate_token(&state, &caller, &org, &cluster, &base).await?,
    ))
}

/// Revoke every token of the cluster (admins) and close its tunnel at once.
/// Rotate to issue a new token.
#[utoipa::path(
    operation_id = "revoke_cluster_token",
    delete,
    path = "/api/v1/orgs/{org}/clusters/{cluster}/token",
    tag = "clusters",
    security(("bearer" = [])),
    params(
        ("org" = String, Path, description = "Organization name"),
        ("cluster" = String, Path, description = "Cluster name"),
    ),
    responses(
        (status = 200, description = "Revoked", body = Cluster),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
    )
)]
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, cluster)): Path<(String, String)>,
) -> Result<Json<Cluster>, ApiError> {
    Ok(Json(
        app::clusters::revoke_token(&state, &caller, &org, &cluster).await?,
    ))
}

/// The kube-manager install manifest (admins), as YAML. The server keeps no
/// token, so the Secret holds `REPLACE-WITH-THE-CLUSTER-TOKEN`: put the token
/// there (`lapdev cluster install-manifest --token` does), or use the
/// `install_command` returned when the token was created.
#[utoipa::path(
    operation_id = "get_cluster_install_manifest",
    get,
    path = "/api/v1/orgs/{org}/clusters/{cluster}/install-manifest",
    tag = "clusters",
    security(("bearer" = [])),
    params(
        ("org" = String, Path, description = "Organization name"),
        ("cluster" = String, Path, description = "Cluster name"),
        InstallManifestQuery,
    ),
    responses(
        (status = 200, description = "The manifest", body = String, content_type = "application/yaml"),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
        (status = 422, description = "`namespaces` is invalid", body = ErrorBody),
    )
)]
pub(crate) async fn install_manifest(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, cluster)): Path<(String, String)>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<InstallManifestQuery>,
) -> Result<Response, ApiError> {
    let cluster = app::clusters::for_manifest(&state, &caller, &org, &cluster).await?;
    let source_namespaces = parse_namespaces(query.namespaces.as_deref())
        .map_err(|e| AppError::invalid("namespaces", e))?;
    let yaml = render(&InstallParams {
        cluster_name: cluster.name.to_string(),
        server_url: base_url(&state, &headers),
        token: TOKEN_PLACEHOLDER.into(),
        source_namespaces,
    });
    Ok(([(header::CONTENT_TYPE, MANIFEST_CONTENT_TYPE)], yaml).into_response())
}
