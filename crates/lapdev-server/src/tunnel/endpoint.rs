//! `GET /api/v1/tunnel`: authenticates the cluster token from
//! `Authorization: Bearer` *before* upgrading (401 without an upgrade
//! otherwise), then hands the socket to [`super::connection::run`].

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::response::{IntoResponse, Response};
use lapdev_api::ErrorCode;
use lapdev_tunnel_proto::MAX_FRAME_BYTES;

use crate::app::AppError;
use crate::auth::cluster_tokens;
use crate::error::ApiError;
use crate::http::extract::bearer_secret;
use crate::state::AppState;

pub(crate) async fn tunnel(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let token = headers.get(AUTHORIZATION).and_then(bearer_secret);
    let Some(token) = token else {
        return ApiError::new(
            ErrorCode::Unauthenticated,
            "send the cluster token as `Authorization: Bearer <token>`",
        )
        .into_response();
    };
    let (cluster, token) = match cluster_tokens::authenticate(&state, token).await {
        Ok(found) => found,
        Err(AppError::Unauthenticated) => {
            return ApiError::new(
                ErrorCode::Unauthenticated,
                "the cluster token is unknown, rotated out or revoked",
            )
            .into_response();
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            return ApiError::bad_request(format!(
                "this endpoint speaks WebSocket only: {}",
                rejection.body_text()
            ))
            .into_response();
        }
    };
    upgrade
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            // Owned by the server's tracker, so shutdown waits for it.
            let tasks = state.tasks().clone();
            let _ = tasks
                .spawn(super::connection::run(socket, state, cluster, token))
                .await;
        })
}
