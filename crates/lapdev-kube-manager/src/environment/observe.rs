//! What the cluster says about one environment namespace, as
//! [`Observed`] for [`status::evaluate`](super::status::evaluate): one pure
//! mapping ([`observed`]) from the Namespace and its Lapdev workloads and
//! Pods, fed either by the watch's in-memory stores
//! ([`watch`](super::watch)) or by reading the API now ([`collect`], for an
//! explicit `GetEnvironmentStatus`).

use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetCondition, Deployment, DeploymentCondition, StatefulSet,
    StatefulSetCondition,
};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::Api;
use kube::api::ListParams;
use lapdev_manifest::keys;
use lapdev_tunnel_proto::{EnvironmentStatus, ManagedNamespace, TunnelError, WorkloadKind};

use super::status::{Observed, PodFacts, WorkloadFacts, evaluate};
use super::{PAUSED_ANNOTATION, recorded_generation};
use crate::dispatch::kube_error;

/// The environment's status now, read from the API: a namespace GET and
/// four LISTs (its Lapdev workloads and their Pods).
pub async fn collect(
    client: &kube::Client,
    ns: &ManagedNamespace,
) -> Result<EnvironmentStatus, TunnelError> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let Some(namespace) = namespaces.get_opt(ns.as_str()).await.map_err(kube_error)? else {
        return Ok(evaluate(&observed(ns, None, [], [], [], [])));
    };
    let lp = ListParams::default().labels(&format!("{}=true", keys::MANAGED));
    let n = ns.as_str();
    let deployments = Api::<Deployment>::namespaced(client.clone(), n)
        .list(&lp)
        .await
        .map_err(kube_error)?;
    let stateful_sets = Api::<StatefulSet>::namespaced(client.clone(), n)
        .list(&lp)
        .await
        .map_err(kube_error)?;
    let daemon_sets = Api::<DaemonSet>::namespaced(client.clone(), n)
        .list(&lp)
        .await
        .map_err(kube_error)?;
    let pods = Api::<Pod>::namespaced(client.clone(), n)
        .list(&lp)
        .await
        .map_err(kube_error)?;
    Ok(evaluate(&observed(
        ns,
        Some(&namespace),
        &deployments,
        &stateful_sets,
        &daemon_sets,
        &pods,
    )))
}

/// What `namespace` (`None`: it does not exist) and its Lapdev objects
/// say, whether they were just listed or are held by the watch. Pods are
/// taken in name order (as a LIST returns them), so the reason picked
/// among several waiting Pods does not depend on where they came from.
pub fn observed<'a>(
    ns: &ManagedNamespace,
    namespace: Option<&Namespace>,
    deployments: impl IntoIterator<Item = &'a Deployment>,
    stateful_sets: impl IntoIterator<Item = &'a StatefulSet>,
    daemon_sets: impl IntoIterator<Item = &'a DaemonSet>,
    pods: impl IntoIterator<Item = &'a Pod>,
) -> Observed {
    let mut observed = Observed {
        namespace: ns.to_string(),
        ..Observed::default()
    };
    let Some(namespace) = namespace else {
        return observed;
    };
    let meta = &namespace.metadata;
    observed.exists = true;
    observed.terminating = meta.deletion_timestamp.is_some();
    observed.generation = recorded_generation(namespace);
    observed.paused = meta
        .annotations
        .as_ref()
        .and_then(|a| a.get(PAUSED_ANNOTATION))
        .is_some_and(|p| p == "true");
    observed.environment_id = meta
        .labels
        .as_ref()
        .and_then(|l| l.get(keys::ENVIRONMENT))
        .cloned();
    observed.workloads = deployments
        .into_iter()
        .map(deployment)
        .chain(stateful_sets.into_iter().map(stateful_set))
        .chain(daemon_sets.into_iter().map(daemon_set))
        .collect();
    let mut pods: Vec<&Pod> = pods.into_iter().collect();
    pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    observed.pods = pods.into_iter().map(pod).collect();
    observed
}

fn count(n: Option<i32>) -> u32 {
    u32::try_from(n.unwrap_or(0)).unwrap_or(0)
}

/// The fields of a workload condition that status needs; the three
/// workload kinds each have their own condition type with the same fields.
trait Condition {
    fn parts(&self) -> (&str, &str, Option<&String>, Option<&String>);
}

macro_rules! condition {
    ($($t:ty),*) => {$(
        impl Condition for $t {
            fn parts(&self) -> (&str, &str, Option<&String>, Option<&String>) {
                (&self.type_, &self.status, self.reason.as_ref(), self.message.as_ref())
            }
        }
    )*};
}
condition!(
    DeploymentCondition,
    StatefulSetCondition,
    DaemonSetCondition
);

/// The first condition that is `False`, Available before Progressing.
fn false_condition<C: Condition>(conditions: Option<&Vec<C>>) -> Option<(String, String)> {
    let mut found: Vec<_> = conditions
        .into_iter()
        .flatten()
        .map(Condition::parts)
        .filter(|(_, status, _, _)| *status == "False")
        .collect();
    found.sort_by_key(|(type_, ..)| *type_ != "Available");
    found.first().and_then(|(_, _, reason, message)| {
        reason.map(|r| (r.clone(), message.cloned().unwrap_or_default()))
    })
}

