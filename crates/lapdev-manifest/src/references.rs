//! What a workload depends on, and whether it is there.
//!
//! [`workload_references`] lists every ConfigMap, Secret, ServiceAccount and
//! Service a workload names: `env[].valueFrom`, `envFrom` (prefixes do not
//! change the reference), volumes (including projected sources and the
//! volume plugins that name a Secret), PersistentVolumeClaims,
//! `imagePullSecrets`, the
//! ServiceAccount, and a StatefulSet's governing `serviceName`, in
//! containers, init containers and ephemeral containers alike.
//! [`matching_services`] finds the Services whose selector matches the pod
//! template labels. [`resolve`] puts both together over the objects a source
//! namespace holds: the closure to store in a catalog, plus an issue for
//! every reference that is not there.
//!
//! ServiceAccounts: the ServiceAccount object is copied (so pods keep running
//! under a named identity and its `imagePullSecrets` keep working) without
//! its legacy token `secrets` (see [`crate::clean`](mod@crate::clean)); RBAC bindings are
//! never copied. Copying a production Role or RoleBinding would hand every
//! developer's environment the permissions production has, and a
//! ClusterRoleBinding is outside any namespace Lapdev manages. A workload that
//! needs Kubernetes API access in an environment gets it from the platform
//! team, on purpose. `default` and the `kube-root-ca.crt` ConfigMap exist in
//! every namespace, so they are neither copied nor reported.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    EnvFromSource, EnvVar, KeyToPath, LocalObjectReference, PodSpec, Service, Volume,
};
use serde::{Deserialize, Serialize};

use crate::object::{ManifestObject, ObjectKind, ObjectRef};

/// Objects every namespace has; never copied, never reported missing.
const BUILT_IN: &[(ObjectKind, &str)] = &[
    (ObjectKind::ServiceAccount, "default"),
    (ObjectKind::ConfigMap, "kube-root-ca.crt"),
];

/// One reference from a workload to another object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Reference {
    /// The referenced object, in the workload's namespace.
    pub target: ObjectRef,
    /// The key inside a ConfigMap or Secret, when the reference names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `optional: true`: the pod starts without it.
    pub optional: bool,
    /// Where the reference was found, e.g.
    /// `spec.template.spec.containers[app].env[DB_PASSWORD].valueFrom.secretKeyRef`.
    pub field: String,
}

/// Every reference a workload makes; empty for other kinds.
pub fn workload_references(workload: &ManifestObject) -> Vec<Reference> {
    let Some(template) = workload.pod_template() else {
        return Vec::new();
    };
    let mut refs = Refs {
        namespace: workload.namespace().map(str::to_string),
        out: Vec::new(),
    };
    if let Some(spec) = &template.spec {
        refs.pod_spec("spec.template.spec", spec);
    }
    if let ManifestObject::StatefulSet(sts) = workload
        && let Some(service) = sts.spec.as_ref().and_then(|s| s.service_name.as_deref())
        && !service.is_empty()
    {
        refs.push(
            ObjectKind::Service,
            service,
            None,
            false,
            "spec.serviceName".into(),
        );
    }
    refs.out
}

struct Refs {
    namespace: Option<String>,
    out: Vec<Reference>,
}

impl Refs {
    fn push(
        &mut self,
        kind: ObjectKind,
        name: &str,
        key: Option<&str>,
        optional: bool,
        field: String,
    ) {
        if name.is_empty() {
            return;
        }
        self.out.push(Reference {
            target: ObjectRef::new(kind, self.namespace.as_deref(), name),
            key: key.map(str::to_string),
            optional,
            field,
        });
    }

