//! kube-sim: a Kubernetes API test server that kube-rs and kubectl use
//! unchanged, with a workload simulator.
//!
//! Two ways in: [`KubeSim::client`] (a `kube::Client` over the handler, no
//! socket) and [`KubeSim::serve`] (a 127.0.0.1 listener, optionally TLS, with
//! a kubeconfig). See the crate README for the served API and the list of
//! intentional differences from a real API server.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kube_sim::Error> {
//! let sim = kube_sim::KubeSim::builder().sample_seed().build()?;
//! let client = sim.client();
//! let served = sim.serve("127.0.0.1:0".parse().unwrap(), true).await?;
//! println!("{}", served.kubeconfig_yaml());
//! assert!(sim.requests().writes().is_empty());
//! # Ok(()) }
//! ```

mod apply;
mod client;
mod controllers;
mod core;
mod debug_api;
mod defaults;
mod delete;
mod discovery;
mod error;
mod failures;
mod handler;
mod meta;
mod ops;
mod patch;
mod registry;
mod request_log;
mod scale;
mod seed;
mod selectors;
mod serve;
mod simulator;
mod store;
mod tls;
mod validation;
mod watch;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use crate::client::SimService;
pub use crate::core::CoreConfig;
pub use crate::error::{ApiError, Cause};
pub use crate::failures::{Failure, WorkloadRef};
pub use crate::handler::ResBody;
pub use crate::request_log::{RequestLog, RequestRecord};
pub use crate::seed::{SAMPLE_SEED, SeedError, parse_documents};
pub use crate::serve::{DEFAULT_TOKEN, ServingHandle};
pub use crate::simulator::{FAIL_ANNOTATION, SimulatorConfig};

/// Errors of the library API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Seed(#[from] SeedError),
    #[error("{0}")]
    Io(String),
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("{0}")]
    InvalidWorkload(String),
}

/// Configures a [`KubeSim`].
#[derive(Debug, Default)]
pub struct KubeSimBuilder {
    core: CoreConfig,
    simulator: Option<SimulatorConfig>,
    seed_paths: Vec<PathBuf>,
    seed_texts: Vec<(String, String)>,
    failures: Vec<(WorkloadRef, Failure)>,
    namespace_delay: Option<Duration>,
}

impl KubeSimBuilder {
    /// Turns the workload simulator on (off by default in the library).
    pub fn simulator(mut self, cfg: SimulatorConfig) -> Self {
        self.simulator = Some(cfg);
        self
    }

    /// Loads every YAML file of a directory (or one file) at build time.
    pub fn seed_dir(mut self, path: impl AsRef<Path>) -> Self {
        self.seed_paths.push(path.as_ref().to_path_buf());
        self
    }

    /// Loads multi-document YAML at build time.
    pub fn seed_yaml(mut self, name: &str, yaml: &str) -> Self {
        self.seed_texts.push((name.into(), yaml.into()));
        self
    }

