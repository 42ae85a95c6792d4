//! The workload simulator (kube-sim-only): workloads become Available,
//! failure injection keeps Pods Pending with ImagePullBackOff.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::wait::{Condition, await_condition};
use kube_sim::{Failure, KubeSim, SimulatorConfig};
use serde_json::json;

use crate::sim_only;
use crate::support::{deployment, env_with};

fn sim_builder() -> kube_sim::KubeSimBuilder {
    KubeSim::builder().sample_seed().simulator(SimulatorConfig {
        ready_delay: Duration::from_millis(10),
    })
}

fn deployment_available(want: bool) -> impl Condition<Deployment> {
    move |d: Option<&Deployment>| {
        d.and_then(|d| d.status.as_ref())
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| {
                c.iter().any(|c| {
                    c.type_ == "Available" && c.status == if want { "True" } else { "False" }
                })
            })
    }
}

async fn wait<K, C>(api: Api<K>, name: &str, cond: C)
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
    K::DynamicType: Default,
    C: Condition<K>,
{
    // A generous safety net; the test awaits the event, it does not time it.
    tokio::time::timeout(Duration::from_secs(60), await_condition(api, name, cond))
        .await
        .expect("condition reached")
        .unwrap();
}

/// Seeded workloads converge: Deployments Available with ReplicaSets and
/// Ready Pods, the StatefulSet with ordinal Pods and PVCs, DaemonSet Pods per Node.
#[tokio::test]
async fn seeded_workloads_become_available() {
    sim_only!("the workload simulator is a kube-sim feature");
    let e = env_with(sim_builder()).await;
    let deployments: Api<Deployment> = Api::namespaced(e.client.clone(), "shop");
    for d in ["web", "api", "worker"] {
        wait(deployments.clone(), d, deployment_available(true)).await;
    }
    let sts: Api<StatefulSet> = Api::namespaced(e.client.clone(), "shop");
    wait(sts, "postgres", |s: Option<&StatefulSet>| {
        s.and_then(|s| s.status.as_ref())
            .is_some_and(|s| s.ready_replicas == Some(1))
    })
    .await;
    let pods: Api<Pod> = Api::namespaced(e.client.clone(), "shop");
    let postgres = pods.get("postgres-0").await.unwrap();
    assert_eq!(postgres.status.unwrap().phase.as_deref(), Some("Running"));
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(e.client.clone(), "shop");
    assert!(pvcs.get("data-postgres-0").await.is_ok());
    let api_pods = pods
        .list(&ListParams::default().labels("app.kubernetes.io/name=api"))
        .await
        .unwrap();
    assert_eq!(api_pods.items.len(), 3);
    let ds: Api<DaemonSet> = Api::namespaced(e.client.clone(), "kube-system");
    wait(ds, "kube-proxy", |d: Option<&DaemonSet>| {
        d.and_then(|d| d.status.as_ref())
            .is_some_and(|s| s.number_ready == 2)
    })
    .await;
    // Scaling down removes Pods.
    deployments
        .patch(
            "api",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 1}})),
        )
        .await
        .unwrap();
    wait(deployments.clone(), "api", |d: Option<&Deployment>| {
        d.and_then(|d| d.status.as_ref())
            .is_some_and(|s| s.replicas == Some(1) && s.available_replicas == Some(1))
    })
    .await;
}

/// Failure injection (library API): Pods stay Pending with ImagePullBackOff;
/// the Deployment reports Available=False and Progressing=False.
#[tokio::test]
async fn injected_image_pull_failure() {
    sim_only!("failure injection is a kube-sim feature");
    let e = env_with(sim_builder()).await;
    e.sim()
        .fail_workload(
            &e.ns,
            "Deployment",
            "broken",
            Failure::ImagePullBackOff { message: None },
        )
        .unwrap();
    let api: Api<Deployment> = e.api();
    api.create(&PostParams::default(), &deployment("broken", 2))
        .await
        .unwrap();
    wait(api.clone(), "broken", |d: Option<&Deployment>| {
        d.and_then(|d| d.status.as_ref())
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| {
                c.iter()
                    .any(|c| c.type_ == "Available" && c.status == "False")
                    && c.iter()
                        .any(|c| c.type_ == "Progressing" && c.status == "False")
            })
    })
    .await;
    let pods: Api<Pod> = e.api();
    let list = pods
        .list(&ListParams::default().labels("app=broken"))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 2);
    for p in list.items {
        let st = p.status.unwrap();
        assert_eq!(st.phase.as_deref(), Some("Pending"));
        let waiting = st.container_statuses.unwrap()[0]
            .state
            .clone()
            .unwrap()
            .waiting
            .unwrap();
        assert_eq!(waiting.reason.as_deref(), Some("ImagePullBackOff"));
        assert!(waiting.message.unwrap().contains("nginx:1.27"));
    }
    // Clearing the failure lets it recover.
    e.sim()
        .clear_failure(&e.ns, "deployment", "broken")
        .unwrap();
    wait(api, "broken", deployment_available(true)).await;
}

/// Failure injection by annotation on the workload.
#[tokio::test]
async fn failure_by_annotation() {
    sim_only!("failure injection is a kube-sim feature");
    let e = env_with(sim_builder()).await;
    let api: Api<Deployment> = e.api();
    let mut d = deployment("annotated", 1);
    d.metadata.annotations = Some(
        [(
            kube_sim::FAIL_ANNOTATION.to_string(),
            "ImagePullBackOff".to_string(),
        )]
        .into(),
    );
    api.create(&PostParams::default(), &d).await.unwrap();
    wait(api, "annotated", deployment_available(false)).await;
}
