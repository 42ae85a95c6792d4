//! Golden tests of the App Catalog messages: discovery, snapshot and
//! refresh requests and their answers, with every optional part present and
//! absent.

use expect_test::expect;
use lapdev_tunnel_proto::*;
use serde_json::json;

use crate::{response, server};

fn req(request: Request) -> ServerFrame {
    ServerFrame::Request {
        id: RequestId(7),
        request,
    }
}

fn workload(kind: WorkloadKind, name: &str) -> WorkloadRef {
    WorkloadRef {
        namespace: "shop".into(),
        kind,
        name: name.into(),
    }
}

fn object_ref(kind: ObjectKind, name: &str) -> ObjectRef {
    ObjectRef {
        kind,
        namespace: Some("shop".into()),
        name: name.into(),
    }
}

fn policy() -> SecretPolicy {
    SecretPolicy {
        default: SecretAction::Copy,
        rules: vec![
            SecretRule {
                namespace: None,
                secret: "db".into(),
                key: None,
                action: SecretAction::Redact,
            },
            SecretRule {
                namespace: Some("shop".into()),
                secret: "stripe".into(),
                key: Some("live-key".into()),
                action: SecretAction::Exclude,
            },
        ],
    }
}

fn snapshot() -> CatalogSnapshot {
    CatalogSnapshot {
        objects: vec![
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop",
                "annotations": {"lapdev.io/redacted-keys": "password"}}, "type": "Opaque"}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "shop"}}),
        ],
        dependencies: vec![WorkloadDependencies {
            workload: object_ref(ObjectKind::Deployment, "api"),
            depends_on: vec![object_ref(ObjectKind::Secret, "db")],
        }],
        issues: vec![
            ResolutionIssue {
                severity: Severity::Warning,
                workload: object_ref(ObjectKind::Deployment, "api"),
                field: "spec.template.spec.containers[api].envFrom[0].configMapRef".into(),
                missing: object_ref(ObjectKind::ConfigMap, "flags"),
                key: None,
            },
            ResolutionIssue {
                severity: Severity::Note,
                workload: object_ref(ObjectKind::Deployment, "api"),
                field: "spec.template.spec.containers[api].env[TZ].valueFrom.configMapKeyRef"
                    .into(),
                missing: object_ref(ObjectKind::ConfigMap, "settings"),
                key: Some("tz".into()),
            },
        ],
        excluded_secrets: vec![object_ref(ObjectKind::Secret, "stripe")],
        required_values: vec![SecretKey {
            secret: "db".into(),
            key: "password".into(),
        }],
    }
}

#[test]
fn list_workloads() {
    server(
        req(Request::ListWorkloads(ListWorkloads::default())),
        expect![[
            r#"{"type":"request","id":7,"request":{"kind":"list_workloads","include_system":false}}"#
        ]],
    );
    server(
        req(Request::ListWorkloads(ListWorkloads {
            namespace: Some("shop".into()),
            kinds: vec![WorkloadKind::Deployment, WorkloadKind::StatefulSet],
            name_contains: Some("api".into()),
            include_system: true,
        })),
        expect![[
            r#"{"type":"request","id":7,"request":{"kind":"list_workloads","namespace":"shop","kinds":["Deployment","StatefulSet"],"name_contains":"api","include_system":true}}"#
        ]],
    );
    response(
        Ok(Response::Workloads(WorkloadList {
            workloads: vec![
                WorkloadSummary {
                    namespace: "shop".into(),
                    kind: WorkloadKind::Deployment,
                    name: "api".into(),
                    images: vec!["ghcr.io/acme/api:1.4.2".into(), "envoy:v1.30".into()],
                    replicas: 3,
                    ready_replicas: 2,
                    available_replicas: 2,
                    ready: false,
                },
                WorkloadSummary {
                    namespace: "shop".into(),
                    kind: WorkloadKind::DaemonSet,
                    name: "log-agent".into(),
                    images: vec!["fluent-bit:3".into()],
                    replicas: 2,
                    ready_replicas: 2,
                    available_replicas: 2,
                    ready: true,
                },
            ],
            truncated: false,
        })),
        expect![[
            r#"{"type":"response","id":7,"result":{"ok":{"kind":"workloads","workloads":[{"namespace":"shop","kind":"Deployment","name":"api","images":["ghcr.io/acme/api:1.4.2","envoy:v1.30"],"replicas":3,"ready_replicas":2,"available_replicas":2,"ready":false},{"namespace":"shop","kind":"DaemonSet","name":"log-agent","images":["fluent-bit:3"],"replicas":2,"ready_replicas":2,"available_replicas":2,"ready":true}],"truncated":false}}}"#
        ]],
    );
}

