//! The environment reconciler: makes each cluster match the environments
//! recorded in the database, and stores what clusters report.
//!
//! It is level-triggered. It never asks "what happened?", only "what is
//! recorded, and what has the cluster confirmed?": an environment whose
//! current generation is neither applied nor refused, or whose deletion is
//! pending, is sent its **full desired state** ([`ApplyEnvironment`]) or a
//! `DeleteNamespace`. So a server restart, a lost message, a kube-manager
//! restart or a cluster that was offline all heal the same way: the next
//! pass sends the latest state again, and kube-manager, which applies
//! idempotently and refuses stale generations, converges.
//!
//! A pass runs when a change is accepted ([`EnvironmentSignals::work`]),
//! when a cluster connects (every environment of that cluster is re-sent:
//! it may have missed anything while away), every [`RETRY_EVERY`] for work
//! still pending (with a per-environment backoff after failures) and every
//! [`RESYNC_EVERY`] for everything (drift). Environments are handled
//! concurrently, at most [`CONCURRENCY`] at once and never one twice at the
//! same time.
//!
//! Status flows the other way: kube-manager pushes `environment_status`
//! frames from its watches ([`record_report`]). A deleted namespace's
//! final report removes the environment.
//!
//! [`EnvironmentSignals::work`]: crate::state::EnvironmentSignals::work

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lapdev_db::{EnvironmentRecord, EnvironmentReport, EventNote};
use lapdev_domain::{ClusterId, DesiredState, EnvironmentId, EnvironmentKind};
use lapdev_tunnel_proto::{
    ApplyEnvironment, EnvironmentKind as WireKind, EnvironmentPhase, EnvironmentStatus, ErrorCode,
    Identity, ReplicasPolicy as WireReplicas, Request, Response,
};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::app::catalog_content as content;
use crate::app::environments::{failing_workload, phase_of, phase_text, split_values};
use crate::error::Chain;
use crate::state::AppState;
use crate::tunnel::RequestError;

