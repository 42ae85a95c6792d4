//! Issue 5 end to end, App Catalogs: the real server, kube-sim (sample shop)
//! and kube-manager as processes. Discover workloads through the API,
//! create a catalog of the shop (a workload deleted after listing → 404
//! naming it, nothing created), check the stored dependencies, warnings
//! and Secret policy, that Secret values are neither in API answers nor in
//! the database files nor in the server log, then change a Deployment with
//! kubectl, preview the refresh diff and apply it. kube-sim's request log
//! shows that Lapdev's reads made no write calls to the source cluster.

use lapdev_e2e::api::{Api, ORG};
use serde_json::{Value, json};

use crate::{World, kubectl};

/// A value of the sample shop's Secret `db-credentials` (copied by the
/// policy, so stored encrypted) and one of `api-keys` (copied too).
const SECRETS: [&str; 2] = ["s3cr3t-kube-sim", "SG.kube-sim"];

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

/// Raw JSON calls in the organization (`/orgs/default{path}`):
/// `(status, body)`.
struct Rest<'a>(&'a Api);

impl Rest<'_> {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.0
            .call(method, &format!("/orgs/{ORG}{path}"), body.as_ref())
            .await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
}

/// A Deployment whose env needs a ConfigMap key that does not exist.
fn deployment(name: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: shop
spec:
  replicas: 1
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: app
          image: ghcr.io/shop/{name}:1
          env:
            - name: FLAGS
              valueFrom:
                configMapKeyRef: {{name: feature-flags, key: flags}}
"#
    )
}

fn names(rows: &Value) -> Vec<String> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}/{}/{}",
                r["namespace"].as_str().unwrap(),
                r["kind"].as_str().unwrap(),
                r["name"].as_str().unwrap()
            )
        })
        .collect()
}

