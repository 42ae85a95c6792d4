//! Connecting: Pending → Active with the facts kube-sim's seed gives, no
//! write calls to Kubernetes while connecting and idling, two clusters at once.

use lapdev_api::ClusterStatus;
use lapdev_e2e::kube_manager::CONNECTED;

use crate::World;

/// kube-sim's sample seed: node-a (3800m, 15241236Ki) and node-b (7800m, 31634472Ki).
const SEED_NODES: u32 = 2;
const SEED_CPU_MILLIS: u64 = 3_800 + 7_800;
const SEED_MEMORY_BYTES: u64 = (15_241_236 + 31_634_472) * 1024;
const SEED_KUBERNETES_VERSION: &str = "v1.33.0-kube-sim";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connects_active_with_the_cluster_facts_and_writes_nothing() {
    let w = World::start().await;
    let c = w.connect("prod", None).await;
    assert_eq!(c.creds.cluster.status, ClusterStatus::Pending);

    c.km.proc().log.wait_for_text(0, CONNECTED).await;
    let cluster = w
        .api
        .wait_for_status("prod", ClusterStatus::Active, |c| c.node_count.is_some())
        .await;
    assert_eq!(cluster.node_count, Some(SEED_NODES));
    assert_eq!(cluster.allocatable_cpu_millis, Some(SEED_CPU_MILLIS));
    assert_eq!(cluster.allocatable_memory_bytes, Some(SEED_MEMORY_BYTES));
    assert_eq!(
        cluster.kubernetes_version.as_deref(),
        Some(SEED_KUBERNETES_VERSION)
    );
    assert_eq!(
        cluster.kube_manager_version.as_deref(),
        Some(env!("CARGO_PKG_VERSION")),
        "the workspace version, which kube-manager shares"
    );

    // Idle: three more heartbeats (each moves last_seen_at) and a status report.
    let mut seen = cluster.last_seen_at;
    for _ in 0..3 {
        let c = w
            .api
            .wait_for_status("prod", ClusterStatus::Active, |c| c.last_seen_at > seen)
            .await;
        seen = c.last_seen_at;
    }

    let requests = c.sim.requests().await;
    assert!(
        requests.iter().any(|r| r.path == "/api/v1/nodes"),
        "kube-manager read the nodes: {requests:#?}"
    );
    let writes: Vec<_> = requests.iter().filter(|r| r.is_write()).collect();
    assert!(
        writes.is_empty(),
        "kube-manager wrote while connecting and idling: {writes:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clusters_at_once() {
    let w = World::start().await;
    let a = w.connect("east", None).await;
    let b = w.connect("west", None).await;
    a.km.proc().log.wait_for_text(0, CONNECTED).await;
    b.km.proc().log.wait_for_text(0, CONNECTED).await;
    let east = w
        .api
        .wait_for_status("east", ClusterStatus::Active, |c| c.node_count.is_some())
        .await;
    let west = w
        .api
        .wait_for_status("west", ClusterStatus::Active, |c| c.node_count.is_some())
        .await;
    assert_ne!(east.id, west.id);
    assert_eq!(east.node_count, Some(SEED_NODES));
    assert_eq!(west.node_count, Some(SEED_NODES));
    // Each kube-manager talks to its own kube-sim only.
    assert!(!a.sim.requests().await.is_empty());
    assert!(!b.sim.requests().await.is_empty());
    // Each session carries its own cluster's name.
    assert!(a.km.proc().log.count("cluster_name=east") > 0);
    assert!(b.km.proc().log.count("cluster_name=west") > 0);
}
