//! App Catalog messages: workload discovery on a source cluster
//! ([`ListWorkloads`] → [`WorkloadList`]), catalog snapshots
//! ([`SnapshotCatalog`] → [`CatalogSnapshot`]) and refreshes with a
//! per-object diff ([`RefreshCatalog`] → [`CatalogRefresh`]).
//!
//! This crate stays free of Kubernetes crates so the server can depend on
//! it. Pure data with no Kubernetes behaviour ([`WorkloadKind`],
//! [`ObjectKind`], [`ObjectRef`], [`SecretPolicy`], [`SecretKey`],
//! [`ResolutionIssue`], [`WorkloadDependencies`], [`ManifestDiff`]) is
//! defined only here: `lapdev-manifest` uses these types.
//! Manifests travel as plain JSON objects (`apiVersion`, `kind`,
//! `metadata`, …), already cleaned and with the Secret policy applied
//! inside the cluster: excluded and redacted values never reach the server.
//!
//! Size: a [`WorkloadSummary`] is about 200 bytes on the wire, so one
//! [`WorkloadList`] of [`MAX_LISTED_WORKLOADS`] rows stays far below
//! [`MAX_FRAME_BYTES`](crate::MAX_FRAME_BYTES); there is no paging. More
//! matches than that come back `truncated` (narrow the filters).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The most rows one [`WorkloadList`] holds (≈ 4 MB on the wire).
pub const MAX_LISTED_WORKLOADS: usize = 20_000;

/// The namespaces hidden from discovery unless `include_system` is set,
/// besides every Lapdev-managed `lapdev-*` namespace.
pub const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease", "lapdev"];

/// Whether discovery hides `namespace` by default: the Kubernetes system
/// namespaces, Lapdev's own `lapdev` and every `lapdev-*` environment.
pub fn is_system_namespace(namespace: &str) -> bool {
    SYSTEM_NAMESPACES.contains(&namespace) || namespace.starts_with("lapdev-")
}

/// The workload kinds a catalog is built from. The wire name is the
/// Kubernetes `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
        }
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lists the workloads of a source cluster. Answered with
/// [`Response::Workloads`](crate::Response::Workloads).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListWorkloads {
    /// Only this namespace; `None` lists every namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Only these kinds; empty means all three.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<WorkloadKind>,
    /// Only workloads whose name contains this (case-sensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_contains: Option<String>,
    /// Also list [system namespaces](is_system_namespace). Naming one in
    /// `namespace` lists it regardless.
    #[serde(default)]
    pub include_system: bool,
}

/// The answer to [`ListWorkloads`]: rows sorted by namespace, kind, name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadList {
    pub workloads: Vec<WorkloadSummary>,
    /// More than [`MAX_LISTED_WORKLOADS`] matched; only the first are listed.
    #[serde(default)]
    pub truncated: bool,
}

/// One row of [`WorkloadList`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadSummary {
    pub namespace: String,
    pub kind: WorkloadKind,
    pub name: String,
    /// The images of its containers (init containers included), in order.
    pub images: Vec<String>,
    /// Desired pods: `spec.replicas` (default 1); for a DaemonSet
    /// `status.desiredNumberScheduled`.
    pub replicas: u32,
    /// Pods reported ready.
    pub ready_replicas: u32,
    /// Pods reported available.
    pub available_replicas: u32,
    /// Every desired pod is available (a workload scaled to 0 is ready).
    pub ready: bool,
}

/// Names one workload of a source cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WorkloadRef {
    pub namespace: String,
    pub kind: WorkloadKind,
    pub name: String,
}

/// `Kind/namespace/name`, like [`ObjectRef`].
impl fmt::Display for WorkloadRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
    }
}

/// What happens to a Secret value stored in a catalog.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretAction {
    /// The value is copied.
    #[default]
    Copy,
    /// The key is kept, the value is not: each environment supplies it.
    Redact,
    /// The key (or, when every key is excluded, the Secret) is not stored.
    Exclude,
}

/// One line of a [`SecretPolicy`]: a Secret, or one key of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRule {
    /// Restricts the rule to one source namespace; `None` matches any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub secret: String,
    /// `None`: the rule covers every key of the Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub action: SecretAction,
}

/// A catalog's Secret policy. The most specific rule wins: a key rule over a
/// Secret rule over `default`; at the same level, one naming the namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretPolicy {
    #[serde(default)]
    pub default: SecretAction,
    #[serde(default)]
    pub rules: Vec<SecretRule>,
}

impl SecretPolicy {
    /// The action for `key` of the Secret `namespace/secret`; with `key:
    /// None`, the action for the Secret as a whole.
    pub fn action_for(
        &self,
        namespace: Option<&str>,
        secret: &str,
        key: Option<&str>,
    ) -> SecretAction {
        self.rules
            .iter()
            .filter(|r| r.secret == secret)
            .filter(|r| r.namespace.is_none() || r.namespace.as_deref() == namespace)
            .filter(|r| r.key.is_none() || r.key.as_deref() == key)
            .max_by_key(|r| (r.key.is_some(), r.namespace.is_some()))
            .map_or(self.default, |r| r.action)
    }
}

