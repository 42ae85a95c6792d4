//! Deletion: preconditions, finalizers (deletionTimestamp until cleared),
//! ownerReference cascade, deletecollection, and the namespace lifecycle
//! (Terminating → content deleted with watch events → namespace removed).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::meta;
use crate::ops::{self, ListParams, WriteCtx};
use crate::registry::{self, ResourceId};
use crate::store::{ObjectKey, State};

/// The parts of DeleteOptions the server honours.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeleteOpts {
    pub(crate) uid: Option<String>,
    pub(crate) resource_version: Option<String>,
    /// `Orphan` leaves dependents alone; anything else cascades.
    pub(crate) orphan: bool,
}

impl DeleteOpts {
    /// Reads a DeleteOptions body and query overrides.
    pub(crate) fn from_body(body: Option<&Value>, propagation: Option<&str>) -> Self {
        let b = body.cloned().unwrap_or(Value::Null);
        let prop = propagation
            .map(String::from)
            .or_else(|| b["propagationPolicy"].as_str().map(String::from))
            .or_else(|| {
                b["orphanDependents"]
                    .as_bool()
                    .filter(|o| *o)
                    .map(|_| "Orphan".to_string())
            });
        DeleteOpts {
            uid: b
                .pointer("/preconditions/uid")
                .and_then(Value::as_str)
                .map(String::from),
            resource_version: b
                .pointer("/preconditions/resourceVersion")
                .and_then(Value::as_str)
                .map(String::from),
            orphan: prop.as_deref() == Some("Orphan"),
        }
    }
}

/// Deletes one object. Returns the object as last seen (with a
/// deletionTimestamp when finalizers keep it).
pub(crate) fn delete(
    st: &mut State,
    res: ResourceId,
    ns: Option<&str>,
    name: &str,
    opts: &DeleteOpts,
    w: &WriteCtx,
) -> ApiResult<Value> {
    let def = res.def();
    let k = ops::key(res, ns, name);
    let obj = st
        .get(&k)
        .cloned()
        .ok_or_else(|| ops::not_found(def, name))?;
    let conflict = |what: &str, want: &str, got: &str| ApiError::Conflict {
        resource: def.group_resource(),
        name: name.into(),
        message: format!(
            "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: {what} in precondition: {want}, {what} in object meta: {got}",
            def.group_resource()
        ),
        causes: vec![],
    };
    if let Some(uid) = &opts.uid
        && uid != meta::uid(&obj)
    {
        return Err(conflict("UID", uid, meta::uid(&obj)));
    }
    if let Some(rv) = &opts.resource_version
        && Some(rv.as_str()) != meta::resource_version(&obj)
    {
        return Err(conflict(
            "ResourceVersion",
            rv,
            meta::resource_version(&obj).unwrap_or_default(),
        ));
    }
    if w.dry_run {
        return Ok((*obj).clone());
    }
    Ok(delete_object(st, &k, opts.orphan))
}

/// Marks for deletion (finalizers present, or a namespace) or removes now.
fn delete_object(st: &mut State, k: &ObjectKey, orphan: bool) -> Value {
    let Some(obj) = st.get(k).cloned() else {
        return Value::Null;
    };
    let is_ns = k.resource == registry::namespaces();
    if is_ns || meta::finalizers(&obj) > 0 {
        if meta::is_deleting(&obj) {
            return (*obj).clone();
        }
        let mut marked = (*obj).clone();
        let m = meta::meta_mut(&mut marked);
        m.insert("deletionTimestamp".into(), json!(meta::now()));
        m.insert("deletionGracePeriodSeconds".into(), json!(0));
        if is_ns {
            marked["status"] = json!({"phase": "Terminating"});
        }
        let rv = st.next_rv();
        meta::meta_mut(&mut marked).insert("resourceVersion".into(), json!(rv.to_string()));
        return (*st.put(k.clone(), marked, rv)).clone();
    }
    let uid = meta::uid(&obj).to_string();
    let last = st.remove(k).map(|v| (*v).clone()).unwrap_or(Value::Null);
    if !orphan {
        cascade(st, &k.namespace, &uid);
    }
    last
}

/// Removes the object at once (no finalizer check) and cascades to dependents.
pub(crate) fn remove_now(st: &mut State, k: &ObjectKey) -> Option<Arc<Value>> {
    let last = st.remove(k)?;
    cascade(st, &k.namespace, meta::uid(&last));
    Some(last)
}

/// Background propagation: dependents whose ownerReferences name `uid`.
fn cascade(st: &mut State, ns: &str, uid: &str) {
    if uid.is_empty() {
        return;
    }
    let dependents: Vec<ObjectKey> = registry::all()
        .filter(|(_, d)| d.namespaced)
        .flat_map(|(id, _)| st.range(id, Some(ns)))
        .filter(|(_, o)| {
            o.pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid))
        })
        .map(|(k, _)| k.clone())
        .collect();
    for d in dependents {
        delete_object(st, &d, false);
    }
}

/// Deletes every matching object of a resource in a namespace (or all).
pub(crate) fn delete_collection(
    st: &mut State,
    res: ResourceId,
    ns: Option<&str>,
    p: &ListParams,
    opts: &DeleteOpts,
    w: &WriteCtx,
) -> ApiResult<ops::ListResult> {
    if let Some(ns) = ns
        && res.def().namespaced
        && st
            .get(&ops::key(registry::namespaces(), None, ns))
            .is_none()
    {
        return Err(ops::not_found(registry::namespaces().def(), ns));
    }
    let mut listed = ops::list(
        st,
        res,
        ns,
        &ListParams {
            limit: None,
            continue_token: None,
            ..p.clone()
        },
    )?;
    if w.dry_run {
        return Ok(listed);
    }
    let keys: Vec<ObjectKey> = listed
        .items
        .iter()
        .map(|o| ops::key(res, meta::namespace(o), meta::name(o)))
        .collect();
    listed.items.clear();
    for k in keys {
        let v = delete_object(st, &k, opts.orphan);
        if !v.is_null() {
            listed.items.push(Arc::new(v));
        }
    }
    listed.resource_version = st.rv;
    Ok(listed)
}

/// Namespaces marked Terminating, by name.
pub(crate) fn terminating_namespaces(st: &State) -> Vec<String> {
    st.range(registry::namespaces(), None)
        .filter(|(_, o)| meta::is_deleting(o))
        .map(|(k, _)| k.name.clone())
        .collect()
}

/// The namespace controller's step for one Terminating namespace: its
/// content is deleted (objects with finalizers get a deletionTimestamp);
/// once empty, and without finalizers of its own, the namespace is removed.
pub(crate) fn settle_namespace(st: &mut State, ns: &str) {
    let nk = ops::key(registry::namespaces(), None, ns);
    if !st.get(&nk).is_some_and(|o| meta::is_deleting(o)) {
        return;
    }
    let content: Vec<ObjectKey> = registry::all()
        .filter(|(_, d)| d.namespaced)
        .flat_map(|(id, _)| st.range(id, Some(ns)))
        .filter(|(_, o)| !meta::is_deleting(o))
        .map(|(k, _)| k.clone())
        .collect();
    for k in content {
        delete_object(st, &k, false);
    }
    let empty = registry::all()
        .filter(|(_, d)| d.namespaced)
        .all(|(id, _)| st.range(id, Some(ns)).next().is_none());
    let held = st.get(&nk).is_some_and(|o| meta::finalizers(o) > 0);
    if empty && !held {
        st.remove(&nk);
    }
}
