//! Server-side defaulting on create and update: Service clusterIP allocation
//! from 10.96.0.0/12, status reset for kinds with a status subresource, and
//! the few field defaults clients rely on (replicas, Secret type, ports).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use serde_json::{Value, json};

use crate::error::Cause;
use crate::registry::ResourceDef;

const NET: u32 = u32::from_be_bytes([10, 96, 0, 0]);
const SIZE: u32 = 1 << 20; // a /12
/// The static subrange: min(max(16, size / 16), 256) addresses.
const STATIC: u32 = 256;

/// Allocates Service cluster IPs from 10.96.0.0/12.
#[derive(Debug, Default)]
pub(crate) struct IpAllocator {
    used: BTreeSet<u32>,
    next: u32,
}

impl IpAllocator {
    fn in_range(ip: u32) -> bool {
        (NET..NET + SIZE).contains(&ip)
    }

    /// Reserves `requested`, or the next free address when None.
    pub(crate) fn allocate(&mut self, requested: Option<&str>) -> Result<String, Cause> {
        if let Some(r) = requested {
            let ip: Ipv4Addr = r.parse().map_err(|_| {
                Cause::invalid(
                    "spec.clusterIPs[0]",
                    format!("Invalid value: {r:?}: must be a valid IP address"),
                )
            })?;
            let n = u32::from(ip);
            if !Self::in_range(n) {
                return Err(Cause::invalid(
                    "spec.clusterIPs[0]",
                    format!(
                        "Invalid value: {r:?}: provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12"
                    ),
                ));
            }
            if !self.used.insert(n) {
                return Err(Cause::invalid(
                    "spec.clusterIPs[0]",
                    format!("Invalid value: {r:?}: provided IP is already allocated"),
                ));
            }
            return Ok(r.to_string());
        }
        // Like the API server's static subrange (KEP-3070): the first
        // addresses (10.96.0.1 for `kubernetes`, 10.96.0.10 for DNS) stay
        // free for Services that name theirs, and are handed out only when
        // the rest of the range is full. The network and broadcast
        // addresses never are.
        let dynamic = SIZE - 1 - STATIC;
        for _ in 0..dynamic {
            self.next = (self.next + 1) % dynamic;
            let n = NET + STATIC + self.next;
            if self.used.insert(n) {
                return Ok(Ipv4Addr::from(n).to_string());
            }
        }
        for offset in 1..STATIC {
            if self.used.insert(NET + offset) {
                return Ok(Ipv4Addr::from(NET + offset).to_string());
            }
        }
        Err(Cause::invalid("spec.clusterIP", "range is full"))
    }

    pub(crate) fn release(&mut self, svc: &Value) {
        if let Some(ip) = svc.pointer("/spec/clusterIP").and_then(Value::as_str)
            && let Ok(ip) = ip.parse::<Ipv4Addr>()
        {
            self.used.remove(&u32::from(ip));
        }
    }
}

