//! `lapdev server` as a child process: native TLS with a test CA, embedded
//! SQLite in a data directory, short tunnel heartbeats so Offline comes
//! fast. It can be killed and started again on the same port and data.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::process::Command;

use crate::ADMIN_PASSWORD;
use crate::api::Api;
use crate::process::Proc;
use crate::tls::TlsFiles;

/// Tunnel timing for a server.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// `--tunnel-heartbeat-secs` (Offline after 3 missed).
    pub heartbeat_secs: u64,
    /// `--tunnel-status-secs`.
    pub status_secs: u64,
}

impl Timing {
    /// Fast enough for tests: 1 s heartbeats, status every 2 s.
    pub const FAST: Timing = Timing {
        heartbeat_secs: 1,
        status_secs: 2,
    };
}

/// A `lapdev server` process (or none, between [`Server::kill`] and
/// [`Server::restart`]).
pub struct Server {
    proc: Option<Proc>,
    addr: SocketAddr,
    data_dir: PathBuf,
    tls: TlsFiles,
    timing: Timing,
}

impl Server {
    /// Starts `lapdev server` (the binary of the running profile: the
    /// benchmarks run the release one) on an ephemeral loopback port.
    pub async fn start(data_dir: &Path, tls: &TlsFiles, timing: Timing) -> Server {
        let mut server = Server {
            proc: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.to_path_buf(),
            tls: tls.clone(),
            timing,
        };
        server.spawn().await;
        server
    }

    async fn spawn(&mut self) {
        let mut cmd = Command::new(crate::bins::lapdev());
        cmd.arg("server")
            .arg("--listen")
            .arg(self.addr.to_string())
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--tls-cert")
            .arg(&self.tls.cert)
            .arg("--tls-key")
            .arg(&self.tls.key)
            .arg("--tunnel-heartbeat-secs")
            .arg(self.timing.heartbeat_secs.to_string())
            .arg("--tunnel-status-secs")
            .arg(self.timing.status_secs.to_string())
            .env("LAPDEV_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "info,sqlx=warn,tower_http=warn")
            .env_remove("LAPDEV_DATABASE_URL")
            .env_remove("LAPDEV_EXTERNAL_URL");
        let proc = Proc::spawn("server", cmd);
        // The tracing line `listening addr=… scheme="https"`.
        let (_, line) = proc
            .log
            .wait_for_from(0, "with the listening address", |l| {
                l.contains("listening addr=")
            })
            .await;
        self.addr = parse_field(&line, "addr=")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        self.proc = Some(proc);
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn tls(&self) -> &TlsFiles {
        &self.tls
    }

    pub fn client_tls(&self) -> Arc<rustls::ClientConfig> {
        self.tls.client_config()
    }

    pub fn proc(&self) -> &Proc {
        self.proc.as_ref().expect("the server is running")
    }

    /// Signs in as the admin.
    pub async fn admin(&self) -> Api {
        Api::login(&self.url(), self.client_tls(), "admin", ADMIN_PASSWORD).await
    }

    /// SIGKILL: no graceful shutdown, like a crash.
    pub async fn kill(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill().await;
        }
    }

    /// SIGINT and a graceful exit.
    pub async fn stop(&mut self) -> std::process::ExitStatus {
        let mut p = self.proc.take().expect("the server is running");
        p.interrupt().await
    }

    /// Starts again on the same port and data directory.
    pub async fn restart(&mut self) {
        assert!(self.proc.is_none(), "kill or stop the server first");
        self.spawn().await;
    }
}

/// The value after `key` up to the next space, quotes removed
/// (`addr=127.0.0.1:1234` in a tracing text line).
pub fn parse_field(line: &str, key: &str) -> Option<String> {
    let start = line.find(key)? + key.len();
    let value = line[start..].split_whitespace().next()?;
    Some(value.trim_matches('"').to_string())
}
