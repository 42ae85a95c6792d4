//! The tunnel endpoint over a real WebSocket on loopback, speaking the
//! protocol crate's frames as kube-manager does: authentication before the
//! upgrade, the handshake, status → Active with facts, heartbeats and the
//! Offline timeout, revocation, rotation, the newest connection winning,
//! concurrent requests matched by id, graceful shutdown, and native TLS.
//!
//! State changes are awaited (a close frame, or a bounded poll of the API);
//! nothing sleeps to synchronise and nothing asserts on timing.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use lapdev_domain::ClusterId;
use lapdev_server::ServerConfig;
use lapdev_tunnel_proto::{
    ClientFrame, ClusterStatus, Heartbeat, Hello, PROTOCOL_VERSION, RefusedCode, Request, Response,
    ServerFrame, TUNNEL_PATH, TunnelError, VersionRange, Welcome, close_code, decode_server_frame,
    encode_client_frame,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::{ADMIN_PASSWORD, TestServer};

/// A bound for waits that should end quickly; reaching it fails the test
/// instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(30);

async fn start_with(change: impl FnOnce(&mut ServerConfig)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::config(&dir);
    change(&mut config);
    let server = lapdev_server::start(config).await.expect("server starts");
    let mut t = TestServer {
        server,
        client: crate::client(),
        admin_token: String::new(),
        _dir: dir,
    };
    t.admin_token = t.login("admin", ADMIN_PASSWORD).await;
    t
}

/// Creates cluster `name`; returns its id and token.
async fn cluster(t: &TestServer, name: &str) -> (ClusterId, String) {
    let (s, b) = t
        .post(
            "/api/v1/orgs/default/clusters",
            &t.admin_token,
            json!({ "name": name }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    (
        b["cluster"]["id"].as_str().unwrap().parse().unwrap(),
        b["token"].as_str().unwrap().to_string(),
    )
}

async fn show(t: &TestServer, name: &str) -> Value {
    let (s, b) = t
        .get(
            &format!("/api/v1/orgs/default/clusters/{name}"),
            &t.admin_token,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b
}

/// Polls the API (bounded) until the cluster has `status`.
async fn wait_for_status(t: &TestServer, name: &str, status: &str) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let shown = show(t, name).await;
        if shown["status"] == status {
            return shown;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "cluster {name} never became {status}: {shown}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A kube-manager stand-in speaking the protocol.
pub(crate) struct Kube {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

#[derive(Debug, PartialEq)]
pub(crate) enum Event {
    Frame(ServerFrame),
    Closed(u16, String),
}

pub(crate) fn hello() -> Hello {
    Hello {
        supported: VersionRange::CURRENT,
        kube_manager_version: "0.1.0-test".into(),
        max_concurrent_requests: 8,
    }
}

fn ws_url(t: &TestServer) -> String {
    format!("{}{TUNNEL_PATH}", t.server.url().replacen("http", "ws", 1))
}

impl Kube {
    /// Opens the WebSocket; `Err(status)` when the server refuses the upgrade.
    async fn open(t: &TestServer, token: Option<&str>) -> Result<Kube, u16> {
        Self::open_with(&ws_url(t), token, None).await
    }

    async fn open_with(
        url: &str,
        token: Option<&str>,
        connector: Option<tokio_tungstenite::Connector>,
    ) -> Result<Kube, u16> {
        let mut request = url.into_client_request().unwrap();
        if let Some(token) = token {
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        match tokio_tungstenite::connect_async_tls_with_config(request, None, true, connector).await
        {
            Ok((ws, _)) => Ok(Kube { ws }),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(e) => panic!("cannot connect: {e}"),
        }
    }

    /// Connects and completes the handshake.
    pub(crate) async fn connect(t: &TestServer, token: &str) -> (Kube, Welcome) {
        let mut kube = Kube::open(t, Some(token)).await.expect("upgraded");
        let welcome = kube.handshake().await;
        (kube, welcome)
    }

    async fn handshake(&mut self) -> Welcome {
        self.send(&ClientFrame::Hello(hello())).await;
        match self.next().await {
            Event::Frame(ServerFrame::Welcome(w)) => w,
            other => panic!("expected a welcome, got {other:?}"),
        }
    }

    pub(crate) async fn send(&mut self, frame: &ClientFrame) {
        let text = encode_client_frame(frame).unwrap();
        self.ws.send(Message::text(text)).await.unwrap();
    }

    pub(crate) async fn next(&mut self) -> Event {
        loop {
            let msg = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("the server said something in time");
            match msg {
                Some(Ok(Message::Text(text))) => {
                    return Event::Frame(decode_server_frame(text.as_str()).unwrap());
                }
                Some(Ok(Message::Close(frame))) => {
                    return frame.map_or(Event::Closed(1005, String::new()), |f| {
                        Event::Closed(f.code.into(), f.reason.to_string())
                    });
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Event::Closed(1006, String::new()),
            }
        }
    }

    /// Reads until the server closes; returns the close code.
    async fn closed(&mut self) -> u16 {
        loop {
            if let Event::Closed(code, _) = self.next().await {
                return code;
            }
        }
    }
}

fn status_report() -> ClusterStatus {
    ClusterStatus {
        kube_manager_version: "0.1.0-test".into(),
        kubernetes_version: "v1.33.2".into(),
        node_count: 3,
        ready_node_count: 3,
        allocatable_cpu_millis: 11_500,
        allocatable_memory_bytes: 48 << 30,
    }
}

#[tokio::test]
async fn the_token_is_checked_before_the_upgrade() {
    let t = TestServer::start().await;
    let (_, token) = cluster(&t, "dev").await;
    assert_eq!(Kube::open(&t, None).await.err(), Some(401));
    assert_eq!(Kube::open(&t, Some("lpc_made-up")).await.err(), Some(401));
    assert_eq!(Kube::open(&t, Some(&t.admin_token)).await.err(), Some(401));
    // A valid token but no upgrade: refused, nothing served.
    let resp = t
        .client
        .get(t.url(TUNNEL_PATH))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(Kube::open(&t, Some(&token)).await.is_ok());
}

#[tokio::test]
async fn handshake_status_heartbeats_and_the_offline_timeout() {
    let t = start_with(|c| c.tunnel_heartbeat_secs = 1).await;
    let (id, token) = cluster(&t, "dev").await;
    assert_eq!(show(&t, "dev").await["status"], "pending");

    let (mut kube, welcome) = Kube::connect(&t, &token).await;
    assert_eq!(welcome.version, PROTOCOL_VERSION);
    assert_eq!(welcome.cluster_id, id.to_string());
    assert_eq!(welcome.cluster_name, "dev");
    assert_eq!(welcome.heartbeat_interval_secs, 1);

    kube.send(&ClientFrame::Status(status_report())).await;
    kube.send(&ClientFrame::Heartbeat(Heartbeat {
        seq: 1,
        sent_at_unix_ms: 0,
    }))
    .await;
    match kube.next().await {
        Event::Frame(ServerFrame::HeartbeatAck(ack)) => assert_eq!(ack.seq, 1),
        other => panic!("expected an ack, got {other:?}"),
    }
    // The status report was handled before the heartbeat (one reader, in order).
    let active = show(&t, "dev").await;
    assert_eq!(active["status"], "active", "{active}");
    assert_eq!(active["kubernetes_version"], "v1.33.2");
    assert_eq!(active["kube_manager_version"], "0.1.0-test");
    assert_eq!(active["node_count"], 3);
    assert_eq!(active["allocatable_cpu_millis"], 11_500);
    assert_eq!(active["allocatable_memory_bytes"], 48u64 << 30);
    assert!(active["last_seen_at"].is_string());

    // Silence: the server closes after 3 missed heartbeats, and the cluster
    // is Offline, keeping its facts and last-seen time.
    assert_eq!(kube.closed().await, close_code::HEARTBEAT_TIMEOUT);
    let offline = wait_for_status(&t, "dev", "offline").await;
    assert_eq!(offline["kubernetes_version"], "v1.33.2");
    assert!(offline["last_seen_at"].is_string());
}

#[tokio::test]
async fn an_incompatible_kube_manager_is_refused() {
    let t = TestServer::start().await;
    let (_, token) = cluster(&t, "dev").await;
    let mut kube = Kube::open(&t, Some(&token)).await.unwrap();
    let mut old = hello();
    old.supported = VersionRange {
        min: PROTOCOL_VERSION + 1,
        max: PROTOCOL_VERSION + 5,
    };
    kube.send(&ClientFrame::Hello(old)).await;
    match kube.next().await {
        Event::Frame(ServerFrame::Refused(r)) => {
            assert_eq!(r.code, RefusedCode::UnsupportedVersion);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(kube.closed().await, close_code::PROTOCOL_ERROR);
    assert_eq!(show(&t, "dev").await["status"], "pending");

    // Not a hello first: refused too.
    let mut kube = Kube::open(&t, Some(&token)).await.unwrap();
    kube.send(&ClientFrame::Heartbeat(Heartbeat {
        seq: 1,
        sent_at_unix_ms: 0,
    }))
    .await;
    assert!(matches!(
        kube.next().await,
        Event::Frame(ServerFrame::Refused(r)) if r.code == RefusedCode::InvalidHello
    ));
}

#[tokio::test]
async fn protocol_violations_end_the_session() {
    let t = TestServer::start().await;
    let (_, token) = cluster(&t, "dev").await;

    let (mut kube, _) = Kube::connect(&t, &token).await;
    kube.ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(kube.closed().await, close_code::PROTOCOL_ERROR);

    let (mut kube, _) = Kube::connect(&t, &token).await;
    kube.send(&ClientFrame::Hello(hello())).await;
    assert_eq!(
        kube.closed().await,
        close_code::PROTOCOL_ERROR,
        "a second hello"
    );

    // Over the frame limit: the session ends (the WebSocket layer refuses it).
    let (mut kube, _) = Kube::connect(&t, &token).await;
    let huge = "x".repeat(lapdev_tunnel_proto::MAX_FRAME_BYTES + 1);
    let _ = kube.ws.send(Message::text(huge)).await;
    let code = kube.closed().await;
    assert_ne!(code, 1000, "not a normal close");
    wait_for_status(&t, "dev", "offline").await;
}

#[tokio::test]
async fn revoking_the_token_closes_the_live_tunnel() {
    let t = TestServer::start().await;
    let (_, token) = cluster(&t, "dev").await;
    let (mut kube, _) = Kube::connect(&t, &token).await;
    wait_for_status(&t, "dev", "active").await;
    let (s, _) = t
        .call(
            Method::DELETE,
            "/api/v1/orgs/default/clusters/dev/token",
            Some(&t.admin_token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(kube.closed().await, close_code::TOKEN_REVOKED);
    wait_for_status(&t, "dev", "offline").await;
    assert_eq!(Kube::open(&t, Some(&token)).await.err(), Some(401));
}

#[tokio::test]
async fn deleting_the_cluster_closes_the_live_tunnel() {
    let t = TestServer::start().await;
    let (_, token) = cluster(&t, "dev").await;
    let (mut kube, _) = Kube::connect(&t, &token).await;
    let (s, _) = t
        .call(
            Method::DELETE,
            "/api/v1/orgs/default/clusters/dev",
            Some(&t.admin_token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(kube.closed().await, close_code::TOKEN_REVOKED);
}

#[tokio::test]
async fn rotation_keeps_the_old_token_until_the_new_one_connects() {
    let t = TestServer::start().await;
    let (_, old) = cluster(&t, "dev").await;
    let (mut first, _) = Kube::connect(&t, &old).await;
    let (s, rotated) = t
        .call(
            Method::POST,
            "/api/v1/orgs/default/clusters/dev/token",
            Some(&t.admin_token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let new = rotated["token"].as_str().unwrap().to_string();

    // During the grace period the old token still connects (and, being the
    // newest connection, replaces the first one).
    let (mut second, _) = Kube::connect(&t, &old).await;
    assert_eq!(first.closed().await, close_code::REPLACED);

    // The new token connects, replaces the old session and ends the grace.
    let (_third, welcome) = Kube::connect(&t, &new).await;
    assert_eq!(welcome.cluster_name, "dev");
    assert_eq!(second.closed().await, close_code::REPLACED);
    assert_eq!(Kube::open(&t, Some(&old)).await.err(), Some(401));
    wait_for_status(&t, "dev", "active").await;
}

#[tokio::test]
async fn a_second_connection_replaces_the_first() {
    let t = TestServer::start().await;
    let (_, token) = cluster(&t, "dev").await;
    let (mut first, _) = Kube::connect(&t, &token).await;
    let (mut second, _) = Kube::connect(&t, &token).await;
    match first.next().await {
        Event::Closed(code, reason) => {
            assert_eq!(code, close_code::REPLACED);
            assert!(reason.contains("another kube-manager"), "{reason}");
        }
        other => panic!("expected a close, got {other:?}"),
    }
    // The second one is live: it gets heartbeat acks.
    second
        .send(&ClientFrame::Heartbeat(Heartbeat {
            seq: 7,
            sent_at_unix_ms: 0,
        }))
        .await;
    assert!(matches!(
        second.next().await,
        Event::Frame(ServerFrame::HeartbeatAck(a)) if a.seq == 7
    ));
    assert_eq!(show(&t, "dev").await["status"], "active");
}

#[tokio::test]
async fn concurrent_requests_are_matched_by_id() {
    let t = TestServer::start().await;
    let (id, token) = cluster(&t, "dev").await;
    let tunnels = t.server.state().tunnels().clone();
    assert_eq!(
        tunnels
            .send_request(id, Request::Ping, PATIENCE)
            .await
            .unwrap_err(),
        lapdev_server::tunnel::RequestError::NotConnected
    );
    let (mut kube, _) = Kube::connect(&t, &token).await;

    const N: usize = 6;
    // kube-manager: collect all N requests, answer them in reverse order.
    let answering = tokio::spawn(async move {
        let mut asked = vec![];
        while asked.len() < N {
            if let Event::Frame(ServerFrame::Request { id, request }) = kube.next().await {
                asked.push((id, request));
            }
        }
        let mut ids: Vec<_> = asked.iter().map(|(id, _)| *id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), N, "every request has its own id");
        for (id, request) in asked.into_iter().rev() {
            let result = match request {
                Request::Ping => Ok(Response::Pong),
                Request::DeleteNamespace { namespace } => Err(TunnelError::forbidden(format!(
                    "{namespace} is not managed"
                ))),
                Request::GetClusterStatus => Ok(Response::ClusterStatus(status_report())),
                #[allow(unreachable_patterns, reason = "request kinds the protocol adds later")]
                other => Err(TunnelError::new(
                    lapdev_tunnel_proto::ErrorCode::Unsupported,
                    format!("not asked in this test: {other:?}"),
                )),
            };
            kube.send(&ClientFrame::Response { id, result }).await;
        }
        kube
    });
    let requests: Vec<_> = (0..N)
        .map(|i| match i % 3 {
            0 => Request::Ping,
            1 => Request::GetClusterStatus,
            _ => Request::DeleteNamespace {
                namespace: format!("kube-system-{i}"),
            },
        })
        .collect();
    let results = futures::future::join_all(
        requests
            .iter()
            .map(|r| tunnels.send_request(id, r.clone(), PATIENCE)),
    )
    .await;
    let _kube = answering.await.unwrap();
    for (i, (request, result)) in requests.iter().zip(results).enumerate() {
        match (request, result) {
            (Request::Ping, Ok(Response::Pong)) => {}
            (Request::GetClusterStatus, Ok(Response::ClusterStatus(s))) => {
                assert_eq!(s.node_count, 3)
            }
            (
                Request::DeleteNamespace { .. },
                Err(lapdev_server::tunnel::RequestError::Tunnel(e)),
            ) => assert_eq!(e.message, format!("kube-system-{i} is not managed")),
            (request, result) => panic!("{request:?} got {result:?}"),
        }
    }
}

#[tokio::test]
async fn shutdown_closes_tunnels_gracefully() {
    let t = TestServer::start().await;
    let (_, token) = cluster(&t, "dev").await;
    let (mut kube, _) = Kube::connect(&t, &token).await;
    let TestServer { server, _dir, .. } = t;
    let stopping = tokio::spawn(server.shutdown());
    assert_eq!(kube.closed().await, 1001, "going away");
    tokio::time::timeout(PATIENCE, stopping)
        .await
        .expect("shutdown finishes")
        .unwrap();
}

#[tokio::test]
async fn kube_manager_connects_over_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert_file = dir.path().join("cert.pem");
    let key_file = dir.path().join("key.pem");
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).unwrap();
    let mut config = crate::config(&dir);
    config.tls_cert = Some(cert_file.clone());
    config.tls_key = Some(key_file.clone());
    let server = lapdev_server::start(config).await.expect("server starts");
    let url = server.url();
    assert!(url.starts_with("https://"), "{url}");

    // A client that trusts only this certificate, reaching it as localhost.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let tls = Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    let port = server.local_addr().port();
    let https = reqwest::Client::builder()
        .tls_backend_preconfigured((*tls).clone())
        .resolve("localhost", server.local_addr())
        .build()
        .unwrap();
    let resp = https
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let login = https
        .post(format!("https://localhost:{port}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let admin: Value = login.json().await.unwrap();
    let admin = admin["token"].as_str().unwrap();
    let created: Value = https
        .post(format!(
            "https://localhost:{port}/api/v1/orgs/default/clusters"
        ))
        .bearer_auth(admin)
        .json(&json!({"name": "tls"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap();
    assert!(
        created["install_command"]
            .as_str()
            .unwrap()
            .starts_with(&format!("kubectl apply -f 'https://localhost:{port}/")),
        "{created}"
    );

    let manifest = https
        .get(format!(
            "https://localhost:{port}/install/kube-manager.yaml?token={token}"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(manifest.contains(&format!("value: \"https://localhost:{port}\"")));
    assert!(
        !manifest.contains("WARNING"),
        "HTTPS: nothing to warn about"
    );

    let url = format!("wss://localhost:{port}{TUNNEL_PATH}");
    let mut kube = Kube::open_with(
        &url,
        Some(token),
        Some(tokio_tungstenite::Connector::Rustls(tls)),
    )
    .await
    .expect("a TLS WebSocket");
    let welcome = kube.handshake().await;
    assert_eq!(welcome.cluster_name, "tls");
    server.shutdown().await;
}
