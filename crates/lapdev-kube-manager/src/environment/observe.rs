//! Reads what the cluster says about one environment namespace into
//! [`Observed`] (reads only), for [`status::evaluate`](super::status::evaluate).

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::Api;
use kube::api::ListParams;
use lapdev_manifest::keys;
use lapdev_tunnel_proto::{EnvironmentStatus, ManagedNamespace, TunnelError, WorkloadKind};

use super::status::{Observed, PodFacts, WorkloadFacts, evaluate};
use super::{GENERATION_ANNOTATION, PAUSED_ANNOTATION};
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
    let annotation = |key: &str| {
        namespace
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .cloned()
    };
    observed.generation = annotation(GENERATION_ANNOTATION).and_then(|g| g.parse().ok());
    observed.paused = annotation(PAUSED_ANNOTATION).as_deref() == Some("true");
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

fn selector(s: Option<&LabelSelector>) -> std::collections::BTreeMap<String, String> {
    s.and_then(|s| s.match_labels.clone()).unwrap_or_default()
}

/// The first condition that is `False`, Available before Progressing.
fn false_condition<'a>(
    conditions: impl Iterator<Item = (&'a str, &'a str, Option<&'a String>, Option<&'a String>)>,
) -> Option<(String, String)> {
    let mut found: Vec<_> = conditions
        .filter(|(_, status, _, _)| *status == "False")
        .collect();
    found.sort_by_key(|(type_, ..)| *type_ != "Available");
    found.first().and_then(|(_, _, reason, message)| {
        reason.map(|r| (r.clone(), message.cloned().unwrap_or_default()))
    })
}

pub fn deployment(d: &Deployment) -> WorkloadFacts {
    let spec = d.spec.as_ref();
    let status = d.status.as_ref();
    WorkloadFacts {
        kind: WorkloadKind::Deployment,
        name: d.metadata.name.clone().unwrap_or_default(),
        desired: count(Some(spec.and_then(|s| s.replicas).unwrap_or(1))),
        ready: count(status.and_then(|s| s.ready_replicas)),
        available: count(status.and_then(|s| s.available_replicas)),
        selector: selector(spec.map(|s| &s.selector)),
        false_condition: false_condition(
            status
                .and_then(|s| s.conditions.as_ref())
                .into_iter()
                .flatten()
                .map(|c| {
                    (
                        c.type_.as_str(),
                        c.status.as_str(),
                        c.reason.as_ref(),
                        c.message.as_ref(),
                    )
                }),
        ),
    }
}

pub fn stateful_set(s: &StatefulSet) -> WorkloadFacts {
    let spec = s.spec.as_ref();
    let status = s.status.as_ref();
    WorkloadFacts {
        kind: WorkloadKind::StatefulSet,
        name: s.metadata.name.clone().unwrap_or_default(),
        desired: count(Some(spec.and_then(|s| s.replicas).unwrap_or(1))),
        ready: count(status.and_then(|s| s.ready_replicas)),
        available: count(status.and_then(|s| s.available_replicas)),
        selector: selector(spec.map(|s| &s.selector)),
        false_condition: false_condition(
            status
                .and_then(|s| s.conditions.as_ref())
                .into_iter()
                .flatten()
                .map(|c| {
                    (
                        c.type_.as_str(),
                        c.status.as_str(),
                        c.reason.as_ref(),
                        c.message.as_ref(),
                    )
                }),
        ),
    }
}

pub fn daemon_set(d: &DaemonSet) -> WorkloadFacts {
    let spec = d.spec.as_ref();
    let status = d.status.as_ref();
    WorkloadFacts {
        kind: WorkloadKind::DaemonSet,
        name: d.metadata.name.clone().unwrap_or_default(),
        desired: count(status.map(|s| s.desired_number_scheduled)),
        ready: count(status.map(|s| s.number_ready)),
        available: count(status.and_then(|s| s.number_available)),
        selector: selector(spec.map(|s| &s.selector)),
        false_condition: false_condition(
            status
                .and_then(|s| s.conditions.as_ref())
                .into_iter()
                .flatten()
                .map(|c| {
                    (
                        c.type_.as_str(),
                        c.status.as_str(),
                        c.reason.as_ref(),
                        c.message.as_ref(),
                    )
                }),
        ),
    }
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
