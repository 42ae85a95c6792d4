//! End-to-end tests of issue 4, "Connect a Kubernetes cluster": the real
//! `lapdev server`, `kube-sim` and `lapdev-kube-manager` binaries as separate
//! processes on loopback (TLS WebSocket, cluster token, kubeconfig), and
//! `lapdev demo`; the App Catalog dashboard pages in a headless Chromium
//! (`dashboard`); and environments across crashes, restarts and offline
//! clusters (`environments`). Build the binaries first:
//! `cargo build --workspace --bins`.
//!
//! Every wait is for an event (a log line, a status seen through the API);
//! nothing here asserts on timing.

mod catalogs;
mod connect;
mod dashboard;
mod demo;
mod environments;
mod manifest;
mod reconnect;
mod tokens;
#[path = "../../../lapdev-server/tests/it/webdriver.rs"]
mod webdriver;

use std::path::Path;

use lapdev_api::{ClusterCredentials, ClusterStatus};
use lapdev_e2e::api::Api;
use lapdev_e2e::kube_manager::{CONNECTED, KubeManager, KubeManagerSetup};
use lapdev_e2e::kube_sim::KubeSim;
use lapdev_e2e::server::{Server, Timing};
use lapdev_e2e::tls::TlsFiles;
use tempfile::TempDir;

/// A running server with its admin signed in.
struct World {
    dir: TempDir,
    server: Server,
    api: Api,
}

impl World {
    async fn start() -> World {
        lapdev_e2e::install_crypto_provider();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let tls = TlsFiles::generate_in(dir.path());
        let data = dir.path().join("server-data");
        let server = Server::start(&data, &tls, Timing::FAST).await;
        let api = server.admin().await;
        World { dir, server, api }
    }

    /// How a kube-manager for cluster `name` reaches the server at `url`.
    fn setup(&self, name: &str, sim: &KubeSim, url: &str) -> KubeManagerSetup {
        KubeManagerSetup {
            server_url: url.to_string(),
            ca_file: self.server.tls().ca.clone(),
            kubeconfig: sim.kubeconfig().to_path_buf(),
            token_file: self.dir.path().join(format!("{name}.token")),
        }
    }

    /// A directory of its own for `name` (kube-sim's kubeconfig).
    fn subdir(&self, name: &str) -> std::path::PathBuf {
        let d = self.dir.path().join(name);
        std::fs::create_dir_all(&d).expect("create a directory");
        d
    }

    /// Creates cluster `name`, starts a kube-sim for it and a kube-manager
    /// connecting to `url` (default: the server itself).
    async fn connect(&self, name: &str, url: Option<&str>) -> Connected {
        let creds = self.api.create_cluster(name).await;
        let sim = KubeSim::start(&self.subdir(name)).await;
        let url = url.map_or_else(|| self.server.url(), str::to_string);
        let setup = self.setup(name, &sim, &url);
        let km = KubeManager::start(&format!("kube-manager {name}"), &setup, &creds.token);
        Connected {
            creds,
            sim,
            km,
            setup,
        }
    }

    /// [`World::connect`] straight to the server, then waits until
    /// kube-manager has connected and the API shows the cluster Active.
    async fn connect_active(&self, name: &str) -> Connected {
        let c = self.connect(name, None).await;
        c.km.proc().log.wait_for_text(0, CONNECTED).await;
        self.api
            .wait_for_status(name, ClusterStatus::Active, |_| true)
            .await;
        c
    }
}

/// One simulated cluster with its kube-manager.
struct Connected {
    creds: ClusterCredentials,
    sim: KubeSim,
    km: KubeManager,
    setup: KubeManagerSetup,
}

/// Changes a cluster the way an operator would: kubectl
/// (`LAPDEV_TEST_KUBECTL`, or the one on the PATH) with `stdin` as its
/// input; fails the test unless it succeeds.
fn kubectl(kubeconfig: &Path, args: &[&str], stdin: Option<&str>) {
    use std::io::Write;
    let bin = std::env::var("LAPDEV_TEST_KUBECTL").unwrap_or_else(|_| "kubectl".into());
    let mut child = std::process::Command::new(bin)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run kubectl");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("kubectl ends");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
