//! Dashboard behaviour beyond authorization: security headers and cached
//! assets, the sign-in form, CSRF refusals, readable error pages, escaping,
//! flash messages, the organization switcher and not-found pages.

use reqwest::StatusCode;
use serde_json::json;

use super::{Resp, Web};
use crate::ADMIN_PASSWORD;

#[tokio::test]
async fn pages_carry_security_headers_and_assets_are_cached() {
    let w = Web::start().await;
    let admin = w.session("admin", ADMIN_PASSWORD).await;
    for path in ["/login", "/orgs/default/members"] {
        let session = (path != "/login").then_some(&admin);
        let page = w.get(path, session).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        let h = |name: &str| {
            page.headers
                .get(name)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        };
        assert!(h("content-security-policy").contains("default-src 'none'"));
        assert!(h("content-security-policy").contains("frame-ancestors 'none'"));
        assert_eq!(h("x-frame-options"), "DENY");
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert_eq!(h("referrer-policy"), "same-origin");
        assert_eq!(h("cache-control"), "no-store");
        assert!(h("content-type").starts_with("text/html"));
    }
    let page = w.get("/login", None).await;
    for ext in ["css", "js", "svg"] {
        let href = page
            .body
            .split("\"/assets/")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .find(|f| f.ends_with(ext))
            .map(|f| format!("/assets/{f}"));
        let Some(href) = href else {
            assert_eq!(ext, "js", "the sign-in page links the {ext} asset");
            continue;
        };
        let asset = w.get(&href, None).await;
        assert_eq!(asset.status, StatusCode::OK, "{href}");
        assert_eq!(
            asset.headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
    }
    let missing = w.get("/assets/app.000000000000.css", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

/// Posts the sign-in form with the login CSRF `field` (and its cookie, if
/// `with_cookie`).
async fn sign_in(w: &Web, field: &str, with_cookie: bool, username: &str, password: &str) -> Resp {
    let form = [
        ("login_csrf", field.to_string()),
        ("username", username.to_string()),
        ("password", password.to_string()),
    ];
    let cookie = format!("lapdev_login_csrf={field}");
    let cookies: Vec<&str> = if with_cookie { vec![&cookie] } else { vec![] };
    let origin = w.t.server.url();
    w.send("POST", "/login", &cookies, Some(&form), Some(&origin))
        .await
}

#[tokio::test]
async fn the_sign_in_form() {
    let w = Web::start().await;
    let (cookie, field) = w.login_csrf().await;

    // Without the login CSRF cookie: refused, nothing checked.
    let r = sign_in(&w, &field, false, "admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("expired or came from another site"));

    // Wrong password and unknown user read the same.
    let wrong = sign_in(&w, &field, true, "admin", "not-the-password").await;
    let ghost = sign_in(&w, &field, true, "ghost", "not-the-password").await;
    for r in [&wrong, &ghost] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("Wrong username or password."), "{}", r.body);
    }

    // From another site: refused even with the right token and password.
    let form = [
        ("login_csrf", field.clone()),
        ("username", "admin".to_string()),
        ("password", ADMIN_PASSWORD.to_string()),
    ];
    let r = w
        .send(
            "POST",
            "/login",
            &[cookie.as_str()],
            Some(&form),
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The right password signs in and sets the session cookie.
    let ok = sign_in(&w, &field, true, "admin", ADMIN_PASSWORD).await;
    assert_eq!(ok.summary(), "303 /");
    assert!(ok.cookie("lapdev_session").is_some_and(|v| !v.is_empty()));

    // Five failures for a username, then the limit answers.
    for _ in 0..5 {
        let r = sign_in(&w, &field, true, "bob", "not-the-password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let limited = sign_in(&w, &field, true, "bob", "not-the-password").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.body.contains("Too many failed sign-in attempts"));
}

#[tokio::test]
async fn forms_need_the_csrf_token_and_the_origin() {
    let w = Web::start().await;
    let admin = w.session("admin", ADMIN_PASSWORD).await;
    let form = [
        ("name", "x".to_string()),
        ("csrf_token", "forged".to_string()),
    ];
    let origin = w.t.server.url();
    let r = w
        .send(
            "POST",
            "/settings/tokens",
            &[admin.cookie.as_str()],
            Some(&form),
            Some(&origin),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("This form has expired"), "{}", r.body);

    let r = w
        .send(
            "POST",
            "/settings/tokens",
            &[admin.cookie.as_str()],
            Some(&[("name", "x".to_string())]),
            Some(&origin),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no token at all");

    let form = [
        ("name", "x".to_string()),
        ("csrf_token", admin.csrf.clone()),
    ];
    let r = w
        .send(
            "POST",
            "/settings/tokens",
            &[admin.cookie.as_str()],
            Some(&form),
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("sent from another site"), "{}", r.body);
    let (_, tokens) = w.t.get("/api/v1/tokens", &w.t.admin_token).await;
    assert_eq!(
        tokens["items"].as_array().unwrap().len(),
        1,
        "only the login token"
    );
}

#[tokio::test]
async fn app_errors_are_readable_pages_and_changes_are_audited() {
    let w = Web::start().await;
    let admin = w.session("admin", ADMIN_PASSWORD).await;
    let me = w.t.get("/api/v1/me", &w.t.admin_token).await.1;
    let admin_id = me["user"]["id"].as_str().unwrap().to_string();

    // The last admin cannot be demoted: 409, said in words on the page.
    let r = w
        .post(
            &format!("/orgs/default/members/{admin_id}/role"),
            Some(&admin),
            &[("role", "member")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.body.contains("must keep at least one admin"),
        "{}",
        r.body
    );
    assert!(r.body.contains("id=\"members\""), "the list is shown again");

    // An invalid username: 422, naming the field, the form filled again.
    let r = w
        .post(
            "/orgs/default/members",
            Some(&admin),
            &[("username", "Not Valid"), ("role", "member")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Username: "), "{}", r.body);
    assert!(r.body.contains("value=\"Not Valid\""));

    // A new user without a password: the generated one is shown once.
    let r = w
        .post(
            "/orgs/default/members",
            Some(&admin),
            &[("username", "dave"), ("role", "member")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let shown = r
        .body
        .split("<code id=\"initial-password\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the initial password");
    w.t.login("dave", shown).await;
    let again = w.get("/orgs/default/members", Some(&admin)).await;
    assert!(!again.body.contains(shown), "shown only once");

    // User data is escaped, never markup.
    let r = w
        .post(
            "/settings/tokens",
            Some(&admin),
            &[("name", "<b>bold</b> & \"quoted\"")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(!r.body.contains("<b>bold</b>"));
    assert!(r.body.contains("&#60;b&#62;bold&#60;/b&#62;"), "{}", r.body);

    // The dashboard's changes are in the audit log, by the same app layer.
    let (_, audit) =
        w.t.get("/api/v1/orgs/default/audit", &w.t.admin_token)
            .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"member.add"), "{actions:?}");
    assert!(actions.contains(&"token.create"), "{actions:?}");
    let page = w.get("/orgs/default/audit", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<code>member.add</code>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("role: member"), "{}", page.body);
}

#[tokio::test]
async fn flash_messages_follow_a_change_once() {
    let w = Web::start().await;
    let admin = w.session("admin", ADMIN_PASSWORD).await;
    let r = w
        .post(
            "/orgs/default/members",
            Some(&admin),
            &[
                ("username", "erin"),
                ("role", "admin"),
                ("password", "erin-password-1"),
            ],
        )
        .await;
    assert_eq!(r.summary(), "303 /orgs/default/members");
    let flash = r.cookie("lapdev_flash").expect("a flash cookie");
    let flash_cookie = format!("lapdev_flash={flash}");
    let page = w
        .send(
            "GET",
            "/orgs/default/members",
            &[admin.cookie.as_str(), flash_cookie.as_str()],
            None,
            None,
        )
        .await;
    assert!(page.body.contains("Added erin as admin."), "{}", page.body);
    assert_eq!(page.cookie("lapdev_flash").as_deref(), Some(""), "cleared");
}

#[tokio::test]
async fn the_organization_switcher_appears_with_a_second_organization() {
    let w = Web::start().await;
    let admin = w.session("admin", ADMIN_PASSWORD).await;
    let page = w.get("/orgs/default/members", Some(&admin)).await;
    assert!(
        !page.body.contains("class=\"org-menu\""),
        "one organization"
    );

    let (s, b) =
        w.t.post("/api/v1/orgs", &w.t.admin_token, json!({"name": "acme"}))
            .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let page = w.get("/orgs/default/members", Some(&admin)).await;
    assert!(page.body.contains("class=\"org-menu\""));
    // Switching keeps the section and marks the current organization.
    assert!(page.body.contains("<a href=\"/orgs/acme/members\">"));
    assert!(
        page.body
            .contains("<a href=\"/orgs/default/members\" aria-current=\"true\">")
    );
    // The last organization viewed is where `/` goes next.
    let remembered = page.cookie("lapdev_org").expect("remembered");
    assert_eq!(remembered, "default");
    let cookies = [admin.cookie.as_str(), "lapdev_org=acme"];
    let home = w.send("GET", "/", &cookies, None, None).await;
    assert_eq!(home.summary(), "303 /orgs/acme/clusters");
}

#[tokio::test]
async fn unknown_dashboard_pages_are_not_found() {
    let w = Web::start().await;
    let admin = w.session("admin", ADMIN_PASSWORD).await;
    let r = w.get("/orgs/nope/members", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("Organization not found"), "{}", r.body);
    for path in ["/nope", "/orgs/default/nope"] {
        let r = w.get(path, Some(&admin)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(r.body.contains("There is no page at this address."));
        assert!(r.headers.contains_key("content-security-policy"));
    }
}
