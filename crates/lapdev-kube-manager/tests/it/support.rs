//! Test fixtures: a TLS tunnel server written here (tokio-tungstenite over
//! tokio-rustls, a fresh rcgen CA), kube-sim served on 127.0.0.1 with a
//! kubeconfig, and the real `lapdev-kube-manager` binary as a child process
//! whose log lines the tests read.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use lapdev_tunnel_proto::{
    ClientFrame, HeartbeatAck, Hello, MAX_FRAME_BYTES, SecretAction, SecretPolicy, SecretRule,
    ServerFrame, Welcome, decode_client_frame, encode_server_frame,
};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use tokio::io::AsyncBufReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{
    self,
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};

/// Every wait in these tests is for an event; this only turns a hang into a
/// failure with a message.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

pub(crate) async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, f)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// A CA (PEM) and a TLS acceptor for `127.0.0.1`/`localhost` signed by it.
fn tls() -> (String, TlsAcceptor) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "test tunnel CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    let chain = vec![
        CertificateDer::from(leaf.der().to_vec()),
        CertificateDer::from(ca_cert.der().to_vec()),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    (ca_cert.pem(), TlsAcceptor::from(Arc::new(config)))
}

/// What the test server saw on an upgrade request.
#[derive(Debug, Clone)]
pub(crate) struct Upgrade {
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) authorization: Option<String>,
    pub(crate) user_agent: Option<String>,
}

/// The tunnel endpoint side of the protocol, driven step by step by a test.
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    pub(crate) ca_pem: String,
    conns: mpsc::UnboundedReceiver<Conn>,
    rejections: mpsc::UnboundedReceiver<Upgrade>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl TestServer {
    /// Serves on a fresh port; upgrades only requests bearing `token`.
    pub(crate) async fn start(token: &str) -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap(), token, tls()).await
    }

    /// A server again on `addr` (after [`TestServer::stop`]) with the same CA.
    pub(crate) async fn restart(addr: SocketAddr, token: &str, ca: (String, TlsAcceptor)) -> Self {
        Self::start_on(addr, token, ca).await
    }

    pub(crate) fn tls() -> (String, TlsAcceptor) {
        tls()
    }

    pub(crate) async fn start_on(
        addr: SocketAddr,
        token: &str,
        (ca_pem, acceptor): (String, TlsAcceptor),
    ) -> Self {
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (conn_tx, conns) = mpsc::unbounded_channel();
        let (reject_tx, rejections) = mpsc::unbounded_channel();
        let expected = format!("Bearer {token}");
        let accept = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let conn_tx = conn_tx.clone();
                let reject_tx = reject_tx.clone();
                let expected = expected.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let seen = Arc::new(Mutex::new(None::<Upgrade>));
                    let seen2 = seen.clone();
                    #[allow(
                        clippy::result_large_err,
                        reason = "tungstenite fixes the callback's error type"
                    )]
                    let callback = move |req: &Request,
                                         resp: Response|
                          -> Result<Response, ErrorResponse> {
                        let header = |n: &str| {
                            req.headers()
                                .get(n)
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_string)
                        };
                        let up = Upgrade {
                            path: req.uri().path().to_string(),
                            query: req.uri().query().map(str::to_string),
                            authorization: header("authorization"),
                            user_agent: header("user-agent"),
                        };
                        let ok = up.authorization.as_deref() == Some(expected.as_str());
                        *seen2.lock().unwrap() = Some(up);
                        if ok {
                            Ok(resp)
                        } else {
                            let mut r = ErrorResponse::new(Some("invalid cluster token".into()));
                            *r.status_mut() = http::StatusCode::UNAUTHORIZED;
                            Err(r)
                        }
                    };
                    let config = WebSocketConfig::default()
                        .max_message_size(Some(MAX_FRAME_BYTES))
                        .max_frame_size(Some(MAX_FRAME_BYTES));
                    let result = tokio_tungstenite::accept_hdr_async_with_config(
                        tls,
                        callback,
                        Some(config),
                    )
                    .await;
                    let upgrade = seen.lock().unwrap().take();
                    match (result, upgrade) {
                        (Ok(ws), Some(upgrade)) => {
                            let _ = conn_tx.send(Conn {
                                ws,
                                upgrade,
                                auto_ack: true,
                            });
                        }
                        (Err(_), Some(upgrade)) => {
                            let _ = reject_tx.send(upgrade);
                        }
                        _ => {}
                    }
                });
            }
        });
        TestServer {
            addr,
            ca_pem,
            conns,
            rejections,
            accept,
        }
    }

    /// Stops accepting (the port is closed).
    pub(crate) fn stop(self) -> SocketAddr {
        self.addr
    }

    pub(crate) async fn next_conn(&mut self) -> Conn {
        within("a tunnel connection", self.conns.recv())
            .await
            .expect("accept loop alive")
    }

    pub(crate) async fn next_rejection(&mut self) -> Upgrade {
        within("a rejected upgrade", self.rejections.recv())
            .await
            .expect("accept loop alive")
    }

    /// Rejections seen so far without waiting.
    pub(crate) fn rejections_so_far(&mut self) -> usize {
        let mut n = 0;
        while self.rejections.try_recv().is_ok() {
            n += 1;
        }
        n
    }
}