/// Builds a catalog snapshot from the named workloads. Answered with
/// [`Response::CatalogSnapshot`](crate::Response::CatalogSnapshot), or
/// [`ErrorCode::NotFound`](crate::ErrorCode::NotFound) naming the first
/// workload that does not exist (nothing partial is ever returned).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotCatalog {
    pub workloads: Vec<WorkloadRef>,
    #[serde(default)]
    pub secret_policy: SecretPolicy,
}

/// Rebuilds a snapshot and diffs it against what the catalog stores now.
/// Answered with [`Response::CatalogRefresh`](crate::Response::CatalogRefresh).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshCatalog {
    pub workloads: Vec<WorkloadRef>,
    #[serde(default)]
    pub secret_policy: SecretPolicy,
    /// The catalog's stored objects ([`CatalogSnapshot::objects`] of the
    /// last snapshot).
    #[serde(default)]
    pub current: Vec<Value>,
}

/// Prints object names, never manifests (they hold Secret values).
impl fmt::Debug for RefreshCatalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshCatalog")
            .field("workloads", &self.workloads)
            .field("secret_policy", &self.secret_policy)
            .field("current", &ObjectNames(&self.current))
            .finish()
    }
}

/// Kinds Lapdev copies into a catalog, in apply order. The wire name is
/// the Kubernetes `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ObjectKind {
    Namespace,
    ServiceAccount,
    ConfigMap,
    Secret,
    PersistentVolumeClaim,
    Service,
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 9] = [
        ObjectKind::Namespace,
        ObjectKind::ServiceAccount,
        ObjectKind::ConfigMap,
        ObjectKind::Secret,
        ObjectKind::PersistentVolumeClaim,
        ObjectKind::Service,
        ObjectKind::Deployment,
        ObjectKind::StatefulSet,
        ObjectKind::DaemonSet,
    ];

    /// The Kubernetes `kind` string.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Namespace => "Namespace",
            ObjectKind::ServiceAccount => "ServiceAccount",
            ObjectKind::ConfigMap => "ConfigMap",
            ObjectKind::Secret => "Secret",
            ObjectKind::PersistentVolumeClaim => "PersistentVolumeClaim",
            ObjectKind::Service => "Service",
            ObjectKind::Deployment => "Deployment",
            ObjectKind::StatefulSet => "StatefulSet",
            ObjectKind::DaemonSet => "DaemonSet",
        }
    }

    /// Apply order: the namespace first, then what pods mount or run as
    /// (ServiceAccounts, ConfigMaps, Secrets, PersistentVolumeClaims), then
    /// Services, then workloads.
    /// A workload applied before its ConfigMap would start and fail.
    pub fn apply_rank(self) -> u8 {
        match self {
            ObjectKind::Namespace => 0,
            ObjectKind::ServiceAccount
            | ObjectKind::ConfigMap
            | ObjectKind::Secret
            | ObjectKind::PersistentVolumeClaim => 1,
            ObjectKind::Service => 2,
            ObjectKind::Deployment | ObjectKind::StatefulSet | ObjectKind::DaemonSet => 3,
        }
    }

    /// The workload kind, if this is one.
    pub fn workload(self) -> Option<WorkloadKind> {
        match self {
            ObjectKind::Deployment => Some(WorkloadKind::Deployment),
            ObjectKind::StatefulSet => Some(WorkloadKind::StatefulSet),
            ObjectKind::DaemonSet => Some(WorkloadKind::DaemonSet),
            _ => None,
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<WorkloadKind> for ObjectKind {
    fn from(kind: WorkloadKind) -> Self {
        match kind {
            WorkloadKind::Deployment => ObjectKind::Deployment,
            WorkloadKind::StatefulSet => ObjectKind::StatefulSet,
            WorkloadKind::DaemonSet => ObjectKind::DaemonSet,
        }
    }
}

/// Names one object. Ordered by kind (which is apply order, see
/// [`ObjectKind::apply_rank`]), then namespace and name, so sorting a list
/// of refs sorts it in apply order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    pub kind: ObjectKind,
    /// `None` for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn new(kind: ObjectKind, namespace: Option<&str>, name: &str) -> Self {
        ObjectRef {
            kind,
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        }
    }
}

/// `Kind/namespace/name`, or `Kind/name` when cluster-scoped.
impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// How bad a missing reference is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The reference is optional: pods start without it.
    Note,
    /// Pods will not start (or will not work) without it.
    Warning,
}

/// A reference that could not be satisfied in the source cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResolutionIssue {
    pub severity: Severity,
    /// The workload that makes the reference.
    pub workload: ObjectRef,
    /// Where in the workload (or its ServiceAccount), e.g.
    /// `spec.template.spec.containers[api].env[DB].valueFrom.secretKeyRef`.
    pub field: String,
    /// The object that is missing (or that lacks `key`).
    pub missing: ObjectRef,
    /// Set when the object exists but this key does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// One line for people: `warning: Deployment/shop/api references …`.
