//! Reads what the cluster says about one environment namespace into
//! [`Observed`] (reads only), for [`status::evaluate`](super::status::evaluate).

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

/// The environment's status now.
pub async fn collect(
    client: &kube::Client,
    ns: &ManagedNamespace,
) -> Result<EnvironmentStatus, TunnelError> {
    Ok(evaluate(&observe(client, ns).await?))
}

/// Reads the namespace, its Lapdev workloads and their Pods.
pub async fn observe(
    client: &kube::Client,
    ns: &ManagedNamespace,
) -> Result<Observed, TunnelError> {
    let mut observed = Observed {
        namespace: ns.to_string(),
        ..Observed::default()
    };
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let Some(namespace) = namespaces.get_opt(ns.as_str()).await.map_err(kube_error)? else {
        return Ok(observed);
    };
    observed.exists = true;
    observed.terminating = namespace.metadata.deletion_timestamp.is_some();
    observed.generation = recorded_generation(&namespace);
    observed.paused = namespace
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(PAUSED_ANNOTATION))
        .is_some_and(|p| p == "true");
    observed.environment_id = namespace
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(keys::ENVIRONMENT))
        .cloned();

    let lp = ListParams::default().labels(&format!("{}=true", keys::MANAGED));
    let n = ns.as_str();
    for d in Api::<Deployment>::namespaced(client.clone(), n)
        .list(&lp)
        .await
        .map_err(kube_error)?
    {
        observed.workloads.push(deployment(&d));
    }
    for s in Api::<StatefulSet>::namespaced(client.clone(), n)
        .list(&lp)
        .await
        .map_err(kube_error)?
    {
        observed.workloads.push(stateful_set(&s));
    }
    for d in Api::<DaemonSet>::namespaced(client.clone(), n)
        .list(&lp)
        .await
        .map_err(kube_error)?
    {
        observed.workloads.push(daemon_set(&d));
    }
    for p in Api::<Pod>::namespaced(client.clone(), n)
        .list(&lp)
        .await
        .map_err(kube_error)?
    {
        observed.pods.push(pod(&p));
    }
    Ok(observed)
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

pub fn deployment(d: &Deployment) -> WorkloadFacts {
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

pub fn stateful_set(s: &StatefulSet) -> WorkloadFacts {
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

pub fn daemon_set(d: &DaemonSet) -> WorkloadFacts {
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

pub fn pod(p: &Pod) -> PodFacts {
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
