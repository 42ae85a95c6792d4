//! End to end: the real kube-manager client (`lapdev_kube_manager`) connects
//! over a TLS WebSocket to this server (native TLS, no proxy), with kube-sim
//! as its Kubernetes API. The cluster turns Active with the facts kube-sim
//! holds; requests cross the tunnel and kube-manager's own guard answers
//! them; revoking the token disconnects it.

use std::time::Duration;

use clap::Parser;
use lapdev_tunnel_proto::{ErrorCode, Request, Response};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::ADMIN_PASSWORD;

const PATIENCE: Duration = Duration::from_secs(30);

const SEED: &str = r#"
apiVersion: v1
kind: Node
metadata:
  name: node-1
status:
  allocatable: {cpu: 3500m, memory: 8Gi}
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Node
metadata:
  name: node-2
status:
  allocatable: {cpu: "4", memory: 8Gi}
  conditions: [{type: Ready, status: "True"}]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_manager_connects_reports_and_answers() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_file, key_file, ca_file) = (
        dir.path().join("cert.pem"),
        dir.path().join("key.pem"),
        dir.path().join("ca.pem"),
    );
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&ca_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).unwrap();
    let mut config = crate::config(&dir);
    config.tls_cert = Some(cert_file);
    config.tls_key = Some(key_file);
    let server = lapdev_server::start(config).await.unwrap();
    let port = server.local_addr().port();
    let base = format!("https://localhost:{port}");

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let https = reqwest::Client::builder()
        .tls_backend_preconfigured(
            rustls::ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
        .resolve("localhost", server.local_addr())
        .build()
        .unwrap();
    let login: Value = https
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin = login["token"].as_str().unwrap().to_string();
    let created: Value = https
        .post(format!("{base}/api/v1/orgs/default/clusters"))
        .bearer_auth(&admin)
        .json(&json!({"name": "sim"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap().to_string();
    let cluster_id = created["cluster"]["id"].as_str().unwrap().parse().unwrap();

    // kube-manager, configured as the install manifest configures it.
    let sim = kube_sim::KubeSim::builder()
        .seed_yaml("nodes", SEED)
        .build()
        .unwrap();
    let args = lapdev_kube_manager::config::Args::parse_from([
        "lapdev-kube-manager",
        "--server-url",
        &base,
        "--token",
        &token,
        "--server-ca-file",
        ca_file.to_str().unwrap(),
    ]);
    let km_config = lapdev_kube_manager::config::Config::resolve(args).unwrap();
    let tls = lapdev_kube_manager::tls::client_config(Some(&cert.cert.pem().into_bytes())).unwrap();
    let stop = CancellationToken::new();
    let kube_manager = tokio::spawn(lapdev_kube_manager::connection::run(
        km_config,
        tls,
        sim.client(),
        stop.clone(),
    ));

    // Active, with kube-sim's facts (bounded poll of the API).
    let show = || async {
        let resp = https
            .get(format!("{base}/api/v1/orgs/default/clusters/sim"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json::<Value>().await.unwrap()
    };
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let active = loop {
        let shown = show().await;
        if shown["status"] == "active" && shown["node_count"].is_number() {
            break shown;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never active: {shown}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(active["node_count"], 2);
    assert_eq!(active["allocatable_cpu_millis"], 7_500);
    assert_eq!(active["allocatable_memory_bytes"], 16u64 << 30);
    assert!(active["kube_manager_version"].is_string());

    // Requests cross the tunnel; kube-manager's guard refuses writes
    // outside Lapdev-managed namespaces whatever the server asks.
    let tunnels = server.state().tunnels().clone();
    assert_eq!(
        tunnels
            .send_request(cluster_id, Request::Ping, PATIENCE)
            .await
            .unwrap(),
        Response::Pong
    );
    match tunnels
        .send_request(
            cluster_id,
            Request::DeleteNamespace {
                namespace: "kube-system".into(),
            },
            PATIENCE,
        )
        .await
    {
        Err(lapdev_server::tunnel::RequestError::Tunnel(e)) => {
            assert_eq!(e.code, ErrorCode::Forbidden)
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    // Revocation: the tunnel closes and kube-manager cannot come back.
    let resp = https
        .delete(format!("{base}/api/v1/orgs/default/clusters/sim/token"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tunnels.is_connected(cluster_id) {
        assert!(tokio::time::Instant::now() < deadline, "still connected");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(show().await["status"], "offline");

    stop.cancel();
    tokio::time::timeout(PATIENCE, kube_manager)
        .await
        .expect("kube-manager stops")
        .unwrap();
    server.shutdown().await;
}
