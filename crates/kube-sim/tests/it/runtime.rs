//! kube-runtime conformance: `watcher` (list-watch and streaming-list) and
//! `reflector` converge on the server's list after randomised
//! create/update/delete sequences; resourceVersions strictly increase; no
//! relist unless a 410 was injected. Follows API Concepts › "Efficient
//! detection of changes", "Streaming lists", "410 Gone responses".

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::{reflector, watcher};
use serde_json::json;

use crate::support::{Rng, cm, env, is_real};

async fn random_ops(api: Api<ConfigMap>, seed: u64, ops: usize) {
    let mut rng = Rng(seed.max(1));
    for i in 0..ops {
        let name = format!("obj-{}", rng.below(20));
        let r = match rng.below(4) {
            0 => api
                .create(
                    &PostParams::default(),
                    &cm(&name, json!({"i": i.to_string()})),
                )
                .await
                .map(|_| ()),
            1 => api
                .patch(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"data": {"i": i.to_string()}})),
                )
                .await
                .map(|_| ()),
            2 => api
                .patch(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"metadata": {"labels": {"flip": (i % 2).to_string()}}})),
                )
                .await
                .map(|_| ()),
            _ => api
                .delete(&name, &DeleteParams::default())
                .await
                .map(|_| ()),
        };
        match r {
            Ok(()) => {}
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {}
            Err(e) => panic!("op {i} failed: {e}"),
        }
    }
}

async fn server_state(api: &Api<ConfigMap>, lp: &ListParams) -> BTreeMap<String, String> {
    api.list(lp)
        .await
        .unwrap()
        .items
        .iter()
        .map(name_rv)
        .collect()
}

/// A ConfigMap's (name, resourceVersion).
fn name_rv(c: &ConfigMap) -> (String, String) {
    (
        c.metadata.name.clone().unwrap(),
        c.metadata.resource_version.clone().unwrap(),
    )
}

/// Runs a reflector over `cfg` while random ops happen; returns once the
/// reflector's store equals the server's list.
async fn converge(
    cfg: watcher::Config,
    seed: u64,
    inject_410: bool,
) -> (usize, crate::support::TestEnv) {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let (reader, writer) = reflector::store();
    let mut stream = reflector(writer, watcher(api.clone(), cfg)).boxed();
    // Wait for the initial list to finish.
    loop {
        if let Some(Ok(watcher::Event::InitDone)) = stream.next().await {
            break;
        }
    }
    let mut ops = tokio::spawn(random_ops(api.clone(), seed, 150));
    let mut ops_done = false;
    let mut last_rv = 0u64;
    let mut expired = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        tokio::select! {
            r = &mut ops, if !ops_done => {
                r.unwrap();
                ops_done = true;
            }
            ev = stream.next() => {
                let ev = ev.expect("stream open");
                if let Ok(watcher::Event::Apply(o) | watcher::Event::Delete(o)) = &ev {
                    let rv: u64 = o.metadata.resource_version.clone().unwrap().parse().unwrap();
                    assert!(rv > last_rv, "resourceVersions strictly increase on the watch: {rv} after {last_rv}");
                    last_rv = rv;
                }
                if let Ok(watcher::Event::Init) = &ev {
                    last_rv = 0; // a relist restarts the sequence
                }
            }
            _ = tokio::time::sleep_until(deadline) => panic!("reflector did not converge"),
        }
        if inject_410 && !expired && last_rv > 0 {
            e.sim().expire_watches();
            expired = true;
        }
        if ops_done {
            let want = server_state(&api, &ListParams::default()).await;
            let have: BTreeMap<String, String> =
                reader.state().iter().map(|c| name_rv(c)).collect();
            if want == have && (!inject_410 || expired) {
                break;
            }
        }
    }
    let lists = if is_real() {
        0
    } else {
        e.sim()
            .requests()
            // The watcher pages its lists (limit=500); the test's own state checks do not.
            .filter(|r| {
                r.verb == "list"
                    && r.query.contains("limit=")
                    && r.resource.as_deref() == Some("configmaps")
                    && r.namespace.as_deref() == Some(e.ns.as_str())
            })
            .len()
    };
    (lists, e)
}

#[tokio::test]
async fn reflector_converges_list_watch() {
    for seed in [1, 7, 42] {
        let (lists, _e) = converge(watcher::Config::default(), seed, false).await;
        if !is_real() {
            assert_eq!(lists, 1, "no relist without a 410 (seed {seed})");
        }
    }
}

#[tokio::test]
async fn reflector_converges_streaming_list() {
    for seed in [3, 11] {
        let (lists, _e) = converge(watcher::Config::default().streaming_lists(), seed, false).await;
        if !is_real() {
            assert_eq!(
                lists, 0,
                "a streaming list needs no list call (seed {seed})"
            );
        }
    }
}

#[tokio::test]
async fn reflector_relists_after_injected_410() {
    crate::sim_only!("injecting a 410 is a kube-sim feature");
    let (lists, _e) = converge(watcher::Config::default(), 99, true).await;
    assert_eq!(lists, 2, "exactly one relist after the injected 410");
}

