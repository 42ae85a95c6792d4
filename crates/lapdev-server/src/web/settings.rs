//! `/settings`: the signed-in user's account — who they are, the
//! organizations they belong to, and changing their password (through
//! `app::users`, which checks the current password, rate-limited, and audits).

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use lapdev_api::ChangePassword;
use serde::Deserialize;

use super::forms::{CsrfForm, csrf_protected};
use super::layout::{Rendered, Shell, WebError, describe, flash, redirect, take_flash};
use crate::app::{self, AppError};
use crate::auth::SessionUser;
use crate::http::extract::ClientIp;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    shell: Shell,
    member_since: String,
}

async fn render(
    state: &AppState,
    user: &SessionUser,
    headers: &HeaderMap,
    flash: Option<String>,
    error: Option<String>,
) -> Result<Rendered, WebError> {
    let me = app::users::me(state, &user.auth_user()).await?;
    let mut shell = Shell::load(state, user, headers, None, "settings").await?;
    shell.flash = flash;
    shell.error = error;
    Rendered::new(&SettingsPage {
        shell,
        member_since: super::layout::date(me.user.created_at),
    })
}

/// `GET /settings`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: SessionUser,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let (flash, clear) = take_flash(&state, &headers);
    Ok(render(&state, &user, &headers, flash, None)
        .await?
        .cookies(clear)
        .into_response())
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

impl std::fmt::Debug for PasswordForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordForm { <redacted> }")
    }
}

csrf_protected!(PasswordForm);

/// `POST /settings/password`.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(user, f): CsrfForm<PasswordForm>,
) -> Result<Response, WebError> {
    let result = if f.new_password != f.confirm_password {
        Err(AppError::invalid(
            "confirm_password",
            "does not match the new password",
        ))
    } else {
        let req = ChangePassword {
            current_password: f.current_password,
            new_password: f.new_password,
        };
        app::users::change_password(&state, &user.auth_user(), req, ip).await
    };
    match result {
        // The datastore ends every session of the user, this one included.
        Ok(()) => Ok(redirect(
            "/login",
            [flash(
                &state,
                "Your password has been changed. Sign in with the new one.",
            )],
        )),
        Err(e) => {
            let (status, message) = describe(e);
            Ok(render(&state, &user, &headers, None, Some(message))
                .await?
                .status(status)
                .into_response())
        }
    }
}