#[test]
fn snapshot_catalog() {
    server(
        req(Request::SnapshotCatalog(SnapshotCatalog {
            workloads: vec![
                workload(WorkloadKind::Deployment, "api"),
                workload(WorkloadKind::StatefulSet, "postgres"),
            ],
            secret_policy: policy(),
        })),
        expect![[
            r#"{"type":"request","id":7,"request":{"kind":"snapshot_catalog","workloads":[{"namespace":"shop","kind":"Deployment","name":"api"},{"namespace":"shop","kind":"StatefulSet","name":"postgres"}],"secret_policy":{"default":"copy","rules":[{"secret":"db","action":"redact"},{"namespace":"shop","secret":"stripe","key":"live-key","action":"exclude"}]}}}"#
        ]],
    );
    // The policy may be left out: copy everything.
    let text = r#"{"type":"request","id":7,"request":{"kind":"snapshot_catalog","workloads":[{"namespace":"shop","kind":"DaemonSet","name":"agent"}]}}"#;
    assert_eq!(
        decode_server_frame(text).unwrap(),
        req(Request::SnapshotCatalog(SnapshotCatalog {
            workloads: vec![workload(WorkloadKind::DaemonSet, "agent")],
            secret_policy: SecretPolicy::default(),
        }))
    );
    response(
        Ok(Response::CatalogSnapshot(snapshot())),
        expect![[
            r#"{"type":"response","id":7,"result":{"ok":{"kind":"catalog_snapshot","objects":[{"apiVersion":"v1","kind":"Secret","metadata":{"annotations":{"lapdev.io/redacted-keys":"password"},"name":"db","namespace":"shop"},"type":"Opaque"},{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api","namespace":"shop"}}],"dependencies":[{"workload":{"kind":"Deployment","namespace":"shop","name":"api"},"depends_on":[{"kind":"Secret","namespace":"shop","name":"db"}]}],"issues":[{"severity":"warning","workload":{"kind":"Deployment","namespace":"shop","name":"api"},"field":"spec.template.spec.containers[api].envFrom[0].configMapRef","missing":{"kind":"ConfigMap","namespace":"shop","name":"flags"}},{"severity":"note","workload":{"kind":"Deployment","namespace":"shop","name":"api"},"field":"spec.template.spec.containers[api].env[TZ].valueFrom.configMapKeyRef","missing":{"kind":"ConfigMap","namespace":"shop","name":"settings"},"key":"tz"}],"excluded_secrets":[{"kind":"Secret","namespace":"shop","name":"stripe"}],"required_values":[{"secret":"db","key":"password"}]}}}"#
        ]],
    );
}