    fn pod_spec(&mut self, at: &str, spec: &PodSpec) {
        let sa = spec
            .service_account_name
            .as_deref()
            .or(spec.service_account.as_deref())
            .filter(|s| !s.is_empty());
        let (sa, sa_field) = match sa {
            Some(sa) => (sa, format!("{at}.serviceAccountName")),
            None => ("default", format!("{at}.serviceAccountName (unset)")),
        };
        self.push(ObjectKind::ServiceAccount, sa, None, false, sa_field);

        let containers = spec
            .containers
            .iter()
            .map(|c| ("containers", &c.name, &c.env, &c.env_from));
        let init = spec
            .init_containers
            .iter()
            .flatten()
            .map(|c| ("initContainers", &c.name, &c.env, &c.env_from));
        let ephemeral = spec
            .ephemeral_containers
            .iter()
            .flatten()
            .map(|c| ("ephemeralContainers", &c.name, &c.env, &c.env_from));
        for (list, name, env, env_from) in containers.chain(init).chain(ephemeral) {
            let at = format!("{at}.{list}[{name}]");
            for var in env.iter().flatten() {
                self.env_var(&at, var);
            }
            for (i, source) in env_from.iter().flatten().enumerate() {
                self.env_from(&format!("{at}.envFrom[{i}]"), source);
            }
        }
        for volume in spec.volumes.iter().flatten() {
            self.volume(&format!("{at}.volumes[{}]", volume.name), volume);
        }
        for (i, secret) in spec.image_pull_secrets.iter().flatten().enumerate() {
            self.local(
                ObjectKind::Secret,
                secret,
                format!("{at}.imagePullSecrets[{i}]"),
            );
        }
    }

    fn env_var(&mut self, at: &str, var: &EnvVar) {
        let Some(from) = &var.value_from else { return };
        let at = format!("{at}.env[{}].valueFrom", var.name);
        if let Some(r) = &from.config_map_key_ref {
            let field = format!("{at}.configMapKeyRef");
            self.push(
                ObjectKind::ConfigMap,
                &r.name,
                Some(&r.key),
                opt(r.optional),
                field,
            );
        }
        if let Some(r) = &from.secret_key_ref {
            let field = format!("{at}.secretKeyRef");
            self.push(
                ObjectKind::Secret,
                &r.name,
                Some(&r.key),
                opt(r.optional),
                field,
            );
        }
    }

    fn env_from(&mut self, at: &str, source: &EnvFromSource) {
        if let Some(r) = &source.config_map_ref {
            let field = format!("{at}.configMapRef");
            self.push(ObjectKind::ConfigMap, &r.name, None, opt(r.optional), field);
        }
        if let Some(r) = &source.secret_ref {
            let field = format!("{at}.secretRef");
            self.push(ObjectKind::Secret, &r.name, None, opt(r.optional), field);
        }
    }

    fn volume(&mut self, at: &str, volume: &Volume) {
        if let Some(cm) = &volume.config_map {
            self.keyed(
                ObjectKind::ConfigMap,
                &cm.name,
                &cm.items,
                cm.optional,
                format!("{at}.configMap"),
            );
        }
        if let Some(s) = &volume.secret {
            let name = s.secret_name.as_deref().unwrap_or_default();
            self.keyed(
                ObjectKind::Secret,
                name,
                &s.items,
                s.optional,
                format!("{at}.secret"),
            );
        }
        if let Some(projected) = &volume.projected {
            for (i, source) in projected.sources.iter().flatten().enumerate() {
                let at = format!("{at}.projected.sources[{i}]");
                if let Some(cm) = &source.config_map {
                    self.keyed(
                        ObjectKind::ConfigMap,
                        &cm.name,
                        &cm.items,
                        cm.optional,
                        format!("{at}.configMap"),
                    );
                }
                if let Some(s) = &source.secret {
                    self.keyed(
                        ObjectKind::Secret,
                        &s.name,
                        &s.items,
                        s.optional,
                        format!("{at}.secret"),
                    );
                }
                // serviceAccountToken, downwardAPI and clusterTrustBundle name
                // no namespaced object.
            }
        }
        // Volume plugins that take their credentials from a Secret.
        let plugin_secrets = [
            (
                "csi.nodePublishSecretRef",
                volume
                    .csi
                    .as_ref()
                    .and_then(|v| v.node_publish_secret_ref.as_ref()),
            ),
            (
                "cephfs.secretRef",
                volume.cephfs.as_ref().and_then(|v| v.secret_ref.as_ref()),
            ),
            (
                "rbd.secretRef",
                volume.rbd.as_ref().and_then(|v| v.secret_ref.as_ref()),
            ),
            (
                "flexVolume.secretRef",
                volume
                    .flex_volume
                    .as_ref()
                    .and_then(|v| v.secret_ref.as_ref()),
            ),
            (
                "iscsi.secretRef",
                volume.iscsi.as_ref().and_then(|v| v.secret_ref.as_ref()),
            ),
            (
                "scaleIO.secretRef",
                volume.scale_io.as_ref().map(|v| &v.secret_ref),
            ),
            (
                "storageos.secretRef",
                volume
                    .storageos
                    .as_ref()
                    .and_then(|v| v.secret_ref.as_ref()),
            ),
        ];
        for (field, secret) in plugin_secrets {
            if let Some(secret) = secret {
                self.local(ObjectKind::Secret, secret, format!("{at}.{field}"));
            }
        }
        if let Some(claim) = &volume.persistent_volume_claim {
            let field = format!("{at}.persistentVolumeClaim");
            self.push(
                ObjectKind::PersistentVolumeClaim,
                &claim.claim_name,
                None,
                false,
                field,
            );
        }
        if let Some(azure) = &volume.azure_file {
            self.push(
                ObjectKind::Secret,
                &azure.secret_name,
                None,
                false,
                format!("{at}.azureFile.secretName"),
            );
        }
    }

