//! The namespace controller: a Terminating namespace has its content deleted
//! (with watch events) after a short delay, like kube-controller-manager's
//! asynchronous namespace deletion, and is removed once empty. The delay
//! keeps `kubectl delete -f` of a file holding a Namespace and its content
//! working as on a real cluster.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::core::Core;
use crate::delete;

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
                if matches!(ev, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                    return;
                }
                while rx.try_recv().is_ok() {}
            }
            _ = async { tokio::time::sleep_until(next.unwrap_or(now)).await }, if next.is_some() => {}
        }
    }
}