/// One upgraded tunnel connection.
pub(crate) struct Conn {
    ws: WebSocketStream<tokio_rustls::server::TlsStream<TcpStream>>,
    pub(crate) upgrade: Upgrade,
    /// Answer heartbeats with acks while receiving (on by default).
    pub(crate) auto_ack: bool,
}

pub(crate) fn welcome(heartbeat_interval_secs: u32, status_interval_secs: u32) -> Welcome {
    Welcome {
        version: 1,
        cluster_id: "cluster-1".into(),
        cluster_name: "dev".into(),
        heartbeat_interval_secs,
        status_interval_secs,
    }
}

impl Conn {
    pub(crate) async fn send(&mut self, frame: &ServerFrame) {
        self.send_text(&encode_server_frame(frame).unwrap()).await;
    }

    pub(crate) async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::Text(text.into())).await.unwrap();
    }

    /// Sends without caring whether the peer hangs up halfway.
    pub(crate) async fn send_text_unchecked(&mut self, text: &str) {
        let _ = self.ws.send(Message::Text(text.into())).await;
    }

    /// The next frame (heartbeats included), or `None` when the socket closed.
    pub(crate) async fn try_recv(&mut self) -> Result<ClientFrame, Option<CloseFrame>> {
        loop {
            let msg = within("a frame from kube-manager", self.ws.next()).await;
            match msg {
                Some(Ok(Message::Text(t))) => {
                    let frame = decode_client_frame(&t).unwrap();
                    if let (true, ClientFrame::Heartbeat(h)) = (self.auto_ack, &frame) {
                        let seq = h.seq;
                        self.send(&ServerFrame::HeartbeatAck(HeartbeatAck { seq }))
                            .await;
                    }
                    return Ok(frame);
                }
                Some(Ok(Message::Close(f))) => return Err(f),
                Some(Ok(Message::Binary(_))) => panic!("kube-manager sent a binary message"),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(None),
            }
        }
    }

    pub(crate) async fn recv(&mut self) -> ClientFrame {
        match self.try_recv().await {
            Ok(f) => f,
            Err(close) => panic!("the tunnel closed: {close:?}"),
        }
    }

    /// Receives until `pick` returns something, dropping other frames.
    pub(crate) async fn recv_until<T>(
        &mut self,
        mut pick: impl FnMut(ClientFrame) -> Option<T>,
    ) -> T {
        loop {
            if let Some(t) = pick(self.recv().await) {
                return t;
            }
        }
    }

    /// Reads the Hello and answers `welcome`.
    pub(crate) async fn handshake(&mut self, welcome: Welcome) -> Hello {
        let ClientFrame::Hello(hello) = self.recv().await else {
            panic!("the first frame must be hello")
        };
        self.send(&ServerFrame::Welcome(welcome)).await;
        hello
    }

    /// Waits for the socket to close; returns the close frame if one came.
    pub(crate) async fn closed(&mut self) -> Option<CloseFrame> {
        loop {
            if let Err(close) = self.try_recv().await {
                return close;
            }
        }
    }

    pub(crate) async fn close(mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        let _ = self.ws.close(Some(frame)).await;
    }
}

/// The real binary, with its stderr read line by line.
pub(crate) struct KubeManager {
    child: tokio::process::Child,
    lines: mpsc::UnboundedReceiver<String>,
    /// Every line read so far.
    pub(crate) log: Vec<String>,
}

