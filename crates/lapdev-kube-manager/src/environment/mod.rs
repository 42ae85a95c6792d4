//! Environments: reconciling a Lapdev-managed namespace to the full desired
//! state the server sends ([`reconcile`]), reading its status
//! ([`observe::collect`], [`status::evaluate`]) and pushing status changes
//! as they happen ([`watch`]).
//!
//! The reconcile is level-triggered and idempotent: it assumes nothing
//! about why it runs and keeps no state. Every object goes through one
//! generic server-side apply ([`apply::apply`]) under the one field manager
//! [`FIELD_MANAGER`], in apply order: the Namespace, kube-manager's own
//! RoleBinding, then what `lapdev-manifest` planned (ConfigMaps, Secrets,
//! Services, workloads), tier by tier, the objects of one tier
//! concurrently ([`APPLY_CONCURRENCY`]). Then objects of the environment that are no longer
//! desired are pruned ([`prune`]), and last the Namespace records the
//! generation now applied (annotation [`GENERATION_ANNOTATION`]) — so a
//! reconcile that fails half-way never claims its generation.
//!
//! Every write takes a [`ManagedNamespace`] made by [`guard`]; an existing
//! namespace without the managed label is refused before any write.

pub mod apply;
pub mod observe;
pub mod prune;
pub mod status;
pub mod watch;

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use lapdev_manifest::{
    EnvironmentError, ManifestObject, NoExtension, ObjectKind, ObjectRef, build_environment, keys,
};
use lapdev_tunnel_proto::{ApplyEnvironment, EnvironmentApplied, ManagedNamespace, TunnelError};
use serde_json::{Value, json};

use crate::dispatch::kube_error;
use crate::{guard, wire};

/// Server-side applies in flight at once within one tier of the plan.
pub const APPLY_CONCURRENCY: usize = 8;
/// The one field manager of every server-side apply.
pub const FIELD_MANAGER: &str = "lapdev";
/// Namespace annotation: the generation applied completely.
pub const GENERATION_ANNOTATION: &str = "lapdev.io/generation";
/// Namespace annotation: `"true"` while the environment is paused.
pub const PAUSED_ANNOTATION: &str = "lapdev.io/paused";
/// Pod-template node-selector key that pauses a DaemonSet (no node has it).
pub const PAUSED_NODE_SELECTOR: &str = "lapdev.io/paused";
/// The ClusterRole bound in every environment namespace, and the name of
/// the RoleBinding that binds it (see ARCHITECTURE.md, "Security model").
pub const ENVIRONMENT_ROLE: &str = "lapdev-environment";

/// kube-manager's own ServiceAccount, the subject of the RoleBinding in
/// each environment namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountRef {
    pub namespace: String,
    pub name: String,
}

impl Default for ServiceAccountRef {
    /// `lapdev/lapdev-kube-manager`, as the install manifest creates it.
    fn default() -> Self {
        ServiceAccountRef {
            namespace: "lapdev".into(),
            name: "lapdev-kube-manager".into(),
        }
    }
}

impl std::str::FromStr for ServiceAccountRef {
    type Err = String;
    /// `namespace/name`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('/') {
            Some((namespace, name))
                if !namespace.is_empty() && !name.is_empty() && !name.contains('/') =>
            {
                Ok(ServiceAccountRef {
                    namespace: namespace.into(),
                    name: name.into(),
                })
            }
            _ => Err(format!(
                "{s:?} is not a ServiceAccount: expected namespace/name (e.g. lapdev/lapdev-kube-manager)"
            )),
        }
    }
}

