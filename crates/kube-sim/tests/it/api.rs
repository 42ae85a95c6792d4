//! Verbs, metadata, lists, selectors, patches: one test per rule, each naming
//! the Kubernetes API Concepts section it follows.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::support::{cm, deployment, env, status};

/// API Concepts › "Efficient detection of changes" / "Resource versions":
/// one global, monotonically increasing resourceVersion; create is 201-like
/// and a second create is 409 AlreadyExists; uid and creationTimestamp set.
#[tokio::test]
async fn create_get_and_already_exists() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let a = api
        .create(&PostParams::default(), &cm("a", json!({"k": "v"})))
        .await
        .unwrap();
    let b = api
        .create(&PostParams::default(), &cm("b", json!({})))
        .await
        .unwrap();
    let rv = |c: &ConfigMap| {
        c.metadata
            .resource_version
            .clone()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert!(rv(&b) > rv(&a));
    assert!(a.metadata.uid.is_some() && a.metadata.creation_timestamp.is_some());
    assert_eq!(a.metadata.namespace.as_deref(), Some(e.ns.as_str()));
    let got = api.get("a").await.unwrap();
    assert_eq!(got.data.unwrap()["k"], "v");
    let (code, reason, _) = status(
        api.create(&PostParams::default(), &cm("a", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (409, "AlreadyExists"));
    let (code, reason, msg) = status(api.get("missing").await.unwrap_err());
    assert_eq!((code, reason.as_str()), (404, "NotFound"));
    assert_eq!(msg, "configmaps \"missing\" not found");
}

/// API Concepts › "Resource versions" / optimistic concurrency: an update
/// with a stale resourceVersion is 409 Conflict.
#[tokio::test]
async fn update_with_stale_resource_version_conflicts() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let first = api
        .create(&PostParams::default(), &cm("a", json!({"n": "1"})))
        .await
        .unwrap();
    let mut second = first.clone();
    second.data = Some([("n".to_string(), "2".to_string())].into());
    let updated = api
        .replace("a", &PostParams::default(), &second)
        .await
        .unwrap();
    assert_ne!(
        updated.metadata.resource_version,
        first.metadata.resource_version
    );
    let mut stale = first.clone();
    stale.data = Some([("n".to_string(), "3".to_string())].into());
    let (code, reason, _) = status(
        api.replace("a", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (409, "Conflict"));
}

/// API Concepts › "Generated values" (generateName) and object names
/// (DNS-1123 subdomain): a bad name is 422 Invalid.
#[tokio::test]
async fn generate_name_and_name_validation() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let generated: ConfigMap =
        serde_json::from_value(json!({"metadata": {"generateName": "gen-"}})).unwrap();
    let made = api
        .create(&PostParams::default(), &generated)
        .await
        .unwrap();
    let name = made.metadata.name.unwrap();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
    let (code, reason, _) = status(
        api.create(&PostParams::default(), &cm("Bad_Name", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (422, "Invalid"));
}

/// API Concepts › "Namespaced resources": the namespace comes from the URL;
/// a different namespace in the body is 400 BadRequest.
#[tokio::test]
async fn namespace_in_body_must_match_url() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let mut c = cm("x", json!({}));
    c.metadata.namespace = Some("kube-system".into());
    let (code, reason, _) = status(api.create(&PostParams::default(), &c).await.unwrap_err());
    assert_eq!((code, reason.as_str()), (400, "BadRequest"));
}

/// API Concepts › "Retrieving large results sets in chunks": limit +
/// continue, remainingItemCount, stable order, list resourceVersion.
#[tokio::test]
async fn list_pagination() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    for i in 0..7 {
        api.create(&PostParams::default(), &cm(&format!("c{i}"), json!({})))
            .await
            .unwrap();
    }
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut lp = ListParams::default().limit(3);
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let page = api.list(&lp).await.unwrap();
        pages += 1;
        if pages == 1 {
            assert_eq!(page.metadata.remaining_item_count, Some(4));
        }
        names.extend(page.items.iter().map(|c| c.metadata.name.clone().unwrap()));
        token = page.metadata.continue_.filter(|c| !c.is_empty());
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, (0..7).map(|i| format!("c{i}")).collect::<Vec<_>>());
}

/// API Concepts › "Resource version semantics for list": resourceVersionMatch
/// without resourceVersion is 400; a future resourceVersion is 504 Timeout
/// ("Too large resource version").
#[tokio::test]
async fn list_resource_version_semantics() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let list = api.list(&ListParams::default()).await.unwrap();
    let rv: u64 = list.metadata.resource_version.unwrap().parse().unwrap();
    let ok = api
        .list(
            &ListParams::default()
                .at(&rv.to_string())
                .matching(kube::api::VersionMatch::NotOlderThan),
        )
        .await;
    assert!(ok.is_ok());
    let too_new = api
        .list(
            &ListParams::default()
                .at(&(rv + 1_000_000).to_string())
                .matching(kube::api::VersionMatch::NotOlderThan),
        )
        .await
        .unwrap_err();
    assert_eq!(status(too_new).0, 504);
}

