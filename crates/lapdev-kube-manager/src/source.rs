//! Read-only access to a source cluster: the only Kubernetes calls the App
//! Catalog requests make. [`SourceReader`] has exactly two operations, a GET
//! of one object and a paged LIST, over every kind `lapdev-manifest` knows
//! (one generic path through [`ObjectKind::info`] and kube's
//! [`DynamicObject`]; no per-kind code). Holding a `SourceReader` instead of
//! a `kube::Client` is what makes catalog building unable to write.
//!
//! A reader also holds its [`SourceScope`] (`LAPDEV_SOURCE_NAMESPACES`).
//! Restricted to listed namespaces, it LISTs each of them instead of the
//! whole cluster (RBAC granted by Roles in those namespaces would refuse a
//! cluster-wide LIST) and refuses any read elsewhere as `forbidden`, so
//! every catalog request is held to the scope in this one place.

use kube::api::{ApiResource, DynamicObject, ListParams, TypeMeta};
use kube::{Api, Client};
use lapdev_manifest::{KindInfoExt, ManifestObject, ObjectKind};
use lapdev_tunnel_proto::TunnelError;

use crate::dispatch::kube_error;

/// Objects per LIST page.
pub const PAGE_SIZE: u32 = 500;

/// The namespaces production manifests may be read from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SourceScope {
    /// Every namespace (the cluster-wide read ClusterRole).
    #[default]
    Cluster,
    /// Only these (sorted, deduplicated, at least one).
    Namespaces(Vec<String>),
}

impl SourceScope {
    /// `shop,billing` → those namespaces; empty or blank → [`SourceScope::Cluster`].
    pub fn parse(raw: &str) -> Result<SourceScope, String> {
        if raw.trim().is_empty() {
            return Ok(SourceScope::Cluster);
        }
        let mut namespaces = Vec::new();
        for ns in raw.split(',').map(str::trim) {
            if ns.is_empty() {
                return Err("an empty entry (write the namespaces separated by commas)".to_string());
            }
            if !is_namespace_name(ns) {
                return Err(format!(
                    "{ns:?} is not a namespace name (an RFC 1123 label)"
                ));
            }
            namespaces.push(ns.to_string());
        }
        namespaces.sort();
        namespaces.dedup();
        Ok(SourceScope::Namespaces(namespaces))
    }

    /// `Ok` when `namespace` may be read; else the `forbidden` answer.
    pub fn check(&self, namespace: &str) -> Result<(), TunnelError> {
        match self {
            SourceScope::Cluster => Ok(()),
            SourceScope::Namespaces(allowed) if allowed.iter().any(|a| a == namespace) => Ok(()),
            SourceScope::Namespaces(allowed) => Err(TunnelError::forbidden(format!(
                "namespace {namespace:?} is not a source namespace of this cluster; kube-manager may read only {} (LAPDEV_SOURCE_NAMESPACES)",
                allowed.join(", ")
            ))),
        }
    }
}

/// A Kubernetes client that can only read, and only within its scope.
#[derive(Clone)]
pub struct SourceReader {
    client: Client,
    scope: SourceScope,
}

impl SourceReader {
    /// A reader of every namespace.
    pub fn new(client: Client) -> Self {
        Self::scoped(client, SourceScope::Cluster)
    }

    /// A reader of the namespaces of `scope` only.
    pub fn scoped(client: Client, scope: SourceScope) -> Self {
        SourceReader { client, scope }
    }

    fn api(&self, kind: ObjectKind, namespace: Option<&str>) -> Api<DynamicObject> {
        let resource = api_resource(kind);
        match namespace {
            Some(ns) if kind.info().namespaced => {
                Api::namespaced_with(self.client.clone(), ns, &resource)
            }
            _ => Api::all_with(self.client.clone(), &resource),
        }
    }

    /// GETs one object; `None` when it does not exist.
    pub async fn get(
        &self,
        kind: ObjectKind,
        namespace: &str,
        name: &str,
    ) -> Result<Option<ManifestObject>, TunnelError> {
        // No object can have such a name; never put it into a URL path.
        if !is_namespace_name(namespace) || !is_object_name(name) {
            return Ok(None);
        }
        if kind.info().namespaced {
            self.scope.check(namespace)?;
        }
        let found = self
            .api(kind, Some(namespace))
            .get_opt(name)
            .await
            .map_err(kube_error)?;
        found.map(|o| to_manifest(kind, o)).transpose()
    }

