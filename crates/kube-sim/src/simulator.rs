//! The workload simulator (like kwok): Deployments → ReplicaSets → Pods,
//! StatefulSets → Pods (+ PVCs), DaemonSets → one Pod per Node; Pods become
//! Running/Ready after a configurable delay, and workloads report status.
//! Failure injection (flag, library call, debug endpoint, or the annotation
//! `kube-sim.lapdev.dev/fail` on the workload) keeps a workload's Pods
//! Pending with `ImagePullBackOff` (or crash-looping).
//!
//! It is level-triggered: every store change (and every readiness timer)
//! re-runs one reconcile pass over the current state; writes that change
//! nothing produce no events, so passes converge.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::core::Core;
use crate::failures::{Failure, WorkloadRef};
use crate::meta;
use crate::ops::{ListParams, Sub};
use crate::registry::{self, ResourceId};

/// The annotation that injects a failure into a workload (value: a reason).
pub const FAIL_ANNOTATION: &str = "kube-sim.lapdev.dev/fail";

const CONTROLLER: &str = "kube-controller-manager";
const KUBELET: &str = "kubelet";

/// Simulator settings.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// How long a new Pod stays Pending before it is Running and Ready.
    pub ready_delay: Duration,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            ready_delay: Duration::from_millis(500),
        }
    }
}

/// Runs until cancelled.
pub(crate) async fn run(core: Arc<Core>, cfg: SimulatorConfig, cancel: CancellationToken) {
    let mut rx = core.subscribe();
    let mut sim = Sim {
        core: core.clone(),
        cfg,
        first_seen: HashMap::new(),
    };
    loop {
        let next = sim.pass();
        let wake = next.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            _ = cancel.cancelled() => return,
            ev = rx.recv() => {
                if matches!(ev, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                    return;
                }
                // Coalesce a burst of events into one pass.
                while rx.try_recv().is_ok() {}
            }
            _ = core.failures.changed.notified() => {}
            _ = tokio::time::sleep_until(wake) => {}
        }
    }
}

struct Sim {
    core: Arc<Core>,
    cfg: SimulatorConfig,
    /// When the simulator first saw each Pod (by uid): readiness is timed from here.
    first_seen: HashMap<String, Instant>,
}

fn owned_by<'a>(objs: &'a [Arc<Value>], uid: &str) -> Vec<&'a Arc<Value>> {
    objs.iter()
        .filter(|o| {
            o.pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|r| r["uid"] == uid))
        })
        .collect()
}

/// A StatefulSet pod's ordinal: the number after the last `-` of its name.
fn ordinal(pod: &Value) -> Option<i64> {
    meta::name(pod).rsplit('-').next()?.parse().ok()
}

/// The owner's pods that are not being deleted.
fn live_pods<'a>(pods: &'a [Arc<Value>], owner: &Value) -> Vec<&'a Arc<Value>> {
    owned_by(pods, meta::uid(owner))
        .into_iter()
        .filter(|p| !meta::is_deleting(p))
        .collect()
}

fn owner_ref(kind: &str, api_version: &str, obj: &Value) -> Value {
    json!([{
        "apiVersion": api_version, "kind": kind, "name": meta::name(obj), "uid": meta::uid(obj),
        "controller": true, "blockOwnerDeletion": true
    }])
}

fn template_hash(template: &Value) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    template.to_string().hash(&mut h);
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = h.finish();
    (0..10)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize] as char;
            n /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

fn replicas(obj: &Value) -> i64 {
    obj.pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

fn is_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// Keeps a condition's transition time when its status did not change.
fn condition(prev: &Value, ctype: &str, status: &str, reason: &str, message: &str) -> Value {
    let old = prev
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|c| c.iter().find(|c| c["type"] == ctype));
    let now = meta::now();
    let same = old.is_some_and(|o| o["status"] == status && o["reason"] == reason);
    let transition = old
        .filter(|o| o["status"] == status)
        .and_then(|o| o["lastTransitionTime"].as_str())
        .map(String::from)
        .unwrap_or_else(|| now.clone());
    let update = if same {
        old.and_then(|o| o["lastUpdateTime"].as_str())
            .unwrap_or(&now)
            .to_string()
    } else {
        now
    };
    json!({"type": ctype, "status": status, "reason": reason, "message": message,
           "lastUpdateTime": update, "lastTransitionTime": transition})
}