#[test]
fn refresh_catalog() {
    let refresh = RefreshCatalog {
        workloads: vec![workload(WorkloadKind::Deployment, "api")],
        secret_policy: SecretPolicy::default(),
        current: vec![json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "shop"}, "data": {"password": "aHVudGVyMg=="}})],
    };
    // Debug never prints manifests (Secret values).
    expect![[r#"RefreshCatalog { workloads: [WorkloadRef { namespace: "shop", kind: Deployment, name: "api" }], secret_policy: SecretPolicy { default: Copy, rules: [] }, current: ["Secret/shop/db"] }"#]].assert_eq(&format!("{refresh:?}"));
    server(
        req(Request::RefreshCatalog(refresh)),
        expect![[
            r#"{"type":"request","id":7,"request":{"kind":"refresh_catalog","workloads":[{"namespace":"shop","kind":"Deployment","name":"api"}],"secret_policy":{"default":"copy","rules":[]},"current":[{"apiVersion":"v1","data":{"password":"aHVudGVyMg=="},"kind":"Secret","metadata":{"name":"db","namespace":"shop"}}]}}"#
        ]],
    );
    response(
        Ok(Response::CatalogRefresh(CatalogRefresh {
            snapshot: snapshot(),
            diff: ManifestDiff {
                objects: vec![
                    ObjectDiff {
                        object: object_ref(ObjectKind::ConfigMap, "flags"),
                        change: ObjectChange::Removed,
                    },
                    ObjectDiff {
                        object: object_ref(ObjectKind::Secret, "db"),
                        change: ObjectChange::Changed {
                            fields: vec![FieldChange {
                                path: "/data/password".into(),
                                old: FieldValue::Absent,
                                new: FieldValue::Hidden,
                            }],
                        },
                    },
                    ObjectDiff {
                        object: object_ref(ObjectKind::Deployment, "api"),
                        change: ObjectChange::Changed {
                            fields: vec![FieldChange {
                                path: "/spec/replicas".into(),
                                old: FieldValue::Value(json!(2)),
                                new: FieldValue::Value(json!(3)),
                            }],
                        },
                    },
                    ObjectDiff {
                        object: object_ref(ObjectKind::Service, "api-admin"),
                        change: ObjectChange::Added,
                    },
                ],
            },
        })),
        expect![[
            r#"{"type":"response","id":7,"result":{"ok":{"kind":"catalog_refresh","snapshot":{"objects":[{"apiVersion":"v1","kind":"Secret","metadata":{"annotations":{"lapdev.io/redacted-keys":"password"},"name":"db","namespace":"shop"},"type":"Opaque"},{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api","namespace":"shop"}}],"dependencies":[{"workload":{"kind":"Deployment","namespace":"shop","name":"api"},"depends_on":[{"kind":"Secret","namespace":"shop","name":"db"}]}],"issues":[{"severity":"warning","workload":{"kind":"Deployment","namespace":"shop","name":"api"},"field":"spec.template.spec.containers[api].envFrom[0].configMapRef","missing":{"kind":"ConfigMap","namespace":"shop","name":"flags"}},{"severity":"note","workload":{"kind":"Deployment","namespace":"shop","name":"api"},"field":"spec.template.spec.containers[api].env[TZ].valueFrom.configMapKeyRef","missing":{"kind":"ConfigMap","namespace":"shop","name":"settings"},"key":"tz"}],"excluded_secrets":[{"kind":"Secret","namespace":"shop","name":"stripe"}],"required_values":[{"secret":"db","key":"password"}]},"diff":{"objects":[{"object":{"kind":"ConfigMap","namespace":"shop","name":"flags"},"change":{"type":"removed"}},{"object":{"kind":"Secret","namespace":"shop","name":"db"},"change":{"type":"changed","fields":[{"path":"/data/password","old":{"state":"absent"},"new":{"state":"hidden"}}]}},{"object":{"kind":"Deployment","namespace":"shop","name":"api"},"change":{"type":"changed","fields":[{"path":"/spec/replicas","old":{"state":"value","value":2},"new":{"state":"value","value":3}}]}},{"object":{"kind":"Service","namespace":"shop","name":"api-admin"},"change":{"type":"added"}}]}}}}"#
        ]],
    );
    expect![[r#"CatalogSnapshot { objects: ["Secret/shop/db", "Deployment/shop/api"], dependencies: [WorkloadDependencies { workload: ObjectRef { kind: Deployment, namespace: Some("shop"), name: "api" }, depends_on: [ObjectRef { kind: Secret, namespace: Some("shop"), name: "db" }] }], issues: [ResolutionIssue { severity: Warning, workload: ObjectRef { kind: Deployment, namespace: Some("shop"), name: "api" }, field: "spec.template.spec.containers[api].envFrom[0].configMapRef", missing: ObjectRef { kind: ConfigMap, namespace: Some("shop"), name: "flags" }, key: None }, ResolutionIssue { severity: Note, workload: ObjectRef { kind: Deployment, namespace: Some("shop"), name: "api" }, field: "spec.template.spec.containers[api].env[TZ].valueFrom.configMapKeyRef", missing: ObjectRef { kind: ConfigMap, namespace: Some("shop"), name: "settings" }, key: Some("tz") }], excluded_secrets: [ObjectRef { kind: Secret, namespace: Some("shop"), name: "stripe" }], required_values: [SecretKey { secret: "db", key: "password" }] }"#]].assert_eq(&format!("{:?}", snapshot()));
}

#[test]
fn system_namespaces() {
    let hidden: Vec<&str> = [
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "lapdev",
        "lapdev-alice-shop",
        "default",
        "shop",
        "lapdevx",
    ]
    .into_iter()
    .filter(|ns| is_system_namespace(ns))
    .collect();
    expect![[r#"
        [
            "kube-system",
            "kube-public",
            "kube-node-lease",
            "lapdev",
            "lapdev-alice-shop",
        ]
    "#]]
    .assert_debug_eq(&hidden);
}