    /// LISTs every object of `kind` (in `namespace`, or in every namespace
    /// of the scope), page by page, handing each page to `each`.
    pub async fn list_pages(
        &self,
        kind: ObjectKind,
        namespace: Option<&str>,
        mut each: impl FnMut(Vec<DynamicObject>),
    ) -> Result<(), TunnelError> {
        match (namespace, &self.scope) {
            (Some(ns), scope) => {
                if kind.info().namespaced {
                    scope.check(ns)?;
                }
                self.list_in(kind, Some(ns), &mut each).await
            }
            (None, SourceScope::Cluster) => self.list_in(kind, None, &mut each).await,
            (None, SourceScope::Namespaces(allowed)) => {
                for ns in allowed {
                    self.list_in(kind, Some(ns), &mut each).await?;
                }
                Ok(())
            }
        }
    }

    async fn list_in(
        &self,
        kind: ObjectKind,
        namespace: Option<&str>,
        each: &mut impl FnMut(Vec<DynamicObject>),
    ) -> Result<(), TunnelError> {
        let api = self.api(kind, namespace);
        let mut params = ListParams::default().limit(PAGE_SIZE);
        loop {
            let page = api.list(&params).await.map_err(kube_error)?;
            each(page.items);
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => return Ok(()),
            }
        }
    }

    /// Every object of `kind` in `namespace`, as manifests.
    pub async fn list(
        &self,
        kind: ObjectKind,
        namespace: &str,
    ) -> Result<Vec<ManifestObject>, TunnelError> {
        let mut items = Vec::new();
        self.list_pages(kind, Some(namespace), |page| items.extend(page))
            .await?;
        items.into_iter().map(|o| to_manifest(kind, o)).collect()
    }
}

/// A valid namespace name: an RFC 1123 label (lowercase alphanumerics and
/// `-`, at most 63 characters, alphanumeric at both ends).
pub fn is_namespace_name(name: &str) -> bool {
    name.len() <= 63 && is_dns_label(name)
}

/// A valid object name for the kinds Lapdev reads: an RFC 1123 subdomain
/// (dot-separated labels, at most 253 characters).
pub fn is_object_name(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(is_dns_label)
}

fn is_dns_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(|b| alnum(b) || *b == b'-')
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
}

/// The API coordinates of `kind` for kube's dynamic API.
pub fn api_resource(kind: ObjectKind) -> ApiResource {
    let info = kind.info();
    ApiResource {
        group: info.group.to_string(),
        version: info.version.to_string(),
        api_version: info.api_version.to_string(),
        kind: info.kind.to_string(),
        plural: info.plural.to_string(),
    }
}

/// A dynamic object as a typed manifest. List items may come without
/// `apiVersion`/`kind`, so both are set from `kind` first.
pub fn to_manifest(
    kind: ObjectKind,
    mut object: DynamicObject,
) -> Result<ManifestObject, TunnelError> {
    let info = kind.info();
    object.types = Some(TypeMeta {
        api_version: info.api_version.to_string(),
        kind: info.kind.to_string(),
    });
    let name = object.metadata.name.clone().unwrap_or_default();
    let value = serde_json::to_value(object)
        .map_err(|e| TunnelError::internal(format!("cannot serialize {kind} {name}: {e}")))?;
    ManifestObject::from_value(value).map_err(|e| {
        TunnelError::internal(format!(
            "the Kubernetes API returned a {kind} {name} that does not parse: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let long = format!("{0}.{0}.{0}.{1}", "a".repeat(63), "b".repeat(61));
        for ok in ["a", "shop", "a-1", "x.y.z", long.as_str()] {
            assert!(is_object_name(ok), "{ok}");
        }
        for bad in [
            "",
            "A",
            "-a",
            "a-",
            "a/b",
            "..",
            "../secrets",
            "a..b",
            "a b",
            &format!("{long}c"),
            &"a".repeat(64),
        ] {
            assert!(!is_object_name(bad), "{bad}");
        }
        assert!(is_namespace_name("kube-system"));
        for bad in ["a.b", "", "Shop", &"a".repeat(64)] {
            assert!(!is_namespace_name(bad), "{bad}");
        }
    }

    #[test]
    fn scopes() {
        let scope = SourceScope::parse("shop, billing").unwrap();
        assert!(scope.check("shop").is_ok());
        assert!(scope.check("billing").is_ok());
        let e = scope.check("edge").unwrap_err();
        assert_eq!(e.code, lapdev_tunnel_proto::ErrorCode::Forbidden);
        assert_eq!(
            e.message,
            "namespace \"edge\" is not a source namespace of this cluster; kube-manager may read only billing, shop (LAPDEV_SOURCE_NAMESPACES)"
        );
        assert!(SourceScope::Cluster.check("edge").is_ok());
        assert_eq!(SourceScope::parse(" ").unwrap(), SourceScope::Cluster);
        assert!(SourceScope::parse("a/b").is_err());
    }
}
