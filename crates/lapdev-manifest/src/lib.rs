//! Kubernetes manifest logic for App Catalogs and environments, as pure
//! functions over `k8s-openapi` types.
//!
//! The pipeline, one module per step:
//!
//! * [`object`]: [`ManifestObject`], the closed set of kinds Lapdev copies, with
//!   one generic way to reach metadata and JSON conversion for the wire.
//! * [`clean`](mod@clean): strip what the source cluster wrote (uid,
//!   status, cluster IPs, finalizers, …).
//! * [`references`]: what a workload needs (ConfigMaps, Secrets,
//!   PersistentVolumeClaims, its ServiceAccount, matching Services) and what
//!   is missing.
//! * [`secrets`]: the catalog's Secret policy (copy, redact, exclude).
//! * [`catalog`]: resolve + clean + policy in one call: what a catalog stores.
//! * [`diff`](mod@diff): per-object, per-field differences between two object sets.
//! * [`environment`]: the objects an environment applies, in apply order.
//!
//! No I/O happens here: `lapdev-kube-manager` reads and applies, this crate
//! decides. The Lapdev server never depends on this crate (it must not depend
//! on `k8s-openapi`); it stores the JSON that [`ManifestObject::to_value`]
//! produces. The plain data both sides share (object refs and kinds, the
//! Secret policy, issues, diffs, …) is `lapdev-tunnel-proto`'s, re-exported
//! here; this crate adds what needs Kubernetes types.

pub mod catalog;
pub mod clean;
pub mod diff;
pub mod environment;
pub mod object;
pub mod references;
pub mod secrets;

pub use catalog::{CatalogSnapshot, build_catalog};
pub use clean::clean;
pub use diff::{FieldChange, FieldValue, ManifestDiff, ObjectChange, ObjectDiff, diff};
pub use environment::{
    EnvironmentError, EnvironmentKind, EnvironmentPlan, EnvironmentSpec, NoExtension,
    PodTemplateExtension, ReplicasPolicy, TargetNamespace, build_environment,
};
pub use object::{
    KindInfo, KindInfoExt, ManifestObject, ObjectError, ObjectKind, ObjectRef, WorkloadKind,
};
pub use references::{
    Reference, Resolution, ResolutionIssue, Severity, WorkloadDependencies, matching_services,
    resolve, workload_references,
};
pub use secrets::{SecretAction, SecretKey, SecretPolicy, SecretRule, SecretValues};

/// Labels and annotations Lapdev writes. Their values are part of the
/// contract with kube-manager and the server (which reads them from JSON).
pub mod keys {
    /// Label on every object (and namespace) Lapdev manages: `"true"`.
    pub const MANAGED: &str = "lapdev.io/managed";
    /// Label: the environment id.
    pub const ENVIRONMENT: &str = "lapdev.io/environment";
    /// Label: the catalog id.
    pub const CATALOG: &str = "lapdev.io/catalog";
    /// Annotation: the environment's display name.
    pub const ENVIRONMENT_NAME: &str = "lapdev.io/environment-name";
    /// Annotation: the catalog's display name.
    pub const CATALOG_NAME: &str = "lapdev.io/catalog-name";
    /// Annotation: the source object this one was copied from,
    /// `Kind/namespace/name` (see [`crate::ObjectRef`]'s `Display`).
    pub const ORIGIN: &str = "lapdev.io/origin";
    /// Annotation on a catalog Secret: the comma-separated, sorted keys whose
    /// values were redacted and must be supplied by each environment.
    pub const REDACTED_KEYS: &str = "lapdev.io/redacted-keys";
}