/// API Concepts › "Label selectors" and "Field selectors"; a bad selector is 400.
#[tokio::test]
async fn selectors() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    for (n, tier) in [("a", "front"), ("b", "back"), ("c", "back")] {
        let mut c = cm(n, json!({}));
        c.metadata.labels = Some([("tier".to_string(), tier.to_string())].into());
        api.create(&PostParams::default(), &c).await.unwrap();
    }
    let names = |l: kube::api::ObjectList<ConfigMap>| {
        l.items
            .into_iter()
            .map(|c| c.metadata.name.unwrap())
            .collect::<Vec<_>>()
    };
    let cases: &[(&str, &str, &[&str])] = &[
        ("tier=back", "", &["b", "c"]),
        ("tier!=back", "", &["a"]),
        ("tier in (front,back)", "", &["a", "b", "c"]),
        ("tier notin (front)", "", &["b", "c"]),
        ("tier", "", &["a", "b", "c"]),
        ("!tier", "", &[]),
        ("", "metadata.name=b", &["b"]),
        ("tier=back", "metadata.name!=b", &["c"]),
    ];
    for (labels, fields, want) in cases {
        let lp = ListParams::default().labels(labels).fields(fields);
        assert_eq!(
            names(api.list(&lp).await.unwrap()),
            *want,
            "{labels} / {fields}"
        );
    }
    let (code, _, _) = status(
        api.list(&ListParams::default().labels("tier in ("))
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 400);
    let (code, _, _) = status(
        api.list(&ListParams::default().fields("spec.nope=1"))
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 400);
}

/// API Concepts › "Dry-run": dryRun=All persists nothing.
#[tokio::test]
async fn dry_run_persists_nothing() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let pp = PostParams {
        dry_run: true,
        ..Default::default()
    };
    api.create(&pp, &cm("dry", json!({}))).await.unwrap();
    assert_eq!(status(api.get("dry").await.unwrap_err()).0, 404);
    api.create(&PostParams::default(), &cm("real", json!({"a": "1"})))
        .await
        .unwrap();
    let patch = Patch::Merge(json!({"data": {"a": "2"}}));
    let out = api
        .patch(
            "real",
            &PatchParams {
                dry_run: true,
                ..Default::default()
            },
            &patch,
        )
        .await
        .unwrap();
    assert_eq!(out.data.unwrap()["a"], "2");
    assert_eq!(api.get("real").await.unwrap().data.unwrap()["a"], "1");
    api.delete(
        "real",
        &DeleteParams {
            dry_run: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(api.get("real").await.is_ok());
}

/// API Concepts › "Patch and apply": JSON patch, merge patch and strategic
/// merge patch (containers and env merged by name).
#[tokio::test]
async fn patch_kinds() {
    let e = env().await;
    let api: Api<Deployment> = e.api();
    let mut d = deployment("web", 1);
    d.spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers[0]
        .env = Some(serde_json::from_value(json!([{"name": "A", "value": "1"}])).unwrap());
    api.create(&PostParams::default(), &d).await.unwrap();
    let pp = PatchParams::default();
    let smp = Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
        {"name": "main", "env": [{"name": "B", "value": "2"}]},
        {"name": "sidecar", "image": "busybox"}
    ]}}}}));
    let out = api.patch("web", &pp, &smp).await.unwrap();
    let spec = out.spec.unwrap().template.spec.unwrap();
    assert_eq!(spec.containers.len(), 2);
    let env: Vec<_> = spec.containers[0]
        .env
        .clone()
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(env, ["A", "B"]);
    let merge = Patch::Merge(json!({"metadata": {"labels": {"extra": "yes"}}}));
    let out = api.patch("web", &pp, &merge).await.unwrap();
    assert_eq!(out.metadata.labels.unwrap()["extra"], "yes");
    let json_patch: json_patch::Patch =
        serde_json::from_value(json!([{"op": "replace", "path": "/spec/replicas", "value": 4}]))
            .unwrap();
    let out = api
        .patch("web", &pp, &Patch::Json::<()>(json_patch))
        .await
        .unwrap();
    assert_eq!(out.spec.unwrap().replicas, Some(4));
    // A failing JSON patch test op is rejected and changes nothing.
    let bad: json_patch::Patch =
        serde_json::from_value(json!([{"op": "test", "path": "/spec/replicas", "value": 9}]))
            .unwrap();
    assert!(
        api.patch("web", &pp, &Patch::Json::<()>(bad))
            .await
            .is_err()
    );
    let (code, _, _) = status(api.patch("missing", &pp, &merge).await.unwrap_err());
    assert_eq!(code, 404);
}

