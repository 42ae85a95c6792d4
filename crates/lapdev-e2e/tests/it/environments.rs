//! Personal and Shared environments end to end: the real server, kube-sim
//! (sample shop, workload simulator) and kube-manager as processes. A
//! catalog of the shop becomes an environment in a `lapdev-*` namespace
//! and runs; it survives a server crash, a kube-manager restart and an
//! offline cluster (the work waits, never gets lost); an injected image
//! pull failure shows as `failed` with the Kubernetes reason (one failing
//! Pod of three as `degraded`); pause and resume restore every workload's
//! replicas; a deletion accepted while the cluster is offline completes
//! when it returns; a namespace deleted
//! behind Lapdev's back is re-created; changes in quick succession end in
//! the last one; an environment outlives its catalog. Also: who may do what
//! (cluster switches, members, admins, other organizations), that Lapdev
//! writes only inside its own namespaces (kube-sim's request log), and
//! that no Secret value reaches the server log or an API answer.
//!
//! Every wait follows the environment with long polls (`?after=REVISION`)
//! or awaits a log line or a cluster status.

use std::collections::BTreeMap;

use lapdev_api::{ClusterStatus, Environment, EnvironmentStatus};
use lapdev_e2e::api::Api;
use lapdev_e2e::kube_manager::{CONNECTED, KubeManager};
use lapdev_e2e::kube_sim::KubeSim;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{Connected, World};

/// Values of the shop's Secrets `db-credentials` and `api-keys` (copied
/// by the catalog), and the value given for the redacted `STRIPE_KEY`.
const SECRETS: [&str; 3] = ["s3cr3t-kube-sim", "SG.kube-sim", "sk_e2e_given_value"];

/// The password of every user the tests add.
const PASSWORD: &str = "e2e-member-password-0123";

/// Standard base64 (what a Secret's `data` holds).
fn base64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn assert_no_secret(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} holds {s}");
        assert!(!text.contains(&base64(s)), "{what} holds base64 of {s}");
    }
}

/// `/orgs/default{path}`.
fn org(path: &str) -> String {
    format!("/orgs/default{path}")
}

/// kube-sim seen from the test: the Kubernetes API as JSON, its request
/// log and failure injection.
struct Kube {
    http: reqwest::Client,
    url: String,
}

impl Kube {
    fn new(sim: &KubeSim) -> Kube {
        // The harness's client: what the test reads is checked by value,
        // not by certificate (kube-manager checks it).
        Kube {
            http: sim.http().clone(),
            url: sim.url().to_string(),
        }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("a kube-sim request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, None).await
    }

    async fn namespace(&self, ns: &str) -> Option<Value> {
        let (status, body) = self.get(&format!("/api/v1/namespaces/{ns}")).await;
        match status {
            200 => Some(body),
            404 => None,
            other => panic!("GET namespace {ns}: {other}: {body}"),
        }
    }

    /// `spec.replicas` of every Deployment and StatefulSet in `ns`, by
    /// `Kind/name`.
    async fn replicas(&self, ns: &str) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        for (kind, resource) in [
            ("Deployment", "deployments"),
            ("StatefulSet", "statefulsets"),
        ] {
            let (status, list) = self
                .get(&format!("/apis/apps/v1/namespaces/{ns}/{resource}"))
                .await;
            assert_eq!(status, 200, "{list}");
            for item in list["items"].as_array().expect("items") {
                let name = item["metadata"]["name"].as_str().expect("a name");
                let n = item["spec"]["replicas"].as_i64().expect("spec.replicas");
                out.insert(format!("{kind}/{name}"), n);
            }
        }
        out
    }

