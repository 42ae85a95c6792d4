//! The demo's simulated cluster: kube-sim in process (seeded with the sample
//! production app, served on a loopback port so `kubectl` works too), and
//! lapdev-kube-manager in process, connected to the server the real way:
//! cluster token from a file, TLS WebSocket verified against the demo CA.
//! kube-manager reads the cluster through kube-sim's in-process client.

use std::path::{Path, PathBuf};

use anyhow::Context;
use kube_sim::{KubeSim, ServingHandle, SimulatorConfig};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// kube-sim and kube-manager, running.
pub(crate) struct SimulatedCluster {
    sim: KubeSim,
    served: ServingHandle,
    kubeconfig: PathBuf,
    kube_manager: CancellationToken,
    tasks: TaskTracker,
}

impl SimulatedCluster {
    /// Starts kube-sim (kubeconfig written to `kubeconfig`) and a
    /// kube-manager connecting to `server_url` with the token in
    /// `token_file`, trusting `ca_file`.
    pub(crate) async fn start(
        kubeconfig: &Path,
        server_url: &str,
        token_file: &Path,
        ca_file: &Path,
    ) -> anyhow::Result<SimulatedCluster> {
        let sim = KubeSim::builder()
            .sample_seed()
            .simulator(SimulatorConfig {
                ready_delay: std::time::Duration::from_millis(500),
            })
            .build()
            .context("cannot start the simulated cluster")?;
        let served = sim
            .serve(([127, 0, 0, 1], 0).into(), true)
            .await
            .context("cannot serve the simulated cluster on 127.0.0.1")?;
        served
            .write_kubeconfig(kubeconfig)
            .with_context(|| format!("cannot write {}", kubeconfig.display()))?;

        let args = lapdev_kube_manager::config::Args {
            server_url: server_url.to_string(),
            token: None,
            token_file: Some(token_file.to_path_buf()),
            server_ca_file: Some(ca_file.to_path_buf()),
            reconnect_base_ms: 500,
            reconnect_max_ms: 10_000,
            max_concurrent_requests: 32,
            log_format: lapdev_kube_manager::config::LogFormat::Text,
        };
        let config = lapdev_kube_manager::config::Config::resolve(args)
            .context("cannot configure the demo's kube-manager")?;
        let tls = lapdev_kube_manager::tls::client_config(config.server_ca_pem.as_deref())
            .context("cannot set up the demo's kube-manager TLS")?;
        let kube_manager = CancellationToken::new();
        let tasks = TaskTracker::new();
        let client = sim.client();
        let stop = kube_manager.clone();
        tasks.spawn(lapdev_kube_manager::connection::run(
            config, tls, client, stop,
        ));
        Ok(SimulatedCluster {
            sim,
            served,
            kubeconfig: kubeconfig.to_path_buf(),
            kube_manager,
            tasks,
        })
    }

    pub(crate) fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// Stops kube-manager (its tunnel closes), then kube-sim.
    pub(crate) async fn shutdown(self) {
        self.kube_manager.cancel();
        self.tasks.close();
        self.tasks.wait().await;
        self.served.shutdown().await;
        self.sim.shutdown().await;
    }
}