/// How often environments with pending work are looked at again.
pub(crate) const RETRY_EVERY: Duration = Duration::from_secs(5);
/// How often every environment's desired state is re-sent (heals drift
/// and anything lost). Each re-send is one server-side apply per object,
/// so this is long, like a controller's resync period.
pub(crate) const RESYNC_EVERY: Duration = Duration::from_secs(30 * 60);
/// Environments reconciled at once.
pub(crate) const CONCURRENCY: usize = 16;
/// How long one apply may take in the cluster.
const APPLY_TIMEOUT: Duration = Duration::from_secs(120);
const STATUS_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait between attempts for one environment after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What the loop remembers between passes (nothing that must survive a
/// restart: the database has all of that).
#[derive(Default)]
struct Memory {
    in_flight: HashSet<EnvironmentId>,
    /// After a failed attempt: when to try again, and how many failed.
    backoff: HashMap<EnvironmentId, (Instant, u32)>,
    /// The last transient error recorded as an event (not repeated).
    last_error: HashMap<EnvironmentId, String>,
    /// Skipped by a pass while in flight: it may have changed since that
    /// attempt started, so a pass runs again when the attempt ends.
    rerun: HashSet<EnvironmentId>,
}

type Shared = Arc<Mutex<Memory>>;

fn lock(m: &Shared) -> std::sync::MutexGuard<'_, Memory> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Starts the reconciler under the server's task tracker.
pub(crate) fn spawn(state: AppState) {
    let tasks = state.tasks().clone();
    tasks.spawn(run(state));
}

/// Which environments a pass looks at.
#[derive(Debug, Clone, Copy)]
enum Scope {
    /// Pending work only.
    Pending,
    /// Every environment of one cluster (it just connected).
    Cluster(ClusterId),
    /// Every environment.
    All,
}

async fn run(state: AppState) {
    let memory = Shared::default();
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut connects = state.tunnels().connected();
    let shutdown = state.shutdown().clone();
    let mut retry = tokio::time::interval(RETRY_EVERY);
    let mut resync = tokio::time::interval(RESYNC_EVERY);
    retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick of an interval is immediate; the retry tick's first
    // pass resumes what a previous server process left unfinished (for
    // clusters already connected), and each cluster that connects gets a
    // pass of its own. The full resync waits a whole period.
    resync.tick().await;
    loop {
        let scope = tokio::select! {
            biased;
            () = shutdown.cancelled() => return,
            () = state.environments().wait_for_work() => Scope::Pending,
            connected = connects.recv() => match connected {
                Ok(cluster) => Scope::Cluster(cluster),
                // Missed some: look at everything.
                Err(_) => Scope::All,
            },
            _ = retry.tick() => Scope::Pending,
            _ = resync.tick() => Scope::All,
        };
        if let Err(e) = pass(&state, &memory, &permits, scope).await {
            tracing::warn!(error = %Chain(&e), "environment reconcile pass failed");
        }
    }
}

async fn pass(
    state: &AppState,
    memory: &Shared,
    permits: &Arc<Semaphore>,
    scope: Scope,
) -> Result<(), lapdev_db::DbError> {
    let cluster = match scope {
        Scope::Cluster(c) => Some(c),
        Scope::Pending | Scope::All => None,
    };
    let envs = state.db().environments_on_cluster(cluster).await?;
    if cluster.is_none() {
        // Forget what is remembered about environments that are gone.
        let live: HashSet<EnvironmentId> = envs.iter().map(|e| e.id).collect();
        let mut m = lock(memory);
        m.backoff.retain(|id, _| live.contains(id));
        m.last_error.retain(|id, _| live.contains(id));
    }
    let now = Instant::now();
    let pending_only = matches!(scope, Scope::Pending);
    for env in envs {
        let refused =
            env.desired != DesiredState::Deleted && env.failed_generation == Some(env.generation);
        let wanted = if pending_only {
            env.needs_reconcile()
        } else {
            !refused
        };
        if !wanted || !state.tunnels().is_connected(env.cluster_id) {
            continue;
        }
        {
            let mut m = lock(memory);
            if pending_only && m.backoff.get(&env.id).is_some_and(|(due, _)| *due > now) {
                continue;
            }
            if !m.in_flight.insert(env.id) {
                m.rerun.insert(env.id);
                continue;
            }
        }
        state.tasks().clone().spawn(attempt(
            state.clone(),
            memory.clone(),
            permits.clone(),
            env.id,
            pending_only,
        ));
    }
    Ok(())
}

/// One attempt for environment `id`, once a permit is free; then what the
/// loop remembers about it is updated.
async fn attempt(
    state: AppState,
    memory: Shared,
    permits: Arc<Semaphore>,
    id: EnvironmentId,
    pending_only: bool,
) {
    let Ok(_permit) = permits.acquire_owned().await else {
        return;
    };
    // The pass decided on a snapshot; an attempt that ended since (or a
    // deletion) may have made this one unnecessary. Sending a stale record
    // would apply the same generation twice.
    let outcome = match state.db().environment_by_id(id).await {
        Ok(Some(fresh)) if fresh.needs_reconcile() || !pending_only => sync(&state, &fresh).await,
        Ok(_) => Ok(()),
        Err(e) => Err(format!("could not read the environment: {}", Chain(&e))),
    };
    let (report, again) = lock(&memory).finish(id, outcome);
    if again {
        // A change accepted during the attempt goes out now, not at the
        // next retry tick.
        state.environments().work();
    }
    if let Some(error) = report {
        note(&state, id, "warning", &error).await;
    }
}

impl Memory {
    /// Records how an attempt ended. Returns the error to record as an
    /// event (not when it repeats the previous one) and whether a pass
    /// skipped the environment meanwhile (so one should run again).
    fn finish(&mut self, id: EnvironmentId, outcome: Result<(), String>) -> (Option<String>, bool) {
        self.in_flight.remove(&id);
        let again = self.rerun.remove(&id);
        let report = match outcome {
            Ok(()) => {
                self.backoff.remove(&id);
                self.last_error.remove(&id);
                None
            }
            Err(error) => {
                let failures = self.backoff.get(&id).map_or(0, |(_, n)| *n) + 1;
                let delay = RETRY_EVERY
                    .saturating_mul(1 << failures.min(4))
                    .min(MAX_BACKOFF);
                self.backoff.insert(id, (Instant::now() + delay, failures));
                let repeated = self.last_error.get(&id) == Some(&error);
                self.last_error.insert(id, error.clone());
                (!repeated).then_some(error)
            }
        };
        (report, again)
    }
}

async fn note(state: &AppState, id: EnvironmentId, level: &str, message: &str) {
    if let Err(e) = state
        .db()
        .environment_add_event(id, EventNote { level, message })
        .await
    {
        tracing::warn!(error = %Chain(&e), "could not record an environment event");
    }
}

/// One attempt for one environment. `Err` is a transient failure (retried
/// with backoff), as a message for the environment's events.
async fn sync(state: &AppState, env: &EnvironmentRecord) -> Result<(), String> {
    if env.desired == DesiredState::Deleted {
        return delete(state, env).await;
    }
    let request = match desired_state(state, env).await {
        Ok(request) => request,
        Err(message) => {
            // The stored environment cannot be sent (e.g. a missing key):
            // no retry will help until someone acts.
            refuse(state, env, &message).await;
            return Ok(());
        }
    };
    let answer = state
        .tunnels()
        .send_request(
            env.cluster_id,
            Request::ApplyEnvironment(request),
            APPLY_TIMEOUT,
        )
        .await;
    match answer {
        Ok(Response::EnvironmentApplied(applied)) => {
            let warnings = serde_json::to_string(&applied.warnings).unwrap_or_else(|_| "[]".into());
            let message = format!(
                "generation {} applied: {} objects{}",
                applied.observed_generation,
                applied.applied.len(),
                if applied.pruned.is_empty() {
                    String::new()
                } else {
                    format!(", {} pruned", applied.pruned.len())
                }
            );
            let changed = state
                .db()
                .environment_record_applied(
                    env.id,
                    applied.observed_generation,
                    &warnings,
                    Some(EventNote {
                        level: "info",
                        message: &message,
                    }),
                )
                .await
                .map_err(|e| format!("could not record the apply: {}", Chain(&e)))?;
            if changed {
                state.environments().changed();
            }
            Ok(())
        }
        Ok(other) => Err(format!(
            "kube-manager answered an apply with {:?}: upgrade it",
            std::mem::discriminant(&other)
        )),
        Err(RequestError::Tunnel(e))
            if matches!(e.code, ErrorCode::Invalid | ErrorCode::Forbidden) =>
        {
            refuse(
                state,
                env,
                &format!("the cluster refused the environment: {}", e.message),
            )
            .await;
            Ok(())
        }
        Err(e) => Err(transient(env, &e)),
    }
}

fn transient(env: &EnvironmentRecord, e: &RequestError) -> String {
    match e {
        RequestError::NotConnected | RequestError::Disconnected => format!(
            "cluster {} went offline; the change will complete when it is back",
            env.cluster_name
        ),
        RequestError::Timeout(t) => format!(
            "cluster {} did not answer within {} s; retrying",
            env.cluster_name,
            t.as_secs()
        ),
        RequestError::Tunnel(e) => format!(
            "cluster {} could not do it: {}",
            env.cluster_name, e.message
        ),
    }
}

async fn refuse(state: &AppState, env: &EnvironmentRecord, message: &str) {
    match state
        .db()
        .environment_record_failure(env.id, env.generation, message)
        .await
    {
        Ok(true) => state.environments().changed(),
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %Chain(&e), "could not record an environment failure"),
    }
}

