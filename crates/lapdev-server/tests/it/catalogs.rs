//! App Catalogs over the REST API against a kube-manager stand-in on the
//! real tunnel (canned answers from a tiny in-memory "production"):
//! discovery filters and refusals, create (404 naming a missing workload
//! with nothing created, 409 duplicate, 409 non-source, 403 member), Secret
//! keys only in the output and no plaintext in the database files, edits,
//! refresh preview/apply with "changed since preview", and key rotation
//! across restarts. The real kube-manager + kube-sim path is in lapdev-e2e.

use std::sync::{Arc, Mutex};

use lapdev_db::CatalogContent;
use lapdev_tunnel_proto::catalog::{
    CatalogRefresh, CatalogSnapshot, FieldChange, FieldValue, ManifestDiff, ObjectChange,
    ObjectDiff, ObjectKind, ObjectRef, ResolutionIssue, Severity, WorkloadDependencies,
    WorkloadKind, WorkloadList, WorkloadSummary,
};
use lapdev_tunnel_proto::{ClientFrame, Request, Response, ServerFrame, TunnelError};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::tunnel::{Event, Kube};
use crate::{ADMIN_PASSWORD, TestServer, summary};

/// The Secret value the fake production holds (and its base64 form).
const SECRET: &str = "s3cr3t-pa55-7Qx";

/// Inserts a catalog straight into the datastore (no cluster needed), with
/// workloads `shop/Deployment/api` and `shop/Deployment/web`.
pub(crate) async fn insert_fixture_catalog(t: &TestServer, org: &str, cluster: &str, name: &str) {
    let db = t.server.state().db();
    let org = db.organization_by_name(org).await.unwrap().unwrap();
    let cluster = db.cluster_by_name(org.id, cluster).await.unwrap().unwrap();
    let snapshot = Prod::default().snapshot(&["api", "web"]);
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
        content: CatalogContent {
            workloads: workloads.to_string(),
            workload_count: 2,
            secret_policy: "{}".into(),
            snapshot: serde_json::to_string(&snapshot).unwrap(),
        },
    };
    let event = lapdev_db::NewAuditEvent::new(None, "catalog.create", "catalog");
    db.catalog_create(&new, &[], &event).await.unwrap();
}

/// The fake production cluster: namespace `shop` with Deployments `api`
/// and `web`, ConfigMap `api-config`, Secret `db`.
#[derive(Clone)]
pub(crate) struct Prod {
    pub(crate) replicas: u32,
    pub(crate) secret: String,
    pub(crate) listed: Vec<lapdev_tunnel_proto::catalog::ListWorkloads>,
}

impl Default for Prod {
    fn default() -> Self {
        Prod {
            replicas: 2,
            secret: SECRET.into(),
            listed: vec![],
        }
    }
}

