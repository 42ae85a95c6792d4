//! Durable desired state: every accepted change reaches the cluster as
//! the full state with a higher generation (create 1, pause 2 with
//! `paused`, resume 3; an idempotent repeat adds none), whether the cluster
//! was connected at the time, reconnects later (and then gets everything
//! of its own again), or the server restarted in between. A refusal
//! (`invalid`) fails the environment for that generation and is not
//! retried; a transient error is, and so is an apply cut off by a
//! reconnect. An environment keeps its objects when its catalog goes.

use lapdev_tunnel_proto::{ErrorCode, TunnelError};
use reqwest::StatusCode;

use super::fake::{APPLY_WARNING, Answer};
use serde_json::json;

use super::{API_KEY, DB_TOKEN, World, b64, body, ns};

#[tokio::test]
async fn each_change_is_sent_with_the_next_generation() {
    let w = World::start().await;
    let env = w.create_ok(w.admin(), "gen", "personal").await;
    let ns = ns(&env);
    let first = w.fake.wait_apply(ns, 1, 1).await;
    assert!(!first.paused);
    assert_eq!(first.environment, "gen");
    let applied = w
        .wait_env("gen", "applied generation 1", |e| {
            e["observed_generation"] == 1
        })
        .await;
    assert_eq!(applied["warnings"], serde_json::json!([APPLY_WARNING]));

    let (s, paused) = w.act(w.admin(), "gen", "pause").await;
    assert_eq!(s, StatusCode::ACCEPTED, "{paused}");
    assert_eq!(paused["generation"], 2);
    assert_eq!(paused["status"], "pausing");
    assert!(w.fake.wait_apply(ns, 2, 1).await.paused);
    // Pausing again changes nothing: same generation, nothing new to send.
    let (s, again) = w.act(w.admin(), "gen", "pause").await;
    assert_eq!(s, StatusCode::ACCEPTED, "{again}");
    assert_eq!(again["generation"], 2);
    assert_eq!(again["desired"], "paused");

    let (s, resumed) = w.act(w.admin(), "gen", "resume").await;
    assert_eq!(s, StatusCode::ACCEPTED, "{resumed}");
    assert_eq!(resumed["generation"], 3);
    // Resuming a running environment changes nothing either.
    let (s, resumed) = w.act(w.admin(), "gen", "resume").await;
    assert_eq!(s, StatusCode::ACCEPTED, "{resumed}");
    assert_eq!(resumed["generation"], 3);
    assert!(!w.fake.wait_apply(ns, 3, 1).await.paused);
    let done = w
        .wait_env("gen", "applied generation 3", |e| {
            e["observed_generation"] == 3
        })
        .await;
    assert_eq!(done["generation"], 3);

    let mut sent: Vec<(u64, bool)> = w
        .fake
        .applies(ns)
        .iter()
        .map(|a| (a.generation, a.paused))
        .collect();
    sent.dedup();
    assert_eq!(sent, [(1, false), (2, true), (3, false)]);
    let events = w.events("gen").await;
    assert!(
        events.contains(&"pause asked by admin".to_string()),
        "{events:?}"
    );
    assert!(
        events.contains(&"resume asked by admin".to_string()),
        "{events:?}"
    );
    assert!(
        events.contains(&"generation 3 applied: 0 objects".to_string()),
        "{events:?}"
    );
    let (actions, _) = w.audit().await;
    assert_eq!(
        actions,
        [
            "environment.resume",
            "environment.pause",
            "environment.create"
        ],
        "the second pause was no change"
    );
}

#[tokio::test]
async fn changes_made_while_the_cluster_is_away_are_sent_when_it_returns() {
    let mut w = World::start().await;
    let a = w.create_ok(w.admin(), "a", "personal").await;
    let b = w.create_ok(w.admin(), "b", "shared").await;
    w.fake.wait_apply(ns(&a), 1, 1).await;
    w.fake.wait_apply(ns(&b), 1, 1).await;
    w.wait_env("b", "applied", |e| e["observed_generation"] == 1)
        .await;

    w.disconnect().await;
    let (s, paused) = w.act(w.admin(), "a", "pause").await;
    assert_eq!(s, StatusCode::ACCEPTED, "accepted while away: {paused}");
    assert_eq!(paused["status"], "pausing");
    assert_eq!(paused["cluster_connected"], false);
    assert_eq!(
        paused["message"], "waiting for cluster dev to come back online",
        "{paused}"
    );
    let (_, list) = w.t.get(super::ENVS, w.admin()).await;
    let listed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "a")
        .unwrap();
    assert_eq!(
        listed["message"],
        "waiting for cluster dev to come back online"
    );

    // Back: the pause arrives, and everything of the cluster is sent again
    // (it may have missed anything while away).
    let before = w.fake.applies(ns(&b)).len();
    w.reconnect().await;
    let pause = w.fake.wait_apply(ns(&a), 2, 1).await;
    assert!(pause.paused);
    w.fake.wait_apply(ns(&b), 1, before + 1).await;
    let a = w
        .wait_env("a", "applied the pause", |e| e["observed_generation"] == 2)
        .await;
    assert_eq!(a["cluster_connected"], true);
    assert!(a.get("message").is_none(), "{a}");
}

