//! The environment transform: from a catalog's stored objects to the objects
//! kube-manager applies for one Personal or Shared environment, in apply
//! order, starting with the environment's Namespace.
//!
//! What it does to every object:
//!
//! * [cleans](mod@crate::clean) it (idempotent; catalogs are stored clean);
//! * **namespace rewrite**: `metadata.namespace` becomes the target
//!   namespace, and so does a source namespace named in a pod (anti-)affinity
//!   term's `namespaces` (it meant "pods of my own namespace"). Names are
//!   kept, so in-namespace short Service names (`db`, `http://db:5432`) keep
//!   working. Strings are never rewritten: an env value or ConfigMap with a
//!   fully qualified name (`db.shop.svc.cluster.local`) still points at the
//!   source namespace; the plan warns about each such env value, ConfigMap
//!   value and ExternalName (the value itself is not repeated: it could be
//!   a secret-bearing URL);
//! * labels `lapdev.io/managed: "true"`, `lapdev.io/environment: <env id>`,
//!   `lapdev.io/catalog: <catalog id>`, and annotations with the two display
//!   names and `lapdev.io/origin: Kind/source-namespace/name`. Pod templates
//!   get the managed and environment labels too (selectors are untouched:
//!   they are immutable and still match);
//! * Secrets: redacted values are filled from the environment's values; a
//!   missing one fails the whole transform, naming every missing value;
//! * Services: LoadBalancer and NodePort become ClusterIP, `externalIPs`
//!   go (see `internalize_service`); headless Services stay headless;
//! * replicas: [`ReplicasPolicy`], by default `AtMost(1)` for Personal
//!   environments (a developer's copy needs one pod, not production's
//!   twenty) and `Keep` for Shared ones. DaemonSets have no replica count
//!   and run one pod per eligible node in both.
//!
//! Everything else — the whole pod spec (env with secretKeyRef and
//! configMapKeyRef, envFrom, volumes, probes, resources, init containers,
//! security contexts, tolerations, …), selectors, StatefulSet
//! `volumeClaimTemplates` and `serviceName` — is copied untouched. The
//! sidecar of a later issue plugs in through [`PodTemplateExtension`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use k8s_openapi::api::core::v1::{Namespace, PodSpec, PodTemplateSpec, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use crate::clean::clean;
use crate::keys;
use crate::object::{ManifestObject, ObjectKind, ObjectRef, sort_for_apply};
use crate::secrets::{SecretKey, SecretValues, fill_redacted};

/// Namespaces an environment may never take.
const RESERVED_NAMESPACES: &[&str] = &[
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "lapdev",
];

/// A namespace an environment may be deployed into: an RFC 1123 DNS label
/// (at most 63 lowercase alphanumerics or `-`, starting and ending with an
/// alphanumeric) that is not a system namespace or Lapdev's own.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TargetNamespace(String);

impl TargetNamespace {
    pub fn new(name: &str) -> Result<Self, EnvironmentError> {
        let invalid = |reason: &str| EnvironmentError::InvalidNamespace {
            name: name.to_string(),
            reason: reason.to_string(),
        };
        if name.is_empty() || name.len() > 63 {
            return Err(invalid("must be 1 to 63 characters"));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(invalid(
                "may contain only lowercase letters, digits and '-'",
            ));
        }
        if name.starts_with('-') || name.ends_with('-') {
            return Err(invalid("must start and end with a letter or digit"));
        }
        if RESERVED_NAMESPACES.contains(&name) || name.starts_with("kube-") {
            return Err(invalid("is reserved for the cluster or for Lapdev itself"));
        }
        Ok(TargetNamespace(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for TargetNamespace {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        TargetNamespace::new(&name).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for TargetNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Kubernetes-free, so the tunnel protocol's own types: kube-manager passes
/// what the server sent straight through.
pub use lapdev_tunnel_proto::{EnvironmentKind, Identity, ReplicasPolicy};

/// Caps `replicas` (`spec.replicas`) by `policy`.
fn cap_replicas(policy: ReplicasPolicy, replicas: &mut Option<i32>) {
    let ReplicasPolicy::AtMost(cap) = policy else {
        return;
    };
    // Unset means 1 to the API server.
    let current = replicas.unwrap_or(1);
    if current > cap || replicas.is_some() {
        *replicas = Some(current.min(cap));
    }
}

/// Everything the transform needs besides the catalog's objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentSpec {
    pub namespace: TargetNamespace,
    pub environment: Identity,
    pub catalog: Identity,
    pub kind: EnvironmentKind,
    pub replicas: ReplicasPolicy,
    /// Values for the catalog's redacted Secret keys.
    #[serde(default)]
    pub secret_values: SecretValues,
}

/// The extension point for what a later issue adds to every environment pod
/// (the `lapdev-sidecar` container and its routing setup). Called once per
/// workload, after every other change.
pub trait PodTemplateExtension {
    /// `origin` is the workload in the catalog.
    fn extend_pod_template(&self, origin: &ObjectRef, template: &mut PodTemplateSpec);
}

/// Adds nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoExtension;

impl PodTemplateExtension for NoExtension {
    fn extend_pod_template(&self, _: &ObjectRef, _: &mut PodTemplateSpec) {}
}

/// What to apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentPlan {
    /// In apply order, the Namespace first.
    pub objects: Vec<ManifestObject>,
    /// Things that will likely not work as the user expects, sorted.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvironmentError {
    #[error("namespace {name:?} {reason}")]
    InvalidNamespace { name: String, reason: String },
    #[error(
        "{field} {value:?} is not a valid label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
    )]
    InvalidLabelValue { field: &'static str, value: String },
    #[error(
        "the environment cannot start until {} secret value(s) are given: {}",
        missing.len(),
        missing.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    MissingSecretValues { missing: Vec<SecretKey> },
    #[error(
        "{kind} {name:?} exists in several source namespaces ({}); an environment has one namespace, so the catalog must not contain both",
        namespaces.join(", ")
    )]
    NameCollision {
        kind: ObjectKind,
        name: String,
        namespaces: Vec<String>,
    },
}

