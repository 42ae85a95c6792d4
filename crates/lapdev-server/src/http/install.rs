//! `GET /install/kube-manager.yaml?token=...`: the install manifest for
//! `kubectl apply -f <url>`, authenticated by the cluster token itself.
//! Refused with a plain-text 401 for an unknown, rotated-out or revoked
//! token. The query string (the token) is never logged: the trace span
//! records only the path (see `http::router`), metrics only the route.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lapdev_api::MANIFEST_CONTENT_TYPE;
use serde::Deserialize;

use crate::app::AppError;
use crate::auth::cluster_tokens;
use crate::install::{InstallParams, parse_namespaces, render};
use crate::state::AppState;

#[derive(Deserialize)]
pub(crate) struct InstallQuery {
    token: Option<String>,
    namespaces: Option<String>,
}

fn plain(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

pub(crate) async fn manifest(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<InstallQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return plain(StatusCode::BAD_REQUEST, "unreadable query string");
    };
    let Some(token) = query.token.filter(|t| !t.is_empty()) else {
        return plain(
            StatusCode::UNAUTHORIZED,
            "add ?token=<cluster token> (shown when the cluster was created or its token rotated)",
        );
    };
    let cluster = match cluster_tokens::authenticate(&state, &token).await {
        Ok((cluster, _)) => cluster,
        Err(AppError::Unauthenticated) => {
            return plain(
                StatusCode::UNAUTHORIZED,
                "the cluster token is unknown, rotated out or revoked: rotate it in Lapdev for a new install command",
            );
        }
        Err(AppError::Unavailable) => {
            return plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is unavailable",
            );
        }
        Err(e) => {
            tracing::error!(error = %crate::error::Chain(&e), "install manifest failed");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "internal server error");
        }
    };
    let source_namespaces = match parse_namespaces(query.namespaces.as_deref()) {
        Ok(list) => list,
        Err(e) => {
            return plain(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("namespaces: {e}"),
            );
        }
    };
    let yaml = render(&InstallParams {
        cluster_name: cluster.name.to_string(),
        server_url: base_url(&state, &headers),
        token,
        source_namespaces,
    });
    (
        [
            (header::CONTENT_TYPE, MANIFEST_CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        yaml,
    )
        .into_response()
}

/// The URL kube-manager and install commands should use for this server:
/// `--external-url` when set, else the scheme this server serves and the
/// request's `Host` (when it is a plain host[:port]).
pub(crate) fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    let settings = state.settings();
    if let Some(url) = &settings.external_url {
        return url.clone();
    }
    let scheme = if settings.tls { "https" } else { "http" };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("{scheme}://{host}")
}
