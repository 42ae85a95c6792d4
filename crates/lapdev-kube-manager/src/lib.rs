//! `lapdev-kube-manager`: the Lapdev controller inside each connected
//! Kubernetes cluster.
//!
//! It opens an outbound TLS WebSocket to the Lapdev server
//! ([`connection`]), authenticates with the cluster token, speaks the
//! protocol of [`lapdev_tunnel_proto`], reports the cluster's status
//! ([`status`]) and runs the server's requests ([`dispatch`]) under its own
//! write rules ([`guard`]): it never writes outside Lapdev-managed
//! namespaces, whatever the server asks. It makes no write calls to the
//! Kubernetes API while connecting or idling. With `LAPDEV_HEALTH_LISTEN`
//! it also serves the probes' `/healthz` and `/readyz` ([`health`]).
//!
//! The binary (`src/main.rs`) only calls [`main`]; [`run`] is the same loop
//! for embedding.

pub mod catalog;
pub mod config;
pub mod connection;
pub mod discovery;
pub mod dispatch;
pub mod environment;
pub mod guard;
pub mod health;
pub mod namespaces;
pub mod source;
pub mod status;
pub mod tls;
pub mod wire;

use std::process::ExitCode;

use clap::Parser;
use tokio_util::sync::CancellationToken;

use crate::config::{Cli, Config, LogFormat};

/// Why kube-manager could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot find a Kubernetes configuration (in-cluster or kubeconfig): {0}")]
    KubeConfig(#[from] kube::config::InferConfigError),
    #[error("cannot create the Kubernetes client: {0}")]
    KubeClient(#[source] kube::Error),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("cannot listen for health checks on {addr} (LAPDEV_HEALTH_LISTEN): {source}")]
    HealthListen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// Connects to Kubernetes (in-cluster config or kubeconfig, via
/// `kube::Config::infer`) and runs the tunnel, and the health endpoints when
/// configured, until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), StartError> {
    let kube_config = kube::Config::infer().await?;
    let client = kube::Client::try_from(kube_config).map_err(StartError::KubeClient)?;
    let tls = tls::client_config(config.server_ca_pem.as_deref())?;
    let readiness = health::Readiness::default();
    let tasks = tokio_util::task::TaskTracker::new();
    let stop = shutdown.child_token();
    if let Some(addr) = config.health_listen {
        let listener = health::bind(addr)
            .await
            .map_err(|source| StartError::HealthListen { addr, source })?;
        tasks.spawn(health::serve(listener, readiness.clone(), stop.clone()));
    }
    connection::run_reporting(config, tls, client, shutdown, readiness).await;
    stop.cancel();
    tasks.close();
    tasks.wait().await;
    Ok(())
}

/// The binary's entry point: config, logging, runtime, signals.
pub fn main() -> ExitCode {
    let config = match Cli::parse().resolve() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("lapdev-kube-manager: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(config.log_format);
    // kube's own TLS stack uses the process default provider: make it ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let shutdown = CancellationToken::new();
        let signals = shutdown.clone();
        let tracker = tokio_util::task::TaskTracker::new();
        tracker.spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down");
            signals.cancel();
        });
        let result = run(config, shutdown.clone()).await;
        shutdown.cancel();
        tracker.close();
        tracker.wait().await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "lapdev-kube-manager cannot start");
                ExitCode::FAILURE
            }
        }
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_ansi(false).init(),
    }
}