/// Builds the objects of one environment from a catalog's objects.
pub fn build_environment(
    catalog: &[ManifestObject],
    spec: &EnvironmentSpec,
    extension: &dyn PodTemplateExtension,
) -> Result<EnvironmentPlan, EnvironmentError> {
    check_label_value("environment id", &spec.environment.id)?;
    check_label_value("catalog id", &spec.catalog.id)?;
    let catalog: Vec<&ManifestObject> = catalog
        .iter()
        .filter(|o| o.kind() != ObjectKind::Namespace)
        .collect();
    check_collisions(&catalog)?;
    let source_namespaces: BTreeSet<String> = catalog
        .iter()
        .filter_map(|o| o.namespace())
        .map(str::to_string)
        .collect();

    let mut missing = Vec::new();
    let mut warnings = BTreeSet::new();
    let mut objects = vec![namespace_object(spec)];
    for original in catalog {
        warn_fqdn(original, &source_namespaces, &mut warnings);
        match copy_object(original, spec, &source_namespaces, extension) {
            Ok(object) => objects.push(object),
            Err(keys) => missing.extend(keys),
        }
    }
    if !missing.is_empty() {
        missing.sort();
        return Err(EnvironmentError::MissingSecretValues { missing });
    }
    sort_for_apply(&mut objects);
    Ok(EnvironmentPlan {
        objects,
        warnings: warnings.into_iter().collect(),
    })
}

/// One catalog object as the environment applies it; `Err` names the
/// redacted values it still needs.
fn copy_object(
    original: &ManifestObject,
    spec: &EnvironmentSpec,
    source_namespaces: &BTreeSet<String>,
    extension: &dyn PodTemplateExtension,
) -> Result<ManifestObject, Vec<SecretKey>> {
    let origin = original.object_ref();
    let mut object = clean(original.clone());
    if let ManifestObject::Secret(secret) = &mut object {
        fill_redacted(secret, &spec.secret_values)?;
    }
    if let Some(replicas) = object.replicas_mut() {
        cap_replicas(spec.replicas, replicas);
    }
    if let ManifestObject::Service(service) = &mut object {
        internalize_service(service);
    }
    let meta = object.metadata_mut();
    meta.namespace = Some(spec.namespace.as_str().to_string());
    label(meta, spec);
    let annotations = meta.annotations.get_or_insert_default();
    annotations.insert(keys::ENVIRONMENT_NAME.into(), spec.environment.name.clone());
    annotations.insert(keys::CATALOG_NAME.into(), spec.catalog.name.clone());
    annotations.insert(keys::ORIGIN.into(), origin.to_string());
    if let Some(template) = object.pod_template_mut() {
        let labels = template
            .metadata
            .get_or_insert_default()
            .labels
            .get_or_insert_default();
        labels.insert(keys::MANAGED.into(), "true".into());
        labels.insert(keys::ENVIRONMENT.into(), spec.environment.id.clone());
        if let Some(pod) = &mut template.spec {
            rewrite_affinity_namespaces(pod, source_namespaces, spec.namespace.as_str());
        }
        extension.extend_pod_template(&origin, template);
    }
    Ok(object)
}

/// Environment Services are reached inside the cluster and through preview
/// URLs (kube-manager forwards to the Service), never from outside: a
/// LoadBalancer or NodePort Service becomes ClusterIP, so an environment
/// neither creates a cloud load balancer nor claims production's static
/// `loadBalancerIP`; `externalIPs` go for every type, since on a shared
/// cluster they would capture traffic meant for production.
fn internalize_service(service: &mut Service) {
    let Some(spec) = &mut service.spec else {
        return;
    };
    spec.external_ips = None;
    if matches!(spec.type_.as_deref(), Some("LoadBalancer" | "NodePort")) {
        spec.type_ = Some("ClusterIP".to_string());
        spec.allocate_load_balancer_node_ports = None;
        spec.external_traffic_policy = None;
        spec.health_check_node_port = None;
        spec.load_balancer_class = None;
        spec.load_balancer_ip = None;
        spec.load_balancer_source_ranges = None;
        for port in spec.ports.iter_mut().flatten() {
            port.node_port = None;
        }
    }
}