/// Reconciles the environment's namespace to `request`.
pub async fn reconcile(
    client: &kube::Client,
    service_account: &ServiceAccountRef,
    request: &ApplyEnvironment,
) -> Result<EnvironmentApplied, TunnelError> {
    // Everything that can be refused is checked before the first write.
    let ns = guard::managed_namespace(&request.namespace)?;
    let spec = wire::environment_spec(request)?;
    let catalog = request
        .objects
        .iter()
        .map(|v| {
            ManifestObject::from_value(v.clone())
                .map_err(|e| TunnelError::invalid(format!("a catalog object is not usable: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let plan = build_environment(&catalog, &spec, &NoExtension).map_err(environment_error)?;
    let (existed, previous) = existing_generation(client, &ns).await?;
    // A late duplicate of an older state must not roll the namespace back.
    if let Some(applied) = previous.filter(|g| *g > request.generation) {
        return Err(TunnelError::invalid(format!(
            "stale generation {} for {ns}: generation {applied} is already applied; send the latest desired state",
            request.generation
        )));
    }

    // Tier by tier (the Namespace, then ConfigMaps/Secrets/…, Services,
    // workloads): a tier starts once the one before is applied; within a
    // tier nothing depends on anything, so its objects go concurrently.
    for tier in plan
        .objects
        .chunk_by(|a, b| a.apply_rank() == b.apply_rank())
    {
        let applies: Vec<_> = tier
            .iter()
            .map(|object| {
                let kind = object.kind();
                let mut value = object.to_value();
                let mut binding = None;
                if kind == ObjectKind::Namespace {
                    annotate_namespace(&mut value, previous, request.paused);
                    binding = Some(role_binding(&ns, &spec.environment.id, service_account));
                } else if request.paused && kind == ObjectKind::DaemonSet {
                    pause_daemon_set(&mut value);
                }
                apply_object(client, &ns, kind, value, binding)
            })
            .collect();
        futures::stream::iter(applies)
            .buffer_unordered(APPLY_CONCURRENCY)
            .try_collect::<()>()
            .await?;
    }
    let applied: Vec<ObjectRef> = plan.objects.iter().map(|o| o.object_ref()).collect();
    let desired = applied.iter().cloned().collect();
    // A namespace created just now holds only what was applied: nothing to
    // prune, and 8 listings saved.
    let pruned = if existed {
        prune::prune(client, &ns, &spec.environment.id, &desired).await?
    } else {
        Vec::new()
    };

    // Last: the namespace records the generation now applied.
    if let Some(namespace) = plan.objects.first() {
        let mut value = namespace.to_value();
        annotate_namespace(&mut value, Some(request.generation), request.paused);
        apply::apply(
            client,
            &ns,
            &apply::api_resource(ObjectKind::Namespace),
            value,
        )
        .await?;
    }
    tracing::info!(
        namespace = %ns,
        generation = request.generation,
        applied = applied.len(),
        pruned = pruned.len(),
        "environment reconciled"
    );
    Ok(EnvironmentApplied {
        observed_generation: request.generation,
        applied,
        pruned,
        warnings: plan.warnings,
    })
}

/// Applies one object of the plan; after the Namespace, kube-manager's
/// RoleBinding in it (`binding`).
async fn apply_object(
    client: &kube::Client,
    ns: &ManagedNamespace,
    kind: ObjectKind,
    value: Value,
    binding: Option<Value>,
) -> Result<(), TunnelError> {
    apply::apply(client, ns, &apply::api_resource(kind), value).await?;
    if let Some(binding) = binding {
        apply::apply(client, ns, &apply::role_binding_resource(), binding).await?;
    }
    Ok(())
}

/// Whether the namespace exists, and the generation recorded on it, after
/// checking that an existing namespace was created by Lapdev.
async fn existing_generation(
    client: &kube::Client,
    ns: &ManagedNamespace,
) -> Result<(bool, Option<u64>), TunnelError> {
    let api: Api<Namespace> = Api::all(client.clone());
    let Some(object) = api.get_opt(ns.as_str()).await.map_err(kube_error)? else {
        return Ok((false, None));
    };
    guard::check_managed_label(ns, &object)?;
    Ok((true, recorded_generation(&object)))
}

/// The generation a namespace records as applied completely
/// ([`GENERATION_ANNOTATION`]), if any.
fn recorded_generation(namespace: &Namespace) -> Option<u64> {
    namespace
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(GENERATION_ANNOTATION))
        .and_then(|g| g.parse().ok())
}

fn annotate_namespace(value: &mut Value, generation: Option<u64>, paused: bool) {
    let annotations = &mut value["metadata"]["annotations"];
    if !annotations.is_object() {
        *annotations = json!({});
    }
    if let Some(generation) = generation {
        annotations[GENERATION_ANNOTATION] = json!(generation.to_string());
    }
    if paused {
        annotations[PAUSED_ANNOTATION] = json!("true");
    }
}

/// A DaemonSet has no replica count: paused, its pods may only run on nodes
/// with a label no node has. Resuming applies the template without it.
fn pause_daemon_set(value: &mut Value) {
    let pod = &mut value["spec"]["template"]["spec"];
    if !pod["nodeSelector"].is_object() {
        pod["nodeSelector"] = json!({});
    }
    pod["nodeSelector"][PAUSED_NODE_SELECTOR] = json!("true");
}

/// Binds ClusterRole `lapdev-environment` to kube-manager in `ns`.
fn role_binding(ns: &ManagedNamespace, environment_id: &str, sa: &ServiceAccountRef) -> Value {
    let labels: BTreeMap<&str, &str> =
        [(keys::MANAGED, "true"), (keys::ENVIRONMENT, environment_id)].into();
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": ENVIRONMENT_ROLE, "namespace": ns.as_str(), "labels": labels},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": ENVIRONMENT_ROLE,
        },
        "subjects": [{"kind": "ServiceAccount", "name": sa.name, "namespace": sa.namespace}],
    })
}

fn environment_error(e: EnvironmentError) -> TunnelError {
    // Every variant is a problem with what was sent; the message names it
    // (for missing values: every `secret/key`).
    TunnelError::invalid(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_accounts_parse() {
        assert_eq!(
            "lapdev/lapdev-kube-manager".parse::<ServiceAccountRef>(),
            Ok(ServiceAccountRef::default())
        );
        for bad in ["", "lapdev", "/x", "x/", "a/b/c"] {
            assert!(bad.parse::<ServiceAccountRef>().is_err(), "{bad}");
        }
    }

    #[test]
    fn pausing_a_daemon_set_adds_an_unmatched_node_selector() {
        let mut ds = json!({"spec": {"template": {"spec": {"nodeSelector": {"disk": "ssd"}}}}});
        pause_daemon_set(&mut ds);
        assert_eq!(
            ds["spec"]["template"]["spec"]["nodeSelector"],
            json!({"disk": "ssd", "lapdev.io/paused": "true"})
        );
        let mut bare = json!({"spec": {"template": {}}});
        pause_daemon_set(&mut bare);
        assert_eq!(
            bare["spec"]["template"]["spec"]["nodeSelector"],
            json!({"lapdev.io/paused": "true"})
        );
    }

    #[test]
    fn the_namespace_records_generation_and_pause() {
        let mut ns = json!({"metadata": {"name": "lapdev-x"}});
        annotate_namespace(&mut ns, None, false);
        assert_eq!(ns["metadata"]["annotations"], json!({}));
        annotate_namespace(&mut ns, Some(4), true);
        assert_eq!(
            ns["metadata"]["annotations"],
            json!({"lapdev.io/generation": "4", "lapdev.io/paused": "true"})
        );
    }
}
