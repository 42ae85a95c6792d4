//! The REST API calls the end-to-end tests make, over HTTPS with reqwest,
//! typed with `lapdev-api`. Organization: the first one, `default`.

use std::sync::Arc;

use lapdev_api::{Cluster, ClusterCredentials, ClusterStatus, LoginResponse};
use serde_json::json;

use crate::wait::poll_until;

/// The organization every harness server creates on its first start.
pub const ORG: &str = "default";

/// A signed-in API client.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    /// An HTTP client for `base` (`https://127.0.0.1:PORT`) trusting `tls`.
    pub fn http_client(tls: Arc<rustls::ClientConfig>) -> reqwest::Client {
        crate::install_crypto_provider();
        reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("an HTTP client")
    }

    /// Signs in as `username` and keeps the API token.
    pub async fn login(
        base: &str,
        tls: Arc<rustls::ClientConfig>,
        username: &str,
        password: &str,
    ) -> Api {
        let http = Self::http_client(tls);
        let resp = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": username, "password": password, "token_name": "e2e"}))
            .send()
            .await
            .expect("POST /api/v1/auth/login");
        let status = resp.status();
        assert!(status.is_success(), "login failed: {status}");
        let login: LoginResponse = resp.json().await.expect("a login response");
        Api {
            http,
            base: base.trim_end_matches('/').to_string(),
            token: login.token,
        }
    }

    /// The API token (for running the CLI as this user).
    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn clusters_url(&self) -> String {
        format!("{}/api/v1/orgs/{ORG}/clusters", self.base)
    }

    async fn send<T: serde::de::DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> T {
        let resp = req
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("an API request");
        let status = resp.status();
        let text = resp.text().await.expect("an API response body");
        assert!(status.is_success(), "API request failed: {status}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    /// Creates a cluster (default roles and permissions); the token is in the answer.
    pub async fn create_cluster(&self, name: &str) -> ClusterCredentials {
        self.send(
            self.http
                .post(self.clusters_url())
                .json(&json!({"name": name})),
        )
        .await
    }

    pub async fn cluster(&self, name: &str) -> Cluster {
        self.send(self.http.get(format!("{}/{name}", self.clusters_url())))
            .await
    }

    /// A cluster, or the error text (for polling while the server restarts).
    pub async fn try_cluster(&self, name: &str) -> Result<Cluster, String> {
        self.try_get(format!("{}/{name}", self.clusters_url()))
            .await
    }

    /// GETs `url` as JSON, or the error text (for polling).
    async fn try_get<T: serde::de::DeserializeOwned>(&self, url: String) -> Result<T, String> {
        self.try_get_found(url)
            .await?
            .ok_or_else(|| format!("HTTP {}", reqwest::StatusCode::NOT_FOUND))
    }

    /// GETs `url` as JSON, `Ok(None)` on 404, or the error text (for
    /// polling).
    async fn try_get_found<T: serde::de::DeserializeOwned>(
        &self,
        url: String,
    ) -> Result<Option<T>, String> {
        let resp = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(format!("HTTP {}", resp.status()));
        }
        resp.json().await.map(Some).map_err(|e| e.to_string())
    }

    pub async fn rotate_token(&self, name: &str) -> ClusterCredentials {
        self.send(
            self.http
                .post(format!("{}/{name}/token", self.clusters_url())),
        )
        .await
    }

    pub async fn revoke_token(&self, name: &str) {
        let resp = self
            .http
            .delete(format!("{}/{name}/token", self.clusters_url()))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("DELETE token");
        assert!(
            resp.status().is_success(),
            "revoking failed: {}",
            resp.status()
        );
    }

    /// The install manifest with the token filled in, from the public
    /// endpoint the install command uses.
    pub async fn install_manifest(&self, token: &str) -> String {
        let resp = self
            .http
            // Cluster tokens are URL-safe.
            .get(format!(
                "{}/install/kube-manager.yaml?token={token}",
                self.base
            ))
            .send()
            .await
            .expect("GET the install manifest");
        let status = resp.status();
        let text = resp.text().await.expect("the manifest text");
        assert!(status.is_success(), "install manifest: {status}: {text}");
        text
    }

    /// Every cluster of the organization (all pages).
    pub async fn list_clusters(&self) -> Result<Vec<Cluster>, String> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{}?limit=200", self.clusters_url());
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let page: lapdev_api::Page<Cluster> = self.try_get(url).await?;
            all.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(all),
            }
        }
    }

    /// Polls the cluster until its status is `status` (and `also` holds).
    pub async fn wait_for_status(
        &self,
        name: &str,
        status: ClusterStatus,
        also: impl Fn(&Cluster) -> bool,
    ) -> Cluster {
        poll_until(&format!("cluster {name} to be {status}"), || async {
            match self.try_cluster(name).await {
                Ok(c) if c.status == status && also(&c) => Ok(c),
                Ok(c) => Err(format!("{c:?}")),
                Err(e) => Err(e),
            }
        })
        .await
    }
}

