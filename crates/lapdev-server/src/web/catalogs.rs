//! `/orgs/{org}/catalogs`: the organization's App Catalogs (name,
//! description, workload count, source cluster, warnings, last update) for
//! every member, or an empty state pointing at the source clusters'
//! workloads tables, where catalogs are created. Reads through
//! `app::catalogs` and `app::clusters`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use lapdev_domain::ClusterRole;

use super::layout::{Rendered, Shell, WebError, date, remember_org, take_flash};
use crate::app::{self, PageRequest};
use crate::auth::SessionUser;
use crate::state::AppState;

struct Row {
    href: String,
    name: String,
    description: String,
    workloads: u32,
    source: Option<String>,
    source_href: String,
    warnings: usize,
    updated: String,
}

/// A source cluster, linked from the empty state.
struct Source {
    name: String,
    href: String,
}

#[derive(Template)]
#[template(path = "catalogs.html")]
struct CatalogsPage {
    shell: Shell,
    org: String,
    rows: Vec<Row>,
    sources: Vec<Source>,
}

/// `GET /orgs/{org}/catalogs`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: SessionUser,
    headers: HeaderMap,
    Path(org): Path<String>,
) -> Result<Response, WebError> {
    let caller = user.auth_user();
    let membership = app::organizations::get(&state, &caller, &org).await?;
    let org = membership.organization.name.to_string();
    let list = app::catalogs::list_with_warnings(&state, &caller, &org, PageRequest::longest(None))
        .await?;
    let mut rows = Vec::with_capacity(list.items.len());
    for (c, warnings) in list.items {
        rows.push(Row {
            href: format!("/orgs/{org}/catalogs/{}", c.name),
            name: c.name.to_string(),
            description: c.description,
            workloads: c.workload_count,
            source_href: c
                .source_cluster
                .as_ref()
                .map(|s| format!("/orgs/{org}/clusters/{s}"))
                .unwrap_or_default(),
            source: c.source_cluster.map(|s| s.to_string()),
            warnings,
            updated: date(c.updated_at),
        });
    }
    let sources = app::clusters::list(&state, &caller, &org, PageRequest::longest(None))
        .await?
        .items
        .into_iter()
        .filter(|c| c.roles.contains(&ClusterRole::Source))
        .map(|c| Source {
            href: format!("/orgs/{org}/clusters/{}#workloads", c.name),
            name: c.name.to_string(),
        })
        .collect();
    let (flash, clear) = take_flash(&state, &headers);
    let shell = Shell::load(&state, &user, &headers, Some(&membership), "catalogs")
        .await?
        .with_flash(flash);
    let remember = remember_org(&state, &org);
    let view = CatalogsPage {
        shell,
        org,
        rows,
        sources,
    };
    Ok(Rendered::new(&view)?
        .cookies(clear)
        .cookie(remember)
        .into_response())
}
