//! Patches: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and strategic
//! merge patch for the lists kubectl touches. The merge-key table here is
//! also what server-side apply uses to key list items.

use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};

/// The patch content types the server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchKind {
    Json,
    Merge,
    Strategic,
    Apply,
}

impl PatchKind {
    pub(crate) fn from_content_type(ct: &str) -> Option<Self> {
        let base = ct.split(';').next().unwrap_or_default().trim();
        Some(match base {
            "application/json-patch+json" => PatchKind::Json,
            "application/merge-patch+json" => PatchKind::Merge,
            "application/strategic-merge-patch+json" => PatchKind::Strategic,
            "application/apply-patch+yaml" | "application/apply-patch+json" => PatchKind::Apply,
            _ => return None,
        })
    }
}

/// How items of a list under `field` are identified, if the list is keyed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ListKind {
    /// Items are maps identified by these keys.
    Keyed(&'static [&'static str]),
    /// Items are scalars forming a set.
    Set,
    /// The list is replaced as a whole.
    Atomic,
}

/// The merge-key table (the field name is enough for the kinds served).
pub(crate) fn list_kind(field: &str, sample: Option<&Value>) -> ListKind {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets" => ListKind::Keyed(&["name"]),
        "volumeMounts" => ListKind::Keyed(&["mountPath"]),
        "volumeDevices" => ListKind::Keyed(&["devicePath"]),
        "conditions" => ListKind::Keyed(&["type"]),
        "ownerReferences" => ListKind::Keyed(&["uid"]),
        "hostAliases" => ListKind::Keyed(&["ip"]),
        "ports" => {
            if sample.is_some_and(|s| s.get("containerPort").is_some()) {
                ListKind::Keyed(&["containerPort", "protocol"])
            } else {
                ListKind::Keyed(&["port", "protocol"])
            }
        }
        "finalizers" => ListKind::Set,
        _ => ListKind::Atomic,
    }
}

/// The key of a list item; `protocol` defaults to TCP as the server defaults it.
pub(crate) fn item_key(keys: &[&str], item: &Value) -> Map<String, Value> {
    let mut m = Map::new();
    for k in keys {
        match item.get(*k) {
            Some(v) => {
                m.insert((*k).to_string(), v.clone());
            }
            None if *k == "protocol" => {
                m.insert((*k).to_string(), Value::String("TCP".into()));
            }
            None => {}
        }
    }
    m
}

fn same_key(keys: &[&str], a: &Value, b: &Value) -> bool {
    item_key(keys, a) == item_key(keys, b)
}

/// Applies a patch of `kind` (not Apply) to `target`.
pub(crate) fn apply_patch(kind: PatchKind, target: &Value, patch: &Value) -> ApiResult<Value> {
    let mut out = target.clone();
    match kind {
        PatchKind::Json => {
            let p: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| ApiError::bad(format!("invalid JSON patch: {e}")))?;
            // The caller names the kind and object in the 422 it returns.
            json_patch::patch(&mut out, &p).map_err(|e| ApiError::Invalid {
                kind: String::new(),
                group: String::new(),
                name: String::new(),
                causes: vec![crate::error::Cause::invalid("", e.to_string())],
            })?;
        }
        PatchKind::Merge => {
            if !patch.is_object() {
                return Err(ApiError::bad("merge patch must be a JSON object"));
            }
            json_patch::merge(&mut out, patch);
        }
        PatchKind::Strategic => {
            if !patch.is_object() {
                return Err(ApiError::bad("strategic merge patch must be a JSON object"));
            }
            strategic_merge(&mut out, patch);
        }
        PatchKind::Apply => unreachable!("apply patches go through server-side apply"),
    }
    Ok(out)
}

/// Removes `$`-directives from a patch value that is copied verbatim.
fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

/// Strategic merge: maps merge recursively, `null` deletes, keyed lists merge
/// by key (`$patch: delete|replace` honoured), other lists are replaced.
pub(crate) fn strategic_merge(target: &mut Value, patch: &Value) {
    let Some(pm) = patch.as_object() else {
        *target = strip_directives(patch);
        return;
    };
    if pm.get("$patch").and_then(Value::as_str) == Some("replace") {
        *target = strip_directives(patch);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let tm = target.as_object_mut().expect("target is an object");
    for (k, v) in pm {
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(list)), Some(del)) = (tm.get_mut(field), v.as_array()) {
                list.retain(|x| !del.contains(x));
            }
            continue;
        }
        if k.starts_with('$') {
            continue;
        }
        if v.is_null() {
            tm.remove(k);
            continue;
        }
        match (tm.get_mut(k), v) {
            (Some(t @ Value::Object(_)), Value::Object(_)) => strategic_merge(t, v),
            (Some(Value::Array(tl)), Value::Array(pl)) => {
                match list_kind(k, pl.first().or(tl.first())) {
                    ListKind::Keyed(keys) => merge_keyed_list(tl, pl, keys),
                    ListKind::Set => {
                        for x in pl {
                            if !tl.contains(x) {
                                tl.push(x.clone());
                            }
                        }
                    }
                    ListKind::Atomic => *tl = pl.iter().map(strip_directives).collect(),
                }
            }
            _ => {
                tm.insert(k.clone(), strip_directives(v));
            }
        }
    }
}

