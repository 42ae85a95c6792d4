//! Per-object, per-field differences between two sets of objects: what a
//! catalog refresh or a production sync would change.
//!
//! Both sides are [cleaned](mod@crate::clean) first, so cluster bookkeeping never
//! shows up as a change. Objects are matched by [`ObjectRef`] and listed in
//! apply order; fields are JSON pointers (RFC 6901: `~` is `~0`, `/` is `~1`,
//! so `metadata.annotations["a/b"]` is `/metadata/annotations/a~1b`), listed
//! in key order. Arrays of equal length are compared element by element;
//! otherwise the whole array is one change. Secret values (`data`,
//! `stringData`) are never shown: the change says a key was added, removed
//! or changed, with [`FieldValue::Hidden`] in place of the value.
//!
//! [`ManifestDiff`] is the tunnel protocol's type (kube-manager sends it
//! through the tunnel; the server shows it) and renders as text with
//! `Display`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::clean::clean;
use crate::object::{ManifestObject, ObjectKind, ObjectRef};

/// The diff is pure data: the tunnel protocol's types, sent as they are.
pub use lapdev_tunnel_proto::{FieldChange, FieldValue, ManifestDiff, ObjectChange, ObjectDiff};

/// The differences from `old` to `new`.
pub fn diff(old: &[ManifestObject], new: &[ManifestObject]) -> ManifestDiff {
    let index = |objects: &[ManifestObject]| -> BTreeMap<ObjectRef, Value> {
        objects
            .iter()
            .map(|o| (o.object_ref(), clean(o.clone()).to_value()))
            .collect()
    };
    let (old, new) = (index(old), index(new));
    let refs: BTreeSet<&ObjectRef> = old.keys().chain(new.keys()).collect();
    let mut objects = Vec::new();
    for object in refs {
        let change = match (old.get(object), new.get(object)) {
            (None, Some(_)) => ObjectChange::Added,
            (Some(_), None) => ObjectChange::Removed,
            (Some(a), Some(b)) => {
                let mut fields = Vec::new();
                let secret = object.kind == ObjectKind::Secret;
                diff_value(&mut String::new(), Some(a), Some(b), secret, &mut fields);
                if fields.is_empty() {
                    continue;
                }
                ObjectChange::Changed { fields }
            }
            (None, None) => unreachable!("ref comes from one of the maps"),
        };
        objects.push(ObjectDiff {
            object: object.clone(),
            change,
        });
    }
    ManifestDiff { objects }
}

fn diff_value(
    path: &mut String,
    old: Option<&Value>,
    new: Option<&Value>,
    secret: bool,
    out: &mut Vec<FieldChange>,
) {
    if old == new {
        return;
    }
    let sensitive = secret && is_secret_data(path);
    let both_objects = matches!((old, new), (Some(Value::Object(_)), Some(Value::Object(_))));
    // Inside a Secret's data, a map that appears or disappears is listed key
    // by key, so each key's change can be shown without its value.
    let secret_map = secret
        && (path == "/data" || path == "/stringData")
        && old.is_none_or(Value::is_object)
        && new.is_none_or(Value::is_object);
    if both_objects || secret_map {
        let empty = serde_json::Map::new();
        let a = old.and_then(Value::as_object).unwrap_or(&empty);
        let b = new.and_then(Value::as_object).unwrap_or(&empty);
        let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for key in keys {
            let len = path.len();
            path.push('/');
            push_escaped(path, key);
            diff_value(path, a.get(key.as_str()), b.get(key.as_str()), secret, out);
            path.truncate(len);
        }
        return;
    }
    if let (Some(Value::Array(a)), Some(Value::Array(b))) = (old, new) {
        if a.len() == b.len() {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff_at(path, i, Some(x), Some(y), secret, out);
            }
            return;
        }
        if let (Some(names_a), Some(names_b)) = (names(a), names(b))
            && same_relative_order(&names_a, &names_b)
        {
            // Lists keyed by `name` (containers, env, ports, volumes): match
            // elements by name, so one added env var is one change.
            for (j, y) in b.iter().enumerate() {
                let i = names_a.iter().position(|n| *n == names_b[j]);
                diff_at(path, j, i.map(|i| &a[i]), Some(y), secret, out);
            }
            for (i, x) in a.iter().enumerate() {
                if !names_b.contains(&names_a[i]) {
                    diff_at(path, i, Some(x), None, secret, out);
                }
            }
            return;
        }
    }
    let shown = |v: Option<&Value>| match v {
        None => FieldValue::Absent,
        Some(_) if sensitive => FieldValue::Hidden,
        Some(v) => FieldValue::Value(v.clone()),
    };
    out.push(FieldChange {
        path: path.clone(),
        old: shown(old),
        new: shown(new),
    });
}

fn diff_at(
    path: &mut String,
    index: usize,
    old: Option<&Value>,
    new: Option<&Value>,
    secret: bool,
    out: &mut Vec<FieldChange>,
) {
    let len = path.len();
    path.push_str(&format!("/{index}"));
    diff_value(path, old, new, secret, out);
    path.truncate(len);
}

/// The `name` of every element, when every element is an object with a
/// distinct string `name`.
fn names(items: &[Value]) -> Option<Vec<&str>> {
    let names: Vec<&str> = items
        .iter()
        .map(|v| v.get("name").and_then(Value::as_str))
        .collect::<Option<_>>()?;
    let distinct: BTreeSet<&&str> = names.iter().collect();
    (distinct.len() == names.len()).then_some(names)
}

/// Whether the names both lists share appear in the same order (a reorder
/// is shown as a change of the whole list: order can matter, e.g. for env).
fn same_relative_order(a: &[&str], b: &[&str]) -> bool {
    let common_a: Vec<&&str> = a.iter().filter(|n| b.contains(n)).collect();
    let common_b: Vec<&&str> = b.iter().filter(|n| a.contains(n)).collect();
    common_a == common_b
}

fn is_secret_data(path: &str) -> bool {
    ["/data", "/stringData"].iter().any(|p| {
        path == *p
            || path
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

fn push_escaped(path: &mut String, key: &str) {
    for c in key.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}
