//! Environments against kube-sim with its workload simulator: the shop
//! catalog (snapshotted from the sample seed) applied into
//! `lapdev-alice-shop` through the dispatcher, its status pushed by the
//! in-process watch. Every wait is for an event (a pushed status), never a
//! sleep; the request log proves what was (not) written.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::ListParams;
use kube::{Api, ResourceExt};
use lapdev_kube_manager::dispatch::Dispatcher;
use lapdev_kube_manager::environment::watch::{self, StatusFeed};
use lapdev_tunnel_proto::{
    ApplyEnvironment, EnvironmentApplied, EnvironmentKind, EnvironmentPhase, EnvironmentStatus,
    ErrorCode, GetEnvironmentStatus, Identity, ObjectKind, ReplicasPolicy, Request, Response,
    SecretValues, SnapshotCatalog, TunnelError, WorkloadKind, WorkloadRef,
};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::support::{redact_db_password, within};

const NS: &str = "lapdev-alice-shop";

/// kube-sim with the sample shop, its simulator (no delay), the watch, and
/// the shop catalog snapshotted through the dispatcher.
struct Env {
    sim: kube_sim::KubeSim,
    dispatcher: Dispatcher,
    feed: StatusFeed,
    catalog: Vec<Value>,
    stop: CancellationToken,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Env {
    async fn new() -> Env {
        let sim = kube_sim::KubeSim::builder()
            .sample_seed()
            .simulator(kube_sim::SimulatorConfig {
                ready_delay: std::time::Duration::ZERO,
            })
            .build()
            .unwrap();
        let dispatcher = Dispatcher::new(sim.client(), 8);
        let workloads = [
            (WorkloadKind::Deployment, "web"),
            (WorkloadKind::Deployment, "api"),
            (WorkloadKind::Deployment, "worker"),
            (WorkloadKind::StatefulSet, "postgres"),
        ]
        .map(|(kind, name)| WorkloadRef {
            namespace: "shop".into(),
            kind,
            name: name.into(),
        })
        .to_vec();
        let secret_policy = redact_db_password();
        let Ok(Response::CatalogSnapshot(snapshot)) = dispatcher
            .handle(Request::SnapshotCatalog(SnapshotCatalog {
                workloads,
                secret_policy,
            }))
            .await
        else {
            panic!("snapshot failed")
        };
        let feed = StatusFeed::default();
        let stop = CancellationToken::new();
        tokio::spawn(watch::run(sim.client(), feed.clone(), stop.clone()));
        sim.requests().clear();
        Env {
            sim,
            dispatcher,
            feed,
            catalog: snapshot.objects,
            stop,
        }
    }

    fn request(&self, generation: u64) -> ApplyEnvironment {
        ApplyEnvironment {
            generation,
            namespace: NS.into(),
            environment: Identity {
                id: "env-1".into(),
                name: "Alice's shop".into(),
            },
            catalog: Identity {
                id: "cat-1".into(),
                name: "Shop".into(),
            },
            environment_kind: EnvironmentKind::Shared,
            replicas: ReplicasPolicy::Keep,
            paused: false,
            objects: self.catalog.clone(),
            secret_values: SecretValues(
                [(
                    "db-credentials".to_string(),
                    [("password".to_string(), "aHVudGVyMg==".to_string())].into(),
                )]
                .into(),
            ),
        }
    }

    async fn apply(&self, request: ApplyEnvironment) -> Result<EnvironmentApplied, TunnelError> {
        self.dispatcher
            .handle(Request::ApplyEnvironment(request))
            .await
            .map(|r| match r {
                Response::EnvironmentApplied(a) => a,
                other => panic!("{other:?}"),
            })
    }

    /// Waits for a pushed status (or the current one) matching `pred`.
    async fn status(
        &self,
        what: &str,
        pred: impl Fn(&EnvironmentStatus) -> bool,
    ) -> EnvironmentStatus {
        let (current, mut changes) = self.feed.subscribe();
        if let Some(s) = current.into_iter().find(|s| s.namespace == NS && pred(s)) {
            return s;
        }
        within(what, async {
            loop {
                match changes.recv().await {
                    Ok(s) if s.namespace == NS && pred(&s) => return s,
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(e) => panic!("{e}"),
                }
            }
        })
        .await
    }

    async fn running(&self, generation: u64) -> EnvironmentStatus {
        self.status("Running", |s| {
            s.phase == EnvironmentPhase::Running && s.observed_generation == Some(generation)
        })
        .await
    }

    /// Every request but the environment watch's list/watch of the
    /// managed Namespaces (which runs concurrently from the start).
    fn calls(&self) -> Vec<kube_sim::RequestRecord> {
        self.sim.requests().filter(|r| {
            !(r.resource.as_deref() == Some("namespaces")
                && r.name.is_none()
                && matches!(r.verb.as_str(), "list" | "watch"))
        })
    }

    fn writes_outside_the_environment(&self) -> Vec<String> {
        self.sim
            .requests()
            .writes_outside(&[NS])
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// name → (replicas) of the environment's Deployments and StatefulSets.
    async fn replicas(&self) -> BTreeMap<String, i32> {
        let client = self.sim.client();
        let mut out = BTreeMap::new();
        for d in Api::<Deployment>::namespaced(client.clone(), NS)
            .list(&ListParams::default())
            .await
            .unwrap()
        {
            out.insert(d.name_any(), d.spec.unwrap().replicas.unwrap());
        }
        for s in Api::<StatefulSet>::namespaced(client, NS)
            .list(&ListParams::default())
            .await
            .unwrap()
        {
            out.insert(s.name_any(), s.spec.unwrap().replicas.unwrap());
        }
        out
    }

    /// Kind/name → the object as stored, of everything kube-manager
    /// applied. For workloads without `resourceVersion` and
    /// `managedFields`: kube-sim reorders `managedFields` on a no-op apply
    /// to an object that a second manager (the status writer) also owns,
    /// and counts that as a change (a kube-sim fidelity gap; a real API
    /// server keeps the object).
    async fn stored(&self) -> BTreeMap<String, Value> {
        let client = self.sim.client();
        let mut out = BTreeMap::new();
        let ns = Api::<Namespace>::all(client.clone()).get(NS).await.unwrap();
        out.insert("Namespace".into(), serde_json::to_value(ns).unwrap());
        macro_rules! each {
            ($strip:expr; $($k:ty),*) => {$(
                for o in Api::<$k>::namespaced(client.clone(), NS).list(&ListParams::default()).await.unwrap() {
                    let name = format!("{}/{}", stringify!($k), o.name_any());
                    let mut value = serde_json::to_value(o).unwrap();
                    if $strip {
                        let meta = value["metadata"].as_object_mut().unwrap();
                        meta.remove("resourceVersion");
                        meta.remove("managedFields");
                    }
                    out.insert(name, value);
                }
            )*};
        }
        each!(false; ConfigMap, Secret, Service, RoleBinding);
        each!(true; Deployment, StatefulSet);
        out
    }
}

fn refs(refs: &[lapdev_tunnel_proto::ObjectRef]) -> Vec<String> {
    refs.iter()
        .map(|r| format!("{:?}/{}", r.kind, r.name))
        .collect()
}

#[tokio::test]
async fn the_catalog_is_applied_labelled_in_order_and_runs() {
    let env = Env::new().await;
    let applied = env.apply(env.request(1)).await.unwrap();
    assert_eq!(applied.observed_generation, 1);
    let kinds: Vec<ObjectKind> = applied.applied.iter().map(|r| r.kind).collect();
    assert_eq!(kinds[0], ObjectKind::Namespace);
    let mut sorted = kinds.clone();
    sorted.sort_by_key(|k| match k {
        ObjectKind::Namespace => 0,
        ObjectKind::Service => 2,
        ObjectKind::Deployment | ObjectKind::StatefulSet | ObjectKind::DaemonSet => 3,
        _ => 1,
    });
    assert_eq!(kinds, sorted, "dependency order");
    // The cluster saw the writes tier by tier (objects of one tier go
    // concurrently, in any order): the namespace and kube-manager's
    // binding, then ConfigMaps/Secrets/…, Services, workloads, and last
    // the namespace again (the generation it now records).
    let tier = |resource: &str| match resource {
        "namespaces" | "rolebindings" => 0,
        "services" => 2,
        "deployments" | "statefulsets" | "daemonsets" => 3,
        _ => 1,
    };
    let mut writes: Vec<kube_sim::RequestRecord> = env.sim.requests().writes();
    writes.sort_by_key(|r| r.seq);
    let last = writes.pop().expect("writes");
    assert_eq!(last.resource.as_deref(), Some("namespaces"));
    let tiers: Vec<u8> = writes
        .iter()
        .map(|r| tier(r.resource.as_deref().unwrap_or_default()))
        .collect();
    assert!(tiers.is_sorted(), "tier order of writes: {tiers:?}");
    assert_eq!(tiers.first(), Some(&0));
    assert_eq!(tiers.last(), Some(&3));
    for name in ["web", "api", "worker"] {
        assert!(refs(&applied.applied).contains(&format!("Deployment/{name}")));
    }
    assert!(applied.pruned.is_empty());

    let client = env.sim.client();
    let ns = Api::<Namespace>::all(client.clone()).get(NS).await.unwrap();
    let labels = ns.labels();
    assert_eq!(labels["lapdev.io/managed"], "true");
    assert_eq!(labels["lapdev.io/environment"], "env-1");
    assert_eq!(ns.annotations()["lapdev.io/generation"], "1");
    for d in Api::<Deployment>::namespaced(client.clone(), NS)
        .list(&ListParams::default())
        .await
        .unwrap()
    {
        assert_eq!(
            d.labels()["lapdev.io/environment"],
            "env-1",
            "{}",
            d.name_any()
        );
    }
    let secret = Api::<Secret>::namespaced(client.clone(), NS)
        .get("db-credentials")
        .await
        .unwrap();
    assert_eq!(secret.data.unwrap()["password"].0, b"hunter2");
    let binding = Api::<RoleBinding>::namespaced(client.clone(), NS)
        .get("lapdev-environment")
        .await
        .unwrap();
    assert_eq!(binding.role_ref.kind, "ClusterRole");
    assert_eq!(binding.role_ref.name, "lapdev-environment");
    let subject = &binding.subjects.unwrap()[0];
    assert_eq!(
        (
            subject.kind.as_str(),
            subject.name.as_str(),
            subject.namespace.as_deref()
        ),
        ("ServiceAccount", "lapdev-kube-manager", Some("lapdev"))
    );

    let status = env.running(1).await;
    let workloads: Vec<String> = status
        .workloads
        .iter()
        .map(|w| format!("{}/{} {}/{}", w.kind, w.name, w.available, w.desired))
        .collect();
    assert_eq!(
        workloads,
        [
            "Deployment/api 3/3",
            "Deployment/web 2/2",
            "Deployment/worker 1/1",
            "StatefulSet/postgres 1/1"
        ]
    );
    assert_eq!(status.environment_id.as_deref(), Some("env-1"));
    // The same status on request.
    let Ok(Response::EnvironmentStatus(asked)) = env
        .dispatcher
        .handle(Request::GetEnvironmentStatus(GetEnvironmentStatus {
            namespace: NS.into(),
        }))
        .await
    else {
        panic!()
    };
    assert_eq!(asked.phase, EnvironmentPhase::Running);
    assert_eq!(env.writes_outside_the_environment(), Vec::<String>::new());
}

#[tokio::test]
async fn reapplying_the_same_state_changes_nothing() {
    let env = Env::new().await;
    env.apply(env.request(1)).await.unwrap();
    env.running(1).await;
    let before = env.stored().await;
    env.sim.requests().clear();
    let again = env.apply(env.request(1)).await.unwrap();
    assert!(again.pruned.is_empty());
    let writes: Vec<String> = env
        .sim
        .requests()
        .writes()
        .iter()
        .filter(|r| r.verb != "patch")
        .map(|r| format!("{} {}", r.verb, r.path))
        .collect();
    assert_eq!(
        writes,
        Vec::<String>::new(),
        "only server-side apply no-ops"
    );
    assert_eq!(env.stored().await, before);
}

#[tokio::test]
async fn objects_no_longer_desired_are_pruned() {
    let env = Env::new().await;
    env.apply(env.request(1)).await.unwrap();
    let mut smaller = env.request(2);
    smaller
        .objects
        .retain(|o| !(o["kind"] == "Deployment" && o["metadata"]["name"] == "worker"));
    let applied = env.apply(smaller).await.unwrap();
    assert_eq!(refs(&applied.pruned), ["Deployment/worker"]);
    let client = env.sim.client();
    let deployments = Api::<Deployment>::namespaced(client.clone(), NS);
    assert!(deployments.get_opt("worker").await.unwrap().is_none());
    assert!(deployments.get_opt("api").await.unwrap().is_some());
    // What the StatefulSet's controller made is not Lapdev's to prune.
    let pvcs = Api::<PersistentVolumeClaim>::namespaced(client, NS)
        .list(&ListParams::default())
        .await
        .unwrap();
    let status = env.running(2).await;
    assert!(status.workloads.iter().all(|w| w.name != "worker"));
    assert_eq!(
        pvcs.items.len(),
        Api::<PersistentVolumeClaim>::namespaced(env.sim.client(), NS)
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len()
    );
    assert_eq!(env.writes_outside_the_environment(), Vec::<String>::new());
}

#[tokio::test]
async fn an_image_pull_failure_fails_the_environment_with_the_reason() {
    let env = Env::new().await;
    env.sim
        .fail_workload(
            NS,
            "Deployment",
            "api",
            kube_sim::Failure::ImagePullBackOff { message: None },
        )
        .unwrap();
    env.apply(env.request(1)).await.unwrap();
    let status = env
        .status("Failed", |s| s.phase == EnvironmentPhase::Failed)
        .await;
    let api = status.workloads.iter().find(|w| w.name == "api").unwrap();
    assert_eq!(api.reason.as_deref(), Some("ImagePullBackOff"));
    assert!(
        api.message.as_deref().is_some_and(|m| !m.is_empty()),
        "{api:?}"
    );
    let web = status.workloads.iter().find(|w| w.name == "web").unwrap();
    assert_eq!(web.reason, None);
}

#[tokio::test]
async fn pause_scales_to_zero_and_resume_restores_the_replicas() {
    let env = Env::new().await;
    env.apply(env.request(1)).await.unwrap();
    env.running(1).await;
    let original = env.replicas().await;
    assert_eq!(
        original,
        BTreeMap::from([
            ("api".to_string(), 3),
            ("postgres".to_string(), 1),
            ("web".to_string(), 2),
            ("worker".to_string(), 1)
        ])
    );
    let mut paused = env.request(2);
    paused.paused = true;
    env.apply(paused).await.unwrap();
    assert!(env.replicas().await.values().all(|r| *r == 0));
    env.status("Paused", |s| {
        s.phase == EnvironmentPhase::Paused && s.observed_generation == Some(2)
    })
    .await;
    env.apply(env.request(3)).await.unwrap();
    assert_eq!(env.replicas().await, original);
    env.running(3).await;
}

#[tokio::test]
async fn foreign_namespaces_are_forbidden_before_any_call() {
    let env = Env::new().await;
    for ns in [
        "kube-system",
        "shop",
        "lapdev",
        "default",
        "lapdev-",
        "lapdev-x/../shop",
    ] {
        let mut request = env.request(1);
        request.namespace = ns.into();
        let err = env.apply(request).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::Forbidden, "{ns}: {err}");
        let err = env
            .dispatcher
            .handle(Request::GetEnvironmentStatus(GetEnvironmentStatus {
                namespace: ns.into(),
            }))
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Forbidden, "{ns}: {err}");
    }
    assert_eq!(env.calls(), Vec::new());
    // A lapdev- name Lapdev did not create: read, refused, never written.
    env.sim
        .load_yaml(
            "tools",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: lapdev-alice-shop\n",
        )
        .unwrap();
    let err = env.apply(env.request(1)).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden, "{err}");
    assert_eq!(env.sim.requests().writes(), Vec::new());
}

