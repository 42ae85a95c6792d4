//! What every dashboard page shares: the [`Shell`] around the content
//! (user, organization switcher, navigation, flash and error messages), the
//! rendered-page response, flash and remembered-organization cookies, and
//! [`WebError`], which turns any failure into a readable HTML page.

use askama::Template;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use lapdev_api::OrganizationMembership;
use lapdev_domain::Role;

use super::assets::{self, AssetUrls};
use crate::app::AppError;
use crate::auth::sessions::cookie_value;
use crate::auth::{CsrfError, SessionUser, csrf_token};
use crate::error::ApiError;
use crate::state::AppState;

/// An organization in the switcher.
#[derive(Debug, Clone)]
pub(crate) struct OrgLink {
    pub(crate) name: String,
    pub(crate) href: String,
    pub(crate) role: &'static str,
    pub(crate) current: bool,
}

/// The chrome around a signed-in page.
#[derive(Debug, Clone)]
pub(crate) struct Shell {
    pub(crate) assets: AssetUrls,
    pub(crate) username: String,
    pub(crate) initial: String,
    pub(crate) csrf_token: String,
    /// The organization the navigation points into (`None`: the user
    /// belongs to none).
    pub(crate) org: Option<String>,
    pub(crate) org_initial: String,
    pub(crate) is_admin: bool,
    pub(crate) orgs: Vec<OrgLink>,
    /// Which navigation item is active: `clusters`, `catalogs`,
    /// `environments`, `members`, `audit`, `tokens` or `settings`.
    pub(crate) nav: &'static str,
    pub(crate) flash: Option<String>,
    pub(crate) error: Option<String>,
}

impl Shell {
    /// Builds the chrome. `current` is the organization of the page, already
    /// authorized by the `app` call that loaded it; user-level pages pass
    /// `None` and the navigation points into the remembered organization.
    pub(crate) async fn load(
        state: &AppState,
        user: &SessionUser,
        headers: &HeaderMap,
        current: Option<&OrganizationMembership>,
        nav: &'static str,
    ) -> Result<Shell, WebError> {
        let memberships = memberships(state, user).await?;
        let selected: Option<(String, Role)> = current
            .or_else(|| remembered(&memberships, headers))
            .map(|m| (m.organization.name.to_string(), m.role));
        let section = match nav {
            "catalogs" | "environments" | "members" | "audit" => nav,
            _ => "clusters",
        };
        let orgs = memberships
            .iter()
            .map(|m| {
                let name = m.organization.name.to_string();
                OrgLink {
                    href: format!("/orgs/{name}/{section}"),
                    current: selected.as_ref().is_some_and(|(s, _)| *s == name),
                    role: m.role.as_str(),
                    name,
                }
            })
            .collect();
        let username = user.username.to_string();
        Ok(Shell {
            assets: assets::urls(),
            initial: initial(&username),
            username,
            csrf_token: csrf_token(user).to_string(),
            org_initial: selected
                .as_ref()
                .map(|(name, _)| initial(name))
                .unwrap_or_default(),
            is_admin: selected.as_ref().is_some_and(|(_, r)| *r == Role::Admin),
            org: selected.map(|(name, _)| name),
            orgs,
            nav,
            flash: None,
            error: None,
        })
    }

    /// Takes the flash message left by the previous request, if any.
    pub(crate) fn with_flash(mut self, flash: Option<String>) -> Self {
        self.flash = flash;
        self
    }
}

/// `?cursor=` of a list page that pages.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct CursorQuery {
    pub(crate) cursor: Option<String>,
}

/// The first letter of a name, upper-cased, for an avatar.
pub(crate) fn initial(name: &str) -> String {
    name.chars()
        .next()
        .map(|c| c.to_ascii_uppercase().to_string())
        .unwrap_or_default()
}

/// A timestamp as the pages show it.
pub(crate) fn date(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// A rendered page with its status and cookies.
pub(crate) struct Rendered {
    status: StatusCode,
    body: String,
    cookies: Vec<HeaderValue>,
}

impl Rendered {
    pub(crate) fn new(template: &impl Template) -> Result<Rendered, WebError> {
        Ok(Rendered {
            status: StatusCode::OK,
            body: template.render().map_err(WebError::Render)?,
            cookies: Vec::new(),
        })
    }

    pub(crate) fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub(crate) fn cookie(mut self, value: HeaderValue) -> Self {
        self.cookies.push(value);
        self
    }

    pub(crate) fn cookies(mut self, values: impl IntoIterator<Item = HeaderValue>) -> Self {
        self.cookies.extend(values);
        self
    }
}

impl IntoResponse for Rendered {
    fn into_response(self) -> Response {
        let mut resp = (self.status, Html(self.body)).into_response();
        for c in self.cookies {
            resp.headers_mut().append(SET_COOKIE, c);
        }
        resp
    }
}

/// A `303 See Other` to `to`, setting cookies (a flash message, say).
pub(crate) fn redirect(to: &str, cookies: impl IntoIterator<Item = HeaderValue>) -> Response {
    let mut resp = Redirect::to(to).into_response();
    for c in cookies {
        resp.headers_mut().append(SET_COOKIE, c);
    }
    resp
}

const FLASH_COOKIE: &str = "lapdev_flash";
const ORG_COOKIE: &str = "lapdev_org";

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Secure on https.
pub(crate) fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    path: &str,
    max_age_secs: u32,
) -> HeaderValue {
    let secure = if state.settings().secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    ))
    .expect("cookie values are base64url or names")
}

