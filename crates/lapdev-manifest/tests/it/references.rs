//! References, matching Services and resolution: data tables plus golden
//! files in `tests/golden/resolve/`.

use expect_test::{Expect, expect};
use lapdev_manifest::{ManifestObject, matching_services, resolve, workload_references};
use serde_json::json;

use crate::golden::{check_dir, parse_yaml, value_to_yaml};

/// A Deployment in namespace `shop` with the given pod spec (YAML, indented
/// as a top-level mapping).
fn deployment(pod_spec: &str) -> ManifestObject {
    let indented: String = pod_spec.lines().map(|l| format!("      {l}\n")).collect();
    let yaml = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  selector:\n    matchLabels:\n      app: api\n  template:\n    metadata:\n      labels:\n        app: api\n        tier: web\n    spec:\n{indented}"
    );
    parse_yaml(&yaml).remove(0)
}

fn check(pod_spec: &str, expect: Expect) {
    let refs = workload_references(&deployment(pod_spec));
    let lines: Vec<String> = refs
        .iter()
        .map(|r| {
            let key = r
                .key
                .as_deref()
                .map(|k| format!(" key={k}"))
                .unwrap_or_default();
            let optional = if r.optional { " optional" } else { "" };
            format!("{}{key}{optional} at {}", r.target, r.field)
        })
        .collect();
    expect.assert_eq(&(lines.join("\n") + "\n"));
}

#[test]
fn env_value_from() {
    check(
        r#"
serviceAccountName: api
containers:
- name: app
  image: app
  env:
  - {name: PLAIN, value: "1"}
  - {name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}
  - {name: LOG_LEVEL, valueFrom: {configMapKeyRef: {name: cfg, key: level, optional: true}}}
  - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
  - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory}}}
"#,
        expect![[r#"
            ServiceAccount/shop/api at spec.template.spec.serviceAccountName
            Secret/shop/db key=password at spec.template.spec.containers[app].env[DB_PASSWORD].valueFrom.secretKeyRef
            ConfigMap/shop/cfg key=level optional at spec.template.spec.containers[app].env[LOG_LEVEL].valueFrom.configMapKeyRef
        "#]],
    );
}

