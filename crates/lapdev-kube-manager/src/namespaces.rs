//! Writes to namespaces. Every function takes a [`ManagedNamespace`], so it
//! cannot be pointed at a namespace Lapdev does not manage.

use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::DeleteParams;
use lapdev_tunnel_proto::{ManagedNamespace, TunnelError};

use crate::dispatch::kube_error;
use crate::guard;

/// Deletes a managed namespace (and so everything in it) after checking
/// that Lapdev created it.
pub async fn delete(client: &kube::Client, ns: &ManagedNamespace) -> Result<(), TunnelError> {
    let api: Api<Namespace> = Api::all(client.clone());
    let object = api.get(ns.as_str()).await.map_err(kube_error)?;
    guard::check_managed_label(ns, &object)?;
    api.delete(ns.as_str(), &DeleteParams::background())
        .await
        .map_err(kube_error)?;
    tracing::info!(namespace = %ns, "deleted namespace");
    Ok(())
}
