//! Building a catalog snapshot: resolve, clean, apply the Secret policy —
//! the one call kube-manager makes when a catalog is created or refreshed.
//!
//! A refresh is `build_catalog` on the source's current objects followed by
//! [`diff()`](crate::diff()) against the stored snapshot; both sides went through the
//! same policy, so a redacted value never shows up as a change.

use serde::{Deserialize, Serialize};

use crate::clean::clean;
use crate::object::{ManifestObject, ObjectRef};
use crate::references::{Resolution, ResolutionIssue, WorkloadDependencies, resolve};
use crate::secrets::{SecretKey, SecretOutcome, SecretPolicy, apply_policy, required_values};

/// What a catalog stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogSnapshot {
    /// Cleaned, with the Secret policy applied, in apply order.
    pub objects: Vec<ManifestObject>,
    pub dependencies: Vec<WorkloadDependencies>,
    /// Missing references; shown on the catalog, never dropped.
    pub issues: Vec<ResolutionIssue>,
    /// Secrets the policy excluded: each environment's namespace must get
    /// them some other way (or the workloads must treat them as optional).
    pub excluded_secrets: Vec<ObjectRef>,
    /// Redacted values every environment must supply before it can start.
    pub required_values: Vec<SecretKey>,
}

/// Resolves `workloads` against `available` (the source namespaces'
/// objects), cleans every object and applies `policy` to every Secret.
pub fn build_catalog(
    workloads: &[ManifestObject],
    available: &[ManifestObject],
    policy: &SecretPolicy,
) -> CatalogSnapshot {
    let Resolution {
        objects,
        dependencies,
        issues,
    } = resolve(workloads, available);
    let mut kept = Vec::with_capacity(objects.len());
    let mut excluded_secrets = Vec::new();
    for object in objects {
        match clean(object) {
            ManifestObject::Secret(secret) => match apply_policy(&secret, policy) {
                SecretOutcome::Excluded => {
                    excluded_secrets.push(ManifestObject::Secret(secret).object_ref());
                }
                SecretOutcome::Kept { secret, .. } => kept.push(ManifestObject::Secret(secret)),
            },
            other => kept.push(other),
        }
    }
    let required_values = required_values(&kept);
    CatalogSnapshot {
        objects: kept,
        dependencies,
        issues,
        excluded_secrets,
        required_values,
    }
}
