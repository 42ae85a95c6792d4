//! The `lapdev-kube-manager` binary as a child process, configured the way
//! the install manifest configures it: `KUBECONFIG` (kube-sim's),
//! `LAPDEV_SERVER_URL`, `LAPDEV_SERVER_CA_FILE` and a token file it re-reads
//! before every connection attempt, with short reconnect delays.

use std::path::{Path, PathBuf};

use tokio::process::Command;

use crate::process::Proc;

/// Reconnect delays for tests (`LAPDEV_RECONNECT_BASE_MS` / `_MAX_MS`);
/// after a refused token kube-manager multiplies both by 30.
pub const RECONNECT_BASE_MS: u64 = 50;
pub const RECONNECT_MAX_MS: u64 = 400;

/// The log line of a successful handshake.
pub const CONNECTED: &str = "connected to the Lapdev server";
/// The log line before every wait between attempts.
pub const RECONNECTING: &str = "reconnecting after a delay";
/// The log line of a transport failure.
pub const TUNNEL_DOWN: &str = "the tunnel is down";
/// The log line of a refused token.
pub const TOKEN_REFUSED: &str = "the server refused the cluster token";

/// How kube-manager reaches things.
#[derive(Debug, Clone)]
pub struct KubeManagerSetup {
    /// `https://127.0.0.1:PORT` (the server or a proxy in front of it).
    pub server_url: String,
    pub ca_file: PathBuf,
    pub kubeconfig: PathBuf,
    pub token_file: PathBuf,
}

/// A running kube-manager.
pub struct KubeManager {
    proc: Proc,
}

impl KubeManager {
    /// Writes `token` to the token file and starts kube-manager.
    pub fn start(name: &str, setup: &KubeManagerSetup, token: &str) -> KubeManager {
        write_token(&setup.token_file, token);
        Self::start_with_token_file(name, setup)
    }

    /// Starts kube-manager with the token already in the token file.
    pub fn start_with_token_file(name: &str, setup: &KubeManagerSetup) -> KubeManager {
        let mut cmd = Command::new(crate::bins::kube_manager());
        cmd.env("KUBECONFIG", &setup.kubeconfig)
            .env("LAPDEV_SERVER_URL", &setup.server_url)
            .env("LAPDEV_SERVER_CA_FILE", &setup.ca_file)
            .env("LAPDEV_CLUSTER_TOKEN_FILE", &setup.token_file)
            .env_remove("LAPDEV_CLUSTER_TOKEN")
            .env("LAPDEV_RECONNECT_BASE_MS", RECONNECT_BASE_MS.to_string())
            .env("LAPDEV_RECONNECT_MAX_MS", RECONNECT_MAX_MS.to_string())
            .env("RUST_LOG", "info");
        KubeManager {
            proc: Proc::spawn(name, cmd),
        }
    }

    pub fn proc(&self) -> &Proc {
        &self.proc
    }

    pub fn proc_mut(&mut self) -> &mut Proc {
        &mut self.proc
    }
}

/// Replaces the token file's content, as the kubelet updates a mounted
/// Secret: write a new file, then rename it over the old one.
pub fn write_token(path: &Path, token: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, format!("{token}\n")).expect("write the token file");
    std::fs::rename(&tmp, path).expect("replace the token file");
}

/// The `delay_ms=` of a "reconnecting after a delay" line.
pub fn delay_ms(line: &str) -> u64 {
    crate::server::parse_field(line, "delay_ms=")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no delay_ms in {line:?}"))
}
