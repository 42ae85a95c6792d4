//! Workload discovery on a source cluster ([`Request::ListWorkloads`]):
//! Deployments, StatefulSets and DaemonSets in every namespace (or one; or
//! each source namespace when [`SourceReader`] is restricted),
//! filtered by kind and name, system namespaces hidden unless asked, each
//! summarised as a [`WorkloadSummary`]. Read-only, through [`SourceReader`].
//!
//! [`Request::ListWorkloads`]: lapdev_tunnel_proto::Request::ListWorkloads

use kube::api::DynamicObject;
use lapdev_tunnel_proto::{
    ListWorkloads, MAX_LISTED_WORKLOADS, TunnelError, WorkloadKind, WorkloadList, WorkloadSummary,
    is_system_namespace,
};
use serde_json::Value;

use crate::source::{SourceReader, is_namespace_name};

/// Lists the workloads `request` asks for, sorted by namespace, kind, name.
pub async fn list_workloads(
    reader: &SourceReader,
    request: &ListWorkloads,
) -> Result<WorkloadList, TunnelError> {
    let kinds = if request.kinds.is_empty() {
        WorkloadKind::ALL.to_vec()
    } else {
        let mut kinds = request.kinds.clone();
        kinds.sort();
        kinds.dedup();
        kinds
    };
    let namespace = request.namespace.as_deref().filter(|ns| !ns.is_empty());
    if let Some(ns) = namespace
        && !is_namespace_name(ns)
    {
        return Err(TunnelError::invalid(format!(
            "{ns:?} is not a valid namespace name (an RFC 1123 label)"
        )));
    }
    // Naming a system namespace explicitly lists it.
    let include_system = request.include_system || namespace.is_some();
    let mut workloads = Vec::new();
    for kind in kinds {
        reader
            .list_pages(kind.into(), namespace, |page| {
                workloads.extend(page.iter().filter_map(|o| {
                    let ns = o.metadata.namespace.as_deref()?;
                    let name = o.metadata.name.as_deref()?;
                    let wanted = (include_system || !is_system_namespace(ns))
                        && request
                            .name_contains
                            .as_deref()
                            .is_none_or(|part| name.contains(part));
                    wanted.then(|| summarize(kind, o))
                }));
            })
            .await?;
    }
    workloads.sort_by(|a, b| (&a.namespace, a.kind, &a.name).cmp(&(&b.namespace, b.kind, &b.name)));
    let truncated = workloads.len() > MAX_LISTED_WORKLOADS;
    workloads.truncate(MAX_LISTED_WORKLOADS);
    Ok(WorkloadList {
        workloads,
        truncated,
    })
}

/// One row, read from the object's JSON (the same fields for every kind but
/// the DaemonSet's counts).
pub fn summarize(kind: WorkloadKind, object: &DynamicObject) -> WorkloadSummary {
    let data = &object.data;
    let pod_spec = &data["spec"]["template"]["spec"];
    let images = ["initContainers", "containers"]
        .into_iter()
        .flat_map(|list| pod_spec[list].as_array().into_iter().flatten())
        .filter_map(|c| c["image"].as_str().map(str::to_string))
        .collect();
    let count = |v: &Value| {
        v.as_u64()
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
    };
    let status = &data["status"];
    let (replicas, ready_replicas, available_replicas) = match kind {
        WorkloadKind::DaemonSet => (
            count(&status["desiredNumberScheduled"]),
            count(&status["numberReady"]),
            count(&status["numberAvailable"]),
        ),
        WorkloadKind::Deployment | WorkloadKind::StatefulSet => (
            data["spec"]["replicas"]
                .as_u64()
                .map_or(1, |n| u32::try_from(n).unwrap_or(u32::MAX)),
            count(&status["readyReplicas"]),
            // StatefulSets report availableReplicas since 1.22; fall back to ready.
            status["availableReplicas"].as_u64().map_or_else(
                || count(&status["readyReplicas"]),
                |n| u32::try_from(n).unwrap_or(u32::MAX),
            ),
        ),
    };
    WorkloadSummary {
        namespace: object.metadata.namespace.clone().unwrap_or_default(),
        kind,
        name: object.metadata.name.clone().unwrap_or_default(),
        images,
        replicas,
        ready_replicas,
        available_replicas,
        ready: available_replicas >= replicas,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn summary(kind: WorkloadKind, json: Value) -> String {
        let object: DynamicObject = serde_json::from_value(json).unwrap();
        let s = summarize(kind, &object);
        format!(
            "{}/{} images={:?} {}/{}/{} ready={}",
            s.namespace,
            s.name,
            s.images,
            s.replicas,
            s.ready_replicas,
            s.available_replicas,
            s.ready
        )
    }

    #[test]
    fn summaries() {
        let meta = serde_json::json!({"name": "api", "namespace": "shop"});
        expect!["shop/api images=[\"busybox\", \"api:1\", \"envoy\"] 3/2/1 ready=false"].assert_eq(
            &summary(
                WorkloadKind::Deployment,
                serde_json::json!({"metadata": meta, "spec": {"replicas": 3, "template": {"spec": {
                    "initContainers": [{"name": "init", "image": "busybox"}],
                    "containers": [{"name": "api", "image": "api:1"}, {"name": "proxy", "image": "envoy"}]}}},
                    "status": {"readyReplicas": 2, "availableReplicas": 1}}),
            ),
        );
        // No replicas field: the API default is 1; no status yet.
        expect!["shop/api images=[] 1/0/0 ready=false"].assert_eq(&summary(
            WorkloadKind::StatefulSet,
            serde_json::json!({"metadata": meta, "spec": {}}),
        ));
        // Scaled to zero: ready.
        expect!["shop/api images=[] 0/0/0 ready=true"].assert_eq(&summary(
            WorkloadKind::Deployment,
            serde_json::json!({"metadata": meta, "spec": {"replicas": 0}}),
        ));
        // A StatefulSet without availableReplicas (older clusters).
        expect!["shop/api images=[] 2/2/2 ready=true"].assert_eq(&summary(
            WorkloadKind::StatefulSet,
            serde_json::json!({"metadata": meta, "spec": {"replicas": 2}, "status": {"readyReplicas": 2}}),
        ));
        expect!["shop/api images=[\"agent\"] 3/3/2 ready=false"].assert_eq(&summary(
            WorkloadKind::DaemonSet,
            serde_json::json!({"metadata": meta, "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "agent"}]}}},
                "status": {"desiredNumberScheduled": 3, "numberReady": 3, "numberAvailable": 2}}),
        ));
    }
}
