//! Watch-driven status: kube-runtime watchers, not polling. One watcher on
//! the Lapdev-managed Namespaces (label `lapdev.io/managed=true`, cluster
//! scope: kube-manager may watch namespaces) starts, for each of them, a
//! task watching that namespace's Deployments, StatefulSets, DaemonSets and
//! Pods (rights it holds there through its `lapdev-environment`
//! RoleBinding; no cluster-wide pod reads are needed) into reflector
//! stores, and hands it every new version of the Namespace object. A burst
//! of events is debounced into one evaluation of what the stores and the
//! latest Namespace hold ([`observe::observed`]): no request per status.
//! Nothing is published before every store has completed its initial
//! listing, so a half-filled cache never reports a status. A status that
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
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource, ResourceExt};
use lapdev_manifest::keys;
use lapdev_tunnel_proto::{EnvironmentPhase, EnvironmentStatus, ManagedNamespace};
use serde::de::DeserializeOwned;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{observe, status};

/// How long a burst of watch events is gathered before one status evaluation.
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
        self.record(&mut latest, status);
    }

    /// [`publish`](Self::publish), unless `alive` is cancelled — checked
    /// under the feed's lock, so a namespace task stopped by [`forget`]
    /// cannot bring back an environment after its `Deleted`.
    fn publish_while(&self, status: EnvironmentStatus, alive: &CancellationToken) {
        let mut latest = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if !alive.is_cancelled() {
            self.record(&mut latest, status);
        }
    }

    fn record(&self, latest: &mut BTreeMap<String, EnvironmentStatus>, status: EnvironmentStatus) {
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

/// A watched namespace: where its task gets the latest Namespace object
/// (a new version is also the poke), and how it is stopped.
type Watched = BTreeMap<ManagedNamespace, (watch::Sender<Namespace>, CancellationToken)>;

/// Watches until `cancel`.
pub async fn run(client: kube::Client, feed: StatusFeed, cancel: CancellationToken) {
    let tasks = TaskTracker::new();
    let mut watched: Watched = BTreeMap::new();
    let mut listed: Option<BTreeSet<ManagedNamespace>> = None;
    let config = watcher::Config::default().labels(&format!("{}=true", keys::MANAGED));
    let mut events = watcher(Api::<Namespace>::all(client.clone()), config)
        .default_backoff()
        .modify(|ns| ns.managed_fields_mut().clear())
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
                match watched.get(&managed) {
                    Some((latest, _)) => {
                        latest.send_replace(ns);
                    }
                    None => {
                        // The first evaluation waits for the task's listings.
                        let (latest, rx) = watch::channel(ns);
                        let stop = cancel.child_token();
                        tasks.spawn(watch_namespace(
                            client.clone(),
                            managed.clone(),
                            rx,
                            feed.clone(),
                            stop.clone(),
                        ));
                        watched.insert(managed, (latest, stop));
                    }
                }
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

fn forget(watched: &mut Watched, ns: &ManagedNamespace, feed: &StatusFeed) {
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

/// A watch event as the status sees it (the store has it already).
#[derive(Debug, Clone, Copy)]
enum Tick {
    /// An object was applied or deleted.
    Changed,
    /// The kind's store holds a complete (re)listing.
    Listed(&'static str),
}

impl Tick {
    fn note(self, listed: &mut BTreeSet<&'static str>) {
        if let Tick::Listed(kind) = self {
            listed.insert(kind);
        }
    }
}

/// The Lapdev objects of one kind in `ns`, kept in a reflector store, and
/// the stream that keeps it (to be polled) as ticks. `slim` drops what
/// status never reads before an object is stored; managedFields and
/// annotations always go.
fn reflected<K>(
    client: &kube::Client,
    ns: &ManagedNamespace,
    slim: fn(&mut K),
) -> (Store<K>, BoxStream<'static, Tick>)
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + k8s_openapi::Resource
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let config = watcher::Config::default().labels(&format!("{}=true", keys::MANAGED));
    let namespace = ns.to_string();
    let (store, writer) = reflector::store::<K>();
    let ticks = watcher(Api::<K>::namespaced(client.clone(), ns.as_str()), config)
        .default_backoff()
        .modify(move |object| {
            object.managed_fields_mut().clear();
            object.annotations_mut().clear();
            slim(object);
        })
        .reflect(writer)
        .filter_map(move |event| {
            future::ready(match event {
                Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_)) => Some(Tick::Changed),
                Ok(watcher::Event::InitDone) => Some(Tick::Listed(K::KIND)),
                Ok(watcher::Event::Init | watcher::Event::InitApply(_)) => None,
                Err(e) => {
                    tracing::warn!(namespace = %namespace, kind = K::KIND, error = %e, "watch failed; retrying");
                    None
                }
            })
        })
        .boxed();
    (store, ticks)
}

/// What one namespace's watches hold.
struct Stores {
    deployments: Store<Deployment>,
    stateful_sets: Store<StatefulSet>,
    daemon_sets: Store<DaemonSet>,
    pods: Store<Pod>,
}

impl Stores {
    fn status(&self, ns: &ManagedNamespace, namespace: &Namespace) -> EnvironmentStatus {
        let deployments = self.deployments.state();
        let stateful_sets = self.stateful_sets.state();
        let daemon_sets = self.daemon_sets.state();
        let pods = self.pods.state();
        status::evaluate(&observe::observed(
            ns,
            Some(namespace),
            deployments.iter().map(Arc::as_ref),
            stateful_sets.iter().map(Arc::as_ref),
            daemon_sets.iter().map(Arc::as_ref),
            pods.iter().map(Arc::as_ref),
        ))
    }
}

async fn watch_namespace(
    client: kube::Client,
    ns: ManagedNamespace,
    mut namespace: watch::Receiver<Namespace>,
    feed: StatusFeed,
    cancel: CancellationToken,
) {
    // Status reads replicas and selectors, not the Pod template.
    let (deployments, d) = reflected::<Deployment>(&client, &ns, |d| {
        if let Some(spec) = &mut d.spec {
            spec.template = Default::default();
        }
    });
    let (stateful_sets, s) = reflected::<StatefulSet>(&client, &ns, |s| {
        if let Some(spec) = &mut s.spec {
            spec.template = Default::default();
            spec.volume_claim_templates = None;
        }
    });
    let (daemon_sets, ds) = reflected::<DaemonSet>(&client, &ns, |d| {
        if let Some(spec) = &mut d.spec {
            spec.template = Default::default();
        }
    });
    // Status reads a Pod's labels and container states, not its spec.
    let (pods, p) = reflected::<Pod>(&client, &ns, |p| p.spec = None);
    let stores = Stores {
        deployments,
        stateful_sets,
        daemon_sets,
        pods,
    };
    let ticks = [d, s, ds, p];
    let kinds = ticks.len();
    let mut events = select_all(ticks);
    // The kinds whose store holds a complete listing.
    let mut listed = BTreeSet::new();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            Some(tick) = events.next() => tick.note(&mut listed),
            Ok(()) = namespace.changed() => {}
        }
        // Gather the rest of the burst, then evaluate once.
        let quiet = tokio::time::sleep(DEBOUNCE);
        tokio::pin!(quiet);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = &mut quiet => break,
                Some(tick) = events.next() => tick.note(&mut listed),
                Ok(()) = namespace.changed() => {}
            }
        }
        // A half-filled cache would report a wrong status.
        if listed.len() < kinds {
            continue;
        }
        let current = namespace.borrow_and_update().clone();
        feed.publish_while(stores.status(&ns, &current), &cancel);
    }
}
