//! App Catalog requests against kube-sim seeded with the sample `shop` app
//! and the awkward manifests of `seed/awkward.yaml`: discovery filters,
//! snapshots (references, issues, Secret policy applied in the cluster),
//! refresh diffs, NotFound for missing workloads, a 500-object namespace of
//! which only the referenced objects are read, and the request log showing
//! only GET and LIST. The last test runs them through the real binary and a
//! tunnel.

use std::fmt::Write;

use lapdev_kube_manager::dispatch::Dispatcher;
use lapdev_tunnel_proto::{
    CatalogSnapshot, ClientFrame, ErrorCode, ListWorkloads, ObjectRef, RefreshCatalog, Request,
    RequestId, Response, SecretAction, SecretPolicy, SecretRule, ServerFrame, SnapshotCatalog,
    TunnelError, WorkloadKind, WorkloadRef,
};

use crate::support::{Fixture, KubeManager, redact_db_password, welcome};

const AWKWARD: &str = include_str!("seed/awkward.yaml");

fn sim() -> kube_sim::KubeSim {
    kube_sim::KubeSim::builder()
        .sample_seed()
        .seed_yaml("awkward", AWKWARD)
        .build()
        .unwrap()
}

/// Runs a request through the dispatcher, as the connection does.
async fn handle(sim: &kube_sim::KubeSim, request: Request) -> Result<Response, TunnelError> {
    Dispatcher::new(sim.client(), 8).handle(request).await
}

/// Every request since the log was cleared was a GET or LIST (no watch, no write).
#[track_caller]
fn assert_read_only(sim: &kube_sim::KubeSim) {
    let log = sim.requests().all();
    assert!(!log.is_empty());
    for r in &log {
        assert!(
            r.method == "GET" && matches!(r.verb.as_str(), "get" | "list" | ""),
            "not a read: {r:?}"
        );
    }
}

/// A 253-character name (the DNS subdomain limit) of 63-character labels.
fn long_name(c: char) -> String {
    let label = |n| c.to_string().repeat(n);
    format!("{0}.{0}.{0}.{1}", label(63), label(61))
}

fn short(name: &str) -> String {
    if name.len() > 40 {
        format!("{}…({})", &name[..3], name.len())
    } else {
        name.to_string()
    }
}

fn r(o: &ObjectRef) -> String {
    format!(
        "{:?}/{}/{}",
        o.kind,
        o.namespace.as_deref().unwrap_or("-"),
        short(&o.name)
    )
}

fn workload(namespace: &str, kind: WorkloadKind, name: &str) -> WorkloadRef {
    WorkloadRef {
        namespace: namespace.into(),
        kind,
        name: name.into(),
    }
}

async fn list(sim: &kube_sim::KubeSim, request: ListWorkloads) -> String {
    let Ok(Response::Workloads(list)) = handle(sim, Request::ListWorkloads(request)).await else {
        panic!("not a workload list")
    };
    let mut out = String::new();
    for w in &list.workloads {
        writeln!(
            out,
            "{}/{:?}/{} {:?} {}/{}/{} ready={}",
            w.namespace,
            w.kind,
            short(&w.name),
            w.images,
            w.replicas,
            w.ready_replicas,
            w.available_replicas,
            w.ready
        )
        .unwrap();
    }
    if list.truncated {
        out.push_str("(truncated)\n");
    }
    out
}

