//! The `scale` subresource (autoscaling/v1 Scale) for Deployments,
//! StatefulSets and ReplicaSets: what `kubectl scale` uses. Reads render a
//! Scale from the object; writes change only `spec.replicas`.

use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::ops::{self, Sub, WriteCtx};
use crate::patch::{self, PatchKind};
use crate::registry::ResourceId;
use crate::store::State;

fn selector_string(obj: &Value) -> String {
    let mut parts: Vec<String> = obj
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    parts.sort();
    parts.join(",")
}

pub(crate) fn to_scale(obj: &Value) -> Value {
    let m = &obj["metadata"];
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m["name"], "namespace": m["namespace"], "uid": m["uid"],
            "resourceVersion": m["resourceVersion"], "creationTimestamp": m["creationTimestamp"],
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {
            "replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector_string(obj),
        },
    })
}

pub(crate) fn get(st: &State, res: ResourceId, ns: Option<&str>, name: &str) -> ApiResult<Value> {
    Ok(to_scale(ops::get(st, res, ns, name)?.as_ref()))
}

/// PUT (kind None) or PATCH of a Scale; returns the new Scale.
#[allow(clippy::too_many_arguments)] // reason: mirrors the request's parts one to one.
pub(crate) fn write(
    st: &mut State,
    res: ResourceId,
    ns: Option<&str>,
    name: &str,
    kind: Option<PatchKind>,
    body: &Value,
    w: &WriteCtx,
) -> ApiResult<Value> {
    let current = ops::get(st, res, ns, name)?;
    let scale = to_scale(&current);
    let new_scale = match kind {
        None => body.clone(),
        Some(PatchKind::Apply) => {
            return Err(ApiError::bad(
                "server-side apply of the scale subresource is not supported by kube-sim",
            ));
        }
        Some(k) => patch::apply_patch(k, &scale, body)?,
    };
    if let Some(rv) = new_scale
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        && kind.is_none()
        && Some(rv)
            != current
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
    {
        return Err(ApiError::Conflict {
            resource: res.def().group_resource(),
            name: name.into(),
            message: format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                res.def().group_resource()
            ),
            causes: vec![],
        });
    }
    let replicas = new_scale
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .ok_or_else(|| ApiError::bad("spec.replicas must be an integer"))?;
    let mut obj = (*current).clone();
    obj["spec"]["replicas"] = json!(replicas);
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
    }
    let out = ops::update(st, res, ns, name, obj, Sub::Main, w, ops::Track::Update)?;
    Ok(to_scale(&out))
}
