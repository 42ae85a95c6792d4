//! What the server asks kube-manager to do ([`Request`]) and the answers
//! ([`Response`]), plus the [`ClusterStatus`] report.

use serde::{Deserialize, Serialize};

use crate::catalog::{
    CatalogRefresh, CatalogSnapshot, ListWorkloads, RefreshCatalog, SnapshotCatalog, WorkloadList,
};
use crate::environment::{
    ApplyEnvironment, EnvironmentApplied, EnvironmentStatus, GetEnvironmentStatus,
};

/// Work the server asks of kube-manager. Tagged by `"kind"` on the wire.
///
/// Adding a variant is backward compatible (see the crate docs): append it
/// here, add its name to [`Request::KINDS`] and a golden test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Request {
    /// Answered with [`Response::Pong`]; measures round trips.
    Ping,
    /// Answered with [`Response::ClusterStatus`], collected now.
    GetClusterStatus,
    /// Deletes a Lapdev-managed namespace and everything in it (environment
    /// teardown). The name travels as a plain string because the server is
    /// not trusted with kube-manager's rules: kube-manager answers
    /// [`ErrorCode::Forbidden`](crate::ErrorCode::Forbidden) unless it parses
    /// as a [`ManagedNamespace`](crate::ManagedNamespace) *and* the namespace
    /// carries the [`MANAGED_LABEL`](crate::MANAGED_LABEL) label.
    /// Answered with [`Response::Deleted`].
    DeleteNamespace { namespace: String },
    /// Lists the Deployments, StatefulSets and DaemonSets of a source
    /// cluster. Read-only. Answered with [`Response::Workloads`].
    ListWorkloads(ListWorkloads),
    /// Reads the named workloads and everything they reference, applies
    /// the Secret policy in the cluster and answers
    /// [`Response::CatalogSnapshot`]. Read-only.
    SnapshotCatalog(SnapshotCatalog),
    /// Like [`Request::SnapshotCatalog`], plus the diff from the stored
    /// objects: answered with [`Response::CatalogRefresh`]. Read-only.
    RefreshCatalog(RefreshCatalog),
    /// Reconciles an environment's namespace to its full desired state.
    /// Answered with [`Response::EnvironmentApplied`]; see
    /// [`environment`](crate::environment) for the contract.
    ApplyEnvironment(ApplyEnvironment),
    /// Answered with [`Response::EnvironmentStatus`], collected now.
    GetEnvironmentStatus(GetEnvironmentStatus),
}

impl Request {
    /// The wire name of every kind this build understands.
    pub const KINDS: &'static [&'static str] = &[
        "ping",
        "get_cluster_status",
        "delete_namespace",
        "list_workloads",
        "snapshot_catalog",
        "refresh_catalog",
        "apply_environment",
        "get_environment_status",
    ];

    /// This request's wire name.
    pub fn kind(&self) -> &'static str {
        match self {
            Request::Ping => "ping",
            Request::GetClusterStatus => "get_cluster_status",
            Request::DeleteNamespace { .. } => "delete_namespace",
            Request::ListWorkloads(_) => "list_workloads",
            Request::SnapshotCatalog(_) => "snapshot_catalog",
            Request::RefreshCatalog(_) => "refresh_catalog",
            Request::ApplyEnvironment(_) => "apply_environment",
            Request::GetEnvironmentStatus(_) => "get_environment_status",
        }
    }
}

/// kube-manager's successful answer to a [`Request`]. Tagged by `"kind"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Response {
    Pong,
    ClusterStatus(ClusterStatus),
    /// The deletion was accepted (Kubernetes finishes it asynchronously).
    Deleted,
    /// The answer to [`Request::ListWorkloads`].
    Workloads(WorkloadList),
    /// The answer to [`Request::SnapshotCatalog`].
    CatalogSnapshot(CatalogSnapshot),
    /// The answer to [`Request::RefreshCatalog`].
    CatalogRefresh(CatalogRefresh),
    /// The answer to [`Request::ApplyEnvironment`].
    EnvironmentApplied(EnvironmentApplied),
    /// The answer to [`Request::GetEnvironmentStatus`].
    EnvironmentStatus(EnvironmentStatus),
}

/// Facts about the cluster, as kube-manager sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// kube-manager's own version.
    pub kube_manager_version: String,
    /// The API server's `gitVersion` from `/version`, e.g. `v1.33.2`.
    pub kubernetes_version: String,
    /// How many Nodes the cluster has.
    pub node_count: u32,
    /// How many of them report the `Ready` condition as `True`.
    pub ready_node_count: u32,
    /// Allocatable CPU summed over all nodes, in millicores.
    pub allocatable_cpu_millis: u64,
    /// Allocatable memory summed over all nodes, in bytes.
    pub allocatable_memory_bytes: u64,
}