impl KubeManager {
    pub(crate) fn spawn(env: &[(&str, String)]) -> Self {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_lapdev-kube-manager"));
        for (k, _) in std::env::vars() {
            if k.starts_with("LAPDEV_") || k == "KUBECONFIG" || k == "RUST_LOG" {
                cmd.env_remove(k);
            }
        }
        cmd.env("RUST_LOG", "info,lapdev_kube_manager=debug");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                eprintln!("kube-manager| {line}");
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        KubeManager {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// The next log line containing `needle`.
    pub(crate) async fn wait_log(&mut self, needle: &str) -> String {
        within(&format!("a log line with {needle:?}"), async {
            loop {
                let line = self.lines.recv().await.expect("kube-manager exited");
                self.log.push(line.clone());
                if line.contains(needle) {
                    return line;
                }
            }
        })
        .await
    }

    /// The `delay_ms` of the next "reconnecting" log line.
    pub(crate) async fn next_reconnect_delay(&mut self) -> u64 {
        let line = self.wait_log("reconnecting after a delay").await;
        let v = line.split("delay_ms=").nth(1).expect("delay_ms field");
        v.split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Sends SIGTERM and waits for the exit.
    pub(crate) async fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let pid = self.child.id().expect("running").to_string();
        let ok = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(ok.success());
        let status = within("kube-manager to exit", self.child.wait())
            .await
            .unwrap();
        while let Some(line) = self.lines.recv().await {
            self.log.push(line);
        }
        (status, self.log)
    }

    /// Waits for the exit (for runs that end on their own).
    pub(crate) async fn exit(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let status = within("kube-manager to exit", self.child.wait())
            .await
            .unwrap();
        while let Some(line) = self.lines.recv().await {
            self.log.push(line);
        }
        (status, self.log)
    }
}

/// Nodes with known allocatable resources, and namespaces for the guard.
pub(crate) const SEED: &str = r#"
apiVersion: v1
kind: Node
metadata:
  name: node-1
status:
  allocatable: {cpu: 3500m, memory: 8Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Node
metadata:
  name: node-2
status:
  allocatable: {cpu: "4", memory: 16417848Ki}
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Node
metadata:
  name: node-3
status:
  allocatable: {cpu: 250m, memory: 1000M}
  conditions: [{type: Ready, status: "False"}]
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: Namespace
metadata:
  name: lapdev-env1
  labels: {lapdev.io/managed: "true"}
---
apiVersion: v1
kind: Namespace
metadata:
  name: lapdev-tools
"#;

pub(crate) const TOKEN: &str = "lpc_test-cluster-token-0123456789";

/// kube-sim with [`SEED`] served over TLS, a tunnel server, and a directory
/// with the kubeconfig, token and CA files kube-manager is pointed at.
pub(crate) struct Fixture {
    pub(crate) sim: kube_sim::KubeSim,
    _served: kube_sim::ServingHandle,
    pub(crate) server: TestServer,
    pub(crate) dir: tempfile::TempDir,
}

impl Fixture {
    pub(crate) async fn new() -> Self {
        Self::with_server_token(TOKEN).await
    }

    /// The tunnel server accepts only `server_token`; kube-manager sends [`TOKEN`].
    pub(crate) async fn with_server_token(server_token: &str) -> Self {
        let sim = kube_sim::KubeSim::builder()
            .seed_yaml("test", SEED)
            .build()
            .unwrap();
        let served = sim
            .serve("127.0.0.1:0".parse().unwrap(), true)
            .await
            .unwrap();
        let server = TestServer::start(server_token).await;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("kubeconfig"), served.kubeconfig_yaml()).unwrap();
        std::fs::write(dir.path().join("token"), format!("{TOKEN}\n")).unwrap();
        std::fs::write(dir.path().join("ca.pem"), &server.ca_pem).unwrap();
        Fixture {
            sim,
            _served: served,
            server,
            dir,
        }
    }

    fn path(&self, name: &str) -> String {
        let p: PathBuf = self.dir.path().join(name);
        p.to_str().unwrap().to_string()
    }

    /// The environment of a kube-manager pointed at this fixture.
    pub(crate) fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("LAPDEV_SERVER_URL", format!("https://{}", self.server.addr)),
            ("LAPDEV_CLUSTER_TOKEN_FILE", self.path("token")),
            ("LAPDEV_SERVER_CA_FILE", self.path("ca.pem")),
            ("KUBECONFIG", self.path("kubeconfig")),
            ("LAPDEV_RECONNECT_BASE_MS", "50".into()),
            ("LAPDEV_RECONNECT_MAX_MS", "400".into()),
        ]
    }

    pub(crate) fn spawn(&self) -> KubeManager {
        KubeManager::spawn(&self.env())
    }
}

/// The Secret policy the shop tests use: copy everything but the value of
/// `db-credentials/password`, which each environment supplies.
pub(crate) fn redact_db_password() -> SecretPolicy {
    SecretPolicy {
        default: SecretAction::Copy,
        rules: vec![SecretRule {
            namespace: None,
            secret: "db-credentials".into(),
            key: Some("password".into()),
            action: SecretAction::Redact,
        }],
    }
}
