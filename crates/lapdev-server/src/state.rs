//! The shared state of every request: datastore, settings, metrics, limiter.

use std::sync::Arc;

use lapdev_db::Db;

use crate::auth::rate_limit::LoginLimiter;
use crate::config::HttpSettings;
use crate::metrics::Metrics;
use crate::secrets::Keyring;
use crate::tunnel::{TunnelRegistry, TunnelSettings};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Cheap to clone; handed to [`crate::router`].
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    settings: HttpSettings,
    metrics: Metrics,
    login_limiter: LoginLimiter,
    /// An argon2 hash of a random password, verified against when the user
    /// does not exist, so timing does not reveal which usernames exist.
    dummy_hash: String,
    tunnels: TunnelRegistry,
    tunnel_settings: TunnelSettings,
    /// Encrypts the Secret values catalogs store.
    keyring: Keyring,
    /// Owns every long-lived task (server, sweeper, tunnel sessions).
    tasks: TaskTracker,
    /// Cancelled on shutdown.
    shutdown: CancellationToken,
    environments: EnvironmentSignals,
}

/// Wakes whoever waits on environments: the reconciler (there is work to
/// do) and long-polling readers (an environment changed).
#[derive(Default)]
pub(crate) struct EnvironmentSignals {
    changed: tokio::sync::watch::Sender<u64>,
    work: tokio::sync::Notify,
}

impl EnvironmentSignals {
    /// Some environment's row changed.
    pub(crate) fn changed(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Subscribes to [`Self::changed`].
    pub(crate) fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// A change was accepted: the reconciler should look now. Also counts
    /// as [`Self::changed`].
    pub(crate) fn work(&self) {
        self.changed();
        self.work.notify_one();
    }

    /// Waits for [`Self::work`] (a call made while nobody waited counts).
    pub(crate) async fn wait_for_work(&self) {
        self.work.notified().await;
    }
}

impl AppState {
    pub(crate) fn new(
        db: Db,
        settings: HttpSettings,
        dummy_hash: String,
        tunnel_settings: TunnelSettings,
        keyring: Keyring,
    ) -> Self {
        AppState {
            inner: Arc::new(Inner {
                db,
                settings,
                metrics: Metrics::new(),
                login_limiter: LoginLimiter::default(),
                dummy_hash,
                tunnels: TunnelRegistry::default(),
                tunnel_settings,
                keyring,
                tasks: TaskTracker::new(),
                shutdown: CancellationToken::new(),
                environments: EnvironmentSignals::default(),
            }),
        }
    }

    /// The live kube-manager tunnels: how the server talks to clusters.
    pub fn tunnels(&self) -> &TunnelRegistry {
        &self.inner.tunnels
    }

    pub(crate) fn environments(&self) -> &EnvironmentSignals {
        &self.inner.environments
    }

    pub(crate) fn tunnel_settings(&self) -> &TunnelSettings {
        &self.inner.tunnel_settings
    }

    pub(crate) fn keyring(&self) -> &Keyring {
        &self.inner.keyring
    }

    pub(crate) fn tasks(&self) -> &TaskTracker {
        &self.inner.tasks
    }

    pub(crate) fn shutdown(&self) -> &CancellationToken {
        &self.inner.shutdown
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub(crate) fn settings(&self) -> &HttpSettings {
        &self.inner.settings
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub(crate) fn login_limiter(&self) -> &LoginLimiter {
        &self.inner.login_limiter
    }

    pub(crate) fn dummy_hash(&self) -> &str {
        &self.inner.dummy_hash
    }
}
