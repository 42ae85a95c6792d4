//! The `kube-sim` binary as a child process: the sample cluster (shop,
//! billing, two nodes) over TLS on loopback, with a kubeconfig file, and its
//! request log read through `GET /kube-sim/v1/requests`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tokio::process::Command;

use crate::process::Proc;

/// One recorded Kubernetes API request (the fields the tests read).
#[derive(Debug, Clone, Deserialize)]
pub struct Request {
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub user_agent: Option<String>,
    pub status: u16,
    pub verb: String,
}

impl Request {
    /// A call that changes state (create, update, patch, delete).
    pub fn is_write(&self) -> bool {
        !matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }
}

#[derive(Deserialize)]
struct Requests {
    items: Vec<Request>,
}

/// A running `kube-sim`.
pub struct KubeSim {
    proc: Proc,
    url: String,
    kubeconfig: PathBuf,
    http: reqwest::Client,
}

impl KubeSim {
    /// Starts `kube-sim --tls --sample-seed` writing its kubeconfig into `dir`.
    pub async fn start(dir: &Path) -> KubeSim {
        crate::install_crypto_provider();
        let kubeconfig = dir.join("kubeconfig");
        let mut cmd = Command::new(crate::bins::kube_sim());
        cmd.args(["--listen", "127.0.0.1:0", "--tls", "--sample-seed"])
            .args(["--sim-delay-ms", "50"])
            .arg("--kubeconfig-out")
            .arg(&kubeconfig);
        let proc = Proc::spawn("kube-sim", cmd);
        let (_, url) = proc
            .log
            .wait_for_from(0, "with the URL", |l| l.starts_with("https://"))
            .await;
        // kube-sim's CA is fresh per start and only in the kubeconfig; the
        // request log is a loopback debug endpoint, so certificate checks
        // would prove nothing here (kube-manager and kubectl do check it).
        let http = reqwest::Client::builder()
            .tls_danger_accept_invalid_certs(true)
            .build()
            .expect("an HTTP client");
        KubeSim {
            proc,
            url: url.trim().to_string(),
            kubeconfig,
            http,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    pub fn proc(&self) -> &Proc {
        &self.proc
    }

    /// The request log so far.
    pub async fn requests(&self) -> Vec<Request> {
        let resp = self
            .http
            .get(format!("{}/kube-sim/v1/requests", self.url))
            .send()
            .await
            .expect("GET /kube-sim/v1/requests");
        let log: Requests = resp.json().await.expect("the request log");
        log.items
    }
}