fn workload(kind: &str, name: &str) -> Value {
    json!({"namespace": "shop", "kind": kind, "name": name})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_of_the_shop_from_a_real_cluster() {
    let w = World::start().await;
    let c = w.connect_active("prod").await;
    let api = Rest(&w.api);
    let kubeconfig = c.sim.kubeconfig();
    kubectl(
        kubeconfig,
        &["apply", "--validate=false", "-f", "-"],
        Some(&deployment("flaky")),
    );
    kubectl(
        kubeconfig,
        &["apply", "--validate=false", "-f", "-"],
        Some(&deployment("doomed")),
    );

    // Discovery.
    let (s, list) = api.get("/clusters/prod/workloads?namespace=shop").await;
    assert_eq!(s, 200, "{list}");
    let shop = names(&list["items"]);
    for expected in [
        "shop/Deployment/api",
        "shop/Deployment/web",
        "shop/Deployment/worker",
        "shop/StatefulSet/postgres",
        "shop/Deployment/doomed",
    ] {
        assert!(shop.contains(&expected.to_string()), "{shop:?}");
    }
    let (_, all) = api.get("/clusters/prod/workloads").await;
    assert!(
        !names(&all["items"])
            .iter()
            .any(|n| n.starts_with("kube-system/"))
    );
    let (_, system) = api
        .get("/clusters/prod/workloads?include_system=true")
        .await;
    assert!(
        names(&system["items"])
            .iter()
            .any(|n| n.starts_with("kube-system/"))
    );
    let (_, sts) = api.get("/clusters/prod/workloads?kind=sts").await;
    assert_eq!(names(&sts["items"]), ["shop/StatefulSet/postgres"]);

    // Deleted between listing and creating: 404 naming it, nothing created.
    kubectl(
        kubeconfig,
        &["-n", "shop", "delete", "deployment", "doomed"],
        None,
    );
    let lapdev_from = c.sim.requests().await.len();
    let mut request = json!({
        "name": "shop",
        "description": "The shop, from production",
        "cluster": "prod",
        "workloads": [
            workload("Deployment", "web"),
            workload("Deployment", "api"),
            workload("Deployment", "worker"),
            workload("StatefulSet", "postgres"),
            workload("Deployment", "flaky"),
            workload("Deployment", "doomed"),
        ],
        "secret_policy": {"rules": [
            {"secret": "api-keys", "key": "STRIPE_KEY", "action": "redact"},
            {"secret": "tls-cert", "action": "exclude"},
        ]},
    });
    let (s, b) = api.post("/catalogs", request.clone()).await;
    assert_eq!(s, 404, "{b}");
    assert!(
        b["message"].as_str().unwrap().contains("shop/doomed"),
        "{b}"
    );
    let (_, list) = api.get("/catalogs").await;
    assert_eq!(list["items"], json!([]));

    request["workloads"].as_array_mut().unwrap().pop();
    let (s, created) = api.post("/catalogs", request.clone()).await;
    assert_eq!(s, 201, "{created}");
    let (s, b) = api.post("/catalogs", request).await;
    assert_eq!(s, 409, "{b}");

    let (_, shown) = api.get("/catalogs/shop").await;
    assert_eq!(shown, created);
    assert_no_secret("the catalog", &shown.to_string());
    let object = |kind: &str, name: &str| {
        shown["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == kind && o["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name} in {shown}"))
            .clone()
    };
    assert_eq!(
        object("Secret", "db-credentials")["secret_keys"],
        json!(["password", "url", "username"])
    );
    assert_eq!(
        object("Secret", "api-keys")["redacted_keys"],
        json!(["STRIPE_KEY"])
    );
    object("ConfigMap", "shop-config");
    object("ServiceAccount", "shop");
    object("Service", "backend-metrics");
    let api_deps = shown["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["workload"]["name"] == "api")
        .unwrap()["depends_on"]
        .to_string();
    for dep in [
        "db-credentials",
        "api-keys",
        "shop-config",
        "registry-credentials",
        "backend-metrics",
    ] {
        assert!(api_deps.contains(dep), "{dep} in {api_deps}");
    }
    let warning = &shown["warnings"][0];
    assert_eq!(warning["workload"]["name"], "flaky", "{shown}");
    assert_eq!(warning["missing"]["name"], "feature-flags");
    assert_eq!(shown["excluded_secrets"][0]["name"], "tls-cert");
    assert_eq!(
        shown["required_values"],
        json!([{"secret": "api-keys", "key": "STRIPE_KEY"}])
    );
    let (_, list) = api.get("/catalogs").await;
    assert_eq!(list["items"][0]["workload_count"], 5);
    assert_eq!(list["items"][0]["source_cluster"], "prod");

    // Encrypted at rest: no value, plain or base64, in any database file.
    let data = w.dir.path().join("server-data");
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert_no_secret(
                &path.display().to_string(),
                &String::from_utf8_lossy(&bytes),
            );
        }
    }

    // Refresh: up to date; then production changes; preview; apply.
    let (s, preview) = api.post("/catalogs/shop/refresh", json!(null)).await;
    assert_eq!(s, 200, "{preview}");
    assert_eq!(preview["changes"], json!([]), "{preview}");
    let reads = c.sim.requests().await;
    let writes: Vec<_> = reads[lapdev_from..]
        .iter()
        .filter(|r| r.is_write())
        .collect();
    assert!(
        writes.is_empty(),
        "Lapdev wrote to the source cluster: {writes:#?}"
    );
    assert!(reads.len() > lapdev_from, "kube-manager read the cluster");

    kubectl(
        kubeconfig,
        &[
            "-n",
            "shop",
            "patch",
            "deployment",
            "api",
            "--type=merge",
            "-p",
            r#"{"spec":{"replicas":7}}"#,
        ],
        None,
    );
    let lapdev_again = c.sim.requests().await.len();
    let (s, preview) = api.post("/catalogs/shop/refresh", json!(null)).await;
    assert_eq!(s, 200, "{preview}");
    let changes = preview["changes"].as_array().unwrap();
    let change = changes
        .iter()
        .find(|c| c["object"]["kind"] == "Deployment" && c["object"]["name"] == "api")
        .unwrap_or_else(|| panic!("{preview}"));
    assert!(
        change["change"].to_string().contains("/spec/replicas"),
        "{change}"
    );
    assert!(change["change"].to_string().contains('7'), "{change}");
    let (s, applied) = api
        .post(
            "/catalogs/shop/refresh/apply",
            json!({"digest": preview["digest"]}),
        )
        .await;
    assert_eq!(s, 200, "{applied}");
    let (_, again) = api.post("/catalogs/shop/refresh", json!(null)).await;
    assert_eq!(again["changes"], json!([]), "applied: {again}");
    let (s, b) = api
        .post(
            "/catalogs/shop/refresh/apply",
            json!({"digest": preview["digest"]}),
        )
        .await;
    assert_eq!(s, 409, "a stale preview: {b}");

    // Only kubectl wrote; Lapdev's reads never did.
    let log = c.sim.requests().await;
    let lapdev_writes: Vec<_> = log[lapdev_again..]
        .iter()
        .filter(|r| r.is_write())
        .collect();
    assert!(lapdev_writes.is_empty(), "{lapdev_writes:#?}");
    assert_no_secret("the server log", &w.server.proc().log.lines().join("\n"));

    // The CLI shows the same, Secret keys only.
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(lapdev_e2e::bins::lapdev())
            .args(["--server", &w.server.url(), "--token", w.api.token()])
            .args(["--org", "default"])
            .args(args)
            .env("LAPDEV_CONFIG_DIR", w.dir.path().join("cli"))
            .env("SSL_CERT_FILE", &w.server.tls().ca)
            .output()
            .expect("run lapdev");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "lapdev {args:?}: {stdout}{stderr}");
        assert_no_secret("CLI output", &format!("{stdout}{stderr}"));
        stdout
    };
    let table = cli(&["cluster", "workloads", "prod", "--kind", "sts"]);
    assert!(
        table.contains("postgres") && !table.contains("worker"),
        "{table}"
    );
    let table = cli(&["catalog", "show", "shop"]);
    assert!(table.contains("keys: password, url, username"), "{table}");
    assert!(table.contains("redact api-keys/STRIPE_KEY"), "{table}");
    assert!(table.contains("feature-flags"), "{table}");
    cli(&["catalog", "show", "shop", "-o", "yaml"]);
    let table = cli(&["catalog", "list"]);
    assert!(table.contains("shop") && table.contains("prod"), "{table}");
    let table = cli(&["catalog", "refresh", "shop"]);
    assert!(table.contains("Up to date"), "{table}");
}
