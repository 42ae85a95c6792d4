//! `POST /auth/login`: password sign-in for the CLI and scripts.

use axum::Json;
use axum::extract::State;
use lapdev_api::{ErrorBody, LoginRequest, LoginResponse};

use super::extract::{ApiJson, ClientIp};
use crate::app;
use crate::error::ApiError;
use crate::state::AppState;

/// Exchange a username and password for a new personal API token.
#[utoipa::path(
    operation_id = "login",
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; the token is shown this once", body = LoginResponse),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody),
    )
)]
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    Ok(Json(app::users::login(&state, req, ip).await?))
}
