//! Validation that catches real copy bugs: names, immutable fields,
//! selectors that do not match their template, immutable ConfigMaps/Secrets,
//! Secret type changes. Each rule returns causes; the caller turns them into
//! a 422 Invalid Status.

use serde_json::Value;

use crate::error::Cause;
use crate::registry::ResourceDef;
use crate::selectors::LabelSelector;

const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

pub(crate) fn dns1123_label(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(DNS1123_LABEL_MSG.to_string())
    }
}

/// Like Kubernetes' `IsDNS1123Subdomain`: at most 253 characters in total;
/// the dot-separated parts follow the label grammar with no per-part limit.
pub(crate) fn dns1123_subdomain(s: &str) -> Result<(), String> {
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
            && !p.starts_with('-')
            && !p.ends_with('-')
    };
    let ok = !s.is_empty() && s.len() <= 253 && s.split('.').all(part_ok);
    if ok {
        Ok(())
    } else {
        Err(DNS1123_SUBDOMAIN_MSG.to_string())
    }
}

/// Namespaces and Services need a DNS-1123 label; most kinds a subdomain;
/// RBAC kinds accept any path segment name.
pub(crate) fn validate_name(def: &ResourceDef, name: &str) -> Result<(), String> {
    match def.kind {
        "Namespace" | "Service" => dns1123_label(name),
        "Role" | "RoleBinding" | "ClusterRole" | "ClusterRoleBinding" => {
            if name.is_empty()
                || name == "."
                || name == ".."
                || name.contains('/')
                || name.contains('%')
            {
                Err("may not contain '/' or '%' and may not be '.' or '..'".into())
            } else {
                Ok(())
            }
        }
        _ => dns1123_subdomain(name),
    }
}

fn meta_causes(obj: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    for (field, map) in [("labels", true), ("annotations", false)] {
        if let Some(m) = obj.pointer(&format!("/metadata/{field}")) {
            let Some(m) = m.as_object() else {
                causes.push(Cause::invalid(
                    format!("metadata.{field}"),
                    "must be a map of strings",
                ));
                continue;
            };
            for (k, v) in m {
                if let Err(e) = crate::selectors::validate_key(k) {
                    causes.push(Cause::invalid(format!("metadata.{field}"), e));
                }
                match v.as_str() {
                    None => causes.push(Cause::invalid(
                        format!("metadata.{field}.{k}"),
                        "must be a string",
                    )),
                    Some(s) if map => {
                        if let Err(e) = crate::selectors::validate_value(s) {
                            causes.push(Cause::invalid(format!("metadata.{field}"), e));
                        }
                    }
                    Some(_) => {}
                }
            }
        }
    }
    causes
}

fn selector_matches_template(obj: &Value, causes: &mut Vec<Cause>, required: bool) {
    let sel = obj.pointer("/spec/selector");
    match sel {
        None | Some(Value::Null) => {
            if required {
                causes.push(Cause {
                    reason: "FieldValueRequired",
                    field: "spec.selector".into(),
                    message: "Required value".into(),
                });
            }
        }
        Some(sel) => match LabelSelector::from_label_selector(sel) {
            Err(e) => causes.push(Cause::invalid("spec.selector", e.to_string())),
            Ok(s) if s.is_empty() => causes.push(Cause::invalid(
                "spec.selector",
                "empty selector is invalid for deployment",
            )),
            Ok(s) => {
                let labels = obj
                    .pointer("/spec/template/metadata/labels")
                    .and_then(Value::as_object);
                if !s.matches_labels(labels) {
                    causes.push(Cause::invalid(
                        "spec.template.metadata.labels",
                        format!(
                            "Invalid value: {}: `selector` does not match template `labels`",
                            serde_json::to_string(&labels).unwrap_or_default()
                        ),
                    ));
                }
            }
        },
    }
}

