//! The health endpoints of the real binary (`LAPDEV_HEALTH_LISTEN` on an
//! ephemeral port, read back from the "health listening addr=…" log line):
//! liveness holds while the tunnel is down, readiness follows the tunnel.
//! Every check happens after the log line of the event it depends on, so
//! nothing polls or sleeps.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{Fixture, KubeManager, TOKEN, TestServer, welcome, within};

/// `GET path` over a fresh connection → "status body".
async fn get(addr: SocketAddr, path: &str) -> String {
    within(&format!("GET {path}"), async {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: kube-manager\r\nUser-Agent: kube-probe/1.31\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        tcp.read_to_string(&mut response).await.unwrap();
        let status = response.split(' ').nth(1).unwrap_or("?").to_string();
        let body = response.split("\r\n\r\n").nth(1).unwrap_or("").trim_end();
        format!("{status} {body}")
    })
    .await
}

/// Sends `request` as is; the status code of the answer, or "" when the
/// connection ended without one.
async fn raw(addr: SocketAddr, request: &str) -> String {
    within("a raw request", async {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let _ = tcp.write_all(request.as_bytes()).await;
        let mut response = Vec::new();
        let _ = tcp.read_to_end(&mut response).await;
        let response = String::from_utf8_lossy(&response);
        response.split(' ').nth(1).unwrap_or("").to_string()
    })
    .await
}

async fn health_addr(km: &mut KubeManager) -> SocketAddr {
    let line = km.wait_log("health listening").await;
    let v = line.split("addr=").nth(1).expect("addr field");
    v.split_whitespace().next().unwrap().parse().unwrap()
}

const NOT_READY: &str = "503 not connected to the Lapdev server (retrying)";

#[tokio::test(flavor = "multi_thread")]
async fn liveness_ignores_the_tunnel_and_readiness_follows_it() {
    let mut fx = Fixture::new().await;
    let ca = TestServer::tls();
    // Start with the tunnel server gone.
    let server = TestServer::start_on("127.0.0.1:0".parse().unwrap(), TOKEN, ca.clone()).await;
    std::fs::write(fx.dir.path().join("ca.pem"), &server.ca_pem).unwrap();
    let tunnel = server.stop();
    let mut env = fx.env();
    env.retain(|(k, _)| *k != "LAPDEV_SERVER_URL");
    env.push(("LAPDEV_SERVER_URL", format!("https://{tunnel}")));
    env.push(("LAPDEV_HEALTH_LISTEN", "127.0.0.1:0".into()));
    let mut km = KubeManager::spawn(&env);
    let health = health_addr(&mut km).await;

    km.wait_log("the tunnel is down").await;
    assert_eq!(get(health, "/healthz").await, "200 ok");
    assert_eq!(get(health, "/readyz").await, NOT_READY);
    assert_eq!(get(health, "/").await, "404 not found");
    assert_eq!(get(health, "/metrics").await, "404 not found");

    // The server comes back: ready once welcomed.
    fx.server = TestServer::restart(tunnel, TOKEN, ca).await;
    let mut conn = fx.server.next_conn().await;
    conn.handshake(welcome(30, 3600)).await;
    km.wait_log("connected to the Lapdev server").await;
    assert_eq!(get(health, "/readyz").await, "200 ok");
    assert_eq!(get(health, "/healthz").await, "200 ok");

    // It closes: not ready, still alive.
    conn.close(1000, "bye").await;
    km.wait_log("the tunnel is down").await;
    assert_eq!(get(health, "/readyz").await, NOT_READY);
    assert_eq!(get(health, "/healthz").await, "200 ok");

    let (status, _) = km.terminate().await;
    assert!(status.success(), "{status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn not_ready_until_the_server_welcomes() {
    let mut fx = Fixture::new().await;
    let mut env = fx.env();
    env.push(("LAPDEV_HEALTH_LISTEN", "127.0.0.1:0".into()));
    let mut km = KubeManager::spawn(&env);
    let health = health_addr(&mut km).await;
    // Connected at the TCP and WebSocket level, but no welcome yet.
    let mut conn = fx.server.next_conn().await;
    assert_eq!(get(health, "/readyz").await, NOT_READY);
    conn.handshake(welcome(30, 3600)).await;
    km.wait_log("connected to the Lapdev server").await;
    assert_eq!(get(health, "/readyz").await, "200 ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_headers_are_refused_and_no_listener_without_the_setting() {
    let fx = Fixture::new().await;
    let mut env = fx.env();
    env.push(("LAPDEV_HEALTH_LISTEN", "127.0.0.1:0".into()));
    let mut km = KubeManager::spawn(&env);
    let health = health_addr(&mut km).await;
    // Too many headers: the request is read whole, then refused.
    let many: String = (0..40).map(|i| format!("X-H{i}: {i}\r\n")).collect();
    assert_eq!(
        raw(
            health,
            &format!("GET /healthz HTTP/1.1\r\nHost: k\r\n{many}\r\n")
        )
        .await,
        "431"
    );
    // Headers past the 8 KiB buffer: refused, or cut off (the server hangs
    // up with bytes unread, which may reset the socket before the answer).
    let filler = "x".repeat(16 * 1024);
    let huge = raw(
        health,
        &format!("GET /healthz HTTP/1.1\r\nHost: k\r\nX-Filler: {filler}\r\n\r\n"),
    )
    .await;
    assert!(matches!(huge.as_str(), "431" | ""), "{huge:?}");
    assert_eq!(get(health, "/healthz").await, "200 ok");

    // Without LAPDEV_HEALTH_LISTEN nothing is served.
    let mut plain = fx.spawn();
    plain.wait_log("connecting to the Lapdev server").await;
    let (_, log) = plain.terminate().await;
    assert!(
        !log.iter().any(|l| l.contains("health listening")),
        "{log:?}"
    );
}
