//! Signing in and out of the dashboard.
//!
//! The sign-in form has no session yet, so it is protected by a login CSRF
//! token: a random value both in an HttpOnly cookie scoped to `/login` and
//! in a hidden field, compared in constant time (another site can make the
//! browser post, but can neither read nor set the cookie), plus the Origin
//! check. Unknown users and wrong passwords get the same message.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::assets::{self, AssetUrls};
use super::forms::{CsrfForm, csrf_protected};
use super::layout::{Rendered, WebError, redirect, set_cookie, take_flash};
use crate::app::AppError;
use crate::auth::sessions::cookie_value;
use crate::auth::{self, SessionUser};
use crate::http::extract::ClientIp;
use crate::state::AppState;

const LOGIN_CSRF_COOKIE: &str = "lapdev_login_csrf";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    assets: AssetUrls,
    login_csrf: String,
    username: String,
    flash: Option<String>,
    error: Option<String>,
}

/// Renders the form with a fresh login CSRF token (and its cookie).
fn form(
    state: &AppState,
    username: String,
    flash: Option<String>,
    error: Option<String>,
) -> Result<Rendered, WebError> {
    let token = crate::auth::random::secret();
    let page = LoginPage {
        assets: assets::urls(),
        login_csrf: token.clone(),
        username,
        flash,
        error,
    };
    Ok(Rendered::new(&page)?.cookie(set_cookie(state, LOGIN_CSRF_COOKIE, &token, "/login", 3600)))
}

/// `GET /login`; a signed-in user goes straight to the dashboard.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: Option<SessionUser>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if user.is_some() {
        return Ok(redirect("/", []));
    }
    let (flash, clear) = take_flash(&state, &headers);
    Ok(form(&state, String::new(), flash, None)?
        .cookies(clear)
        .into_response())
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    login_csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// `POST /login`.
pub(crate) async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, WebError> {
    let expected = cookie_value(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    let token_ok =
        !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(f.login_csrf.as_bytes()));
    if auth::verify_origin(&state, &headers).is_err() || !token_ok {
        let why = "Your sign-in form expired or came from another site. Please try again.";
        return Ok(form(&state, f.username, None, Some(why.into()))?
            .status(StatusCode::FORBIDDEN)
            .into_response());
    }
    let username = f.username.trim().to_string();
    match auth::login_with_password(&state, &username, &f.password, ip).await {
        Ok(session) => Ok(redirect(
            "/",
            [
                session.set_cookie,
                set_cookie(&state, LOGIN_CSRF_COOKIE, "", "/login", 0),
            ],
        )),
        Err(AppError::WrongCredentials) => Ok(form(
            &state,
            username,
            None,
            Some("Wrong username or password.".into()),
        )?
        .status(StatusCode::UNAUTHORIZED)
        .into_response()),
        Err(AppError::RateLimited) => Ok(form(
            &state,
            username,
            None,
            Some("Too many failed sign-in attempts. Wait a few minutes, then try again.".into()),
        )?
        .status(StatusCode::TOO_MANY_REQUESTS)
        .into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct LogoutForm {
    #[serde(default)]
    csrf_token: String,
}
csrf_protected!(LogoutForm);

/// `POST /logout`: ends the session and returns to the sign-in page.
pub(crate) async fn logout(
    State(state): State<AppState>,
    CsrfForm(user, _): CsrfForm<LogoutForm>,
) -> Result<Response, WebError> {
    let cleared = auth::logout(&state, &user).await?;
    Ok(redirect(
        "/login",
        [
            cleared,
            super::layout::flash(&state, "You have signed out."),
        ],
    ))
}
