//! The resource registry: one table row per served resource (group, version,
//! kind, plural, scope, short names, subresources). Everything else in the
//! crate is generic over a [`ResourceId`] into this table.

/// Verbs served for every resource in the registry.
pub(crate) const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// One served resource.
#[derive(Debug)]
pub(crate) struct ResourceDef {
    pub(crate) group: &'static str,
    pub(crate) version: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) plural: &'static str,
    pub(crate) singular: &'static str,
    pub(crate) namespaced: bool,
    pub(crate) short_names: &'static [&'static str],
    /// Whether the resource has a `status` subresource.
    pub(crate) status: bool,
    /// Whether the resource has a `scale` subresource (autoscaling/v1 Scale over `spec.replicas`).
    pub(crate) scale: bool,
    /// Discovery categories (`all` is what `kubectl get all` lists).
    pub(crate) categories: &'static [&'static str],
}

impl ResourceDef {
    /// `v1` or `apps/v1`.
    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `configmaps` or `deployments.apps`, as Kubernetes names a resource in messages.
    pub(crate) fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

/// An index into the registry table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ResourceId(pub(crate) u16);

impl ResourceId {
    pub(crate) fn def(self) -> &'static ResourceDef {
        &REGISTRY[self.0 as usize]
    }
}

macro_rules! res {
    ($g:expr, $v:expr, $k:expr, $p:expr, $s:expr, $ns:expr, [$($sn:expr),*], $st:expr, $sc:expr, [$($cat:expr),*]) => {
        ResourceDef { group: $g, version: $v, kind: $k, plural: $p, singular: $s, namespaced: $ns, short_names: &[$($sn),*], status: $st, scale: $sc, categories: &[$($cat),*] }
    };
}

static REGISTRY: &[ResourceDef] = &[
    res!(
        "",
        "v1",
        "Namespace",
        "namespaces",
        "namespace",
        false,
        ["ns"],
        true,
        false,
        []
    ),
    res!(
        "",
        "v1",
        "Node",
        "nodes",
        "node",
        false,
        ["no"],
        true,
        false,
        []
    ),
    res!(
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        "configmap",
        true,
        ["cm"],
        false,
        false,
        []
    ),
    res!(
        "",
        "v1",
        "Secret",
        "secrets",
        "secret",
        true,
        [],
        false,
        false,
        []
    ),
    res!(
        "",
        "v1",
        "Service",
        "services",
        "service",
        true,
        ["svc"],
        true,
        false,
        ["all"]
    ),
    res!(
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        "serviceaccount",
        true,
        ["sa"],
        false,
        false,
        []
    ),
    res!(
        "",
        "v1",
        "Pod",
        "pods",
        "pod",
        true,
        ["po"],
        true,
        false,
        ["all"]
    ),
    res!(
        "",
        "v1",
        "Event",
        "events",
        "event",
        true,
        ["ev"],
        false,
        false,
        []
    ),
    res!(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        true,
        ["pvc"],
        true,
        false,
        []
    ),
    res!(
        "",
        "v1",
        "Endpoints",
        "endpoints",
        "endpoints",
        true,
        ["ep"],
        false,
        false,
        []
    ),
    res!(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        "deployment",
        true,
        ["deploy"],
        true,
        true,
        ["all"]
    ),
    res!(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        "statefulset",
        true,
        ["sts"],
        true,
        true,
        ["all"]
    ),
    res!(
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        "daemonset",
        true,
        ["ds"],
        true,
        false,
        ["all"]
    ),
    res!(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        "replicaset",
        true,
        ["rs"],
        true,
        true,
        ["all"]
    ),
    res!(
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        "roles",
        "role",
        true,
        [],
        false,
        false,
        []
    ),
    res!(
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        "rolebinding",
        true,
        [],
        false,
        false,
        []
    ),
    res!(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        "clusterrole",
        false,
        [],
        false,
        false,
        []
    ),
    res!(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        "clusterrolebinding",
        false,
        [],
        false,
        false,
        []
    ),
    // Stored and served so install manifests apply; policies are not evaluated
    // (no CEL here; see the README's differences).
    res!(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        "validatingadmissionpolicy",
        false,
        [],
        true,
        false,
        []
    ),
    res!(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        "validatingadmissionpolicybinding",
        false,
        [],
        false,
        false,
        []
    ),
    res!(
        "coordination.k8s.io",
        "v1",
        "Lease",
        "leases",
        "lease",
        true,
        [],
        false,
        false,
        []
    ),
    res!(
        "events.k8s.io",
        "v1",
        "Event",
        "events",
        "event",
        true,
        ["ev"],
        false,
        false,
        []
    ),
];

/// All served resources with their ids.
pub(crate) fn all() -> impl Iterator<Item = (ResourceId, &'static ResourceDef)> {
    REGISTRY
        .iter()
        .enumerate()
        .map(|(i, d)| (ResourceId(i as u16), d))
}

/// Finds a resource by the URL triple.
pub(crate) fn find(group: &str, version: &str, plural: &str) -> Option<ResourceId> {
    all()
        .find(|(_, d)| d.group == group && d.version == version && d.plural == plural)
        .map(|(id, _)| id)
}

/// Finds a resource by `apiVersion` and `kind` as written in a manifest.
pub(crate) fn by_kind(api_version: &str, kind: &str) -> Option<ResourceId> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    all()
        .find(|(_, d)| d.group == group && d.version == version && d.kind == kind)
        .map(|(id, _)| id)
}

/// Finds a resource by kind alone (case-insensitive), for the failure-injection API.
pub(crate) fn by_kind_name(kind: &str) -> Option<ResourceId> {
    all()
        .find(|(_, d)| {
            d.kind.eq_ignore_ascii_case(kind)
                || d.plural.eq_ignore_ascii_case(kind)
                || d.singular.eq_ignore_ascii_case(kind)
        })
        .map(|(id, _)| id)
}

/// The API groups served, in discovery order (the core group excluded).
pub(crate) fn groups() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (_, d) in all() {
        if !d.group.is_empty() && !out.contains(&d.group) {
            out.push(d.group);
        }
    }
    out
}

macro_rules! id_consts {
    ($($name:ident = $plural:expr),*) => {
        $(pub(crate) fn $name() -> ResourceId { find_plural($plural) })*
    };
}

fn find_plural(plural: &str) -> ResourceId {
    all()
        .find(|(_, d)| d.plural == plural)
        .map(|(id, _)| id)
        .expect("registry holds every resource named in id_consts")
}

id_consts!(
    namespaces = "namespaces",
    nodes = "nodes",
    services = "services",
    pods = "pods",
    deployments = "deployments",
    statefulsets = "statefulsets",
    daemonsets = "daemonsets",
    replicasets = "replicasets",
    pvcs = "persistentvolumeclaims"
);
