//! Integration tests of the server: real HTTP over loopback against
//! `start()`, and the auth building blocks against `AppState`.

mod api;
mod authz;
mod bad_input;
mod browser;
mod catalogs;
mod clusters;
mod environments;
mod install_manifest;
mod lifecycle;
mod log_capture;
mod logs;
mod openapi;
mod sessions;
mod tunnel;
mod web;
mod webdriver;

use lapdev_server::{RunningServer, ServerConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub(crate) const ADMIN_PASSWORD: &str = "admin-password-1";

/// A server on 127.0.0.1:0 with a fresh SQLite data directory, and its admin.
pub(crate) struct TestServer {
    pub(crate) server: RunningServer,
    pub(crate) client: reqwest::Client,
    pub(crate) admin_token: String,
    pub(crate) _dir: tempfile::TempDir,
}

pub(crate) fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().expect("an HTTP client")
}

pub(crate) fn config(dir: &tempfile::TempDir) -> ServerConfig {
    let mut config = ServerConfig::for_data_dir(dir.path());
    config.admin_password = Some(ADMIN_PASSWORD.into());
    config
}

impl TestServer {
    pub(crate) async fn start() -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let server = lapdev_server::start(config(&dir))
            .await
            .expect("server starts");
        let client = client();
        let mut t = TestServer {
            server,
            client,
            admin_token: String::new(),
            _dir: dir,
        };
        t.admin_token = t.login("admin", ADMIN_PASSWORD).await;
        t
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// Sends a JSON request; returns the status and the JSON body (`Null` if none).
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let bytes = resp.bytes().await.expect("body read");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, body)
    }

    pub(crate) async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub(crate) async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Signs in with a password; returns the new token.
    pub(crate) async fn login(&self, username: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({ "username": username, "password": password })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {username}: {body}");
        body["token"].as_str().unwrap().to_string()
    }

    /// Adds a user to `org` with `role` and a known password; returns (user id, token).
    pub(crate) async fn add_user(&self, org: &str, username: &str, role: &str) -> (String, String) {
        let password = format!("{username}-password-1");
        let (status, body) = self
            .post(
                &format!("/api/v1/orgs/{org}/members"),
                &self.admin_token,
                json!({ "username": username, "role": role, "password": password }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["member"]["user"]["id"].as_str().unwrap().to_string();
        (id, self.login(username, &password).await)
    }
}

/// `(status, body)` as a compact line, for assertions on errors.
pub(crate) fn summary(status: StatusCode, body: &Value) -> String {
    let field = body["field"]
        .as_str()
        .map(|f| format!(" field={f}"))
        .unwrap_or_default();
    format!(
        "{} {}{}",
        status.as_u16(),
        body["code"].as_str().unwrap_or("-"),
        field
    )
}