fn namespace_object(spec: &EnvironmentSpec) -> ManifestObject {
    let mut meta = ObjectMeta {
        name: Some(spec.namespace.as_str().to_string()),
        ..ObjectMeta::default()
    };
    label(&mut meta, spec);
    meta.annotations = Some(BTreeMap::from([
        (
            keys::ENVIRONMENT_NAME.to_string(),
            spec.environment.name.clone(),
        ),
        (keys::CATALOG_NAME.to_string(), spec.catalog.name.clone()),
    ]));
    ManifestObject::Namespace(Namespace {
        metadata: meta,
        ..Namespace::default()
    })
}

fn label(meta: &mut ObjectMeta, spec: &EnvironmentSpec) {
    let labels = meta.labels.get_or_insert_default();
    labels.insert(keys::MANAGED.into(), "true".into());
    labels.insert(keys::ENVIRONMENT.into(), spec.environment.id.clone());
    labels.insert(keys::CATALOG.into(), spec.catalog.id.clone());
}

fn check_label_value(field: &'static str, value: &str) -> Result<(), EnvironmentError> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(EnvironmentError::InvalidLabelValue {
            field,
            value: value.to_string(),
        })
    }
}

fn check_collisions(catalog: &[&ManifestObject]) -> Result<(), EnvironmentError> {
    let mut seen: BTreeMap<(ObjectKind, &str), BTreeSet<String>> = BTreeMap::new();
    for o in catalog {
        let namespace = o.namespace().unwrap_or_default().to_string();
        seen.entry((o.kind(), o.name()))
            .or_default()
            .insert(namespace);
    }
    match seen
        .into_iter()
        .find(|(_, namespaces)| namespaces.len() > 1)
    {
        Some(((kind, name), namespaces)) => Err(EnvironmentError::NameCollision {
            kind,
            name: name.to_string(),
            namespaces: namespaces.into_iter().collect(),
        }),
        None => Ok(()),
    }
}

fn rewrite_affinity_namespaces(pod: &mut PodSpec, sources: &BTreeSet<String>, target: &str) {
    let Some(affinity) = &mut pod.affinity else {
        return;
    };
    let pod_affinity = affinity.pod_affinity.as_mut().map(|a| {
        (
            &mut a.required_during_scheduling_ignored_during_execution,
            &mut a.preferred_during_scheduling_ignored_during_execution,
        )
    });
    let anti_affinity = affinity.pod_anti_affinity.as_mut().map(|a| {
        (
            &mut a.required_during_scheduling_ignored_during_execution,
            &mut a.preferred_during_scheduling_ignored_during_execution,
        )
    });
    for (required, preferred) in pod_affinity.into_iter().chain(anti_affinity) {
        let terms = required.iter_mut().flatten().chain(
            preferred
                .iter_mut()
                .flatten()
                .map(|w| &mut w.pod_affinity_term),
        );
        for term in terms {
            for ns in term.namespaces.iter_mut().flatten() {
                if sources.contains(ns) {
                    *ns = target.to_string();
                }
            }
        }
    }
}

/// Strings that name a source namespace in a cluster DNS name, with where
/// they were found: env values, ConfigMap values, ExternalName targets.
fn warn_fqdn(object: &ManifestObject, sources: &BTreeSet<String>, warnings: &mut BTreeSet<String>) {
    let mut strings: Vec<(String, &str)> = Vec::new();
    if let Some(pod) = object.pod_template().and_then(|t| t.spec.as_ref()) {
        let containers = pod.containers.iter().map(|c| (&c.name, &c.env));
        let init = pod
            .init_containers
            .iter()
            .flatten()
            .map(|c| (&c.name, &c.env));
        for (container, env) in containers.chain(init) {
            for var in env.iter().flatten() {
                if let Some(value) = &var.value {
                    strings.push((format!("env {} of container {container}", var.name), value));
                }
            }
        }
    }
    match object {
        ManifestObject::ConfigMap(cm) => {
            for (key, value) in cm.data.iter().flatten() {
                strings.push((format!("key {key}"), value));
            }
        }
        ManifestObject::Service(svc) => {
            if let Some(name) = svc.spec.as_ref().and_then(|s| s.external_name.as_deref()) {
                strings.push(("spec.externalName".to_string(), name));
            }
        }
        _ => {}
    }
    let origin = object.object_ref();
    for (location, value) in strings {
        for ns in sources {
            if value.contains(&format!(".{ns}.svc")) {
                warnings.insert(format!(
                    "{origin}: {location} names the source namespace {ns:?} in a cluster DNS name; it still points there, not at this environment (use the short Service name)"
                ));
            }
        }
    }
}