/// Deletes the namespace, then removes the environment once the cluster
/// says it is gone (the watch's final report may also do that first).
async fn delete(state: &AppState, env: &EnvironmentRecord) -> Result<(), String> {
    let request = Request::DeleteNamespace {
        namespace: env.namespace.clone(),
    };
    match state
        .tunnels()
        .send_request(env.cluster_id, request, STATUS_TIMEOUT)
        .await
    {
        // Gone already, or never created: nothing of ours is there.
        Ok(Response::Deleted) => {}
        Err(RequestError::Tunnel(e)) if e.code == ErrorCode::NotFound => {
            return remove(state, env).await;
        }
        Err(RequestError::Tunnel(e)) if e.code == ErrorCode::Forbidden => {
            // Not a namespace Lapdev manages: it was never ours to delete.
            note(
                state,
                env.id,
                "warning",
                &format!("namespace {} is not Lapdev's; left in place", env.namespace),
            )
            .await;
            return remove(state, env).await;
        }
        Ok(other) => {
            return Err(format!(
                "kube-manager answered a delete with {:?}: upgrade it",
                std::mem::discriminant(&other)
            ));
        }
        Err(e) => return Err(transient(env, &e)),
    }
    let request = Request::GetEnvironmentStatus(lapdev_tunnel_proto::GetEnvironmentStatus {
        namespace: env.namespace.clone(),
    });
    match state
        .tunnels()
        .send_request(env.cluster_id, request, STATUS_TIMEOUT)
        .await
    {
        Ok(Response::EnvironmentStatus(status)) if status.phase == EnvironmentPhase::Deleted => {
            remove(state, env).await
        }
        Ok(Response::EnvironmentStatus(status)) => {
            store_report(state, env, &status).await;
            // Still terminating: the watch reports the end (or the next pass
            // asks again).
            Err(format!(
                "namespace {} is still being deleted",
                env.namespace
            ))
        }
        Ok(_) => Err("kube-manager answered a status request oddly: upgrade it".into()),
        Err(e) => Err(transient(env, &e)),
    }
}

async fn remove(state: &AppState, env: &EnvironmentRecord) -> Result<(), String> {
    forget(state, env)
        .await
        .map_err(|e| format!("could not remove the environment: {}", Chain(&e)))
}