/// The cookie that shows `message` on the next page.
pub(crate) fn flash(state: &AppState, message: &str) -> HeaderValue {
    let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(message);
    set_cookie(state, FLASH_COOKIE, &value, "/", 60)
}

/// The flash message of this request, and the cookie that clears it.
pub(crate) fn take_flash(
    state: &AppState,
    headers: &HeaderMap,
) -> (Option<String>, Option<HeaderValue>) {
    let Some(raw) = cookie_value(headers, FLASH_COOKIE) else {
        return (None, None);
    };
    let message = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|m| m.chars().count() <= 300);
    (message, Some(set_cookie(state, FLASH_COOKIE, "", "/", 0)))
}

/// Remembers the organization last viewed, for the pages outside it.
/// Only a preference: every request is authorized by its URL.
pub(crate) fn remember_org(state: &AppState, org: &str) -> HeaderValue {
    set_cookie(state, ORG_COOKIE, org, "/", 60 * 60 * 24 * 365)
}

/// The organization `/` should open, if the user belongs to any.
pub(crate) async fn default_org(
    state: &AppState,
    user: &SessionUser,
    headers: &HeaderMap,
) -> Result<Option<String>, WebError> {
    let memberships = memberships(state, user).await?;
    Ok(remembered(&memberships, headers).map(|m| m.organization.name.to_string()))
}

/// The user's organizations, as many as one page holds (as `GET /me`
/// lists them). The session's lookup already found the user, so this does
/// not read the user again.
async fn memberships(
    state: &AppState,
    user: &SessionUser,
) -> Result<Vec<OrganizationMembership>, WebError> {
    let page = crate::app::organizations::list(
        state,
        &user.auth_user(),
        crate::app::PageRequest::longest(None),
    )
    .await?;
    Ok(page.items)
}

/// The remembered organization among the user's, else the first.
fn remembered<'a>(
    orgs: &'a [OrganizationMembership],
    headers: &HeaderMap,
) -> Option<&'a OrganizationMembership> {
    let name = cookie_value(headers, ORG_COOKIE);
    orgs.iter()
        .find(|m| Some(m.organization.name.as_str()) == name)
        .or(orgs.first())
}

/// An error as the user should read it, with its HTTP status.
pub(crate) fn describe(e: AppError) -> (StatusCode, String) {
    let api = ApiError::from(e);
    // Only a validation error needs the field named; the others say it all.
    let message = match (&api.field, api.code) {
        (Some(field), lapdev_api::ErrorCode::Invalid) => {
            format!("{}: {}", humanize(field), api.message)
        }
        _ => sentence(&api.message),
    };
    (api.status(), message)
}

fn humanize(field: &str) -> String {
    sentence(&field.replace('_', " "))
}

fn sentence(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Why a page could not be shown.
#[derive(Debug)]
pub(crate) enum WebError {
    /// The application refused or failed.
    App(StatusCode, String),
    /// A form post failed the CSRF checks.
    Csrf(CsrfError),
    /// The form could not be read.
    BadForm(String),
    /// A template failed to render (a bug).
    Render(askama::Error),
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        let (status, message) = describe(e);
        WebError::App(status, message)
    }
}

impl From<CsrfError> for WebError {
    fn from(e: CsrfError) -> Self {
        WebError::Csrf(e)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    assets: AssetUrls,
    status: u16,
    title: &'static str,
    message: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            WebError::App(status, message) => (status, message),
            WebError::Csrf(e) => (
                StatusCode::FORBIDDEN,
                match e {
                    CsrfError::Origin => {
                        "This form was sent from another site, so it was refused.".to_string()
                    }
                    CsrfError::Token => {
                        "This form has expired. Go back, reload the page and try again.".to_string()
                    }
                },
            ),
            WebError::BadForm(why) => (StatusCode::BAD_REQUEST, why),
            WebError::Render(e) => {
                tracing::error!(error = %e, "a dashboard template failed to render");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on our side; the server log has the details.".into(),
                )
            }
        };
        let title = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => "Cannot do that",
            StatusCode::CONFLICT => "Conflict",
            s if s.is_server_error() => "Something went wrong",
            _ => "Cannot show this page",
        };
        let page = ErrorPage {
            assets: assets::urls(),
            status: status.as_u16(),
            title,
            message,
        };
        match page.render() {
            Ok(body) => (status, Html(body)).into_response(),
            Err(_) => (status, "error").into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_sentences() {
        let check = |e, expect: &str| assert_eq!(describe(e).1, expect);
        check(
            AppError::invalid("new_password", "must be at least 12 characters long"),
            "New password: must be at least 12 characters long",
        );
        check(AppError::NotFound("member"), "Member not found");
        check(
            AppError::Forbidden("only admins of the organization may do this".into()),
            "Only admins of the organization may do this",
        );
    }
}