fn merge_keyed_list(target: &mut Vec<Value>, patch: &[Value], keys: &[&str]) {
    if patch
        .iter()
        .any(|p| p.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        *target = patch
            .iter()
            .filter(|p| p.get("$patch").is_none())
            .map(strip_directives)
            .collect();
        return;
    }
    for p in patch {
        let pos = target.iter().position(|t| same_key(keys, t, p));
        let delete = p.get("$patch").and_then(Value::as_str) == Some("delete");
        match (pos, delete) {
            (Some(i), true) => {
                target.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => strategic_merge(&mut target[i], p),
            (None, false) => target.push(strip_directives(p)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(target: Value, patch: Value, expect: Value) {
        let mut t = target;
        strategic_merge(&mut t, &patch);
        assert_eq!(t, expect);
    }

    #[test]
    fn strategic_merge_table() {
        // Maps merge; null deletes.
        check(
            json!({"a": 1, "b": {"c": 1}}),
            json!({"b": {"d": 2}, "a": null}),
            json!({"b": {"c": 1, "d": 2}}),
        );
        // Containers merge by name.
        check(
            json!({"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}),
            json!({"containers": [{"name": "b", "image": "z"}]}),
            json!({"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "z"}]}),
        );
        // New item appended.
        check(
            json!({"env": [{"name": "A", "value": "1"}]}),
            json!({"env": [{"name": "B", "value": "2"}]}),
            json!({"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}),
        );
        // $patch: delete removes an item.
        check(
            json!({"env": [{"name": "A", "value": "1"}, {"name": "B"}]}),
            json!({"env": [{"name": "A", "$patch": "delete"}]}),
            json!({"env": [{"name": "B"}]}),
        );
        // $patch: replace replaces the list.
        check(
            json!({"volumes": [{"name": "a"}, {"name": "b"}]}),
            json!({"volumes": [{"name": "c"}, {"$patch": "replace"}]}),
            json!({"volumes": [{"name": "c"}]}),
        );
        // Container ports merge by containerPort.
        check(
            json!({"ports": [{"containerPort": 80, "name": "http"}]}),
            json!({"ports": [{"containerPort": 80, "name": "web"}, {"containerPort": 443}]}),
            json!({"ports": [{"containerPort": 80, "name": "web"}, {"containerPort": 443}]}),
        );
        // volumeMounts merge by mountPath.
        check(
            json!({"volumeMounts": [{"mountPath": "/a", "name": "x"}]}),
            json!({"volumeMounts": [{"mountPath": "/a", "readOnly": true}]}),
            json!({"volumeMounts": [{"mountPath": "/a", "name": "x", "readOnly": true}]}),
        );
        // Atomic lists are replaced.
        check(
            json!({"args": ["a", "b"]}),
            json!({"args": ["c"]}),
            json!({"args": ["c"]}),
        );
        // Finalizers are a set; $deleteFromPrimitiveList removes.
        check(
            json!({"finalizers": ["a"]}),
            json!({"finalizers": ["b", "a"]}),
            json!({"finalizers": ["a", "b"]}),
        );
        check(
            json!({"finalizers": ["a", "b"]}),
            json!({"$deleteFromPrimitiveList/finalizers": ["a"]}),
            json!({"finalizers": ["b"]}),
        );
        // Directives are dropped.
        check(
            json!({"spec": {"containers": [{"name": "a"}]}}),
            json!({"spec": {"$setElementOrder/containers": [{"name": "a"}], "containers": [{"name": "a", "image": "i"}]}}),
            json!({"spec": {"containers": [{"name": "a", "image": "i"}]}}),
        );
    }

    #[test]
    fn content_types() {
        let cases = [
            ("application/json-patch+json", Some(PatchKind::Json)),
            (
                "application/merge-patch+json; charset=utf-8",
                Some(PatchKind::Merge),
            ),
            (
                "application/strategic-merge-patch+json",
                Some(PatchKind::Strategic),
            ),
            ("application/apply-patch+yaml", Some(PatchKind::Apply)),
            ("application/json", None),
        ];
        for (ct, want) in cases {
            assert_eq!(PatchKind::from_content_type(ct), want, "{ct}");
        }
    }
}