/// Removes an environment whose namespace is gone (if its deletion was
/// asked for).
async fn forget(state: &AppState, env: &EnvironmentRecord) -> Result<(), lapdev_db::DbError> {
    if state.db().environment_remove(env.id).await? {
        tracing::info!(environment = %env.id, namespace = %env.namespace, "environment deleted");
        state.environments().changed();
    }
    Ok(())
}

/// The full desired state of `env`, Secret values decrypted.
async fn desired_state(
    state: &AppState,
    env: &EnvironmentRecord,
) -> Result<ApplyEnvironment, String> {
    let objects = state
        .db()
        .environment_objects(env.id)
        .await
        .map_err(|e| format!("could not read the environment: {}", Chain(&e)))?;
    let mut objects: Vec<serde_json::Value> = serde_json::from_str(&objects)
        .map_err(|e| format!("the stored objects are unreadable: {e}"))?;
    let sealed = state
        .db()
        .environment_secret_values(env.id)
        .await
        .map_err(|e| format!("could not read the Secret values: {}", Chain(&e)))?;
    let clear = content::open_values(state.keyring(), env.id, &sealed, || {
        format!("the Secret values of environment {}", env.name)
    })
    .map_err(|e| e.to_string())?;
    let (copied, provided) = split_values(clear);
    content::restore_values(&mut objects, copied);
    // Stored as the API wrote it (`"keep"` or `{"at_most": N}`, N ≤ 1000),
    // which is also the wire format.
    let replicas: WireReplicas = serde_json::from_str(&env.replicas)
        .map_err(|e| format!("the stored replicas policy is unreadable: {e}"))?;
    Ok(ApplyEnvironment {
        generation: env.generation,
        namespace: env.namespace.clone(),
        environment: Identity {
            id: env.id.to_string(),
            name: env.name.to_string(),
        },
        catalog: Identity {
            id: env
                .catalog_id
                .map_or_else(|| "deleted".to_owned(), |c| c.to_string()),
            name: env.catalog_name.clone(),
        },
        environment_kind: match env.kind {
            EnvironmentKind::Personal => WireKind::Personal,
            EnvironmentKind::Shared => WireKind::Shared,
        },
        replicas,
        paused: env.desired == DesiredState::Paused,
        objects,
        secret_values: provided,
    })
}

/// Stores a status report pushed by kube-manager for a namespace of
/// `cluster` (called by the tunnel session, in order).
pub(crate) async fn record_report(
    state: &AppState,
    cluster: ClusterId,
    status: EnvironmentStatus,
) -> Result<(), lapdev_db::DbError> {
    let Some(env) = state
        .db()
        .environment_by_namespace(cluster, &status.namespace)
        .await?
    else {
        tracing::debug!(namespace = %status.namespace, "status of a namespace no environment has");
        return Ok(());
    };
    if status
        .environment_id
        .as_deref()
        .is_some_and(|id| id != env.id.to_string())
    {
        tracing::warn!(namespace = %status.namespace, "status of a namespace labelled for another environment; ignored");
        return Ok(());
    }
    let gone = status.phase == EnvironmentPhase::Deleted;
    if gone && env.desired == DesiredState::Deleted {
        return forget(state, &env).await;
    }
    store_report(state, &env, &status).await;
    if gone {
        // Deleted behind Lapdev's back: the stored report makes the
        // environment need a reconcile, and the pass re-creates it.
        note(
            state,
            env.id,
            "warning",
            &format!("namespace {} disappeared; re-creating it", env.namespace),
        )
        .await;
        state.environments().work();
    }
    Ok(())
}

async fn store_report(state: &AppState, env: &EnvironmentRecord, status: &EnvironmentStatus) {
    let report = EnvironmentReport {
        phase: phase_text(status.phase),
        observed_generation: status.observed_generation,
        workloads: serde_json::to_string(&status.workloads).unwrap_or_else(|_| "[]".into()),
    };
    let message = (phase_of(env) != Some(status.phase)).then(|| {
        let mut text = format!("status: {}", report.phase);
        if let Some(why) = failing_workload(&status.workloads) {
            text.push_str(" — ");
            text.push_str(&why);
        }
        text
    });
    let level = match status.phase {
        EnvironmentPhase::Failed | EnvironmentPhase::Degraded => "warning",
        _ => "info",
    };
    let note = message
        .as_deref()
        .map(|message| EventNote { level, message });
    match state
        .db()
        .environment_record_report(env.id, &report, note)
        .await
    {
        Ok(true) => state.environments().changed(),
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %Chain(&e), "could not store an environment status"),
    }
}