impl fmt::Display for ResolutionIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (severity, optional) = match self.severity {
            Severity::Note => ("note", " (optional)"),
            Severity::Warning => ("warning", ""),
        };
        let (workload, missing, field) = (&self.workload, &self.missing, &self.field);
        match &self.key {
            Some(key) => write!(
                f,
                "{severity}: {workload} references key {key:?} of {missing}{optional} at {field}, but {missing} has no such key"
            ),
            None => write!(
                f,
                "{severity}: {workload} references {missing}{optional} at {field}, which does not exist"
            ),
        }
    }
}

/// What one workload depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadDependencies {
    pub workload: ObjectRef,
    /// Found objects, in apply order.
    pub depends_on: Vec<ObjectRef>,
}

/// One redacted value an environment must supply.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SecretKey {
    pub secret: String,
    pub key: String,
}

/// `secret/key`.
impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.secret, self.key)
    }
}

/// What a catalog stores.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogSnapshot {
    /// Cleaned manifests, Secret policy applied, in apply order. A redacted
    /// Secret lists its redacted keys in the `lapdev.io/redacted-keys`
    /// annotation and has no value for them.
    pub objects: Vec<Value>,
    pub dependencies: Vec<WorkloadDependencies>,
    /// Missing references (warnings first, then notes); show them.
    pub issues: Vec<ResolutionIssue>,
    /// Secrets the policy excluded entirely.
    pub excluded_secrets: Vec<ObjectRef>,
    /// Redacted values every environment must supply.
    pub required_values: Vec<SecretKey>,
}

/// Prints object names, never manifests (they hold Secret values).
impl fmt::Debug for CatalogSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CatalogSnapshot")
            .field("objects", &ObjectNames(&self.objects))
            .field("dependencies", &self.dependencies)
            .field("issues", &self.issues)
            .field("excluded_secrets", &self.excluded_secrets)
            .field("required_values", &self.required_values)
            .finish()
    }
}

/// The answer to [`RefreshCatalog`]: the fresh snapshot and what changed
/// from the stored objects to it (show it; store the snapshot on approval).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogRefresh {
    pub snapshot: CatalogSnapshot,
    pub diff: ManifestDiff,
}

/// Per-object differences, in apply order; unchanged objects are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestDiff {
    pub objects: Vec<ObjectDiff>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectDiff {
    pub object: ObjectRef,
    pub change: ObjectChange,
}

/// Tagged by `"type"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ObjectChange {
    Added,
    Removed,
    Changed { fields: Vec<FieldChange> },
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// A JSON pointer (RFC 6901) into the object, e.g. `/spec/replicas`.
    pub path: String,
    pub old: FieldValue,
    pub new: FieldValue,
}

/// One side of a [`FieldChange`]: `{"state": "absent"}`, `{"state":
/// "hidden"}` (a Secret value: never shown) or `{"state": "value", "value": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "value", rename_all = "snake_case")]
pub enum FieldValue {
    Absent,
    Hidden,
    Value(Value),
}

impl ManifestDiff {
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}

/// A unified-diff-like listing for the CLI:
///
/// ```text
/// + ConfigMap/shop/new-config
/// - Service/shop/legacy
/// ~ Deployment/shop/api
///     /spec/replicas: 2 -> 3
///     /spec/template/spec/containers/0/image: "api:1.0" -> "api:1.1"
/// ~ Secret/shop/db
///     /data/password: (secret) -> (secret)
/// ```
impl fmt::Display for ManifestDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.objects.is_empty() {
            return writeln!(f, "no changes");
        }
        for object in &self.objects {
            match &object.change {
                ObjectChange::Added => writeln!(f, "+ {}", object.object)?,
                ObjectChange::Removed => writeln!(f, "- {}", object.object)?,
                ObjectChange::Changed { fields } => {
                    writeln!(f, "~ {}", object.object)?;
                    for field in fields {
                        let path = if field.path.is_empty() {
                            "/"
                        } else {
                            &field.path
                        };
                        writeln!(f, "    {path}: {} -> {}", field.old, field.new)?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Absent => f.write_str("(absent)"),
            FieldValue::Hidden => f.write_str("(secret)"),
            FieldValue::Value(v) => write!(f, "{v}"),
        }
    }
}

/// `Debug` of manifests as `Kind/namespace/name` only.
struct ObjectNames<'a>(&'a [Value]);

impl fmt::Debug for ObjectNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self.0.iter().map(|o| {
            let s = |v: &Value| v.as_str().unwrap_or("?").to_string();
            format!(
                "{}/{}/{}",
                s(&o["kind"]),
                s(&o["metadata"]["namespace"]),
                s(&o["metadata"]["name"])
            )
        });
        f.debug_list().entries(names).finish()
    }
}
