//! The dashboard over real HTTP: every route of `WEB_ROUTES` walked as
//! anonymous, as an admin of another organization, as a member and as an
//! admin (a route missing from the table fails the test), then the sign-in
//! form, CSRF refusals, security headers, readable errors and escaping.

use std::collections::BTreeSet;

use lapdev_server::auth::{csrf_token, login_with_password};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::json;

use crate::{ADMIN_PASSWORD, TestServer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    OtherOrg,
    Member,
    Admin,
}

const WHO: [Who; 4] = [Who::Anonymous, Who::OtherOrg, Who::Member, Who::Admin];

/// `(method, path template, [anonymous, other org, member, admin])`; each
/// expectation is a status, and for redirects the `Location`.
const TABLE: &[(&str, &str, [&str; 4])] = &[
    (
        "GET",
        "/",
        [
            "303 /login",
            "303 /orgs/evil/clusters",
            "303 /orgs/default/clusters",
            "303 /orgs/default/clusters",
        ],
    ),
    ("GET", "/assets/{file}", ["200", "200", "200", "200"]),
    ("GET", "/login", ["200", "303 /", "303 /", "303 /"]),
    ("POST", "/login", ["303 /", "303 /", "303 /", "303 /"]),
    (
        "POST",
        "/logout",
        ["303 /login", "303 /login", "303 /login", "303 /login"],
    ),
    (
        "GET",
        "/orgs/{org}",
        [
            "303 /login",
            "404",
            "303 /orgs/default/clusters",
            "303 /orgs/default/clusters",
        ],
    ),
    (
        "GET",
        "/orgs/{org}/clusters",
        ["303 /login", "404", "200", "200"],
    ),
    (
        "POST",
        "/orgs/{org}/clusters",
        ["303 /login", "404", "403", "201"],
    ),
    (
        "GET",
        "/orgs/{org}/clusters/{cluster}",
        ["303 /login", "404", "200", "200"],
    ),
    (
        "POST",
        "/orgs/{org}/clusters/{cluster}",
        [
            "303 /login",
            "404",
            "403",
            "303 /orgs/default/clusters/walk",
        ],
    ),
    (
        "POST",
        "/orgs/{org}/clusters/{cluster}/rotate",
        ["303 /login", "404", "403", "200"],
    ),
    (
        "POST",
        "/orgs/{org}/clusters/{cluster}/revoke",
        [
            "303 /login",
            "404",
            "403",
            "303 /orgs/default/clusters/walk",
        ],
    ),
    (
        "POST",
        "/orgs/{org}/clusters/{cluster}/delete",
        ["303 /login", "404", "403", "303 /orgs/default/clusters"],
    ),
    (
        "GET",
        "/orgs/{org}/catalogs",
        ["303 /login", "404", "200", "200"],
    ),
    (
        "GET",
        "/orgs/{org}/environments",
        ["303 /login", "404", "200", "200"],
    ),
    (
        "GET",
        "/orgs/{org}/members",
        ["303 /login", "404", "200", "200"],
    ),
    (
        "POST",
        "/orgs/{org}/members",
        ["303 /login", "404", "403", "303 /orgs/default/members"],
    ),
    (
        "POST",
        "/orgs/{org}/members/{user_id}/role",
        ["303 /login", "404", "403", "303 /orgs/default/members"],
    ),
    (
        "POST",
        "/orgs/{org}/members/{user_id}/remove",
        ["303 /login", "404", "403", "303 /orgs/default/members"],
    ),
    (
        "GET",
        "/orgs/{org}/audit",
        ["303 /login", "404", "403", "200"],
    ),
    (
        "GET",
        "/settings/tokens",
        ["303 /login", "200", "200", "200"],
    ),
    (
        "POST",
        "/settings/tokens",
        ["303 /login", "201", "201", "201"],
    ),
    (
        "POST",
        "/settings/tokens/{id}/revoke",
        ["303 /login", "404", "404", "303 /settings/tokens"],
    ),
    ("GET", "/settings", ["303 /login", "200", "200", "200"]),
    // A confirmation that does not match: reaches the handler, changes nothing.
    (
        "POST",
        "/settings/password",
        ["303 /login", "422", "422", "422"],
    ),
];

