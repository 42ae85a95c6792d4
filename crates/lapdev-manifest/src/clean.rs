//! The clean transform: removes what the source cluster wrote into an object
//! (identity, bookkeeping, status, allocated addresses) and keeps everything
//! the owner wrote, so the object can be applied to another namespace or
//! cluster and so diffs show only real changes.
//!
//! Removed everywhere: `metadata.{uid, resourceVersion, generation,
//! managedFields, ownerReferences, creationTimestamp, selfLink,
//! deletionTimestamp, deletionGracePeriodSeconds, finalizers}`, the
//! annotations in [`DROPPED_ANNOTATIONS`], and `status`. Finalizers are the
//! source cluster's controllers' (`kubernetes.io/pvc-protection`,
//! `service.kubernetes.io/load-balancer-cleanup`, …): a copied finalizer
//! that no controller removes blocks deleting the environment forever. In pod templates and
//! StatefulSet `volumeClaimTemplates`: `creationTimestamp` and `status`.
//!
//! Services: `clusterIP`/`clusterIPs` (allocated by the cluster) unless the
//! Service is headless (`clusterIP: None` is the owner's choice and changes
//! DNS semantics, so it is kept), `nodePort`s and `healthCheckNodePort`
//! (allocated; a copy that kept them would collide with production on the
//! same cluster), `ipFamilies` (allocated from the cluster's configuration; an
//! IPv6 family copied to an IPv4-only cluster is rejected), and
//! `ipFamilyPolicy: SingleStack` (the default the API server writes; other
//! policies are an explicit choice and are kept).
//!
//! PersistentVolumeClaims: `spec.volumeName` (production's volume) and the
//! binding and provisioning annotations in [`PVC_ANNOTATIONS`]; the copy is
//! a claim for a new, empty volume of the same size and class.
//!
//! ServiceAccounts: `secrets` (legacy token Secrets the cluster generated).
//! Secrets of type `kubernetes.io/service-account-token`: the `token`,
//! `ca.crt` and `namespace` values and the `kubernetes.io/service-account.uid`
//! annotation, which the token controller writes. Copying them would hand a
//! production ServiceAccount's token to every environment; applied without
//! them, the target cluster's controller fills in a token of its own.
//!
//! Clean is idempotent: `clean(clean(x)) == clean(x)`.

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, PodTemplateSpec, Secret, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::object::ManifestObject;

/// Annotations the cluster or tools write that say nothing about intent.
pub const DROPPED_ANNOTATIONS: &[&str] = &[
    // A copy of the whole object as last applied by kubectl, secrets included.
    "kubectl.kubernetes.io/last-applied-configuration",
    // The Deployment controller's rollout counter.
    "deployment.kubernetes.io/revision",
    // The DaemonSet controller's template counter.
    "deprecated.daemonset.template.generation",
];

/// Annotations the volume binder writes on a claim.
pub const PVC_ANNOTATIONS: &[&str] = &[
    "pv.kubernetes.io/bind-completed",
    "pv.kubernetes.io/bound-by-controller",
    "volume.beta.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/selected-node",
];

/// Returns the cleaned object.
pub fn clean(mut object: ManifestObject) -> ManifestObject {
    clean_in_place(&mut object);
    object
}

/// Cleans the object in place.
pub fn clean_in_place(object: &mut ManifestObject) {
    clean_metadata(object.metadata_mut());
    match object {
        ManifestObject::Namespace(o) => o.status = None,
        ManifestObject::ServiceAccount(o) => o.secrets = None,
        ManifestObject::ConfigMap(_) => {}
        ManifestObject::Secret(o) => clean_secret(o),
        ManifestObject::PersistentVolumeClaim(o) => clean_claim(o),
        ManifestObject::Service(o) => clean_service(o),
        ManifestObject::Deployment(o) => o.status = None,
        ManifestObject::StatefulSet(o) => {
            o.status = None;
            if let Some(spec) = &mut o.spec {
                for claim in spec.volume_claim_templates.iter_mut().flatten() {
                    clean_claim_template(claim);
                }
            }
        }
        ManifestObject::DaemonSet(o) => o.status = None,
    }
    if let Some(template) = object.pod_template_mut() {
        clean_pod_template(template);
    }
}

fn clean_metadata(meta: &mut ObjectMeta) {
    meta.uid = None;
    meta.resource_version = None;
    meta.generation = None;
    meta.managed_fields = None;
    meta.owner_references = None;
    meta.creation_timestamp = None;
    meta.self_link = None;
    meta.deletion_timestamp = None;
    meta.deletion_grace_period_seconds = None;
    meta.finalizers = None;
    drop_annotations(meta, DROPPED_ANNOTATIONS);
}

fn drop_annotations(meta: &mut ObjectMeta, keys: &[&str]) {
    if let Some(annotations) = &mut meta.annotations {
        annotations.retain(|k, _| !keys.contains(&k.as_str()));
        if annotations.is_empty() {
            meta.annotations = None;
        }
    }
}

fn clean_claim(claim: &mut PersistentVolumeClaim) {
    claim.status = None;
    drop_annotations(&mut claim.metadata, PVC_ANNOTATIONS);
    if let Some(spec) = &mut claim.spec {
        spec.volume_name = None;
    }
}

fn clean_pod_template(template: &mut PodTemplateSpec) {
    if let Some(meta) = &mut template.metadata {
        meta.creation_timestamp = None;
        if *meta == ObjectMeta::default() {
            template.metadata = None;
        }
    }
}

fn clean_claim_template(claim: &mut PersistentVolumeClaim) {
    claim.metadata.creation_timestamp = None;
    claim.status = None;
}

const SERVICE_ACCOUNT_TOKEN: &str = "kubernetes.io/service-account-token";

fn clean_secret(secret: &mut Secret) {
    if secret.type_.as_deref() != Some(SERVICE_ACCOUNT_TOKEN) {
        return;
    }
    if let Some(data) = &mut secret.data {
        for key in ["token", "ca.crt", "namespace"] {
            data.remove(key);
        }
    }
    if secret.data.as_ref().is_some_and(|d| d.is_empty()) {
        secret.data = None;
    }
    drop_annotations(&mut secret.metadata, &["kubernetes.io/service-account.uid"]);
}

fn clean_service(service: &mut Service) {
    service.status = None;
    let Some(spec) = &mut service.spec else {
        return;
    };
    let headless = spec.cluster_ip.as_deref() == Some("None");
    if !headless {
        spec.cluster_ip = None;
    }
    // The API server derives `clusterIPs` from `clusterIP` (`[None]` for a
    // headless Service), so it is dropped in both cases.
    spec.cluster_ips = None;
    spec.health_check_node_port = None;
    spec.ip_families = None;
    if spec.ip_family_policy.as_deref() == Some("SingleStack") {
        spec.ip_family_policy = None;
    }
    for port in spec.ports.iter_mut().flatten() {
        port.node_port = None;
    }
}