fn r(kind: ObjectKind, name: &str) -> ObjectRef {
    ObjectRef {
        kind,
        namespace: Some("shop".into()),
        name: name.into(),
    }
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

impl Prod {
    fn object(&self, kind: ObjectKind, name: &str) -> Value {
        let meta = json!({"name": name, "namespace": "shop"});
        match kind {
            ObjectKind::ConfigMap => json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": meta, "data": {"LOG": "info"}}),
            ObjectKind::Secret => json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": meta, "data": {"password": b64(&self.secret)}}),
            _ => json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
                "spec": {"replicas": self.replicas}}),
        }
    }

    fn snapshot(&self, workloads: &[&str]) -> CatalogSnapshot {
        let mut s = CatalogSnapshot::default();
        let mut deps = vec![];
        if workloads.contains(&"api") {
            deps.push(r(ObjectKind::ConfigMap, "api-config"));
        }
        deps.push(r(ObjectKind::Secret, "db"));
        for d in &deps {
            s.objects.push(self.object(d.kind, &d.name));
        }
        for w in workloads {
            s.objects.push(self.object(ObjectKind::Deployment, w));
            let depends_on = if *w == "api" {
                deps.clone()
            } else {
                vec![r(ObjectKind::Secret, "db")]
            };
            s.dependencies.push(WorkloadDependencies {
                workload: r(ObjectKind::Deployment, w),
                depends_on,
            });
        }
        if workloads.contains(&"api") {
            s.issues.push(ResolutionIssue {
                severity: Severity::Warning,
                workload: r(ObjectKind::Deployment, "api"),
                field: "spec.template.spec.containers[api].envFrom[0].configMapRef".into(),
                missing: r(ObjectKind::ConfigMap, "feature-flags"),
                key: None,
            });
        }
        s
    }

    fn answer(&mut self, request: Request) -> Result<Response, TunnelError> {
        let names = |ws: &[lapdev_tunnel_proto::catalog::WorkloadRef]| {
            ws.iter()
                .map(|w| {
                    if w.name == "api" || w.name == "web" {
                        Ok(w.name.clone())
                    } else {
                        Err(TunnelError::not_found(format!(
                            "workload {w} does not exist in the source cluster"
                        )))
                    }
                })
                .collect::<Result<Vec<_>, _>>()
        };
        match request {
            Request::ListWorkloads(l) => {
                self.listed.push(l);
                let row = |name: &str| WorkloadSummary {
                    namespace: "shop".into(),
                    kind: WorkloadKind::Deployment,
                    name: name.into(),
                    images: vec![format!("shop/{name}:1")],
                    replicas: self.replicas,
                    ready_replicas: self.replicas,
                    available_replicas: self.replicas,
                    ready: true,
                };
                Ok(Response::Workloads(WorkloadList {
                    workloads: vec![row("api"), row("web")],
                    truncated: false,
                }))
            }
            Request::SnapshotCatalog(s) => {
                let names = names(&s.workloads)?;
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                Ok(Response::CatalogSnapshot(self.snapshot(&names)))
            }
            Request::RefreshCatalog(rf) => {
                let names = names(&rf.workloads)?;
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let snapshot = self.snapshot(&names);
                let mut diff = ManifestDiff::default();
                for o in &snapshot.objects {
                    let same = rf.current.iter().find(|c| {
                        c["kind"] == o["kind"] && c["metadata"]["name"] == o["metadata"]["name"]
                    });
                    let kind = if o["kind"] == "Secret" {
                        ObjectKind::Secret
                    } else {
                        ObjectKind::Deployment
                    };
                    let name = o["metadata"]["name"].as_str().unwrap();
                    let change = match same {
                        None => ObjectChange::Added,
                        Some(c) if c == o => continue,
                        Some(c) if kind == ObjectKind::Secret => ObjectChange::Changed {
                            fields: vec![FieldChange {
                                path: "/data/password".into(),
                                old: FieldValue::Value(c["data"]["password"].clone()),
                                new: FieldValue::Value(o["data"]["password"].clone()),
                            }],
                        },
                        Some(c) => ObjectChange::Changed {
                            fields: vec![FieldChange {
                                path: "/spec/replicas".into(),
                                old: FieldValue::Value(c["spec"]["replicas"].clone()),
                                new: FieldValue::Value(o["spec"]["replicas"].clone()),
                            }],
                        },
                    };
                    diff.objects.push(ObjectDiff {
                        object: r(kind, name),
                        change,
                    });
                }
                Ok(Response::CatalogRefresh(CatalogRefresh { snapshot, diff }))
            }
            other => Err(TunnelError::invalid(format!("unexpected {other:?}"))),
        }
    }
}

/// Connects a kube-manager stand-in answering from `prod`; runs until the
/// test ends.
pub(crate) async fn serve(t: &TestServer, token: &str, prod: Arc<Mutex<Prod>>) {
    let (mut kube, _) = Kube::connect(t, token).await;
    tokio::spawn(async move {
        loop {
            match kube.next().await {
                Event::Frame(ServerFrame::Request { id, request }) => {
                    let result = prod.lock().unwrap().answer(request);
                    kube.send(&ClientFrame::Response { id, result }).await;
                }
                Event::Frame(_) => {}
                Event::Closed(..) => return,
            }
        }
    });
}

