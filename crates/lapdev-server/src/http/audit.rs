//! `/orgs/{org}/audit`: the audit log (admins).

use axum::Json;
use axum::extract::{Path, State};
use lapdev_api::{AuditEvent, ErrorBody, Page, PageQuery};

use super::extract::{ApiQuery, Caller};
use crate::app::{self, PageRequest};
use crate::error::ApiError;
use crate::state::AppState;

/// The organization's audit log, newest first (admins).
#[utoipa::path(
    operation_id = "list_audit_events",
    get,
    path = "/api/v1/orgs/{org}/audit",
    tag = "audit",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Organization name"), PageQuery),
    responses(
        (status = 200, description = "OK", body = Page<AuditEvent>),
        (status = 401, description = "Not signed in, or a bad token", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "Not found, or not visible to the caller", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(org): Path<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<AuditEvent>>, ApiError> {
    let page = PageRequest::parse(page)?;
    Ok(Json(app::audit::list(&state, &caller, &org, page).await?))
}
