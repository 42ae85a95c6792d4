//! Namespace lifecycle: API Concepts › namespaces; "Namespaces" concept page
//! (Terminating, content deletion) and finalizers.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::wait::{await_condition, conditions};
use serde_json::json;

use crate::support::{cm, env, list_rv, status};

/// Content in a missing namespace is 404.
#[tokio::test]
async fn create_in_missing_namespace_is_404() {
    let e = env().await;
    let api: Api<ConfigMap> = Api::namespaced(e.client.clone(), "does-not-exist-kube-sim");
    let (code, reason, _) = status(
        api.create(&PostParams::default(), &cm("x", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (404, "NotFound"));
}

/// Deleting a namespace marks it Terminating; new content is 403 Forbidden;
/// existing content is deleted (with watch events); once finalizers clear,
/// the namespace goes.
#[tokio::test]
async fn namespace_termination() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let mut held = cm("held", json!({}));
    held.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    api.create(&PostParams::default(), &held).await.unwrap();
    api.create(&PostParams::default(), &cm("plain", json!({})))
        .await
        .unwrap();
    let rv = list_rv(&api).await;
    let mut events = api
        .watch(&WatchParams::default().timeout(60), &rv)
        .await
        .unwrap()
        .boxed();

    let nsapi: Api<Namespace> = Api::all(e.client.clone());
    nsapi.delete(&e.ns, &DeleteParams::default()).await.unwrap();
    let ns = nsapi.get(&e.ns).await.unwrap();
    assert_eq!(ns.status.unwrap().phase.as_deref(), Some("Terminating"));
    let (code, reason, _) = status(
        api.create(&PostParams::default(), &cm("late", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (403, "Forbidden"));

    // `plain` is deleted; `held` gets a deletionTimestamp.
    let mut deleted = false;
    let mut marked = false;
    while !(deleted && marked) {
        match events.try_next().await.unwrap().expect("watch open") {
            WatchEvent::Deleted(o) if o.metadata.name.as_deref() == Some("plain") => deleted = true,
            WatchEvent::Modified(o)
                if o.metadata.name.as_deref() == Some("held")
                    && o.metadata.deletion_timestamp.is_some() =>
            {
                marked = true
            }
            _ => {}
        }
    }
    api.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    let uid = ns_uid(&nsapi, &e.ns).await;
    let gone = await_condition(nsapi.clone(), &e.ns, conditions::is_deleted(&uid));
    tokio::time::timeout(std::time::Duration::from_secs(120), gone)
        .await
        .expect("namespace removed")
        .unwrap();
}

async fn ns_uid(api: &Api<Namespace>, name: &str) -> String {
    api.get_opt(name)
        .await
        .unwrap()
        .and_then(|n| n.metadata.uid)
        .unwrap_or_default()
}