/// A dashboard client: no redirects followed, cookies sent by hand.
pub(crate) struct Web {
    pub(crate) t: TestServer,
    http: reqwest::Client,
}

/// A signed-in browser: its session cookie and the session's CSRF token.
pub(crate) struct Session {
    cookie: String,
    csrf: String,
}

pub(crate) struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Resp {
    /// `"200"`, or `"303 /where"` for a redirect.
    fn summary(&self) -> String {
        match self.headers.get(LOCATION) {
            Some(to) => format!("{} {}", self.status.as_u16(), to.to_str().unwrap()),
            None => self.status.as_u16().to_string(),
        }
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of the first `name="NAME" value="..."` attribute pair.
fn hidden_field(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

impl Web {
    pub(crate) async fn start() -> Web {
        let t = TestServer::start().await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Web { t, http }
    }

    /// A fresh dashboard session, made the way the sign-in form makes it.
    async fn session(&self, username: &str, password: &str) -> Session {
        let login = login_with_password(self.t.server.state(), username, password, None)
            .await
            .expect("signed in");
        let cookie = login.set_cookie.to_str().unwrap();
        Session {
            cookie: cookie.split(';').next().unwrap().to_string(),
            csrf: csrf_token(&login.user).to_string(),
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        cookies: &[&str],
        form: Option<&[(&str, String)]>,
        origin: Option<&str>,
    ) -> Resp {
        let mut req = self.http.request(method.parse().unwrap(), self.t.url(path));
        if !cookies.is_empty() {
            req = req.header("cookie", cookies.join("; "));
        }
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        if let Some(form) = form {
            let body = form
                .iter()
                .map(|(k, v)| format!("{k}={}", urlencode(v)))
                .collect::<Vec<_>>()
                .join("&");
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
        }
        let resp = req.send().await.expect("request sent");
        Resp {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap(),
        }
    }

    pub(crate) async fn get(&self, path: &str, session: Option<&Session>) -> Resp {
        let cookies: Vec<&str> = session.map(|s| s.cookie.as_str()).into_iter().collect();
        self.send("GET", path, &cookies, None, None).await
    }

    /// A same-origin form post carrying the session's CSRF token.
    async fn post(&self, path: &str, session: Option<&Session>, form: &[(&str, &str)]) -> Resp {
        let mut fields: Vec<(&str, String)> =
            form.iter().map(|(k, v)| (*k, v.to_string())).collect();
        if let Some(s) = session {
            fields.push(("csrf_token", s.csrf.clone()));
        }
        let cookies: Vec<&str> = session.map(|s| s.cookie.as_str()).into_iter().collect();
        let origin = self.t.server.url();
        self.send("POST", path, &cookies, Some(&fields), Some(&origin))
            .await
    }

    /// The login CSRF cookie pair and field value, from a fresh `GET /login`.
    async fn login_csrf(&self) -> (String, String) {
        let page = self.get("/login", None).await;
        let value = page.cookie("lapdev_login_csrf").expect("login CSRF cookie");
        let field = hidden_field(&page.body, "login_csrf").expect("login CSRF field");
        assert_eq!(value, field);
        (format!("lapdev_login_csrf={value}"), field)
    }
}

fn credentials(who: Who) -> (&'static str, String) {
    match who {
        Who::Anonymous | Who::Admin => ("admin", ADMIN_PASSWORD.to_string()),
        Who::OtherOrg => ("mallory", "mallory-password-1".into()),
        Who::Member => ("bob", "bob-password-1".into()),
    }
}

fn form_for(method: &str, path: &str, who: Who, n: usize) -> Vec<(&'static str, String)> {
    let tag = format!("{who:?}").to_lowercase();
    let (username, password) = credentials(who);
    match (method, path) {
        ("POST", "/login") => vec![("username", username.into()), ("password", password)],
        ("POST", "/orgs/{org}/members") => vec![
            ("username", format!("new-{tag}-{n}")),
            ("role", "member".into()),
            ("password", "a-new-password-1".into()),
        ],
        ("POST", "/orgs/{org}/members/{user_id}/role") => vec![("role", "member".into())],
        ("POST", "/orgs/{org}/clusters/{cluster}") => vec![
            ("role_target", "on".into()),
            ("permission_shared", "on".into()),
        ],
        ("POST", "/orgs/{org}/clusters") => vec![
            ("name", format!("dev-{tag}-{n}")),
            ("role_target", "on".into()),
            ("permission_personal", "on".into()),
        ],
        ("POST", "/settings/tokens") => vec![
            ("name", format!("{tag} {n}")),
            ("expires_in_days", "30".into()),
        ],
        ("POST", "/settings/password") => vec![
            ("current_password", password),
            ("new_password", "another-password-1".into()),
            ("confirm_password", "another-password-2".into()),
        ],
        ("POST", _) => vec![],
        ("GET", _) => vec![],
        other => panic!("no form defined for {other:?}"),
    }
}

#[tokio::test]
async fn every_dashboard_route_as_every_caller() {
    let w = Web::start().await;
    let t = &w.t;
    let _ = t.add_user("default", "bob", "member").await;
    let (carol, _) = t.add_user("default", "carol", "member").await;
    // Mallory administers another organization only.
    let (mallory, mallory_token) = t.add_user("default", "mallory", "member").await;
    let (s, b) = t
        .post("/api/v1/orgs", &mallory_token, json!({"name": "evil"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, _) = t
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/orgs/default/members/{mallory}"),
            Some(&t.admin_token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = t
        .post("/api/v1/tokens", &t.admin_token, json!({"name": "walk"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let admin_token_id = b["token_info"]["id"].as_str().unwrap().to_string();
    let (s, b) = t
        .post(
            "/api/v1/orgs/default/clusters",
            &t.admin_token,
            json!({"name": "walk"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let login_page = w.get("/login", None).await;
    let css = login_page
        .body
        .split("href=\"/assets/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a stylesheet link")
        .to_string();

    let routes: BTreeSet<_> = lapdev_server::WEB_ROUTES
        .iter()
        .map(|r| (r.method, r.path))
        .collect();
    let tabled: BTreeSet<_> = TABLE.iter().map(|(m, p, _)| (*m, *p)).collect();
    let missing: Vec<_> = routes.difference(&tabled).collect();
    assert!(
        missing.is_empty(),
        "dashboard routes missing from the table: {missing:?}"
    );
    let stale: Vec<_> = tabled.difference(&routes).collect();
    assert!(stale.is_empty(), "table rows for no route: {stale:?}");

    let mut failures = vec![];
    for (n, (method, template, expected)) in TABLE.iter().enumerate() {
        for (who, want) in WHO.iter().zip(expected) {
            let path = template
                .replace("{org}", "default")
                .replace("{user_id}", &carol)
                .replace("{id}", &admin_token_id)
                .replace("{cluster}", "walk")
                .replace("{file}", &css);
            // A fresh session each time: some routes end it.
            let session = match who {
                Who::Anonymous => None,
                other => {
                    let (u, p) = credentials(*other);
                    Some(w.session(u, &p).await)
                }
            };
            let mut form = form_for(method, template, *who, n);
            let mut cookies: Vec<String> = session.iter().map(|s| s.cookie.clone()).collect();
            if *template == "/login" && *method == "POST" {
                let (cookie, field) = w.login_csrf().await;
                cookies.push(cookie);
                form.push(("login_csrf", field));
            }
            if let Some(s) = &session {
                form.push(("csrf_token", s.csrf.clone()));
            }
            let cookie_refs: Vec<&str> = cookies.iter().map(String::as_str).collect();
            let origin = t.server.url();
            let resp = w
                .send(
                    method,
                    &path,
                    &cookie_refs,
                    (*method == "POST").then_some(form.as_slice()),
                    Some(&origin),
                )
                .await;
            let got = resp.summary();
            if got != *want {
                failures.push(format!(
                    "{method} {template} as {who:?}: got {got}, want {want}"
                ));
            }
            if resp.status.is_client_error() {
                assert!(
                    resp.body.contains("<!doctype html>"),
                    "{method} {template} as {who:?}: errors are pages, got {}",
                    resp.body
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

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

#[tokio::test]
async fn connecting_a_cluster_shows_its_install_command_once() {
    let w = Web::start().await;
    let admin = w.session("admin", ADMIN_PASSWORD).await;
    let empty = w.get("/orgs/default/clusters", Some(&admin)).await;
    assert!(empty.body.contains("No clusters connected yet"));

    let r = w
        .post(
            "/orgs/default/clusters",
            Some(&admin),
            &[("name", "prod"), ("role_source", "on")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let command = r
        .body
        .split("<code id=\"install-command\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the install command");
    assert!(
        command.starts_with("kubectl apply -f &#39;http://127.0.0.1:"),
        "{command}"
    );
    let token = r
        .body
        .split("<code id=\"cluster-token\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the token")
        .to_string();
    assert!(command.contains(&token));

    // Listed for members too, as the API reports it; the token never again.
    let _ = w.t.add_user("default", "bob", "member").await;
    let member = w.session("bob", "bob-password-1").await;
    let list = w.get("/orgs/default/clusters", Some(&member)).await;
    assert!(list.body.contains("data-cluster=\"prod\""), "{}", list.body);
    assert!(list.body.contains("badge-pending"));
    assert!(
        list.body.contains("no environments"),
        "source only, no permissions"
    );
    assert!(!list.body.contains(&token));
    assert!(
        !list.body.contains("id=\"connect-cluster\""),
        "no form for members"
    );

    // A clash is a readable 409, the form filled again.
    let r = w
        .post(
            "/orgs/default/clusters",
            Some(&admin),
            &[("name", "prod"), ("role_target", "on")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.body.contains("already has a cluster named prod"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"prod\""));

    // No role at all: 422 from the app layer.
    let r = w
        .post(
            "/orgs/default/clusters",
            Some(&admin),
            &[("name", "norole")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("Roles: a cluster needs at least one role"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn managing_a_cluster() {
    let w = Web::start().await;
    let admin = w.session("admin", ADMIN_PASSWORD).await;
    let (s, created) =
        w.t.post(
            "/api/v1/orgs/default/clusters",
            &w.t.admin_token,
            json!({"name": "dev"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let first_token = created["token"].as_str().unwrap().to_string();
    let page = w.get("/orgs/default/clusters/dev", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"cluster-settings\""));
    assert!(
        !page.body.contains(&first_token),
        "the token is never shown again"
    );

    // Make it a production-like cluster: source only, no environments.
    let r = w
        .post(
            "/orgs/default/clusters/dev",
            Some(&admin),
            &[("role_source", "on")],
        )
        .await;
    assert_eq!(r.summary(), "303 /orgs/default/clusters/dev");
    let (_, api) =
        w.t.get("/api/v1/orgs/default/clusters/dev", &w.t.admin_token)
            .await;
    assert_eq!(api["roles"], json!(["source"]));
    assert_eq!(api["permissions"], json!([]));

    // Rotating shows the new token once, with the grace of the old one.
    let r = w
        .post("/orgs/default/clusters/dev/rotate", Some(&admin), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("id=\"cluster-token\">lpc_"), "{}", r.body);
    assert!(r.body.contains("The previous token keeps working until"));

    // Revoking leaves no token.
    let r = w
        .post("/orgs/default/clusters/dev/revoke", Some(&admin), &[])
        .await;
    assert_eq!(r.summary(), "303 /orgs/default/clusters/dev");
    let page = w.get("/orgs/default/clusters/dev", Some(&admin)).await;
    assert!(page.body.contains("<code>Revoked</code>"), "{}", page.body);

    // Deleting returns to the list, which no longer has it.
    let r = w
        .post("/orgs/default/clusters/dev/delete", Some(&admin), &[])
        .await;
    assert_eq!(r.summary(), "303 /orgs/default/clusters");
    let missing = w.get("/orgs/default/clusters/dev", Some(&admin)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.body.contains("Cluster not found"),
        "{}",
        missing.body
    );

    let (_, audit) =
        w.t.get("/api/v1/orgs/default/audit", &w.t.admin_token)
            .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "cluster.update",
        "cluster.rotate_token",
        "cluster.revoke_token",
        "cluster.delete",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}
