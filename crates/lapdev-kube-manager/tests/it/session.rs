//! Connecting, the handshake, status reports, heartbeats, shutdown, and
//! that none of it writes to the Kubernetes API or leaks the token.

use lapdev_tunnel_proto::{ClientFrame, ClusterStatus, TUNNEL_PATH, VersionRange};

use crate::support::{Fixture, KubeManager, TOKEN, welcome};

pub(crate) fn expected_status() -> ClusterStatus {
    ClusterStatus {
        kube_manager_version: env!("CARGO_PKG_VERSION").into(),
        kubernetes_version: "v1.33.0-kube-sim".into(),
        node_count: 3,
        ready_node_count: 2,
        allocatable_cpu_millis: 3500 + 4000 + 250,
        allocatable_memory_bytes: 8 * 1024 * 1024 * 1024 + 16_417_848 * 1024 + 1_000_000_000,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn connects_reports_status_and_sends_heartbeats_without_writing() {
    let mut fx = Fixture::new().await;
    let km = fx.spawn();
    let mut conn = fx.server.next_conn().await;
    assert_eq!(conn.upgrade.path, TUNNEL_PATH);
    assert_eq!(
        conn.upgrade.query, None,
        "nothing (least of all the token) in the URL"
    );
    assert_eq!(
        conn.upgrade.authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let agent = conn.upgrade.user_agent.clone().unwrap();
    assert!(agent.starts_with("lapdev-kube-manager/"), "{agent}");

    let hello = conn.handshake(welcome(1, 3600)).await;
    assert_eq!(hello.supported, VersionRange::CURRENT);
    assert_eq!(hello.kube_manager_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(hello.max_concurrent_requests, 32);

    let status = conn
        .recv_until(|f| match f {
            ClientFrame::Status(s) => Some(s),
            _ => None,
        })
        .await;
    assert_eq!(status, expected_status());

    let mut seqs = Vec::new();
    while seqs.len() < 3 {
        if let ClientFrame::Heartbeat(h) = conn.recv().await {
            assert!(h.sent_at_unix_ms > 1_700_000_000_000);
            seqs.push(h.seq);
        }
    }
    assert_eq!(seqs, [1, 2, 3]);

    let (exit, log) = km.terminate().await;
    assert!(exit.success(), "{exit:?}");
    let writes = fx.sim.requests().writes();
    assert!(
        writes.is_empty(),
        "kube-manager wrote while connecting and idling: {writes:#?}"
    );
    let reads = fx.sim.requests().all();
    assert!(reads.iter().any(|r| r.path == "/version"), "{reads:#?}");
    assert!(
        reads
            .iter()
            .any(|r| r.resource.as_deref() == Some("nodes") && r.verb == "list")
    );
    let text = log.join("\n");
    assert!(!text.contains(TOKEN), "the token leaked into the log");
    assert!(text.contains("connected to the Lapdev server"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn status_is_pushed_again_while_connected() {
    let mut fx = Fixture::new().await;
    let _km = fx.spawn();
    let mut conn = fx.server.next_conn().await;
    conn.handshake(welcome(30, 1)).await;
    for _ in 0..2 {
        let s = conn
            .recv_until(|f| match f {
                ClientFrame::Status(s) => Some(s),
                _ => None,
            })
            .await;
        assert_eq!(s, expected_status());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_closes_the_tunnel_and_exits_cleanly() {
    let mut fx = Fixture::new().await;
    let km = fx.spawn();
    let mut conn = fx.server.next_conn().await;
    conn.handshake(welcome(30, 3600)).await;
    conn.recv_until(|f| matches!(f, ClientFrame::Status(_)).then_some(()))
        .await;
    let (exit, log) = km.terminate().await;
    assert!(exit.success(), "{exit:?}");
    let close = conn.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1001);
    assert!(log.iter().any(|l| l.contains("shutting down")), "{log:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_config_exits_with_a_clear_message() {
    let fx = Fixture::new().await;
    let mut env = fx.env();
    env.retain(|(k, _)| *k != "LAPDEV_CLUSTER_TOKEN_FILE");
    let (exit, log) = KubeManager::spawn(&env).exit().await;
    assert_eq!(exit.code(), Some(2));
    assert!(
        log.join("\n")
            .contains("no cluster token: set LAPDEV_CLUSTER_TOKEN_FILE"),
        "{log:#?}"
    );

    let mut env = fx.env();
    env.retain(|(k, _)| *k != "LAPDEV_SERVER_URL");
    env.push(("LAPDEV_SERVER_URL", "http://127.0.0.1:1".into()));
    let (exit, log) = KubeManager::spawn(&env).exit().await;
    assert_eq!(exit.code(), Some(2));
    assert!(log.join("\n").contains("the tunnel needs TLS"), "{log:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_server_is_detected_by_heartbeats_and_the_tunnel_reconnects() {
    let mut fx = Fixture::new().await;
    let mut km = fx.spawn();
    let mut conn = fx.server.next_conn().await;
    conn.auto_ack = false;
    conn.handshake(welcome(1, 3600)).await;
    // The server says nothing more: after 3 intervals kube-manager gives up on it.
    km.wait_log("no frame from the server").await;
    let mut again = fx.server.next_conn().await;
    again.handshake(welcome(30, 3600)).await;
    drop(conn);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_are_one_object_per_line() {
    let mut fx = Fixture::new().await;
    let mut env = fx.env();
    env.push(("LAPDEV_LOG_FORMAT", "json".into()));
    let mut km = KubeManager::spawn(&env);
    let mut conn = fx.server.next_conn().await;
    conn.handshake(welcome(30, 3600)).await;
    km.wait_log("connected to the Lapdev server").await;
    let (exit, log) = km.terminate().await;
    assert!(exit.success());
    for line in &log {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            v["level"].is_string() && v["fields"]["message"].is_string(),
            "{line}"
        );
    }
    assert!(!log.join("\n").contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untrusted_server_certificate_is_named_and_retried() {
    let fx = Fixture::new().await;
    let mut env = fx.env();
    env.retain(|(k, _)| *k != "LAPDEV_SERVER_CA_FILE");
    let mut km = KubeManager::spawn(&env);
    let line = km.wait_log("the tunnel is down").await;
    assert!(
        line.contains("TLS certificate is not trusted") && line.contains("LAPDEV_SERVER_CA_FILE"),
        "{line}"
    );
    km.next_reconnect_delay().await;
}
