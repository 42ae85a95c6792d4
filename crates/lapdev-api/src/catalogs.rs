//! App Catalogs and workload discovery: the workloads of a source cluster,
//! catalogs built from some of them (with their dependencies, warnings and
//! Secret policy), edits and refreshes with a per-object diff.
//!
//! Secret values never appear in these types: a catalog shows the keys of
//! its Secrets only, and a diff shows a changed Secret value as `hidden`.

use jiff::Timestamp;
use lapdev_domain::{CatalogId, CatalogName, ClusterName};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A kind of workload a catalog is built from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl WorkloadKind {
    pub const ALL: [WorkloadKind; 3] = [
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
        }
    }

    /// Parses `Deployment`, `deployment`, `deploy`, `sts`, `ds`, … (any case).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "deployment" | "deployments" | "deploy" => Some(WorkloadKind::Deployment),
            "statefulset" | "statefulsets" | "sts" => Some(WorkloadKind::StatefulSet),
            "daemonset" | "daemonsets" | "ds" => Some(WorkloadKind::DaemonSet),
            _ => None,
        }
    }
}

impl std::fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `GET /api/v1/orgs/{org}/clusters/{cluster}/workloads` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkloadsQuery {
    /// Only this namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Comma-separated kinds (`Deployment,StatefulSet`, `deploy,sts`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Only workloads whose name contains this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Also list system namespaces (`kube-*`, `lapdev`, `lapdev-*`).
    #[serde(default)]
    pub include_system: bool,
}

/// One workload of a source cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Workload {
    pub namespace: String,
    pub kind: WorkloadKind,
    pub name: String,
    /// Container images (init containers included), in order.
    pub images: Vec<String>,
    /// Desired pods.
    pub replicas: u32,
    pub ready_replicas: u32,
    pub available_replicas: u32,
    /// Every desired pod is available.
    pub ready: bool,
}

/// The answer to listing workloads, sorted by namespace, kind, name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WorkloadList {
    pub items: Vec<Workload>,
    /// More matched than one answer holds: narrow the filters.
    #[serde(default)]
    pub truncated: bool,
}

/// Names one workload of the source cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
pub struct WorkloadRef {
    pub namespace: String,
    pub kind: WorkloadKind,
    pub name: String,
}

/// `namespace/Kind/name`, as the CLI takes it.
impl std::fmt::Display for WorkloadRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.namespace, self.kind, self.name)
    }
}

impl std::str::FromStr for WorkloadRef {
    type Err = String;

    /// `namespace/kind/name`; the kind as [`WorkloadKind::parse`] takes it.
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split('/').collect();
        let [namespace, kind, name] = parts[..] else {
            return Err(format!(
                "{s:?} is not namespace/kind/name (e.g. shop/Deployment/api)"
            ));
        };
        let kind = WorkloadKind::parse(kind).ok_or_else(|| {
            format!("{kind:?} is not a workload kind: use Deployment, StatefulSet or DaemonSet")
        })?;
        if namespace.is_empty() || name.is_empty() {
            return Err(format!("{s:?} is not namespace/kind/name"));
        }
        Ok(WorkloadRef {
            namespace: namespace.into(),
            kind,
            name: name.into(),
        })
    }
}

/// What happens to a Secret value stored in a catalog.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecretAction {
    /// The value is copied (encrypted at rest).
    #[default]
    Copy,
    /// The key is kept, the value is not: each environment supplies it.
    Redact,
    /// The key (or the whole Secret) is not stored.
    Exclude,
}

/// One rule of a [`SecretPolicy`]: a Secret, or one key of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SecretRule {
    /// Only in this namespace; absent: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub secret: String,
    /// Absent: every key of the Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub action: SecretAction,
}

/// What a catalog keeps of Secret values. The most specific rule wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SecretPolicy {
    #[serde(default)]
    pub default: SecretAction,
    #[serde(default)]
    pub rules: Vec<SecretRule>,
}

