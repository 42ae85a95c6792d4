//! Server-side apply and managedFields: field sets in the `FieldsV1` shape,
//! ownership per (manager, operation, subresource), conflicts, `force`, and
//! removal of fields a manager applied before and no longer applies.
//!
//! A field set is a set of paths; each path element is already in its
//! `FieldsV1` spelling (`f:name`, `k:{"name":"x"}`, `v:"x"`). A path ending in
//! a `k:`/`v:` element stands for the list item itself (the `.` marker).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult, Cause};
use crate::patch::{ListKind, item_key, list_kind};

pub(crate) type Path = Vec<String>;
pub(crate) type FieldSet = BTreeSet<Path>;

/// Top-level fields never tracked (identity and server-owned metadata).
fn ignored(path: &[String]) -> bool {
    match path {
        [a] if a == "f:apiVersion" || a == "f:kind" => true,
        [m, f] if m == "f:metadata" => matches!(
            f.as_str(),
            "f:name"
                | "f:namespace"
                | "f:uid"
                | "f:resourceVersion"
                | "f:generation"
                | "f:creationTimestamp"
                | "f:managedFields"
                | "f:deletionTimestamp"
                | "f:deletionGracePeriodSeconds"
                | "f:selfLink"
                | "f:generateName"
        ),
        _ => false,
    }
}

/// The leaf paths of `v` (maps recurse, keyed lists recurse per item).
pub(crate) fn field_set(v: &Value, with_status: bool) -> FieldSet {
    let mut out = FieldSet::new();
    let mut path = Vec::new();
    walk(v, "", &mut path, &mut out);
    out.retain(|p| !ignored(p) && (with_status || p.first().is_none_or(|f| f != "f:status")));
    out
}

fn walk(v: &Value, field: &str, path: &mut Path, out: &mut FieldSet) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                path.push(format!("f:{k}"));
                walk(child, k, path, out);
                path.pop();
            }
        }
        Value::Array(items) if !items.is_empty() => match list_kind(field, items.first()) {
            ListKind::Keyed(keys) => {
                for item in items {
                    path.push(format!("k:{}", Value::Object(item_key(keys, item))));
                    out.insert(path.clone());
                    if let Value::Object(m) = item {
                        for (k, child) in m {
                            path.push(format!("f:{k}"));
                            walk(child, k, path, out);
                            path.pop();
                        }
                    }
                    path.pop();
                }
            }
            ListKind::Set => {
                for item in items {
                    path.push(format!("v:{item}"));
                    out.insert(path.clone());
                    path.pop();
                }
            }
            ListKind::Atomic => {
                out.insert(path.clone());
            }
        },
        _ => {
            if !path.is_empty() {
                out.insert(path.clone());
            }
        }
    }
}

/// Renders a field set as `FieldsV1` JSON.
pub(crate) fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut node = &mut root;
        for el in path {
            node = node
                .entry(el.clone())
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("fieldsV1 nodes are objects");
        }
    }
    // An item marker with children needs `.`; add it where the item node has children.
    fn mark(v: &mut Map<String, Value>) {
        for (k, child) in v.iter_mut() {
            if let Value::Object(m) = child {
                if k.starts_with("k:") && !m.is_empty() {
                    m.insert(".".into(), json!({}));
                }
                mark(m);
            }
        }
    }
    mark(&mut root);
    Value::Object(root)
}

/// Parses `FieldsV1` JSON back into a field set.
pub(crate) fn from_fields_v1(v: &Value) -> FieldSet {
    fn go(v: &Value, path: &mut Path, out: &mut FieldSet) {
        let Some(m) = v.as_object() else { return };
        if m.is_empty() {
            if !path.is_empty() {
                out.insert(path.clone());
            }
            return;
        }
        for (k, child) in m {
            if k == "." {
                out.insert(path.clone());
                continue;
            }
            path.push(k.clone());
            go(child, path, out);
            path.pop();
        }
    }
    let mut out = FieldSet::new();
    go(v, &mut Vec::new(), &mut out);
    out
}

/// Finds the value at a field-set path, if present.
pub(crate) fn lookup<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    let mut field = "";
    for el in path {
        if let Some(f) = el.strip_prefix("f:") {
            cur = cur.get(f)?;
            field = f;
        } else if let Some(k) = el.strip_prefix("k:") {
            let want: Map<String, Value> = serde_json::from_str(k).ok()?;
            let items = cur.as_array()?;
            let ListKind::Keyed(keys) = list_kind(field, items.first()) else {
                return None;
            };
            cur = items.iter().find(|i| item_key(keys, i) == want)?;
        } else if let Some(x) = el.strip_prefix("v:") {
            let want: Value = serde_json::from_str(x).ok()?;
            cur = cur.as_array()?.iter().find(|i| **i == want)?;
        } else {
            return None;
        }
    }
    Some(cur)
}