/// Defaults applied when an object is created (not on dry-run-free paths only).
pub(crate) fn on_create(
    def: &ResourceDef,
    obj: &mut Value,
    ips: &mut IpAllocator,
) -> Result<(), Cause> {
    if def.status && def.kind != "Node" && def.kind != "PersistentVolumeClaim" {
        let status = match def.kind {
            "Pod" => json!({"phase": "Pending", "qosClass": "BestEffort"}),
            "Namespace" => json!({"phase": "Active"}),
            "Service" => json!({"loadBalancer": {}}),
            _ => json!({}),
        };
        obj["status"] = status;
    }
    match def.kind {
        "Namespace" => {
            obj["spec"] = json!({"finalizers": ["kubernetes"]});
            let name = crate::meta::name(obj).to_string();
            let labels = crate::meta::meta_mut(obj)
                .entry("labels")
                .or_insert_with(|| json!({}));
            if let Some(l) = labels.as_object_mut() {
                l.insert("kubernetes.io/metadata.name".into(), Value::String(name));
            }
        }
        "Secret" => {
            if obj.get("type").is_none_or(Value::is_null) {
                obj["type"] = json!("Opaque");
            }
            // stringData is write-only: merged into data, base64-encoded.
            if let Some(Value::Object(sd)) =
                obj.as_object_mut().and_then(|m| m.remove("stringData"))
            {
                use base64::Engine as _;
                let data = obj["data"]
                    .as_object_mut()
                    .map(std::mem::take)
                    .unwrap_or_default();
                let mut data = data;
                for (k, v) in sd {
                    let s = v.as_str().unwrap_or_default();
                    data.insert(
                        k,
                        Value::String(base64::engine::general_purpose::STANDARD.encode(s)),
                    );
                }
                obj["data"] = Value::Object(data);
            }
        }
        "Service" => {
            let spec = &mut obj["spec"];
            if !spec.is_object() {
                *spec = json!({});
            }
            if spec.get("type").is_none_or(Value::is_null) {
                spec["type"] = json!("ClusterIP");
            }
            if spec.get("sessionAffinity").is_none() {
                spec["sessionAffinity"] = json!("None");
            }
            if spec["type"] != "ExternalName" {
                let requested = spec
                    .get("clusterIP")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(String::from);
                let ip = match requested.as_deref() {
                    Some("None") => "None".to_string(),
                    r => ips.allocate(r)?,
                };
                spec["clusterIP"] = json!(ip);
                spec["clusterIPs"] = json!([ip]);
                spec["ipFamilies"] = json!(["IPv4"]);
                spec["ipFamilyPolicy"] = json!("SingleStack");
                spec["internalTrafficPolicy"] = json!("Cluster");
            }
            default_ports(spec);
        }
        "Deployment" | "StatefulSet" | "ReplicaSet" => {
            if obj.pointer("/spec/replicas").is_none() && obj["spec"].is_object() {
                obj["spec"]["replicas"] = json!(1);
            }
            if def.kind == "Deployment" && obj["spec"].is_object() {
                let spec = &mut obj["spec"];
                for (k, v) in [
                    ("revisionHistoryLimit", json!(10)),
                    ("progressDeadlineSeconds", json!(600)),
                    (
                        "strategy",
                        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
                    ),
                ] {
                    if spec.get(k).is_none() {
                        spec[k] = v;
                    }
                }
            }
            if def.kind == "StatefulSet" && obj["spec"].is_object() {
                let spec = &mut obj["spec"];
                for (k, v) in [
                    ("podManagementPolicy", json!("OrderedReady")),
                    ("revisionHistoryLimit", json!(10)),
                    (
                        "updateStrategy",
                        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
                    ),
                ] {
                    if spec.get(k).is_none() {
                        spec[k] = v;
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn default_ports(spec: &mut Value) {
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports {
            if p.get("protocol").is_none() {
                p["protocol"] = json!("TCP");
            }
            if p.get("targetPort").is_none()
                && let Some(port) = p.get("port").cloned()
            {
                p["targetPort"] = port;
            }
        }
    }
}

/// Defaults applied on update: an omitted clusterIP keeps the allocated one.
pub(crate) fn on_update(def: &ResourceDef, old: &Value, new: &mut Value) {
    if def.kind == "Service" && new["spec"].is_object() {
        for f in [
            "clusterIP",
            "clusterIPs",
            "ipFamilies",
            "ipFamilyPolicy",
            "internalTrafficPolicy",
        ] {
            let missing = new["spec"]
                .get(f)
                .is_none_or(|v| v.is_null() || v.as_str() == Some(""));
            if missing && let Some(v) = old.pointer(&format!("/spec/{f}")) {
                new["spec"][f] = v.clone();
            }
        }
        default_ports(&mut new["spec"]);
        if new["spec"].get("type").is_none() {
            new["spec"]["type"] = old["spec"]["type"].clone();
        }
        if new["spec"].get("sessionAffinity").is_none() {
            new["spec"]["sessionAffinity"] = old["spec"]["sessionAffinity"].clone();
        }
    }
    if def.kind == "Namespace" {
        new["spec"] = old["spec"].clone();
    }
    if def.kind == "Secret"
        && let Some(Value::Object(sd)) = new.as_object_mut().and_then(|m| m.remove("stringData"))
    {
        use base64::Engine as _;
        let mut data = new["data"].as_object().cloned().unwrap_or_default();
        for (k, v) in sd {
            data.insert(
                k,
                Value::String(
                    base64::engine::general_purpose::STANDARD
                        .encode(v.as_str().unwrap_or_default()),
                ),
            );
        }
        new["data"] = Value::Object(data);
    }
}
