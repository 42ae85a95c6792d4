//! Losing the server or the connection: kube-manager retries with backoff
//! (seen in its log) and the cluster is Active again once the way is back;
//! a kube-manager that goes away leaves its cluster Offline.

use lapdev_api::ClusterStatus;
use lapdev_e2e::kube_manager::{
    CONNECTED, KubeManager, RECONNECT_MAX_MS, RECONNECTING, TUNNEL_DOWN, delay_ms,
};
use lapdev_e2e::proxy::TcpProxy;
use lapdev_e2e::server::parse_field;

use crate::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_then_back_on_the_same_port_and_data() {
    let mut w = World::start().await;
    let c = w.connect("prod", None).await;
    let log = c.km.proc().log.clone();
    let (at, _) = log.wait_for_text(0, CONNECTED).await;
    let before = w
        .api
        .wait_for_status("prod", ClusterStatus::Active, |c| c.node_count.is_some())
        .await;

    w.server.kill().await;
    let (mut from, _) = log.wait_for_text(at, TUNNEL_DOWN).await;
    // Retries with backoff: the failure count climbs, the delay stays bounded.
    for attempt in 1..=4u64 {
        let (i, line) = log.wait_for_text(from, RECONNECTING).await;
        let failures: u64 = parse_field(&line, "failures_in_a_row=")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no failure count in {line:?}"));
        assert_eq!(failures, attempt, "{line}");
        assert!(delay_ms(&line) <= RECONNECT_MAX_MS, "{line}");
        from = i + 1;
    }

    w.server.restart().await;
    log.wait_for_text(from, CONNECTED).await;
    let after = w
        .api
        .wait_for_status("prod", ClusterStatus::Active, |c| {
            c.last_seen_at > before.last_seen_at
        })
        .await;
    assert_eq!(after.id, before.id, "same data directory, same cluster");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_connection_reconnects() {
    let w = World::start().await;
    let proxy = TcpProxy::start(w.server.addr()).await;
    let via_proxy = format!("https://{}", proxy.addr());
    let c = w.connect("prod", Some(&via_proxy)).await;
    let log = c.km.proc().log.clone();
    let (at, _) = log.wait_for_text(0, CONNECTED).await;
    let before = w
        .api
        .wait_for_status("prod", ClusterStatus::Active, |c| c.node_count.is_some())
        .await;

    proxy.cut();
    let (down, _) = log.wait_for_text(at, TUNNEL_DOWN).await;
    log.wait_for_text(down, CONNECTED).await;
    w.api
        .wait_for_status("prod", ClusterStatus::Active, |c| {
            c.last_seen_at > before.last_seen_at
        })
        .await;
    // The server saw the first tunnel close and a second one open.
    let server_log = &w.server.proc().log;
    server_log.wait_for_text(0, "tunnel closed").await;
    assert!(server_log.count("tunnel connected") >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_kube_manager_leaves_the_cluster_offline_until_it_returns() {
    let w = World::start().await;
    let mut c = w.connect_active("prod").await;

    c.km.proc_mut().kill().await;
    w.api
        .wait_for_status("prod", ClusterStatus::Offline, |_| true)
        .await;

    let km = KubeManager::start("kube-manager again", &c.setup, &c.creds.token);
    km.proc().log.wait_for_text(0, CONNECTED).await;
    w.api
        .wait_for_status("prod", ClusterStatus::Active, |_| true)
        .await;
}
