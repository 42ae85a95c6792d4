//! Dashboard sessions and CSRF: the building blocks the web pages use.

use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, HeaderValue, Request};
use lapdev_server::auth::{
    CsrfError, SessionUser, csrf_token, login_with_password, logout, verify_csrf, verify_origin,
};
use lapdev_server::{AppError, AppState};

async fn state(external_url: Option<&str>) -> (AppState, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = crate::config(&dir);
    cfg.external_url = external_url.map(Into::into);
    let (state, _) = AppState::open(&cfg).await.unwrap();
    (state, dir)
}

/// Reads the session back the way a page handler would.
async fn session_from(state: &AppState, cookie: &str) -> Option<SessionUser> {
    let (mut parts, ()) = Request::builder()
        .uri("/")
        .header("cookie", cookie)
        .body(())
        .unwrap()
        .into_parts();
    <Option<SessionUser> as FromRequestParts<AppState>>::from_request_parts(&mut parts, state)
        .await
        .unwrap()
}

#[tokio::test]
async fn login_sets_a_safe_cookie_and_logout_ends_the_session() {
    let (state, _dir) = state(None).await;
    let login = login_with_password(&state, "admin", crate::ADMIN_PASSWORD, None)
        .await
        .unwrap();
    let cookie = login.set_cookie.to_str().unwrap().to_string();
    assert!(cookie.starts_with("lapdev_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/")
    );
    assert!(!cookie.contains("Secure"), "plain http");
    let pair = cookie.split(';').next().unwrap();
    let user = session_from(&state, &format!("other=1; {pair}"))
        .await
        .expect("signed in");
    assert_eq!(user.username.as_str(), "admin");
    assert_eq!(csrf_token(&user), csrf_token(&login.user));
    assert!(
        !format!("{user:?}").contains(csrf_token(&user)),
        "Debug hides the token"
    );

    let cleared = logout(&state, &user).await.unwrap();
    assert!(cleared.to_str().unwrap().contains("Max-Age=0"));
    assert!(session_from(&state, pair).await.is_none(), "session ended");
    assert!(
        session_from(&state, "lapdev_session=forged")
            .await
            .is_none()
    );
}

#[tokio::test]
async fn https_cookies_are_secure_and_host_prefixed() {
    let (state, _dir) = state(Some("https://lapdev.example.com")).await;
    let login = login_with_password(&state, "admin", crate::ADMIN_PASSWORD, None)
        .await
        .unwrap();
    let cookie = login.set_cookie.to_str().unwrap();
    assert!(cookie.starts_with("__Host-lapdev_session="), "{cookie}");
    assert!(cookie.contains("; Secure"));
}

#[tokio::test]
async fn wrong_passwords_are_refused() {
    let (state, _dir) = state(None).await;
    let err = login_with_password(&state, "admin", "nope", None)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::WrongCredentials));
    let err = login_with_password(&state, "ghost", "nope", None)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::WrongCredentials));
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

#[tokio::test]
async fn csrf_needs_the_origin_and_the_token() {
    let (state, _dir) = state(None).await;
    let user = login_with_password(&state, "admin", crate::ADMIN_PASSWORD, None)
        .await
        .unwrap()
        .user;
    let token = csrf_token(&user).to_string();
    let same = headers(&[
        ("host", "127.0.0.1:8080"),
        ("origin", "http://127.0.0.1:8080"),
    ]);
    assert_eq!(verify_csrf(&state, &user, &same, &token), Ok(()));
    assert_eq!(
        verify_csrf(&state, &user, &same, "wrong"),
        Err(CsrfError::Token)
    );
    assert_eq!(verify_csrf(&state, &user, &same, ""), Err(CsrfError::Token));
    let cross = headers(&[
        ("host", "127.0.0.1:8080"),
        ("origin", "https://evil.example"),
    ]);
    assert_eq!(
        verify_csrf(&state, &user, &cross, &token),
        Err(CsrfError::Origin)
    );
    let referer = headers(&[
        ("host", "127.0.0.1:8080"),
        ("referer", "http://127.0.0.1:8080/orgs"),
    ]);
    assert_eq!(verify_origin(&state, &referer), Ok(()));
    let tricky = headers(&[
        ("host", "127.0.0.1:8080"),
        ("referer", "http://127.0.0.1:8080.evil/x"),
    ]);
    assert_eq!(verify_origin(&state, &tricky), Err(CsrfError::Origin));
    let neither = headers(&[("host", "127.0.0.1:8080")]);
    assert_eq!(verify_origin(&state, &neither), Err(CsrfError::Origin));
}

#[tokio::test]
async fn csrf_origin_is_the_external_url_when_set() {
    let (state, _dir) = state(Some("https://lapdev.example.com/")).await;
    let ok = headers(&[
        ("host", "internal:8080"),
        ("origin", "https://lapdev.example.com"),
    ]);
    assert_eq!(verify_origin(&state, &ok), Ok(()));
    let host_only = headers(&[
        ("host", "internal:8080"),
        ("origin", "http://internal:8080"),
    ]);
    assert_eq!(verify_origin(&state, &host_only), Err(CsrfError::Origin));
}
