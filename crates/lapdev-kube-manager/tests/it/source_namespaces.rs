//! `LAPDEV_SOURCE_NAMESPACES`: with reads granted only in listed namespaces
//! (the restricted install manifest's Roles), kube-manager LISTs each of
//! them instead of the cluster, and refuses catalog requests about any
//! other namespace as `forbidden` before calling Kubernetes. Checked on the
//! real binary through a tunnel against kube-sim's request log.

use lapdev_kube_manager::dispatch::Dispatcher;
use lapdev_kube_manager::source::SourceScope;
use lapdev_tunnel_proto::{
    ClientFrame, ErrorCode, ListWorkloads, Request, RequestId, Response, SecretPolicy, ServerFrame,
    SnapshotCatalog, TunnelError, WorkloadKind, WorkloadRef,
};

use crate::support::{Fixture, KubeManager, welcome};

/// A workload in `shop` (already a namespace of the fixture) and one in `billing`.
const TWO_NAMESPACES: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: billing}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: "shop/api:1"}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: "postgres:16"}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: invoicer, namespace: billing}
spec:
  replicas: 1
  selector: {matchLabels: {app: invoicer}}
  template:
    metadata: {labels: {app: invoicer}}
    spec: {containers: [{name: invoicer, image: "billing/invoicer:1"}]}
"#;

fn snapshot(namespace: &str, kind: WorkloadKind, name: &str) -> Request {
    Request::SnapshotCatalog(SnapshotCatalog {
        workloads: vec![WorkloadRef {
            namespace: namespace.into(),
            kind,
            name: name.into(),
        }],
        secret_policy: SecretPolicy::default(),
    })
}

fn forbidden(result: &Result<Response, TunnelError>) -> &str {
    match result {
        Err(e) if e.code == ErrorCode::Forbidden => &e.message,
        other => panic!("expected forbidden, got {other:?}"),
    }
}

const REFUSAL: &str = "namespace \"billing\" is not a source namespace of this cluster; kube-manager may read only shop (LAPDEV_SOURCE_NAMESPACES)";

#[tokio::test(flavor = "multi_thread")]
async fn restricted_to_shop_through_the_tunnel() {
    let mut fx = Fixture::new().await;
    fx.sim.load_yaml("two", TWO_NAMESPACES).unwrap();
    let mut env = fx.env();
    env.push(("LAPDEV_SOURCE_NAMESPACES", "shop".into()));
    let _km = KubeManager::spawn(&env);
    let mut conn = fx.server.next_conn().await;
    conn.handshake(welcome(30, 3600)).await;
    fx.sim.requests().clear();

    let requests = [
        Request::ListWorkloads(ListWorkloads::default()),
        Request::ListWorkloads(ListWorkloads {
            namespace: Some("billing".into()),
            ..Default::default()
        }),
        snapshot("billing", WorkloadKind::Deployment, "invoicer"),
        snapshot("shop", WorkloadKind::Deployment, "api"),
    ];
    let n = requests.len();
    // One at a time, so the request log is in a known order.
    let mut answers = Vec::new();
    for (id, request) in requests.into_iter().enumerate() {
        conn.send(&ServerFrame::Request {
            id: RequestId(id as u64),
            request,
        })
        .await;
        let answer = conn
            .recv_until(|f| match f {
                ClientFrame::Response { id: got, result } if got.0 == id as u64 => Some(result),
                _ => None,
            })
            .await;
        answers.push(answer);
    }
    assert_eq!(answers.len(), n);

    let Ok(Response::Workloads(list)) = &answers[0] else {
        panic!("{:?}", answers[0])
    };
    let names: Vec<String> = list
        .workloads
        .iter()
        .map(|w| format!("{}/{:?}/{}", w.namespace, w.kind, w.name))
        .collect();
    assert_eq!(names, ["shop/Deployment/api", "shop/StatefulSet/db"]);
    assert_eq!(forbidden(&answers[1]), REFUSAL);
    assert_eq!(forbidden(&answers[2]), REFUSAL);
    let Ok(Response::CatalogSnapshot(s)) = &answers[3] else {
        panic!("{:?}", answers[3])
    };
    assert!(
        s.objects
            .iter()
            .any(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == "api"),
        "{s:?}"
    );

    // Only namespaced reads in shop; nothing cluster-wide, nothing in billing.
    let log: Vec<String> = fx
        .sim
        .requests()
        .all()
        .iter()
        // The environment watch lists and watches the Lapdev-managed
        // Namespaces (cluster-scoped, granted by lapdev-kube-manager-cluster)
        // and reads inside them (granted by their RoleBinding).
        .filter(|r| {
            !r.path.starts_with("/api/v1/nodes")
                && r.path != "/version"
                && r.path != "/api/v1/namespaces"
                && !r.path.contains("/namespaces/lapdev-")
        })
        .map(|r| format!("{} {} {}", r.method, r.path, r.query))
        .collect();
    expect_test::expect![[r#"
        [
            "GET /apis/apps/v1/namespaces/shop/deployments &limit=500",
            "GET /apis/apps/v1/namespaces/shop/statefulsets &limit=500",
            "GET /apis/apps/v1/namespaces/shop/daemonsets &limit=500",
            "GET /apis/apps/v1/namespaces/shop/deployments/api ",
            "GET /api/v1/namespaces/shop/serviceaccounts/default ",
            "GET /api/v1/namespaces/shop/services &limit=500",
        ]
    "#]]
    .assert_debug_eq(&log);
    assert!(fx.sim.requests().writes().is_empty());
}

/// The same scope in the library: several namespaces, each listed on its own.
#[tokio::test]
async fn each_listed_namespace_is_listed_on_its_own() {
    let sim = kube_sim::KubeSim::builder().sample_seed().build().unwrap();
    let scope = SourceScope::parse("billing,shop").unwrap();
    let dispatcher = Dispatcher::new(sim.client(), 8).with_source_scope(scope);
    sim.requests().clear();
    let Ok(Response::Workloads(list)) = dispatcher
        .handle(Request::ListWorkloads(ListWorkloads {
            kinds: vec![WorkloadKind::Deployment],
            ..Default::default()
        }))
        .await
    else {
        panic!("not a workload list")
    };
    let namespaces: std::collections::BTreeSet<&str> = list
        .workloads
        .iter()
        .map(|w| w.namespace.as_str())
        .collect();
    assert_eq!(
        namespaces.into_iter().collect::<Vec<_>>(),
        ["billing", "shop"]
    );
    let paths: Vec<String> = sim
        .requests()
        .all()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        paths,
        [
            "/apis/apps/v1/namespaces/billing/deployments",
            "/apis/apps/v1/namespaces/shop/deployments"
        ]
    );
    let e = dispatcher
        .handle(snapshot(
            "kube-system",
            WorkloadKind::DaemonSet,
            "kube-proxy",
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert!(e.message.contains("may read only billing, shop"), "{e}");
}