    /// Makes the Pods of a workload fail (`POST /kube-sim/v1/fail`).
    async fn fail(&self, ns: &str, kind: &str, name: &str) {
        let (status, body) = self
            .send(
                Method::POST,
                "/kube-sim/v1/fail",
                Some(json!({"namespace": ns, "kind": kind, "name": name, "reason": "ImagePullBackOff"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// Every write (create, update, patch, delete) in the request log.
    async fn writes(&self) -> Vec<Value> {
        let (status, log) = self.get("/kube-sim/v1/requests?writes=true").await;
        assert_eq!(status, 200, "{log}");
        log["items"].as_array().expect("items").clone()
    }
}

/// A server with cluster `prod` connected (kube-sim with the sample shop)
/// and catalog `shop` of its Deployments and the postgres StatefulSet.
struct Setup {
    w: World,
    c: Connected,
    kube: Kube,
}

async fn setup() -> Setup {
    let w = World::start().await;
    let c = w.connect_active("prod").await;
    let workload =
        |kind: &str, name: &str| json!({"namespace": "shop", "kind": kind, "name": name});
    let (status, body) = w
        .api
        .call(
            Method::POST,
            &org("/catalogs"),
            Some(&json!({
                "name": "shop",
                "cluster": "prod",
                "workloads": [
                    workload("Deployment", "web"),
                    workload("Deployment", "api"),
                    workload("Deployment", "worker"),
                    workload("StatefulSet", "postgres"),
                ],
                "secret_policy": {"rules": [
                    {"secret": "api-keys", "key": "STRIPE_KEY", "action": "redact"},
                    {"secret": "tls-cert", "action": "exclude"},
                ]},
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let kube = Kube::new(&c.sim);
    Setup { w, c, kube }
}

/// The body creating environment `name` of the shop on `prod`.
fn create_body(name: &str, kind: &str) -> Value {
    json!({
        "name": name,
        "catalog": "shop",
        "cluster": "prod",
        "kind": kind,
        "secret_values": [{"secret": "api-keys", "key": "STRIPE_KEY", "value": SECRETS[2]}],
    })
}

impl Setup {
    /// Creates an environment as `api`; 201 and the answer expected.
    async fn create(&self, api: &Api, name: &str, kind: &str) -> Environment {
        let (status, body) = api
            .call(
                Method::POST,
                &org("/environments"),
                Some(&create_body(name, kind)),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert_no_secret("the create answer", &body.to_string());
        let env: Environment = serde_json::from_value(body).expect("an environment");
        assert_eq!(env.summary.status, EnvironmentStatus::Creating);
        env
    }

    /// `POST .../environments/{name}/{verb}` (pause, resume) or `DELETE`
    /// (verb `delete`) as `api`: the status code and answer.
    async fn change(&self, api: &Api, name: &str, verb: &str) -> (u16, Value) {
        if verb == "delete" {
            api.call(Method::DELETE, &org(&format!("/environments/{name}")), None)
                .await
        } else {
            api.call(
                Method::POST,
                &org(&format!("/environments/{name}/{verb}")),
                None,
            )
            .await
        }
    }

    /// A change accepted (202) as the admin.
    async fn accepted(&self, name: &str, verb: &str) -> Environment {
        let (status, body) = self.change(&self.w.api, name, verb).await;
        assert_eq!(status, 202, "{verb}: {body}");
        serde_json::from_value(body).expect("an environment")
    }

    /// Kills kube-manager and waits for the cluster to be offline.
    async fn kube_manager_down(&mut self) {
        self.c.km.proc_mut().kill().await;
        self.w
            .api
            .wait_for_status("prod", ClusterStatus::Offline, |_| true)
            .await;
    }

    /// Starts a new kube-manager and waits for it to connect.
    async fn kube_manager_up(&mut self) {
        self.c.km = KubeManager::start("kube-manager again", &self.c.setup, &self.c.creds.token);
        self.c.km.proc().log.wait_for_text(0, CONNECTED).await;
    }

    /// The names in the admin's environment list.
    async fn listed(&self) -> Vec<(String, String)> {
        let (status, page) = self
            .w
            .api
            .call(Method::GET, &org("/environments"), None)
            .await;
        assert_eq!(status, 200, "{page}");
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().expect("a name").to_string(),
                    e["status"].as_str().expect("a status").to_string(),
                )
            })
            .collect()
    }
}

async fn running(api: &Api, name: &str) -> Environment {
    api.wait_environment_status(name, EnvironmentStatus::Running)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_personal_environment_runs_in_its_own_managed_namespace() {
    let s = setup().await;
    let created = s.create(&s.w.api, "alice-dev", "personal").await;
    let ns = created.summary.namespace.clone();
    assert!(ns.starts_with("lapdev-alice-dev-"), "{ns}");
    assert_eq!(created.generation, 1);

    let env = running(&s.w.api, "alice-dev").await;
    assert_eq!(env.observed_generation, Some(1));
    assert!(env.cluster_connected);
    assert_eq!(env.summary.message, None);
    let workloads: Vec<String> = env
        .workloads
        .iter()
        .map(|w| {
            format!(
                "{:?}/{} {}/{}/{}",
                w.kind, w.name, w.desired, w.ready, w.available
            )
        })
        .collect();
    assert_eq!(
        workloads,
        [
            "Deployment/api 1/1/1",
            "Deployment/web 1/1/1",
            "Deployment/worker 1/1/1",
            "StatefulSet/postgres 1/1/1",
        ],
        "{env:?}"
    );

    // The namespace in the cluster: managed, labelled with the environment.
    let namespace = s.kube.namespace(&ns).await.expect("the namespace exists");
    let labels = &namespace["metadata"]["labels"];
    assert_eq!(labels["lapdev.io/managed"], "true", "{namespace}");
    assert_eq!(
        labels["lapdev.io/environment"],
        env.summary.id.to_string(),
        "{namespace}"
    );
    // Personal: at most one replica each (production runs 2, 3, 1, 1).
    let production = s.kube.replicas("shop").await;
    assert_eq!(production["Deployment/api"], 3, "{production:?}");
    let replicas = s.kube.replicas(&ns).await;
    assert_eq!(
        replicas,
        BTreeMap::from([
            ("Deployment/api".to_string(), 1),
            ("Deployment/web".to_string(), 1),
            ("Deployment/worker".to_string(), 1),
            ("StatefulSet/postgres".to_string(), 1),
        ])
    );

    let (status, events) =
        s.w.api
            .call(Method::GET, &org("/environments/alice-dev/events"), None)
            .await;
    assert_eq!(status, 200, "{events}");
    let messages: Vec<&str> = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["message"].as_str().expect("a message"))
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("generation 1 applied:")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("created from catalog shop")),
        "{messages:?}"
    );
    assert_eq!(s.listed().await, [("alice-dev".into(), "running".into())]);

    // No Secret value in any answer about it, nor in the server's log.
    let (_, shown) =
        s.w.api
            .call(Method::GET, &org("/environments/alice-dev"), None)
            .await;
    let (_, list) = s.w.api.call(Method::GET, &org("/environments"), None).await;
    let (status, audit) = s.w.api.call(Method::GET, &org("/audit"), None).await;
    assert_eq!(status, 200, "{audit}");
    assert!(audit.to_string().contains("environment.create"), "{audit}");
    for (what, body) in [
        ("GET", &shown),
        ("the list", &list),
        ("events", &events),
        ("the audit log", &audit),
    ] {
        assert_no_secret(what, &body.to_string());
    }
    assert_no_secret("the server log", &s.w.server.proc().log.lines().join("\n"));
    assert_no_secret("kube-manager's log", &s.c.km.proc().log.lines().join("\n"));
    // The values did reach the cluster.
    let (_, secret) = s
        .kube
        .get(&format!("/api/v1/namespaces/{ns}/secrets/api-keys"))
        .await;
    assert_eq!(secret["data"]["STRIPE_KEY"], base64(SECRETS[2]), "{secret}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_during_creation_finishes_it_after_a_restart() {
    let mut s = setup().await;
    // Frozen, the cluster cannot finish anything before the crash.
    s.c.sim.proc().signal("STOP");
    let created = s.create(&s.w.api, "crash", "personal").await;
    s.w.server.kill().await;
    s.w.server.restart().await;

    let env =
        s.w.api
            .wait_environment("crash", "to exist after the restart", |_| true)
            .await;
    assert_eq!(env.summary.id, created.summary.id);
    assert_eq!(env.summary.status, EnvironmentStatus::Creating, "{env:?}");
    s.c.sim.proc().signal("CONT");
    let env = running(&s.w.api, "crash").await;
    assert_eq!(env.observed_generation, Some(1));
    assert!(s.kube.namespace(&env.summary.namespace).await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_asked_while_kube_manager_is_down_completes_when_it_returns() {
    let mut s = setup().await;
    let ns = s
        .create(&s.w.api, "dev", "personal")
        .await
        .summary
        .namespace;
    running(&s.w.api, "dev").await;

    s.kube_manager_down().await;
    let asked = s.accepted("dev", "pause").await;
    assert_eq!(asked.summary.status, EnvironmentStatus::Pausing);
    assert_eq!(asked.generation, 2);
    assert!(!asked.cluster_connected);
    let waiting = asked.summary.message.clone().unwrap_or_default();
    assert!(waiting.contains("waiting for cluster prod"), "{asked:?}");
    let env =
        s.w.api
            .wait_environment("dev", "to stay pausing", |_| true)
            .await;
    assert_eq!(env.summary.status, EnvironmentStatus::Pausing);
    assert_eq!(env.summary.message.as_deref(), Some(waiting.as_str()));
    assert!(s.kube.replicas(&ns).await.values().all(|n| *n == 1));

    s.kube_manager_up().await;
    let env =
        s.w.api
            .wait_environment_status("dev", EnvironmentStatus::Paused)
            .await;
    assert_eq!(env.observed_generation, Some(2));
    assert_eq!(env.summary.message, None);
    let replicas = s.kube.replicas(&ns).await;
    assert!(replicas.values().all(|n| *n == 0), "{replicas:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_cluster_refuses_new_environments_and_finishes_accepted_ones() {
    let mut s = setup().await;
    // kube-sim frozen: the environment is accepted but cannot be applied.
    s.c.sim.proc().signal("STOP");
    s.create(&s.w.api, "early", "personal").await;
    s.kube_manager_down().await;

    let (status, body) =
        s.w.api
            .call(
                Method::POST,
                &org("/environments"),
                Some(&create_body("late", "personal")),
            )
            .await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("offline"),
        "{body}"
    );
    let env =
        s.w.api
            .wait_environment("early", "to wait for the cluster", |e| {
                e.summary.message.is_some()
            })
            .await;
    assert_eq!(env.summary.status, EnvironmentStatus::Creating, "{env:?}");
    assert!(
        env.summary
            .message
            .as_deref()
            .is_some_and(|m| m.contains("waiting for cluster prod to come back online")),
        "{env:?}"
    );
    assert_eq!(s.listed().await, [("early".into(), "creating".into())]);

    s.c.sim.proc().signal("CONT");
    s.kube_manager_up().await;
    let env = running(&s.w.api, "early").await;
    assert!(s.kube.namespace(&env.summary.namespace).await.is_some());
    // Online again: creating works.
    s.create(&s.w.api, "late", "personal").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_pull_failure_fails_the_environment_with_the_reason() {
    let s = setup().await;
    let ns = s
        .create(&s.w.api, "broken", "personal")
        .await
        .summary
        .namespace;
    // Level-triggered: whether api's Pods started already or not, they fail.
    s.kube.fail(&ns, "Deployment", "api").await;

    // Failed, and stays so once the other workloads run.
    let env =
        s.w.api
            .wait_environment("broken", "to be failed with the others running", |e| {
                e.summary.status == EnvironmentStatus::Failed
                    && e.workloads
                        .iter()
                        .filter(|w| w.name != "api")
                        .all(|w| w.available == w.desired)
            })
            .await;
    let message = env.summary.message.clone().unwrap_or_default();
    assert!(message.contains("Deployment/api"), "{env:?}");
    assert!(message.contains("ImagePullBackOff"), "{env:?}");
    let api = env
        .workloads
        .iter()
        .find(|w| w.name == "api")
        .unwrap_or_else(|| panic!("{env:?}"));
    assert_eq!(api.reason.as_deref(), Some("ImagePullBackOff"), "{env:?}");
    assert_eq!(api.available, 0);
    for w in env.workloads.iter().filter(|w| w.name != "api") {
        assert_eq!(w.reason, None, "{env:?}");
    }
    assert_eq!(env.workloads.len(), 4, "{env:?}");
    let (_, events) =
        s.w.api
            .call(Method::GET, &org("/environments/broken/events"), None)
            .await;
    assert!(events.to_string().contains("ImagePullBackOff"), "{events}");

    // Fixed in the cluster: it runs, with no message left.
    let (status, body) = s
        .kube
        .send(
            Method::DELETE,
            "/kube-sim/v1/fail",
            Some(json!({"namespace": ns, "kind": "Deployment", "name": "api"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let env = running(&s.w.api, "broken").await;
    assert_eq!(env.summary.message, None, "{env:?}");
    assert!(env.workloads.iter().all(|w| w.reason.is_none()), "{env:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_and_resume_restore_every_workloads_replicas() {
    let s = setup().await;
    let created = s.create(&s.w.api, "team", "shared").await;
    assert_eq!(created.replicas, lapdev_api::ReplicasPolicy::Keep);
    let ns = created.summary.namespace;
    running(&s.w.api, "team").await;
    let before = s.kube.replicas(&ns).await;
    // Shared keeps production's replicas.
    assert_eq!(before, s.kube.replicas("shop").await);
    assert_eq!(before.len(), 4, "{before:?}");

    let asked = s.accepted("team", "pause").await;
    assert_eq!(asked.summary.status, EnvironmentStatus::Pausing);
    let paused =
        s.w.api
            .wait_environment_status("team", EnvironmentStatus::Paused)
            .await;
    assert!(
        paused.workloads.iter().all(|w| w.desired == 0),
        "{paused:?}"
    );
    let zero = s.kube.replicas(&ns).await;
    assert_eq!(
        zero.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    assert!(zero.values().all(|n| *n == 0), "{zero:?}");

    let asked = s.accepted("team", "resume").await;
    assert_eq!(asked.summary.status, EnvironmentStatus::Resuming);
    let env = running(&s.w.api, "team").await;
    assert_eq!(env.generation, 3);
    assert_eq!(s.kube.replicas(&ns).await, before);
    let desired: Vec<i64> = env.workloads.iter().map(|w| i64::from(w.desired)).collect();
    let mut expected: Vec<i64> = before.values().copied().collect();
    let mut got = desired.clone();
    expected.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, expected, "{env:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_asked_while_the_cluster_is_offline_completes_when_it_returns() {
    let mut s = setup().await;
    let ns = s
        .create(&s.w.api, "gone", "personal")
        .await
        .summary
        .namespace;
    running(&s.w.api, "gone").await;

    s.kube_manager_down().await;
    let asked = s.accepted("gone", "delete").await;
    assert_eq!(asked.summary.status, EnvironmentStatus::Deleting);
    assert!(
        asked
            .summary
            .message
            .as_deref()
            .is_some_and(|m| m.contains("waiting for cluster prod")),
        "{asked:?}"
    );
    assert_eq!(s.listed().await, [("gone".into(), "deleting".into())]);
    let (status, body) = s.change(&s.w.api, "gone", "pause").await;
    assert_eq!(status, 409, "a deleting environment cannot pause: {body}");
    assert!(s.kube.namespace(&ns).await.is_some());

    s.kube_manager_up().await;
    s.w.api.wait_environment_gone("gone").await;
    assert_eq!(s.listed().await, []);
    assert!(
        s.kube.namespace(&ns).await.is_none(),
        "the namespace is gone"
    );
}

/// Adds `username` to `org_name` with `role` and signs them in.
async fn user(s: &Setup, org_name: &str, username: &str, role: &str) -> Api {
    let (status, body) =
        s.w.api
            .call(
                Method::POST,
                &format!("/orgs/{org_name}/members"),
                Some(&json!({"username": username, "role": role, "password": PASSWORD})),
            )
            .await;
    assert_eq!(status, 201, "{body}");
    Api::login(
        &s.w.server.url(),
        s.w.server.client_tls(),
        username,
        PASSWORD,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_may_create_see_and_change_environments() {
    let s = setup().await;
    let admin = &s.w.api;
    let alice = user(&s, "default", "alice", "member").await;
    let bob = user(&s, "default", "bob", "member").await;
    let (status, body) = admin
        .call(Method::POST, "/orgs", Some(&json!({"name": "other"})))
        .await;
    assert_eq!(status, 201, "{body}");
    let eve = user(&s, "other", "eve", "admin").await;

    // The cluster's switches.
    let create = |api: &Api, name: &str, kind: &str| {
        let api = api.clone();
        let body = create_body(name, kind);
        async move {
            api.call(Method::POST, &org("/environments"), Some(&body))
                .await
        }
    };
    let patch = |body: Value| async move {
        let (status, answer) = admin
            .call(Method::PATCH, &org("/clusters/prod"), Some(&body))
            .await;
        assert_eq!(status, 200, "{answer}");
    };
    let refused = |(status, body): (u16, Value), needle: &str| {
        assert_eq!(status, 409, "{body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{needle} in {body}");
    };
    patch(json!({"permissions": ["shared"]})).await;
    refused(
        create(admin, "p", "personal").await,
        "does not allow personal",
    );
    patch(json!({"permissions": ["personal"]})).await;
    refused(create(admin, "sh", "shared").await, "does not allow shared");
    patch(json!({"roles": ["source"], "permissions": ["personal", "shared"]})).await;
    refused(
        create(admin, "p", "personal").await,
        "does not have the target role",
    );
    patch(json!({"roles": ["source", "target"]})).await;
    assert_eq!(s.listed().await, []);

    // Members create Personal ones, admins Shared ones.
    s.create(&alice, "alice-env", "personal").await;
    let (status, body) = create(&alice, "alice-team", "shared").await;
    assert_eq!(status, 403, "{body}");
    s.create(admin, "team", "shared").await;

    let path = |name: &str| org(&format!("/environments/{name}"));
    let get = |api: &Api, name: &str| {
        let api = api.clone();
        let path = path(name);
        async move { api.call(Method::GET, &path, None).await.0 }
    };
    let listed = |api: &Api| {
        let api = api.clone();
        async move {
            let (status, page) = api.call(Method::GET, &org("/environments"), None).await;
            assert_eq!(status, 200, "{page}");
            let mut names: Vec<String> = page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|e| e["name"].as_str().expect("a name").to_string())
                .collect();
            names.sort();
            names
        }
    };

    // Another member's Personal environment does not exist for bob.
    assert_eq!(get(&bob, "alice-env").await, 404);
    for verb in ["pause", "resume", "delete"] {
        let (status, body) = s.change(&bob, "alice-env", verb).await;
        assert_eq!(status, 404, "bob {verb}: {body}");
    }
    let (status, _) = bob
        .call(Method::GET, &org("/environments/alice-env/events"), None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(listed(&bob).await, ["team"]);
    // A Shared one: visible, but only admins change it.
    assert_eq!(get(&bob, "team").await, 200);
    for verb in ["pause", "resume", "delete"] {
        let (status, body) = s.change(&bob, "team", verb).await;
        assert_eq!(status, 403, "bob {verb} team: {body}");
    }
    // Alice sees both and may pause her own.
    assert_eq!(listed(&alice).await, ["alice-env", "team"]);
    // Admins see every one; they delete others' Personal ones, never pause them.
    assert_eq!(get(admin, "alice-env").await, 200);
    assert_eq!(listed(admin).await, ["alice-env", "team"]);
    for verb in ["pause", "resume"] {
        let (status, body) = s.change(admin, "alice-env", verb).await;
        assert_eq!(status, 403, "admin {verb} alice-env: {body}");
    }

    // Another organization's user finds nothing, even as an admin there.
    let (status, body) = eve.call(Method::GET, &org("/environments"), None).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = create(&eve, "eve-env", "personal").await;
    assert_eq!(status, 404, "{body}");
    for name in ["alice-env", "team"] {
        assert_eq!(get(&eve, name).await, 404);
        for verb in ["pause", "resume", "delete"] {
            let (status, body) = s.change(&eve, name, verb).await;
            assert_eq!(status, 404, "eve {verb} {name}: {body}");
        }
        let (status, _) = eve
            .call(
                Method::GET,
                &org(&format!("/environments/{name}/events")),
                None,
            )
            .await;
        assert_eq!(status, 404);
    }

    let (status, body) = s.change(&alice, "alice-env", "pause").await;
    assert_eq!(status, 202, "alice pauses hers: {body}");
    let (status, body) = s.change(admin, "alice-env", "delete").await;
    assert_eq!(status, 202, "an admin deletes it: {body}");
    admin.wait_environment_gone("alice-env").await;
    assert_eq!(listed(&alice).await, ["team"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lapdev_writes_only_inside_its_own_namespaces() {
    let s = setup().await;
    let before = s.kube.writes().await.len();
    let ns = s
        .create(&s.w.api, "dev", "personal")
        .await
        .summary
        .namespace;
    running(&s.w.api, "dev").await;
    s.accepted("dev", "pause").await;
    s.w.api
        .wait_environment_status("dev", EnvironmentStatus::Paused)
        .await;
    s.accepted("dev", "resume").await;
    running(&s.w.api, "dev").await;
    s.accepted("dev", "delete").await;
    s.w.api.wait_environment_gone("dev").await;

    let writes = s.kube.writes().await;
    let ours = &writes[before..];
    let str_of = |w: &Value, k: &str| w[k].as_str().unwrap_or_default().to_string();
    let outside: Vec<&Value> = ours
        .iter()
        .filter(|w| {
            let in_namespace = str_of(w, "namespace").starts_with("lapdev-");
            let the_namespace =
                str_of(w, "resource") == "namespaces" && str_of(w, "name").starts_with("lapdev-");
            !(in_namespace || the_namespace)
        })
        .collect();
    assert!(
        outside.is_empty(),
        "writes outside Lapdev's namespaces: {outside:#?}"
    );
    // It did write: the namespace was applied, scaled and deleted.
    let on_namespace: Vec<String> = ours
        .iter()
        .filter(|w| str_of(w, "resource") == "namespaces" && str_of(w, "name") == ns)
        .map(|w| str_of(w, "verb"))
        .collect();
    assert!(
        on_namespace.contains(&"patch".to_string()),
        "{on_namespace:?}"
    );
    assert!(
        on_namespace.contains(&"delete".to_string()),
        "{on_namespace:?}"
    );
    let scaled = ours
        .iter()
        .filter(|w| str_of(w, "namespace") == ns && str_of(w, "resource") == "deployments")
        .count();
    assert!(
        scaled >= 3 * 3,
        "apply, pause and resume of 3 Deployments: {scaled}"
    );
    assert!(s.kube.namespace(&ns).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_deleted_behind_lapdevs_back_is_recreated() {
    let s = setup().await;
    let ns = s
        .create(&s.w.api, "dev", "personal")
        .await
        .summary
        .namespace;
    let before = running(&s.w.api, "dev").await;
    let (status, body) = s
        .kube
        .send(Method::DELETE, &format!("/api/v1/namespaces/{ns}"), None)
        .await;
    assert_eq!(status, 202, "terminating: {body}");

    // Seen going (no workloads left), then back with the same generation.
    s.w.api
        .wait_environment("dev", "to lose its workloads", |e| {
            e.revision != before.revision && e.workloads.is_empty()
        })
        .await;
    let env = running(&s.w.api, "dev").await;
    assert_eq!(env.generation, 1);
    assert_eq!(env.workloads.len(), 4, "{env:?}");
    let namespace = s.kube.namespace(&ns).await.expect("re-created");
    assert_eq!(namespace["metadata"]["labels"]["lapdev.io/managed"], "true");
    assert_eq!(s.kube.replicas(&ns).await.len(), 4);
    let (_, events) =
        s.w.api
            .call(Method::GET, &org("/environments/dev/events"), None)
            .await;
    assert!(
        events.to_string().contains("disappeared; re-creating it"),
        "{events}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_in_quick_succession_end_in_the_last_one() {
    let s = setup().await;
    // Paused before it ever ran.
    s.c.sim.proc().signal("STOP");
    let ns = s
        .create(&s.w.api, "dev", "personal")
        .await
        .summary
        .namespace;
    let asked = s.accepted("dev", "pause").await;
    assert_eq!(asked.summary.status, EnvironmentStatus::Pausing);
    s.c.sim.proc().signal("CONT");
    let env =
        s.w.api
            .wait_environment_status("dev", EnvironmentStatus::Paused)
            .await;
    assert_eq!(env.observed_generation, Some(2));
    assert!(s.kube.replicas(&ns).await.values().all(|n| *n == 0));

    // Resume, pause, resume at once: the last one wins.
    for verb in ["resume", "pause", "resume"] {
        s.accepted("dev", verb).await;
    }
    let env =
        s.w.api
            .wait_environment("dev", "to run generation 5", |e| {
                e.observed_generation == Some(5) && e.summary.status == EnvironmentStatus::Running
            })
            .await;
    assert_eq!(env.generation, 5);
    assert!(s.kube.replicas(&ns).await.values().all(|n| *n == 1));

    // Deleted while still being created: nothing is left behind.
    s.c.sim.proc().signal("STOP");
    let brief = s
        .create(&s.w.api, "brief", "personal")
        .await
        .summary
        .namespace;
    s.accepted("brief", "delete").await;
    s.c.sim.proc().signal("CONT");
    s.w.api.wait_environment_gone("brief").await;
    assert!(s.kube.namespace(&brief).await.is_none());
    assert_eq!(s.listed().await, [("dev".into(), "running".into())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environment_outlives_its_catalog_and_keeps_its_cluster() {
    let mut s = setup().await;
    let ns = s
        .create(&s.w.api, "dev", "personal")
        .await
        .summary
        .namespace;
    running(&s.w.api, "dev").await;
    let (status, body) =
        s.w.api
            .call(Method::DELETE, &org("/catalogs/shop"), None)
            .await;
    assert_eq!(status, 204, "{body}");

    s.accepted("dev", "pause").await;
    s.w.api
        .wait_environment_status("dev", EnvironmentStatus::Paused)
        .await;
    s.accepted("dev", "resume").await;
    let env = running(&s.w.api, "dev").await;
    assert_eq!(env.summary.catalog, "shop");
    assert!(s.kube.replicas(&ns).await.values().all(|n| *n == 1));

    // A server restart changes nothing.
    s.w.server.kill().await;
    s.w.server.restart().await;
    s.w.api
        .wait_environment("dev", "to be running and connected", |e| {
            e.cluster_connected && e.summary.status == EnvironmentStatus::Running
        })
        .await;

    // The cluster cannot go while it has an environment.
    let (status, body) =
        s.w.api
            .call(Method::DELETE, &org("/clusters/prod"), None)
            .await;
    assert_eq!(status, 409, "{body}");
    s.accepted("dev", "delete").await;
    s.w.api.wait_environment_gone("dev").await;
    let (status, body) =
        s.w.api
            .call(Method::DELETE, &org("/clusters/prod"), None)
            .await;
    assert_eq!(status, 204, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_pod_of_three_degrades_a_shared_environment() {
    let s = setup().await;
    let ns = s.create(&s.w.api, "team", "shared").await.summary.namespace;
    running(&s.w.api, "team").await;
    let (status, pods) = s.kube.get(&format!("/api/v1/namespaces/{ns}/pods")).await;
    assert_eq!(status, 200, "{pods}");
    let pod = pods["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["metadata"]["name"].as_str())
        .find(|n| n.starts_with("api-"))
        .unwrap_or_else(|| panic!("no Pod of api in {pods}"))
        .to_string();
    s.kube.fail(&ns, "Pod", &pod).await;

    let env =
        s.w.api
            .wait_environment_status("team", EnvironmentStatus::Degraded)
            .await;
    let message = env.summary.message.clone().unwrap_or_default();
    assert!(
        message.starts_with("Deployment/api: ImagePullBackOff"),
        "{env:?}"
    );
    let api = env
        .workloads
        .iter()
        .find(|w| w.name == "api")
        .unwrap_or_else(|| panic!("{env:?}"));
    assert_eq!((api.desired, api.available), (3, 2), "{env:?}");
}
