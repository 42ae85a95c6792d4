//! Creating environments: every refusal (unknown catalog or cluster, a
//! cluster that may not take this kind or is not connected, a taken or bad
//! name, missing or unknown Secret values) answers before anything is
//! recorded, with a message that says how to fix it and never a Secret
//! value; the replicas default depends on the kind.

use lapdev_tunnel_proto::ReplicasPolicy;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::fake::Fake;
use super::{API_KEY, DB_TOKEN, ENVS, World, add_cluster, b64, body, wait_disconnected};
use crate::summary;

/// `(status summary, message)` of a refused create.
async fn refused(w: &World, body: Value) -> (String, String) {
    let (s, b) = w.create(w.admin(), body.clone()).await;
    assert_ne!(s, StatusCode::CREATED, "{body} was accepted: {b}");
    (
        summary(s, &b),
        b["message"].as_str().unwrap_or_default().into(),
    )
}

fn secret(secret: &str, key: &str, value: &str) -> Value {
    json!({"secret": secret, "key": key, "value": value})
}

#[tokio::test]
async fn clusters_that_cannot_take_the_environment_are_refused_with_the_fix() {
    let w = World::start().await;
    let t = &w.t;
    add_cluster(t, "src", json!({"roles": ["source"]})).await;
    add_cluster(t, "solo", json!({"permissions": ["personal"]})).await;
    add_cluster(t, "team", json!({"permissions": ["shared"]})).await;
    add_cluster(t, "never", json!({})).await;
    let (gone, gone_token) = add_cluster(t, "gone", json!({})).await;
    let link = Fake::new().connect(t, &gone_token).await;
    link.close().await;
    wait_disconnected(t, gone).await;

    let cases = [
        (
            body("a", "nope", "dev", "personal"),
            "404 not_found",
            "catalog not found",
        ),
        (
            body("a", "shop", "nope", "personal"),
            "404 not_found",
            "cluster not found",
        ),
        (
            body("a", "shop", "src", "personal"),
            "409 conflict",
            "does not have the target role",
        ),
        (
            body("a", "shop", "src", "personal"),
            "409 conflict",
            "lapdev cluster edit src --roles source,target",
        ),
        (
            body("a", "shop", "solo", "shared"),
            "409 conflict",
            "cluster solo does not allow shared environments",
        ),
        (
            body("a", "shop", "solo", "shared"),
            "409 conflict",
            "lapdev cluster edit solo --permissions",
        ),
        (
            body("a", "shop", "team", "personal"),
            "409 conflict",
            "cluster team does not allow personal environments",
        ),
        (
            body("a", "shop", "never", "personal"),
            "409 conflict",
            "has never connected: install kube-manager",
        ),
        (
            body("a", "shop", "never", "personal"),
            "409 conflict",
            "lapdev cluster install-manifest never",
        ),
        (
            body("a", "shop", "gone", "personal"),
            "503 unavailable",
            "cluster gone is offline",
        ),
    ];
    for (req, want, message) in cases {
        let (got, text) = refused(&w, req.clone()).await;
        assert_eq!(got, want, "{req}: {text}");
        assert!(text.contains(message), "{req}: {text:?} lacks {message:?}");
    }
    // The same kinds succeed where allowed.
    let (s, b) = w
        .create(w.admin(), body("a", "shop", "dev", "shared"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(w.names(w.admin()).await, ["a"], "nothing else was recorded");
    assert!(w.fake.seen().iter().all(|s| match s {
        super::fake::Seen::Apply(a) => a.environment == "a",
        _ => false,
    }));
}

#[tokio::test]
async fn names_must_be_valid_and_free() {
    let w = World::start().await;
    w.create_ok(w.admin(), "taken", "personal").await;
    let (got, text) = refused(&w, body("taken", "shop", "dev", "shared")).await;
    assert_eq!(got, "409 conflict");
    assert!(
        text.contains("already has an environment named taken"),
        "{text}"
    );
    for bad in [
        "a".repeat(51),
        "Bad_Name".into(),
        "-dash".into(),
        String::new(),
    ] {
        let (got, text) = refused(&w, body(&bad, "shop", "dev", "personal")).await;
        assert!(got.starts_with("422 invalid"), "{bad:?}: {got} {text}");
    }
    // 50 characters fit (the namespace stays a DNS label).
    let longest = "a".repeat(50);
    let env = w.create_ok(w.admin(), &longest, "personal").await;
    assert!(super::ns(&env).len() <= 63, "{env}");
    assert_eq!(w.names(w.admin()).await.len(), 2);
}

#[tokio::test]
async fn secret_values_are_required_checked_and_never_echoed() {
    let log = crate::log_capture::LogCapture::start();
    let w = World::start().await;
    let with = |values: Vec<Value>| {
        let mut b = body("v", "vault", "dev", "personal");
        b["secret_values"] = json!(values);
        b
    };
    let check = |text: &str| {
        assert!(
            !text.contains(API_KEY) && !text.contains(DB_TOKEN) && !text.contains("given-"),
            "a value leaked: {text}"
        );
    };

    // None given: every missing key is named.
    let (got, text) = refused(&w, with(vec![])).await;
    assert_eq!(got, "422 invalid field=secret_values", "{text}");
    assert!(
        text.contains("missing: db/api-key, db/token"),
        "every key named: {text}"
    );
    assert!(text.contains("--secret SECRET/KEY=VALUE"), "{text}");
    // One given: the other is named, the given value is not echoed.
    let (got, text) = refused(&w, with(vec![secret("db", "api-key", "given-9Zt")])).await;
    assert_eq!(got, "422 invalid field=secret_values");
    assert!(text.contains("missing: db/token"), "{text}");
    assert!(!text.contains("db/api-key,"), "{text}");
    check(&text);
    // A key the catalog does not redact.
    let (got, text) = refused(
        &w,
        with(vec![
            secret("db", "api-key", "given-1"),
            secret("db", "token", "given-2"),
            secret("db", "password", "given-3"),
        ]),
    )
    .await;
    assert_eq!(got, "422 invalid field=secret_values");
    assert!(text.contains("db/password is not a redacted key"), "{text}");
    check(&text);
    // The same key twice.
    let (got, text) = refused(
        &w,
        with(vec![
            secret("db", "api-key", "given-1"),
            secret("db", "api-key", "given-2"),
            secret("db", "token", "given-3"),
        ]),
    )
    .await;
    assert_eq!(got, "422 invalid field=secret_values");
    check(&text);
    assert_eq!(w.names(w.admin()).await, Vec::<String>::new());

    // All given: created; the values reach the cluster (base64) and no
    // answer, event or audit entry shows them.
    let (s, env) = w
        .create(
            w.admin(),
            with(vec![
                secret("db", "api-key", API_KEY),
                secret("db", "token", DB_TOKEN),
            ]),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{env}");
    check(&env.to_string());
    let applied = w.fake.wait_apply(super::ns(&env), 1, 1).await;
    assert_eq!(applied.secret_keys(), ["db/api-key", "db/token"]);
    let values = &applied.secret_values.0["db"];
    assert!(
        values["api-key"] == b64(API_KEY) && values["token"] == b64(DB_TOKEN),
        "the cluster got other values for {:?}",
        applied.secret_keys()
    );
    check(&w.env_ok("v").await.to_string());
    check(&w.events("v").await.join("\n"));
    let (_, audit) = w.audit().await;
    check(&audit.to_string());
    let create = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "environment.create")
        .unwrap();
    assert_eq!(
        create["details"]["secret_values"],
        json!(["db/api-key", "db/token"]),
        "{create}"
    );
    // Nor the log, at TRACE, in plain text or as sent (base64).
    w.wait_env("v", "applied", |e| e["observed_generation"] == 1)
        .await;
    let text = log.text();
    assert!(text.contains("tunnel connected"), "the capture works");
    check(&text);
    assert!(
        !text.contains(&b64(API_KEY)) && !text.contains(&b64(DB_TOKEN)),
        "a value reached the log in base64"
    );
}

#[tokio::test]
async fn replicas_default_to_one_for_personal_and_production_for_shared() {
    let w = World::start().await;
    let mine = w.create_ok(w.admin(), "mine", "personal").await;
    let ours = w.create_ok(w.admin(), "ours", "shared").await;
    let mut three = body("three", "shop", "dev", "personal");
    three["replicas"] = json!({"at_most": 3});
    let (s, three) = w.create(w.admin(), three).await;
    assert_eq!(s, StatusCode::CREATED, "{three}");
    let mut kept = body("kept", "shop", "dev", "personal");
    kept["replicas"] = json!("keep");
    let (s, kept) = w.create(w.admin(), kept).await;
    assert_eq!(s, StatusCode::CREATED, "{kept}");
    let mut huge = body("huge", "shop", "dev", "personal");
    huge["replicas"] = json!({"at_most": 1001});
    let (got, _) = refused(&w, huge).await;
    assert_eq!(got, "422 invalid field=replicas");

    for (env, api, wire) in [
        (&mine, json!({"at_most": 1}), ReplicasPolicy::AtMost(1)),
        (&ours, json!("keep"), ReplicasPolicy::Keep),
        (&three, json!({"at_most": 3}), ReplicasPolicy::AtMost(3)),
        (&kept, json!("keep"), ReplicasPolicy::Keep),
    ] {
        assert_eq!(env["replicas"], api, "{env}");
        assert_eq!(env["status"], "creating", "{env}");
        assert_eq!(env["desired"], "running");
        assert_eq!(env["generation"], 1);
        assert_eq!(env["cluster_connected"], true);
        let name = env["name"].as_str().unwrap();
        assert!(
            super::ns(env).starts_with(&format!("lapdev-{name}-")),
            "{env}"
        );
        let applied = w.fake.wait_apply(super::ns(env), 1, 1).await;
        assert_eq!(applied.replicas, wire, "{name}");
        assert_eq!(applied.environment_id, env["id"].as_str().unwrap());
        assert!(!applied.paused);
        assert_eq!(applied.objects, 3, "the catalog's objects");
    }
    assert_eq!(mine["kind"], "personal");
    assert_eq!(ours["kind"], "shared");
    assert_eq!(mine["owner"], "admin");
    let (_, list) = w.t.get(&format!("{ENVS}?kind=shared"), w.admin()).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    // Pages: 3, then the last one.
    let (s, first) = w.t.get(&format!("{ENVS}?limit=3"), w.admin()).await;
    assert_eq!(s, StatusCode::OK, "{first}");
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (s, last) =
        w.t.get(&format!("{ENVS}?limit=3&cursor={cursor}"), w.admin())
            .await;
    assert_eq!(s, StatusCode::OK, "{last}");
    assert_eq!(last["items"].as_array().unwrap().len(), 1, "{last}");
    assert!(last["next_cursor"].is_null(), "{last}");
    let (s, b) = w.t.get(&format!("{ENVS}?limit=0"), w.admin()).await;
    assert_eq!(crate::summary(s, &b), "422 invalid field=limit");
}
