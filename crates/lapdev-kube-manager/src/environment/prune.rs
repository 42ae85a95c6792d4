//! Pruning: deletes the objects Lapdev created for an environment that its
//! desired state no longer holds. Only in the environment's own
//! [`ManagedNamespace`], only objects labelled with the environment id
//! (and `lapdev.io/managed: "true"`) that carry the `lapdev.io/origin`
//! annotation every copied catalog object gets — so what controllers made
//! from them (a StatefulSet's PVCs, ReplicaSets, Pods) is never touched.

use std::collections::BTreeSet;

use kube::Api;
use kube::api::{DeleteParams, DynamicObject, ListParams};
use lapdev_manifest::{ObjectKind, ObjectRef, keys};
use lapdev_tunnel_proto::{ManagedNamespace, TunnelError};

use super::apply::api_resource;
use crate::dispatch::kube_error;

/// Deletes what is not in `desired`; returns what it deleted, in apply
/// order.
pub async fn prune(
    client: &kube::Client,
    ns: &ManagedNamespace,
    environment_id: &str,
    desired: &BTreeSet<ObjectRef>,
) -> Result<Vec<ObjectRef>, TunnelError> {
    let selector = format!(
        "{}=true,{}={environment_id}",
        keys::MANAGED,
        keys::ENVIRONMENT
    );
    let mut pruned = Vec::new();
    // Workloads first, so nothing runs without its ConfigMap.
    for kind in ObjectKind::ALL.into_iter().rev() {
        if kind == ObjectKind::Namespace {
            continue;
        }
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), ns.as_str(), &api_resource(kind));
        let list = api
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(kube_error)?;
        for object in list.items {
            let Some(name) = object.metadata.name.as_deref() else {
                continue;
            };
            let copied = object
                .metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(keys::ORIGIN));
            let this = ObjectRef::new(kind, Some(ns.as_str()), name);
            if !copied || desired.contains(&this) {
                continue;
            }
            match api.delete(name, &DeleteParams::background()).await {
                Ok(_) => {}
                // Already gone: what pruning wanted.
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(kube_error(e)),
            }
            tracing::info!(namespace = %ns, object = %this, "pruned");
            pruned.push(this);
        }
    }
    pruned.sort();
    Ok(pruned)
}
