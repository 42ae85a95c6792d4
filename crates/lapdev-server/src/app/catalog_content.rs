//! What a catalog holds, and its three forms: the snapshot kube-manager
//! sends (Secret values in clear), the stored form (every Secret value
//! replaced by `null`, values sealed apart by [`crate::secrets`]) and the
//! API view (Secret keys only). Also the pure edits of a snapshot: removing
//! workloads (with the dependencies only they used) and merging a snapshot
//! of added workloads.

use std::collections::{BTreeMap, BTreeSet};

use lapdev_api as api;
use lapdev_db::{CatalogContent, CatalogRecord, SealedValue};
use lapdev_tunnel_proto::catalog as proto;
use serde_json::Value;

use super::workloads::kind_to_proto;
use super::{AppError, AppResult};
use crate::secrets::Keyring;

/// The annotation listing a Secret's redacted keys (see `lapdev-manifest`).
const REDACTED_KEYS: &str = "lapdev.io/redacted-keys";

/// The Secret fields whose values are sealed.
const SECRET_FIELDS: [&str; 2] = ["data", "stringData"];

/// A catalog's content, parsed.
#[derive(Clone)]
pub(crate) struct Content {
    pub(crate) workloads: Vec<api::WorkloadRef>,
    pub(crate) policy: api::SecretPolicy,
    /// With Secret values when opened, with `null`s when only parsed.
    pub(crate) snapshot: proto::CatalogSnapshot,
}

fn corrupt(e: impl std::error::Error + Send + Sync + 'static) -> AppError {
    AppError::internal(e)
}

pub(crate) fn workload_to_proto(w: &api::WorkloadRef) -> proto::WorkloadRef {
    proto::WorkloadRef {
        namespace: w.namespace.clone(),
        kind: kind_to_proto(w.kind),
        name: w.name.clone(),
    }
}

pub(crate) fn policy_to_proto(p: &api::SecretPolicy) -> proto::SecretPolicy {
    let action = |a: api::SecretAction| match a {
        api::SecretAction::Copy => proto::SecretAction::Copy,
        api::SecretAction::Redact => proto::SecretAction::Redact,
        api::SecretAction::Exclude => proto::SecretAction::Exclude,
    };
    proto::SecretPolicy {
        default: action(p.default),
        rules: p
            .rules
            .iter()
            .map(|r| proto::SecretRule {
                namespace: r.namespace.clone(),
                secret: r.secret.clone(),
                key: r.key.clone(),
                action: action(r.action),
            })
            .collect(),
    }
}

/// `(kind, namespace, name)` of a manifest or a reference.
type Key = (String, Option<String>, String);

