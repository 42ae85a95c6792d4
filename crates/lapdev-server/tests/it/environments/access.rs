//! Who may see and change which environment, at the API: members create
//! Personal ones (not Shared), see Shared ones and their own; another
//! member's Personal environment does not exist for them; only admins
//! change a Shared one; admins see all and may delete, but not pause,
//! another's Personal one; another organization sees nothing. Every
//! accepted change is in the organization's audit log.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{ENVS, World, body, member};
use crate::summary;

#[tokio::test]
async fn the_permission_matrix() {
    let w = World::start().await;
    let t = &w.t;
    let admin = w.admin();
    let bob = member(t, "bob", "member").await;
    let carol = member(t, "carol", "member").await;

    // Members create Personal environments, not Shared ones.
    let (s, b) = w
        .create(&bob, body("bobs", "shop", "dev", "personal"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["owner"], "bob");
    let (s, b) = w
        .create(&bob, body("bobs-team", "shop", "dev", "shared"))
        .await;
    assert_eq!(summary(s, &b), "403 forbidden", "{b}");
    w.create_ok(admin, "team", "shared").await;
    w.create_ok(admin, "admins", "personal").await;

    // Another member: bob's Personal environment does not exist.
    let bobs = format!("{ENVS}/bobs");
    for (method, path) in [
        (Method::GET, bobs.clone()),
        (Method::GET, format!("{bobs}/events")),
        (Method::POST, format!("{bobs}/pause")),
        (Method::POST, format!("{bobs}/resume")),
        (Method::DELETE, bobs.clone()),
    ] {
        let (s, b) = t.call(method.clone(), &path, Some(&carol), None).await;
        assert!(
            summary(s, &b).starts_with("404 not_found"),
            "{method} {path}: {b}"
        );
        assert_eq!(b["message"], "environment not found", "{b}");
    }
    assert_eq!(w.names(&carol).await, ["team"]);
    let (_, mine) = t.get(&format!("{ENVS}?kind=personal"), &carol).await;
    assert_eq!(mine["items"], json!([]));

    // A Shared environment: members read it, only admins change it.
    let (s, b) = w.env(&carol, "team").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, _) = t.get(&format!("{ENVS}/team/events"), &carol).await;
    assert_eq!(s, StatusCode::OK);
    for verb in ["pause", "resume"] {
        let (s, b) = w.act(&carol, "team", verb).await;
        assert_eq!(summary(s, &b), "403 forbidden", "{verb}: {b}");
        assert!(
            b["message"].as_str().unwrap().contains("only admins"),
            "{b}"
        );
    }
    let (s, b) = w.delete(&carol, "team").await;
    assert_eq!(summary(s, &b), "403 forbidden", "{b}");
    assert_eq!(
        w.env_ok("team").await["desired"],
        "running",
        "nothing changed"
    );

    // The owner changes their own.
    let (s, b) = w.act(&bob, "bobs", "pause").await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(
        (b["desired"].as_str(), b["status"].as_str()),
        (Some("paused"), Some("pausing"))
    );
    let (s, b) = w.act(&bob, "bobs", "resume").await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(b["status"], "resuming");
    assert_eq!(names_sorted(&w, &bob).await, ["bobs", "team"]);

    // Admins see everything; they may delete another's Personal
    // environment but not pause or resume it.
    assert_eq!(names_sorted(&w, admin).await, ["admins", "bobs", "team"]);
    let (s, b) = w.env(admin, "bobs").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    for verb in ["pause", "resume"] {
        let (s, b) = w.act(admin, "bobs", verb).await;
        assert_eq!(summary(s, &b), "403 forbidden", "{verb}: {b}");
        assert!(
            b["message"].as_str().unwrap().contains("only its owner"),
            "{b}"
        );
    }
    let (s, b) = w.act(admin, "team", "pause").await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    // Bob cannot see the admin's Personal environment either.
    let (s, _) = w.env(&bob, "admins").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, b) = w.delete(admin, "bobs").await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(b["status"], "deleting");
    w.wait_gone("bobs").await;
    // Owners delete their own.
    w.create_ok(&carol, "carols", "personal").await;
    let (s, b) = w.delete(&carol, "carols").await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    w.wait_gone("carols").await;

    // Audit: every accepted change, by whom; refusals left no entry.
    let (actions, audit) = w.audit().await;
    assert_eq!(
        actions,
        [
            "environment.delete",
            "environment.create",
            "environment.delete",
            "environment.pause",
            "environment.resume",
            "environment.pause",
            "environment.create",
            "environment.create",
            "environment.create",
        ],
        "{audit}"
    );
    // Each names who did it to which environment.
    let who: Vec<(&str, &str, &str)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["object_kind"] == "environment")
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"]["username"].as_str().unwrap(),
                e["object_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        who[..5],
        [
            ("environment.delete", "carol", "carols"),
            ("environment.create", "carol", "carols"),
            ("environment.delete", "admin", "bobs"),
            ("environment.pause", "admin", "team"),
            ("environment.resume", "bob", "bobs"),
        ]
    );
}

async fn names_sorted(w: &World, token: &str) -> Vec<String> {
    let mut names = w.names(token).await;
    names.sort();
    names
}

#[tokio::test]
async fn another_organization_sees_nothing() {
    let w = World::start().await;
    let t = &w.t;
    w.create_ok(w.admin(), "team", "shared").await;
    w.create_ok(w.admin(), "mine", "personal").await;
    // Mallory administers organization `evil` and is no member of default.
    let (mallory_id, mallory) = t.add_user("default", "mallory", "member").await;
    let (s, b) = t
        .post("/api/v1/orgs", &mallory, json!({"name": "evil"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, _) = t
        .call(
            Method::DELETE,
            &format!("/api/v1/orgs/default/members/{mallory_id}"),
            Some(w.admin()),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    for env in ["team", "mine", "nope"] {
        let path = format!("{ENVS}/{env}");
        for (method, path) in [
            (Method::GET, path.clone()),
            (Method::GET, format!("{path}/events")),
            (Method::POST, format!("{path}/pause")),
            (Method::POST, format!("{path}/resume")),
            (Method::DELETE, path.clone()),
        ] {
            let (s, b) = t.call(method.clone(), &path, Some(&mallory), None).await;
            assert!(
                summary(s, &b).starts_with("404 not_found"),
                "{method} {path}: {b}"
            );
        }
    }
    let (s, b) = t.get(ENVS, &mallory).await;
    assert_eq!(summary(s, &b), "404 not_found field=org", "{b}");
    let (s, b) = w
        .create(&mallory, body("x", "shop", "dev", "personal"))
        .await;
    assert_eq!(summary(s, &b), "404 not_found field=org", "{b}");
    // In their own organization: no such catalog or cluster, no environments.
    let evil = "/api/v1/orgs/evil/environments";
    let (s, b) = t.get(evil, &mallory).await;
    assert_eq!((s, &b["items"]), (StatusCode::OK, &json!([])), "{b}");
    let (s, b) = t
        .post(evil, &mallory, body("x", "shop", "dev", "shared"))
        .await;
    assert_eq!(summary(s, &b), "404 not_found", "{b}");
    let (s, _) = t.get(&format!("{evil}/team"), &mallory).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(w.env_ok("team").await["desired"], "running");
}
