//! Personal and Shared environments over the REST API, against a
//! kube-manager stand-in on the real tunnel ([`fake`]): create validation
//! ([`create`]), who may see and change what ([`access`]), durable desired
//! state across disconnects and restarts ([`desired`]), reported status
//! and long-polling ([`status`]), and deletion ([`delete`]).
//!
//! Waits are on events: the long-poll `GET ?after=REVISION`, the fake's
//! record of requests, and the server's acknowledgement of pushed frames.
//! The only polling is for a closed connection to be noticed (no event
//! says so), bounded like every wait here.

mod access;
mod create;
mod delete;
mod desired;
mod fake;
mod status;

use std::time::Duration;

use lapdev_domain::ClusterId;
use lapdev_tunnel_proto::catalog::{CatalogSnapshot, SecretKey, WorkloadKind};
use lapdev_tunnel_proto::{EnvironmentPhase, EnvironmentStatus, WorkloadStatus};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::TestServer;
use fake::{Fake, Link};

/// A bound for waits that should end quickly; reaching it fails the test.
/// Generous: the slowest wait (a retry after backoff) takes ~15 s.
pub(crate) const PATIENCE: Duration = Duration::from_secs(60);

pub(crate) const ENVS: &str = "/api/v1/orgs/default/environments";

/// The plain Secret values used in these tests; no response, event or
/// error may contain them.
pub(crate) const API_KEY: &str = "api-key-value-9Vq";
pub(crate) const DB_TOKEN: &str = "db-token-value-4Kx";

/// A server with cluster `dev` (source and target, both permissions)
/// served by a connected [`Fake`], catalog `shop` (no required values) and
/// catalog `vault` (requires `db/api-key` and `db/token`).
pub(crate) struct World {
    pub(crate) t: TestServer,
    pub(crate) fake: Fake,
    pub(crate) link: Option<Link>,
    pub(crate) token: String,
    pub(crate) cluster: ClusterId,
}

impl World {
    pub(crate) async fn start() -> World {
        let t = TestServer::start().await;
        let (cluster, token) = add_cluster(&t, "dev", json!({})).await;
        insert_catalog(&t, "shop", &[]).await;
        insert_catalog(&t, "vault", &[("db", "api-key"), ("db", "token")]).await;
        let fake = Fake::new();
        let link = fake.connect(&t, &token).await;
        World {
            t,
            fake,
            link: Some(link),
            token,
            cluster,
        }
    }

    pub(crate) fn admin(&self) -> &str {
        &self.t.admin_token
    }

    pub(crate) fn link(&self) -> &Link {
        self.link.as_ref().expect("the fake is connected")
    }

    /// Closes the fake's connection and waits until the server noticed.
    pub(crate) async fn disconnect(&mut self) {
        if let Some(link) = self.link.take() {
            link.close().await;
        }
        wait_disconnected(&self.t, self.cluster).await;
    }

    /// A new connection of the fake (replacing any live one).
    pub(crate) async fn reconnect(&mut self) {
        let link = self.fake.connect(&self.t, &self.token).await;
        if let Some(old) = self.link.replace(link) {
            old.closed().await;
        }
    }

    /// Shuts the server down and starts a new one on the same data
    /// directory; the fake reconnects only when asked.
    pub(crate) async fn restart(self) -> World {
        let World {
            t,
            fake,
            link,
            token,
            cluster,
        } = self;
        let TestServer {
            server,
            client,
            admin_token,
            _dir,
        } = t;
        server.shutdown().await;
        if let Some(link) = link {
            link.closed().await;
        }
        let server = lapdev_server::start(crate::config(&_dir))
            .await
            .expect("the server starts again");
        World {
            t: TestServer {
                server,
                client,
                admin_token,
                _dir,
            },
            fake,
            link: None,
            token,
            cluster,
        }
    }

    pub(crate) async fn create(&self, token: &str, body: Value) -> (StatusCode, Value) {
        self.t.post(ENVS, token, body).await
    }

