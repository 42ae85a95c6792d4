//! Validation that catches copy bugs (422 Invalid with causes). Rules follow
//! the Kubernetes API reference for each field (immutable fields, selector
//! must match template labels, clusterIP allocation).

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::support::{deployment, env, status};

fn svc(name: &str, ip: Option<&str>) -> Service {
    let mut spec = json!({"selector": {"app": name}, "ports": [{"port": 80}]});
    if let Some(ip) = ip {
        spec["clusterIP"] = json!(ip);
    }
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec})).unwrap()
}

fn invalid(e: kube::Error) -> String {
    let (code, reason, msg) = status(e);
    assert_eq!((code, reason.as_str()), (422, "Invalid"), "{msg}");
    msg
}

/// A Service's clusterIP is allocated, may not be taken twice, and is immutable.
#[tokio::test]
async fn service_cluster_ip() {
    let e = env().await;
    let api: Api<Service> = e.api();
    let a = api
        .create(&PostParams::default(), &svc("a", None))
        .await
        .unwrap();
    let ip = a.spec.unwrap().cluster_ip.unwrap();
    assert!(ip.starts_with("10."), "{ip}");
    // Copying a Service verbatim (with its clusterIP) is the classic bug.
    let msg = invalid(
        api.create(&PostParams::default(), &svc("b", Some(&ip)))
            .await
            .unwrap_err(),
    );
    assert!(msg.contains("already allocated"), "{msg}");
    let other = if ip.ends_with(".200") {
        "10.96.0.201"
    } else {
        "10.96.0.200"
    };
    invalid(
        api.patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"clusterIP": other}})),
        )
        .await
        .unwrap_err(),
    );
    // Headless is fine, and an omitted clusterIP on replace keeps the old one.
    api.create(&PostParams::default(), &svc("h", Some("None")))
        .await
        .unwrap();
    let mut again = api.get("a").await.unwrap();
    again.spec.as_mut().unwrap().cluster_ip = None;
    again.spec.as_mut().unwrap().cluster_ips = None;
    let kept = api
        .replace("a", &PostParams::default(), &again)
        .await
        .unwrap();
    assert_eq!(kept.spec.unwrap().cluster_ip.unwrap(), ip);
}

/// A Deployment's selector must match its template labels and is immutable.
#[tokio::test]
async fn deployment_selector() {
    let e = env().await;
    let api: Api<Deployment> = e.api();
    let mut bad = deployment("d", 1);
    bad.spec.as_mut().unwrap().selector.match_labels =
        Some([("app".to_string(), "other".to_string())].into());
    let msg = invalid(api.create(&PostParams::default(), &bad).await.unwrap_err());
    assert!(msg.contains("selector"), "{msg}");
    api.create(&PostParams::default(), &deployment("d", 1))
        .await
        .unwrap();
    let patch = json!({"spec": {"selector": {"matchLabels": {"app": "d", "x": "y"}}, "template": {"metadata": {"labels": {"x": "y"}}}}});
    invalid(
        api.patch("d", &PatchParams::default(), &Patch::Strategic(patch))
            .await
            .unwrap_err(),
    );
}

/// StatefulSet fields other than replicas, template, updateStrategy, … are immutable.
#[tokio::test]
async fn statefulset_immutable_fields() {
    let e = env().await;
    let api: Api<StatefulSet> = e.api();
    let sts: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "db"},
        "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "pg", "image": "postgres:16"}]}}}
    }))
    .unwrap();
    api.create(&PostParams::default(), &sts).await.unwrap();
    invalid(
        api.patch(
            "db",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"serviceName": "other"}})),
        )
        .await
        .unwrap_err(),
    );
    api.patch(
        "db",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 3}})),
    )
    .await
    .unwrap();
}

/// Immutable ConfigMaps and Secrets reject data changes; a Secret's type is immutable.
#[tokio::test]
async fn immutable_configmaps_and_secret_type() {
    let e = env().await;
    let cms: Api<ConfigMap> = e.api();
    let frozen: ConfigMap = serde_json::from_value(
        json!({"metadata": {"name": "f"}, "data": {"a": "1"}, "immutable": true}),
    )
    .unwrap();
    cms.create(&PostParams::default(), &frozen).await.unwrap();
    invalid(
        cms.patch(
            "f",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"a": "2"}})),
        )
        .await
        .unwrap_err(),
    );
    let secrets: Api<Secret> = e.api();
    let s: Secret =
        serde_json::from_value(json!({"metadata": {"name": "s"}, "stringData": {"k": "v"}}))
            .unwrap();
    let created = secrets.create(&PostParams::default(), &s).await.unwrap();
    assert_eq!(created.type_.as_deref(), Some("Opaque"));
    assert!(created.data.unwrap().contains_key("k"));
    invalid(
        secrets
            .patch(
                "s",
                &PatchParams::default(),
                &Patch::Merge(json!({"type": "kubernetes.io/tls"})),
            )
            .await
            .unwrap_err(),
    );
}
