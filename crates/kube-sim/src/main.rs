//! The `kube-sim` binary: serves the test API on 127.0.0.1, writes a
//! kubeconfig, runs the workload simulator unless told not to.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use kube_sim::{Failure, KubeSim, SimulatorConfig, WorkloadRef};

/// A Kubernetes API test server for kube-rs and kubectl.
#[derive(Debug, Parser)]
#[command(name = "kube-sim", version)]
struct Config {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "KUBE_SIM_LISTEN", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Write a kubeconfig for the server here (atomically).
    #[arg(long, env = "KUBE_SIM_KUBECONFIG_OUT")]
    kubeconfig_out: Option<PathBuf>,
    /// Also write the server URL (one line) to this file (atomically).
    #[arg(long)]
    url_out: Option<PathBuf>,
    /// Serve HTTPS with a fresh self-signed CA (written into the kubeconfig).
    #[arg(long)]
    tls: bool,
    /// Do not run the workload simulator.
    #[arg(long)]
    no_simulator: bool,
    /// Delay before simulated Pods become Ready, in milliseconds.
    #[arg(long, default_value_t = 500)]
    sim_delay_ms: u64,
    /// Seed directory or file of YAML manifests (repeatable).
    #[arg(long)]
    seed: Vec<PathBuf>,
    /// Load the shipped sample cluster (shop, billing, system namespaces, nodes).
    #[arg(long)]
    sample_seed: bool,
    /// Fail a workload from the start: `namespace/kind/name[=Reason]` (repeatable).
    #[arg(long)]
    fail: Vec<String>,
    /// Watch history length (older resourceVersions get 410 Expired).
    #[arg(long, default_value_t = 10_000)]
    history: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cfg = Config::parse();
    let mut b = KubeSim::builder().history(cfg.history);
    if !cfg.no_simulator {
        b = b.simulator(SimulatorConfig {
            ready_delay: Duration::from_millis(cfg.sim_delay_ms),
        });
    }
    if cfg.sample_seed {
        b = b.sample_seed();
    }
    for s in &cfg.seed {
        b = b.seed_dir(s);
    }
    for f in &cfg.fail {
        let (w, reason) = f.split_once('=').unwrap_or((f, "ImagePullBackOff"));
        let w = WorkloadRef::parse(w).map_err(anyhow::Error::msg)?;
        b = b.fail(w, Failure::parse(reason, None).map_err(anyhow::Error::msg)?);
    }
    let sim = b.build().context("starting kube-sim")?;
    let served = sim
        .serve(cfg.listen, cfg.tls)
        .await
        .context("starting the listener")?;
    if let Some(path) = &cfg.kubeconfig_out {
        served
            .write_kubeconfig(path)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &cfg.url_out {
        let tmp = path.with_extension("tmp-kube-sim");
        std::fs::write(&tmp, format!("{}\n", served.url()))
            .and_then(|()| std::fs::rename(&tmp, path))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!("{}", served.url());
    shutdown_signal().await;
    served.shutdown().await;
    sim.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
