//! Liveness, readiness (checks the database) and Prometheus metrics.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use crate::app::AppError;
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) async fn healthz() -> &'static str {
    "ok\n"
}

pub(crate) async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.db().ping().await.map_err(|e| {
        tracing::warn!(error = %crate::error::Chain(&e), "readiness check failed");
        ApiError::from(AppError::Unavailable)
    })?;
    Ok("ready\n")
}

pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics().encode(),
    )
}
