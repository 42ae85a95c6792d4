//! `/orgs/{org}/audit`: the organization's audit log for its admins, newest
//! first, read through `app::audit` (which refuses members with 403).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use lapdev_api::AuditEvent;

use super::layout::{CursorQuery, Rendered, Shell, WebError, date, remember_org, take_flash};
use crate::app::{self, PageRequest};
use crate::auth::SessionUser;
use crate::state::AppState;

struct Row {
    at: String,
    actor: String,
    action: String,
    object: String,
    details: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    shell: Shell,
    org: String,
    rows: Vec<Row>,
    next_page: Option<String>,
}

/// `{"role":"admin"}` → `role: admin`; nothing for an empty object.
fn details(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}: {s}"),
                other => format!("{k}: {other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn row(e: AuditEvent) -> Row {
    Row {
        at: date(e.at),
        actor: e
            .actor
            .map_or_else(|| "system".into(), |a| a.username.to_string()),
        object: match e.object_name {
            Some(name) => format!("{} {name}", e.object_kind.replace('_', " ")),
            None => e.object_kind.replace('_', " "),
        },
        details: details(&e.details),
        action: e.action,
    }
}

/// `GET /orgs/{org}/audit`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: SessionUser,
    headers: HeaderMap,
    Path(org): Path<String>,
    Query(q): Query<CursorQuery>,
) -> Result<Response, WebError> {
    let caller = user.auth_user();
    let membership = app::organizations::get(&state, &caller, &org).await?;
    let page = app::audit::list(&state, &caller, &org, PageRequest::longest(q.cursor)).await?;
    let (flash, clear) = take_flash(&state, &headers);
    let shell = Shell::load(&state, &user, &headers, Some(&membership), "audit")
        .await?
        .with_flash(flash);
    let org = membership.organization.name.to_string();
    let remember = remember_org(&state, &org);
    let view = AuditPage {
        shell,
        rows: page.items.into_iter().map(row).collect(),
        next_page: page
            .next_cursor
            .map(|c| format!("/orgs/{org}/audit?cursor={c}")),
        org,
    };
    Ok(Rendered::new(&view)?
        .cookies(clear)
        .cookie(remember)
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_read_as_pairs() {
        assert_eq!(
            details(&serde_json::json!({"role": "admin", "new_user": true})),
            "new_user: true, role: admin"
        );
        assert_eq!(details(&serde_json::Value::Null), "");
        assert_eq!(details(&serde_json::json!({})), "");
    }
}