/// Raw calls and environment waits for the environment tests.
impl Api {
    /// `(status, JSON body or null)` of `method` on `/api/v1{path}` as this
    /// user; for answers a test checks field by field (403/404/409/503 too).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.expect("an API request");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("an API response body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }

    fn environment_url(&self, name: &str) -> String {
        format!("{}/api/v1/orgs/{ORG}/environments/{name}", self.base)
    }

    /// An environment, `Ok(None)` once it is gone (404), or the error
    /// text (for polling while the server restarts). With `after`, the
    /// server answers when the revision differs (or after `wait_secs`).
    pub async fn try_environment(
        &self,
        name: &str,
        after: Option<u64>,
    ) -> Result<Option<lapdev_api::Environment>, String> {
        let mut url = self.environment_url(name);
        if let Some(after) = after {
            // Short: a change of the cluster's connection alone does not
            // wake a long poll.
            url.push_str(&format!("?after={after}&wait_secs=2"));
        }
        self.try_get_found(url).await
    }

    /// Follows the environment with long polls (`?after=REVISION`) until
    /// `done` holds for it (`None`: it is gone); fails after
    /// [`crate::wait::PATIENCE`] with the last state seen.
    pub async fn wait_environment_state(
        &self,
        name: &str,
        what: &str,
        done: impl Fn(Option<&lapdev_api::Environment>) -> bool,
    ) -> Option<lapdev_api::Environment> {
        let deadline = tokio::time::Instant::now() + crate::wait::PATIENCE;
        let mut after = None;
        loop {
            let last = match self.try_environment(name, after).await {
                Ok(env) if done(env.as_ref()) => return env,
                Ok(Some(env)) => {
                    after = Some(env.revision);
                    format!("{env:?}")
                }
                Ok(None) => {
                    after = None;
                    "gone (404)".to_string()
                }
                Err(e) => {
                    after = None;
                    // The server is restarting: look again shortly.
                    tokio::time::sleep(crate::wait::POLL_EVERY).await;
                    e
                }
            };
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "timed out after {:?} waiting for environment {name} {what}; last seen: {last}",
                    crate::wait::PATIENCE
                );
            }
        }
    }

    /// Waits until the environment exists and `done` holds for it.
    pub async fn wait_environment(
        &self,
        name: &str,
        what: &str,
        done: impl Fn(&lapdev_api::Environment) -> bool,
    ) -> lapdev_api::Environment {
        self.wait_environment_state(name, what, |e| e.is_some_and(&done))
            .await
            .expect("the environment exists")
    }

    /// Waits until the environment is `status`.
    pub async fn wait_environment_status(
        &self,
        name: &str,
        status: lapdev_api::EnvironmentStatus,
    ) -> lapdev_api::Environment {
        self.wait_environment(name, &format!("to be {status}"), |e| {
            e.summary.status == status
        })
        .await
    }

    /// Waits until the environment is gone (404).
    pub async fn wait_environment_gone(&self, name: &str) {
        self.wait_environment_state(name, "to be gone", |e| e.is_none())
            .await;
    }
}
