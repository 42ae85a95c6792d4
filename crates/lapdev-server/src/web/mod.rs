//! The web dashboard: server-rendered pages (templates in `templates/`,
//! static files in `assets/`), built on the sessions and CSRF helpers of
//! `crate::auth`. Merged into the main router.

use axum::Router;

use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
}
