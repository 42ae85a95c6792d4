//! Reconnecting: after the server closes, when the server is gone, and the
//! longer backoff when the server refuses the token or the protocol version.
//! Delays are read from kube-manager's log lines (what it decided), never
//! measured.

use lapdev_tunnel_proto::{
    ClientFrame, Refused, RefusedCode, ServerFrame, VersionRange, close_code,
};

use crate::support::{Fixture, TOKEN, TestServer, welcome};

const BASE_MS: u64 = 50;
const MAX_MS: u64 = 400;
const AUTH_FACTOR: u64 = 30;
const REFUSED: &str = "the server refused the cluster token (revoked or rotated?)";

#[tokio::test(flavor = "multi_thread")]
async fn reconnects_after_the_server_closes_the_socket() {
    let mut fx = Fixture::new().await;
    let mut km = fx.spawn();
    for round in 0..3 {
        let mut conn = fx.server.next_conn().await;
        conn.handshake(welcome(30, 3600)).await;
        conn.recv_until(|f| matches!(f, ClientFrame::Status(_)).then_some(()))
            .await;
        if round == 1 {
            drop(conn); // the TCP connection just goes away
        } else {
            conn.close(1000, "bye").await;
        }
        let delay = km.next_reconnect_delay().await;
        assert!((BASE_MS..=MAX_MS).contains(&delay), "{delay}");
    }
    let mut conn = fx.server.next_conn().await;
    conn.handshake(welcome(30, 3600)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_is_logged_clearly_and_retried_slowly() {
    let mut fx = Fixture::with_server_token("some-other-token").await;
    let mut km = fx.spawn();
    let first = fx.server.next_rejection().await;
    assert_eq!(
        first.authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    km.wait_log(REFUSED).await;
    let delay = km.next_reconnect_delay().await;
    assert!(
        (BASE_MS * AUTH_FACTOR..=MAX_MS * AUTH_FACTOR).contains(&delay),
        "auth failures back off longer: {delay}"
    );
    // It does retry, and by the time of the second attempt it has not
    // retried in a loop.
    fx.server.next_rejection().await;
    assert_eq!(
        fx.server.rejections_so_far(),
        0,
        "more than one retry after one delay"
    );
    let delay2 = km.next_reconnect_delay().await;
    assert!(
        (BASE_MS * AUTH_FACTOR..=MAX_MS * AUTH_FACTOR).contains(&delay2),
        "{delay2}"
    );
    let log = km.log.join("\n");
    assert!(!log.contains(TOKEN), "the token leaked into the log");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_token_closes_the_session_and_backs_off_like_a_refusal() {
    let mut fx = Fixture::new().await;
    let mut km = fx.spawn();
    let mut conn = fx.server.next_conn().await;
    conn.handshake(welcome(30, 3600)).await;
    conn.close(close_code::TOKEN_REVOKED, "token revoked").await;
    km.wait_log(REFUSED).await;
    let delay = km.next_reconnect_delay().await;
    assert!(delay >= BASE_MS * AUTH_FACTOR, "{delay}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unsupported_version_is_logged_and_retried_slowly() {
    let mut fx = Fixture::new().await;
    let mut km = fx.spawn();
    let mut conn = fx.server.next_conn().await;
    let ClientFrame::Hello(_) = conn.recv().await else {
        panic!("hello first")
    };
    conn.send(&ServerFrame::Refused(Refused {
        code: RefusedCode::UnsupportedVersion,
        message: "this server speaks [2, 2]: upgrade lapdev-kube-manager".into(),
        server_supported: Some(VersionRange { min: 2, max: 2 }),
    }))
    .await;
    let line = km.wait_log("the server refused this kube-manager").await;
    assert!(line.contains("upgrade lapdev-kube-manager"), "{line}");
    let delay = km.next_reconnect_delay().await;
    assert!(delay >= BASE_MS * AUTH_FACTOR, "{delay}");
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_with_capped_backoff_while_the_server_is_gone_then_reconnects() {
    let mut fx = Fixture::new().await;
    let ca = TestServer::tls();
    // Start on a server with a known CA, then take it away.
    let server = TestServer::start_on("127.0.0.1:0".parse().unwrap(), TOKEN, ca.clone()).await;
    std::fs::write(fx.dir.path().join("ca.pem"), &server.ca_pem).unwrap();
    let addr = server.stop();
    let mut env = fx.env();
    env.retain(|(k, _)| *k != "LAPDEV_SERVER_URL");
    env.push(("LAPDEV_SERVER_URL", format!("https://{addr}")));
    let mut km = crate::support::KubeManager::spawn(&env);
    let mut delays = Vec::new();
    for _ in 0..6 {
        km.wait_log("the tunnel is down").await;
        delays.push(km.next_reconnect_delay().await);
    }
    assert!(
        delays.iter().all(|d| (BASE_MS..=MAX_MS).contains(d)),
        "{delays:?}"
    );
    fx.server = TestServer::restart(addr, TOKEN, ca).await;
    let mut conn = fx.server.next_conn().await;
    conn.handshake(welcome(30, 3600)).await;
    km.wait_log("connected to the Lapdev server").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_token_file_is_picked_up_without_a_restart() {
    let mut fx = Fixture::with_server_token("rotated-token").await;
    let mut km = fx.spawn();
    fx.server.next_rejection().await;
    km.wait_log(REFUSED).await;
    // The Secret is updated in place, as the kubelet does.
    std::fs::write(fx.dir.path().join("token"), "rotated-token\n").unwrap();
    let mut conn = fx.server.next_conn().await;
    assert_eq!(
        conn.upgrade.authorization.as_deref(),
        Some("Bearer rotated-token")
    );
    conn.handshake(welcome(30, 3600)).await;
    km.wait_log("connected to the Lapdev server").await;
}