#[tokio::test]
async fn missing_secret_values_are_invalid_and_named() {
    let env = Env::new().await;
    let mut request = env.request(1);
    request.secret_values = SecretValues::default();
    let err = env.apply(request).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(err.message.contains("db-credentials/password"), "{err}");
    assert_eq!(env.calls(), Vec::new());
}

#[tokio::test]
async fn deleting_the_namespace_is_reported_when_it_is_gone() {
    let env = Env::new().await;
    env.apply(env.request(1)).await.unwrap();
    env.running(1).await;
    let deleted = env
        .dispatcher
        .handle(Request::DeleteNamespace {
            namespace: NS.into(),
        })
        .await
        .unwrap();
    assert_eq!(deleted, Response::Deleted);
    env.status("Deleted", |s| s.phase == EnvironmentPhase::Deleted)
        .await;
    assert!(
        Api::<Namespace>::all(env.sim.client())
            .get_opt(NS)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(env.writes_outside_the_environment(), Vec::<String>::new());
}

/// Status comes from what the watches deliver: once they have listed, a
/// change (a workload scaled, the namespace's generation) is published
/// without a single GET or LIST of the namespace, workloads or Pods.
#[tokio::test]
async fn status_changes_are_published_from_the_watches_without_reads() {
    use kube::api::{Patch, PatchParams};
    use serde_json::json;

    let env = Env::new().await;
    env.apply(env.request(1)).await.unwrap();
    env.running(1).await;
    env.sim.requests().clear();
    let client = env.sim.client();
    let scale = json!({"spec": {"replicas": 3}});
    Api::<Deployment>::namespaced(client.clone(), NS)
        .patch("web", &PatchParams::default(), &Patch::Merge(scale))
        .await
        .unwrap();
    let generation = json!({"metadata": {"annotations": {"lapdev.io/generation": "5"}}});
    Api::<Namespace>::all(client)
        .patch(NS, &PatchParams::default(), &Patch::Merge(generation))
        .await
        .unwrap();
    let status = env
        .status("web 3/3 at generation 5", |s| {
            s.observed_generation == Some(5)
                && s.workloads
                    .iter()
                    .any(|w| w.name == "web" && (w.desired, w.available) == (3, 3))
        })
        .await;
    assert_eq!(status.phase, EnvironmentPhase::Running);
    let reads: Vec<String> = env
        .sim
        .requests()
        .filter(|r| matches!(r.verb.as_str(), "get" | "list"))
        .iter()
        .map(|r| format!("{} {}", r.verb, r.path))
        .collect();
    assert_eq!(reads, Vec::<String>::new());
}

/// The real binary through the tunnel: it applies, binds the configured
/// ServiceAccount and pushes the status without being asked.
#[tokio::test(flavor = "multi_thread")]
async fn the_binary_applies_and_pushes_status_through_the_tunnel() {
    use crate::support::{Fixture, KubeManager, welcome};
    use lapdev_tunnel_proto::{ClientFrame, RequestId, ServerFrame};
    use serde_json::json;

    let mut fx = Fixture::new().await;
    let mut vars = fx.env();
    vars.push(("LAPDEV_SERVICE_ACCOUNT", "ops/km".into()));
    let _km = KubeManager::spawn(&vars);
    let mut conn = fx.server.next_conn().await;
    conn.handshake(welcome(30, 3600)).await;

    let labels = json!({"app": "api"});
    let request = ApplyEnvironment {
        generation: 1,
        namespace: NS.into(),
        environment: Identity {
            id: "env-1".into(),
            name: "Alice".into(),
        },
        catalog: Identity {
            id: "cat-1".into(),
            name: "Shop".into(),
        },
        environment_kind: EnvironmentKind::Personal,
        replicas: ReplicasPolicy::AtMost(1),
        paused: false,
        objects: vec![
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "cfg", "namespace": "shop"}, "data": {"a": "b"}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "api", "namespace": "shop"},
                "spec": {"replicas": 3, "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "api", "image": "api:1"}]}}}}),
        ],
        secret_values: SecretValues::default(),
    };
    conn.send(&ServerFrame::Request {
        id: RequestId(1),
        request: Request::ApplyEnvironment(request),
    })
    .await;
    let applied = conn
        .recv_until(|f| match f {
            ClientFrame::Response { id, result } if id.0 == 1 => Some(result),
            _ => None,
        })
        .await
        .unwrap();
    let Response::EnvironmentApplied(applied) = applied else {
        panic!("{applied:?}")
    };
    assert_eq!(
        refs(&applied.applied),
        [
            format!("Namespace/{NS}"),
            "ConfigMap/cfg".into(),
            "Deployment/api".into()
        ]
    );
    // Pushed by the watch (kube-sim runs no simulator here: pods never start).
    let status = conn
        .recv_until(|f| match f {
            ClientFrame::EnvironmentStatus(s) if s.observed_generation == Some(1) => Some(s),
            _ => None,
        })
        .await;
    assert_eq!(status.namespace, NS);
    assert_eq!(status.phase, EnvironmentPhase::Creating);
    let w = &status.workloads[0];
    assert_eq!((w.name.as_str(), w.desired, w.available), ("api", 1, 0));

    let binding = Api::<RoleBinding>::namespaced(fx.sim.client(), NS)
        .get("lapdev-environment")
        .await
        .unwrap();
    let subject = &binding.subjects.unwrap()[0];
    assert_eq!(
        (subject.name.as_str(), subject.namespace.as_deref()),
        ("km", Some("ops"))
    );
    assert_eq!(fx.sim.requests().writes_outside(&[NS]), Vec::new());
}

