//! Discovery documents: `/version`, `/api`, `/apis`, `/api/v1`,
//! `/apis/{group}` and `/apis/{group}/{version}` (plain JSON, no aggregated
//! discovery).

use serde_json::{Value, json};

use crate::registry::{self, VERBS};

pub(crate) fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": "v1.33.0-kube-sim",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

pub(crate) fn core_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]
    })
}

fn group_json(g: &str) -> Value {
    let gv = format!("{g}/v1");
    json!({
        "name": g,
        "versions": [{"groupVersion": gv, "version": "v1"}],
        "preferredVersion": {"groupVersion": gv, "version": "v1"}
    })
}

pub(crate) fn groups() -> Value {
    json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": registry::groups().into_iter().map(group_json).collect::<Vec<_>>()
    })
}

pub(crate) fn group(g: &str) -> Option<Value> {
    registry::groups().contains(&g).then(|| {
        let mut v = group_json(g);
        v["kind"] = json!("APIGroup");
        v["apiVersion"] = json!("v1");
        v
    })
}

/// The APIResourceList of a group version, or None when not served.
pub(crate) fn resources(group: &str, version: &str) -> Option<Value> {
    let mut list = Vec::new();
    for (_, d) in registry::all().filter(|(_, d)| d.group == group && d.version == version) {
        list.push(json!({
            "name": d.plural,
            "singularName": d.singular,
            "namespaced": d.namespaced,
            "kind": d.kind,
            "verbs": VERBS,
            "shortNames": d.short_names,
            "storageVersionHash": "",
            "categories": d.categories,
        }));
        if d.scale {
            list.push(json!({
                "name": format!("{}/scale", d.plural), "singularName": "", "namespaced": true,
                "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"],
            }));
        }
        if d.status {
            list.push(json!({
                "name": format!("{}/status", d.plural),
                "singularName": "",
                "namespaced": d.namespaced,
                "kind": d.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    if list.is_empty() {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": list}),
    )
}
