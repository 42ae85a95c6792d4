//! `/orgs/{org}/catalogs`: App Catalogs — create from workloads of a source
//! cluster, read, rename, add and remove workloads, refresh (preview, then
//! apply) and delete. Thin: every handler calls `app::catalogs`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lapdev_api::{
    AddWorkloads, ApplyRefresh, Catalog, CatalogSummary, CreateCatalog, ErrorBody, Page, PageQuery,
    RefreshPreview, UpdateCatalog, WorkloadKind, WorkloadRef,
};

use super::extract::{ApiJson, ApiQuery, Caller};
use crate::app::{self, AppError, PageRequest};
use crate::error::ApiError;
use crate::state::AppState;

/// The organization's catalogs: name, description, source cluster, workload count.
#[utoipa::path(
    operation_id = "list_catalogs",
    get,
    path = "/api/v1/orgs/{org}/catalogs",
    tag = "catalogs",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name"), PageQuery),
    responses(
        (status = 200, description = "OK", body = Page<CatalogSummary>),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<CatalogSummary>>, ApiError> {
    let page = PageRequest::parse(page)?;
    Ok(Json(
        app::catalogs::list(&state, &caller, &org, page).await?,
    ))
}

/// Create a catalog (admins): snapshots the workloads and everything they
/// use from the source cluster (read-only there), then stores it at once.
#[utoipa::path(
    operation_id = "create_catalog",
    post,
    path = "/api/v1/orgs/{org}/catalogs",
    tag = "catalogs",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name")),
    request_body = CreateCatalog,
    responses(
        (status = 201, description = "Created", body = Catalog),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "The organization, the cluster or a workload (named) does not exist", body = ErrorBody),
        (status = 409, description = "The name is taken, or the cluster is not a connected source", body = ErrorBody),
        (status = 422, description = "A field is invalid; `field` names it", body = ErrorBody),
        (status = 503, description = "The source cluster is offline or did not answer", body = ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<String>,
    ApiJson(req): ApiJson<CreateCatalog>,
) -> Result<(StatusCode, Json<Catalog>), ApiError> {
    let created = app::catalogs::create(&state, &caller, &org, req).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One catalog: workloads, objects, dependencies, warnings, Secret policy
/// and Secret keys (never values).
#[utoipa::path(
    operation_id = "get_catalog",
    get,
    path = "/api/v1/orgs/{org}/catalogs/{catalog}",
    tag = "catalogs",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name"),
        ("catalog" = String, Path, description = "Catalog name")),
    responses(
        (status = 200, description = "OK", body = Catalog),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
    )
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, catalog)): Path<(String, String)>,
) -> Result<Json<Catalog>, ApiError> {
    Ok(Json(
        app::catalogs::get(&state, &caller, &org, &catalog).await?,
    ))
}

/// Rename a catalog or change its description (admins).
#[utoipa::path(
    operation_id = "update_catalog",
    patch,
    path = "/api/v1/orgs/{org}/catalogs/{catalog}",
    tag = "catalogs",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name"),
        ("catalog" = String, Path, description = "Catalog name")),
    request_body = UpdateCatalog,
    responses(
        (status = 200, description = "OK", body = Catalog),
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
    Path((org, catalog)): Path<(String, String)>,
    ApiJson(req): ApiJson<UpdateCatalog>,
) -> Result<Json<Catalog>, ApiError> {
    Ok(Json(
        app::catalogs::update(&state, &caller, &org, &catalog, req).await?,
    ))
}

/// Delete a catalog with its stored objects and Secret values (admins).
#[utoipa::path(
    operation_id = "delete_catalog",
    delete,
    path = "/api/v1/orgs/{org}/catalogs/{catalog}",
    tag = "catalogs",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name"),
        ("catalog" = String, Path, description = "Catalog name")),
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
    Path((org, catalog)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    app::catalogs::delete(&state, &caller, &org, &catalog).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add workloads of the source cluster (admins), snapshotted with their
/// dependencies. Objects already stored keep their version until a refresh.
#[utoipa::path(
    operation_id = "add_catalog_workloads",
    post,
    path = "/api/v1/orgs/{org}/catalogs/{catalog}/workloads",
    tag = "catalogs",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name"),
        ("catalog" = String, Path, description = "Catalog name")),
    request_body = AddWorkloads,
    responses(
        (status = 200, description = "OK", body = Catalog),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "The catalog or a workload (named) does not exist", body = ErrorBody),
        (status = 409, description = "Already in the catalog, or the source cluster is not available", body = ErrorBody),
        (status = 422, description = "A field is invalid; `field` names it", body = ErrorBody),
        (status = 503, description = "The source cluster is offline or did not answer", body = ErrorBody),
    )
)]
pub(crate) async fn add_workloads(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, catalog)): Path<(String, String)>,
    ApiJson(req): ApiJson<AddWorkloads>,
) -> Result<Json<Catalog>, ApiError> {
    Ok(Json(
        app::catalogs::add_workloads(&state, &caller, &org, &catalog, req).await?,
    ))
}

