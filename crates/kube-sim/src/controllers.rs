//! The always-on controllers of kube-controller-manager that API semantics
//! depend on:
//! - the namespace controller: a Terminating namespace has its content
//!   deleted (with watch events) after a short delay, like the real
//!   asynchronous namespace deletion, and is removed once empty. The delay
//!   keeps `kubectl delete -f` of a file holding a Namespace and its content
//!   working as on a real cluster;
//! - the garbage collector's dangling-owner rule: an object created (or
//!   updated) with ownerReferences none of which exists is deleted, as the
//!   real garbage collector does — which catches objects copied with their
//!   source's ownerReferences.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use serde_json::Value;

use crate::core::Core;
use crate::delete;
use crate::meta;
use crate::registry;
use crate::store::{EventType, StoreEvent};

/// True when the object has ownerReferences and none of them resolves to a
/// live object with that uid (same namespace, or cluster-scoped).
fn dangling(core: &Core, ev: &StoreEvent) -> bool {
    if ev.kind == EventType::Deleted {
        return false;
    }
    let Some(refs) = ev
        .object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
    else {
        return false;
    };
    if refs.is_empty() || meta::is_deleting(&ev.object) {
        return false;
    }
    if ev.kind == EventType::Modified
        && ev
            .old
            .as_ref()
            .and_then(|o| o.pointer("/metadata/ownerReferences"))
            == Some(&Value::Array(refs.clone()))
    {
        return false;
    }
    let ns = meta::namespace(&ev.object);
    !refs.iter().any(|r| {
        let (Some(av), Some(kind), Some(name), Some(uid)) = (
            r["apiVersion"].as_str(),
            r["kind"].as_str(),
            r["name"].as_str(),
            r["uid"].as_str(),
        ) else {
            return false;
        };
        let Some(res) = registry::by_kind(av, kind) else {
            // Owners of kinds kube-sim does not serve are assumed to exist.
            return true;
        };
        let owner_ns = if res.def().namespaced { ns } else { None };
        core.get(res, owner_ns, name)
            .is_some_and(|o| meta::uid(&o) == uid)
    })
}

fn collect(core: &Core, ev: &StoreEvent) {
    if dangling(core, ev) {
        let name = meta::name(&ev.object).to_string();
        let _ = delete::delete(
            &mut core.lock(),
            ev.resource,
            meta::namespace(&ev.object),
            &name,
            &Default::default(),
            &Default::default(),
        );
    }
}

/// Runs until cancelled.
pub(crate) async fn run(core: Arc<Core>, delay: Duration, cancel: CancellationToken) {
    let mut rx = core.subscribe();
    let mut since: HashMap<String, Instant> = HashMap::new();
    loop {
        let terminating = delete::terminating_namespaces(&core.lock());
        since.retain(|ns, _| terminating.contains(ns));
        let now = Instant::now();
        for ns in terminating {
            since.entry(ns).or_insert(now);
        }
        let due: Vec<String> = since
            .iter()
            .filter(|(_, t)| now >= **t + delay)
            .map(|(n, _)| n.clone())
            .collect();
        if !due.is_empty() {
            let mut st = core.lock();
            for ns in &due {
                delete::settle_namespace(&mut st, ns);
            }
        }
        let next = since
            .values()
            .map(|t| *t + delay)
            .filter(|t| *t > now)
            .min();
        tokio::select! {
            _ = cancel.cancelled() => return,
            ev = rx.recv() => {
                match ev {
                    Ok(ev) => collect(&core, &ev),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                }
                while let Ok(ev) = rx.try_recv() {
                    collect(&core, &ev);
                }
            }
            _ = async { tokio::time::sleep_until(next.unwrap_or(now)).await }, if next.is_some() => {}
        }
    }
}