fn render(s: &CatalogSnapshot) -> String {
    let mut out = String::from("objects:\n");
    for o in &s.objects {
        let keys = |field: &str| {
            o[field]
                .as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>().join(","))
                .unwrap_or_default()
        };
        let mut line = format!(
            "  {}/{}/{}",
            o["kind"].as_str().unwrap(),
            o["metadata"]["namespace"].as_str().unwrap(),
            short(o["metadata"]["name"].as_str().unwrap())
        );
        if o["kind"] == "Secret" {
            write!(line, " data=[{}]", keys("data")).unwrap();
            if let Some(redacted) = o["metadata"]["annotations"]["lapdev.io/redacted-keys"].as_str()
            {
                write!(line, " redacted=[{redacted}]").unwrap();
            }
        }
        writeln!(out, "{line}").unwrap();
    }
    out.push_str("dependencies:\n");
    for d in &s.dependencies {
        let on: Vec<String> = d.depends_on.iter().map(r).collect();
        writeln!(out, "  {} -> {}", r(&d.workload), on.join(" ")).unwrap();
    }
    out.push_str("issues:\n");
    for i in &s.issues {
        let key = i
            .key
            .as_deref()
            .map(|k| format!(" key {k}"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {:?} {} {}: missing {}{key}",
            i.severity,
            r(&i.workload),
            i.field,
            r(&i.missing)
        )
        .unwrap();
    }
    let excluded: Vec<String> = s.excluded_secrets.iter().map(r).collect();
    let required: Vec<String> = s
        .required_values
        .iter()
        .map(|k| format!("{}/{}", k.secret, k.key))
        .collect();
    writeln!(out, "excluded: {}", excluded.join(" ")).unwrap();
    writeln!(out, "required: {}", required.join(" ")).unwrap();
    out
}

async fn snapshot(
    sim: &kube_sim::KubeSim,
    workloads: Vec<WorkloadRef>,
    secret_policy: SecretPolicy,
) -> Result<CatalogSnapshot, TunnelError> {
    let request = Request::SnapshotCatalog(SnapshotCatalog {
        workloads,
        secret_policy,
    });
    handle(sim, request).await.map(|r| match r {
        Response::CatalogSnapshot(s) => s,
        other => panic!("{other:?}"),
    })
}

