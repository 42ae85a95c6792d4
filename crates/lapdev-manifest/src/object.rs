//! [`ManifestObject`]: the closed set of Kubernetes kinds a catalog or an
//! environment holds, with one generic path to metadata, JSON conversion
//! (with `apiVersion`/`kind`) and the order objects are applied in.
//!
//! Per-kind code goes through the `each!` macro, which hands the inner object
//! to code generic over k8s-openapi's [`Resource`] and [`Metadata`] traits:
//! there is one implementation of "get the metadata", not eight.

use std::any::TypeId;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, PersistentVolumeClaim, PodTemplateSpec, Secret, Service, ServiceAccount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{Metadata, NamespaceResourceScope, Resource};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One object of a supported kind.
#[derive(Debug, Clone, PartialEq)]
pub enum ManifestObject {
    Namespace(Namespace),
    ServiceAccount(ServiceAccount),
    ConfigMap(ConfigMap),
    Secret(Secret),
    PersistentVolumeClaim(PersistentVolumeClaim),
    Service(Service),
    Deployment(Deployment),
    StatefulSet(StatefulSet),
    DaemonSet(DaemonSet),
}

/// Runs `$body` with `$o` bound to the inner object, whatever its kind.
macro_rules! each {
    ($value:expr, $o:ident => $body:expr) => {
        match $value {
            ManifestObject::Namespace($o) => $body,
            ManifestObject::ServiceAccount($o) => $body,
            ManifestObject::ConfigMap($o) => $body,
            ManifestObject::Secret($o) => $body,
            ManifestObject::PersistentVolumeClaim($o) => $body,
            ManifestObject::Service($o) => $body,
            ManifestObject::Deployment($o) => $body,
            ManifestObject::StatefulSet($o) => $body,
            ManifestObject::DaemonSet($o) => $body,
        }
    };
}

/// The kinds [`ManifestObject`] holds, in apply order, and how one object
/// is named: the tunnel protocol's types (they are pure data), so refs
/// cross the tunnel as they are.
pub use lapdev_tunnel_proto::{ObjectKind, ObjectRef};

/// What the API server knows about a kind, read from k8s-openapi's
/// [`Resource`] constants: enough for one generic dynamic-API code path in
/// kube-manager.
pub trait KindInfoExt {
    fn info(self) -> KindInfo;
}

impl KindInfoExt for ObjectKind {
    fn info(self) -> KindInfo {
        match self {
            ObjectKind::Namespace => KindInfo::of::<Namespace>(),
            ObjectKind::ServiceAccount => KindInfo::of::<ServiceAccount>(),
            ObjectKind::ConfigMap => KindInfo::of::<ConfigMap>(),
            ObjectKind::Secret => KindInfo::of::<Secret>(),
            ObjectKind::PersistentVolumeClaim => KindInfo::of::<PersistentVolumeClaim>(),
            ObjectKind::Service => KindInfo::of::<Service>(),
            ObjectKind::Deployment => KindInfo::of::<Deployment>(),
            ObjectKind::StatefulSet => KindInfo::of::<StatefulSet>(),
            ObjectKind::DaemonSet => KindInfo::of::<DaemonSet>(),
        }
    }
}

/// The API coordinates of an [`ObjectKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindInfo {
    /// `apps/v1`, `v1`.
    pub api_version: &'static str,
    /// `apps`, or `""` for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// The plural in URLs: `deployments`.
    pub plural: &'static str,
    /// `false` for cluster-scoped kinds (Namespace).
    pub namespaced: bool,
}

impl KindInfo {
    fn of<K: Resource>() -> Self
    where
        K::Scope: 'static,
    {
        KindInfo {
            api_version: K::API_VERSION,
            group: K::GROUP,
            version: K::VERSION,
            kind: K::KIND,
            plural: K::URL_PATH_SEGMENT,
            namespaced: TypeId::of::<K::Scope>() == TypeId::of::<NamespaceResourceScope>(),
        }
    }
}

/// The workload kinds a catalog is built from: the tunnel protocol's type,
/// which names workloads in requests.
pub use lapdev_tunnel_proto::WorkloadKind;

/// A JSON value that is not an object of a supported kind.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("manifest has no string `apiVersion` and `kind`")]
    MissingKind,
    #[error(
        "unsupported object {api_version}/{kind}: Lapdev copies Deployments, StatefulSets, DaemonSets, ConfigMaps, Secrets, PersistentVolumeClaims, Services, ServiceAccounts and Namespaces"
    )]
    Unsupported { api_version: String, kind: String },
    #[error("invalid {kind} manifest")]
    Invalid {
        kind: ObjectKind,
        #[source]
        source: serde_json::Error,
    },
}

impl ManifestObject {
    pub fn kind(&self) -> ObjectKind {
        match self {
            ManifestObject::Namespace(_) => ObjectKind::Namespace,
            ManifestObject::ServiceAccount(_) => ObjectKind::ServiceAccount,
            ManifestObject::ConfigMap(_) => ObjectKind::ConfigMap,
            ManifestObject::Secret(_) => ObjectKind::Secret,
            ManifestObject::PersistentVolumeClaim(_) => ObjectKind::PersistentVolumeClaim,
            ManifestObject::Service(_) => ObjectKind::Service,
            ManifestObject::Deployment(_) => ObjectKind::Deployment,
            ManifestObject::StatefulSet(_) => ObjectKind::StatefulSet,
            ManifestObject::DaemonSet(_) => ObjectKind::DaemonSet,
        }
    }

