//! The web dashboard: server-rendered pages (askama templates in
//! `templates/`, static files in `assets/` embedded in the binary), built on
//! the sessions and CSRF helpers of `crate::auth` and the same `app`
//! functions the REST API calls, so authorization and the audit log are
//! shared. Merged into the main router.
//!
//! Every dashboard route is one row of [`WEB_ROUTES`]; the router is built
//! from that table and the authorization test walks it, so a page cannot be
//! added without being tested.

mod assets;
mod audit;
mod catalog;
mod catalog_actions;
mod catalogs;
mod cluster_settings;
mod clusters;
mod environment;
mod environment_actions;
mod environments;
mod forms;
mod layout;
mod login;
mod members;
mod placeholders;
mod settings;
mod tokens;
mod workloads;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::{MethodFilter, MethodRouter, on};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;

/// Which handler serves a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handler {
    Home,
    Asset,
    LoginPage,
    Login,
    Logout,
    Organization,
    Clusters,
    ConnectCluster,
    Cluster,
    UpdateCluster,
    RotateClusterToken,
    RevokeClusterToken,
    DeleteCluster,
    CreateCatalog,
    Catalogs,
    Catalog,
    UpdateCatalog,
    RemoveCatalogWorkload,
    RefreshCatalog,
    ApplyCatalogRefresh,
    DeleteCatalog,
    CreateEnvironment,
    Environments,
    Environment,
    PauseEnvironment,
    ResumeEnvironment,
    DeleteEnvironment,
    Members,
    AddMember,
    SetRole,
    RemoveMember,
    Audit,
    Tokens,
    CreateToken,
    RevokeToken,
    Settings,
    ChangePassword,
}

/// One dashboard route: an HTTP method (`GET` or `POST`) and a path template.
#[derive(Debug, Clone, Copy)]
pub struct WebRoute {
    pub method: &'static str,
    pub path: &'static str,
    handler: Handler,
}

const fn route(method: &'static str, path: &'static str, handler: Handler) -> WebRoute {
    WebRoute {
        method,
        path,
        handler,
    }
}

/// Every route of the dashboard. The router is built from this table alone.
pub const WEB_ROUTES: &[WebRoute] = &[
    route("GET", "/", Handler::Home),
    route("GET", "/assets/{file}", Handler::Asset),
    route("GET", "/login", Handler::LoginPage),
    route("POST", "/login", Handler::Login),
    route("POST", "/logout", Handler::Logout),
    route("GET", "/orgs/{org}", Handler::Organization),
    route("GET", "/orgs/{org}/clusters", Handler::Clusters),
    route("POST", "/orgs/{org}/clusters", Handler::ConnectCluster),
    route("GET", "/orgs/{org}/clusters/{cluster}", Handler::Cluster),
    route(
        "POST",
        "/orgs/{org}/clusters/{cluster}",
        Handler::UpdateCluster,
    ),
    route(
        "POST",
        "/orgs/{org}/clusters/{cluster}/rotate",
        Handler::RotateClusterToken,
    ),
    route(
        "POST",
        "/orgs/{org}/clusters/{cluster}/revoke",
        Handler::RevokeClusterToken,
    ),
    route(
        "POST",
        "/orgs/{org}/clusters/{cluster}/delete",
        Handler::DeleteCluster,
    ),
    route(
        "POST",
        "/orgs/{org}/clusters/{cluster}/catalogs",
        Handler::CreateCatalog,
    ),
    route("GET", "/orgs/{org}/catalogs", Handler::Catalogs),
    route("GET", "/orgs/{org}/catalogs/{catalog}", Handler::Catalog),
    route(
        "POST",
        "/orgs/{org}/catalogs/{catalog}",
        Handler::UpdateCatalog,
    ),
    route(
        "POST",
        "/orgs/{org}/catalogs/{catalog}/workloads/remove",
        Handler::RemoveCatalogWorkload,
    ),
    route(
        "POST",
        "/orgs/{org}/catalogs/{catalog}/refresh",
        Handler::RefreshCatalog,
    ),
    route(
        "POST",
        "/orgs/{org}/catalogs/{catalog}/refresh/apply",
        Handler::ApplyCatalogRefresh,
    ),
    route(
        "POST",
        "/orgs/{org}/catalogs/{catalog}/delete",
        Handler::DeleteCatalog,
    ),
    route(
        "POST",
        "/orgs/{org}/catalogs/{catalog}/environments",
        Handler::CreateEnvironment,
    ),
    route("GET", "/orgs/{org}/environments", Handler::Environments),
    route(
        "GET",
        "/orgs/{org}/environments/{env}",
        Handler::Environment,
    ),
    route(
        "POST",
        "/orgs/{org}/environments/{env}/pause",
        Handler::PauseEnvironment,
    ),
    route(
        "POST",
        "/orgs/{org}/environments/{env}/resume",
        Handler::ResumeEnvironment,
    ),
    route(
        "POST",
        "/orgs/{org}/environments/{env}/delete",
        Handler::DeleteEnvironment,
    ),
    route("GET", "/orgs/{org}/members", Handler::Members),
    route("POST", "/orgs/{org}/members", Handler::AddMember),
    route(
        "POST",
        "/orgs/{org}/members/{user_id}/role",
        Handler::SetRole,
    ),
    route(
        "POST",
        "/orgs/{org}/members/{user_id}/remove",
        Handler::RemoveMember,
    ),
    route("GET", "/orgs/{org}/audit", Handler::Audit),
    route("GET", "/settings/tokens", Handler::Tokens),
    route("POST", "/settings/tokens", Handler::CreateToken),
    route("POST", "/settings/tokens/{id}/revoke", Handler::RevokeToken),
    route("GET", "/settings", Handler::Settings),
    route("POST", "/settings/password", Handler::ChangePassword),
];