    /// A ConfigMap or Secret mounted whole, or only the listed `items`.
    fn keyed(
        &mut self,
        kind: ObjectKind,
        name: &str,
        items: &Option<Vec<KeyToPath>>,
        optional: Option<bool>,
        field: String,
    ) {
        match items.as_deref() {
            None | Some([]) => self.push(kind, name, None, opt(optional), field),
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    let field = format!("{field}.items[{i}]");
                    self.push(kind, name, Some(&item.key), opt(optional), field);
                }
            }
        }
    }

    fn local(&mut self, kind: ObjectKind, r: &LocalObjectReference, field: String) {
        self.push(kind, &r.name, None, false, field);
    }
}

fn opt(optional: Option<bool>) -> bool {
    optional.unwrap_or(false)
}

/// The Services in the workload's namespace whose selector is a subset of
/// the workload's pod template labels, sorted. A Service without a selector
/// (or with an empty one) matches nothing: its endpoints are managed by hand
/// and point at production addresses.
pub fn matching_services<'a>(
    workload: &ManifestObject,
    services: impl IntoIterator<Item = &'a Service>,
) -> Vec<ObjectRef> {
    let Some(labels) = workload
        .pod_template()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.as_ref())
    else {
        return Vec::new();
    };
    let mut out: Vec<ObjectRef> = services
        .into_iter()
        .filter(|s| s.metadata.namespace.as_deref() == workload.namespace())
        .filter(|s| {
            let selector = s.spec.as_ref().and_then(|spec| spec.selector.as_ref());
            selector.is_some_and(|sel| {
                !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
            })
        })
        .map(|s| {
            let name = s.metadata.name.as_deref().unwrap_or_default();
            ObjectRef::new(ObjectKind::Service, s.metadata.namespace.as_deref(), name)
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Issues and dependencies are pure data: the tunnel protocol's types.
pub use lapdev_tunnel_proto::{ResolutionIssue, Severity, WorkloadDependencies};

/// The result of [`resolve`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    /// The workloads and every object they depend on, each once, in apply
    /// order. Not cleaned: run [`crate::clean()`] (or use [`crate::build_catalog`]) before storing.
    pub objects: Vec<ManifestObject>,
    /// Per workload, in the order given.
    pub dependencies: Vec<WorkloadDependencies>,
    /// Missing references: warnings first, then notes; each group sorted by
    /// workload and field.
    pub issues: Vec<ResolutionIssue>,
}

/// Resolves the references of `workloads` against `available` (the objects
/// of the source namespaces: ConfigMaps, Secrets, PersistentVolumeClaims,
/// Services, ServiceAccounts).
/// A missing non-optional reference is a [`Severity::Warning`]; a missing
/// optional one a [`Severity::Note`]. Nothing is dropped silently.
pub fn resolve(workloads: &[ManifestObject], available: &[ManifestObject]) -> Resolution {
    let by_ref: BTreeMap<ObjectRef, &ManifestObject> =
        available.iter().map(|o| (o.object_ref(), o)).collect();
    let services: Vec<&Service> = available
        .iter()
        .filter_map(|o| match o {
            ManifestObject::Service(s) => Some(s),
            _ => None,
        })
        .collect();

    let mut selected: BTreeMap<ObjectRef, ManifestObject> = BTreeMap::new();
    let mut dependencies = Vec::new();
    let mut issues = BTreeSet::new();
    for workload in workloads.iter().filter(|w| w.is_workload()) {
        let workload_ref = workload.object_ref();
        selected.insert(workload_ref.clone(), workload.clone());
        let mut refs = workload_references(workload);
        // The ServiceAccount's own imagePullSecrets apply to the pod too.
        let service_accounts: Vec<Reference> = refs
            .iter()
            .filter(|r| r.target.kind == ObjectKind::ServiceAccount)
            .cloned()
            .collect();
        for sa in service_accounts {
            if let Some(ManifestObject::ServiceAccount(account)) = by_ref.get(&sa.target) {
                for (i, secret) in account.image_pull_secrets.iter().flatten().enumerate() {
                    refs.push(Reference {
                        target: ObjectRef::new(
                            ObjectKind::Secret,
                            sa.target.namespace.as_deref(),
                            &secret.name,
                        ),
                        key: None,
                        optional: false,
                        field: format!("{}.imagePullSecrets[{i}]", sa.target),
                    });
                }
            }
        }

        let mut depends_on = BTreeSet::new();
        for r in refs {
            if is_built_in(&r.target) {
                continue;
            }
            let severity = if r.optional {
                Severity::Note
            } else {
                Severity::Warning
            };
            let issue = |key: Option<String>| ResolutionIssue {
                severity,
                workload: workload_ref.clone(),
                field: r.field.clone(),
                missing: r.target.clone(),
                key,
            };
            match by_ref.get(&r.target) {
                None => {
                    issues.insert(issue(None));
                }
                Some(found) => {
                    if let Some(key) = &r.key
                        && !has_key(found, key)
                    {
                        issues.insert(issue(Some(key.clone())));
                    }
                    depends_on.insert(r.target.clone());
                    selected.insert(r.target.clone(), (*found).clone());
                }
            }
        }
        for service in matching_services(workload, services.iter().copied()) {
            if let Some(found) = by_ref.get(&service) {
                selected.insert(service.clone(), (*found).clone());
            }
            depends_on.insert(service);
        }
        dependencies.push(WorkloadDependencies {
            workload: workload_ref,
            depends_on: depends_on.into_iter().collect(),
        });
    }
    let mut issues: Vec<ResolutionIssue> = issues.into_iter().collect();
    issues.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.cmp(b)));
    Resolution {
        objects: selected.into_values().collect(),
        dependencies,
        issues,
    }
}

fn is_built_in(target: &ObjectRef) -> bool {
    BUILT_IN
        .iter()
        .any(|(kind, name)| target.kind == *kind && target.name == *name)
}

fn has_key(object: &ManifestObject, key: &str) -> bool {
    match object {
        ManifestObject::ConfigMap(cm) => {
            cm.data.as_ref().is_some_and(|d| d.contains_key(key))
                || cm.binary_data.as_ref().is_some_and(|d| d.contains_key(key))
        }
        ManifestObject::Secret(s) => {
            s.data.as_ref().is_some_and(|d| d.contains_key(key))
                || s.string_data.as_ref().is_some_and(|d| d.contains_key(key))
                || crate::secrets::redacted_keys(s).iter().any(|k| k == key)
        }
        _ => true,
    }
}
