//! Deleting environments: accepted at once (`deleting`), then the
//! environment disappears when the cluster confirms the namespace is gone
//! (the status answer, a pushed `deleted` report, or `not_found`); while
//! deleting it cannot be paused or resumed; with the cluster away it waits
//! for it; and a cluster with live environments cannot be deleted.

use lapdev_tunnel_proto::{EnvironmentPhase, TunnelError};
use reqwest::{Method, StatusCode};

use super::fake::{Answer, Seen};
use super::{World, ns, report};
use crate::summary;

#[tokio::test]
async fn an_environment_disappears_once_its_namespace_is_gone() {
    let w = World::start().await;
    let env = w.create_ok(w.admin(), "one", "personal").await;
    w.fake.wait_apply(ns(&env), 1, 1).await;

    // The status answer says the namespace is gone.
    let (s, b) = w.delete(w.admin(), "one").await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(b["status"], "deleting");
    assert_eq!(b["desired"], "deleted");
    assert_eq!(b["generation"], 2);
    w.wait_gone("one").await;
    let seen = w.fake.seen();
    let delete = seen
        .iter()
        .position(|s| *s == Seen::Delete(ns(&env).into()))
        .expect("a delete_namespace");
    assert!(
        seen[delete..].contains(&Seen::Status(ns(&env).into())),
        "{seen:#?}"
    );
    assert!(w.names(w.admin()).await.is_empty());
    let (s, b) = w.act(w.admin(), "one", "pause").await;
    assert_eq!(summary(s, &b), "404 not_found", "{b}");
    let (s, _) =
        w.t.get(&format!("{}/one/events", super::ENVS), w.admin())
            .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Still terminating: stays `deleting` (and cannot change) until the
    // watch pushes `deleted`.
    w.fake.report_phase(EnvironmentPhase::Deleting);
    let env = w.create_ok(w.admin(), "two", "personal").await;
    w.fake.wait_apply(ns(&env), 1, 1).await;
    let (s, _) = w.delete(w.admin(), "two").await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let n = ns(&env).to_string();
    w.fake
        .wait_for("the status of two", |seen| {
            seen.contains(&Seen::Status(n.clone()))
        })
        .await;
    for verb in ["pause", "resume"] {
        let (s, b) = w.act(w.admin(), "two", verb).await;
        assert_eq!(summary(s, &b), "409 conflict", "{verb}: {b}");
        assert!(
            b["message"].as_str().unwrap().contains("is being deleted"),
            "{b}"
        );
    }
    let (s, again) = w.delete(w.admin(), "two").await;
    assert_eq!(s, StatusCode::ACCEPTED, "deleting twice is fine: {again}");
    assert_eq!(again["generation"], 2);
    let two = w.env_ok("two").await;
    assert_eq!(two["status"], "deleting");
    assert_eq!(w.names(w.admin()).await, ["two"], "listed until gone");
    let mut gone = report(&env, 1, EnvironmentPhase::Deleted, vec![]);
    gone.environment_id = None;
    gone.observed_generation = None;
    w.link().report(gone).await;
    let (s, _) = w.env(w.admin(), "two").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "removed by the pushed report");

    // kube-manager finds no such namespace: gone too.
    w.fake
        .answer_delete(Answer::Fail(TunnelError::not_found("no namespace")));
    let env = w.create_ok(w.admin(), "three", "shared").await;
    w.fake.wait_apply(ns(&env), 1, 1).await;
    let (s, _) = w.delete(w.admin(), "three").await;
    assert_eq!(s, StatusCode::ACCEPTED);
    w.wait_gone("three").await;
    assert!(w.names(w.admin()).await.is_empty());

    // Not a namespace Lapdev manages (kube-manager refuses): nothing of
    // ours is there, so the environment goes and the namespace stays.
    w.fake.answer_delete(Answer::Fail(TunnelError::forbidden(
        "namespace is not labelled lapdev.io/managed",
    )));
    let env = w.create_ok(w.admin(), "four", "personal").await;
    w.fake.wait_apply(ns(&env), 1, 1).await;
    let (s, _) = w.delete(w.admin(), "four").await;
    assert_eq!(s, StatusCode::ACCEPTED);
    w.wait_gone("four").await;

    let (actions, _) = w.audit().await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "environment.delete")
            .count(),
        4,
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_deletion_waits_for_the_cluster_to_return() {
    let mut w = World::start().await;
    let env = w.create_ok(w.admin(), "away", "personal").await;
    w.fake.wait_apply(ns(&env), 1, 1).await;
    w.disconnect().await;
    let (s, b) = w.delete(w.admin(), "away").await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(b["status"], "deleting");
    assert_eq!(b["message"], "waiting for cluster dev to come back online");
    let (_, list) = w.t.get(super::ENVS, w.admin()).await;
    assert_eq!(list["items"][0]["status"], "deleting");
    assert_eq!(
        list["items"][0]["message"],
        "waiting for cluster dev to come back online"
    );
    let (s, b) = w.act(w.admin(), "away", "pause").await;
    assert_eq!(summary(s, &b), "409 conflict", "{b}");

    w.reconnect().await;
    w.wait_gone("away").await;
    assert!(w.fake.seen().contains(&Seen::Delete(ns(&env).into())));
}

#[tokio::test]
async fn a_cluster_with_live_environments_cannot_be_deleted() {
    let mut w = World::start().await;
    let env = w.create_ok(w.admin(), "live", "personal").await;
    w.fake.wait_apply(ns(&env), 1, 1).await;
    let cluster = "/api/v1/orgs/default/clusters/dev";
    let (s, b) =
        w.t.call(Method::DELETE, cluster, Some(w.admin()), None)
            .await;
    assert_eq!(summary(s, &b), "409 conflict", "{b}");
    let message = b["message"].as_str().unwrap();
    assert!(
        message.contains("cluster dev still has 1 environment(s): delete them first"),
        "{message}"
    );

    // Being deleted (the cluster away, so it stays so): the cluster goes,
    // and the environment with it.
    w.disconnect().await;
    let (s, _) = w.delete(w.admin(), "live").await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(w.env_ok("live").await["status"], "deleting");
    let (s, b) =
        w.t.call(Method::DELETE, cluster, Some(w.admin()), None)
            .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    let (s, _) = w.env(w.admin(), "live").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(w.names(w.admin()).await.is_empty());
}
