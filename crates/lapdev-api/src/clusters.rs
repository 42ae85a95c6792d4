//! Connected Kubernetes clusters: roles, permissions, status and the facts
//! kube-manager reports; the cluster token is shown once (at creation and
//! rotation) and stored only as a hash.

use jiff::Timestamp;
use lapdev_domain::{ClusterId, ClusterName, ClusterPermission, ClusterRole};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Whether kube-manager is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClusterStatus {
    /// kube-manager never connected.
    Pending,
    /// A tunnel is up and heartbeats arrive.
    Active,
    /// Seen before, but no tunnel or no heartbeat within the offline timeout.
    Offline,
}

impl ClusterStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            ClusterStatus::Pending => "pending",
            ClusterStatus::Active => "active",
            ClusterStatus::Offline => "offline",
        }
    }
}

impl std::fmt::Display for ClusterStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Cluster {
    pub id: ClusterId,
    pub name: ClusterName,
    /// One or both of `source` and `target`.
    pub roles: Vec<ClusterRole>,
    /// The environment types allowed here: `personal`, `shared`, both or none.
    pub permissions: Vec<ClusterPermission>,
    pub status: ClusterStatus,
    /// Last heartbeat or status report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen_at: Option<Timestamp>,
    /// From kube-manager's last status report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_manager_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_count: Option<u32>,
    /// Allocatable CPU over all nodes, in millicores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocatable_cpu_millis: Option<u64>,
    /// Allocatable memory over all nodes, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocatable_memory_bytes: Option<u64>,
    /// The first characters of the current token; absent after a revocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_prefix: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// `POST /api/v1/orgs/{org}/clusters` (admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreateCluster {
    pub name: ClusterName,
    /// Default: both `source` and `target`. Must not be empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<ClusterRole>>,
    /// Default: both `personal` and `shared`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<ClusterPermission>>,
}

/// `PATCH /api/v1/orgs/{org}/clusters/{cluster}` (admins): rename, set the
/// roles or the permissions; absent fields are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UpdateCluster {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<ClusterName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<ClusterRole>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<ClusterPermission>>,
}

/// A cluster with its new token: the answer to creating a cluster and to
/// rotating its token. The token is shown this once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClusterCredentials {
    pub cluster: Cluster,
    /// The cluster token. kube-manager sends it as `Authorization: Bearer`.
    pub token: String,
    /// `kubectl apply -f '<server>/install/kube-manager.yaml?token=...'`:
    /// installs kube-manager with this token (contains the token).
    pub install_command: String,
    /// After a rotation: until when the previous token keeps working (or
    /// until kube-manager connects with the new one, whichever is first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub previous_token_retires_at: Option<Timestamp>,
}

impl std::fmt::Debug for ClusterCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterCredentials")
            .field("cluster", &self.cluster)
            .field("token", &"<redacted>")
            .field("install_command", &"<redacted>")
            .field("previous_token_retires_at", &self.previous_token_retires_at)
            .finish()
    }
}

/// Query of the install manifest: `?namespaces=shop,billing` restricts
/// kube-manager's read access to those source namespaces (Roles instead of
/// the cluster-wide read ClusterRole).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InstallManifestQuery {
    /// Comma-separated source namespaces; absent: read access cluster-wide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<String>,
}

/// The media type of the install manifest.
pub const MANIFEST_CONTENT_TYPE: &str = "application/yaml";

/// The Secret value the authenticated manifest endpoint writes instead of
/// the token (which the server does not keep): replace it, or let
/// `lapdev cluster install-manifest --token` do it.
pub const TOKEN_PLACEHOLDER: &str = "REPLACE-WITH-THE-CLUSTER-TOKEN";
