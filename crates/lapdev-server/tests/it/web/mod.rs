//! The dashboard over real HTTP: the client harness, and every route of
//! `WEB_ROUTES` walked as anonymous, as an admin of another organization, as
//! a member and as an admin (a route missing from the table fails the test).
//! `pages` covers the sign-in form, CSRF refusals, security headers,
//! readable errors and escaping; `clusters` the cluster pages; `catalogs`
//! the workloads table and the App Catalog pages; `environments` the
//! environment list, page, actions and the create form.

mod catalogs;
mod clusters;
pub(crate) mod environments;
mod pages;

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
    // The walk cluster never connects: the app layer answers 409.
    (
        "POST",
        "/orgs/{org}/clusters/{cluster}/catalogs",
        ["303 /login", "404", "403", "409"],
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
        "/orgs/{org}/catalogs/{catalog}",
        ["303 /login", "404", "200", "200"],
    ),
    (
        "POST",
        "/orgs/{org}/catalogs/{catalog}",
        [
            "303 /login",
            "404",
            "403",
            "303 /orgs/default/catalogs/walk-cat",
        ],
    ),
    (
        "POST",
        "/orgs/{org}/catalogs/{catalog}/workloads/remove",
        [
            "303 /login",
            "404",
            "403",
            "303 /orgs/default/catalogs/walk-cat",
        ],
    ),
    // The source is not connected (or deleted by then): 409.
    (
        "POST",
        "/orgs/{org}/catalogs/{catalog}/refresh",
        ["303 /login", "404", "403", "409"],
    ),
    (
        "POST",
        "/orgs/{org}/catalogs/{catalog}/refresh/apply",
        ["303 /login", "404", "403", "409"],
    ),
    // The walk-env cluster never connects: 409 once authorized (a Shared
    // environment, see `form_for`: admins only).
    (
        "POST",
        "/orgs/{org}/catalogs/{catalog}/environments",
        ["303 /login", "404", "403", "409"],
    ),
    (
        "POST",
        "/orgs/{org}/catalogs/{catalog}/delete",
        ["303 /login", "404", "403", "303 /orgs/default/catalogs"],
    ),
    (
        "GET",
        "/orgs/{org}/environments",
        ["303 /login", "404", "200", "200"],
    ),
    // The fixture environment `walk-env` is a Shared one: members read it
    // only. Its cluster never connects; the changes are still accepted.
    (
        "GET",
        "/orgs/{org}/environments/{env}",
        ["303 /login", "404", "200", "200"],
    ),
    (
        "POST",
        "/orgs/{org}/environments/{env}/pause",
        [
            "303 /login",
            "404",
            "403",
            "303 /orgs/default/environments/walk-env",
        ],
    ),
    (
        "POST",
        "/orgs/{org}/environments/{env}/resume",
        [
            "303 /login",
            "404",
            "403",
            "303 /orgs/default/environments/walk-env",
        ],
    ),
    (
        "POST",
        "/orgs/{org}/environments/{env}/delete",
        ["303 /login", "404", "403", "303 /orgs/default/environments"],
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
        ("POST", "/orgs/{org}/clusters/{cluster}/catalogs") => vec![
            ("catalog_name", format!("cat-{tag}-{n}")),
            ("w:shop/Deployment/api", "on".into()),
        ],
        ("POST", "/orgs/{org}/catalogs/{catalog}") => {
            vec![("description", format!("edited by {tag}"))]
        }
        ("POST", "/orgs/{org}/catalogs/{catalog}/workloads/remove") => {
            vec![("workload", "shop/Deployment/web".into())]
        }
        ("POST", "/orgs/{org}/catalogs/{catalog}/refresh/apply") => {
            vec![("digest", "not-a-preview".into())]
        }
        ("POST", "/orgs/{org}/catalogs/{catalog}/environments") => vec![
            ("name", format!("env-{tag}-{n}")),
            ("kind", "shared".into()),
            ("cluster", "walk-env".into()),
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
    crate::catalogs::insert_fixture_catalog(t, "default", "walk", "walk-cat").await;
    let (s, b) = t
        .post(
            "/api/v1/orgs/default/clusters",
            &t.admin_token,
            json!({"name": "walk-env"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    environments::insert_environment(
        t,
        environments::Fixture::shared("walk-env", "walk-cat", "walk-env"),
    )
    .await;
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
                .replace("{catalog}", "walk-cat")
                .replace("{env}", "walk-env")
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