/// Remove a workload and the objects only it used (admins).
#[utoipa::path(
    operation_id = "remove_catalog_workload",
    delete,
    path = "/api/v1/orgs/{org}/catalogs/{catalog}/workloads/{namespace}/{kind}/{name}",
    tag = "catalogs",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name"),
        ("catalog" = String, Path, description = "Catalog name"),
        ("namespace" = String, Path, description = "Namespace of the workload"),
        ("kind" = String, Path, description = "Deployment, StatefulSet or DaemonSet"),
        ("name" = String, Path, description = "Name of the workload")),
    responses(
        (status = 200, description = "OK", body = Catalog),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "The catalog does not exist, or the workload is not in it", body = ErrorBody),
        (status = 409, description = "It is the last workload", body = ErrorBody),
        (status = 422, description = "A field is invalid; `field` names it", body = ErrorBody),
    )
)]
pub(crate) async fn remove_workload(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, catalog, namespace, kind, name)): Path<(String, String, String, String, String)>,
) -> Result<Json<Catalog>, ApiError> {
    let kind = WorkloadKind::parse(&kind)
        .ok_or_else(|| AppError::invalid("kind", "use Deployment, StatefulSet or DaemonSet"))?;
    let workload = WorkloadRef {
        namespace,
        kind,
        name,
    };
    Ok(Json(
        app::catalogs::remove_workload(&state, &caller, &org, &catalog, workload).await?,
    ))
}

/// Preview a refresh from the source cluster (admins): the per-object diff
/// and a digest. Changes nothing; apply with `refresh/apply` and the digest.
#[utoipa::path(
    operation_id = "preview_catalog_refresh",
    post,
    path = "/api/v1/orgs/{org}/catalogs/{catalog}/refresh",
    tag = "catalogs",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name"),
        ("catalog" = String, Path, description = "Catalog name")),
    responses(
        (status = 200, description = "OK", body = RefreshPreview),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "The catalog, or one of its workloads in the source (named), does not exist", body = ErrorBody),
        (status = 409, description = "The source cluster is not available", body = ErrorBody),
        (status = 503, description = "The source cluster is offline or did not answer", body = ErrorBody),
    )
)]
pub(crate) async fn refresh_preview(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, catalog)): Path<(String, String)>,
) -> Result<Json<RefreshPreview>, ApiError> {
    Ok(Json(
        app::catalogs::refresh_preview(&state, &caller, &org, &catalog).await?,
    ))
}

/// Apply exactly the previewed refresh (admins); 409 when the source or the
/// catalog changed since the preview.
#[utoipa::path(
    operation_id = "apply_catalog_refresh",
    post,
    path = "/api/v1/orgs/{org}/catalogs/{catalog}/refresh/apply",
    tag = "catalogs",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name"),
        ("catalog" = String, Path, description = "Catalog name")),
    request_body = ApplyRefresh,
    responses(
        (status = 200, description = "Applied", body = Catalog),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
        (status = 409, description = "Changed since the preview, or the source cluster is not available", body = ErrorBody),
        (status = 422, description = "A field is invalid; `field` names it", body = ErrorBody),
        (status = 503, description = "The source cluster is offline or did not answer", body = ErrorBody),
    )
)]
pub(crate) async fn refresh_apply(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, catalog)): Path<(String, String)>,
    ApiJson(req): ApiJson<ApplyRefresh>,
) -> Result<Json<Catalog>, ApiError> {
    Ok(Json(
        app::catalogs::refresh_apply(&state, &caller, &org, &catalog, req).await?,
    ))
}
