//! Failure injection for the workload simulator: which workload fails and
//! how. Set at start (`--fail`), at run time (library call or
//! `POST /kube-sim/v1/fail`), or by the annotation
//! [`FAIL_ANNOTATION`](crate::FAIL_ANNOTATION) on the workload.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::registry;

/// A workload named by namespace, kind and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkloadRef {
    pub namespace: String,
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet` or `Pod`.
    pub kind: String,
    pub name: String,
}

impl WorkloadRef {
    /// Accepts a kind in any spelling (`deployment`, `deployments`, `Deployment`).
    pub fn new(namespace: &str, kind: &str, name: &str) -> Result<Self, String> {
        let res = registry::by_kind_name(kind).ok_or_else(|| format!("unknown kind {kind:?}"))?;
        let kind = res.def().kind;
        if !matches!(
            kind,
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Pod"
        ) {
            return Err(format!("{kind} is not a workload kind"));
        }
        Ok(WorkloadRef {
            namespace: namespace.into(),
            kind: kind.into(),
            name: name.into(),
        })
    }

    /// Parses `namespace/kind/name` (the `--fail` flag).
    pub fn parse(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [ns, kind, name] => Self::new(ns, kind, name),
            _ => Err(format!("expected namespace/kind/name, got {s:?}")),
        }
    }
}

/// What goes wrong with a failed workload's Pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Pods stay Pending; containers wait with `ImagePullBackOff`.
    ImagePullBackOff { message: Option<String> },
    /// Pods run but containers wait with `CrashLoopBackOff`.
    CrashLoopBackOff { message: Option<String> },
}

impl Failure {
    pub fn parse(reason: &str, message: Option<&str>) -> Result<Self, String> {
        let message = message.map(String::from);
        match reason {
            "ImagePullBackOff" | "ErrImagePull" | "image-pull" | "" => {
                Ok(Failure::ImagePullBackOff { message })
            }
            "CrashLoopBackOff" | "crash-loop" => Ok(Failure::CrashLoopBackOff { message }),
            other => Err(format!(
                "unknown failure reason {other:?}: use ImagePullBackOff or CrashLoopBackOff"
            )),
        }
    }
}

/// Failure injections set at start or at run time.
#[derive(Debug, Default)]
pub(crate) struct Failures {
    map: Mutex<BTreeMap<WorkloadRef, Failure>>,
    pub(crate) changed: tokio::sync::Notify,
}

impl Failures {
    pub(crate) fn set(&self, w: WorkloadRef, f: Failure) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(w, f);
        self.changed.notify_one();
    }
    pub(crate) fn clear(&self, w: &WorkloadRef) {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).remove(w);
        self.changed.notify_one();
    }
    pub(crate) fn get(&self, w: &WorkloadRef) -> Option<Failure> {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(w)
            .cloned()
    }
}
