//! Watch semantics: API Concepts › "Efficient detection of changes",
//! "Watch bookmarks", "Streaming lists", "410 Gone responses".

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;

use crate::sim_only;
use crate::support::{cm, env, env_with, list_rv};

fn name(ev: &WatchEvent<ConfigMap>) -> String {
    match ev {
        WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
            o.metadata.name.clone().unwrap_or_default()
        }
        WatchEvent::Bookmark(_) => "bookmark".into(),
        WatchEvent::Error(e) => format!("error {}", e.code),
    }
}

fn kind(ev: &WatchEvent<ConfigMap>) -> &'static str {
    match ev {
        WatchEvent::Added(_) => "ADDED",
        WatchEvent::Modified(_) => "MODIFIED",
        WatchEvent::Deleted(_) => "DELETED",
        WatchEvent::Bookmark(_) => "BOOKMARK",
        WatchEvent::Error(_) => "ERROR",
    }
}

/// "Efficient detection of changes": events after the list's
/// resourceVersion, in order, with increasing resourceVersions.
#[tokio::test]
async fn watch_from_list_resource_version() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let rv = list_rv(&api).await;
    let mut stream = api
        .watch(&WatchParams::default().timeout(30), &rv)
        .await
        .unwrap()
        .boxed();
    api.create(&PostParams::default(), &cm("w", json!({"a": "1"})))
        .await
        .unwrap();
    api.patch(
        "w",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"a": "2"}})),
    )
    .await
    .unwrap();
    api.delete("w", &DeleteParams::default()).await.unwrap();
    let mut seen = Vec::new();
    let mut last_rv = 0u64;
    while seen.len() < 3 {
        let ev = stream.try_next().await.unwrap().expect("stream open");
        if let WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) = &ev {
            let rv: u64 = o
                .metadata
                .resource_version
                .clone()
                .unwrap()
                .parse()
                .unwrap();
            assert!(rv > last_rv, "resourceVersions strictly increase");
            last_rv = rv;
            seen.push(format!("{} {}", kind(&ev), name(&ev)));
        }
    }
    assert_eq!(seen, ["ADDED w", "MODIFIED w", "DELETED w"]);
}

/// "Semantics for watch": resourceVersion unset or "0" starts with ADDED
/// events for the current state.
#[tokio::test]
async fn watch_from_zero_sends_current_state() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    for n in ["a", "b"] {
        api.create(&PostParams::default(), &cm(n, json!({})))
            .await
            .unwrap();
    }
    let mut stream = api
        .watch(&WatchParams::default().timeout(30), "0")
        .await
        .unwrap()
        .boxed();
    let mut names = Vec::new();
    while names.len() < 2 {
        let ev = stream.try_next().await.unwrap().unwrap();
        assert_eq!(kind(&ev), "ADDED");
        names.push(name(&ev));
    }
    names.sort();
    assert_eq!(names, ["a", "b"]);
}

/// "Efficient detection of changes" with a label selector: an object moving
/// out of the selector is DELETED for that watcher, moving in is ADDED.
#[tokio::test]
async fn selector_transitions() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let rv = list_rv(&api).await;
    let mut stream = api
        .watch(
            &WatchParams::default().labels("watched=yes").timeout(30),
            &rv,
        )
        .await
        .unwrap()
        .boxed();
    let mut c = cm("t", json!({}));
    c.metadata.labels = Some([("watched".to_string(), "yes".to_string())].into());
    api.create(&PostParams::default(), &c).await.unwrap();
    let pp = PatchParams::default();
    api.patch(
        "t",
        &pp,
        &Patch::Merge(json!({"metadata": {"labels": {"watched": "no"}}})),
    )
    .await
    .unwrap();
    api.patch(
        "t",
        &pp,
        &Patch::Merge(json!({"metadata": {"labels": {"watched": "yes"}}})),
    )
    .await
    .unwrap();
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let ev = stream.try_next().await.unwrap().unwrap();
        if kind(&ev) != "BOOKMARK" {
            kinds.push(kind(&ev));
        }
    }
    assert_eq!(kinds, ["ADDED", "DELETED", "ADDED"]);
}

/// "410 Gone responses": a watch from a resourceVersion older than the
/// retained history gets an ERROR event with a 410 Status.
#[tokio::test]
async fn too_old_resource_version_is_410() {
    sim_only!("compacting the history on demand is a kube-sim feature");
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let rv = list_rv(&api).await;
    api.create(&PostParams::default(), &cm("x", json!({})))
        .await
        .unwrap();
    e.sim().compact();
    let mut stream = api
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    match stream.try_next().await.unwrap().unwrap() {
        WatchEvent::Error(s) => assert_eq!((s.code, s.reason.as_str()), (410, "Expired")),
        other => panic!("expected ERROR 410, got {other:?}"),
    }
}

/// "410 Gone responses" injected into a live watch.
#[tokio::test]
async fn injected_expiry_ends_live_watch_with_410() {
    sim_only!("injecting 410 into a live watch is a kube-sim feature");
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let rv = list_rv(&api).await;
    let mut stream = api
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    e.sim().expire_watches();
    match stream.try_next().await.unwrap().unwrap() {
        WatchEvent::Error(s) => assert_eq!(s.code, 410),
        other => panic!("expected ERROR 410, got {other:?}"),
    }
    assert!(
        stream.try_next().await.unwrap().is_none(),
        "the watch ends after the error"
    );
}

/// "Watch bookmarks": with allowWatchBookmarks the server sends BOOKMARK
/// events carrying the current resourceVersion.
#[tokio::test]
async fn bookmarks() {
    sim_only!("a real server sends bookmarks about once a minute");
    let e =
        env_with(kube_sim::KubeSim::builder().bookmark_interval(Duration::from_millis(20))).await;
    let api: Api<ConfigMap> = e.api();
    let rv = list_rv(&api).await;
    let mut stream = api
        .watch(
            &WatchParams {
                bookmarks: true,
                ..Default::default()
            },
            &rv,
        )
        .await
        .unwrap()
        .boxed();
    match stream.try_next().await.unwrap().unwrap() {
        WatchEvent::Bookmark(b) => assert!(
            b.metadata.resource_version.parse::<u64>().unwrap() >= rv.parse::<u64>().unwrap()
        ),
        other => panic!("expected a bookmark, got {other:?}"),
    }
}

/// "Streaming lists": sendInitialEvents=true sends the current state as
/// ADDED events, then a bookmark annotated `k8s.io/initial-events-end`.
#[tokio::test]
async fn send_initial_events() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    for n in ["a", "b", "c"] {
        api.create(&PostParams::default(), &cm(n, json!({})))
            .await
            .unwrap();
    }
    let wp = WatchParams::streaming_lists().timeout(30);
    let mut stream = api.watch(&wp, "").await.unwrap().boxed();
    let mut added = 0;
    loop {
        match stream.try_next().await.unwrap().unwrap() {
            WatchEvent::Added(_) => added += 1,
            WatchEvent::Bookmark(b) => {
                if b.metadata
                    .annotations
                    .get("k8s.io/initial-events-end")
                    .map(String::as_str)
                    == Some("true")
                {
                    break;
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(added, 3);
}

/// "Semantics for watch": timeoutSeconds ends the stream.
#[tokio::test]
async fn timeout_seconds_ends_the_watch() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let rv = list_rv(&api).await;
    let stream = api
        .watch(&WatchParams::default().timeout(1), &rv)
        .await
        .unwrap();
    let events: Vec<_> = stream.collect().await;
    assert!(events.iter().all(|e| e.is_ok()));
}