/// Replica counts as read from one workload: desired, ready, available.
type Counts = (Option<i32>, Option<i32>, Option<i32>);

fn facts<C: Condition>(
    kind: WorkloadKind,
    meta: &ObjectMeta,
    selector: Option<&LabelSelector>,
    (desired, ready, available): Counts,
    conditions: Option<&Vec<C>>,
) -> WorkloadFacts {
    WorkloadFacts {
        kind,
        name: meta.name.clone().unwrap_or_default(),
        desired: count(desired),
        ready: count(ready),
        available: count(available),
        selector: selector
            .and_then(|s| s.match_labels.clone())
            .unwrap_or_default(),
        false_condition: false_condition(conditions),
    }
}

fn deployment(d: &Deployment) -> WorkloadFacts {
    let (spec, status) = (d.spec.as_ref(), d.status.as_ref());
    facts(
        WorkloadKind::Deployment,
        &d.metadata,
        spec.map(|s| &s.selector),
        (
            Some(spec.and_then(|s| s.replicas).unwrap_or(1)),
            status.and_then(|s| s.ready_replicas),
            status.and_then(|s| s.available_replicas),
        ),
        status.and_then(|s| s.conditions.as_ref()),
    )
}

fn stateful_set(s: &StatefulSet) -> WorkloadFacts {
    let (spec, status) = (s.spec.as_ref(), s.status.as_ref());
    facts(
        WorkloadKind::StatefulSet,
        &s.metadata,
        spec.map(|s| &s.selector),
        (
            Some(spec.and_then(|s| s.replicas).unwrap_or(1)),
            status.and_then(|s| s.ready_replicas),
            status.and_then(|s| s.available_replicas),
        ),
        status.and_then(|s| s.conditions.as_ref()),
    )
}

fn daemon_set(d: &DaemonSet) -> WorkloadFacts {
    let status = d.status.as_ref();
    facts(
        WorkloadKind::DaemonSet,
        &d.metadata,
        d.spec.as_ref().map(|s| &s.selector),
        (
            status.map(|s| s.desired_number_scheduled),
            status.map(|s| s.number_ready),
            status.and_then(|s| s.number_available),
        ),
        status.and_then(|s| s.conditions.as_ref()),
    )
}

fn pod(p: &Pod) -> PodFacts {
    let status = p.status.as_ref();
    let waiting = status
        .into_iter()
        .flat_map(|s| {
            s.init_container_statuses
                .iter()
                .flatten()
                .chain(s.container_statuses.iter().flatten())
        })
        .filter_map(|c| c.state.as_ref()?.waiting.as_ref())
        .find_map(|w| {
            w.reason
                .clone()
                .map(|r| (r, w.message.clone().unwrap_or_default()))
        });
    PodFacts {
        labels: p.metadata.labels.clone().unwrap_or_default(),
        waiting,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn from<K: serde::de::DeserializeOwned>(v: serde_json::Value) -> K {
        serde_json::from_value(v).unwrap()
    }

    fn waiting_pod(name: &str, reason: &str) -> Pod {
        from(json!({
            "metadata": {"name": name, "labels": {"app": "api"}},
            "status": {"containerStatuses": [{"name": "api", "image": "api:1", "imageID": "",
                "ready": false, "restartCount": 0, "state": {"waiting": {"reason": reason}}}]},
        }))
    }

    /// The same objects give the same status, in whatever order a store
    /// holds them; no namespace is no environment.
    #[test]
    fn observed_is_the_same_from_a_list_or_a_store() {
        let ns = ManagedNamespace::parse("lapdev-x").unwrap();
        let namespace: Namespace = from(json!({"metadata": {
            "name": "lapdev-x",
            "labels": {"lapdev.io/managed": "true", "lapdev.io/environment": "env-1"},
            "annotations": {"lapdev.io/generation": "3", "lapdev.io/paused": "true"},
        }}));
        let api: Deployment = from(json!({
            "metadata": {"name": "api"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "api"}}, "template": {}},
        }));
        let pods = [
            waiting_pod("api-b", "PodInitializing"),
            waiting_pod("api-a", "ContainerCreating"),
        ];
        let reversed: Vec<&Pod> = pods.iter().rev().collect();
        let listed = observed(&ns, Some(&namespace), [&api], [], [], &pods);
        let stored = observed(&ns, Some(&namespace), [&api], [], [], reversed);
        assert_eq!(listed, stored);
        let status = evaluate(&listed);
        assert_eq!(
            (
                status.environment_id.as_deref(),
                status.observed_generation,
                listed.paused
            ),
            (Some("env-1"), Some(3), true)
        );
        assert_eq!(
            status.workloads[0].reason.as_deref(),
            Some("ContainerCreating")
        );
        assert_eq!(
            observed(&ns, None, [&api], [], [], &pods),
            Observed {
                namespace: "lapdev-x".into(),
                ..Observed::default()
            }
        );
    }
}
