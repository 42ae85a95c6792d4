//! Benchmark: workload discovery (and one catalog snapshot) of a large
//! source cluster **through the tunnel**. kube-sim is seeded
//! programmatically with 5,000 workloads in 200 namespaces and served on
//! 127.0.0.1; the real `lapdev-kube-manager` binary (built with the bench
//! profile) connects to the TLS tunnel server of the test suite; the bench
//! sends requests as the Lapdev server would and times each from sending
//! the request to decoding the answer. Bytes are the encoded response frame
//! (what crosses the WebSocket, before TLS).
//!
//! Run: `cargo bench -p lapdev-kube-manager --bench discovery`
//! (`LAPDEV_BENCH_RUNS=N` sets the runs per measurement, default 5).

#[path = "../tests/it/support.rs"]
#[allow(dead_code, reason = "the bench uses part of the test fixtures")]
mod support;

use std::time::{Duration, Instant};

use lapdev_tunnel_proto::{
    ClientFrame, ListWorkloads, Request, RequestId, Response, SecretPolicy, ServerFrame,
    SnapshotCatalog, WorkloadKind, WorkloadRef, encode_client_frame,
};
use serde_json::json;

use lapdev_kube_manager::discovery;
use lapdev_kube_manager::source::SourceReader;
use support::{Conn, Fixture, KubeManager, welcome};

const NAMESPACES: usize = 200;
const DEPLOYMENTS: usize = 20;
const STATEFULSETS: usize = 3;
const DAEMONSETS: usize = 2;

fn workload(kind: &str, ns: &str, name: &str, replicas: u32) -> serde_json::Value {
    let labels =
        json!({"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": ns, "tier": "backend"});
    let container = |c: &str, image: String| {
        json!({
            "name": c, "image": image,
            "ports": [{"containerPort": 8080, "name": "http"}],
            "env": [
                {"name": "LOG_LEVEL", "valueFrom": {"configMapKeyRef": {"name": "config", "key": "LOG_LEVEL"}}},
                {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
            ],
            "envFrom": [{"configMapRef": {"name": "config"}, "prefix": "APP_"}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        })
    };
    let mut spec = json!({
        "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
        "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [
                container(name, format!("registry.example.com/{ns}/{name}:1.0.{replicas}")),
                container("proxy", "envoyproxy/envoy:v1.30.1".into()),
            ]},
        },
    });
    let status = match kind {
        "DaemonSet" => json!({"desiredNumberScheduled": 3, "numberReady": 3, "numberAvailable": 3}),
        _ => {
            spec["replicas"] = json!(replicas);
            json!({"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas})
        }
    };
    if kind == "StatefulSet" {
        spec["serviceName"] = json!(name);
    }
    json!({"apiVersion": "apps/v1", "kind": kind,
        "metadata": {"name": name, "namespace": ns, "labels": labels}, "spec": spec, "status": status})
}

/// One YAML stream per namespace (kube-sim's seed loader takes at most
/// 1,024 documents at once): 200 namespaces, each with 25 workloads, a
/// ConfigMap, a Secret and a Service.
fn seed() -> Vec<String> {
    let mut streams = Vec::new();
    for n in 0..NAMESPACES {
        let mut docs = Vec::new();
        let ns = format!("team-{n:03}");
        docs.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        docs.push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "config", "namespace": ns},
            "data": {"LOG_LEVEL": "info", "FEATURES": "a,b,c"}}));
        docs.push(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": ns},
            "stringData": {"password": "not-a-real-password"}}));
        docs.push(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "backend", "namespace": ns},
            "spec": {"selector": {"tier": "backend"}, "ports": [{"port": 80, "targetPort": 8080}]}}));
        for (kind, count) in [
            ("Deployment", DEPLOYMENTS),
            ("StatefulSet", STATEFULSETS),
            ("DaemonSet", DAEMONSETS),
        ] {
            for i in 0..count {
                let name = format!("{}-{i:02}", kind.to_lowercase());
                docs.push(workload(kind, &ns, &name, (i % 4) as u32));
            }
        }
        let docs: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
        streams.push(docs.join("\n---\n"));
    }
    streams
}