pub(crate) async fn cluster(t: &TestServer, name: &str, roles: Value) -> String {
    let (s, b) = t
        .post(
            "/api/v1/orgs/default/clusters",
            &t.admin_token,
            json!({ "name": name, "roles": roles }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["token"].as_str().unwrap().to_string()
}

fn shop(workloads: &[&str]) -> Value {
    let ws: Vec<Value> = workloads
        .iter()
        .map(|w| json!({"namespace": "shop", "kind": "Deployment", "name": w}))
        .collect();
    json!({
        "name": "shop",
        "description": "The shop",
        "cluster": "prod",
        "workloads": ws,
        "secret_policy": {"rules": [{"secret": "db", "key": "api-key", "action": "redact"}]},
    })
}

/// Every file of the data directory, as bytes (SQLite file and its WAL).
fn data_files(dir: &std::path::Path) -> Vec<u8> {
    let mut all = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            all.extend(std::fs::read(path).unwrap());
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn discover_create_show_edit_refresh() {
    let t = TestServer::start().await;
    let (_, member) = t.add_user("default", "bob", "member").await;
    let prod = Arc::new(Mutex::new(Prod::default()));
    let token = cluster(&t, "prod", json!(["source"])).await;
    cluster(&t, "dev", json!(["target"])).await;
    cluster(&t, "never", json!(["source"])).await;
    serve(&t, &token, prod.clone()).await;
    let admin = t.admin_token.as_str();

    // Discovery: filters reach kube-manager; refusals are clear.
    let (s, b) = t
        .get(
            "/api/v1/orgs/default/clusters/prod/workloads?namespace=shop&kind=deploy,sts&name=a",
            &member,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["items"][0]["name"], "api");
    assert_eq!(b["items"][0]["images"][0], "shop/api:1");
    let listed = prod.lock().unwrap().listed.pop().unwrap();
    assert_eq!(listed.namespace.as_deref(), Some("shop"));
    assert_eq!(
        listed.kinds,
        [WorkloadKind::Deployment, WorkloadKind::StatefulSet]
    );
    assert_eq!(listed.name_contains.as_deref(), Some("a"));
    assert!(!listed.include_system);
    t.get(
        "/api/v1/orgs/default/clusters/prod/workloads?include_system=true",
        admin,
    )
    .await;
    assert!(prod.lock().unwrap().listed.pop().unwrap().include_system);
    let path = "/api/v1/orgs/default/clusters/dev/workloads";
    let (s, b) = t.get(path, admin).await;
    assert_eq!(summary(s, &b), "409 conflict", "{b}");
    assert!(
        b["message"].as_str().unwrap().contains("source role"),
        "{b}"
    );
    let (s, b) = t
        .get("/api/v1/orgs/default/clusters/never/workloads", admin)
        .await;
    assert_eq!(summary(s, &b), "409 conflict", "{b}");
    assert!(b["message"].as_str().unwrap().contains("never connected"));
    let (s, b) = t
        .get(
            "/api/v1/orgs/default/clusters/prod/workloads?kind=pod",
            admin,
        )
        .await;
    assert_eq!(summary(s, &b), "422 invalid field=kind", "{b}");

    // Create: refusals first, nothing half-created.
    let catalogs = "/api/v1/orgs/default/catalogs";
    let (s, b) = t.post(catalogs, &member, shop(&["api"])).await;
    assert_eq!(summary(s, &b), "403 forbidden");
    let (s, b) = t.post(catalogs, admin, shop(&["api", "ghost"])).await;
    assert_eq!(summary(s, &b), "404 not_found", "{b}");
    assert!(b["message"].as_str().unwrap().contains("shop/ghost"), "{b}");
    let (_, list) = t.get(catalogs, admin).await;
    assert_eq!(list["items"], json!([]), "nothing half-created");
    let mut dev = shop(&["api"]);
    dev["cluster"] = json!("dev");
    let (s, b) = t.post(catalogs, admin, dev).await;
    assert_eq!(summary(s, &b), "409 conflict", "{b}");
    let (s, b) = t
        .post(
            catalogs,
            admin,
            json!({"name": "Bad Name", "cluster": "prod", "workloads": []}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");

    let (s, created) = t.post(catalogs, admin, shop(&["api"])).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    assert!(!created.to_string().contains(&b64(SECRET)), "{created}");
    assert!(!created.to_string().contains(SECRET));
    let (s, b) = t.post(catalogs, admin, shop(&["api"])).await;
    assert_eq!(summary(s, &b), "409 conflict", "{b}");

    let (s, show) = t.get(&format!("{catalogs}/shop"), &member).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(show, created);
    assert!(!show.to_string().contains(&b64(SECRET)));
    assert_eq!(show["source_cluster"], "prod");
    assert_eq!(show["workload_count"], 1);
    let secret = show["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "Secret")
        .unwrap();
    assert_eq!(secret["secret_keys"], json!(["password"]));
    assert_eq!(show["warnings"][0]["missing"]["name"], "feature-flags");
    assert_eq!(show["warnings"][0]["severity"], "warning");
    assert_eq!(
        show["dependencies"][0]["depends_on"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(show["secret_policy"]["rules"][0]["action"], "redact");
    let (_, list) = t.get(catalogs, &member).await;
    assert_eq!(list["items"][0]["name"], "shop");
    assert_eq!(list["items"][0]["workload_count"], 1);

    // Stored encrypted: no plaintext and no base64 of it in any data file.
    let files = data_files(t._dir.path());
    assert!(!contains(&files, SECRET) && !contains(&files, &b64(SECRET)));
    let db = t.server.state().db();
    let org = db.organization_by_name("default").await.unwrap().unwrap();
    let record = db.catalog_by_name(org.id, "shop").await.unwrap().unwrap();
    let values = db.catalog_secret_values(record.id).await.unwrap();
    assert_eq!(values.len(), 1);
    assert_eq!(
        (values[0].object.as_str(), values[0].key.as_str()),
        ("shop/db", "password")
    );

    // Refresh: up to date, then a change in production, previewed and applied.
    let refresh = format!("{catalogs}/shop/refresh");
    let (s, b) = t.post(&refresh, &member, json!(null)).await;
    assert_eq!(summary(s, &b), "403 forbidden");
    let (s, preview) = t.post(&refresh, admin, json!(null)).await;
    assert_eq!(s, StatusCode::OK, "{preview}");
    assert_eq!(preview["changes"], json!([]), "decrypted values round-trip");
    prod.lock().unwrap().replicas = 5;
    prod.lock().unwrap().secret = "rotated-value-Zk3".into();
    let (_, preview) = t.post(&refresh, admin, json!(null)).await;
    let changes = preview["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{preview}");
    let text = preview.to_string();
    assert!(!text.contains(&b64("rotated-value-Zk3")) && !text.contains(&b64(SECRET)));
    let deployment = changes
        .iter()
        .find(|c| c["object"]["kind"] == "Deployment")
        .unwrap();
    assert_eq!(
        deployment["change"]["fields"][0],
        json!({"path": "/spec/replicas", "old": {"state": "value", "value": 2},
               "new": {"state": "value", "value": 5}})
    );
    let secret = changes
        .iter()
        .find(|c| c["object"]["kind"] == "Secret")
        .unwrap();
    assert_eq!(
        secret["change"]["fields"][0]["new"],
        json!({"state": "hidden"})
    );
    // Production changes again: the old preview no longer applies.
    prod.lock().unwrap().replicas = 6;
    let apply = format!("{refresh}/apply");
    let (s, b) = t
        .post(&apply, admin, json!({"digest": preview["digest"]}))
        .await;
    assert_eq!(summary(s, &b), "409 conflict", "{b}");
    assert!(b["message"].as_str().unwrap().contains("since the preview"));
    let (_, preview) = t.post(&refresh, admin, json!(null)).await;
    let (s, b) = t
        .post(&apply, admin, json!({"digest": preview["digest"]}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, preview) = t.post(&refresh, admin, json!(null)).await;
    assert_eq!(preview["changes"], json!([]), "applied");

    // Edit: add and remove workloads, rename, describe.
    let (s, b) = t
        .post(
            &format!("{catalogs}/shop/workloads"),
            admin,
            json!({"workloads": [{"namespace": "shop", "kind": "Deployment", "name": "web"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["workload_count"], 2);
    assert_eq!(b["objects"].as_array().unwrap().len(), 4, "{b}");
    let (s, b) = t
        .call(
            Method::DELETE,
            &format!("{catalogs}/shop/workloads/shop/Deployment/api"),
            Some(admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let kinds: Vec<&str> = b["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Secret", "Deployment"], "api-config went with api");
    assert_eq!(b["warnings"], json!([]));
    let (s, b) = t
        .call(
            Method::DELETE,
            &format!("{catalogs}/shop/workloads/shop/Deployment/web"),
            Some(admin),
            None,
        )
        .await;
    assert_eq!(summary(s, &b), "409 conflict", "last workload: {b}");
    let (s, b) = t
        .call(
            Method::PATCH,
            &format!("{catalogs}/shop"),
            Some(admin),
            Some(json!({"name": "store", "description": "renamed"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        (b["name"].as_str(), b["description"].as_str()),
        (Some("store"), Some("renamed"))
    );
    let (_, audit) = t.get("/api/v1/orgs/default/audit", admin).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .filter(|a| a.starts_with("catalog."))
        .collect();
    assert_eq!(
        actions,
        [
            "catalog.update",
            "catalog.remove_workload",
            "catalog.add_workloads",
            "catalog.refresh",
            "catalog.create"
        ]
    );
    assert!(!audit.to_string().contains(&b64(SECRET)));
}

/// Starts a server on `dir` with the given key files.
async fn start_with_keys(
    dir: &tempfile::TempDir,
    key: Option<&std::path::Path>,
    old: &[&std::path::Path],
) -> lapdev_server::RunningServer {
    let mut config = crate::config(dir);
    config.secrets_key_file = key.map(Into::into);
    config.secrets_old_key_files = old.iter().map(|p| p.to_path_buf()).collect();
    lapdev_server::start(config).await.expect("server starts")
}

#[tokio::test]
async fn key_rotation_reencrypts_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let write = |name: &str, byte: u8| {
        use base64::Engine;
        let path = keys.path().join(name);
        std::fs::write(
            &path,
            base64::engine::general_purpose::STANDARD.encode([byte; 32]),
        )
        .unwrap();
        path
    };
    let (key_a, key_b) = (write("a.key", 7), write("b.key", 9));
    let id_of = |p: &std::path::Path| {
        lapdev_server::secrets::Keyring::load(Some(p), &[], dir.path())
            .unwrap()
            .current_key_id()
            .to_string()
    };
    let (id_a, id_b) = (id_of(&key_a), id_of(&key_b));

    // Key A: create the catalog.
    let server = start_with_keys(&dir, Some(&key_a), &[]).await;
    let mut t = TestServer {
        server,
        client: crate::client(),
        admin_token: String::new(),
        _dir: dir,
    };
    t.admin_token = t.login("admin", ADMIN_PASSWORD).await;
    let prod = Arc::new(Mutex::new(Prod::default()));
    let token = cluster(&t, "prod", json!(["source"])).await;
    serve(&t, &token, prod.clone()).await;
    let (s, b) = t
        .post(
            "/api/v1/orgs/default/catalogs",
            &t.admin_token,
            shop(&["api"]),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let key_ids = |t: &TestServer| {
        let db = t.server.state().db().clone();
        async move {
            let org = db.organization_by_name("default").await.unwrap().unwrap();
            let c = db.catalog_by_name(org.id, "shop").await.unwrap().unwrap();
            db.catalog_secret_values(c.id)
                .await
                .unwrap()
                .into_iter()
                .map(|v| v.key_id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(key_ids(&t).await, vec![id_a.clone()]);
    let TestServer {
        server, _dir: dir, ..
    } = t;
    server.shutdown().await;

    // Key B, with A as old: the start re-seals under B.
    let server = start_with_keys(&dir, Some(&key_b), &[&key_a]).await;
    let mut t = TestServer {
        server,
        client: crate::client(),
        admin_token: String::new(),
        _dir: dir,
    };
    assert_eq!(key_ids(&t).await, vec![id_b.clone()]);
    let TestServer {
        server, _dir: dir, ..
    } = t;
    server.shutdown().await;

    // Key B alone: values still open (the refresh diff is empty).
    let server = start_with_keys(&dir, Some(&key_b), &[]).await;
    t = TestServer {
        server,
        client: crate::client(),
        admin_token: String::new(),
        _dir: dir,
    };
    t.admin_token = t.login("admin", ADMIN_PASSWORD).await;
    serve(&t, &token, prod).await;
    let (s, preview) = t
        .post(
            "/api/v1/orgs/default/catalogs/shop/refresh",
            &t.admin_token,
            json!(null),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{preview}");
    assert_eq!(preview["changes"], json!([]));
    assert_ne!(id_a, id_b);

    // A key the values were not sealed with: a clear refusal, not a 500.
    let key_c = write("c.key", 11);
    let TestServer {
        server, _dir: dir, ..
    } = t;
    server.shutdown().await;
    let server = start_with_keys(&dir, Some(&key_c), &[]).await;
    let mut t = TestServer {
        server,
        client: crate::client(),
        admin_token: String::new(),
        _dir: dir,
    };
    t.admin_token = t.login("admin", ADMIN_PASSWORD).await;
    let (s, b) = t
        .post(
            "/api/v1/orgs/default/catalogs/shop/refresh",
            &t.admin_token,
            json!(null),
        )
        .await;
    assert_eq!(summary(s, &b), "409 conflict", "{b}");
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("--secrets-old-key-files"),
        "{b}"
    );
}

#[tokio::test]
async fn bad_input_is_refused_before_any_cluster_is_asked() {
    let t = TestServer::start().await;
    cluster(&t, "prod", json!(["source"])).await;
    insert_fixture_catalog(&t, "default", "prod", "shop").await;
    let admin = t.admin_token.as_str();
    let catalogs = "/api/v1/orgs/default/catalogs";
    let api = workload_json("api");
    let cases = [
        (
            json!({"name": "x", "cluster": "prod", "workloads": []}),
            "422 invalid field=workloads",
        ),
        (
            json!({"name": "x", "cluster": "prod", "workloads": [api, api]}),
            "422 invalid field=workloads",
        ),
        (
            json!({"name": "x", "cluster": "prod", "workloads": [api], "description": "d".repeat(2001)}),
            "422 invalid field=description",
        ),
        (
            json!({"name": "x", "cluster": "prod", "workloads": [{"namespace": "shop", "kind": "Pod", "name": "a"}]}),
            "422 invalid field=workloads[0].kind",
        ),
        (
            json!({"name": "x", "cluster": "nope", "workloads": [api]}),
            "404 not_found",
        ),
        (
            json!({"name": "shop", "cluster": "prod", "workloads": [api]}),
            "409 conflict",
        ),
    ];
    for (body, want) in cases {
        let (s, b) = t.post(catalogs, admin, body.clone()).await;
        assert_eq!(summary(s, &b), want, "{body}: {b}");
    }
    let (s, b) = t.get(&format!("{catalogs}/nope"), admin).await;
    assert_eq!(
        (summary(s, &b), b["message"].as_str()),
        ("404 not_found".into(), Some("catalog not found"))
    );
    let (s, b) = t
        .call(
            Method::PATCH,
            &format!("{catalogs}/shop"),
            Some(admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(summary(s, &b), "422 invalid field=name");
    let (s, b) = t
        .call(
            Method::DELETE,
            &format!("{catalogs}/shop/workloads/shop/Pod/api"),
            Some(admin),
            None,
        )
        .await;
    assert_eq!(summary(s, &b), "422 invalid field=kind");
    let (s, b) = t
        .call(
            Method::DELETE,
            &format!("{catalogs}/shop/workloads/shop/Deployment/ghost"),
            Some(admin),
            None,
        )
        .await;
    assert_eq!(summary(s, &b), "404 not_found");
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("shop/Deployment/ghost"),
        "{b}"
    );
    let (s, b) = t
        .post(&format!("{catalogs}/shop/refresh/apply"), admin, json!({}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
}

fn workload_json(name: &str) -> Value {
    json!({"namespace": "shop", "kind": "Deployment", "name": name})
}
