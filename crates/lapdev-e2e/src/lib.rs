//! The end-to-end harness: the real `lapdev` server, `kube-sim` and
//! `lapdev-kube-manager` run as separate processes on loopback, the way they
//! run in production (TLS WebSocket, cluster token, kubeconfig).
//!
//! Tests (`tests/it`) and the benchmark binaries (`src/bin/tunnel-load.rs`,
//! `src/bin/env-load.rs`) build on these pieces:
//!
//! * [`bins`]: finds the other packages' binaries next to the test executable;
//! * [`process`]: a child process whose output lines a test can *await*;
//! * [`tls`]: a fresh CA and a server certificate for `127.0.0.1`/`localhost`;
//! * [`server`], [`kube_sim`], [`kube_manager`]: the three processes;
//! * [`proxy`]: a TCP proxy whose connections a test can cut;
//! * [`api`]: the REST API calls the tests make (reqwest);
//! * [`wait`]: bounded waiting for events, never a sleep as synchronization;
//! * [`load`], [`peer`], [`procstat`]: the benchmark's simulated
//!   kube-managers, its bare WebSocket peer server, and `/proc` readings.

pub mod api;
pub mod bins;
pub mod kube_manager;
pub mod kube_sim;
pub mod load;
pub mod peer;
pub mod process;
pub mod procstat;
pub mod proxy;
pub mod server;
pub mod tls;
pub mod wait;

/// The admin password every harness server starts with.
pub const ADMIN_PASSWORD: &str = "e2e-admin-password-0123";

/// reqwest and tokio-tungstenite are built without a default TLS provider:
/// the harness uses ring, like the binaries. Idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
