//! The environment transform: golden files in `tests/golden/environment/`
//! (`personal-*` and `shared-*` cases), the proof that pod specs survive
//! untouched, and the error cases as tables.

use expect_test::expect;
use k8s_openapi::api::core::v1::{Container, PodTemplateSpec};
use lapdev_manifest::environment::Identity;
use lapdev_manifest::{
    EnvironmentError, EnvironmentKind, EnvironmentSpec, ManifestObject, NoExtension, ObjectRef,
    PodTemplateExtension, ReplicasPolicy, SecretValues, TargetNamespace, build_environment,
};

use crate::golden::{check_dir, golden_dir, parse_yaml, to_yaml};

fn spec(kind: EnvironmentKind, namespace: &str) -> EnvironmentSpec {
    EnvironmentSpec {
        namespace: TargetNamespace::new(namespace).unwrap(),
        environment: Identity {
            id: "0193a5c2-7e4f-7b1a-9c3d-5e6f7a8b9c0d".into(),
            name: "Alice's shop".into(),
        },
        catalog: Identity {
            id: "0193a5c2-0000-7000-8000-000000000001".into(),
            name: "Shop".into(),
        },
        kind,
        replicas: ReplicasPolicy::default_for(kind),
        secret_values: SecretValues::new()
            .with("db-credentials", "password", "hunter2")
            .with("pg-admin", "password", "pg-secret"),
    }
}

fn spec_for_case(case: &str) -> EnvironmentSpec {
    let kind = if case.starts_with("shared-") {
        EnvironmentKind::Shared
    } else {
        EnvironmentKind::Personal
    };
    spec(kind, &format!("lapdev-{case}"))
}

#[test]
fn golden() {
    let cases = check_dir("environment", |case, catalog| {
        let plan = build_environment(&catalog, &spec_for_case(case), &NoExtension).unwrap();
        let warnings: String = plan
            .warnings
            .iter()
            .map(|w| format!("# warning: {w}\n"))
            .collect();
        format!("{warnings}{}", to_yaml(&plan.objects))
    });
    assert!(cases >= 3, "golden cases missing");
}

/// Everything in every workload's pod spec survives the copy, except a pod
/// (anti-)affinity term's source namespace, which becomes the target.
#[test]
fn pod_specs_survive_untouched() {
    for case in [
        "personal-deployment",
        "personal-statefulset",
        "shared-daemonset",
    ] {
        let text =
            std::fs::read_to_string(golden_dir("environment").join(format!("{case}.in.yaml")))
                .unwrap();
        let catalog = parse_yaml(&text);
        let spec = spec_for_case(case);
        let plan = build_environment(&catalog, &spec, &NoExtension).unwrap();
        let mut checked = 0;
        for input in catalog.iter().filter(|o| o.is_workload()) {
            let output = plan
                .objects
                .iter()
                .find(|o| o.kind() == input.kind() && o.name() == input.name())
                .expect("every workload is in the plan");
            let source_ns = input.namespace().unwrap();
            let out_pod = serde_json::to_string(&output.pod_template().unwrap().spec).unwrap();
            let out_pod = out_pod.replace(
                &format!("\"{}\"", spec.namespace),
                &format!("\"{source_ns}\""),
            );
            let in_pod = serde_json::to_string(&input.pod_template().unwrap().spec).unwrap();
            assert_eq!(in_pod, out_pod, "{case}: {}", input.object_ref());
            // So are the selector and, for StatefulSets, the claim templates and serviceName.
            let (i, o) = (input.to_value(), output.to_value());
            for field in [
                "/spec/selector",
                "/spec/volumeClaimTemplates",
                "/spec/serviceName",
                "/spec/updateStrategy",
            ] {
                assert_eq!(i.pointer(field), o.pointer(field), "{case}: {field}");
            }
            checked += 1;
        }
        assert!(checked > 0);
    }
}

