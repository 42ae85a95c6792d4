//! Form posts of a signed-in user: [`CsrfForm`] reads the session (no
//! session → redirect to `/login`), checks the Origin and the form's
//! `csrf_token` against the session's, then parses the form.

use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::layout::WebError;
use crate::auth::{SessionUser, verify_csrf, verify_origin};
use crate::state::AppState;

/// A form that carries the session's CSRF token.
pub(crate) trait CsrfProtected {
    fn csrf_token(&self) -> &str;
}

/// Implements [`CsrfProtected`] for form structs with a `csrf_token` field.
macro_rules! csrf_protected {
    ($($t:ty),* $(,)?) => {
        $(impl $crate::web::forms::CsrfProtected for $t {
            fn csrf_token(&self) -> &str {
                &self.csrf_token
            }
        })*
    };
}
pub(crate) use csrf_protected;

/// A verified form post: the signed-in user and the parsed form.
pub(crate) struct CsrfForm<T>(pub(crate) SessionUser, pub(crate) T);

impl<T> FromRequest<AppState> for CsrfForm<T>
where
    T: DeserializeOwned + CsrfProtected + Send,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let user = SessionUser::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let headers = parts.headers.clone();
        // A cross-site post is refused before its body is even read.
        verify_origin(state, &headers).map_err(|e| WebError::from(e).into_response())?;
        let req = Request::from_parts(parts, body);
        let Form(form) = Form::<T>::from_request(req, state).await.map_err(|e| {
            WebError::BadForm(format!("The form could not be read: {}", e.body_text()))
                .into_response()
        })?;
        verify_csrf(state, &user, &headers, form.csrf_token())
            .map_err(|e| WebError::from(e).into_response())?;
        Ok(CsrfForm(user, form))
    }
}
