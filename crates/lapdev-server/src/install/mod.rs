//! The kube-manager install manifest (`kubectl apply -f` it): namespace
//! `lapdev`, ServiceAccount, RBAC, admission policy, token Secret and
//! Deployment, rendered from a compile-time template ([`template`]).
//!
//! # How the security model is enforced
//!
//! * **Read access to production.** `lapdev-kube-manager-read` grants
//!   `get`/`list`/`watch` on Deployments, StatefulSets, DaemonSets,
//!   ReplicaSets, ConfigMaps, Secrets and Services — cluster-wide, or, with
//!   `?namespaces=a,b`, as a Role in each listed source namespace only.
//!   Nodes (`get`/`list`, for the node count and capacity) and Namespaces
//!   (`get`/`list`/`watch`) stay cluster-scoped in both variants: they *are*
//!   cluster-scoped resources, which a namespaced Role cannot grant.
//! * **Full access only in Lapdev-managed namespaces.** RBAC can neither
//!   restrict `create namespaces` by name nor scope rights by a namespace
//!   label. So `lapdev-environment` (full rights on namespaced resources, no
//!   `escalate`/`bind`/`impersonate`, no RBAC objects) is bound by **no**
//!   ClusterRoleBinding: kube-manager binds it with a RoleBinding in each
//!   namespace it creates. For that it holds `create namespaces`,
//!   `create`/`delete rolebindings` and `bind` on that one ClusterRole
//!   (`resourceNames`), and `delete namespaces`.
//! * **What RBAC alone cannot prevent**: with those verbs a compromised
//!   kube-manager could bind `lapdev-environment` in *any* namespace, create
//!   any namespace, or delete any namespace. The ValidatingAdmissionPolicy
//!   (GA since Kubernetes 1.30) closes that: for requests by the
//!   kube-manager ServiceAccount it denies any write in a namespace not named
//!   `lapdev-*` with the managed label, any namespace create without both,
//!   any namespace update that adds or removes the label, any delete of an
//!   unmanaged namespace, and any RoleBinding other than
//!   `lapdev-environment` → kube-manager itself. kube-manager's own guard
//!   (`ManagedNamespace` in the tunnel protocol) refuses such requests
//!   before they reach the API server, so a bug or a malicious server
//!   request is stopped twice.
//! * The Secret holds the token; the Deployment runs as non-root with a
//!   read-only root filesystem, no privilege escalation, all capabilities
//!   dropped and the RuntimeDefault seccomp profile.

mod template;

use askama::Template;
use lapdev_tunnel_proto::{MANAGED_LABEL, MANAGED_LABEL_VALUE, ManagedNamespace};

/// Where the server serves the manifest (`?token=` authenticates).
pub(crate) const INSTALL_PATH: &str = "/install/kube-manager.yaml";
/// The kube-manager image; its tag is the server's version.
pub(crate) const IMAGE_REPOSITORY: &str = "ghcr.io/lapdev/lapdev-kube-manager";
/// How many source namespaces `?namespaces=` may list.
pub(crate) const MAX_SOURCE_NAMESPACES: usize = 100;
/// The user name of kube-manager's ServiceAccount in admission requests.
const SERVICE_ACCOUNT_USER: &str = "system:serviceaccount:lapdev:lapdev-kube-manager";

/// What a manifest is rendered from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InstallParams {
    pub(crate) cluster_name: String,
    /// `http(s)://host[:port][/path]` that kube-manager connects to.
    pub(crate) server_url: String,
    /// The token for the Secret, or a placeholder.
    pub(crate) token: String,
    /// Empty: read access cluster-wide.
    pub(crate) source_namespaces: Vec<String>,
}

/// `?namespaces=shop,billing` → the validated list (sorted, deduplicated).
pub(crate) fn parse_namespaces(raw: Option<&str>) -> Result<Vec<String>, String> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(vec![]);
    };
    let mut out: Vec<String> = vec![];
    for ns in raw.split(',').map(str::trim) {
        if ns.is_empty() || ns.len() > 63 {
            return Err(format!(
                "{ns:?} is not a namespace name (1 to 63 characters)"
            ));
        }
        let ok = ns
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !ns.starts_with('-')
            && !ns.ends_with('-');
        if !ok {
            return Err(format!(
                "{ns:?} is not a namespace name (lowercase letters, digits and '-')"
            ));
        }
        if ns.starts_with(ManagedNamespace::PREFIX) || ns == "lapdev" {
            return Err(format!(
                "{ns:?} is Lapdev's own namespace, not a source of production manifests"
            ));
        }
        out.push(ns.to_string());
    }
    out.sort();
    out.dedup();
    if out.len() > MAX_SOURCE_NAMESPACES {
        return Err(format!("at most {MAX_SOURCE_NAMESPACES} namespaces"));
    }
    Ok(out)
}

/// Renders the manifest. The values must already be safe in a YAML
/// double-quoted string (the callers pass validated names, a checked URL
/// and a base64url token or the placeholder); this is re-checked here.
pub(crate) fn render(params: &InstallParams) -> String {
    let safe = |s: &str| !s.contains(['"', '\\', '\n', '\r', '\'']);
    assert!(
        safe(&params.server_url) && safe(&params.token) && safe(&params.cluster_name),
        "unsafe values reached the manifest template"
    );
    let version = env!("CARGO_PKG_VERSION");
    let image = format!("{IMAGE_REPOSITORY}:{version}");
    template::KubeManagerManifest {
        cluster_name: &params.cluster_name,
        version,
        image: &image,
        server_url: &params.server_url,
        token: &params.token,
        source_namespaces: &params.source_namespaces,
        service_account_user: SERVICE_ACCOUNT_USER,
        ns_prefix: ManagedNamespace::PREFIX,
        managed_label: MANAGED_LABEL,
        managed_value: MANAGED_LABEL_VALUE,
    }
    .render()
    .expect("the manifest template renders")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_validated() {
        let check = |raw: Option<&str>| match parse_namespaces(raw) {
            Ok(v) => v.join(","),
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(check(None), "");
        assert_eq!(check(Some("")), "");
        assert_eq!(check(Some("shop, billing,shop")), "billing,shop");
        assert!(check(Some("Shop")).starts_with("error"));
        assert!(check(Some("a,,b")).starts_with("error"));
        assert!(check(Some("lapdev-x")).contains("Lapdev's own"));
        assert!(check(Some("-x")).starts_with("error"));
    }
}