/// The watcher with a label selector converges too (objects move in/out).
#[tokio::test]
async fn watcher_with_selector_converges() {
    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let (reader, writer) = reflector::store();
    let cfg = watcher::Config::default().labels("flip=1");
    let mut stream = reflector(writer, watcher(api.clone(), cfg)).boxed();
    let mut ops = tokio::spawn(random_ops(api.clone(), 5, 120));
    let mut ops_done = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        tokio::select! {
            r = &mut ops, if !ops_done => {
                r.unwrap();
                ops_done = true;
            }
            _ = stream.next() => {}
            _ = tokio::time::sleep_until(deadline) => {
                let have: Vec<_> = reader.state().iter().map(|c| name_rv(c)).collect();
                let want: Vec<_> = api.list(&ListParams::default().labels("flip=1")).await.unwrap().items.iter().map(name_rv).collect();
                panic!("did not converge: have {have:?} want {want:?}");
            }
        }
        if ops_done {
            let want = server_state(&api, &ListParams::default().labels("flip=1")).await;
            let have: BTreeMap<String, String> =
                reader.state().iter().map(|c| name_rv(c)).collect();
            if want == have {
                break;
            }
        }
    }
}

/// kube-runtime `Controller` works unchanged: a reconciler that server-side
/// applies an owned child per ConfigMap converges, and deleting the parent
/// cascades to the child (ownerReferences).
#[tokio::test]
async fn controller_reconciles_with_server_side_apply() {
    use std::sync::Arc;

    use k8s_openapi::api::core::v1::Secret;
    use kube::Resource;
    use kube::runtime::controller::{Action, Controller};

    let e = env().await;
    let parents: Api<ConfigMap> = e.api();
    let children: Api<Secret> = e.api();

    #[derive(Debug, thiserror::Error)]
    #[error(transparent)]
    struct Error(#[from] kube::Error);

    async fn reconcile(cm: Arc<ConfigMap>, secrets: Arc<Api<Secret>>) -> Result<Action, Error> {
        let name = cm.metadata.name.clone().unwrap();
        let owner = cm.controller_owner_ref(&()).unwrap();
        let child = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": format!("{name}-child"), "ownerReferences": [owner]},
            "stringData": {"from": name},
        });
        secrets
            .patch(
                &format!("{name}-child"),
                &PatchParams::apply("test-controller").force(),
                &Patch::Apply(child),
            )
            .await?;
        Ok(Action::await_change())
    }

    let ctl = Controller::new(parents.clone(), watcher::Config::default())
        .owns(children.clone(), watcher::Config::default())
        .run(
            reconcile,
            |_, _, _| Action::await_change(),
            Arc::new(children.clone()),
        )
        .boxed();
    let driver = tokio::spawn(async move {
        let mut ctl = ctl;
        while ctl.next().await.is_some() {}
    });
    for n in ["p1", "p2", "p3"] {
        parents
            .create(&PostParams::default(), &cm(n, json!({})))
            .await
            .unwrap();
    }
    for n in ["p1", "p2", "p3"] {
        let cond = |s: Option<&Secret>| s.is_some();
        tokio::time::timeout(
            Duration::from_secs(60),
            kube::runtime::wait::await_condition(children.clone(), &format!("{n}-child"), cond),
        )
        .await
        .expect("child created")
        .unwrap();
    }
    parents
        .delete("p1", &DeleteParams::default())
        .await
        .unwrap();
    let gone =
        kube::runtime::wait::await_condition(children.clone(), "p1-child", |s: Option<&Secret>| {
            s.is_none()
        });
    tokio::time::timeout(Duration::from_secs(120), gone)
        .await
        .expect("child garbage-collected")
        .unwrap();
    driver.abort();
}

/// kube-runtime's event `Recorder` (events.k8s.io/v1) publishes Events.
#[tokio::test]
async fn event_recorder_publishes() {
    use k8s_openapi::api::events::v1::Event;
    use kube::Resource;
    use kube::runtime::events::{Event as RecEvent, EventType, Recorder, Reporter};

    let e = env().await;
    let api: Api<ConfigMap> = e.api();
    let target = api
        .create(&PostParams::default(), &cm("evented", json!({})))
        .await
        .unwrap();
    let recorder = Recorder::new(
        e.client.clone(),
        Reporter {
            controller: "kube-sim-test".into(),
            instance: None,
        },
    );
    recorder
        .publish(
            &RecEvent {
                type_: EventType::Normal,
                reason: "Tested".into(),
                note: Some("hello".into()),
                action: "Test".into(),
                secondary: None,
            },
            &target.object_ref(&()),
        )
        .await
        .unwrap();
    let events: Api<Event> = e.api();
    let list = events.list(&ListParams::default()).await.unwrap();
    assert!(
        list.items
            .iter()
            .any(|ev| ev.reason.as_deref() == Some("Tested"))
    );
}