/// Checks an object about to be created.
pub(crate) fn validate_create(def: &ResourceDef, obj: &Value) -> Vec<Cause> {
    let mut causes = meta_causes(obj);
    match def.kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => {
            selector_matches_template(obj, &mut causes, true);
            if let Some(r) = obj.pointer("/spec/replicas")
                && r.as_i64().is_none_or(|r| r < 0)
            {
                causes.push(Cause::invalid(
                    "spec.replicas",
                    "must be greater than or equal to 0",
                ));
            }
            containers_causes(
                obj,
                "/spec/template/spec",
                "spec.template.spec",
                &mut causes,
            );
        }
        "Pod" => containers_causes(obj, "/spec", "spec", &mut causes),
        "ConfigMap" | "Secret" => {
            for field in ["data", "stringData", "binaryData"] {
                if let Some(m) = obj.get(field).and_then(Value::as_object) {
                    for k in m.keys() {
                        let ok = !k.is_empty()
                            && k.len() <= 253
                            && k.bytes().all(|c| {
                                c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')
                            });
                        if !ok {
                            causes.push(Cause::invalid(
                                format!("{field}[{k}]"),
                                "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                            ));
                        }
                    }
                }
            }
        }
        _ => {}
    }
    causes
}

fn containers_causes(obj: &Value, ptr: &str, field: &str, causes: &mut Vec<Cause>) {
    let containers = obj
        .pointer(&format!("{ptr}/containers"))
        .and_then(Value::as_array);
    match containers {
        None => causes.push(Cause {
            reason: "FieldValueRequired",
            field: format!("{field}.containers"),
            message: "Required value".into(),
        }),
        Some(cs) => {
            let mut seen = std::collections::BTreeSet::new();
            for (i, c) in cs.iter().enumerate() {
                let name = c["name"].as_str().unwrap_or_default();
                if dns1123_label(name).is_err() {
                    causes.push(Cause::invalid(
                        format!("{field}.containers[{i}].name"),
                        DNS1123_LABEL_MSG,
                    ));
                }
                if !seen.insert(name) {
                    causes.push(Cause {
                        reason: "FieldValueDuplicate",
                        field: format!("{field}.containers[{i}].name"),
                        message: format!("Duplicate value: {name:?}"),
                    });
                }
                if c["image"].as_str().is_none_or(str::is_empty) {
                    causes.push(Cause {
                        reason: "FieldValueRequired",
                        field: format!("{field}.containers[{i}].image"),
                        message: "Required value".into(),
                    });
                }
            }
        }
    }
}

fn immutable(old: &Value, new: &Value, ptr: &str, field: &str, causes: &mut Vec<Cause>) {
    if old.pointer(ptr) != new.pointer(ptr) {
        causes.push(Cause::invalid(field, "field is immutable"));
    }
}

/// Checks an update (`old` is stored, `new` is about to be).
pub(crate) fn validate_update(def: &ResourceDef, old: &Value, new: &Value) -> Vec<Cause> {
    let mut causes = validate_create(def, new);
    match def.kind {
        "Deployment" | "ReplicaSet" | "DaemonSet" => {
            immutable(old, new, "/spec/selector", "spec.selector", &mut causes);
        }
        "StatefulSet" => {
            let strip = |v: &Value| {
                let mut s = v.get("spec").cloned().unwrap_or(Value::Null);
                if let Some(m) = s.as_object_mut() {
                    for k in [
                        "replicas",
                        "ordinals",
                        "template",
                        "updateStrategy",
                        "persistentVolumeClaimRetentionPolicy",
                        "minReadySeconds",
                    ] {
                        m.remove(k);
                    }
                }
                s
            };
            if strip(old) != strip(new) {
                causes.push(Cause {
                    reason: "FieldValueForbidden",
                    field: "spec".into(),
                    message: "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden".into(),
                });
            }
        }
        "ConfigMap" | "Secret" => {
            if old.get("immutable") == Some(&Value::Bool(true)) {
                if new.get("immutable") != Some(&Value::Bool(true)) {
                    causes.push(Cause::invalid(
                        "immutable",
                        "field is immutable when `immutable` is set",
                    ));
                }
                for f in ["data", "binaryData"] {
                    if old.get(f) != new.get(f) {
                        causes.push(Cause {
                            reason: "FieldValueForbidden",
                            field: f.into(),
                            message: "Forbidden: field is immutable when `immutable` is set".into(),
                        });
                    }
                }
            }
            if def.kind == "Secret" {
                immutable(old, new, "/type", "type", &mut causes);
            }
        }
        "Service" => {
            immutable(old, new, "/spec/clusterIP", "spec.clusterIP", &mut causes);
        }
        "PersistentVolumeClaim" => {
            immutable(
                old,
                new,
                "/spec/accessModes",
                "spec.accessModes",
                &mut causes,
            );
        }
        _ => {}
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_table() {
        let cases: &[(&str, bool, bool)] = &[
            // name, label ok, subdomain ok
            ("web", true, true),
            ("web-1", true, true),
            ("a.b", false, true),
            ("Web", false, false),
            ("-web", false, false),
            ("web-", false, false),
            ("", false, false),
            ("a_b", false, false),
            (&"a".repeat(64), false, true),
            (&"c".repeat(253), false, true),
            (&"c".repeat(254), false, false),
            ("a..b", false, false),
            ("a.b-c.d", false, true),
        ];
        for (name, label, sub) in cases {
            assert_eq!(dns1123_label(name).is_ok(), *label, "label {name}");
            assert_eq!(dns1123_subdomain(name).is_ok(), *sub, "subdomain {name}");
        }
    }
}