/// Sends one request and waits for its answer: (time, frame bytes, answer).
async fn round_trip(conn: &mut Conn, id: u64, request: Request) -> (Duration, usize, Response) {
    let start = Instant::now();
    conn.send(&ServerFrame::Request {
        id: RequestId(id),
        request,
    })
    .await;
    loop {
        let frame = conn.recv().await;
        if let ClientFrame::Response { id: got, result } = &frame
            && got.0 == id
        {
            let elapsed = start.elapsed();
            let bytes = encode_client_frame(&frame).unwrap().len();
            let response = result.clone().expect("the request succeeds");
            return (elapsed, bytes, response);
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

struct Measured {
    times: Vec<Duration>,
    bytes: usize,
    kube_requests: usize,
}

async fn measure(
    fx: &Fixture,
    conn: &mut Conn,
    next_id: &mut u64,
    runs: usize,
    request: impl Fn() -> Request,
    check: impl Fn(&Response),
) -> Measured {
    // Warm-up (connection pools, caches), not counted.
    *next_id += 1;
    round_trip(conn, *next_id, request()).await;
    let mut times = Vec::new();
    let mut bytes = 0;
    let mut kube_requests = 0;
    for _ in 0..runs {
        fx.sim.requests().clear();
        *next_id += 1;
        let (t, b, response) = round_trip(conn, *next_id, request()).await;
        check(&response);
        times.push(t);
        bytes = b;
        kube_requests = fx.sim.requests().all().len();
        assert!(
            fx.sim.requests().writes().is_empty(),
            "catalog requests never write"
        );
    }
    times.sort();
    Measured {
        times,
        bytes,
        kube_requests,
    }
}

fn report(what: &str, m: &Measured) {
    let median = m.times[m.times.len() / 2];
    println!(
        "| {what} | {} | {} | {} | {} | {} B ({:.2} MiB) | {} |",
        ms(median),
        ms(m.times[0]),
        ms(*m.times.last().unwrap()),
        m.times.len(),
        m.bytes,
        m.bytes as f64 / (1024.0 * 1024.0),
        m.kube_requests
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let runs: usize = std::env::var("LAPDEV_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let mut fx = Fixture::new().await;
    let seed = seed();
    let start = Instant::now();
    let mut created = 0;
    for (i, stream) in seed.iter().enumerate() {
        created += fx.sim.load_yaml(&format!("bench-{i}"), stream).unwrap();
    }
    println!(
        "seeded {created} objects ({} workloads in {NAMESPACES} namespaces) in {}",
        NAMESPACES * (DEPLOYMENTS + STATEFULSETS + DAEMONSETS),
        ms(start.elapsed())
    );
    let mut env = fx.env();
    env.push(("RUST_LOG", "warn".into()));
    let _km = KubeManager::spawn(&env);
    let mut conn = fx.server.next_conn().await;
    conn.handshake(welcome(30, 3600)).await;
    let mut id = 0;

    println!("\n| request | median | min | max | runs | response frame | Kubernetes requests |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let total = NAMESPACES * (DEPLOYMENTS + STATEFULSETS + DAEMONSETS);
    let all = measure(
        &fx,
        &mut conn,
        &mut id,
        runs,
        || Request::ListWorkloads(ListWorkloads::default()),
        |r| {
            let Response::Workloads(list) = r else {
                panic!("{r:?}")
            };
            assert_eq!(list.workloads.len(), total);
            assert!(!list.truncated);
        },
    )
    .await;
    report("ListWorkloads, all 5,000", &all);
    let one_ns = measure(
        &fx,
        &mut conn,
        &mut id,
        runs,
        || {
            Request::ListWorkloads(ListWorkloads {
                namespace: Some("team-042".into()),
                ..Default::default()
            })
        },
        |r| {
            let Response::Workloads(list) = r else {
                panic!("{r:?}")
            };
            assert_eq!(
                list.workloads.len(),
                DEPLOYMENTS + STATEFULSETS + DAEMONSETS
            );
        },
    )
    .await;
    report("ListWorkloads, one namespace (25)", &one_ns);
    let filtered = measure(
        &fx,
        &mut conn,
        &mut id,
        runs,
        || {
            Request::ListWorkloads(ListWorkloads {
                kinds: vec![WorkloadKind::StatefulSet],
                name_contains: Some("-01".into()),
                ..Default::default()
            })
        },
        |r| {
            let Response::Workloads(list) = r else {
                panic!("{r:?}")
            };
            assert_eq!(list.workloads.len(), NAMESPACES);
        },
    )
    .await;
    report("ListWorkloads, StatefulSets named *-01* (200)", &filtered);
    let snapshot = measure(
        &fx,
        &mut conn,
        &mut id,
        runs,
        || {
            let workloads = (0..DEPLOYMENTS)
                .map(|i| WorkloadRef {
                    namespace: "team-007".into(),
                    kind: WorkloadKind::Deployment,
                    name: format!("deployment-{i:02}"),
                })
                .collect();
            Request::SnapshotCatalog(SnapshotCatalog {
                workloads,
                secret_policy: SecretPolicy::default(),
            })
        },
        |r| {
            let Response::CatalogSnapshot(s) = r else {
                panic!("{r:?}")
            };
            // 20 Deployments, their ConfigMap, Secret and Service.
            assert_eq!(s.objects.len(), DEPLOYMENTS + 3, "{s:?}");
        },
    )
    .await;
    report(
        "SnapshotCatalog, 20 Deployments of one namespace",
        &snapshot,
    );

    // For comparison: the same listing without the tunnel, TLS or TCP
    // (kube-sim's in-process client): what the tunnel and the real
    // Kubernetes transport add.
    let reader = SourceReader::new(fx.sim.client());
    let mut times = Vec::new();
    for _ in 0..=runs {
        let start = Instant::now();
        let list = discovery::list_workloads(&reader, &ListWorkloads::default())
            .await
            .unwrap();
        times.push(start.elapsed());
        assert_eq!(list.workloads.len(), total);
    }
    times.remove(0);
    times.sort();
    report(
        "ListWorkloads, all 5,000, in-process kube client, no tunnel",
        &Measured {
            times,
            bytes: 0,
            kube_requests: 11,
        },
    );
}