impl Sim {
    fn list(&self, res: ResourceId) -> Vec<Arc<Value>> {
        crate::ops::list(&self.core.lock(), res, None, &ListParams::default())
            .map(|l| l.items)
            .unwrap_or_default()
    }

    /// Deletes a pod; a pod already gone is fine.
    fn delete_pod(&self, ns: &str, name: &str) {
        let _ = crate::delete::delete(
            &mut self.core.lock(),
            registry::pods(),
            Some(ns),
            name,
            &Default::default(),
            &Default::default(),
        );
    }

    fn set_status(&self, res: ResourceId, obj: &Value, status: Value, manager: &str) {
        if obj.get("status") == Some(&status) {
            return;
        }
        let mut new = obj.clone();
        new["status"] = status;
        // Conflicts and vanished objects are retried on the next pass.
        let _ = self.core.update(
            res,
            meta::namespace(obj),
            meta::name(obj),
            new,
            Sub::Status,
            manager,
        );
    }

    /// The failure for a workload: injected, or set by annotation.
    fn failure_of(&self, kind: &str, obj: &Value) -> Option<Failure> {
        let w = WorkloadRef {
            namespace: meta::namespace(obj).unwrap_or_default().into(),
            kind: kind.into(),
            name: meta::name(obj).into(),
        };
        self.core.failures.get(&w).or_else(|| {
            obj.pointer("/metadata/annotations")
                .and_then(|a| a.get(FAIL_ANNOTATION))
                .and_then(Value::as_str)
                .and_then(|r| Failure::parse(r, None).ok())
        })
    }

    /// Walks a Pod's owner chain (Pod → ReplicaSet → Deployment) for a failure.
    fn pod_failure(&self, pod: &Value) -> Option<Failure> {
        if let Some(f) = self.failure_of("Pod", pod) {
            return Some(f);
        }
        let mut cur: Arc<Value> = Arc::new(pod.clone());
        for _ in 0..3 {
            let owner = cur
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .and_then(|r| r.first())
                .cloned()?;
            let kind = owner["kind"].as_str()?.to_string();
            let res = registry::by_kind(owner["apiVersion"].as_str()?, &kind)?;
            let next = self
                .core
                .get(res, meta::namespace(&cur), owner["name"].as_str()?)?;
            if let Some(f) = self.failure_of(&kind, &next) {
                return Some(f);
            }
            cur = next;
        }
        None
    }

    /// One reconcile pass; returns when the next readiness timer is due.
    fn pass(&mut self) -> Option<Instant> {
        let nodes = self.list(registry::nodes());
        self.deployments();
        self.replicasets();
        self.statefulsets();
        self.daemonsets(&nodes);
        self.pods(&nodes)
    }

