//! `ManifestObject`: JSON round trips, unsupported input, apply order.

use expect_test::{Expect, expect};
use lapdev_manifest::object::sort_for_apply;
use lapdev_manifest::{KindInfoExt, ManifestObject, ObjectKind, ObjectRef};
use serde_json::json;

fn check_from_value(input: serde_json::Value, expect: Expect) {
    let actual = match ManifestObject::from_value(input) {
        Ok(o) => format!("ok {}", o.object_ref()),
        Err(e) => {
            let source = std::error::Error::source(&e)
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            format!("err {e}{source}")
        }
    };
    expect.assert_eq(&actual);
}

#[test]
fn from_value() {
    let named = |api: &str, kind: &str| json!({"apiVersion": api, "kind": kind, "metadata": {"name": "x", "namespace": "shop"}});
    check_from_value(
        named("apps/v1", "Deployment"),
        expect!["ok Deployment/shop/x"],
    );
    check_from_value(
        named("apps/v1", "StatefulSet"),
        expect!["ok StatefulSet/shop/x"],
    );
    check_from_value(
        named("apps/v1", "DaemonSet"),
        expect!["ok DaemonSet/shop/x"],
    );
    check_from_value(named("v1", "ConfigMap"), expect!["ok ConfigMap/shop/x"]);
    check_from_value(named("v1", "Secret"), expect!["ok Secret/shop/x"]);
    check_from_value(named("v1", "Service"), expect!["ok Service/shop/x"]);
    check_from_value(
        named("v1", "ServiceAccount"),
        expect!["ok ServiceAccount/shop/x"],
    );
    check_from_value(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "lapdev-a"}}),
        expect!["ok Namespace/lapdev-a"],
    );
    check_from_value(
        named("extensions/v1beta1", "Deployment"),
        expect![
            "err unsupported object extensions/v1beta1/Deployment: Lapdev copies Deployments, StatefulSets, DaemonSets, ConfigMaps, Secrets, PersistentVolumeClaims, Services, ServiceAccounts and Namespaces"
        ],
    );
    check_from_value(
        named("rbac.authorization.k8s.io/v1", "RoleBinding"),
        expect![
            "err unsupported object rbac.authorization.k8s.io/v1/RoleBinding: Lapdev copies Deployments, StatefulSets, DaemonSets, ConfigMaps, Secrets, PersistentVolumeClaims, Services, ServiceAccounts and Namespaces"
        ],
    );
    check_from_value(
        json!({"kind": "Deployment"}),
        expect!["err manifest has no string `apiVersion` and `kind`"],
    );
    check_from_value(
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": "three"}}),
        expect![[
            r#"err invalid Deployment manifest (invalid type: string "three", expected i32)"#
        ]],
    );
    check_from_value(
        json!({"apiVersion": "v1", "kind": "Secret", "data": {"k": "not base64!"}}),
        expect!["err invalid Secret manifest (Invalid symbol 32, offset 3.)"],
    );
}

#[test]
fn json_round_trip_keeps_api_version_and_kind() {
    let input = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop", "labels": {"app": "db"}},
        "spec": {"selector": {"matchLabels": {"app": "db"}}, "serviceName": "db",
                 "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "postgres"}]}}}
    });
    let object = ManifestObject::from_value(input.clone()).unwrap();
    assert_eq!(object.to_value(), input);
    // Serde goes the same way, so a Vec<ManifestObject> can cross the tunnel.
    let text = serde_json::to_string(&vec![object.clone()]).unwrap();
    let back: Vec<ManifestObject> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, vec![object]);
}

#[test]
fn apply_order() {
    let mut objects: Vec<ManifestObject> = [
        ("apps/v1", "DaemonSet", "a"),
        ("apps/v1", "Deployment", "b"),
        ("apps/v1", "Deployment", "a"),
        ("v1", "Service", "a"),
        ("v1", "Secret", "a"),
        ("v1", "ConfigMap", "z"),
        ("v1", "ServiceAccount", "a"),
        ("apps/v1", "StatefulSet", "a"),
    ]
    .into_iter()
    .map(|(api, kind, name)| {
        ManifestObject::from_value(
            json!({"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": "ns"}}),
        )
        .unwrap()
    })
    .chain([ManifestObject::from_value(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}}),
    )
    .unwrap()])
    .collect();
    sort_for_apply(&mut objects);
    let order: Vec<String> = objects
        .iter()
        .map(|o| format!("{} {}", o.kind().apply_rank(), o.object_ref()))
        .collect();
    expect![[r#"
        0 Namespace/ns
        1 ServiceAccount/ns/a
        1 ConfigMap/ns/z
        1 Secret/ns/a
        2 Service/ns/a
        3 Deployment/ns/a
        3 Deployment/ns/b
        3 StatefulSet/ns/a
        3 DaemonSet/ns/a
    "#]]
    .assert_eq(&(order.join("\n") + "\n"));
}

#[test]
fn object_ref_serializes_plainly() {
    let r = ObjectRef::new(ObjectKind::Secret, Some("shop"), "db");
    expect![[r#"{"kind":"Secret","namespace":"shop","name":"db"}"#]]
        .assert_eq(&serde_json::to_string(&r).unwrap());
    let ns = ObjectRef::new(ObjectKind::Namespace, None, "lapdev-a");
    expect![[r#"{"kind":"Namespace","name":"lapdev-a"}"#]]
        .assert_eq(&serde_json::to_string(&ns).unwrap());
}

#[test]
fn kind_info_for_the_dynamic_api() {
    let table: Vec<String> = ObjectKind::ALL
        .iter()
        .map(|k| {
            let i = k.info();
            format!(
                "{} {} group={:?} version={} plural={} namespaced={}",
                i.kind, i.api_version, i.group, i.version, i.plural, i.namespaced
            )
        })
        .collect();
    expect![[r#"
        Namespace v1 group="" version=v1 plural=namespaces namespaced=false
        ServiceAccount v1 group="" version=v1 plural=serviceaccounts namespaced=true
        ConfigMap v1 group="" version=v1 plural=configmaps namespaced=true
        Secret v1 group="" version=v1 plural=secrets namespaced=true
        PersistentVolumeClaim v1 group="" version=v1 plural=persistentvolumeclaims namespaced=true
        Service v1 group="" version=v1 plural=services namespaced=true
        Deployment apps/v1 group="apps" version=v1 plural=deployments namespaced=true
        StatefulSet apps/v1 group="apps" version=v1 plural=statefulsets namespaced=true
        DaemonSet apps/v1 group="apps" version=v1 plural=daemonsets namespaced=true
    "#]]
    .assert_eq(&(table.join("\n") + "\n"));
}

/// The protocol's kind names are the API server's.
#[test]
fn kind_names_are_the_api_servers() {
    for k in ObjectKind::ALL {
        assert_eq!(k.as_str(), k.info().kind);
    }
}
