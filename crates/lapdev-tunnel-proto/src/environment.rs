//! Environment messages: the server sends an environment's **full desired
//! state** with a generation ([`ApplyEnvironment`]); kube-manager reconciles
//! its namespace to it and answers [`EnvironmentApplied`] with the
//! `observed_generation`. It reports status on request
//! ([`Request::GetEnvironmentStatus`](crate::Request::GetEnvironmentStatus))
//! and pushes [`EnvironmentStatus`] frames
//! ([`ClientFrame::EnvironmentStatus`](crate::ClientFrame::EnvironmentStatus))
//! when a watched environment's status changes.
//!
//! # Contract
//!
//! * **Desired state, not commands.** Every [`ApplyEnvironment`] carries
//!   everything (catalog objects, identity, replicas policy, pause flag,
//!   Secret values). Re-sending the same state changes nothing; a lost
//!   message is healed by sending the latest state again. kube-manager keeps
//!   no state of its own: the generation it applied last lives on the
//!   namespace (annotation `lapdev.io/generation`).
//! * **Pause** is `paused: true`: every Deployment and StatefulSet gets 0
//!   replicas and every DaemonSet a node selector no node matches. Resume
//!   is the same state with `paused: false`; the replicas come from the
//!   catalog objects again, so nothing needs remembering in the cluster.
//! * **Delete** is [`Request::DeleteNamespace`](crate::Request::DeleteNamespace);
//!   the watch then pushes [`EnvironmentPhase::Deleting`] and finally
//!   [`EnvironmentPhase::Deleted`].
//! * **Pruning**: objects labelled with the environment id in its
//!   namespace that are no longer desired are deleted; nothing outside
//!   the namespace is ever touched.
//! * **Generations only move forward**: a request whose generation is
//!   lower than the one recorded on the namespace is answered `invalid`
//!   (`stale generation …`) without a write, so a late duplicate cannot
//!   roll an environment back. The same generation again is fine.
//! * **Errors**: a namespace that is not a Lapdev-managed one (`shop`,
//!   `kube-system`) or an existing namespace without the
//!   `lapdev.io/managed: "true"` label → `forbidden`, before any write;
//!   missing Secret values → `invalid`, naming every `secret/key`; an
//!   object that is not a Kubernetes object Lapdev knows → `invalid`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalog::{ObjectRef, WorkloadKind};

/// An id and a display name (of an environment or a catalog).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Used as a label value: at most 63 of `[A-Za-z0-9._-]`, starting and
    /// ending with an alphanumeric (a UUID fits).
    pub id: String,
    /// Free text; stored in an annotation.
    pub name: String,
}

/// Personal (one developer) or Shared (a team).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentKind {
    Personal,
    Shared,
}

/// How many pods each Deployment and StatefulSet runs. On the wire:
/// `"keep"` or `{"at_most": 1}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicasPolicy {
    /// As in the catalog (production).
    Keep,
    /// At most this many; fewer (including 0) is kept.
    AtMost(i32),
}

impl ReplicasPolicy {
    /// `AtMost(1)` for Personal environments, `Keep` for Shared ones.
    pub fn default_for(kind: EnvironmentKind) -> Self {
        match kind {
            EnvironmentKind::Personal => ReplicasPolicy::AtMost(1),
            EnvironmentKind::Shared => ReplicasPolicy::Keep,
        }
    }
}

/// Values for a catalog's redacted Secret keys: Secret name → key → value,
/// values **base64**-encoded like a Secret's `data`. `Debug` prints only
/// the keys, never a value.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretValues(pub BTreeMap<String, BTreeMap<String, String>>);

impl fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self
            .0
            .iter()
            .flat_map(|(s, keys)| keys.keys().map(move |k| format!("{s}/{k}")))
            .collect();
        f.debug_tuple("SecretValues").field(&keys).finish()
    }
}

/// The full desired state of one environment. Answered with
/// [`Response::EnvironmentApplied`](crate::Response::EnvironmentApplied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyEnvironment {
    /// Increases with every change of the desired state; echoed as
    /// `observed_generation` once applied.
    pub generation: u64,
    /// The target namespace, `lapdev-<slug>`. A plain string: kube-manager
    /// checks it itself (see [`ManagedNamespace`](crate::ManagedNamespace))
    /// and answers `forbidden` for anything else.
    pub namespace: String,
    pub environment: Identity,
    pub catalog: Identity,
    pub environment_kind: EnvironmentKind,
    pub replicas: ReplicasPolicy,
    /// Scale everything to zero (see the module docs).
    #[serde(default)]
    pub paused: bool,
    /// The catalog's stored objects (plain Kubernetes JSON, as in a
    /// [`CatalogSnapshot`](crate::CatalogSnapshot)).
    pub objects: Vec<Value>,
    /// Values for the catalog's redacted Secret keys.
    #[serde(default)]
    pub secret_values: SecretValues,
}

/// The answer to [`ApplyEnvironment`]: the namespace now matches the
/// desired state of `observed_generation` (workloads may still be starting;
/// see [`EnvironmentStatus`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentApplied {
    pub observed_generation: u64,
    /// Every object of the plan applied, in apply order (the Namespace
    /// first). The RoleBinding kube-manager adds for itself is not listed.
    pub applied: Vec<ObjectRef>,
    /// Objects deleted because they are no longer desired.
    #[serde(default)]
    pub pruned: Vec<ObjectRef>,
    /// Things that will likely not work as the user expects.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// Asks for the status of the environment in `namespace`. Answered with
/// [`Response::EnvironmentStatus`](crate::Response::EnvironmentStatus).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetEnvironmentStatus {
    pub namespace: String,
}

/// Where an environment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentPhase {
    /// Workloads are starting (not all available, nothing failed).
    Creating,
    /// Every workload has all its desired pods available.
    Running,
    /// A workload is failing but still has available pods.
    Degraded,
    /// A workload is failing with no available pod; its `reason` and
    /// `message` say why (e.g. `ImagePullBackOff`).
    Failed,
    /// Applied with `paused: true` and scaled down.
    Paused,
    /// The namespace is being deleted.
    Deleting,
    /// The namespace does not exist (deleted, or never applied).
    Deleted,
    /// A phase a newer kube-manager reports.
    #[serde(other)]
    Unknown,
}

/// One workload's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadStatus {
    pub kind: WorkloadKind,
    pub name: String,
    /// Desired pods (`spec.replicas`; for a DaemonSet the scheduled count).
    pub desired: u32,
    pub ready: u32,
    pub available: u32,
    /// Why it is not available, from Kubernetes: a container's waiting
    /// reason (`ImagePullBackOff`, `CrashLoopBackOff`) or a condition reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The message that goes with `reason` (e.g. the pod's pull error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The status of one environment, answered on request and pushed by the
/// watch when it changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentStatus {
    pub namespace: String,
    /// The `lapdev.io/environment` label of the namespace; `None` when the
    /// namespace is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_id: Option<String>,
    /// The generation last applied completely; `None` when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<u64>,
    pub phase: EnvironmentPhase,
    /// Sorted by kind, then name.
    #[serde(default)]
    pub workloads: Vec<WorkloadStatus>,
}
