//! `/me`: the caller's own account.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lapdev_api::{ChangePassword, ErrorBody, Me};

use super::extract::{ApiJson, Caller, ClientIp};
use crate::app;
use crate::error::ApiError;
use crate::state::AppState;

/// Who the caller is and which organizations they belong to.
#[utoipa::path(
    operation_id = "get_me",
    get,
    path = "/api/v1/me",
    tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Me),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
    )
)]
pub(crate) async fn get_me(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<Json<Me>, ApiError> {
    Ok(Json(app::users::me(&state, &caller).await?))
}

/// Change the caller's password. Ends their dashboard sessions; API tokens stay valid.
#[utoipa::path(
    operation_id = "change_password",
    put,
    path = "/api/v1/me/password",
    tag = "users",
    security(("bearer" = [])),
    request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 422, description = "Wrong current password or too weak a new one", body = ErrorBody),
    )
)]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<ChangePassword>,
) -> Result<StatusCode, ApiError> {
    app::users::change_password(&state, &caller, req, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}