#[tokio::test]
async fn discovery_hides_system_namespaces_and_filters() {
    let sim = sim();
    sim.requests().clear();
    expect_test::expect![[r#"
        billing/Deployment/invoicer ["ghcr.io/example/invoicer:2.4.1"] 1/0/0 ready=false
        edge/Deployment/ddd…(253) ["long:1"] 1/0/0 ready=false
        edge/Deployment/gateway ["envoy:v1.30"] 2/0/0 ready=false
        edge/Deployment/job-a ["jobs:1"] 1/0/0 ready=false
        edge/Deployment/job-b ["jobs-migrate:1", "jobs:1"] 0/0/0 ready=true
        edge/StatefulSet/cache ["redis:7"] 1/0/0 ready=false
        edge/DaemonSet/log-agent ["fluent-bit:3"] 0/0/0 ready=true
        shop/Deployment/api ["ghcr.io/example/shop-api:1.8.0"] 3/0/0 ready=false
        shop/Deployment/web ["nginx:1.27"] 2/0/0 ready=false
        shop/Deployment/worker ["ghcr.io/example/shop-worker:1.8.0"] 1/0/0 ready=false
        shop/StatefulSet/postgres ["postgres:16"] 1/0/0 ready=false
    "#]]
    .assert_eq(&list(&sim, ListWorkloads::default()).await);
    // System namespaces on request; Lapdev's own namespaces too.
    let all = list(
        &sim,
        ListWorkloads {
            include_system: true,
            kinds: vec![WorkloadKind::DaemonSet, WorkloadKind::Deployment],
            name_contains: Some("e".into()),
            ..Default::default()
        },
    )
    .await;
    expect_test::expect![[r#"
        billing/Deployment/invoicer ["ghcr.io/example/invoicer:2.4.1"] 1/0/0 ready=false
        edge/Deployment/gateway ["envoy:v1.30"] 2/0/0 ready=false
        edge/DaemonSet/log-agent ["fluent-bit:3"] 0/0/0 ready=true
        kube-system/Deployment/coredns ["registry.k8s.io/coredns/coredns:v1.12.0"] 2/0/0 ready=false
        kube-system/DaemonSet/kube-proxy ["registry.k8s.io/kube-proxy:v1.33.0"] 0/0/0 ready=true
        lapdev/Deployment/lapdev-kube-manager ["ghcr.io/lapdev/kube-manager:0.1"] 1/0/0 ready=false
        lapdev-alice-shop/Deployment/gateway ["envoy:v1.30"] 1/0/0 ready=false
        shop/Deployment/web ["nginx:1.27"] 2/0/0 ready=false
        shop/Deployment/worker ["ghcr.io/example/shop-worker:1.8.0"] 1/0/0 ready=false
    "#]]
    .assert_eq(&all);
    // One namespace (a system one, named explicitly), one kind.
    expect_test::expect![[r#"
        kube-system/Deployment/coredns ["registry.k8s.io/coredns/coredns:v1.12.0"] 2/0/0 ready=false
    "#]]
    .assert_eq(
        &list(
            &sim,
            ListWorkloads {
                namespace: Some("kube-system".into()),
                kinds: vec![WorkloadKind::Deployment],
                ..Default::default()
            },
        )
        .await,
    );
    expect_test::expect![""].assert_eq(
        &list(
            &sim,
            ListWorkloads {
                namespace: Some("nowhere".into()),
                ..Default::default()
            },
        )
        .await,
    );
    assert_read_only(&sim);
}

fn shop(names: &[(WorkloadKind, &str)]) -> Vec<WorkloadRef> {
    names
        .iter()
        .map(|(kind, name)| workload("shop", *kind, name))
        .collect()
}

#[tokio::test]
async fn the_secret_policy_is_applied_before_anything_leaves_the_cluster() {
    let sim = sim();
    sim.requests().clear();
    let policy = SecretPolicy {
        default: SecretAction::Copy,
        rules: vec![
            SecretRule {
                namespace: None,
                secret: "db-credentials".into(),
                key: None,
                action: SecretAction::Redact,
            },
            SecretRule {
                namespace: Some("shop".into()),
                secret: "api-keys".into(),
                key: Some("STRIPE_KEY".into()),
                action: SecretAction::Exclude,
            },
            SecretRule {
                namespace: None,
                secret: "tls-cert".into(),
                key: None,
                action: SecretAction::Exclude,
            },
        ],
    };
    let workloads = shop(&[
        (WorkloadKind::Deployment, "web"),
        (WorkloadKind::Deployment, "api"),
        (WorkloadKind::Deployment, "worker"),
        (WorkloadKind::StatefulSet, "postgres"),
    ]);
    let s = snapshot(&sim, workloads, policy).await.unwrap();
    expect_test::expect![[r#"
        objects:
          ServiceAccount/shop/shop
          ConfigMap/shop/nginx-config
          ConfigMap/shop/shop-config
          ConfigMap/shop/worker-queues
          Secret/shop/api-keys data=[SENDGRID_KEY]
          Secret/shop/db-credentials data=[] redacted=[password,url,username]
          Secret/shop/registry-credentials data=[.dockerconfigjson]
          Service/shop/api
          Service/shop/backend-metrics
          Service/shop/postgres
          Service/shop/web
          Deployment/shop/api
          Deployment/shop/web
          Deployment/shop/worker
          StatefulSet/shop/postgres
        dependencies:
          Deployment/shop/api -> ServiceAccount/shop/shop ConfigMap/shop/shop-config Secret/shop/api-keys Secret/shop/db-credentials Secret/shop/registry-credentials Service/shop/api Service/shop/backend-metrics
          Deployment/shop/web -> ServiceAccount/shop/shop ConfigMap/shop/nginx-config Secret/shop/registry-credentials Secret/shop/tls-cert Service/shop/web
          Deployment/shop/worker -> ServiceAccount/shop/shop ConfigMap/shop/worker-queues Secret/shop/api-keys Secret/shop/db-credentials Secret/shop/registry-credentials Service/shop/backend-metrics
          StatefulSet/shop/postgres -> Secret/shop/db-credentials Service/shop/postgres
        issues:
        excluded: Secret/shop/tls-cert
        required: db-credentials/password db-credentials/url db-credentials/username
    "#]].assert_eq(&render(&s));
    // What crosses the tunnel holds no redacted or excluded value.
    let wire = serde_json::to_string(&Response::CatalogSnapshot(s)).unwrap();
    for secret in ["s3cr3t-kube-sim", "sk_test_shop", "MIIEkube-sim"] {
        assert!(!wire.contains(secret), "{secret}");
        assert!(!wire.contains(&base64(secret)), "{secret}");
    }
    assert!(
        wire.contains(&base64("SG.kube-sim")),
        "copied values are kept"
    );
    assert_read_only(&sim);
}

/// Standard base64 (what a Secret's `data` holds).
fn base64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn awkward_references_become_dependencies_and_issues() {
    let sim = sim();
    sim.requests().clear();
    let workloads = vec![
        workload("edge", WorkloadKind::Deployment, "gateway"),
        workload("edge", WorkloadKind::Deployment, "job-a"),
        workload("edge", WorkloadKind::Deployment, "job-b"),
        workload("edge", WorkloadKind::StatefulSet, "cache"),
        workload("edge", WorkloadKind::DaemonSet, "log-agent"),
        workload("edge", WorkloadKind::Deployment, &long_name('d')),
        // Twice: read once.
        workload("edge", WorkloadKind::Deployment, "gateway"),
    ];
    let s = snapshot(&sim, workloads, SecretPolicy::default())
        .await
        .unwrap();
    expect_test::expect![[r#"
        objects:
          ConfigMap/edge/app-config
          ConfigMap/edge/ccc…(253)
          Secret/edge/app-secret data=[password,token]
          Secret/edge/pull data=[.dockerconfigjson]
          Secret/edge/sss…(253) data=[k]
          Service/edge/backend
          Service/edge/gateway
          Service/edge/gateway-admin
          Service/edge/vvv…(63)
          Deployment/edge/ddd…(253)
          Deployment/edge/gateway
          Deployment/edge/job-a
          Deployment/edge/job-b
          StatefulSet/edge/cache
          DaemonSet/edge/log-agent
        dependencies:
          Deployment/edge/ddd…(253) -> ConfigMap/edge/ccc…(253) Secret/edge/pull Secret/edge/sss…(253) Service/edge/vvv…(63)
          Deployment/edge/gateway -> ConfigMap/edge/app-config Secret/edge/app-secret Secret/edge/pull Service/edge/gateway Service/edge/gateway-admin
          Deployment/edge/job-a -> Service/edge/backend
          Deployment/edge/job-b -> Secret/edge/pull Service/edge/backend
          StatefulSet/edge/cache -> Secret/edge/pull
          DaemonSet/edge/log-agent -> Secret/edge/pull
        issues:
          Warning Deployment/edge/gateway spec.template.spec.containers[gw].envFrom[2].secretRef: missing Secret/edge/missing-secret
          Warning Deployment/edge/gateway spec.template.spec.containers[gw].env[TOKEN].valueFrom.secretKeyRef: missing Secret/edge/app-secret key nope
          Warning Deployment/edge/job-a spec.template.spec.serviceAccountName: missing ServiceAccount/edge/missing-sa
          Warning StatefulSet/edge/cache spec.serviceName: missing Service/edge/cache-headless
          Note Deployment/edge/gateway spec.template.spec.containers[gw].env[TZ].valueFrom.configMapKeyRef: missing ConfigMap/edge/tz-config
          Note Deployment/edge/gateway spec.template.spec.volumes[all].projected.sources[2].configMap: missing ConfigMap/edge/extra-config
        excluded: 
        required: 
    "#]].assert_eq(&render(&s));
    assert_read_only(&sim);
}

#[tokio::test]
async fn missing_workloads_are_not_found_by_name() {
    let sim = sim();
    let err = snapshot(
        &sim,
        vec![
            workload("shop", WorkloadKind::Deployment, "api"),
            workload("shop", WorkloadKind::StatefulSet, "api"),
        ],
        SecretPolicy::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    expect_test::expect!["workload StatefulSet/shop/api does not exist in the source cluster (deleted since it was listed?)"].assert_eq(&err.message);
    let err = snapshot(&sim, vec![], SecretPolicy::default())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid, "{err}");
    // Names that cannot exist never reach a URL.
    for (ns, name) in [
        ("shop", "../secrets/db-credentials"),
        ("shop/x", "api"),
        ("", "api"),
    ] {
        let err = snapshot(
            &sim,
            vec![workload(ns, WorkloadKind::Deployment, name)],
            SecretPolicy::default(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::Invalid, "{err}");
    }
    let err = handle(
        &sim,
        Request::ListWorkloads(ListWorkloads {
            namespace: Some("../kube-system".into()),
            ..Default::default()
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid, "{err}");

    // Listed, then deleted before the catalog is created: the same error,
    // and no partial snapshot.
    assert!(
        list(&sim, ListWorkloads::default())
            .await
            .contains("shop/Deployment/worker")
    );
    let api: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
        kube::Api::namespaced(sim.client(), "shop");
    api.delete("worker", &Default::default()).await.unwrap();
    let err = snapshot(
        &sim,
        shop(&[
            (WorkloadKind::Deployment, "api"),
            (WorkloadKind::Deployment, "worker"),
        ]),
        SecretPolicy::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    assert!(err.message.contains("Deployment/shop/worker"), "{err}");
}

#[tokio::test]
async fn refresh_returns_the_snapshot_and_a_diff_without_secret_values() {
    let sim = sim();
    let policy = redact_db_password();
    let workloads = shop(&[(WorkloadKind::Deployment, "api")]);
    let before = snapshot(&sim, workloads.clone(), policy.clone())
        .await
        .unwrap();
    // Production changes: a new image, a changed and a redacted Secret value,
    // a new Service selecting the workload.
    sim.load_yaml(
        "change",
        r#"
apiVersion: v1
kind: Service
metadata: {name: api-admin, namespace: shop}
spec:
  selector: {tier: backend}
  ports: [{port: 9000}]
"#,
    )
    .unwrap();
    let client = sim.client();
    let pp = kube::api::PatchParams::default();
    kube::Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(client.clone(), "shop")
        .patch(
            "api",
            &pp,
            &kube::api::Patch::Strategic(
                serde_json::json!({"spec": {"template": {"spec": {"containers": [
                {"name": "api", "image": "ghcr.io/example/shop-api:1.9.0"}]}}}}),
            ),
        )
        .await
        .unwrap();
    kube::Api::<k8s_openapi::api::core::v1::Secret>::namespaced(client, "shop")
        .patch(
            "db-credentials",
            &pp,
            &kube::api::Patch::Merge(serde_json::json!({"stringData": {"url": "postgres://new", "password": "rotated-password"}})),
        )
        .await
        .unwrap();
    sim.requests().clear();
    let request = Request::RefreshCatalog(RefreshCatalog {
        workloads,
        secret_policy: policy,
        current: before.objects.clone(),
    });
    let Ok(Response::CatalogRefresh(refresh)) = handle(&sim, request).await else {
        panic!("not a refresh")
    };
    let mut out = String::new();
    for d in &refresh.diff.objects {
        writeln!(
            out,
            "{} {}",
            r(&d.object),
            serde_json::to_string(&d.change).unwrap()
        )
        .unwrap();
    }
    expect_test::expect![[r#"
        Secret/shop/db-credentials {"type":"changed","fields":[{"path":"/data/url","old":{"state":"hidden"},"new":{"state":"hidden"}}]}
        Service/shop/api-admin {"type":"added"}
        Deployment/shop/api {"type":"changed","fields":[{"path":"/spec/template/spec/containers/0/image","old":{"state":"value","value":"ghcr.io/example/shop-api:1.8.0"},"new":{"state":"value","value":"ghcr.io/example/shop-api:1.9.0"}}]}
    "#]].assert_eq(&out);
    let wire = serde_json::to_string(&refresh).unwrap();
    assert!(!wire.contains("rotated-password") && !wire.contains(&base64("rotated-password")));
    // Refreshing again from the new snapshot: nothing changed.
    let request = Request::RefreshCatalog(RefreshCatalog {
        workloads: shop(&[(WorkloadKind::Deployment, "api")]),
        secret_policy: redact_db_password(),
        current: refresh.snapshot.objects.clone(),
    });
    let Ok(Response::CatalogRefresh(again)) = handle(&sim, request).await else {
        panic!("not a refresh")
    };
    assert!(again.diff.objects.is_empty(), "{:?}", again.diff);
    // Stored objects that are not manifests are refused.
    let request = Request::RefreshCatalog(RefreshCatalog {
        workloads: shop(&[(WorkloadKind::Deployment, "api")]),
        secret_policy: SecretPolicy::default(),
        current: vec![serde_json::json!({"apiVersion": "v1", "kind": "Pod"})],
    });
    assert_eq!(
        handle(&sim, request).await.unwrap_err().code,
        ErrorCode::Invalid
    );
    assert_read_only(&sim);
}

/// A namespace of 500 objects: the snapshot reads the workload, the two
/// objects it references, its ServiceAccount and the namespace's Services —
/// never the namespace's ConfigMaps or Secrets as a whole.
#[tokio::test]
async fn only_referenced_objects_are_read() {
    let sim = sim();
    let mut yaml = String::from("apiVersion: v1\nkind: Namespace\nmetadata: {name: big}\n");
    for i in 0..200 {
        write!(
            yaml,
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}, namespace: big}}\ndata: {{k: v{i}}}\n\
             ---\napiVersion: v1\nkind: Secret\nmetadata: {{name: secret-{i}, namespace: big}}\nstringData: {{k: v{i}}}\n"
        )
        .unwrap();
    }
    for i in 0..99 {
        write!(
            yaml,
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: svc-{i}, namespace: big}}\nspec: {{selector: {{app: app-{i}}}, ports: [{{port: 80}}]}}\n"
        )
        .unwrap();
    }
    yaml.push_str(
        r#"---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: big}
spec:
  selector: {matchLabels: {app: app-7}}
  template:
    metadata: {labels: {app: app-7}}
    spec:
      containers:
        - name: app
          image: app:1
          envFrom: [{configMapRef: {name: cm-7}}]
          env: [{name: S, valueFrom: {secretKeyRef: {name: secret-42, key: k}}}]
"#,
    );
    assert_eq!(sim.load_yaml("big", &yaml).unwrap(), 501);
    sim.requests().clear();
    let s = snapshot(
        &sim,
        vec![workload("big", WorkloadKind::Deployment, "app")],
        SecretPolicy::default(),
    )
    .await
    .unwrap();
    expect_test::expect![[r#"
        objects:
          ConfigMap/big/cm-7
          Secret/big/secret-42 data=[k]
          Service/big/svc-7
          Deployment/big/app
        dependencies:
          Deployment/big/app -> ConfigMap/big/cm-7 Secret/big/secret-42 Service/big/svc-7
        issues:
        excluded: 
        required: 
    "#]]
    .assert_eq(&render(&s));
    let log: Vec<String> = sim
        .requests()
        .all()
        .iter()
        .map(|r| format!("{} {} {}", r.method, r.path, r.query))
        .collect();
    expect_test::expect![[r#"
        [
            "GET /apis/apps/v1/namespaces/big/deployments/app ",
            "GET /api/v1/namespaces/big/serviceaccounts/default ",
            "GET /api/v1/namespaces/big/configmaps/cm-7 ",
            "GET /api/v1/namespaces/big/secrets/secret-42 ",
            "GET /api/v1/namespaces/big/services &limit=500",
        ]
    "#]]
    .assert_debug_eq(&log);
    assert_read_only(&sim);
}

/// The requests through the tunnel, answered by the real binary.
#[tokio::test(flavor = "multi_thread")]
async fn catalog_requests_through_the_tunnel() {
    let mut fx = Fixture::new().await;
    fx.sim.load_yaml("awkward", AWKWARD).unwrap();
    let _km = KubeManager::spawn(&fx.env());
    let mut conn = fx.server.next_conn().await;
    conn.handshake(welcome(30, 3600)).await;
    fx.sim.requests().clear();
    let requests = [
        Request::ListWorkloads(ListWorkloads::default()),
        Request::SnapshotCatalog(SnapshotCatalog {
            workloads: vec![workload("edge", WorkloadKind::Deployment, "gateway")],
            secret_policy: SecretPolicy {
                default: SecretAction::Redact,
                rules: Vec::new(),
            },
        }),
        Request::SnapshotCatalog(SnapshotCatalog {
            workloads: vec![workload("edge", WorkloadKind::Deployment, "gone")],
            secret_policy: SecretPolicy::default(),
        }),
    ];
    for (id, request) in requests.into_iter().enumerate() {
        conn.send(&ServerFrame::Request {
            id: RequestId(id as u64),
            request,
        })
        .await;
    }
    let mut answers = Vec::new();
    while answers.len() < 3 {
        if let ClientFrame::Response { id, result } = conn.recv().await {
            answers.push((id.0, result));
        }
    }
    answers.sort_by_key(|(id, _)| *id);
    let Ok(Response::Workloads(list)) = &answers[0].1 else {
        panic!("{:?}", answers[0])
    };
    assert_eq!(list.workloads.len(), 6, "{list:?}");
    let Ok(Response::CatalogSnapshot(s)) = &answers[1].1 else {
        panic!("{:?}", answers[1])
    };
    expect_test::expect![[r#"
        objects:
          ConfigMap/edge/app-config
          Secret/edge/app-secret data=[] redacted=[password,token]
          Secret/edge/pull data=[] redacted=[.dockerconfigjson]
          Service/edge/gateway
          Service/edge/gateway-admin
          Deployment/edge/gateway
        dependencies:
          Deployment/edge/gateway -> ConfigMap/edge/app-config Secret/edge/app-secret Secret/edge/pull Service/edge/gateway Service/edge/gateway-admin
        issues:
          Warning Deployment/edge/gateway spec.template.spec.containers[gw].envFrom[2].secretRef: missing Secret/edge/missing-secret
          Warning Deployment/edge/gateway spec.template.spec.containers[gw].env[TOKEN].valueFrom.secretKeyRef: missing Secret/edge/app-secret key nope
          Note Deployment/edge/gateway spec.template.spec.containers[gw].env[TZ].valueFrom.configMapKeyRef: missing ConfigMap/edge/tz-config
          Note Deployment/edge/gateway spec.template.spec.volumes[all].projected.sources[2].configMap: missing ConfigMap/edge/extra-config
        excluded: 
        required: app-secret/password app-secret/token pull/.dockerconfigjson
    "#]].assert_eq(&render(s));
    let Err(e) = &answers[2].1 else {
        panic!("{:?}", answers[2])
    };
    assert_eq!(e.code, ErrorCode::NotFound);
    assert!(e.message.contains("Deployment/edge/gone"), "{e}");
    assert!(fx.sim.requests().writes().is_empty());
    assert!(!fx.sim.requests().all().is_empty());
}

/// Every catalog request kind, answered or refused, makes GET requests only.
#[tokio::test]
async fn catalog_requests_never_write() {
    let sim = sim();
    sim.requests().clear();
    let gateway = || vec![workload("edge", WorkloadKind::Deployment, "gateway")];
    let requests = [
        Request::ListWorkloads(ListWorkloads {
            include_system: true,
            ..Default::default()
        }),
        Request::SnapshotCatalog(SnapshotCatalog {
            workloads: gateway(),
            secret_policy: SecretPolicy::default(),
        }),
        Request::SnapshotCatalog(SnapshotCatalog {
            workloads: vec![workload("kube-system", WorkloadKind::DaemonSet, "nope")],
            secret_policy: SecretPolicy::default(),
        }),
        Request::RefreshCatalog(RefreshCatalog {
            workloads: gateway(),
            secret_policy: SecretPolicy::default(),
            current: Vec::new(),
        }),
    ];
    let dispatcher = Dispatcher::new(sim.client(), 8);
    let mut answers = Vec::new();
    for request in requests {
        answers.push(match dispatcher.handle(request).await {
            Ok(r) => format!("{r:?}").split('(').next().unwrap().to_string(),
            Err(e) => format!("{:?}", e.code),
        });
    }
    assert_eq!(
        answers,
        ["Workloads", "CatalogSnapshot", "NotFound", "CatalogRefresh"]
    );
    assert_read_only(&sim);
    assert!(sim.requests().writes().is_empty());
}
