//! App Catalog snapshots ([`Request::SnapshotCatalog`]) and refreshes
//! ([`Request::RefreshCatalog`]): read the selected workloads and only what
//! they reference from the source cluster, then let
//! [`lapdev_manifest::build_catalog`] resolve, clean and apply the Secret
//! policy — here, inside the cluster, so excluded and redacted values never
//! cross the tunnel.
//!
//! What is read (all through [`SourceReader`], so GET and LIST only):
//! 1. each workload (missing → [`ErrorCode::NotFound`] naming it; the whole
//!    request fails, nothing partial is returned);
//! 2. each ConfigMap, Secret, ServiceAccount and PersistentVolumeClaim a
//!    workload references (missing ones become issues in the snapshot);
//! 3. the Secrets the found ServiceAccounts name as `imagePullSecrets`;
//! 4. the Services of the workloads' namespaces (a Service matches by
//!    selector, so they must all be looked at) — and nothing else.
//!
//! [`Request::SnapshotCatalog`]: lapdev_tunnel_proto::Request::SnapshotCatalog
//! [`Request::RefreshCatalog`]: lapdev_tunnel_proto::Request::RefreshCatalog
//! [`ErrorCode::NotFound`]: lapdev_tunnel_proto::ErrorCode::NotFound

use std::collections::BTreeSet;

use futures::{StreamExt, TryStreamExt};
use lapdev_manifest::{ManifestObject, ObjectKind, ObjectRef, build_catalog, workload_references};
use lapdev_tunnel_proto::{
    CatalogRefresh, CatalogSnapshot, RefreshCatalog, SecretPolicy, SnapshotCatalog, TunnelError,
    WorkloadRef,
};

use crate::source::{SourceReader, is_namespace_name, is_object_name};
use crate::wire;

/// How many GETs one request runs at once.
const CONCURRENT_GETS: usize = 16;

/// The kinds fetched by reference (Services are listed per namespace).
const FETCHED_BY_REFERENCE: &[ObjectKind] = &[
    ObjectKind::ConfigMap,
    ObjectKind::Secret,
    ObjectKind::ServiceAccount,
    ObjectKind::PersistentVolumeClaim,
];

/// Answers [`SnapshotCatalog`].
pub async fn snapshot(
    reader: &SourceReader,
    request: &SnapshotCatalog,
) -> Result<CatalogSnapshot, TunnelError> {
    let snapshot = build(reader, &request.workloads, &request.secret_policy).await?;
    Ok(wire::snapshot(&snapshot))
}

/// Answers [`RefreshCatalog`]: a fresh snapshot and the diff from `current`.
pub async fn refresh(
    reader: &SourceReader,
    request: &RefreshCatalog,
) -> Result<CatalogRefresh, TunnelError> {
    let current = request
        .current
        .iter()
        .enumerate()
        .map(|(i, value)| {
            ManifestObject::from_value(value.clone()).map_err(|e| {
                TunnelError::invalid(format!(
                    "current object {i} is not a manifest Lapdev stores: {e}"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let snapshot = build(reader, &request.workloads, &request.secret_policy).await?;
    let diff = lapdev_manifest::diff(&current, &snapshot.objects);
    Ok(CatalogRefresh {
        snapshot: wire::snapshot(&snapshot),
        diff,
    })
}

/// Reads what `workloads` need and builds the snapshot.
pub async fn build(
    reader: &SourceReader,
    workloads: &[WorkloadRef],
    policy: &SecretPolicy,
) -> Result<lapdev_manifest::CatalogSnapshot, TunnelError> {
    if workloads.is_empty() {
        return Err(TunnelError::invalid(
            "a catalog needs at least one workload",
        ));
    }
    if let Some(bad) = workloads
        .iter()
        .find(|w| !is_namespace_name(&w.namespace) || !is_object_name(&w.name))
    {
        return Err(TunnelError::invalid(format!(
            "{bad} is not a valid workload name (namespace: an RFC 1123 label; name: an RFC 1123 subdomain)"
        )));
    }
    let selected: BTreeSet<WorkloadRef> = workloads.iter().cloned().collect();
    let workloads: Vec<ManifestObject> = futures::stream::iter(selected)
        .map(|w| get_workload(reader.clone(), w))
        .buffered(CONCURRENT_GETS)
        .try_collect()
        .await?;

    let wanted: BTreeSet<ObjectRef> = workloads
        .iter()
        .flat_map(workload_references)
        .map(|r| r.target)
        .filter(|t| FETCHED_BY_REFERENCE.contains(&t.kind))
        .collect();
    let mut available = fetch(reader, &wanted).await?;

    // A ServiceAccount's imagePullSecrets apply to its pods too.
    let pull_secrets: BTreeSet<ObjectRef> = available
        .iter()
        .filter_map(|o| match o {
            ManifestObject::ServiceAccount(sa) => Some(sa),
            _ => None,
        })
        .flat_map(|sa| {
            let ns = sa.metadata.namespace.clone();
            sa.image_pull_secrets
                .iter()
                .flatten()
                .map(move |s| ObjectRef::new(ObjectKind::Secret, ns.as_deref(), &s.name))
        })
        .filter(|r| !wanted.contains(r))
        .collect();
    available.extend(fetch(reader, &pull_secrets).await?);

    let namespaces: BTreeSet<&str> = workloads.iter().filter_map(|w| w.namespace()).collect();
    for ns in namespaces {
        available.extend(reader.list(ObjectKind::Service, ns).await?);
    }
    Ok(build_catalog(&workloads, &available, policy))
}

/// GETs every ref; the ones that exist.
async fn fetch(
    reader: &SourceReader,
    refs: &BTreeSet<ObjectRef>,
) -> Result<Vec<ManifestObject>, TunnelError> {
    let refs: Vec<ObjectRef> = refs
        .iter()
        .filter(|r| !r.name.is_empty())
        .cloned()
        .collect();
    let found: Vec<Option<ManifestObject>> = futures::stream::iter(refs)
        .map(|r| get_ref(reader.clone(), r))
        .buffered(CONCURRENT_GETS)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

async fn get_workload(reader: SourceReader, w: WorkloadRef) -> Result<ManifestObject, TunnelError> {
    reader
        .get(w.kind.into(), &w.namespace, &w.name)
        .await?
        .ok_or_else(|| {
            TunnelError::not_found(format!(
                "workload {w} does not exist in the source cluster (deleted since it was listed?)"
            ))
        })
}

async fn get_ref(
    reader: SourceReader,
    r: ObjectRef,
) -> Result<Option<ManifestObject>, TunnelError> {
    let ns = r.namespace.as_deref().unwrap_or_default();
    reader.get(r.kind, ns, &r.name).await
}