#[tokio::test]
async fn pending_work_survives_a_server_restart() {
    let w = World::start().await;
    let quiet = w.create_ok(w.admin(), "quiet", "shared").await;
    w.fake.wait_apply(ns(&quiet), 1, 1).await;
    // The cluster never answers this apply: still pending at shutdown.
    w.fake.script_apply([Answer::Silent]);
    let mut req = body("durable", "vault", "dev", "personal");
    req["secret_values"] = json!([
        {"secret": "db", "key": "api-key", "value": API_KEY},
        {"secret": "db", "key": "token", "value": DB_TOKEN},
    ]);
    let (s, env) = w.create(w.admin(), req).await;
    assert_eq!(s, StatusCode::CREATED, "{env}");
    let durable = ns(&env).to_string();
    w.fake.wait_apply(&durable, 1, 1).await;

    let mut w = w.restart().await;
    let env = w.env_ok("durable").await;
    assert_eq!(env["status"], "creating");
    assert_eq!(env["cluster_connected"], false);
    assert!(env.get("observed_generation").is_none(), "{env}");
    assert_eq!(
        env["message"], "waiting for cluster dev to come back online",
        "{env}"
    );
    // A change accepted by the new process while the cluster is away.
    let (s, b) = w.act(w.admin(), "quiet", "pause").await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");

    // The new process sends what the old one left unfinished, Secret
    // values still readable, and what it accepted itself.
    w.reconnect().await;
    let sent = w.fake.wait_apply(&durable, 1, 2).await;
    assert!(!sent.paused);
    assert_eq!(sent.secret_keys(), ["db/api-key", "db/token"]);
    let values = &sent.secret_values.0["db"];
    assert!(
        values["api-key"] == b64(API_KEY) && values["token"] == b64(DB_TOKEN),
        "other values after the restart for {:?}",
        sent.secret_keys()
    );
    assert!(w.fake.wait_apply(ns(&quiet), 2, 1).await.paused);
    w.wait_env("durable", "applied after the restart", |e| {
        e["observed_generation"] == 1
    })
    .await;
    w.wait_env("quiet", "paused after the restart", |e| {
        e["observed_generation"] == 2
    })
    .await;
}

#[tokio::test]
async fn an_environment_keeps_its_objects_when_its_catalog_goes() {
    let w = World::start().await;
    let env = w.create_ok(w.admin(), "orphan", "personal").await;
    w.fake.wait_apply(ns(&env), 1, 1).await;
    let (s, b) =
        w.t.call(
            reqwest::Method::DELETE,
            "/api/v1/orgs/default/catalogs/shop",
            Some(w.admin()),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    let env = w.env_ok("orphan").await;
    assert_eq!(env["catalog"], "shop", "the name at creation");
    let (s, b) = w.act(w.admin(), "orphan", "pause").await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let paused = w.fake.wait_apply(ns(&env), 2, 1).await;
    assert!(paused.paused);
    assert_eq!(paused.objects, 3, "its own copy of the objects");
}

#[tokio::test]
async fn a_refused_environment_fails_and_is_not_retried() {
    let mut w = World::start().await;
    let why = "missing Secret values: db/token";
    w.fake
        .script_apply([Answer::Fail(TunnelError::invalid(why))]);
    let env = w.create_ok(w.admin(), "bad", "personal").await;
    let failed = w.wait_status("bad", "failed").await;
    assert_eq!(
        failed["message"],
        format!("the cluster refused the environment: {why}"),
        "{failed}"
    );
    assert_eq!(failed["generation"], 1);

    // Later passes (a new environment, a reconnect: everything of the
    // cluster is re-sent) skip the refused generation.
    let good = w.create_ok(w.admin(), "good", "personal").await;
    w.fake.wait_apply(ns(&good), 1, 1).await;
    w.reconnect().await;
    w.fake.wait_apply(ns(&good), 1, 2).await;
    let bad = w.fake.applies(ns(&env));
    assert_eq!(bad.len(), 1, "refused generation sent again: {bad:?}");
    assert_eq!(w.env_ok("bad").await["status"], "failed");

    // A new change is a new generation, sent again.
    let (s, b) = w.act(w.admin(), "bad", "pause").await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(b["status"], "pausing");
    assert!(b.get("message").is_none(), "{b}");
    assert!(w.fake.wait_apply(ns(&env), 2, 1).await.paused);
}

#[tokio::test]
async fn a_transient_failure_is_retried() {
    let w = World::start().await;
    w.fake.script_apply([Answer::Fail(TunnelError::new(
        ErrorCode::Kubernetes { status: 503 },
        "the API server is unavailable",
    ))]);
    let env = w.create_ok(w.admin(), "flaky", "personal").await;
    w.fake.wait_apply(ns(&env), 1, 1).await;
    // Retried after a backoff (seconds), without anyone asking.
    w.fake.wait_apply(ns(&env), 1, 2).await;
    let env = w
        .wait_env("flaky", "applied on the retry", |e| {
            e["observed_generation"] == 1
        })
        .await;
    assert_eq!(env["status"], "creating");
    let events = w.events("flaky").await;
    assert!(
        events
            .iter()
            .any(|e| e == "cluster dev could not do it: the API server is unavailable"),
        "{events:?}"
    );
}

#[tokio::test]
async fn an_apply_cut_off_by_a_reconnect_is_sent_on_the_new_connection() {
    let mut w = World::start().await;
    w.fake.script_apply([Answer::Silent]);
    let env = w.create_ok(w.admin(), "cut", "personal").await;
    w.fake.wait_apply(ns(&env), 1, 1).await;
    // kube-manager reconnects (a new connection replaces the old one)
    // before answering: the new connection gets the apply again.
    w.reconnect().await;
    w.fake.wait_apply(ns(&env), 1, 2).await;
    w.wait_env("cut", "applied", |e| e["observed_generation"] == 1)
        .await;
}
