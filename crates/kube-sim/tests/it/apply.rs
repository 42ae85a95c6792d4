//! Server-side apply: "Server-Side Apply" docs › field management,
//! conflicts, merge strategy, and API Concepts › "Patch and apply".

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use crate::support::{env, status};

fn cm_apply(name: &str, data: serde_json::Value) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
}

/// Applies ConfigMap `name` with `data` as `manager`.
async fn apply(
    api: &Api<ConfigMap>,
    name: &str,
    manager: &str,
    data: serde_json::Value,
) -> Result<ConfigMap, kube::Error> {
    api.patch(
        name,
        &PatchParams::apply(manager),
        &Patch::Apply(cm_apply(name, data)),
    )
    .await
}

/// SSA › "Field management": apply creates when absent and records the
/// manager with operation Apply.
#[tokio::test]
async fn apply_creates_and_records_manager() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let out = apply(&api, "a", "alice", json!({"k": "v"})).await.unwrap();
    assert_eq!(out.data.unwrap()["k"], "v");
    let mf = out.metadata.managed_fields.unwrap();
    let alice = mf
        .iter()
        .find(|m| m.manager.as_deref() == Some("alice"))
        .expect("alice manages fields");
    assert_eq!(alice.operation.as_deref(), Some("Apply"));
    let fields = serde_json::to_value(&alice.fields_v1).unwrap();
    assert!(fields.to_string().contains("f:k"), "{fields}");
}

/// SSA › "Conflicts": another manager changing an owned field is 409 with
/// causes; force=true takes ownership.
#[tokio::test]
async fn apply_conflicts_and_force() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    apply(&api, "c", "alice", json!({"k": "alice"}))
        .await
        .unwrap();
    let err = apply(&api, "c", "bob", json!({"k": "bob"}))
        .await
        .unwrap_err();
    let kube::Error::Api(s) = err else {
        panic!("expected API error")
    };
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    let causes = s.details.unwrap().causes;
    assert_eq!(causes[0].field, ".data.k");
    assert!(causes[0].message.contains("alice"));
    // Same value: no conflict (shared ownership).
    apply(&api, "c", "carol", json!({"k": "alice"}))
        .await
        .unwrap();
    let out = api
        .patch(
            "c",
            &PatchParams::apply("bob").force(),
            &Patch::Apply(cm_apply("c", json!({"k": "bob"}))),
        )
        .await
        .unwrap();
    assert_eq!(out.data.unwrap()["k"], "bob");
}

/// SSA › "Field management": a field the same manager applied before and no
/// longer applies is removed.
#[tokio::test]
async fn apply_removes_fields_no_longer_applied() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let pp = PatchParams::apply("alice");
    api.patch(
        "r",
        &pp,
        &Patch::Apply(cm_apply("r", json!({"keep": "1", "drop": "2"}))),
    )
    .await
    .unwrap();
    let out = api
        .patch("r", &pp, &Patch::Apply(cm_apply("r", json!({"keep": "1"}))))
        .await
        .unwrap();
    let data = out.data.unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data["keep"], "1");
}

/// SSA › "Merge strategy": containers are merged by name across managers.
#[tokio::test]
async fn apply_merges_containers_by_name() {
    let e = env().await;
    let api: Api<Deployment> = e.api();
    let base = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"app": "d"}}, "template": {"metadata": {"labels": {"app": "d"}},
                 "spec": {"containers": [{"name": "app", "image": "app:1"}]}}}
    });
    api.patch("d", &PatchParams::apply("owner"), &Patch::Apply(base))
        .await
        .unwrap();
    let sidecar = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"template": {"spec": {"containers": [{"name": "proxy", "image": "proxy:1"}]}}}
    });
    let out = api
        .patch("d", &PatchParams::apply("injector"), &Patch::Apply(sidecar))
        .await
        .unwrap();
    let names: Vec<_> = out
        .spec
        .unwrap()
        .template
        .spec
        .unwrap()
        .containers
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["app", "proxy"]);
}

/// SSA › "Conflicts" with an Update manager: a field changed by a plain
/// patch is owned by that manager; applying a different value conflicts.
#[tokio::test]
async fn apply_conflicts_with_update_manager() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    apply(&api, "u", "alice", json!({"k": "a"})).await.unwrap();
    let pp = PatchParams {
        field_manager: Some("editor".into()),
        ..Default::default()
    };
    api.patch("u", &pp, &Patch::Merge(json!({"data": {"k": "edited"}})))
        .await
        .unwrap();
    let err = apply(&api, "u", "alice", json!({"k": "a"}))
        .await
        .unwrap_err();
    let (code, _, msg) = status(err);
    assert_eq!(code, 409);
    assert!(msg.contains("editor"), "{msg}");
}

/// SSA on the status subresource changes only status.
#[tokio::test]
async fn apply_status() {
    let e = env().await;
    let api: Api<Deployment> = e.api();
    api.create(&Default::default(), &crate::support::deployment("s", 1))
        .await
        .unwrap();
    let st = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "s"}, "status": {"replicas": 3}, "spec": {"replicas": 7}});
    let out = api
        .patch_status("s", &PatchParams::apply("ctl").force(), &Patch::Apply(st))
        .await
        .unwrap();
    assert_eq!(out.status.unwrap().replicas, Some(3));
    assert_eq!(out.spec.unwrap().replicas, Some(1));
}

/// Copy bugs caught at the edge (API Concepts › "Server-side apply" and
/// optimistic concurrency): an applied object carrying managedFields is 400;
/// one carrying another object's resourceVersion or uid is 409.
#[tokio::test]
async fn copied_metadata_is_rejected() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let src = apply(&api, "src", "copier", json!({"k": "v"}))
        .await
        .unwrap();
    let mut copy = serde_json::to_value(&src).unwrap();
    copy["metadata"]["name"] = json!("dst");
    let (code, _, msg) = status(
        api.patch(
            "dst",
            &PatchParams::apply("copier"),
            &Patch::Apply(copy.clone()),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(code, 400, "{msg}");
    copy["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    apply(&api, "dst", "copier", json!({})).await.unwrap();
    // The source's resourceVersion is a failed precondition on the copy.
    copy["metadata"]["resourceVersion"] = json!("1");
    let (code, _, _) = status(
        api.patch(
            "dst",
            &PatchParams::apply("copier"),
            &Patch::Apply(copy.clone()),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(code, 409);
    // So is the source's uid on a replace.
    let mut dst = api.get("dst").await.unwrap();
    dst.metadata.uid = src.metadata.uid.clone();
    let (code, _, _) = status(
        api.replace("dst", &Default::default(), &dst)
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 409);
}