#[test]
fn replicas_policy_table() {
    let deployment = |replicas: Option<i32>| {
        let mut v = serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "api"}}, "template": {"metadata": {"labels": {"app": "api"}}}},
        });
        if let Some(r) = replicas {
            v["spec"]["replicas"] = r.into();
        }
        ManifestObject::from_value(v).unwrap()
    };
    // (policy, replicas in the catalog, replicas in the environment)
    let cases = [
        (ReplicasPolicy::AtMost(1), Some(3), Some(1)),
        (ReplicasPolicy::AtMost(1), Some(1), Some(1)),
        (ReplicasPolicy::AtMost(1), Some(0), Some(0)),
        (ReplicasPolicy::AtMost(1), None, None),
        (ReplicasPolicy::AtMost(0), None, Some(0)),
        (ReplicasPolicy::AtMost(2), Some(5), Some(2)),
        (ReplicasPolicy::Keep, Some(20), Some(20)),
        (ReplicasPolicy::Keep, None, None),
    ];
    for (policy, input, expected) in cases {
        let mut s = spec(EnvironmentKind::Personal, "lapdev-a");
        s.replicas = policy;
        let plan = build_environment(&[deployment(input)], &s, &NoExtension).unwrap();
        let ManifestObject::Deployment(d) = &plan.objects[1] else {
            panic!("namespace, then the deployment")
        };
        assert_eq!(
            d.spec.as_ref().unwrap().replicas,
            expected,
            "{policy:?} on {input:?}"
        );
    }
    assert_eq!(
        ReplicasPolicy::default_for(EnvironmentKind::Personal),
        ReplicasPolicy::AtMost(1)
    );
    assert_eq!(
        ReplicasPolicy::default_for(EnvironmentKind::Shared),
        ReplicasPolicy::Keep
    );
}