fn kind_name(kind: proto::ObjectKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn ref_key(r: &proto::ObjectRef) -> Key {
    (kind_name(r.kind), r.namespace.clone(), r.name.clone())
}

fn object_key(o: &Value) -> Key {
    let s = |v: &Value| v.as_str().map(str::to_string);
    (
        s(&o["kind"]).unwrap_or_default(),
        s(&o["metadata"]["namespace"]),
        s(&o["metadata"]["name"]).unwrap_or_default(),
    )
}

fn workload_key(w: &api::WorkloadRef) -> Key {
    (
        w.kind.as_str().to_string(),
        Some(w.namespace.clone()),
        w.name.clone(),
    )
}

pub(crate) fn ref_api(r: &proto::ObjectRef) -> api::ObjectRef {
    api::ObjectRef {
        kind: kind_name(r.kind),
        namespace: r.namespace.clone(),
        name: r.name.clone(),
    }
}

/// `namespace/name` of a Secret manifest: where its sealed values belong.
fn secret_place(o: &Value) -> String {
    let (_, ns, name) = object_key(o);
    format!("{}/{name}", ns.unwrap_or_default())
}

/// Stores `snapshot`: every Secret value moves, sealed, into the returned
/// values; the stored JSON keeps the keys with `null`.
pub(crate) fn seal(
    keyring: &Keyring,
    catalog: lapdev_domain::CatalogId,
    workloads: &[api::WorkloadRef],
    policy: &api::SecretPolicy,
    mut snapshot: proto::CatalogSnapshot,
) -> AppResult<(CatalogContent, Vec<SealedValue>)> {
    let mut values = Vec::new();
    for object in &mut snapshot.objects {
        if object["kind"] != "Secret" {
            continue;
        }
        let place = secret_place(object);
        for field in SECRET_FIELDS {
            if let Some(map) = object.get_mut(field).and_then(Value::as_object_mut) {
                for (key, value) in map.iter_mut() {
                    if let Some(text) = value.as_str() {
                        values.push(keyring.seal(catalog, &place, field, key, text.as_bytes()));
                        *value = Value::Null;
                    }
                }
            }
        }
    }
    let content = CatalogContent {
        workloads: serde_json::to_string(workloads).map_err(corrupt)?,
        workload_count: u32::try_from(workloads.len()).unwrap_or(u32::MAX),
        secret_policy: serde_json::to_string(policy).map_err(corrupt)?,
        snapshot: serde_json::to_string(&snapshot).map_err(corrupt)?,
    };
    Ok((content, values))
}

/// The stored content without Secret values (what the API shows).
pub(crate) fn parse(record: &CatalogRecord) -> AppResult<Content> {
    let c = &record.content;
    Ok(Content {
        workloads: serde_json::from_str(&c.workloads).map_err(corrupt)?,
        policy: serde_json::from_str(&c.secret_policy).map_err(corrupt)?,
        snapshot: serde_json::from_str(&c.snapshot).map_err(corrupt)?,
    })
}

/// The stored content with its Secret values decrypted (for a refresh diff
/// or a re-seal). Never returned to a caller.
pub(crate) fn open(
    keyring: &Keyring,
    record: &CatalogRecord,
    values: &[SealedValue],
) -> AppResult<Content> {
    let mut content = parse(record)?;
    let clear = open_values(keyring, record.id, values, || {
        format!("the Secret values of catalog {}", record.name)
    })?;
    restore_values(&mut content.snapshot.objects, clear);
    Ok(content)
}

/// Where one sealed Secret value goes: (`namespace/name`, field, key).
pub(crate) type ValuePlace = (String, String, String);

/// Decrypts `values` of `owner`; `whose` names them in the error when the
/// key that sealed them is missing.
pub(crate) fn open_values(
    keyring: &Keyring,
    owner: impl Into<crate::secrets::Owner> + Copy,
    values: &[SealedValue],
    whose: impl Fn() -> String,
) -> AppResult<BTreeMap<ValuePlace, String>> {
    let mut clear = BTreeMap::new();
    for v in values {
        let bytes = keyring.open(owner, v).map_err(|e| match e {
            crate::secrets::SecretsError::UnknownKey(id) => AppError::Conflict(format!(
                "{} are encrypted with key {id}, which this server was not given: restart it \
                 with that key file in --secrets-old-key-files",
                whose()
            )),
            other => AppError::internal(other),
        })?;
        let text = String::from_utf8(bytes).map_err(corrupt)?;
        clear.insert((v.object.clone(), v.field.clone(), v.key.clone()), text);
    }
    Ok(clear)
}

/// Puts decrypted values back into the stored (`null`-valued) Secret
/// manifests they were taken from.
pub(crate) fn restore_values(objects: &mut [Value], mut clear: BTreeMap<ValuePlace, String>) {
    for object in objects {
        if object["kind"] != "Secret" {
            continue;
        }
        let place = secret_place(object);
        for field in SECRET_FIELDS {
            if let Some(map) = object.get_mut(field).and_then(Value::as_object_mut) {
                for (key, value) in map.iter_mut() {
                    if let Some(text) =
                        clear.remove(&(place.clone(), field.to_string(), key.clone()))
                    {
                        *value = Value::String(text);
                    }
                }
            }
        }
    }
}

fn secret_keys(o: &Value) -> (Vec<String>, Vec<String>) {
    let mut keys = BTreeSet::new();
    for field in SECRET_FIELDS {
        if let Some(map) = o.get(field).and_then(Value::as_object) {
            keys.extend(map.keys().cloned());
        }
    }
    let redacted = o["metadata"]["annotations"][REDACTED_KEYS]
        .as_str()
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    (keys.into_iter().collect(), redacted)
}

pub(crate) fn warning_api(i: &proto::ResolutionIssue) -> api::CatalogWarning {
    api::CatalogWarning {
        severity: match i.severity {
            proto::Severity::Note => api::Severity::Note,
            proto::Severity::Warning => api::Severity::Warning,
        },
        workload: ref_api(&i.workload),
        field: i.field.clone(),
        missing: ref_api(&i.missing),
        key: i.key.clone(),
    }
}

pub(crate) fn summary_api(record: &CatalogRecord) -> api::CatalogSummary {
    api::CatalogSummary {
        id: record.id,
        name: record.name.clone(),
        description: record.description.clone(),
        source_cluster: record.source_cluster_name.clone(),
        workload_count: record.content.workload_count,
        created_at: record.created_at,
        updated_at: record.updated_at,
    }
}

/// The API view of a catalog: object names and Secret keys, never values.
pub(crate) fn catalog_api(record: &CatalogRecord) -> AppResult<api::Catalog> {
    let content = parse(record)?;
    let s = &content.snapshot;
    let objects = s
        .objects
        .iter()
        .map(|o| {
            let (kind, namespace, name) = object_key(o);
            let (secret_keys, redacted_keys) = if kind == "Secret" {
                secret_keys(o)
            } else {
                Default::default()
            };
            api::CatalogObject {
                object: api::ObjectRef {
                    kind,
                    namespace,
                    name,
                },
                secret_keys,
                redacted_keys,
            }
        })
        .collect();
    Ok(api::Catalog {
        summary: summary_api(record),
        workloads: content.workloads,
        objects,
        dependencies: s
            .dependencies
            .iter()
            .map(|d| api::CatalogDependencies {
                workload: ref_api(&d.workload),
                depends_on: d.depends_on.iter().map(ref_api).collect(),
            })
            .collect(),
        warnings: s.issues.iter().map(warning_api).collect(),
        secret_policy: content.policy,
        excluded_secrets: s.excluded_secrets.iter().map(ref_api).collect(),
        required_values: s
            .required_values
            .iter()
            .map(|k| api::RequiredValue {
                secret: k.secret.clone(),
                key: k.key.clone(),
            })
            .collect(),
    })
}

fn field_value(v: &proto::FieldValue) -> api::FieldValue {
    match v {
        proto::FieldValue::Absent => api::FieldValue::Absent,
        proto::FieldValue::Hidden => api::FieldValue::Hidden,
        proto::FieldValue::Value(v) => api::FieldValue::Value(v.clone()),
    }
}

/// The API view of a diff. kube-manager already hides Secret values; a
/// Secret's changed `data`/`stringData` values are hidden here again, so a
/// value can never leak through a diff.
pub(crate) fn diff_api(diff: &proto::ManifestDiff) -> Vec<api::ObjectDiff> {
    diff.objects
        .iter()
        .map(|d| api::ObjectDiff {
            object: ref_api(&d.object),
            change: match &d.change {
                proto::ObjectChange::Added => api::ObjectChange::Added,
                proto::ObjectChange::Removed => api::ObjectChange::Removed,
                proto::ObjectChange::Changed { fields } => api::ObjectChange::Changed {
                    fields: fields
                        .iter()
                        .map(|f| {
                            let secret = d.object.kind == proto::ObjectKind::Secret
                                && (f.path.starts_with("/data")
                                    || f.path.starts_with("/stringData"));
                            let side = |v: &proto::FieldValue| match v {
                                proto::FieldValue::Value(_) if secret => api::FieldValue::Hidden,
                                other => field_value(other),
                            };
                            api::FieldChange {
                                path: f.path.clone(),
                                old: side(&f.old),
                                new: side(&f.new),
                            }
                        })
                        .collect(),
                },
            },
        })
        .collect()
}

/// The snapshot without the `removed` workloads and the objects only they
/// used (a Namespace stays while a remaining workload lives in it).
pub(crate) fn without_workloads(
    snapshot: proto::CatalogSnapshot,
    remaining: &[api::WorkloadRef],
) -> proto::CatalogSnapshot {
    let workloads: BTreeSet<Key> = remaining.iter().map(workload_key).collect();
    let namespaces: BTreeSet<&str> = remaining.iter().map(|w| w.namespace.as_str()).collect();
    let dependencies: Vec<_> = snapshot
        .dependencies
        .into_iter()
        .filter(|d| workloads.contains(&ref_key(&d.workload)))
        .collect();
    let mut keep = workloads.clone();
    for d in &dependencies {
        keep.extend(d.depends_on.iter().map(ref_key));
    }
    let objects: Vec<Value> = snapshot
        .objects
        .into_iter()
        .filter(|o| {
            let key = object_key(o);
            keep.contains(&key) || (key.0 == "Namespace" && namespaces.contains(key.2.as_str()))
        })
        .collect();
    let secrets: BTreeSet<String> = objects
        .iter()
        .map(object_key)
        .filter(|k| k.0 == "Secret")
        .map(|k| k.2)
        .collect();
    proto::CatalogSnapshot {
        objects,
        dependencies,
        issues: snapshot
            .issues
            .into_iter()
            .filter(|i| workloads.contains(&ref_key(&i.workload)))
            .collect(),
        excluded_secrets: snapshot
            .excluded_secrets
            .into_iter()
            .filter(|r| {
                r.namespace
                    .as_deref()
                    .is_some_and(|ns| namespaces.contains(ns))
            })
            .collect(),
        required_values: snapshot
            .required_values
            .into_iter()
            .filter(|k| secrets.contains(&k.secret))
            .collect(),
    }
}

/// Apply order of a manifest's kind (unknown kinds last).
fn apply_rank(o: &Value) -> Option<proto::ObjectKind> {
    serde_json::from_value::<proto::ObjectKind>(o["kind"].clone()).ok()
}

/// `base` plus what `added` brings that `base` lacks. Objects already in
/// `base` keep their stored version (a refresh updates them, with a diff).
pub(crate) fn merge(
    mut base: proto::CatalogSnapshot,
    added: proto::CatalogSnapshot,
) -> proto::CatalogSnapshot {
    let have: BTreeSet<Key> = base.objects.iter().map(object_key).collect();
    base.objects.extend(
        added
            .objects
            .into_iter()
            .filter(|o| !have.contains(&object_key(o))),
    );
    // Stable: the stored order holds within a kind.
    base.objects
        .sort_by_key(|o| apply_rank(o).map_or((1, None), |k| (0, Some(k))));
    let known: BTreeSet<Key> = base
        .dependencies
        .iter()
        .map(|d| ref_key(&d.workload))
        .collect();
    base.dependencies.extend(
        added
            .dependencies
            .into_iter()
            .filter(|d| !known.contains(&ref_key(&d.workload))),
    );
    for issue in added.issues {
        if !base.issues.contains(&issue) {
            base.issues.push(issue);
        }
    }
    base.issues.sort_by_key(|i| std::cmp::Reverse(i.severity));
    for r in added.excluded_secrets {
        if !base.excluded_secrets.contains(&r) {
            base.excluded_secrets.push(r);
        }
    }
    for k in added.required_values {
        if !base.required_values.contains(&k) {
            base.required_values.push(k);
        }
    }
    base
}

/// Checks a list of workloads from a caller: not empty, no duplicates.
pub(crate) fn check_workloads(workloads: &[api::WorkloadRef]) -> AppResult<()> {
    if workloads.is_empty() {
        return Err(AppError::invalid(
            "workloads",
            "name at least one workload (namespace/kind/name)",
        ));
    }
    if workloads.len() > 500 {
        return Err(AppError::invalid(
            "workloads",
            "at most 500 workloads per request",
        ));
    }
    let mut seen = BTreeSet::new();
    for w in workloads {
        if w.namespace.is_empty() || w.name.is_empty() {
            return Err(AppError::invalid(
                "workloads",
                "every workload needs a namespace and a name",
            ));
        }
        if !seen.insert(w) {
            return Err(AppError::invalid(
                "workloads",
                format!("{w} is listed twice"),
            ));
        }
    }
    Ok(())
}
