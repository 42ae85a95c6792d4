//! The few conversions between `lapdev-manifest` and the tunnel protocol.
//! Pure data (kinds, object refs, issues, diffs, the Secret and replicas
//! policies, identities) is the protocol's type on both sides; what is left
//! is a snapshot's Kubernetes objects becoming JSON and an apply request
//! becoming the transform's spec (a checked target namespace, Secret values
//! as bytes). The tests below check that the JSON shapes agree.

use lapdev_tunnel_proto as proto;

/// The snapshot as it crosses the tunnel: its objects as JSON.
pub fn snapshot(snapshot: &lapdev_manifest::CatalogSnapshot) -> proto::CatalogSnapshot {
    proto::CatalogSnapshot {
        objects: snapshot.objects.iter().map(|o| o.to_value()).collect(),
        dependencies: snapshot.dependencies.clone(),
        issues: snapshot.issues.clone(),
        excluded_secrets: snapshot.excluded_secrets.clone(),
        required_values: snapshot.required_values.clone(),
    }
}

/// The manifest crate's [`EnvironmentSpec`](lapdev_manifest::EnvironmentSpec)
/// of an apply request. `paused` becomes the replicas policy `AtMost(0)`.
/// A namespace the transform refuses is `forbidden`; the caller has
/// already checked it is a [`ManagedNamespace`](proto::ManagedNamespace).
pub fn environment_spec(
    request: &proto::ApplyEnvironment,
) -> Result<lapdev_manifest::EnvironmentSpec, proto::TunnelError> {
    let replicas = if request.paused {
        proto::ReplicasPolicy::AtMost(0)
    } else {
        request.replicas
    };
    let spec = serde_json::json!({
        "namespace": request.namespace,
        "environment": request.environment,
        "catalog": request.catalog,
        "kind": request.environment_kind,
        "replicas": replicas,
        "secret_values": request.secret_values,
    });
    serde_json::from_value(spec)
        .map_err(|e| proto::TunnelError::invalid(format!("invalid apply_environment request: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapdev_manifest::{
        FieldChange, FieldValue, ManifestDiff, ObjectChange, ObjectDiff, ObjectKind, ObjectRef,
        ResolutionIssue, SecretKey, Severity, WorkloadDependencies,
    };
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use serde_json::json;

    /// `a` as JSON, read as `B`, written again: the same JSON.
    #[track_caller]
    fn same_shape<A: Serialize, B: Serialize + DeserializeOwned>(a: &A) {
        let json = serde_json::to_value(a).unwrap();
        let b: B = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&b).unwrap(), json);
    }

    fn refs() -> Vec<ObjectRef> {
        ObjectKind::ALL
            .iter()
            .map(|&k| match k {
                ObjectKind::Namespace => ObjectRef::new(k, None, "shop"),
                _ => ObjectRef::new(k, Some("shop"), "x"),
            })
            .collect()
    }

    #[test]
    fn every_kind_and_ref_agrees() {
        same_shape::<_, Vec<proto::ObjectRef>>(&refs());
        for kind in proto::WorkloadKind::ALL {
            let manifest = ObjectKind::from(kind);
            assert_eq!(manifest.as_str(), kind.as_str());
            same_shape::<_, lapdev_manifest::WorkloadKind>(&kind);
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::to_value(manifest).unwrap()
            );
        }
    }

    #[test]
    fn snapshot_parts_agree() {
        let [deployment, secret] = [ObjectKind::Deployment, ObjectKind::Secret]
            .map(|k| ObjectRef::new(k, Some("shop"), "x"));
        same_shape::<_, Vec<proto::WorkloadDependencies>>(&vec![WorkloadDependencies {
            workload: deployment.clone(),
            depends_on: refs(),
        }]);
        let issues: Vec<ResolutionIssue> = [
            (Severity::Warning, None),
            (Severity::Note, Some("k".to_string())),
        ]
        .into_iter()
        .map(|(severity, key)| ResolutionIssue {
            severity,
            workload: deployment.clone(),
            field: "spec.template.spec.volumes[cfg].configMap".into(),
            missing: secret.clone(),
            key,
        })
        .collect();
        same_shape::<_, Vec<proto::ResolutionIssue>>(&issues);
        same_shape::<_, Vec<proto::SecretKey>>(&vec![SecretKey {
            secret: "db".into(),
            key: "password".into(),
        }]);
        let empty = lapdev_manifest::CatalogSnapshot {
            objects: Vec::new(),
            dependencies: Vec::new(),
            issues,
            excluded_secrets: refs(),
            required_values: Vec::new(),
        };
        let converted = snapshot(&empty);
        assert_eq!(converted.issues.len(), 2);
        assert_eq!(converted.excluded_secrets.len(), ObjectKind::ALL.len());
    }

    #[test]
    fn environment_specs_agree() {
        use lapdev_manifest::{EnvironmentKind, ReplicasPolicy};
        let mut request = proto::ApplyEnvironment {
            generation: 1,
            namespace: "lapdev-alice".into(),
            environment: proto::Identity {
                id: "env-1".into(),
                name: "Alice".into(),
            },
            catalog: proto::Identity {
                id: "cat-1".into(),
                name: "Shop".into(),
            },
            environment_kind: proto::EnvironmentKind::Shared,
            replicas: proto::ReplicasPolicy::AtMost(2),
            paused: false,
            objects: Vec::new(),
            secret_values: proto::SecretValues(
                [(
                    "db".to_string(),
                    [("pw".to_string(), "aHVudGVy".to_string())].into(),
                )]
                .into(),
            ),
        };
        let spec = environment_spec(&request).unwrap();
        assert_eq!(spec.namespace.as_str(), "lapdev-alice");
        assert_eq!(spec.environment.id, "env-1");
        assert_eq!(spec.catalog.name, "Shop");
        assert_eq!(spec.kind, EnvironmentKind::Shared);
        assert_eq!(spec.replicas, ReplicasPolicy::AtMost(2));
        assert_eq!(spec.secret_values.get("db", "pw").unwrap().0, b"hunter");
        request.replicas = proto::ReplicasPolicy::Keep;
        request.environment_kind = proto::EnvironmentKind::Personal;
        assert_eq!(
            environment_spec(&request).unwrap().replicas,
            ReplicasPolicy::Keep
        );
        assert_eq!(
            environment_spec(&request).unwrap().kind,
            EnvironmentKind::Personal
        );
        request.paused = true;
        assert_eq!(
            environment_spec(&request).unwrap().replicas,
            ReplicasPolicy::AtMost(0)
        );
    }

    #[test]
    fn diffs_agree() {
        let changed = |old, new| ObjectChange::Changed {
            fields: vec![FieldChange {
                path: "/spec/replicas".into(),
                old,
                new,
            }],
        };
        let at = |change| ObjectDiff {
            object: ObjectRef::new(ObjectKind::Deployment, Some("shop"), "api"),
            change,
        };
        let manifest = ManifestDiff {
            objects: vec![
                at(ObjectChange::Added),
                at(ObjectChange::Removed),
                at(changed(FieldValue::Absent, FieldValue::Hidden)),
                at(changed(
                    FieldValue::Value(json!(2)),
                    FieldValue::Value(json!({"a": [1]})),
                )),
            ],
        };
        same_shape::<_, proto::ManifestDiff>(&manifest);
    }
}
