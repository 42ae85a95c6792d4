//! `/orgs/{org}/environments`: the environments the caller may see (Shared
//! ones and their own Personal ones; admins all) with kind, catalog,
//! cluster, owner, status and age, or an empty state saying how to create
//! one (from a catalog page, or `lapdev env create`). Reads through
//! `app::environments::list`; the page refreshes itself while an
//! environment is changing.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use lapdev_api::{EnvironmentStatus, EnvironmentSummary, EnvironmentsQuery, PageQuery};
use lapdev_domain::EnvironmentKind;

use super::layout::{Rendered, Shell, WebError, date, remember_org, take_flash};
use crate::app;
use crate::auth::SessionUser;
use crate::state::AppState;

/// Seconds between refreshes of a page showing a changing environment.
pub(super) const REFRESH_SECS: u32 = 3;

/// How long ago `t` was, short: `40s`, `12m`, `3h`, `5d`.
pub(super) fn age(t: Timestamp, now: Timestamp) -> String {
    let secs = now.as_second().saturating_sub(t.as_second()).max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86400),
    }
}

/// `Personal` or `Shared`.
pub(super) fn kind_label(kind: EnvironmentKind) -> &'static str {
    match kind {
        EnvironmentKind::Personal => "Personal",
        EnvironmentKind::Shared => "Shared",
    }
}

/// Whether a status comes with a message worth showing as a problem
/// (failed, degraded) rather than a note (waiting for a cluster).
pub(super) fn is_problem(status: EnvironmentStatus) -> bool {
    matches!(
        status,
        EnvironmentStatus::Failed | EnvironmentStatus::Degraded
    )
}

struct Row {
    href: String,
    name: String,
    kind: &'static str,
    kind_class: &'static str,
    catalog: String,
    catalog_href: String,
    cluster: String,
    cluster_href: String,
    owner: Option<String>,
    status: &'static str,
    message: Option<String>,
    problem: bool,
    age: String,
    created: String,
}

fn row(org: &str, e: EnvironmentSummary, now: Timestamp) -> Row {
    Row {
        href: format!("/orgs/{org}/environments/{}", e.name),
        name: e.name.to_string(),
        kind: kind_label(e.kind),
        kind_class: e.kind.as_str(),
        catalog_href: format!("/orgs/{org}/catalogs/{}", e.catalog),
        catalog: e.catalog,
        cluster_href: format!("/orgs/{org}/clusters/{}", e.cluster),
        cluster: e.cluster.to_string(),
        owner: e.owner.map(|o| o.to_string()),
        status: e.status.as_str(),
        problem: is_problem(e.status),
        message: e.message,
        age: age(e.created_at, now),
        created: date(e.created_at),
    }
}

#[derive(Template)]
#[template(path = "environments.html")]
struct EnvironmentsPage {
    shell: Shell,
    org: String,
    rows: Vec<Row>,
    /// More environments exist than one page shows.
    truncated: bool,
    /// Reload in a few seconds: an environment is changing.
    refresh: bool,
    refresh_secs: u32,
}

/// `GET /orgs/{org}/environments`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: SessionUser,
    headers: HeaderMap,
    Path(org): Path<String>,
) -> Result<Response, WebError> {
    let caller = user.auth_user();
    let membership = app::organizations::get(&state, &caller, &org).await?;
    let org = membership.organization.name.to_string();
    let query = EnvironmentsQuery {
        limit: Some(PageQuery::MAX_LIMIT),
        ..EnvironmentsQuery::default()
    };
    let list = app::environments::list(&state, &caller, &org, query).await?;
    let refresh = list.items.iter().any(|e| e.status.is_transitional());
    let now = Timestamp::now();
    let rows = list.items.into_iter().map(|e| row(&org, e, now)).collect();
    let (flash, clear) = take_flash(&state, &headers);
    let shell = Shell::load(&state, &user, &headers, Some(&membership), "environments")
        .await?
        .with_flash(flash);
    let remember = remember_org(&state, &org);
    let view = EnvironmentsPage {
        shell,
        org,
        rows,
        truncated: list.next_cursor.is_some(),
        refresh,
        refresh_secs: REFRESH_SECS,
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
    fn ages_are_short() {
        let now: Timestamp = "2025-01-10T12:00:00Z".parse().unwrap();
        let check = |then: &str, expect: &str| {
            assert_eq!(age(then.parse().unwrap(), now), expect, "{then}");
        };
        check("2025-01-10T12:00:00Z", "0s");
        check("2025-01-10T11:59:15Z", "45s");
        check("2025-01-10T11:48:00Z", "12m");
        check("2025-01-10T09:00:00Z", "3h");
        check("2025-01-05T12:00:00Z", "5d");
        // A clock that went backwards is "0s", not negative.
        check("2025-01-10T12:00:30Z", "0s");
    }
}
