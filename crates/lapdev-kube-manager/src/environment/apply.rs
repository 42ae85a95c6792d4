//! The one server-side apply of every object an environment holds, whatever
//! its kind: a [`DynamicObject`] through the [`ApiResource`] of its kind,
//! under the field manager [`FIELD_MANAGER`](super::FIELD_MANAGER), with
//! `force` (Lapdev owns what it applies). Re-applying the same object is a
//! no-op for the API server.
//!
//! It is also the last line of the write guard: a namespaced object goes
//! only to the [`ManagedNamespace`] given (a different `metadata.namespace`
//! is refused), and the only cluster-scoped object it writes is that
//! namespace itself.

use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams};
use kube::{Api, ResourceExt};
use lapdev_tunnel_proto::{ManagedNamespace, TunnelError};
use serde_json::Value;

use crate::dispatch::kube_error;
pub use crate::source::api_resource;

/// The RoleBinding kube-manager adds to each environment namespace.
pub fn role_binding_resource() -> ApiResource {
    ApiResource::erase::<RoleBinding>(&())
}

/// Server-side applies `object` (JSON with `apiVersion`, `kind` and
/// `metadata.name`) of kind `resource` into `ns`.
pub async fn apply(
    client: &kube::Client,
    ns: &ManagedNamespace,
    resource: &ApiResource,
    object: Value,
) -> Result<DynamicObject, TunnelError> {
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let api: Api<DynamicObject> = if resource.kind == "Namespace" {
        if name != ns.as_str() {
            return Err(refused(ns, &format!("Namespace {name}")));
        }
        Api::all_with(client.clone(), resource)
    } else {
        match object["metadata"]["namespace"].as_str() {
            None => {}
            Some(other) if other == ns.as_str() => {}
            Some(other) => {
                return Err(refused(ns, &format!("{} {other}/{name}", resource.kind)));
            }
        }
        Api::namespaced_with(client.clone(), ns.as_str(), resource)
    };
    let params = PatchParams::apply(super::FIELD_MANAGER).force();
    let applied = api
        .patch(&name, &params, &Patch::Apply(&object))
        .await
        .map_err(|e| {
            let mut error = kube_error(e);
            error.message = format!("applying {} {name}: {}", resource.kind, error.message);
            error
        })?;
    tracing::debug!(kind = %resource.kind, name = %applied.name_any(), namespace = %ns, "applied");
    Ok(applied)
}

fn refused(ns: &ManagedNamespace, what: &str) -> TunnelError {
    TunnelError::forbidden(format!(
        "refusing to write {what}: this environment may only write into namespace {ns}"
    ))
}
