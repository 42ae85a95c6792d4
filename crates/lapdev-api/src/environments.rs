//! Personal and Shared environments: running instances of a catalog in a
//! target cluster's Lapdev-managed namespace. Every change (create, pause,
//! resume, delete) is accepted at once and recorded before the answer; the
//! server then makes the cluster match, so `status` moves on its own
//! (`creating` → `running`, `pausing` → `paused`, …). `generation` counts
//! the changes asked for, `observed_generation` the last one the cluster
//! reported as applied.
//!
//! Secret values given at creation are write-only: no response contains one.

use std::fmt;

use jiff::Timestamp;
use lapdev_domain::{
    CatalogName, ClusterName, DesiredState, EnvironmentId, EnvironmentKind, EnvironmentName,
    Username,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::WorkloadKind;

/// Where an environment is, as users see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EnvironmentStatus {
    /// Accepted; workloads are being created or are starting.
    Creating,
    /// Every workload has all its desired pods available.
    Running,
    /// A workload is failing but still serves (some pods available).
    Degraded,
    /// A workload has no available pod and is failing, or the cluster
    /// refused the environment; `message` says why.
    Failed,
    /// Pause accepted; workloads are scaling to zero.
    Pausing,
    /// Every workload is scaled to zero.
    Paused,
    /// Resume accepted; workloads are scaling back up.
    Resuming,
    /// Delete accepted; the namespace is being removed (the environment
    /// leaves the lists once it is gone).
    Deleting,
}

impl EnvironmentStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            EnvironmentStatus::Creating => "creating",
            EnvironmentStatus::Running => "running",
            EnvironmentStatus::Degraded => "degraded",
            EnvironmentStatus::Failed => "failed",
            EnvironmentStatus::Pausing => "pausing",
            EnvironmentStatus::Paused => "paused",
            EnvironmentStatus::Resuming => "resuming",
            EnvironmentStatus::Deleting => "deleting",
        }
    }

    /// Whether the status will change without anyone asking (a watcher
    /// keeps waiting): creating, pausing, resuming, deleting.
    pub const fn is_transitional(self) -> bool {
        matches!(
            self,
            EnvironmentStatus::Creating
                | EnvironmentStatus::Pausing
                | EnvironmentStatus::Resuming
                | EnvironmentStatus::Deleting
        )
    }
}

impl fmt::Display for EnvironmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An environment in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnvironmentSummary {
    pub id: EnvironmentId,
    pub name: EnvironmentName,
    pub kind: EnvironmentKind,
    /// The catalog it was created from (its current name; its name at
    /// creation once the catalog was deleted).
    pub catalog: String,
    pub cluster: ClusterName,
    /// The Kubernetes namespace, `lapdev-<name>-<suffix>`.
    pub namespace: String,
    /// Who created it (for a Personal environment: its owner). Absent when
    /// that account no longer exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Username>,
    pub status: EnvironmentStatus,
    /// Why it is failed or waiting (e.g. `ImagePullBackOff: …`, "waiting for
    /// cluster dev to come back online").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// One workload of an environment, as the cluster last reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnvironmentWorkload {
    pub kind: WorkloadKind,
    pub name: String,
    /// Desired pods (0 while paused).
    pub desired: u32,
    pub ready: u32,
    pub available: u32,
    /// Why it is not available, from Kubernetes (e.g. `ImagePullBackOff`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// How many pods each Deployment and StatefulSet runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReplicasPolicy {
    /// As in the catalog (production). The default for Shared environments.
    Keep,
    /// At most this many (fewer, including 0, is kept). `{"at_most": 1}` is
    /// the default for Personal environments.
    AtMost(u32),
}

/// An environment in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Environment {
    #[serde(flatten)]
    pub summary: EnvironmentSummary,
    /// What was last asked for.
    pub desired: DesiredState,
    pub replicas: ReplicasPolicy,
    /// Increases with every accepted change.
    pub generation: u64,
    /// The generation the cluster last applied completely.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<u64>,
    /// Whether the target cluster's kube-manager is connected now.
    pub cluster_connected: bool,
    /// Sorted by kind, then name.
    pub workloads: Vec<EnvironmentWorkload>,
    /// Things that will likely not work as expected (from the last apply).
    pub warnings: Vec<String>,
    /// Changes on every update of the environment and whenever its
    /// cluster connects or disconnects; pass it as `?after=` to wait for
    /// the next change. Compare for equality only (it may restart lower
    /// after a server restart).
    pub revision: u64,
}

/// One Secret value for a key the catalog's Secret policy redacted.
/// `Debug` never prints the value.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SecretValueInput {
    /// The Secret's name (as in the catalog).
    pub secret: String,
    pub key: String,
    /// The plain value (not base64).
    pub value: String,
}

impl fmt::Debug for SecretValueInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretValueInput")
            .field("secret", &self.secret)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// `POST /api/v1/orgs/{org}/environments`: Personal (any member; the
/// cluster needs the `personal` permission) or Shared (admins; `shared`).
/// The cluster must have the `target` role and be connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreateEnvironment {
    pub name: EnvironmentName,
    pub catalog: CatalogName,
    pub cluster: ClusterName,
    pub kind: EnvironmentKind,
    /// Default: `{"at_most": 1}` for Personal, `keep` for Shared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<ReplicasPolicy>,
    /// A value for every key the catalog lists in `required_values`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_values: Vec<SecretValueInput>,
}

/// `GET /api/v1/orgs/{org}/environments` filters (plus pagination).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EnvironmentsQuery {
    /// Only this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<EnvironmentKind>,
    /// Items per page, 1 to 200; default 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Opaque cursor from a previous page's `next_cursor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// `GET /api/v1/orgs/{org}/environments/{env}?after=REVISION`: with
/// `after`, the answer waits (up to `wait_secs`, default 20, at most 25)
/// until the environment's `revision` differs from it (it also changes
/// when the cluster connects or disconnects), then returns it
/// (or, on timeout, returns it unchanged). 404 once it was deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EnvironmentQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_secs: Option<u64>,
}

/// Something that happened to an environment (newest first in lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnvironmentEvent {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// `info` or `warning`.
    pub level: String,
    pub message: String,
}