/// API Concepts › "Generation" (object spec and status): generation bumps on
/// spec changes only; status writes through /status change only status and
/// main writes keep status.
#[tokio::test]
async fn generation_and_status_subresource() {
    let e = env().await;
    let api: Api<Deployment> = e.api();
    let d = api
        .create(&PostParams::default(), &deployment("g", 1))
        .await
        .unwrap();
    assert_eq!(d.metadata.generation, Some(1));
    let out = api
        .patch(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap();
    assert_eq!(out.metadata.generation, Some(1));
    let out = api
        .patch(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 2}})),
        )
        .await
        .unwrap();
    assert_eq!(out.metadata.generation, Some(2));
    // Status write ignores spec changes.
    let st = api
        .patch_status(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 9}, "status": {"replicas": 5}})),
        )
        .await
        .unwrap();
    assert_eq!(st.status.unwrap().replicas, Some(5));
    assert_eq!(st.spec.unwrap().replicas, Some(2));
    // Main write ignores status (a real deployment controller may have
    // rewritten status meanwhile, so this part is kube-sim only).
    if crate::support::is_real() {
        return;
    }
    let out = api
        .patch(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 1}})),
        )
        .await
        .unwrap();
    assert_eq!(out.status.unwrap().replicas, Some(5));
}

/// API Concepts › "Finalizers" / garbage collection: an object with
/// finalizers stays with a deletionTimestamp until they are cleared.
#[tokio::test]
async fn finalizers_hold_deletion() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let mut c = cm("f", json!({}));
    c.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    api.create(&PostParams::default(), &c).await.unwrap();
    let r = api.delete("f", &DeleteParams::default()).await.unwrap();
    assert!(r.is_left(), "object still there");
    let held = api.get("f").await.unwrap();
    assert!(held.metadata.deletion_timestamp.is_some());
    api.patch(
        "f",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert_eq!(status(api.get("f").await.unwrap_err()).0, 404);
}

/// API Concepts › DeleteOptions preconditions: a uid or resourceVersion
/// mismatch is 409 Conflict.
#[tokio::test]
async fn delete_preconditions() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    api.create(&PostParams::default(), &cm("p", json!({})))
        .await
        .unwrap();
    let dp = DeleteParams {
        preconditions: Some(kube::api::Preconditions {
            uid: Some("nope".into()),
            resource_version: None,
        }),
        ..Default::default()
    };
    assert_eq!(status(api.delete("p", &dp).await.unwrap_err()).0, 409);
    let dp = DeleteParams {
        preconditions: Some(kube::api::Preconditions {
            uid: None,
            resource_version: Some("1".into()),
        }),
        ..Default::default()
    };
    assert_eq!(status(api.delete("p", &dp).await.unwrap_err()).0, 409);
    api.delete("p", &DeleteParams::default()).await.unwrap();
    assert_eq!(
        status(api.delete("p", &DeleteParams::default()).await.unwrap_err()).0,
        404
    );
}

/// API Concepts › "Collections" (deletecollection) and all-namespace lists.
#[tokio::test]
async fn delete_collection_and_all_namespaces() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    for n in ["a", "b", "c"] {
        let mut c = cm(n, json!({}));
        c.metadata.labels = Some([("drop".to_string(), (n != "c").to_string())].into());
        api.create(&PostParams::default(), &c).await.unwrap();
    }
    let all: Api<ConfigMap> = Api::all(e.client.clone());
    let mine = all
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|c| c.metadata.namespace.as_deref() == Some(&e.ns))
        .count();
    assert_eq!(mine, 3);
    api.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("drop=true"),
    )
    .await
    .unwrap();
    let left: Vec<_> = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.metadata.name.unwrap())
        .collect();
    assert_eq!(left, ["c"]);
}

/// API Concepts › garbage collection (ownerReferences): deleting an owner
/// deletes its dependents (background propagation).
#[tokio::test]
async fn owner_reference_cascade() {
    let e = env().await;
    let owner_api: Api<ConfigMap> = e.api();
    let owner = owner_api
        .create(&PostParams::default(), &cm("owner", json!({})))
        .await
        .unwrap();
    let pods: Api<Pod> = e.api();
    let _ = pods; // dependents may be any kind; a ConfigMap keeps this test cheap.
    let mut dep = cm("dep", json!({}));
    dep.metadata.owner_references = Some(vec![
        k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "owner".into(),
            uid: owner.metadata.uid.clone().unwrap(),
            ..Default::default()
        },
    ]);
    owner_api
        .create(&PostParams::default(), &dep)
        .await
        .unwrap();
    owner_api
        .delete("owner", &DeleteParams::default())
        .await
        .unwrap();
    if crate::support::is_real() {
        return; // the real garbage collector is asynchronous
    }
    assert_eq!(status(owner_api.get("dep").await.unwrap_err()).0, 404);
}

/// Garbage collection (ownerReferences): an object whose owners do not
/// exist — e.g. copied with its source's ownerReferences — is deleted.
#[tokio::test]
async fn dangling_owner_references_are_collected() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let mut copy = cm("copied", json!({}));
    copy.metadata.owner_references = Some(vec![
        k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            name: "web-5d4f8c7b9".into(),
            uid: "00000000-0000-0000-0000-000000000000".into(),
            ..Default::default()
        },
    ]);
    api.create(&PostParams::default(), &copy).await.unwrap();
    let gone =
        kube::runtime::wait::await_condition(api.clone(), "copied", |c: Option<&ConfigMap>| {
            c.is_none()
        });
    tokio::time::timeout(std::time::Duration::from_secs(120), gone)
        .await
        .expect("garbage-collected")
        .unwrap();
}
