//! `/settings/tokens`: the signed-in user's personal API tokens. Creating
//! one shows its secret in that response only; revoking is immediate.
//! Everything goes through `app::tokens`, which authorizes and audits.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use lapdev_api::CreateToken;
use lapdev_domain::TokenName;
use serde::Deserialize;

use super::forms::{CsrfForm, csrf_protected};
use super::layout::{
    CursorQuery, Rendered, Shell, WebError, date, describe, flash, redirect, take_flash,
};
use crate::app::{self, AppError, PageRequest};
use crate::auth::SessionUser;
use crate::state::AppState;

struct Row {
    id: String,
    name: String,
    prefix: String,
    created: String,
    last_used: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    shell: Shell,
    rows: Vec<Row>,
    next_page: Option<String>,
    /// `(name, secret)` of the token just created: shown this once.
    created: Option<(String, String)>,
    form_name: String,
}

#[derive(Default)]
struct Extras {
    flash: Option<String>,
    error: Option<String>,
    created: Option<(String, String)>,
    form_name: String,
    cursor: Option<String>,
}

async fn render(
    state: &AppState,
    user: &SessionUser,
    headers: &HeaderMap,
    extras: Extras,
) -> Result<Rendered, WebError> {
    let page = app::tokens::list(
        state,
        &user.auth_user(),
        PageRequest::longest(extras.cursor),
    )
    .await?;
    let mut shell = Shell::load(state, user, headers, None, "tokens").await?;
    shell.flash = extras.flash;
    shell.error = extras.error;
    let rows = page
        .items
        .into_iter()
        .map(|t| Row {
            id: t.id.to_string(),
            name: t.name.to_string(),
            prefix: t.prefix,
            created: date(t.created_at),
            last_used: t.last_used_at.map_or_else(|| "Never".into(), date),
            expires: t.expires_at.map_or_else(|| "Never".into(), date),
        })
        .collect();
    let view = TokensPage {
        shell,
        rows,
        next_page: page
            .next_cursor
            .map(|c| format!("/settings/tokens?cursor={c}")),
        created: extras.created,
        form_name: extras.form_name,
    };
    Rendered::new(&view)
}

/// `GET /settings/tokens`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: SessionUser,
    headers: HeaderMap,
    Query(q): Query<CursorQuery>,
) -> Result<Response, WebError> {
    let (flash, clear) = take_flash(&state, &headers);
    let extras = Extras {
        flash,
        cursor: q.cursor,
        ..Extras::default()
    };
    Ok(render(&state, &user, &headers, extras)
        .await?
        .cookies(clear)
        .into_response())
}

#[derive(Deserialize)]
pub(crate) struct CreateForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    /// Days until expiry; empty means never.
    #[serde(default)]
    expires_in_days: String,
}

#[derive(Deserialize)]
pub(crate) struct RevokeForm {
    #[serde(default)]
    csrf_token: String,
}

csrf_protected!(CreateForm, RevokeForm);

fn parse_create(f: &CreateForm) -> Result<CreateToken, AppError> {
    let name = TokenName::parse(f.name.clone()).map_err(|e| AppError::invalid("name", e.reason))?;
    let expires_in_days = match f.expires_in_days.trim() {
        "" => None,
        days => Some(
            days.parse()
                .map_err(|_| AppError::invalid("expires_in_days", "must be a number of days"))?,
        ),
    };
    Ok(CreateToken {
        name,
        expires_in_days,
    })
}

/// `POST /settings/tokens`: creates a token and shows its secret once.
pub(crate) async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(user, f): CsrfForm<CreateForm>,
) -> Result<Response, WebError> {
    let created = match parse_create(&f) {
        Ok(req) => app::tokens::create(&state, &user.auth_user(), req).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(created) => {
            let name = created.token_info.name.to_string();
            let extras = Extras {
                flash: Some(format!("Created the token \u{201c}{name}\u{201d}.")),
                created: Some((name, created.token)),
                ..Extras::default()
            };
            Ok(render(&state, &user, &headers, extras)
                .await?
                .status(StatusCode::CREATED)
                .into_response())
        }
        Err(e) => {
            let (status, message) = describe(e);
            let extras = Extras {
                error: Some(message),
                form_name: f.name,
                ..Extras::default()
            };
            Ok(render(&state, &user, &headers, extras)
                .await?
                .status(status)
                .into_response())
        }
    }
}

/// `POST /settings/tokens/{id}/revoke`.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(user, _): CsrfForm<RevokeForm>,
) -> Result<Response, WebError> {
    match app::tokens::revoke(&state, &user.auth_user(), &id).await {
        Ok(()) => Ok(redirect(
            "/settings/tokens",
            [flash(&state, "Token revoked. It no longer works.")],
        )),
        Err(e) => {
            let (status, message) = describe(e);
            let extras = Extras {
                error: Some(message),
                ..Extras::default()
            };
            Ok(render(&state, &user, &headers, extras)
                .await?
                .status(status)
                .into_response())
        }
    }
}
