//! Watch-driven status: kube-runtime watchers, not polling. One watcher on
//! the Lapdev-managed Namespaces (label `lapdev.io/managed=true`, cluster
//! scope: kube-manager may watch namespaces) starts, for each of them, a
//! task watching that namespace's Deployments, StatefulSets, DaemonSets and
//! Pods (rights it holds there through its `lapdev-environment`
//! RoleBinding; no cluster-wide pod reads are needed). A burst of events is
//! debounced into one status read ([`observe::collect`]); a status that
//! differs from the last one is published to the [`StatusFeed`], which
//! each tunnel session forwards as `environment_status` frames (all current
//! statuses first, so a reconnect heals a lost frame).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::{BoxStream, select_all};
use futures::{StreamExt, future};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource};
use lapdev_manifest::keys;
use lapdev_tunnel_proto::{EnvironmentPhase, EnvironmentStatus, ManagedNamespace};
use serde::de::DeserializeOwned;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::observe;

/// How long a burst of watch events is gathered before one status read.
pub const DEBOUNCE: Duration = Duration::from_millis(100);

/// The latest status of every watched environment, and its changes.
#[derive(Clone)]
pub struct StatusFeed {
    inner: Arc<Mutex<BTreeMap<String, EnvironmentStatus>>>,
    changes: broadcast::Sender<EnvironmentStatus>,
}

impl Default for StatusFeed {
    fn default() -> Self {
        StatusFeed {
            inner: Arc::default(),
            changes: broadcast::channel(1024).0,
        }
    }
}

impl StatusFeed {
    /// Every current status, and the changes after them (nothing is lost
    /// in between).
    pub fn subscribe(
        &self,
    ) -> (
        Vec<EnvironmentStatus>,
        broadcast::Receiver<EnvironmentStatus>,
    ) {
        let latest = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (latest.values().cloned().collect(), self.changes.subscribe())
    }

    /// Records `status`; broadcasts it if it changed. A deleted
    /// environment is broadcast once and forgotten.
    pub fn publish(&self, status: EnvironmentStatus) {
        let mut latest = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if latest.get(&status.namespace) == Some(&status) {
            return;
        }
        if status.phase == EnvironmentPhase::Deleted {
            latest.remove(&status.namespace);
        } else {
            latest.insert(status.namespace.clone(), status.clone());
        }
        tracing::debug!(namespace = %status.namespace, phase = ?status.phase, "environment status changed");
        // No session connected: the next one gets the snapshot.
        let _ = self.changes.send(status);
    }
}

/// Watches until `cancel`.
pub async fn run(client: kube::Client, feed: StatusFeed, cancel: CancellationToken) {
    let tasks = TaskTracker::new();
    let mut watched: BTreeMap<ManagedNamespace, (mpsc::Sender<()>, CancellationToken)> =
        BTreeMap::new();
    let mut listed: Option<BTreeSet<ManagedNamespace>> = None;
    let config = watcher::Config::default().labels(&format!("{}=true", keys::MANAGED));
    let mut events = watcher(Api::<Namespace>::all(client.clone()), config)
        .default_backoff()
        .boxed();
    loop {
        let event = tokio::select! {
            _ = cancel.cancelled() => break,
            event = events.next() => match event {
                Some(Ok(event)) => event,
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "watching environment namespaces failed; retrying");
                    continue;
                }
                None => break,
            },
        };
        let name = |ns: &Namespace| {
            ns.metadata
                .name
                .as_deref()
                .and_then(|n| ManagedNamespace::parse(n).ok())
        };
        match event {
            watcher::Event::Init => listed = Some(BTreeSet::new()),
            watcher::Event::InitApply(ns) | watcher::Event::Apply(ns) => {
                let Some(managed) = name(&ns) else { continue };
                if let Some(listed) = &mut listed {
                    listed.insert(managed.clone());
                }
                let (poke, _) = watched.entry(managed.clone()).or_insert_with(|| {
                    let (tx, rx) = mpsc::channel(1);
                    let stop = cancel.child_token();
                    tasks.spawn(watch_namespace(
                        client.clone(),
                        managed,
                        rx,
                        feed.clone(),
                        stop.clone(),
                    ));
                    (tx, stop)
                });
                let _ = poke.try_send(());
            }
            watcher::Event::Delete(ns) => {
                if let Some(managed) = name(&ns) {
                    forget(&mut watched, &managed, &feed);
                }
            }
            watcher::Event::InitDone => {
                // Gone while we were not watching.
                let seen = listed.take().unwrap_or_default();
                let gone: Vec<_> = watched
                    .keys()
                    .filter(|n| !seen.contains(*n))
                    .cloned()
                    .collect();
                for managed in gone {
                    forget(&mut watched, &managed, &feed);
                }
            }
        }
    }
    for (_, (_, stop)) in watched {
        stop.cancel();
    }
    tasks.close();
    tasks.wait().await;
}

fn forget(
    watched: &mut BTreeMap<ManagedNamespace, (mpsc::Sender<()>, CancellationToken)>,
    ns: &ManagedNamespace,
    feed: &StatusFeed,
) {
    if let Some((_, stop)) = watched.remove(ns) {
        stop.cancel();
    }
    feed.publish(EnvironmentStatus {
        namespace: ns.to_string(),
        environment_id: None,
        observed_generation: None,
        phase: EnvironmentPhase::Deleted,
        workloads: Vec::new(),
    });
}

/// Changes (not the initial listing) of one kind in `ns`, as ticks.
fn ticks<K>(client: &kube::Client, ns: &ManagedNamespace) -> BoxStream<'static, ()>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
        + Send
        + 'static,
    K::DynamicType: Default,
{
    let config = watcher::Config::default().labels(&format!("{}=true", keys::MANAGED));
    let namespace = ns.to_string();
    let kind = K::kind(&K::DynamicType::default()).to_string();
    watcher(Api::<K>::namespaced(client.clone(), ns.as_str()), config)
        .default_backoff()
        .filter_map(move |event| {
            future::ready(match event {
                Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_) | watcher::Event::InitDone) => {
                    Some(())
                }
                Ok(_) => None,
                Err(e) => {
                    tracing::warn!(namespace = %namespace, kind = %kind, error = %e, "watch failed; retrying");
                    None
                }
            })
        })
        .boxed()
}

async fn watch_namespace(
    client: kube::Client,
    ns: ManagedNamespace,
    mut pokes: mpsc::Receiver<()>,
    feed: StatusFeed,
    cancel: CancellationToken,
) {
    let mut events = select_all([
        ticks::<Deployment>(&client, &ns),
        ticks::<StatefulSet>(&client, &ns),
        ticks::<DaemonSet>(&client, &ns),
        ticks::<Pod>(&client, &ns),
    ]);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            Some(()) = events.next() => {}
            Some(()) = pokes.recv() => {}
        }
        // Gather the rest of the burst, then read once.
        let quiet = tokio::time::sleep(DEBOUNCE);
        tokio::pin!(quiet);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = &mut quiet => break,
                Some(()) = events.next() => {}
                Some(()) = pokes.recv() => {}
            }
        }
        match observe::collect(&client, &ns).await {
            Ok(status) => feed.publish(status),
            Err(e) => {
                tracing::warn!(namespace = %ns, error = %e, "cannot read the environment's status")
            }
        }
    }
}
