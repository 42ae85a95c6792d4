//! Reported status: the statuses kube-manager pushes move an environment
//! (creating → running, degraded or failed with the workload's reason,
//! pausing → paused, resuming → running); a report for a namespace of
//! another environment, or of no environment, changes nothing; the
//! long-poll `GET ?after=REVISION` answers when a report changes the
//! environment or its cluster disconnects, and unchanged at the end of its
//! wait; events list newest first.

use lapdev_tunnel_proto::EnvironmentPhase;
use reqwest::StatusCode;
use serde_json::json;

use super::{ENVS, World, deployment, ns, report};

#[tokio::test]
async fn reported_status_moves_the_environment() {
    let w = World::start().await;
    let env = w.create_ok(w.admin(), "st", "personal").await;
    assert_eq!(env["status"], "creating");
    let env = w
        .wait_env("st", "applied", |e| e["observed_generation"] == 1)
        .await;
    assert_eq!(env["status"], "creating", "applied, nothing reported yet");

    // Starting, then running: a long-poll started before the report
    // answers with the change.
    w.link()
        .report(report(
            &env,
            1,
            EnvironmentPhase::Creating,
            vec![deployment("api", 1, 0, None)],
        ))
        .await;
    let env = w.env_ok("st").await;
    assert_eq!(env["status"], "creating");
    let poll = format!("{ENVS}/st?after={}", env["revision"]);
    let (polled, ()) = tokio::join!(w.t.get(&poll, w.admin()), async {
        w.link()
            .report(report(
                &env,
                1,
                EnvironmentPhase::Running,
                vec![deployment("api", 1, 1, None), deployment("web", 1, 1, None)],
            ))
            .await;
    });
    let (s, running) = polled;
    assert_eq!(s, StatusCode::OK, "{running}");
    assert_eq!(running["status"], "running", "{running}");
    assert!(running["revision"].as_u64() > env["revision"].as_u64());
    assert_eq!(
        running["workloads"][0],
        json!({"kind": "Deployment", "name": "api", "desired": 1, "ready": 1, "available": 1})
    );
    assert!(running.get("message").is_none(), "{running}");

    // Nothing changes: the long-poll answers unchanged at the end of its wait.
    let (s, same) =
        w.t.get(
            &format!("{ENVS}/st?after={}&wait_secs=1", running["revision"]),
            w.admin(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(same, running);

    // Degraded and failed name the failing workload and why.
    let pull = "Back-off pulling image \"shop/api:2\"";
    w.link()
        .report(report(
            &env,
            1,
            EnvironmentPhase::Degraded,
            vec![
                deployment("api", 2, 1, Some(("ImagePullBackOff", pull))),
                deployment("web", 1, 1, None),
            ],
        ))
        .await;
    let degraded = w.env_ok("st").await;
    assert_eq!(degraded["status"], "degraded");
    assert_eq!(
        degraded["message"],
        format!("Deployment/api: ImagePullBackOff: {pull}")
    );
    assert_eq!(degraded["workloads"][0]["reason"], "ImagePullBackOff");
    let (_, list) = w.t.get(ENVS, w.admin()).await;
    assert_eq!(list["items"][0]["status"], "degraded");
    assert_eq!(list["items"][0]["message"], degraded["message"]);

    let crash = "back-off 5m0s restarting failed container";
    w.link()
        .report(report(
            &env,
            1,
            EnvironmentPhase::Failed,
            vec![
                deployment("api", 1, 1, None),
                deployment("web", 1, 0, Some(("CrashLoopBackOff", crash))),
            ],
        ))
        .await;
    let failed = w.env_ok("st").await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(
        failed["message"],
        format!("Deployment/web: CrashLoopBackOff: {crash}")
    );

    // Reports that are not this environment's change nothing.
    let mut other = report(&env, 1, EnvironmentPhase::Running, vec![]);
    other.environment_id = Some(lapdev_domain::EnvironmentId::new().to_string());
    w.link().report(other).await;
    let mut unknown = report(&env, 1, EnvironmentPhase::Running, vec![]);
    unknown.namespace = "lapdev-nobody-abcde".into();
    w.link().report(unknown).await;
    assert_eq!(w.env_ok("st").await, failed, "ignored");

    // Pause and resume follow the reports of the new generations.
    let (_, pausing) = w.act(w.admin(), "st", "pause").await;
    assert_eq!(pausing["status"], "pausing");
    w.fake.wait_apply(ns(&env), 2, 1).await;
    let pausing = w
        .wait_env("st", "applied the pause", |e| e["observed_generation"] == 2)
        .await;
    assert_eq!(pausing["status"], "pausing", "not reported paused yet");
    w.link()
        .report(report(
            &env,
            2,
            EnvironmentPhase::Paused,
            vec![deployment("api", 0, 0, None), deployment("web", 0, 0, None)],
        ))
        .await;
    assert_eq!(w.env_ok("st").await["status"], "paused");
    let (_, resuming) = w.act(w.admin(), "st", "resume").await;
    assert_eq!(resuming["status"], "resuming");
    w.fake.wait_apply(ns(&env), 3, 1).await;
    // (Recorded before the reports below, so the events' order is known.)
    w.wait_env("st", "applied the resume", |e| {
        e["observed_generation"] == 3
    })
    .await;
    // A late report of an older generation does not make it look running.
    w.link()
        .report(report(&env, 2, EnvironmentPhase::Paused, vec![]))
        .await;
    assert_eq!(w.env_ok("st").await["status"], "resuming");
    w.link()
        .report(report(
            &env,
            3,
            EnvironmentPhase::Running,
            vec![deployment("api", 1, 1, None)],
        ))
        .await;
    assert_eq!(w.wait_status("st", "running").await["generation"], 3);

    // Events, newest first.
    let (s, events) = w.t.get(&format!("{ENVS}/st/events"), w.admin()).await;
    assert_eq!(s, StatusCode::OK, "{events}");
    let items = events["items"].as_array().unwrap();
    let messages: Vec<&str> = items
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages[0], "status: running", "{messages:#?}");
    assert!(
        messages.last().unwrap().starts_with(
            "created from catalog shop (3 objects) on cluster dev, namespace lapdev-st-"
        ),
        "{messages:#?}"
    );
    let failed_at = position(
        &messages,
        "status: failed — Deployment/web: CrashLoopBackOff",
    );
    let degraded_at = position(
        &messages,
        "status: degraded — Deployment/api: ImagePullBackOff",
    );
    let paused_at = position(&messages, "status: paused");
    assert!(
        paused_at < failed_at && failed_at < degraded_at,
        "{messages:#?}"
    );
    let level = |i: usize| items[i]["level"].as_str().unwrap();
    assert_eq!((level(failed_at), level(paused_at)), ("warning", "info"));
    let times: Vec<jiff::Timestamp> = items
        .iter()
        .map(|e| e["at"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(times.is_sorted_by(|a, b| a >= b), "newest first: {times:?}");
    let (s, one) =
        w.t.get(&format!("{ENVS}/st/events?limit=1"), w.admin())
            .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    assert_eq!(one["items"][0], items[0]);
    let (s, b) =
        w.t.get(&format!("{ENVS}/st/events?limit=0"), w.admin())
            .await;
    assert_eq!(crate::summary(s, &b), "422 invalid field=limit", "{b}");
}

fn position(messages: &[&str], prefix: &str) -> usize {
    messages
        .iter()
        .position(|m| m.starts_with(prefix))
        .unwrap_or_else(|| panic!("no event starting {prefix:?} in {messages:#?}"))
}

#[tokio::test]
async fn a_namespace_deleted_behind_lapdevs_back_is_recreated() {
    let w = World::start().await;
    let env = w.create_ok(w.admin(), "back", "personal").await;
    w.fake.wait_apply(ns(&env), 1, 1).await;
    w.link()
        .report(report(&env, 1, EnvironmentPhase::Running, vec![]))
        .await;
    let running = w.wait_status("back", "running").await;

    // Another cluster reporting this namespace gone changes nothing: a
    // report is only about the reporting cluster's namespaces.
    let (_, token) = super::add_cluster(&w.t, "other", json!({})).await;
    let other = super::fake::Fake::new();
    let other_link = other.connect(&w.t, &token).await;
    let mut gone = report(&env, 1, EnvironmentPhase::Deleted, vec![]);
    gone.environment_id = None;
    gone.observed_generation = None;
    other_link.report(gone.clone()).await;
    assert_eq!(w.env_ok("back").await, running, "ignored");

    // Its own cluster reports it gone: the same generation is sent again.
    w.link().report(gone).await;
    let again = w.fake.wait_apply(ns(&env), 1, 2).await;
    assert!(!again.paused);
    let events = w.events("back").await;
    assert!(
        events.contains(&format!(
            "namespace {} disappeared; re-creating it",
            ns(&env)
        )),
        "{events:?}"
    );
    let env = w.env_ok("back").await;
    assert_eq!(env["status"], "creating", "{env}");
    assert!(other.seen().is_empty(), "{:?}", other.seen());
}

#[tokio::test]
async fn a_watcher_learns_that_the_cluster_went_away() {
    let mut w = World::start().await;
    let env = w.create_ok(w.admin(), "away", "personal").await;
    w.fake.wait_apply(ns(&env), 1, 1).await;
    w.link()
        .report(report(&env, 1, EnvironmentPhase::Running, vec![]))
        .await;
    let running = w.wait_status("away", "running").await;
    assert_eq!(running["cluster_connected"], true);

    // A long-poll waiting on an unchanged environment answers when its
    // cluster disconnects: the view's revision covers the connection. (If
    // the close wins the race with the poll's start, the revision already
    // differs and the poll answers at once: the same outcome.)
    let poll = format!("{ENVS}/away?after={}", running["revision"]);
    let link = w.link.take().expect("connected");
    let (polled, ()) = tokio::join!(w.t.get(&poll, w.admin()), link.close());
    let (s, seen) = polled;
    assert_eq!(s, StatusCode::OK, "{seen}");
    assert_eq!(seen["cluster_connected"], false, "{seen}");
    assert_ne!(seen["revision"], running["revision"]);
    assert_eq!(seen["status"], "running", "nothing else changed");
}
