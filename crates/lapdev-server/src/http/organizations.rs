//! `/orgs`: the caller's organizations.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lapdev_api::{
    CreateOrganization, ErrorBody, Organization, OrganizationMembership, Page, PageQuery,
};

use super::extract::{ApiJson, ApiQuery, Caller};
use crate::app::{self, PageRequest};
use crate::error::ApiError;
use crate::state::AppState;

/// The organizations the caller belongs to, with their role.
#[utoipa::path(
    operation_id = "list_organizations",
    get,
    path = "/api/v1/orgs",
    tag = "organizations",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "OK", body = Page<OrganizationMembership>),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<OrganizationMembership>>, ApiError> {
    let page = PageRequest::parse(page)?;
    Ok(Json(app::organizations::list(&state, &caller, page).await?))
}

/// Create an organization; the caller becomes its admin.
#[utoipa::path(
    operation_id = "create_organization",
    post,
    path = "/api/v1/orgs",
    tag = "organizations",
    security(("bearer" = [])),
    request_body = CreateOrganization,
    responses(
        (status = 201, description = "Created", body = Organization),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 422, description = "A field is invalid; `field` names it", body = ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(req): ApiJson<CreateOrganization>,
) -> Result<(StatusCode, Json<Organization>), ApiError> {
    let org = app::organizations::create(&state, &caller, req).await?;
    Ok((StatusCode::CREATED, Json(org)))
}

/// One organization the caller belongs to, with their role.
#[utoipa::path(
    operation_id = "get_organization",
    get,
    path = "/api/v1/orgs/{org}",
    tag = "organizations",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name")),
    responses(
        (status = 200, description = "OK", body = OrganizationMembership),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
    )
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<String>,
) -> Result<Json<OrganizationMembership>, ApiError> {
    Ok(Json(app::organizations::get(&state, &caller, &org).await?))
}
