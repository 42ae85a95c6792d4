//! `/orgs/{org}/environments`: Personal and Shared environments — create
//! from a catalog, list, read (optionally waiting for a change), pause,
//! resume, delete, events. Thin: every handler calls `app::environments`.
//! Changes answer 201/202 once recorded; the cluster catches up on its own.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lapdev_api::{
    CreateEnvironment, Environment, EnvironmentEvent, EnvironmentQuery, EnvironmentSummary,
    EnvironmentsQuery, ErrorBody, Page, PageQuery,
};

use super::extract::{ApiJson, ApiQuery, Caller};
use crate::app;
use crate::error::ApiError;
use crate::state::AppState;

/// The environments the caller may see: every Shared one, and their own
/// Personal ones (admins see all).
#[utoipa::path(
    operation_id = "list_environments",
    get,
    path = "/api/v1/orgs/{org}/environments",
    tag = "environments",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name"), EnvironmentsQuery),
    responses(
        (status = 200, description = "OK", body = Page<EnvironmentSummary>),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
        (status = 422, description = "A bad limit or cursor", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<String>,
    ApiQuery(query): ApiQuery<EnvironmentsQuery>,
) -> Result<Json<Page<EnvironmentSummary>>, ApiError> {
    Ok(Json(
        app::environments::list(&state, &caller, &org, query).await?,
    ))
}

/// Create an environment from a catalog: Personal (any member; the cluster
/// needs the `personal` permission) or Shared (admins; `shared`). Answers
/// once recorded, with status `creating`.
#[utoipa::path(
    operation_id = "create_environment",
    post,
    path = "/api/v1/orgs/{org}/environments",
    tag = "environments",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name")),
    request_body = CreateEnvironment,
    responses(
        (status = 201, description = "Created (starting in the cluster)", body = Environment),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed (Shared: admins only)", body = ErrorBody),
        (status = 404, description = "The organization, catalog or cluster does not exist", body = ErrorBody),
        (status = 409, description = "The name is taken, or the cluster is not a connected target allowing this kind", body = ErrorBody),
        (status = 422, description = "A field is invalid (e.g. missing Secret values); `field` names it", body = ErrorBody),
        (status = 503, description = "The cluster is offline", body = ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<String>,
    ApiJson(req): ApiJson<CreateEnvironment>,
) -> Result<(StatusCode, Json<Environment>), ApiError> {
    let created = app::environments::create(&state, &caller, &org, req).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One environment: status, workloads, generations. With `after`, waits
/// (long-poll) until its `revision` differs.
#[utoipa::path(
    operation_id = "get_environment",
    get,
    path = "/api/v1/orgs/{org}/environments/{env}",
    tag = "environments",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name"),
        ("env" = String, Path, description = "Environment name"), EnvironmentQuery),
    responses(
        (status = 200, description = "OK", body = Environment),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 404, description = "Not found (or deleted), or not visible to the caller", body = ErrorBody),
    )
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, env)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<EnvironmentQuery>,
) -> Result<Json<Environment>, ApiError> {
    Ok(Json(
        app::environments::get(&state, &caller, &org, &env, query).await?,
    ))
}

/// Delete an environment: its namespace is removed, then it leaves the
/// lists (if the cluster is offline, once it is back). Owner or admins.
#[utoipa::path(
    operation_id = "delete_environment",
    delete,
    path = "/api/v1/orgs/{org}/environments/{env}",
    tag = "environments",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name"),
        ("env" = String, Path, description = "Environment name")),
    responses(
        (status = 202, description = "Accepted (status `deleting`)", body = Environment),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
    )
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, env)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Environment>), ApiError> {
    let env = app::environments::delete(&state, &caller, &org, &env).await?;
    Ok((StatusCode::ACCEPTED, Json(env)))
}

/// Pause: every workload scales to zero (the replicas are remembered).
#[utoipa::path(
    operation_id = "pause_environment",
    post,
    path = "/api/v1/orgs/{org}/environments/{env}/pause",
    tag = "environments",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name"),
        ("env" = String, Path, description = "Environment name")),
    responses(
        (status = 202, description = "Accepted (status `pausing`)", body = Environment),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed (owner of a Personal, admins for a Shared one)", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
        (status = 409, description = "The environment is being deleted", body = ErrorBody),
    )
)]
pub(crate) async fn pause(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, env)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Environment>), ApiError> {
    let env = app::environments::pause(&state, &caller, &org, &env).await?;
    Ok((StatusCode::ACCEPTED, Json(env)))
}

/// Resume a paused environment: the replicas come back as they were.
#[utoipa::path(
    operation_id = "resume_environment",
    post,
    path = "/api/v1/orgs/{org}/environments/{env}/resume",
    tag = "environments",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name"),
        ("env" = String, Path, description = "Environment name")),
    responses(
        (status = 202, description = "Accepted (status `resuming`)", body = Environment),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed (owner of a Personal, admins for a Shared one)", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
        (status = 409, description = "The environment is being deleted", body = ErrorBody),
    )
)]
pub(crate) async fn resume(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, env)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Environment>), ApiError> {
    let env = app::environments::resume(&state, &caller, &org, &env).await?;
    Ok((StatusCode::ACCEPTED, Json(env)))
}

/// What happened to an environment, newest first (`limit` only).
#[utoipa::path(
    operation_id = "list_environment_events",
    get,
    path = "/api/v1/orgs/{org}/environments/{env}/events",
    tag = "environments",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name"),
        ("env" = String, Path, description = "Environment name"), PageQuery),
    responses(
        (status = 200, description = "OK", body = Page<EnvironmentEvent>),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
        (status = 422, description = "A bad limit", body = ErrorBody),
    )
)]
pub(crate) async fn events(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, env)): Path<(String, String)>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<EnvironmentEvent>>, ApiError> {
    Ok(Json(
        app::environments::events(&state, &caller, &org, &env, page.limit).await?,
    ))
}