/// Removes the value at a field-set path (a list item for `k:`/`v:` ends).
fn remove_path(v: &mut Value, path: &[String]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let mut cur = v;
    let mut field = String::new();
    for el in parent {
        let next = if let Some(f) = el.strip_prefix("f:") {
            field = f.to_string();
            cur.get_mut(f)
        } else if let Some(k) = el.strip_prefix("k:") {
            let want: Option<Map<String, Value>> = serde_json::from_str(k).ok();
            let f = field.clone();
            cur.as_array_mut().and_then(|items| {
                let keys = match list_kind(&f, items.first()) {
                    ListKind::Keyed(keys) => keys,
                    _ => return None,
                };
                items.iter_mut().find(|i| Some(item_key(keys, i)) == want)
            })
        } else {
            None
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    if let Some(f) = last.strip_prefix("f:") {
        if let Some(m) = cur.as_object_mut() {
            m.remove(f);
        }
    } else if let Some(k) = last.strip_prefix("k:") {
        let want: Option<Map<String, Value>> = serde_json::from_str(k).ok();
        if let Some(items) = cur.as_array_mut()
            && let ListKind::Keyed(keys) = list_kind(&field, items.first())
        {
            items.retain(|i| Some(item_key(keys, i)) != want);
        }
    } else if let Some(x) = last.strip_prefix("v:") {
        let want: Option<Value> = serde_json::from_str(x).ok();
        if let Some(items) = cur.as_array_mut() {
            items.retain(|i| Some(i) != want.as_ref());
        }
    }
}

/// Merges an applied configuration into the live object (maps recurse,
/// keyed lists merge per item, everything else is replaced).
pub(crate) fn merge_applied(live: &mut Value, applied: &Value) {
    let (Some(lm), Some(am)) = (live.as_object_mut(), applied.as_object()) else {
        *live = applied.clone();
        return;
    };
    for (k, av) in am {
        if av.is_null() {
            lm.remove(k);
            continue;
        }
        match (lm.get_mut(k), av) {
            (Some(lv @ Value::Object(_)), Value::Object(_)) => merge_applied(lv, av),
            (Some(Value::Array(ll)), Value::Array(al)) => {
                match list_kind(k, al.first().or(ll.first())) {
                    ListKind::Keyed(keys) => {
                        for ai in al {
                            let key = item_key(keys, ai);
                            match ll.iter_mut().find(|li| item_key(keys, li) == key) {
                                Some(li) => merge_applied(li, ai),
                                None => ll.push(ai.clone()),
                            }
                        }
                    }
                    ListKind::Set => {
                        for ai in al {
                            if !ll.contains(ai) {
                                ll.push(ai.clone());
                            }
                        }
                    }
                    ListKind::Atomic => *ll = al.clone(),
                }
            }
            _ => {
                lm.insert(k.clone(), av.clone());
            }
        }
    }
}

/// One managedFields entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) manager: String,
    pub(crate) operation: String,
    pub(crate) subresource: String,
    pub(crate) api_version: String,
    pub(crate) time: String,
    pub(crate) fields: FieldSet,
}

pub(crate) fn read_entries(obj: &Value) -> Vec<Entry> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|e| Entry {
                    manager: e["manager"].as_str().unwrap_or_default().into(),
                    operation: e["operation"].as_str().unwrap_or("Update").into(),
                    subresource: e["subresource"].as_str().unwrap_or_default().into(),
                    api_version: e["apiVersion"].as_str().unwrap_or_default().into(),
                    time: e["time"].as_str().unwrap_or_default().into(),
                    fields: from_fields_v1(&e["fieldsV1"]),
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn write_entries(obj: &mut Value, entries: &[Entry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(|e| {
            let mut v = json!({
                "manager": e.manager,
                "operation": e.operation,
                "apiVersion": e.api_version,
                "time": e.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": to_fields_v1(&e.fields),
            });
            if !e.subresource.is_empty() {
                v["subresource"] = json!(e.subresource);
            }
            v
        })
        .collect();
    if list.is_empty() {
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("managedFields");
        }
    } else if obj.is_object() {
        crate::meta::meta_mut(obj).insert("managedFields".into(), Value::Array(list));
    }
}

/// Identifies the writer of a request for managedFields.
#[derive(Debug, Clone)]
pub(crate) struct Writer {
    pub(crate) manager: String,
    pub(crate) subresource: String,
    pub(crate) api_version: String,
    pub(crate) time: String,
}

impl Writer {
    /// This writer's managedFields entry for `operation` over `fields`.
    fn entry(&self, operation: &str, fields: FieldSet) -> Entry {
        Entry {
            manager: self.manager.clone(),
            operation: operation.into(),
            subresource: self.subresource.clone(),
            api_version: self.api_version.clone(),
            time: self.time.clone(),
            fields,
        }
    }
}

/// Records an Update-operation write: changed fields move to `writer`,
/// removed fields leave every manager.
pub(crate) fn track_update(old: Option<&Value>, new: &mut Value, writer: &Writer) {
    let with_status = writer.subresource == "status";
    let new_set = field_set(new, true);
    let mut entries = old.map(read_entries).unwrap_or_default();
    let old_set = old.map(|o| field_set(o, true)).unwrap_or_default();
    let changed: FieldSet = new_set
        .iter()
        .filter(|p| {
            let differs = old.is_none_or(|o| lookup(o, p) != lookup(new, p));
            differs && (with_status == p.first().is_some_and(|f| f == "f:status"))
        })
        .cloned()
        .collect();
    let removed: Vec<&Path> = old_set.difference(&new_set).collect();
    for e in entries.iter_mut() {
        e.fields
            .retain(|p| !changed.contains(p) && !removed.contains(&p));
    }
    if !changed.is_empty() {
        match entries.iter_mut().find(|e| {
            e.manager == writer.manager
                && e.operation == "Update"
                && e.subresource == writer.subresource
        }) {
            Some(e) => {
                e.fields.extend(changed);
                e.time = writer.time.clone();
                e.api_version = writer.api_version.clone();
            }
            None => entries.push(writer.entry("Update", changed)),
        }
    }
    write_entries(new, &entries);
}

fn describe(path: &[String]) -> String {
    let mut s = String::new();
    for el in path {
        if let Some(f) = el.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else {
            s.push('[');
            s.push_str(&el[2..]);
            s.push(']');
        }
    }
    s
}

/// Server-side apply of `applied` by `writer` onto `live` (None = create).
/// Returns the new object with managedFields set.
pub(crate) fn server_side_apply(
    live: Option<&Value>,
    applied: &Value,
    writer: &Writer,
    force: bool,
) -> ApiResult<Value> {
    let with_status = writer.subresource == "status";
    let applied_set: FieldSet = field_set(applied, true)
        .into_iter()
        .filter(|p| with_status == p.first().is_some_and(|f| f == "f:status"))
        .collect();
    let Some(live) = live else {
        let mut obj = applied.clone();
        let entries = vec![writer.entry("Apply", applied_set)];
        write_entries(&mut obj, &entries);
        return Ok(obj);
    };
    let mut entries = read_entries(live);
    let is_mine = |e: &Entry| {
        e.manager == writer.manager && e.operation == "Apply" && e.subresource == writer.subresource
    };

    // Conflicts with other managers on fields whose value would change.
    let mut conflicts: BTreeMap<Path, Vec<String>> = BTreeMap::new();
    for e in entries.iter().filter(|e| !is_mine(e)) {
        for p in e.fields.intersection(&applied_set) {
            let is_item = p
                .last()
                .is_some_and(|l| l.starts_with("k:") || l.starts_with("v:"));
            if !is_item && lookup(live, p) != lookup(applied, p) {
                conflicts
                    .entry(p.clone())
                    .or_default()
                    .push(e.manager.clone());
            }
        }
    }
    if !conflicts.is_empty() && !force {
        let causes: Vec<Cause> = conflicts
            .iter()
            .flat_map(|(p, ms)| {
                ms.iter().map(move |m| Cause {
                    reason: "FieldManagerConflict",
                    field: describe(p),
                    message: format!("conflict with \"{m}\""),
                })
            })
            .collect();
        let lines: Vec<String> = causes
            .iter()
            .map(|c| format!("- {}: {}", c.message, c.field))
            .collect();
        return Err(ApiError::Conflict {
            resource: String::new(),
            name: live
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .into(),
            message: format!(
                "Apply failed with {} conflict{}: {}",
                causes.len(),
                if causes.len() == 1 { "" } else { "s" },
                lines.join("\n")
            ),
            causes,
        });
    }
    for e in entries.iter_mut().filter(|e| !is_mine(e)) {
        e.fields.retain(|p| !conflicts.contains_key(p));
    }

    // Fields this manager applied before and no longer applies, owned by nobody else.
    let previous: FieldSet = entries
        .iter()
        .filter(|e| is_mine(e))
        .flat_map(|e| e.fields.iter().cloned())
        .collect();
    let others: FieldSet = entries
        .iter()
        .filter(|e| !is_mine(e))
        .flat_map(|e| e.fields.iter().cloned())
        .collect();
    let mut obj = live.clone();
    for p in previous.difference(&applied_set) {
        let owned_elsewhere = others.iter().any(|o| o.starts_with(p));
        if !owned_elsewhere {
            remove_path(&mut obj, p);
        }
    }
    merge_applied(&mut obj, applied);

    entries.retain(|e| !is_mine(e));
    entries.push(writer.entry("Apply", applied_set));
    write_entries(&mut obj, &entries);
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(m: &str) -> Writer {
        Writer {
            manager: m.into(),
            subresource: String::new(),
            api_version: "v1".into(),
            time: "t".into(),
        }
    }

    fn apply(
        live: Option<&Value>,
        applied: Value,
        m: &str,
        force: bool,
    ) -> Result<Value, Vec<String>> {
        server_side_apply(live, &applied, &w(m), force).map_err(|e| match e {
            ApiError::Conflict { causes, .. } => causes
                .into_iter()
                .map(|c| format!("{} {}", c.message, c.field))
                .collect(),
            other => vec![other.to_string()],
        })
    }

    fn strip(mut v: Value) -> Value {
        v["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        v
    }

    #[test]
    fn fields_v1_round_trip() {
        let obj = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80}]}], "args": ["x"]}});
        let set = field_set(&obj, false);
        let v1 = to_fields_v1(&set);
        assert_eq!(
            v1,
            json!({"f:metadata": {"f:labels": {"f:a": {}}}, "f:spec": {"f:args": {}, "f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}, "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}}}}})
        );
        assert_eq!(from_fields_v1(&v1), set);
    }

    #[test]
    fn apply_table() {
        let base = json!({"metadata": {"name": "x", "labels": {"a": "1"}}, "data": {"k": "v"}});
        let created = apply(None, base.clone(), "m1", false).unwrap();
        // Same manager, same value: no change apart from managedFields.
        assert_eq!(
            strip(apply(Some(&created), base.clone(), "m1", false).unwrap()),
            base
        );
        // Another manager, different value: conflict on the field.
        let other = json!({"metadata": {"name": "x"}, "data": {"k": "w"}});
        assert_eq!(
            apply(Some(&created), other.clone(), "m2", false).unwrap_err(),
            vec!["conflict with \"m1\" .data.k".to_string()]
        );
        // Forced: m2 takes the field.
        let forced = apply(Some(&created), other, "m2", true).unwrap();
        assert_eq!(forced["data"]["k"], "w");
        let owners: Vec<_> = read_entries(&forced)
            .into_iter()
            .map(|e| (e.manager, e.fields.len()))
            .collect();
        assert_eq!(owners, vec![("m1".to_string(), 1), ("m2".to_string(), 1)]);
        // Another manager, same value: shared, no conflict.
        let same = json!({"metadata": {"name": "x"}, "data": {"k": "v"}});
        assert!(apply(Some(&created), same, "m3", false).is_ok());
        // m1 stops applying the label: it is removed.
        let fewer = json!({"metadata": {"name": "x"}, "data": {"k": "v"}});
        let out = strip(apply(Some(&created), fewer, "m1", false).unwrap());
        assert_eq!(
            out,
            json!({"metadata": {"name": "x", "labels": {}}, "data": {"k": "v"}})
        );
    }

    #[test]
    fn apply_keyed_lists() {
        let a = json!({"spec": {"containers": [{"name": "a", "image": "1"}]}});
        let live = apply(None, a, "m1", false).unwrap();
        let b = json!({"spec": {"containers": [{"name": "b", "image": "2"}]}});
        let both = apply(Some(&live), b, "m2", false).unwrap();
        assert_eq!(both["spec"]["containers"].as_array().unwrap().len(), 2);
        // m1 drops container a: only b remains.
        let none = json!({"spec": {}});
        let out = apply(Some(&both), none, "m1", false).unwrap();
        assert_eq!(
            out["spec"]["containers"],
            json!([{"name": "b", "image": "2"}])
        );
    }
}
