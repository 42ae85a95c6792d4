//! `/tokens`: the caller's personal API tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lapdev_api::{ApiToken, CreateToken, CreatedToken, ErrorBody, Page, PageQuery};

use super::extract::{ApiJson, ApiQuery, Caller, CallerToken};
use crate::app::{self, PageRequest};
use crate::error::ApiError;
use crate::state::AppState;

/// The caller's tokens (never their secrets).
#[utoipa::path(
    operation_id = "list_tokens",
    get,
    path = "/api/v1/tokens",
    tag = "tokens",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "OK", body = Page<ApiToken>),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<ApiToken>>, ApiError> {
    let page = PageRequest::parse(page)?;
    Ok(Json(app::tokens::list(&state, &caller, page).await?))
}

/// Create a token; its secret is in the response this once.
#[utoipa::path(
    operation_id = "create_token",
    post,
    path = "/api/v1/tokens",
    tag = "tokens",
    security(("bearer" = [])),
    request_body = CreateToken,
    responses(
        (status = 201, description = "Created", body = CreatedToken),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 422, description = "A field is invalid; `field` names it", body = ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(req): ApiJson<CreateToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let created = app::tokens::create(&state, &caller, req).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revoke one of the caller's tokens.
#[utoipa::path(
    operation_id = "revoke_token",
    delete,
    path = "/api/v1/tokens/{id}",
    tag = "tokens",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
    )
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app::tokens::revoke(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke the token this request is authenticated with (what `lapdev logout`
/// does).
#[utoipa::path(
    operation_id = "revoke_current_token",
    delete,
    path = "/api/v1/tokens/current",
    tag = "tokens",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
    )
)]
pub(crate) async fn revoke_current(
    State(state): State<AppState>,
    CallerToken(caller, id): CallerToken,
) -> Result<StatusCode, ApiError> {
    app::tokens::revoke(&state, &caller, &id.to_string()).await?;
    Ok(StatusCode::NO_CONTENT)
}