fn method_router(r: &WebRoute) -> MethodRouter<AppState> {
    let method = match r.method {
        "GET" => MethodFilter::GET,
        "POST" => MethodFilter::POST,
        other => panic!("dashboard route {}: unsupported method {other}", r.path),
    };
    match r.handler {
        Handler::Home => on(method, placeholders::home),
        Handler::Asset => on(method, assets::serve),
        Handler::LoginPage => on(method, login::page),
        Handler::Login => on(method, login::submit),
        Handler::Logout => on(method, login::logout),
        Handler::Organization => on(method, placeholders::organization),
        Handler::Clusters => on(method, clusters::page),
        Handler::ConnectCluster => on(method, clusters::connect),
        Handler::Cluster => on(method, cluster_settings::page),
        Handler::UpdateCluster => on(method, cluster_settings::update),
        Handler::RotateClusterToken => on(method, cluster_settings::rotate),
        Handler::RevokeClusterToken => on(method, cluster_settings::revoke),
        Handler::DeleteCluster => on(method, cluster_settings::delete),
        Handler::CreateCatalog => on(method, workloads::create),
        Handler::Catalogs => on(method, catalogs::page),
        Handler::Catalog => on(method, catalog::page),
        Handler::UpdateCatalog => on(method, catalog_actions::update),
        Handler::RemoveCatalogWorkload => on(method, catalog_actions::remove_workload),
        Handler::RefreshCatalog => on(method, catalog_actions::refresh),
        Handler::ApplyCatalogRefresh => on(method, catalog_actions::apply),
        Handler::DeleteCatalog => on(method, catalog_actions::delete),
        Handler::CreateEnvironment => on(method, environment_actions::create),
        Handler::Environments => on(method, environments::page),
        Handler::Environment => on(method, environment::page),
        Handler::PauseEnvironment => on(method, environment_actions::pause),
        Handler::ResumeEnvironment => on(method, environment_actions::resume),
        Handler::DeleteEnvironment => on(method, environment_actions::delete),
        Handler::Members => on(method, members::page),
        Handler::AddMember => on(method, members::add),
        Handler::SetRole => on(method, members::set_role),
        Handler::RemoveMember => on(method, members::remove),
        Handler::Audit => on(method, audit::page),
        Handler::Tokens => on(method, tokens::page),
        Handler::CreateToken => on(method, tokens::create),
        Handler::RevokeToken => on(method, tokens::revoke),
        Handler::Settings => on(method, settings::page),
        Handler::ChangePassword => on(method, settings::change_password),
    }
}

/// The same-origin-only policy of every dashboard response: no inline
/// script or style, no framing, forms post only here.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

async fn not_found() -> layout::WebError {
    layout::WebError::App(
        axum::http::StatusCode::NOT_FOUND,
        "There is no page at this address.".into(),
    )
}

pub(crate) fn router() -> Router<AppState> {
    let mut router = Router::new();
    for r in WEB_ROUTES {
        router = router.route(r.path, method_router(r));
    }
    // Any other address outside the API: a readable page, not an empty 404.
    router = router.fallback(not_found);
    let headers: [(HeaderName, &'static str); 5] = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // Pages carry CSRF tokens and, once, secrets; assets set their own.
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_unique_and_builds() {
        let mut seen = std::collections::BTreeSet::new();
        for r in WEB_ROUTES {
            assert!(seen.insert((r.method, r.path)), "duplicate {r:?}");
        }
        let _ = router();
    }
}
