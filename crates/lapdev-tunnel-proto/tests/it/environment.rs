//! Golden tests of the environment messages: apply (with and without the
//! optional parts), its answer and errors, status on request and pushed.

use expect_test::expect;
use lapdev_tunnel_proto::*;
use serde_json::json;

use crate::{client, response, server};

fn req(request: Request) -> ServerFrame {
    ServerFrame::Request {
        id: RequestId(7),
        request,
    }
}

pub(crate) fn apply() -> ApplyEnvironment {
    ApplyEnvironment {
        generation: 3,
        namespace: "lapdev-alice-shop".into(),
        environment: Identity {
            id: "env-1".into(),
            name: "Alice's shop".into(),
        },
        catalog: Identity {
            id: "cat-1".into(),
            name: "Shop".into(),
        },
        environment_kind: EnvironmentKind::Personal,
        replicas: ReplicasPolicy::AtMost(1),
        paused: false,
        objects: vec![
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "shop"}}),
        ],
        secret_values: SecretValues::default(),
    }
}

fn status() -> EnvironmentStatus {
    EnvironmentStatus {
        namespace: "lapdev-alice-shop".into(),
        environment_id: Some("env-1".into()),
        observed_generation: Some(3),
        phase: EnvironmentPhase::Failed,
        workloads: vec![
            WorkloadStatus {
                kind: WorkloadKind::Deployment,
                name: "api".into(),
                desired: 1,
                ready: 0,
                available: 0,
                reason: Some("ImagePullBackOff".into()),
                message: Some("Back-off pulling image \"api:1\"".into()),
            },
            WorkloadStatus {
                kind: WorkloadKind::StatefulSet,
                name: "postgres".into(),
                desired: 1,
                ready: 1,
                available: 1,
                reason: None,
                message: None,
            },
        ],
    }
}

#[test]
fn apply_environment() {
    server(
        req(Request::ApplyEnvironment(apply())),
        expect![[
            r#"{"type":"request","id":7,"request":{"kind":"apply_environment","generation":3,"namespace":"lapdev-alice-shop","environment":{"id":"env-1","name":"Alice's shop"},"catalog":{"id":"cat-1","name":"Shop"},"environment_kind":"personal","replicas":{"at_most":1},"paused":false,"objects":[{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api","namespace":"shop"}}],"secret_values":{}}}"#
        ]],
    );
    let mut shared = apply();
    shared.environment_kind = EnvironmentKind::Shared;
    shared.replicas = ReplicasPolicy::Keep;
    shared.paused = true;
    shared.objects.clear();
    shared.secret_values.0.insert(
        "db".into(),
        [("password".to_string(), "aHVudGVyMg==".to_string())].into(),
    );
    server(
        req(Request::ApplyEnvironment(shared.clone())),
        expect![[
            r#"{"type":"request","id":7,"request":{"kind":"apply_environment","generation":3,"namespace":"lapdev-alice-shop","environment":{"id":"env-1","name":"Alice's shop"},"catalog":{"id":"cat-1","name":"Shop"},"environment_kind":"shared","replicas":"keep","paused":true,"objects":[],"secret_values":{"db":{"password":"aHVudGVyMg=="}}}}"#
        ]],
    );
    // Optional parts may be left out.
    let minimal = r#"{"type":"request","id":7,"request":{"kind":"apply_environment","generation":1,"namespace":"lapdev-x","environment":{"id":"e","name":"E"},"catalog":{"id":"c","name":"C"},"environment_kind":"personal","replicas":"keep","objects":[]}}"#;
    let ServerFrame::Request {
        request: Request::ApplyEnvironment(minimal),
        ..
    } = decode_server_frame(minimal).unwrap()
    else {
        panic!()
    };
    assert!(!minimal.paused && minimal.secret_values.0.is_empty());
    // Debug never prints a Secret value.
    let debug = format!("{shared:?}");
    assert!(
        debug.contains("db/password") && !debug.contains("aHVudGVyMg"),
        "{debug}"
    );
}

#[test]
fn environment_applied_and_errors() {
    response(
        Ok(Response::EnvironmentApplied(EnvironmentApplied {
            observed_generation: 3,
            applied: vec![
                ObjectRef {
                    kind: ObjectKind::Namespace,
                    namespace: None,
                    name: "lapdev-alice-shop".into(),
                },
                ObjectRef {
                    kind: ObjectKind::Deployment,
                    namespace: Some("lapdev-alice-shop".into()),
                    name: "api".into(),
                },
            ],
            pruned: vec![ObjectRef {
                kind: ObjectKind::ConfigMap,
                namespace: Some("lapdev-alice-shop".into()),
                name: "old".into(),
            }],
            warnings: vec!["env API_URL of Deployment api names namespace shop".into()],
        })),
        expect![[
            r#"{"type":"response","id":7,"result":{"ok":{"kind":"environment_applied","observed_generation":3,"applied":[{"kind":"Namespace","name":"lapdev-alice-shop"},{"kind":"Deployment","namespace":"lapdev-alice-shop","name":"api"}],"pruned":[{"kind":"ConfigMap","namespace":"lapdev-alice-shop","name":"old"}],"warnings":["env API_URL of Deployment api names namespace shop"]}}}"#
        ]],
    );
    response(
        Err(TunnelError::invalid(
            "the environment cannot start until 1 secret value(s) are given: db/password",
        )),
        expect![[
            r#"{"type":"response","id":7,"result":{"error":{"code":"invalid","message":"the environment cannot start until 1 secret value(s) are given: db/password"}}}"#
        ]],
    );
}

#[test]
fn environment_status() {
    server(
        req(Request::GetEnvironmentStatus(GetEnvironmentStatus {
            namespace: "lapdev-alice-shop".into(),
        })),
        expect![[
            r#"{"type":"request","id":7,"request":{"kind":"get_environment_status","namespace":"lapdev-alice-shop"}}"#
        ]],
    );
    response(
        Ok(Response::EnvironmentStatus(status())),
        expect![[
            r#"{"type":"response","id":7,"result":{"ok":{"kind":"environment_status","namespace":"lapdev-alice-shop","environment_id":"env-1","observed_generation":3,"phase":"failed","workloads":[{"kind":"Deployment","name":"api","desired":1,"ready":0,"available":0,"reason":"ImagePullBackOff","message":"Back-off pulling image \"api:1\""},{"kind":"StatefulSet","name":"postgres","desired":1,"ready":1,"available":1}]}}}"#
        ]],
    );
    client(
        ClientFrame::EnvironmentStatus(EnvironmentStatus {
            namespace: "lapdev-gone".into(),
            environment_id: None,
            observed_generation: None,
            phase: EnvironmentPhase::Deleted,
            workloads: Vec::new(),
        }),
        expect![[
            r#"{"type":"environment_status","namespace":"lapdev-gone","phase":"deleted","workloads":[]}"#
        ]],
    );
    // A phase from a newer kube-manager.
    let newer = r#"{"type":"environment_status","namespace":"lapdev-x","phase":"hibernating"}"#;
    let ClientFrame::EnvironmentStatus(s) = decode_client_frame(newer).unwrap() else {
        panic!()
    };
    assert_eq!(s.phase, EnvironmentPhase::Unknown);
}