    pub fn metadata(&self) -> &ObjectMeta {
        each!(self, o => o.metadata())
    }

    pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
        each!(self, o => o.metadata_mut())
    }

    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.metadata().namespace.as_deref()
    }

    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef::new(self.kind(), self.namespace(), self.name())
    }

    /// The pod template of a workload; `None` for other kinds (and for a
    /// workload without a spec, which the API server would reject anyway).
    pub fn pod_template(&self) -> Option<&PodTemplateSpec> {
        match self {
            ManifestObject::Deployment(o) => o.spec.as_ref().map(|s| &s.template),
            ManifestObject::StatefulSet(o) => o.spec.as_ref().map(|s| &s.template),
            ManifestObject::DaemonSet(o) => o.spec.as_ref().map(|s| &s.template),
            _ => None,
        }
    }

    pub fn pod_template_mut(&mut self) -> Option<&mut PodTemplateSpec> {
        match self {
            ManifestObject::Deployment(o) => o.spec.as_mut().map(|s| &mut s.template),
            ManifestObject::StatefulSet(o) => o.spec.as_mut().map(|s| &mut s.template),
            ManifestObject::DaemonSet(o) => o.spec.as_mut().map(|s| &mut s.template),
            _ => None,
        }
    }

    /// `spec.replicas` of a Deployment or StatefulSet (unset means 1);
    /// `None` for other kinds, DaemonSets included. For replica policies
    /// and for pausing (scale to zero, remember the count).
    pub fn replicas_mut(&mut self) -> Option<&mut Option<i32>> {
        match self {
            ManifestObject::Deployment(o) => o.spec.as_mut().map(|s| &mut s.replicas),
            ManifestObject::StatefulSet(o) => o.spec.as_mut().map(|s| &mut s.replicas),
            _ => None,
        }
    }

    /// See [`ObjectKind::apply_rank`].
    pub fn apply_rank(&self) -> u8 {
        self.kind().apply_rank()
    }

    pub fn is_workload(&self) -> bool {
        self.kind().workload().is_some()
    }

    /// The JSON form, with `apiVersion` and `kind`, as stored by the server
    /// and sent through the tunnel.
    pub fn to_value(&self) -> Value {
        each!(self, o => serde_json::to_value(o))
            .expect("k8s-openapi types always serialize to JSON")
    }

    /// Parses JSON with `apiVersion` and `kind` into the matching kind.
    pub fn from_value(value: Value) -> Result<Self, ObjectError> {
        let (Some(api_version), Some(kind)) = (
            value.get("apiVersion").and_then(Value::as_str),
            value.get("kind").and_then(Value::as_str),
        ) else {
            return Err(ObjectError::MissingKind);
        };
        let Some(object_kind) = ObjectKind::ALL
            .into_iter()
            .find(|k| k.info().kind == kind && k.info().api_version == api_version)
        else {
            return Err(ObjectError::Unsupported {
                api_version: api_version.to_string(),
                kind: kind.to_string(),
            });
        };
        fn parse<K: serde::de::DeserializeOwned>(
            value: Value,
            kind: ObjectKind,
            wrap: fn(K) -> ManifestObject,
        ) -> Result<ManifestObject, ObjectError> {
            serde_json::from_value(value)
                .map(wrap)
                .map_err(|source| ObjectError::Invalid { kind, source })
        }
        match object_kind {
            ObjectKind::Namespace => parse(value, object_kind, ManifestObject::Namespace),
            ObjectKind::ServiceAccount => parse(value, object_kind, ManifestObject::ServiceAccount),
            ObjectKind::ConfigMap => parse(value, object_kind, ManifestObject::ConfigMap),
            ObjectKind::Secret => parse(value, object_kind, ManifestObject::Secret),
            ObjectKind::PersistentVolumeClaim => {
                parse(value, object_kind, ManifestObject::PersistentVolumeClaim)
            }
            ObjectKind::Service => parse(value, object_kind, ManifestObject::Service),
            ObjectKind::Deployment => parse(value, object_kind, ManifestObject::Deployment),
            ObjectKind::StatefulSet => parse(value, object_kind, ManifestObject::StatefulSet),
            ObjectKind::DaemonSet => parse(value, object_kind, ManifestObject::DaemonSet),
        }
    }
}

impl Serialize for ManifestObject {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        each!(self, o => o.serialize(serializer))
    }
}

impl<'de> Deserialize<'de> for ManifestObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        ManifestObject::from_value(value).map_err(serde::de::Error::custom)
    }
}

/// Sorts objects in apply order (see [`ObjectKind::apply_rank`]); ties by
/// namespace and name, so the result does not depend on the input order.
pub fn sort_for_apply(objects: &mut [ManifestObject]) {
    objects.sort_by_cached_key(ManifestObject::object_ref);
}

macro_rules! from_kind {
    ($($variant:ident),*) => {$(
        impl From<$variant> for ManifestObject {
            fn from(o: $variant) -> Self {
                ManifestObject::$variant(o)
            }
        }
    )*};
}
from_kind!(
    Namespace,
    ServiceAccount,
    ConfigMap,
    Secret,
    PersistentVolumeClaim,
    Service,
    Deployment,
    StatefulSet,
    DaemonSet
);