#[test]
fn target_namespace_table() {
    let ok = "a".repeat(63);
    let too_long = "a".repeat(64);
    let cases: &[(&str, &str)] = &[
        ("lapdev-alice-shop", "ok"),
        (&ok, "ok"),
        ("a", "ok"),
        ("0abc", "ok"),
        ("", r#"namespace "" must be 1 to 63 characters"#),
        (&too_long, "must be 1 to 63 characters"),
        (
            "Lapdev-Alice",
            "may contain only lowercase letters, digits and '-'",
        ),
        (
            "lapdev_alice",
            "may contain only lowercase letters, digits and '-'",
        ),
        (
            "lapdev.alice",
            "may contain only lowercase letters, digits and '-'",
        ),
        ("-lapdev", "must start and end with a letter or digit"),
        ("lapdev-", "must start and end with a letter or digit"),
        (
            "kube-system",
            "is reserved for the cluster or for Lapdev itself",
        ),
        ("kube-anything", "is reserved"),
        ("default", "is reserved"),
        ("lapdev", "is reserved"),
    ];
    for (name, expected) in cases {
        let actual = match TargetNamespace::new(name) {
            Ok(ns) => {
                assert_eq!(ns.as_str(), *name);
                "ok".to_string()
            }
            Err(e) => e.to_string(),
        };
        assert!(actual.contains(expected), "{name:?}: {actual}");
    }
    // Deserializing validates too: a message cannot smuggle in kube-system.
    assert!(serde_json::from_str::<TargetNamespace>(r#""kube-system""#).is_err());
}

fn catalog(name: &str) -> Vec<ManifestObject> {
    parse_yaml(
        &std::fs::read_to_string(golden_dir("environment").join(format!("{name}.in.yaml")))
            .unwrap(),
    )
}

#[test]
fn missing_secret_values_name_every_key() {
    let mut s = spec(EnvironmentKind::Personal, "lapdev-a");
    s.secret_values = SecretValues::new();
    let mut objects = catalog("personal-deployment");
    objects.extend(catalog("personal-statefulset"));
    let err = build_environment(&objects, &s, &NoExtension).unwrap_err();
    expect!["the environment cannot start until 2 secret value(s) are given: db-credentials/password, pg-admin/password"]
        .assert_eq(&err.to_string());
    let EnvironmentError::MissingSecretValues { missing } = err else {
        panic!()
    };
    assert_eq!(missing.len(), 2);
}

#[test]
fn invalid_ids_and_collisions() {
    let mut s = spec(EnvironmentKind::Personal, "lapdev-a");
    s.environment.id = "has spaces".into();
    expect![[r#"environment id "has spaces" is not a valid label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"#]]
        .assert_eq(&build_environment(&[], &s, &NoExtension).unwrap_err().to_string());

    let s = spec(EnvironmentKind::Personal, "lapdev-a");
    let objects = parse_yaml(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config, namespace: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: config, namespace: b}\n",
    );
    expect!["ConfigMap \"config\" exists in several source namespaces (a, b); an environment has one namespace, so the catalog must not contain both"]
        .assert_eq(&build_environment(&objects, &s, &NoExtension).unwrap_err().to_string());
}

#[test]
fn plan_is_deterministic_and_starts_with_the_namespace() {
    let s = spec(EnvironmentKind::Personal, "lapdev-a");
    let mut objects = catalog("personal-deployment");
    let a = build_environment(&objects, &s, &NoExtension).unwrap();
    objects.reverse();
    let b = build_environment(&objects, &s, &NoExtension).unwrap();
    assert_eq!(a, b);
    let refs: Vec<String> = a
        .objects
        .iter()
        .map(|o| o.object_ref().to_string())
        .collect();
    expect![[r#"
        [
            "Namespace/lapdev-a",
            "ServiceAccount/lapdev-a/api",
            "ConfigMap/lapdev-a/api-config",
            "Secret/lapdev-a/api-tls",
            "Secret/lapdev-a/db-credentials",
            "Secret/lapdev-a/registry-credentials",
            "PersistentVolumeClaim/lapdev-a/uploads",
            "Service/lapdev-a/api",
            "Service/lapdev-a/payments",
            "Service/lapdev-a/storefront",
            "Deployment/lapdev-a/api",
        ]
    "#]]
    .assert_debug_eq(&refs);
    // Applying the plan's output again changes nothing but the origin.
    let again = build_environment(&a.objects, &s, &NoExtension).unwrap();
    assert_eq!(again.objects.len(), a.objects.len());
}

struct Sidecar;

impl PodTemplateExtension for Sidecar {
    fn extend_pod_template(&self, origin: &ObjectRef, template: &mut PodTemplateSpec) {
        let spec = template.spec.get_or_insert_default();
        spec.containers.push(Container {
            name: "lapdev-sidecar".into(),
            image: Some(format!("lapdev-sidecar:test-for-{}", origin.name)),
            ..Container::default()
        });
    }
}

#[test]
fn extension_point_sees_every_workload() {
    let s = spec(EnvironmentKind::Shared, "lapdev-a");
    let plan = build_environment(&catalog("shared-daemonset"), &s, &Sidecar).unwrap();
    let sidecars: Vec<String> = plan
        .objects
        .iter()
        .filter_map(|o| o.pod_template())
        .map(|t| {
            t.spec
                .as_ref()
                .unwrap()
                .containers
                .last()
                .unwrap()
                .image
                .clone()
                .unwrap()
        })
        .collect();
    assert_eq!(
        sidecars,
        [
            "lapdev-sidecar:test-for-search",
            "lapdev-sidecar:test-for-log-agent"
        ]
    );
}

#[test]
fn fqdn_warnings() {
    let objects = parse_yaml(
        r#"
apiVersion: v1
kind: Service
metadata: {name: db-alias, namespace: shop}
spec: {type: ExternalName, externalName: db.shop.svc.cluster.local}
---
apiVersion: v1
kind: Service
metadata: {name: partner, namespace: shop}
spec: {type: ExternalName, externalName: api.partner.example.com}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: shop}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      initContainers: [{name: wait, image: busybox, env: [{name: DB, value: "db.shop.svc:5432"}]}]
      containers: [{name: agent, image: agent, env: [{name: OTHER, value: "x.billing.svc"}, {name: SHORT, value: "db:5432"}]}]
"#,
    );
    let plan = build_environment(
        &objects,
        &spec(EnvironmentKind::Shared, "lapdev-a"),
        &NoExtension,
    )
    .unwrap();
    expect![[r#"
        [
            "DaemonSet/shop/agent: env DB of container wait names the source namespace \"shop\" in a cluster DNS name; it still points there, not at this environment (use the short Service name)",
            "Service/shop/db-alias: spec.externalName names the source namespace \"shop\" in a cluster DNS name; it still points there, not at this environment (use the short Service name)",
        ]
    "#]]
    .assert_debug_eq(&plan.warnings);
}
