//! The JSON shapes kube-manager sends through the tunnel and the server
//! stores or shows: a change here is a protocol change, so it shows up in
//! review. (Diffs have their own golden file: `golden/diff/sync.out.yaml`.)

use expect_test::{Expect, expect};
use lapdev_manifest::environment::Identity;
use lapdev_manifest::{
    EnvironmentKind, EnvironmentSpec, ObjectKind, ObjectRef, ReplicasPolicy, ResolutionIssue,
    SecretPolicy, SecretValues, Severity, TargetNamespace,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn check<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T, expect: Expect) {
    let json = serde_json::to_string_pretty(value).unwrap();
    expect.assert_eq(&json);
    assert_eq!(
        &serde_json::from_str::<T>(&json).unwrap(),
        value,
        "round trip"
    );
}

#[test]
fn secret_policy() {
    let policy: SecretPolicy = serde_json::from_str(
        r#"{"default": "copy", "rules": [
            {"secret": "db", "action": "redact"},
            {"namespace": "shop", "secret": "stripe", "key": "live-key", "action": "exclude"}]}"#,
    )
    .unwrap();
    check(
        &policy,
        expect![[r#"
            {
              "default": "copy",
              "rules": [
                {
                  "secret": "db",
                  "action": "redact"
                },
                {
                  "namespace": "shop",
                  "secret": "stripe",
                  "key": "live-key",
                  "action": "exclude"
                }
              ]
            }"#]],
    );
    // Both fields may be left out: copy everything.
    assert_eq!(
        serde_json::from_str::<SecretPolicy>("{}").unwrap(),
        SecretPolicy::default()
    );
}

#[test]
fn resolution_issue() {
    check(
        &ResolutionIssue {
            severity: Severity::Warning,
            workload: ObjectRef::new(ObjectKind::Deployment, Some("shop"), "api"),
            field: "spec.template.spec.containers[api].env[DB].valueFrom.secretKeyRef".into(),
            missing: ObjectRef::new(ObjectKind::Secret, Some("shop"), "db"),
            key: Some("url".into()),
        },
        expect![[r#"
            {
              "severity": "warning",
              "workload": {
                "kind": "Deployment",
                "namespace": "shop",
                "name": "api"
              },
              "field": "spec.template.spec.containers[api].env[DB].valueFrom.secretKeyRef",
              "missing": {
                "kind": "Secret",
                "namespace": "shop",
                "name": "db"
              },
              "key": "url"
            }"#]],
    );
}

#[test]
fn environment_spec() {
    check(
        &EnvironmentSpec {
            namespace: TargetNamespace::new("lapdev-alice-shop").unwrap(),
            environment: Identity {
                id: "env-1".into(),
                name: "Alice's shop".into(),
            },
            catalog: Identity {
                id: "cat-1".into(),
                name: "Shop".into(),
            },
            kind: EnvironmentKind::Personal,
            replicas: ReplicasPolicy::AtMost(1),
            secret_values: SecretValues::new().with("db", "password", "hunter2"),
        },
        expect![[r#"
            {
              "namespace": "lapdev-alice-shop",
              "environment": {
                "id": "env-1",
                "name": "Alice's shop"
              },
              "catalog": {
                "id": "cat-1",
                "name": "Shop"
              },
              "kind": "personal",
              "replicas": {
                "at_most": 1
              },
              "secret_values": {
                "db": {
                  "password": "aHVudGVyMg=="
                }
              }
            }"#]],
    );
}
