//! The `kube-sim` binary as a child process: the sample cluster (shop,
//! billing, two nodes) or a given seed over TLS on loopback, with a
//! kubeconfig file, and its request log read (and cleared) through
//! `/kube-sim/v1/requests`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tokio::process::Command;

use crate::process::Proc;

/// The user agent of the harness's own calls to kube-sim (its request log
/// and direct reads of the cluster), so they can be told from the clients'.
pub const HARNESS_AGENT: &str = "lapdev-e2e";

/// One recorded Kubernetes API request (the fields the tests read).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub user_agent: Option<String>,
    pub status: u16,
    pub verb: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

impl Request {
    /// A call that changes state (create, update, patch, delete).
    pub fn is_write(&self) -> bool {
        !matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }

    /// About namespace `ns`: inside it, or the Namespace object itself.
    pub fn touches(&self, ns: &str) -> bool {
        self.namespace.as_deref() == Some(ns)
            || (self.resource.as_deref() == Some("namespaces") && self.name.as_deref() == Some(ns))
    }

    /// `verb resource` (`patch deployments`), or the method and "discovery"
    /// for non-resource paths.
    pub fn key(&self) -> String {
        match (&self.resource, self.verb.as_str()) {
            (Some(r), v) if !v.is_empty() => format!("{v} {r}"),
            _ => format!("{} discovery", self.method),
        }
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
        Self::start_with(dir, |cmd| {
            cmd.args(["--sample-seed", "--sim-delay-ms", "50"]);
        })
        .await
    }

    /// Starts `kube-sim --tls` on a loopback port, writing its kubeconfig
    /// into `dir`, with the arguments `configure` adds (seed, delays, ...).
    pub async fn start_with(dir: &Path, configure: impl FnOnce(&mut Command)) -> KubeSim {
        crate::install_crypto_provider();
        let kubeconfig = dir.join("kubeconfig");
        let mut cmd = Command::new(crate::bins::kube_sim());
        cmd.args(["--listen", "127.0.0.1:0", "--tls"])
            .arg("--kubeconfig-out")
            .arg(&kubeconfig);
        configure(&mut cmd);
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
            .user_agent(HARNESS_AGENT)
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

    /// The harness's client (user agent [`HARNESS_AGENT`], no certificate
    /// check), for reading the cluster directly at [`KubeSim::url`].
    pub fn http(&self) -> &reqwest::Client {
        &self.http
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

    /// Empties the request log.
    pub async fn clear_requests(&self) {
        let resp = self
            .http
            .delete(format!("{}/kube-sim/v1/requests", self.url))
            .send()
            .await
            .expect("DELETE /kube-sim/v1/requests");
        assert!(
            resp.status().is_success(),
            "clearing the request log: {}",
            resp.status()
        );
    }
}
