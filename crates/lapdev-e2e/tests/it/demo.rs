//! `lapdev demo` as a process: one command gives a server, a simulated
//! cluster and a kube-manager; cluster `demo` turns Active through the real
//! tunnel; Ctrl-C stops everything cleanly; a second run on the same
//! directory reuses the cluster, its token and the admin credentials.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use lapdev_api::ClusterStatus;
use lapdev_e2e::api::Api;
use lapdev_e2e::process::Proc;
use tokio::process::Command;

/// What a demo run printed.
struct Banner {
    url: String,
    password: String,
    kubeconfig: String,
}

async fn start_demo(dir: &Path) -> (Proc, Banner) {
    let mut cmd = Command::new(lapdev_e2e::bins::lapdev());
    cmd.arg("demo")
        .arg("--data-dir")
        .arg(dir)
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info,sqlx=warn,tower_http=warn");
    let demo = Proc::spawn("demo", cmd);
    let value = |line: &str| {
        line.split_whitespace()
            .last()
            .unwrap_or_default()
            .to_string()
    };
    let (at, url) = demo.log.wait_for_text(0, "Dashboard: ").await;
    let (_, password) = demo.log.wait_for_text(at, "Password: ").await;
    let (_, kubectl) = demo.log.wait_for_text(at, "kubectl --kubeconfig").await;
    demo.log.wait_for_text(at, "Press Ctrl-C to stop.").await;
    let kubeconfig = kubectl
        .split_whitespace()
        .nth(2)
        .expect("a kubeconfig path")
        .to_string();
    (
        demo,
        Banner {
            url: value(&url),
            password: value(&password),
            kubeconfig,
        },
    )
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_an_active_cluster_stops_cleanly_and_reuses_it() {
    lapdev_e2e::install_crypto_provider();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let tls = lapdev_e2e::tls::client_config_for(b"");

    // First run: everything is created.
    let (mut demo, first) = start_demo(dir.path()).await;
    assert!(first.url.starts_with("http://127.0.0.1:"), "{}", first.url);
    let api = Api::login(&first.url, tls.clone(), "admin", &first.password).await;
    let cluster = api
        .wait_for_status("demo", ClusterStatus::Active, |c| c.node_count.is_some())
        .await;
    assert_eq!(cluster.node_count, Some(2), "kube-sim's sample seed");
    assert_eq!(cluster.roles.len(), 2, "source and target: {cluster:?}");
    assert_eq!(
        cluster.permissions.len(),
        2,
        "personal and shared: {cluster:?}"
    );
    // Through the real tunnel: kube-manager's handshake over TLS.
    assert!(demo.log.count("connected to the Lapdev server") > 0);
    let token_file = dir.path().join("demo-cluster.token");
    assert_eq!(mode(&token_file), 0o600);
    let token = std::fs::read_to_string(&token_file).expect("the cluster token");

    // The CLI sees it too.
    let out = std::process::Command::new(lapdev_e2e::bins::lapdev())
        .args([
            "--server",
            &first.url,
            "--token",
            api.token(),
            "--org",
            "default",
        ])
        .args(["cluster", "list", "-o", "json"])
        .env("LAPDEV_CONFIG_DIR", dir.path().join("cli"))
        .output()
        .expect("run lapdev cluster list");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{listed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        listed.contains("\"demo\"") && listed.contains("\"active\""),
        "{listed}"
    );

    // kubectl reaches the simulated cluster with the printed kubeconfig.
    let kubectl =
        std::env::var("LAPDEV_TEST_KUBECTL").unwrap_or_else(|_| "/usr/bin/kubectl".into());
    let out = std::process::Command::new(kubectl)
        .args([
            "--kubeconfig",
            &first.kubeconfig,
            "get",
            "deployments",
            "-n",
            "shop",
        ])
        .output()
        .expect("run kubectl");
    let pods = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(pods.contains("api") && pods.contains("web"), "{pods}");

    // Ctrl-C: all three stop, the process exits 0.
    let status = demo.interrupt().await;
    assert!(status.success(), "the demo exited with {status}");
    assert!(demo.log.count("tunnel stopped") > 0, "kube-manager stopped");
    assert!(
        demo.log.count("lapdev_server: stopped") > 0,
        "the server stopped"
    );

    // Second run: same credentials, same cluster, same token.
    let (mut demo, second) = start_demo(dir.path()).await;
    assert_eq!(second.password, first.password);
    let api = Api::login(&second.url, tls, "admin", &second.password).await;
    let again = api
        .wait_for_status("demo", ClusterStatus::Active, |c| {
            c.last_seen_at > cluster.last_seen_at
        })
        .await;
    assert_eq!(again.id, cluster.id, "the cluster is reused");
    assert_eq!(
        std::fs::read_to_string(&token_file).expect("the cluster token"),
        token,
        "the token is reused"
    );
    let status = demo.interrupt().await;
    assert!(status.success(), "the demo exited with {status}");
}
