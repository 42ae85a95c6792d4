//! The object store: every object as `serde_json::Value`, keyed by
//! (resource, namespace, name), one global resourceVersion counter, a bounded
//! event history for watch replay, and a broadcast channel feeding watchers.
//!
//! Invariant: every mutation happens under the one state lock, gets the next
//! resourceVersion, is appended to the history and is broadcast in the same
//! critical section, so watchers see events in resourceVersion order.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, OnceLock};

use serde_json::Value;
use tokio::sync::broadcast;

use crate::registry::ResourceId;

/// Where an object lives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ObjectKey {
    pub(crate) resource: ResourceId,
    pub(crate) namespace: String,
    pub(crate) name: String,
}

/// ADDED / MODIFIED / DELETED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as recorded in the history.
#[derive(Debug)]
pub(crate) struct StoreEvent {
    pub(crate) rv: u64,
    pub(crate) resource: ResourceId,
    pub(crate) namespace: String,
    pub(crate) kind: EventType,
    pub(crate) object: Arc<Value>,
    /// The object before a modification (for selector transitions).
    pub(crate) old: Option<Arc<Value>>,
    /// `object` as JSON, serialized by the first watcher that sends it and
    /// shared by the rest (fan-out serializes once per event, not per watcher).
    json: OnceLock<Vec<u8>>,
}

impl StoreEvent {
    pub(crate) fn object_json(&self) -> &[u8] {
        self.json.get_or_init(|| {
            serde_json::to_vec(self.object.as_ref()).expect("a Value always serializes")
        })
    }
}

/// The mutable state behind the lock.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) objects: BTreeMap<ObjectKey, Arc<Value>>,
    pub(crate) rv: u64,
    history: VecDeque<Arc<StoreEvent>>,
    history_cap: usize,
    /// Events at or below this resourceVersion are no longer replayable.
    pub(crate) compacted: u64,
    tx: broadcast::Sender<Arc<StoreEvent>>,
    pub(crate) ips: crate::defaults::IpAllocator,
}

impl State {
    pub(crate) fn new(history_cap: usize, tx: broadcast::Sender<Arc<StoreEvent>>) -> Self {
        State {
            objects: BTreeMap::new(),
            rv: 1,
            history: VecDeque::new(),
            history_cap: history_cap.max(1),
            compacted: 1,
            tx,
            ips: crate::defaults::IpAllocator::default(),
        }
    }

    pub(crate) fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    pub(crate) fn get(&self, key: &ObjectKey) -> Option<&Arc<Value>> {
        self.objects.get(key)
    }

    /// Objects of `resource`, in one namespace or all, in key order.
    pub(crate) fn range<'a>(
        &'a self,
        resource: ResourceId,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a ObjectKey, &'a Arc<Value>)> + 'a {
        let start = ObjectKey {
            resource,
            namespace: namespace.unwrap_or_default().to_string(),
            name: String::new(),
        };
        self.objects.range(start..).take_while(move |(k, _)| {
            k.resource == resource && namespace.is_none_or(|ns| k.namespace == ns)
        })
    }

    /// Stores `obj` (whose resourceVersion the caller has set to `rv`) and emits the event.
    pub(crate) fn put(&mut self, key: ObjectKey, obj: Value, rv: u64) -> Arc<Value> {
        let obj = Arc::new(obj);
        let old = self.objects.insert(key.clone(), obj.clone());
        let kind = if old.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.emit(StoreEvent {
            rv,
            resource: key.resource,
            namespace: key.namespace,
            kind,
            object: obj.clone(),
            old,
            json: OnceLock::new(),
        });
        obj
    }

    /// Removes the object; the final state (with a fresh resourceVersion) goes into the event.
    pub(crate) fn remove(&mut self, key: &ObjectKey) -> Option<Arc<Value>> {
        let old = self.objects.remove(key)?;
        let rv = self.next_rv();
        let mut last = (*old).clone();
        last["metadata"]["resourceVersion"] = Value::String(rv.to_string());
        let last = Arc::new(last);
        if key.resource == crate::registry::services() {
            self.ips.release(&last);
        }
        self.emit(StoreEvent {
            rv,
            resource: key.resource,
            namespace: key.namespace.clone(),
            kind: EventType::Deleted,
            object: last.clone(),
            old: Some(old),
            json: OnceLock::new(),
        });
        Some(last)
    }

    fn emit(&mut self, ev: StoreEvent) {
        let ev = Arc::new(ev);
        if self.history.len() >= self.history_cap
            && let Some(dropped) = self.history.pop_front()
        {
            self.compacted = dropped.rv;
        }
        self.history.push_back(ev.clone());
        // No receivers is fine.
        let _ = self.tx.send(ev);
    }

    /// Events with rv > `after`, or None when some of them were compacted away.
    pub(crate) fn since(&self, after: u64) -> Option<Vec<Arc<StoreEvent>>> {
        if after < self.compacted {
            return None;
        }
        let start = self.history.partition_point(|e| e.rv <= after);
        Some(self.history.range(start..).cloned().collect())
    }

    /// Drops the whole history: every watch resuming from an older resourceVersion gets 410.
    pub(crate) fn compact(&mut self) {
        self.history.clear();
        self.compacted = self.rv;
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<StoreEvent>> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(name: &str) -> ObjectKey {
        ObjectKey {
            resource: crate::registry::pods(),
            namespace: "ns".into(),
            name: name.into(),
        }
    }

    /// Replay after a resourceVersion: `Some(rvs)` while retained, `None` (410) once compacted.
    #[test]
    fn history_replay_table() {
        let (tx, _) = broadcast::channel(16);
        let mut st = State::new(3, tx);
        let mut rvs = Vec::new();
        for i in 0..5 {
            let rv = st.next_rv();
            st.put(
                key(&format!("p{i}")),
                json!({"metadata": {"name": format!("p{i}")}}),
                rv,
            );
            rvs.push(rv);
        }
        // rvs = 2..=6, history keeps the last 3 (4, 5, 6); 3 was dropped.
        fn got(st: &State, after: u64) -> Option<Vec<u64>> {
            st.since(after)
                .map(|evs| evs.iter().map(|e| e.rv).collect())
        }
        let cases: &[(u64, Option<Vec<u64>>)] = &[
            (1, None),
            (2, None),
            (3, Some(vec![4, 5, 6])),
            (5, Some(vec![6])),
            (6, Some(vec![])),
        ];
        for (after, want) in cases {
            assert_eq!(got(&st, *after), *want, "after {after}");
        }
        st.compact();
        assert_eq!(got(&st, 5), None);
        assert_eq!(got(&st, 6), Some(vec![]));
    }

    #[test]
    fn remove_emits_deleted_with_fresh_resource_version() {
        let (tx, mut rx) = broadcast::channel(16);
        let mut st = State::new(10, tx);
        let rv = st.next_rv();
        st.put(
            key("a"),
            json!({"metadata": {"name": "a", "resourceVersion": rv.to_string()}}),
            rv,
        );
        let last = st.remove(&key("a")).unwrap();
        assert_eq!(last["metadata"]["resourceVersion"], (rv + 1).to_string());
        assert_eq!(rx.try_recv().unwrap().kind, EventType::Added);
        let del = rx.try_recv().unwrap();
        assert_eq!((del.kind, del.rv), (EventType::Deleted, rv + 1));
        assert!(st.remove(&key("a")).is_none());
    }
}