    #[allow(clippy::too_many_arguments)] // reason: the Pod's identity, template, owner and placement.
    fn create_pod(
        &self,
        ns: &str,
        name: Option<&str>,
        generate: Option<&str>,
        template: &Value,
        owner: Value,
        extra_labels: Value,
        node: Option<&str>,
    ) {
        let mut meta = template
            .get("metadata")
            .cloned()
            .unwrap_or_else(|| json!({}));
        if let Some(n) = name {
            meta["name"] = json!(n);
        }
        if let Some(g) = generate {
            meta["generateName"] = json!(g);
        }
        let mut labels = meta.get("labels").cloned().unwrap_or_else(|| json!({}));
        if let (Some(l), Some(x)) = (labels.as_object_mut(), extra_labels.as_object()) {
            l.extend(x.clone());
        }
        meta["labels"] = labels;
        meta["ownerReferences"] = owner;
        let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
        if let Some(node) = node {
            spec["nodeName"] = json!(node);
        }
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec});
        let _ = self
            .core
            .create(registry::pods(), Some(ns), pod, CONTROLLER);
    }

    fn deployments(&self) {
        let rss = self.list(registry::replicasets());
        for d in self.list(registry::deployments()) {
            if meta::is_deleting(&d) {
                continue;
            }
            let ns = meta::namespace(&d).unwrap_or_default();
            let template = d.pointer("/spec/template").cloned().unwrap_or(Value::Null);
            let hash = template_hash(&template);
            let rs_name = format!("{}-{hash}", meta::name(&d));
            let want = replicas(&d);
            let owned = owned_by(&rss, meta::uid(&d));
            let current = owned.iter().find(|r| meta::name(r) == rs_name);
            match current {
                None => {
                    let mut tmpl = template.clone();
                    tmpl["metadata"]["labels"]["pod-template-hash"] = json!(hash);
                    let mut selector = d
                        .pointer("/spec/selector")
                        .cloned()
                        .unwrap_or_else(|| json!({}));
                    selector["matchLabels"]["pod-template-hash"] = json!(hash);
                    let rev = owned.len() + 1;
                    let rs = json!({
                        "apiVersion": "apps/v1", "kind": "ReplicaSet",
                        "metadata": {"name": rs_name, "labels": tmpl["metadata"]["labels"].clone(),
                                     "annotations": {"deployment.kubernetes.io/revision": rev.to_string(),
                                                     "deployment.kubernetes.io/desired-replicas": want.to_string()},
                                     "ownerReferences": owner_ref("Deployment", "apps/v1", &d)},
                        "spec": {"replicas": want, "selector": selector, "template": tmpl}
                    });
                    let _ = self
                        .core
                        .create(registry::replicasets(), Some(ns), rs, CONTROLLER);
                }
                Some(rs) if replicas(rs) != want => {
                    let mut rs = (**rs).as_ref().clone();
                    rs["spec"]["replicas"] = json!(want);
                    let _ = self.core.update(
                        registry::replicasets(),
                        Some(ns),
                        &rs_name.clone(),
                        rs,
                        Sub::Main,
                        CONTROLLER,
                    );
                }
                Some(_) => {}
            }
            for old in owned
                .iter()
                .filter(|r| meta::name(r) != rs_name && replicas(r) != 0)
            {
                let mut rs = (***old).clone();
                rs["spec"]["replicas"] = json!(0);
                let _ = self.core.update(
                    registry::replicasets(),
                    Some(ns),
                    meta::name(old),
                    rs,
                    Sub::Main,
                    CONTROLLER,
                );
            }
            // Status from the ReplicaSets as they are now.
            let stat = |r: &Value, f: &str| {
                r.pointer(&format!("/status/{f}"))
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
            };
            let total: i64 = owned.iter().map(|r| stat(r, "replicas")).sum();
            let ready: i64 = owned.iter().map(|r| stat(r, "readyReplicas")).sum();
            let available: i64 = owned.iter().map(|r| stat(r, "availableReplicas")).sum();
            let updated = current.map_or(0, |r| stat(r, "replicas"));
            let failure = self.failure_of("Deployment", &d);
            let complete = updated == want && available >= want && total == want;
            let available_cond = if available >= want {
                condition(
                    &d,
                    "Available",
                    "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                )
            } else {
                condition(
                    &d,
                    "Available",
                    "False",
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.",
                )
            };
            let progressing = match (&failure, complete) {
                (Some(_), false) => condition(
                    &d,
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    &format!("ReplicaSet \"{rs_name}\" has timed out progressing."),
                ),
                (_, true) => condition(
                    &d,
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    &format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
                ),
                (None, false) => condition(
                    &d,
                    "Progressing",
                    "True",
                    "ReplicaSetUpdated",
                    &format!("ReplicaSet \"{rs_name}\" is progressing."),
                ),
            };
            let mut status = json!({
                "observedGeneration": d.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
                "replicas": total, "updatedReplicas": updated, "readyReplicas": ready,
                "availableReplicas": available, "conditions": [available_cond, progressing],
            });
            if want - available > 0 {
                status["unavailableReplicas"] = json!(want - available);
            }
            self.set_status(registry::deployments(), &d, status, CONTROLLER);
        }
    }

    fn replicasets(&self) {
        let pods = self.list(registry::pods());
        for rs in self.list(registry::replicasets()) {
            if meta::is_deleting(&rs) {
                continue;
            }
            let ns = meta::namespace(&rs).unwrap_or_default();
            let mine = live_pods(&pods, &rs);
            let want = replicas(&rs).max(0) as usize;
            let template = rs.pointer("/spec/template").cloned().unwrap_or(Value::Null);
            for _ in mine.len()..want {
                let generate = format!("{}-", meta::name(&rs));
                self.create_pod(
                    ns,
                    None,
                    Some(&generate),
                    &template,
                    owner_ref("ReplicaSet", "apps/v1", &rs),
                    json!({}),
                    None,
                );
            }
            for extra in mine.iter().skip(want) {
                self.delete_pod(ns, meta::name(extra));
            }
            let n = mine.len().min(want) as i64;
            let ready = mine.iter().take(want).filter(|p| is_ready(p)).count() as i64;
            let status = json!({
                "replicas": n, "fullyLabeledReplicas": n, "readyReplicas": ready, "availableReplicas": ready,
                "observedGeneration": rs.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
            });
            self.set_status(registry::replicasets(), &rs, status, CONTROLLER);
        }
    }

    fn statefulsets(&self) {
        let pods = self.list(registry::pods());
        for s in self.list(registry::statefulsets()) {
            if meta::is_deleting(&s) {
                continue;
            }
            let ns = meta::namespace(&s).unwrap_or_default();
            let name = meta::name(&s);
            let want = replicas(&s).max(0);
            let template = s.pointer("/spec/template").cloned().unwrap_or(Value::Null);
            let revision = format!("{name}-{}", template_hash(&template));
            let mine = live_pods(&pods, &s);
            for i in 0..want {
                let pod_name = format!("{name}-{i}");
                for t in s
                    .pointer("/spec/volumeClaimTemplates")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let claim = format!("{}-{pod_name}", meta::name(t));
                    if self.core.get(registry::pvcs(), Some(ns), &claim).is_none() {
                        let mut pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                            "metadata": {"name": claim, "labels": template.pointer("/metadata/labels").cloned().unwrap_or(json!({}))},
                            "spec": t.get("spec").cloned().unwrap_or(json!({})), "status": {"phase": "Bound"}});
                        pvc["spec"]["volumeName"] = json!(format!("pvc-{}", meta::new_uid()));
                        let _ = self
                            .core
                            .create(registry::pvcs(), Some(ns), pvc, CONTROLLER);
                    }
                }
                match mine.iter().find(|p| meta::name(p) == pod_name) {
                    None => {
                        let mut tmpl = template.clone();
                        let mut pod_spec = tmpl.get("spec").cloned().unwrap_or(json!({}));
                        pod_spec["hostname"] = json!(pod_name);
                        if let Some(svc) = s.pointer("/spec/serviceName") {
                            pod_spec["subdomain"] = svc.clone();
                        }
                        tmpl["spec"] = pod_spec;
                        let labels = json!({"statefulset.kubernetes.io/pod-name": pod_name, "controller-revision-hash": revision, "apps.kubernetes.io/pod-index": i.to_string()});
                        self.create_pod(
                            ns,
                            Some(&pod_name),
                            None,
                            &tmpl,
                            owner_ref("StatefulSet", "apps/v1", &s),
                            labels,
                            None,
                        );
                    }
                    Some(p)
                        if p.pointer("/metadata/labels/controller-revision-hash")
                            .and_then(Value::as_str)
                            != Some(&revision) =>
                    {
                        self.delete_pod(ns, &pod_name);
                    }
                    Some(_) => {}
                }
            }
            for p in &mine {
                if ordinal(p).is_none_or(|o| o >= want) {
                    self.delete_pod(ns, meta::name(p));
                }
            }
            let live: Vec<_> = mine
                .iter()
                .filter(|p| ordinal(p).is_some_and(|o| o < want))
                .collect();
            let ready = live.iter().filter(|p| is_ready(p)).count() as i64;
            let n = live.len() as i64;
            let status = json!({
                "observedGeneration": s.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
                "replicas": n, "readyReplicas": ready, "currentReplicas": n, "updatedReplicas": n,
                "availableReplicas": ready, "currentRevision": revision, "updateRevision": revision,
                "collisionCount": 0,
            });
            self.set_status(registry::statefulsets(), &s, status, CONTROLLER);
        }
    }

    fn daemonsets(&self, nodes: &[Arc<Value>]) {
        let pods = self.list(registry::pods());
        for ds in self.list(registry::daemonsets()) {
            if meta::is_deleting(&ds) {
                continue;
            }
            let ns = meta::namespace(&ds).unwrap_or_default();
            let template = ds.pointer("/spec/template").cloned().unwrap_or(Value::Null);
            let hash = template_hash(&template);
            let mine = live_pods(&pods, &ds);
            for node in nodes {
                let node_name = meta::name(node);
                let on_node = mine.iter().find(|p| {
                    p.pointer("/spec/nodeName").and_then(Value::as_str) == Some(node_name)
                });
                match on_node {
                    None => {
                        let generate = format!("{}-", meta::name(&ds));
                        self.create_pod(
                            ns,
                            None,
                            Some(&generate),
                            &template,
                            owner_ref("DaemonSet", "apps/v1", &ds),
                            json!({"controller-revision-hash": hash}),
                            Some(node_name),
                        );
                    }
                    Some(p)
                        if p.pointer("/metadata/labels/controller-revision-hash")
                            .and_then(Value::as_str)
                            != Some(&hash) =>
                    {
                        self.delete_pod(ns, meta::name(p));
                    }
                    Some(_) => {}
                }
            }
            let desired = nodes.len() as i64;
            let current = mine.len() as i64;
            let ready = mine.iter().filter(|p| is_ready(p)).count() as i64;
            let status = json!({
                "desiredNumberScheduled": desired, "currentNumberScheduled": current,
                "updatedNumberScheduled": current, "numberReady": ready, "numberAvailable": ready,
                "numberMisscheduled": 0,
                "observedGeneration": ds.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
            });
            self.set_status(registry::daemonsets(), &ds, status, CONTROLLER);
        }
    }

    fn pods(&mut self, nodes: &[Arc<Value>]) -> Option<Instant> {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        let pods = self.list(registry::pods());
        self.first_seen
            .retain(|uid, _| pods.iter().any(|p| meta::uid(p) == uid));
        for pod in pods {
            if meta::is_deleting(&pod) {
                continue;
            }
            let seen = *self
                .first_seen
                .entry(meta::uid(&pod).to_string())
                .or_insert(now);
            let failure = self.pod_failure(&pod);
            let due = seen + self.cfg.ready_delay;
            let containers: Vec<Value> = pod
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let node = pod
                .pointer("/spec/nodeName")
                .and_then(Value::as_str)
                .map(String::from)
                .or_else(|| {
                    (!nodes.is_empty()).then(|| {
                        let idx =
                            template_hash(&json!(meta::name(&pod))).len() + meta::name(&pod).len();
                        meta::name(&nodes[idx % nodes.len()]).to_string()
                    })
                })
                .unwrap_or_else(|| "kube-sim-node".into());
            let start = pod
                .pointer("/status/startTime")
                .cloned()
                .unwrap_or_else(|| json!(meta::now()));
            let ip = pod.pointer("/status/podIP").cloned().unwrap_or_else(|| {
                let h = template_hash(&json!(meta::uid(&pod)));
                let b = h
                    .bytes()
                    .fold(0u32, |a, c| a.wrapping_mul(31).wrapping_add(c as u32));
                json!(format!("10.244.{}.{}", (b >> 8) % 250, b % 250 + 2))
            });
            let status = match (&failure, now >= due) {
                (Some(Failure::ImagePullBackOff { message }), _) => {
                    let cs: Vec<Value> = containers.iter().map(|c| {
                        let image = c["image"].as_str().unwrap_or_default();
                        let msg = message.clone().unwrap_or_else(|| format!("Back-off pulling image \"{image}\": ErrImagePull: failed to pull and unpack image \"{image}\": not found"));
                        json!({"name": c["name"], "image": image, "imageID": "", "ready": false, "started": false, "restartCount": 0,
                               "state": {"waiting": {"reason": "ImagePullBackOff", "message": msg}}})
                    }).collect();
                    json!({"phase": "Pending", "qosClass": "BestEffort", "hostIP": "10.0.0.1", "podIP": ip, "startTime": start,
                        "conditions": [
                            condition(&pod, "PodScheduled", "True", "", ""),
                            condition(&pod, "Initialized", "True", "", ""),
                            condition(&pod, "ContainersReady", "False", "ContainersNotReady", "containers with unready status"),
                            condition(&pod, "Ready", "False", "ContainersNotReady", "containers with unready status"),
                        ],
                        "containerStatuses": cs})
                }
                (Some(Failure::CrashLoopBackOff { message }), _) => {
                    let cs: Vec<Value> = containers.iter().map(|c| {
                        let msg = message.clone().unwrap_or_else(|| format!("back-off 5m0s restarting failed container={}", c["name"].as_str().unwrap_or_default()));
                        json!({"name": c["name"], "image": c["image"], "imageID": "", "ready": false, "started": false, "restartCount": 5,
                               "state": {"waiting": {"reason": "CrashLoopBackOff", "message": msg}},
                               "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}})
                    }).collect();
                    json!({"phase": "Running", "qosClass": "BestEffort", "hostIP": "10.0.0.1", "podIP": ip, "startTime": start,
                        "conditions": [
                            condition(&pod, "PodScheduled", "True", "", ""),
                            condition(&pod, "Ready", "False", "ContainersNotReady", "containers with unready status"),
                        ],
                        "containerStatuses": cs})
                }
                (None, false) => {
                    next = Some(next.map_or(due, |n: Instant| n.min(due)));
                    continue;
                }
                (None, true) => {
                    let cs: Vec<Value> = containers.iter().map(|c| json!({
                        "name": c["name"], "image": c["image"], "imageID": format!("docker.io/{}@sha256:0", c["image"].as_str().unwrap_or_default()),
                        "ready": true, "started": true, "restartCount": 0,
                        "state": {"running": {"startedAt": start}}
                    })).collect();
                    json!({"phase": "Running", "qosClass": "BestEffort", "hostIP": "10.0.0.1", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": start,
                        "conditions": [
                            condition(&pod, "PodScheduled", "True", "", ""),
                            condition(&pod, "Initialized", "True", "", ""),
                            condition(&pod, "ContainersReady", "True", "", ""),
                            condition(&pod, "Ready", "True", "", ""),
                        ],
                        "containerStatuses": cs})
                }
            };
            if pod.pointer("/spec/nodeName").is_none() {
                let mut p = (*pod).clone();
                p["spec"]["nodeName"] = json!(node);
                let _ = self.core.update(
                    registry::pods(),
                    meta::namespace(&pod),
                    meta::name(&pod),
                    p,
                    Sub::Main,
                    "kube-scheduler",
                );
                continue; // the status follows on the next pass
            }
            self.set_status(registry::pods(), &pod, status, KUBELET);
        }
        next
    }
}
