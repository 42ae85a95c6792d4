//! `/orgs/{org}/members`: membership and roles.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lapdev_api::{AddMember, AddedMember, ErrorBody, Member, Page, PageQuery, UpdateMember};

use super::extract::{ApiJson, ApiQuery, Caller};
use crate::app::{self, PageRequest};
use crate::error::ApiError;
use crate::state::AppState;

/// The organization's members (members and admins).
#[utoipa::path(
    operation_id = "list_members",
    get,
    path = "/api/v1/orgs/{org}/members",
    tag = "members",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name"), PageQuery),
    responses(
        (status = 200, description = "OK", body = Page<Member>),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<Member>>, ApiError> {
    let page = PageRequest::parse(page)?;
    Ok(Json(app::members::list(&state, &caller, &org, page).await?))
}

/// Add a member (admins). Creates the user when the username is new.
#[utoipa::path(
    operation_id = "add_member",
    post,
    path = "/api/v1/orgs/{org}/members",
    tag = "members",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name")),
    request_body = AddMember,
    responses(
        (status = 201, description = "Created", body = AddedMember),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
        (status = 409, description = "Already a member", body = ErrorBody),
        (status = 422, description = "A field is invalid; `field` names it", body = ErrorBody),
    )
)]
pub(crate) async fn add(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<String>,
    ApiJson(req): ApiJson<AddMember>,
) -> Result<(StatusCode, Json<AddedMember>), ApiError> {
    let added = app::members::add(&state, &caller, &org, req).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// Change a member's role (admins). The last admin cannot be demoted (409).
#[utoipa::path(
    operation_id = "update_member",
    patch,
    path = "/api/v1/orgs/{org}/members/{user_id}",
    tag = "members",
    security(("bearer" = [])),
    params(
        ("org" = String, Path, description = "Organization name"),
        ("user_id" = String, Path, description = "The member's user id"),
    ),
    request_body = UpdateMember,
    responses(
        (status = 200, description = "OK", body = Member),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
        (status = 409, description = "Last admin", body = ErrorBody),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, user_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<UpdateMember>,
) -> Result<Json<Member>, ApiError> {
    Ok(Json(
        app::members::update(&state, &caller, &org, &user_id, req).await?,
    ))
}

/// Remove a member (admins). The last admin cannot be removed (409).
#[utoipa::path(
    operation_id = "remove_member",
    delete,
    path = "/api/v1/orgs/{org}/members/{user_id}",
    tag = "members",
    security(("bearer" = [])),
    params(
        ("org" = String, Path, description = "Organization name"),
        ("user_id" = String, Path, description = "The member's user id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
        (status = 409, description = "Last admin", body = ErrorBody),
    )
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((org, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    app::members::remove(&state, &caller, &org, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