/// `POST /api/v1/orgs/{org}/catalogs` (admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreateCatalog {
    pub name: CatalogName,
    #[serde(default)]
    pub description: String,
    /// The source cluster (it needs the `source` role and must be connected).
    pub cluster: ClusterName,
    /// At least one.
    pub workloads: Vec<WorkloadRef>,
    #[serde(default)]
    pub secret_policy: SecretPolicy,
}

/// `PATCH /api/v1/orgs/{org}/catalogs/{catalog}` (admins); absent fields are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UpdateCatalog {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<CatalogName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `POST /api/v1/orgs/{org}/catalogs/{catalog}/workloads` (admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AddWorkloads {
    pub workloads: Vec<WorkloadRef>,
}

/// A row of the catalog list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogSummary {
    pub id: CatalogId,
    pub name: CatalogName,
    pub description: String,
    /// Absent when the source cluster was deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_cluster: Option<ClusterName>,
    pub workload_count: u32,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// Names one stored object. `kind` is the Kubernetes kind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
pub struct ObjectRef {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// One object a catalog stores. For a Secret, its keys (never values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogObject {
    #[serde(flatten)]
    pub object: ObjectRef,
    /// Secret keys whose value is stored (encrypted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_keys: Vec<String>,
    /// Secret keys kept without value (redacted by the policy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redacted_keys: Vec<String>,
}

/// What one workload uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogDependencies {
    pub workload: ObjectRef,
    pub depends_on: Vec<ObjectRef>,
}

/// How bad a missing reference is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Optional: pods start without it.
    Note,
    /// Pods will not start (or not work) without it.
    Warning,
}

/// A reference the source cluster could not satisfy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogWarning {
    pub severity: Severity,
    pub workload: ObjectRef,
    /// Where, e.g. `spec.template.spec.containers[api].env[DB].valueFrom.secretKeyRef`.
    pub field: String,
    pub missing: ObjectRef,
    /// Set when the object exists but lacks this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A value each environment must supply (redacted by the policy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RequiredValue {
    pub secret: String,
    pub key: String,
}

/// A catalog in full (Secret keys only, never values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Catalog {
    #[serde(flatten)]
    pub summary: CatalogSummary,
    pub workloads: Vec<WorkloadRef>,
    /// Every stored object, in apply order.
    pub objects: Vec<CatalogObject>,
    pub dependencies: Vec<CatalogDependencies>,
    /// Missing references, warnings first.
    pub warnings: Vec<CatalogWarning>,
    pub secret_policy: SecretPolicy,
    /// Secrets the policy excluded entirely.
    pub excluded_secrets: Vec<ObjectRef>,
    pub required_values: Vec<RequiredValue>,
}

/// One side of a field change: `{"state":"absent"}`, `{"state":"hidden"}`
/// (a Secret value, never shown) or `{"state":"value","value":...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "state", content = "value", rename_all = "snake_case")]
pub enum FieldValue {
    Absent,
    Hidden,
    Value(serde_json::Value),
}

/// One field that differs, as a JSON pointer into the object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldChange {
    pub path: String,
    pub old: FieldValue,
    pub new: FieldValue,
}

/// How an object changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ObjectChange {
    Added,
    Removed,
    Changed { fields: Vec<FieldChange> },
}

/// One object that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObjectDiff {
    pub object: ObjectRef,
    pub change: ObjectChange,
}

/// `POST .../catalogs/{catalog}/refresh`: what applying the source's current
/// state would change. Apply it with its `digest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RefreshPreview {
    /// Identifies exactly this preview: pass it to `refresh/apply`.
    pub digest: String,
    /// Unchanged objects are left out; empty: up to date.
    pub changes: Vec<ObjectDiff>,
    /// Missing references in the fresh snapshot.
    pub warnings: Vec<CatalogWarning>,
}

/// `POST .../catalogs/{catalog}/refresh/apply` (admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApplyRefresh {
    /// The `digest` of the preview to apply. If the source (or the catalog)
    /// changed since, nothing is applied (409).
    pub digest: String,
}