    /// Loads the shipped sample cluster (`seed/`: system namespaces, nodes,
    /// the `shop` and `billing` apps).
    pub fn sample_seed(mut self) -> Self {
        self.seed_texts.extend(
            SAMPLE_SEED
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string())),
        );
        self
    }

    /// How many events the watch history keeps (older resourceVersions → 410).
    pub fn history(mut self, events: usize) -> Self {
        self.core.history = events;
        self
    }

    /// How often watches with `allowWatchBookmarks` get a bookmark.
    pub fn bookmark_interval(mut self, every: Duration) -> Self {
        self.core.bookmark_interval = every;
        self
    }

    /// Largest request body accepted (default 3 MiB; larger → 413).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.core.body_limit = bytes;
        self
    }

    /// How long a Terminating namespace waits before its content is deleted
    /// (default 1 s; a real controller takes a few seconds).
    pub fn namespace_finalize_delay(mut self, delay: Duration) -> Self {
        self.namespace_delay = Some(delay);
        self
    }

    /// Injects a failure from the start.
    pub fn fail(mut self, workload: WorkloadRef, failure: Failure) -> Self {
        self.failures.push((workload, failure));
        self
    }

    /// Builds the server. Call inside a Tokio runtime: the namespace
    /// controller (and the simulator, when on) run as tasks.
    pub fn build(self) -> Result<KubeSim, Error> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::Io("KubeSim::build needs a Tokio runtime (its namespace controller and simulator are tasks)".into()));
        }
        let core = core::Core::new(self.core);
        seed::bootstrap(&core);
        let mut files = Vec::new();
        for p in &self.seed_paths {
            files.extend(seed::read_path(p)?);
        }
        files.extend(self.seed_texts);
        seed::load(&core, &files)?;
        for (w, f) in self.failures {
            core.failures.set(w, f);
        }
        let sim = KubeSim {
            core,
            tracker: TaskTracker::new(),
            cancel: CancellationToken::new(),
        };
        let delay = self.namespace_delay.unwrap_or(Duration::from_secs(1));
        sim.tracker.spawn(controllers::run(
            sim.core.clone(),
            delay,
            sim.cancel.clone(),
        ));
        if let Some(cfg) = self.simulator {
            sim.tracker
                .spawn(simulator::run(sim.core.clone(), cfg, sim.cancel.clone()));
        }
        Ok(sim)
    }
}

/// A Kubernetes API test server.
#[derive(Debug)]
pub struct KubeSim {
    core: Arc<core::Core>,
    tracker: TaskTracker,
    cancel: CancellationToken,
}

impl KubeSim {
    pub fn builder() -> KubeSimBuilder {
        KubeSimBuilder::default()
    }

    /// A `kube::Client` talking to this server in process (needs a Tokio runtime).
    pub fn client(&self) -> kube::Client {
        kube::Client::new(self.service(), "default")
    }

    /// The tower service behind [`KubeSim::client`].
    pub fn service(&self) -> SimService {
        SimService {
            core: self.core.clone(),
        }
    }

    /// Serves on `addr` (e.g. `127.0.0.1:0`), with a fresh self-signed CA when `tls`.
    pub async fn serve(&self, addr: SocketAddr, tls: bool) -> Result<ServingHandle, Error> {
        serve::serve(self.core.clone(), addr, tls).await
    }

    /// The request log.
    pub fn requests(&self) -> &RequestLog {
        &self.core.requests
    }

    /// Makes a workload's Pods fail (see [`Failure`]); `kind` in any spelling.
    pub fn fail_workload(
        &self,
        namespace: &str,
        kind: &str,
        name: &str,
        failure: Failure,
    ) -> Result<(), Error> {
        let w = WorkloadRef::new(namespace, kind, name).map_err(Error::InvalidWorkload)?;
        self.core.failures.set(w, failure);
        Ok(())
    }

    /// Removes an injected failure.
    pub fn clear_failure(&self, namespace: &str, kind: &str, name: &str) -> Result<(), Error> {
        let w = WorkloadRef::new(namespace, kind, name).map_err(Error::InvalidWorkload)?;
        self.core.failures.clear(&w);
        Ok(())
    }

    /// Ends every open watch with an ERROR event carrying a 410 Status.
    pub fn expire_watches(&self) {
        self.core.expire_watches();
    }

    /// Forgets the watch history: resuming from any older resourceVersion → 410.
    pub fn compact(&self) {
        self.core.lock().compact();
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.core.lock().rv
    }

    /// How many objects are stored.
    pub fn object_count(&self) -> usize {
        self.core.lock().objects.len()
    }

    /// Creates the objects of multi-document YAML now (like the seed loader).
    pub fn load_yaml(&self, name: &str, yaml: &str) -> Result<usize, Error> {
        Ok(seed::load(&self.core, &[(name.into(), yaml.into())])?)
    }

    /// Stops the simulator and waits for it.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

impl Drop for KubeSim {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