    /// Creates `name` from catalog `shop` on `dev`; returns it.
    pub(crate) async fn create_ok(&self, token: &str, name: &str, kind: &str) -> Value {
        let (s, b) = self.create(token, body(name, "shop", "dev", kind)).await;
        assert_eq!(s, StatusCode::CREATED, "create {name}: {b}");
        b
    }

    pub(crate) async fn env(&self, token: &str, name: &str) -> (StatusCode, Value) {
        self.t.get(&format!("{ENVS}/{name}"), token).await
    }

    pub(crate) async fn env_ok(&self, name: &str) -> Value {
        let (s, b) = self.env(self.admin(), name).await;
        assert_eq!(s, StatusCode::OK, "{name}: {b}");
        b
    }

    /// `POST .../{name}/{verb}` (pause, resume).
    pub(crate) async fn act(&self, token: &str, name: &str, verb: &str) -> (StatusCode, Value) {
        self.t
            .call(
                Method::POST,
                &format!("{ENVS}/{name}/{verb}"),
                Some(token),
                None,
            )
            .await
    }

    pub(crate) async fn delete(&self, token: &str, name: &str) -> (StatusCode, Value) {
        self.t
            .call(Method::DELETE, &format!("{ENVS}/{name}"), Some(token), None)
            .await
    }

    /// Follows `name` with long-polls until `done` holds (bounded).
    pub(crate) async fn wait_env(
        &self,
        name: &str,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let mut env = self.env_ok(name).await;
        loop {
            if done(&env) {
                return env;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} never {what}: {env}"
            );
            let (s, next) = self
                .t
                .get(
                    &format!("{ENVS}/{name}?after={}&wait_secs=5", env["revision"]),
                    self.admin(),
                )
                .await;
            assert_eq!(
                s,
                StatusCode::OK,
                "{name} while waiting until {what}: {next}"
            );
            env = next;
        }
    }

    pub(crate) async fn wait_status(&self, name: &str, status: &str) -> Value {
        self.wait_env(name, &format!("became {status}"), |e| e["status"] == status)
            .await
    }

    /// Waits (long-polling) until `name` is gone: 404.
    pub(crate) async fn wait_gone(&self, name: &str) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let (s, env) = self.env(self.admin(), name).await;
            if s == StatusCode::NOT_FOUND {
                return;
            }
            assert_eq!(s, StatusCode::OK, "{env}");
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} never went: {env}"
            );
            let (s, _) = self
                .t
                .get(
                    &format!("{ENVS}/{name}?after={}&wait_secs=5", env["revision"]),
                    self.admin(),
                )
                .await;
            if s == StatusCode::NOT_FOUND {
                return;
            }
        }
    }

    /// The names in the caller's list.
    pub(crate) async fn names(&self, token: &str) -> Vec<String> {
        let (s, b) = self.t.get(ENVS, token).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    }

    /// The messages of `name`'s events, as listed (newest first).
    pub(crate) async fn events(&self, name: &str) -> Vec<String> {
        let (s, b) = self
            .t
            .get(&format!("{ENVS}/{name}/events"), self.admin())
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap().to_string())
            .collect()
    }

    /// The `environment.*` actions of the audit log, newest first.
    pub(crate) async fn audit(&self) -> (Vec<String>, Value) {
        let (s, b) = self.t.get("/api/v1/orgs/default/audit", self.admin()).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let actions = b["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["action"].as_str())
            .filter(|a| a.starts_with("environment."))
            .map(str::to_string)
            .collect();
        (actions, b)
    }
}

/// The create request for `name`.
pub(crate) fn body(name: &str, catalog: &str, cluster: &str, kind: &str) -> Value {
    json!({"name": name, "catalog": catalog, "cluster": cluster, "kind": kind})
}

