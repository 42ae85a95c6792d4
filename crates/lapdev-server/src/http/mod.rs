//! The HTTP edge: the router, its middleware (limits, timeout, tracing,
//! metrics), the OpenAPI document and thin handlers, one file per resource.
//! Handlers only translate HTTP to `app` calls and back.

mod audit;
mod auth;
mod catalogs;
mod clusters;
mod environments;
pub(crate) mod extract;
mod health;
pub(crate) mod install;
mod me;
mod members;
mod organizations;
mod tokens;
mod workloads;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use tower_http::sensitive_headers::{
    SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeadersLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

/// Every request is answered within this time (503 otherwise).
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Answers 503 with the error body when a request takes longer than
/// [`REQUEST_TIMEOUT`] (the handler's future is dropped).
async fn timeout(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            lapdev_api::ErrorCode::Unavailable,
            format!(
                "the request took longer than {} s; try again",
                REQUEST_TIMEOUT.as_secs()
            ),
        )
        .into_response(),
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Lapdev API",
        description = "The REST API of the Lapdev control plane. Authenticate with `Authorization: Bearer <token>` (see `POST /api/v1/auth/login`).",
        license(name = "AGPL-3.0-only")
    ),
    modifiers(&BearerScheme),
    components(schemas(lapdev_api::ErrorBody, lapdev_api::ErrorCode))
)]
struct ApiDoc;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        openapi.info.version = "v1".into();
    }
}

/// Every `/api/v1` route, registered together with its OpenAPI operation so
/// the two cannot diverge.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::login))
        .routes(routes!(me::get_me))
        .routes(routes!(me::change_password))
        .routes(routes!(organizations::list, organizations::create))
        .routes(routes!(organizations::get))
        .routes(routes!(members::list, members::add))
        .routes(routes!(members::update, members::remove))
        .routes(routes!(audit::list))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(tokens::revoke_current))
        .routes(routes!(clusters::list, clusters::create))
        .routes(routes!(clusters::get, clusters::update, clusters::delete))
        .routes(routes!(clusters::rotate_token, clusters::revoke_token))
        .routes(routes!(clusters::install_manifest))
        .routes(routes!(workloads::list))
        .routes(routes!(catalogs::list, catalogs::create))
        .routes(routes!(catalogs::get, catalogs::update, catalogs::delete))
        .routes(routes!(catalogs::add_workloads))
        .routes(routes!(catalogs::remove_workload))
        .routes(routes!(catalogs::refresh_preview))
        .routes(routes!(catalogs::refresh_apply))
        .routes(routes!(environments::list, environments::create))
        .routes(routes!(environments::get, environments::delete))
        .routes(routes!(environments::pause))
        .routes(routes!(environments::resume))
        .routes(routes!(environments::events))
}

/// The OpenAPI document of the REST API (served at `/api/v1/openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes().split_for_parts().1
}

async fn api_fallback(uri: Uri) -> ApiError {
    ApiError::new(
        lapdev_api::ErrorCode::NotFound,
        format!("no API endpoint at {}", uri.path()),
    )
}

/// The request span: method and path, never the query string.
fn path_only_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        version = ?req.version(),
    )
}

pub(crate) fn router(state: AppState) -> Router {
    let (api, doc) = api_routes().split_for_parts();
    let doc = Arc::new(doc);
    let api = api
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                // Serialized from the shared document, not from a deep copy.
                async move { Json(doc.as_ref()).into_response() }
            }),
        )
        .route(
            lapdev_tunnel_proto::TUNNEL_PATH,
            get(crate::tunnel::endpoint::tunnel),
        )
        .route("/api/v1/{*rest}", axum::routing::any(api_fallback));
    Router::new()
        .merge(api)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route(crate::install::INSTALL_PATH, get(install::manifest))
        .merge(crate::web::router())
        // Per matched route (so the label is the route template, not the URI).
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        .layer(DefaultBodyLimit::max(lapdev_api::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(timeout))
        .layer(SetSensitiveResponseHeadersLayer::new([SET_COOKIE]))
        // Spans name method, path and status; never headers, bodies or the
        // query string (the install manifest URL carries a cluster token).
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(path_only_span)
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetSensitiveRequestHeadersLayer::new([
            AUTHORIZATION,
            COOKIE,
        ]))
        .with_state(state)
}