/// The generic apply is the last line of the guard: an object naming
/// another namespace, or another Namespace, is refused without a call.
#[tokio::test]
async fn the_generic_apply_writes_only_into_its_namespace() {
    use lapdev_kube_manager::environment::apply;
    use lapdev_manifest::ObjectKind as Kind;
    use lapdev_tunnel_proto::ManagedNamespace;
    use serde_json::json;

    let sim = kube_sim::KubeSim::builder().sample_seed().build().unwrap();
    let ns = ManagedNamespace::parse(NS).unwrap();
    let client = sim.client();
    let cases = [
        (
            Kind::ConfigMap,
            json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "namespace": "kube-system"}}),
        ),
        (
            Kind::Namespace,
            json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "kube-system"}}),
        ),
    ];
    for (kind, object) in cases {
        let err = apply::apply(&client, &ns, &apply::api_resource(kind), object)
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Forbidden, "{err}");
    }
    assert_eq!(sim.requests().all(), Vec::new());
}

/// Level-triggered: the next reconcile heals drift (a deleted ConfigMap, a
/// hand-scaled Deployment); an older generation never rolls back.
#[tokio::test]
async fn the_next_reconcile_heals_drift_and_stale_generations_are_refused() {
    let env = Env::new().await;
    env.apply(env.request(2)).await.unwrap();
    let client = env.sim.client();
    let config_maps = Api::<ConfigMap>::namespaced(client.clone(), NS);
    config_maps
        .delete("shop-config", &Default::default())
        .await
        .unwrap();
    let deployments = Api::<Deployment>::namespaced(client.clone(), NS);
    deployments
        .patch(
            "web",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(serde_json::json!({"spec": {"replicas": 7}})),
        )
        .await
        .unwrap();
    env.apply(env.request(2)).await.unwrap();
    assert!(config_maps.get_opt("shop-config").await.unwrap().is_some());
    assert_eq!(env.replicas().await["web"], 2);

    env.sim.requests().clear();
    let err = env.apply(env.request(1)).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(err.message.starts_with("stale generation 1"), "{err}");
    assert_eq!(env.sim.requests().writes(), Vec::new());
}