#[test]
fn env_from_with_prefix() {
    check(
        r#"
containers:
- name: app
  image: app
  envFrom:
  - {prefix: CFG_, configMapRef: {name: cfg}}
  - {prefix: DB_, secretRef: {name: db, optional: true}}
  - secretRef: {name: api-keys}
"#,
        expect![[r#"
            ServiceAccount/shop/default at spec.template.spec.serviceAccountName (unset)
            ConfigMap/shop/cfg at spec.template.spec.containers[app].envFrom[0].configMapRef
            Secret/shop/db optional at spec.template.spec.containers[app].envFrom[1].secretRef
            Secret/shop/api-keys at spec.template.spec.containers[app].envFrom[2].secretRef
        "#]],
    );
}

#[test]
fn volumes_whole_and_by_items() {
    check(
        r#"
containers: [{name: app, image: app}]
volumes:
- {name: config, configMap: {name: cfg}}
- {name: tls, secret: {secretName: tls, optional: true, items: [{key: tls.crt, path: cert}, {key: tls.key, path: key}]}}
- {name: scratch, emptyDir: {}}
- {name: data, persistentVolumeClaim: {claimName: data}}
"#,
        expect![[r#"
            ServiceAccount/shop/default at spec.template.spec.serviceAccountName (unset)
            ConfigMap/shop/cfg at spec.template.spec.volumes[config].configMap
            Secret/shop/tls key=tls.crt optional at spec.template.spec.volumes[tls].secret.items[0]
            Secret/shop/tls key=tls.key optional at spec.template.spec.volumes[tls].secret.items[1]
            PersistentVolumeClaim/shop/data at spec.template.spec.volumes[data].persistentVolumeClaim
        "#]],
    );
}

#[test]
fn projected_volume_mixing_sources() {
    check(
        r#"
containers: [{name: app, image: app}]
volumes:
- name: all-in-one
  projected:
    defaultMode: 420
    sources:
    - configMap: {name: cfg, items: [{key: app.yaml, path: app.yaml}]}
    - secret: {name: creds, optional: true}
    - serviceAccountToken: {audience: vault, expirationSeconds: 3600, path: token}
    - downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
    - configMap: {name: kube-root-ca.crt, items: [{key: ca.crt, path: ca.crt}]}
"#,
        expect![[r#"
            ServiceAccount/shop/default at spec.template.spec.serviceAccountName (unset)
            ConfigMap/shop/cfg key=app.yaml at spec.template.spec.volumes[all-in-one].projected.sources[0].configMap.items[0]
            Secret/shop/creds optional at spec.template.spec.volumes[all-in-one].projected.sources[1].secret
            ConfigMap/shop/kube-root-ca.crt key=ca.crt at spec.template.spec.volumes[all-in-one].projected.sources[4].configMap.items[0]
        "#]],
    );
}

#[test]
fn volume_plugins_with_secret_credentials() {
    check(
        r#"
containers: [{name: app, image: app}]
volumes:
- {name: vault, csi: {driver: secrets-store.csi.k8s.io, nodePublishSecretRef: {name: vault-creds}}}
- {name: share, azureFile: {secretName: azure-creds, shareName: data}}
- {name: ceph, cephfs: {monitors: [10.0.0.1], secretRef: {name: ceph-creds}}}
"#,
        expect![[r#"
            ServiceAccount/shop/default at spec.template.spec.serviceAccountName (unset)
            Secret/shop/vault-creds at spec.template.spec.volumes[vault].csi.nodePublishSecretRef
            Secret/shop/azure-creds at spec.template.spec.volumes[share].azureFile.secretName
            Secret/shop/ceph-creds at spec.template.spec.volumes[ceph].cephfs.secretRef
        "#]],
    );
}

#[test]
fn init_and_ephemeral_containers_and_image_pull_secrets() {
    check(
        r#"
serviceAccount: legacy-field
imagePullSecrets: [{name: registry}, {name: mirror}]
initContainers:
- {name: migrate, image: app, env: [{name: DB, valueFrom: {secretKeyRef: {name: db, key: url}}}]}
containers: [{name: app, image: app}]
ephemeralContainers:
- {name: debugger, image: busybox, envFrom: [{configMapRef: {name: debug}}]}
"#,
        expect![[r#"
            ServiceAccount/shop/legacy-field at spec.template.spec.serviceAccountName
            Secret/shop/db key=url at spec.template.spec.initContainers[migrate].env[DB].valueFrom.secretKeyRef
            ConfigMap/shop/debug at spec.template.spec.ephemeralContainers[debugger].envFrom[0].configMapRef
            Secret/shop/registry at spec.template.spec.imagePullSecrets[0]
            Secret/shop/mirror at spec.template.spec.imagePullSecrets[1]
        "#]],
    );
}

#[test]
fn names_at_the_length_limits() {
    // ConfigMap and Secret names may be DNS subdomains of 253 characters;
    // env var and volume names are kept as written.
    let long = format!(
        "{}.{}.{}.{}",
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(61)
    );
    assert_eq!(long.len(), 253);
    let volume = "v".repeat(63);
    let spec = format!(
        "containers:\n- name: app\n  image: app\n  envFrom: [{{secretRef: {{name: {long}}}}}]\nvolumes:\n- {{name: {volume}, configMap: {{name: {long}}}}}\n"
    );
    let refs = workload_references(&deployment(&spec));
    let names: Vec<(String, usize)> = refs
        .iter()
        .map(|r| (r.target.kind.to_string(), r.target.name.len()))
        .collect();
    assert_eq!(
        names,
        [
            ("ServiceAccount".to_string(), 7),
            ("Secret".to_string(), 253),
            ("ConfigMap".to_string(), 253)
        ]
    );
    assert!(
        refs[2]
            .field
            .ends_with(&format!("volumes[{volume}].configMap"))
    );
}

#[test]
fn statefulset_governing_service() {
    let sts = parse_yaml(
        r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  serviceName: db-headless
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {serviceAccountName: db, containers: [{name: db, image: postgres}]}
"#,
    )
    .remove(0);
    let refs: Vec<String> = workload_references(&sts)
        .iter()
        .map(|r| format!("{} at {}", r.target, r.field))
        .collect();
    expect![[r#"
        [
            "ServiceAccount/shop/db at spec.template.spec.serviceAccountName",
            "Service/shop/db-headless at spec.serviceName",
        ]
    "#]]
    .assert_debug_eq(&refs);
}

fn service(namespace: &str, name: &str, selector: Option<serde_json::Value>) -> ManifestObject {
    let mut spec = json!({"ports": [{"port": 80}]});
    if let Some(selector) = selector {
        spec["selector"] = selector;
    }
    ManifestObject::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }))
    .unwrap()
}

#[test]
fn matching_services_table() {
    let workload = deployment("containers: [{name: app, image: app}]");
    // (service, matches the pod labels {app: api, tier: web} in shop?)
    let cases = [
        (
            service("shop", "exact", Some(json!({"app": "api", "tier": "web"}))),
            true,
        ),
        (service("shop", "subset", Some(json!({"app": "api"}))), true),
        (
            service(
                "shop",
                "superset",
                Some(json!({"app": "api", "tier": "web", "v": "2"})),
            ),
            false,
        ),
        (
            service("shop", "other-value", Some(json!({"app": "web"}))),
            false,
        ),
        (service("shop", "no-selector", None), false),
        (service("shop", "empty-selector", Some(json!({}))), false),
        (
            service("other", "other-namespace", Some(json!({"app": "api"}))),
            false,
        ),
    ];
    for (svc, expected) in &cases {
        let ManifestObject::Service(s) = svc else {
            unreachable!()
        };
        let matched = !matching_services(&workload, [s]).is_empty();
        assert_eq!(matched, *expected, "{}", svc.object_ref());
    }
    // Two Services selecting one workload: both, sorted.
    let services: Vec<_> = cases
        .iter()
        .filter_map(|(s, _)| match s {
            ManifestObject::Service(s) => Some(s),
            _ => None,
        })
        .collect();
    let all: Vec<String> = matching_services(&workload, services)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(all, ["Service/shop/exact", "Service/shop/subset"]);
}

#[test]
fn resolve_golden() {
    let cases = check_dir("resolve", |_, objects| {
        let (workloads, available): (Vec<_>, Vec<_>) =
            objects.into_iter().partition(ManifestObject::is_workload);
        let resolution = resolve(&workloads, &available);
        let summary = json!({
            "objects": resolution.objects.iter().map(|o| o.object_ref().to_string()).collect::<Vec<_>>(),
            "dependencies": resolution.dependencies.iter().map(|d| json!({
                "workload": d.workload.to_string(),
                "dependsOn": d.depends_on.iter().map(ToString::to_string).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "issues": resolution.issues.iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        value_to_yaml(&summary)
    });
    assert!(cases >= 2, "golden cases missing");
}