/// Creates cluster `name` with `extra` fields (roles, permissions);
/// returns its id and token.
pub(crate) async fn add_cluster(t: &TestServer, name: &str, extra: Value) -> (ClusterId, String) {
    let mut req = json!({ "name": name });
    for (k, v) in extra.as_object().unwrap() {
        req[k] = v.clone();
    }
    let (s, b) = t
        .post("/api/v1/orgs/default/clusters", &t.admin_token, req)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    (
        b["cluster"]["id"].as_str().unwrap().parse().unwrap(),
        b["token"].as_str().unwrap().to_string(),
    )
}

/// Polls (bounded) until the server has no session for `cluster`: a
/// closed connection is noticed by no event a test can await.
pub(crate) async fn wait_disconnected(t: &TestServer, cluster: ClusterId) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while t.server.state().tunnels().is_connected(cluster) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never noticed the closed tunnel"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Inserts catalog `name` (source cluster `dev`) straight into the
/// datastore: Secret `db`, Deployments `api` (3 replicas) and `web`,
/// requiring values for `required` (`secret`, `key`).
pub(crate) async fn insert_catalog(t: &TestServer, name: &str, required: &[(&str, &str)]) {
    let db = t.server.state().db();
    let org = db.organization_by_name("default").await.unwrap().unwrap();
    let cluster = db.cluster_by_name(org.id, "dev").await.unwrap().unwrap();
    let deployment = |name: &str, replicas: u32| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": name, "namespace": "shop"},
               "spec": {"replicas": replicas}})
    };
    let redacted: Vec<&str> = required.iter().map(|(_, k)| *k).collect();
    let snapshot = CatalogSnapshot {
        objects: vec![
            json!({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": "db", "namespace": "shop",
                                "annotations": {"lapdev.io/redacted-keys": redacted.join(",")}},
                   "data": {}}),
            deployment("api", 3),
            deployment("web", 1),
        ],
        required_values: required
            .iter()
            .map(|(s, k)| SecretKey {
                secret: (*s).into(),
                key: (*k).into(),
            })
            .collect(),
        ..CatalogSnapshot::default()
    };
    let workloads = json!([
        {"namespace": "shop", "kind": "Deployment", "name": "api"},
        {"namespace": "shop", "kind": "Deployment", "name": "web"},
    ]);
    let new = lapdev_db::NewCatalog {
        id: lapdev_domain::CatalogId::new(),
        organization_id: org.id,
        name: lapdev_domain::CatalogName::parse(name).unwrap(),
        description: String::new(),
        source_cluster_id: cluster.id,
        content: lapdev_db::CatalogContent {
            workloads: workloads.to_string(),
            workload_count: 2,
            secret_policy: "{}".into(),
            snapshot: serde_json::to_string(&snapshot).unwrap(),
        },
    };
    let event = lapdev_db::NewAuditEvent::new(None, "catalog.create", "catalog");
    db.catalog_create(&new, &[], &event).await.unwrap();
}

/// A status report for environment `env` (its JSON from the API).
pub(crate) fn report(
    env: &Value,
    generation: u64,
    phase: EnvironmentPhase,
    workloads: Vec<WorkloadStatus>,
) -> EnvironmentStatus {
    EnvironmentStatus {
        namespace: env["namespace"].as_str().unwrap().into(),
        environment_id: Some(env["id"].as_str().unwrap().into()),
        observed_generation: Some(generation),
        phase,
        workloads,
    }
}

/// Deployment `name` with `available` of `desired` pods, and why not.
pub(crate) fn deployment(
    name: &str,
    desired: u32,
    available: u32,
    why: Option<(&str, &str)>,
) -> WorkloadStatus {
    WorkloadStatus {
        kind: WorkloadKind::Deployment,
        name: name.into(),
        desired,
        ready: available,
        available,
        reason: why.map(|(r, _)| r.into()),
        message: why.map(|(_, m)| m.into()),
    }
}

/// A user of organization `default`; returns their token.
pub(crate) async fn member(t: &TestServer, name: &str, role: &str) -> String {
    t.add_user("default", name, role).await.1
}

pub(crate) fn ns(env: &Value) -> &str {
    env["namespace"].as_str().unwrap()
}

/// Base64, as Secret values travel to the cluster.
pub(crate) fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}
