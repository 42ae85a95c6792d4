//! Clusters over the REST API: create (token shown once, stored hashed),
//! list/show with status and facts, rename, roles, permissions, delete,
//! token rotation and revocation, the audit trail, bad input, and the
//! install manifest endpoints (token-authenticated and admin).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{TestServer, summary};

const CLUSTERS: &str = "/api/v1/orgs/default/clusters";

async fn create(t: &TestServer, body: Value) -> Value {
    let (s, b) = t.post(CLUSTERS, &t.admin_token, body).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b
}

async fn patch(t: &TestServer, path: &str, body: Value) -> (StatusCode, Value) {
    t.call(Method::PATCH, path, Some(&t.admin_token), Some(body))
        .await
}

#[tokio::test]
async fn create_show_change_and_delete() {
    let t = TestServer::start().await;
    let created = create(&t, json!({"name": "dev"})).await;
    let token = created["token"].as_str().unwrap();
    assert!(token.starts_with("lpc_"), "{created}");
    let cluster = &created["cluster"];
    assert_eq!(
        cluster["roles"],
        json!(["source", "target"]),
        "default: both"
    );
    assert_eq!(cluster["permissions"], json!(["personal", "shared"]));
    assert_eq!(cluster["status"], "pending", "never connected");
    assert!(token.starts_with(cluster["token_prefix"].as_str().unwrap()));
    let command = created["install_command"].as_str().unwrap();
    assert_eq!(
        command,
        format!(
            "kubectl apply -f '{}/install/kube-manager.yaml?token={token}'",
            t.server.url()
        )
    );

    let prod = create(
        &t,
        json!({"name": "prod", "roles": ["source"], "permissions": []}),
    )
    .await;
    assert_eq!(prod["cluster"]["roles"], json!(["source"]));
    assert_eq!(prod["cluster"]["permissions"], json!([]));

    // Members may read; the token is never in a list or a show.
    let (_, member) = t.add_user("default", "bob", "member").await;
    let (s, list) = t.get(CLUSTERS, &member).await;
    assert_eq!(s, StatusCode::OK);
    let names: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dev", "prod"]);
    assert!(!list.to_string().contains(token));
    let (s, shown) = t.get(&format!("{CLUSTERS}/dev"), &member).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(shown, created["cluster"]);

    let (s, renamed) = patch(
        &t,
        &format!("{CLUSTERS}/dev"),
        json!({"name": "staging", "roles": ["target"], "permissions": ["shared"]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["name"], "staging");
    assert_eq!(renamed["roles"], json!(["target"]));
    assert_eq!(renamed["permissions"], json!(["shared"]));
    let (s, _) = t.get(&format!("{CLUSTERS}/dev"), &member).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "renamed away");

    let (s, _) = t
        .call(
            Method::DELETE,
            &format!("{CLUSTERS}/staging"),
            Some(&t.admin_token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = t.get(&format!("{CLUSTERS}/staging"), &member).await;
    assert_eq!(summary(s, &b), "404 not_found");
    assert_eq!(b["message"], "cluster not found");

    let (_, audit) = t.get("/api/v1/orgs/default/audit", &t.admin_token).await;
    let events: Vec<_> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["object_kind"] == "cluster")
        .map(|e| {
            format!(
                "{} {} {}",
                e["action"].as_str().unwrap(),
                e["object_name"].as_str().unwrap(),
                e["details"]
            )
        })
        .collect();
    assert_eq!(events.len(), 4, "{events:#?}");
    assert!(
        events[0].starts_with("cluster.delete staging"),
        "{events:#?}"
    );
    assert!(
        events[1].starts_with("cluster.update staging")
            && events[1].contains(r#""name":{"from":"dev","to":"staging"}"#),
        "{events:#?}"
    );
    assert!(events[3].starts_with("cluster.create dev"), "{events:#?}");
    assert!(
        !audit.to_string().contains(token),
        "no secrets in the audit log"
    );
}

#[tokio::test]
async fn bad_input() {
    let t = TestServer::start().await;
    let check = async |method: Method, path: &str, body: Option<Value>, expect: &str| {
        let (status, resp) = t
            .call(method.clone(), path, Some(&t.admin_token), body.clone())
            .await;
        assert_eq!(
            summary(status, &resp),
            expect,
            "{method} {path} {body:?} -> {resp}"
        );
    };
    let post = |body: Value| (Method::POST, CLUSTERS, Some(body));
    let (m, p, b) = post(json!({"name": "Bad_Name"}));
    check(m, p, b, "422 invalid field=name").await;
    let (m, p, b) = post(json!({"name": "a".repeat(64)}));
    check(m, p, b, "422 invalid field=name").await;
    let (m, p, b) = post(json!({"name": "ok", "roles": []}));
    check(m, p, b, "422 invalid field=roles").await;
    let (m, p, b) = post(json!({"name": "ok", "roles": ["owner"]}));
    check(m, p, b, "422 invalid field=roles[0]").await;
    let (m, p, b) = post(json!({"name": "ok", "permissions": ["branch"]}));
    check(m, p, b, "422 invalid field=permissions[0]").await;
    let (m, p, b) = post(json!({"name": "dev"}));
    check(m, p, b, "201 -").await;
    let (m, p, b) = post(json!({"name": "dev"}));
    check(m, p, b, "409 conflict").await;
    check(
        Method::PATCH,
        &format!("{CLUSTERS}/dev"),
        Some(json!({})),
        "422 invalid field=name",
    )
    .await;
    check(
        Method::PATCH,
        &format!("{CLUSTERS}/dev"),
        Some(json!({"roles": []})),
        "422 invalid field=roles",
    )
    .await;
    check(
        Method::PATCH,
        &format!("{CLUSTERS}/nope"),
        Some(json!({"roles": ["source"]})),
        "404 not_found",
    )
    .await;
    check(
        Method::POST,
        &format!("{CLUSTERS}/nope/token"),
        None,
        "404 not_found",
    )
    .await;
    check(
        Method::GET,
        &format!("{CLUSTERS}/dev/install-manifest?namespaces=Shop"),
        None,
        "422 invalid field=namespaces",
    )
    .await;
    check(
        Method::GET,
        "/api/v1/orgs/no-such-org/clusters",
        None,
        "404 not_found field=org",
    )
    .await;
}

#[tokio::test]
async fn rotation_and_revocation_of_the_token() {
    let t = TestServer::start().await;
    let created = create(&t, json!({"name": "dev"})).await;
    let old = created["token"].as_str().unwrap().to_string();
    let manifest = |token: String| {
        let t = &t;
        async move {
            let resp = t
                .client
                .get(t.url(&format!("/install/kube-manager.yaml?token={token}")))
                .send()
                .await
                .unwrap();
            (resp.status(), resp.text().await.unwrap())
        }
    };
    let (s, yaml) = manifest(old.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(yaml.contains(&format!("token: \"{old}\"")));

    let (s, rotated) = t
        .call(
            Method::POST,
            &format!("{CLUSTERS}/dev/token"),
            Some(&t.admin_token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{rotated}");
    let new = rotated["token"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    let retires: jiff::Timestamp = rotated["previous_token_retires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let grace = retires.duration_since(jiff::Timestamp::now());
    assert!(
        grace > jiff::SignedDuration::from_mins(59) && grace <= jiff::SignedDuration::from_hours(1),
        "one hour of grace: {grace:?}"
    );
    assert_eq!(manifest(old.clone()).await.0, StatusCode::OK, "grace");
    assert_eq!(manifest(new.clone()).await.0, StatusCode::OK);

    let (s, revoked) = t
        .call(
            Method::DELETE,
            &format!("{CLUSTERS}/dev/token"),
            Some(&t.admin_token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{revoked}");
    assert!(revoked.get("token_prefix").is_none(), "{revoked}");
    for token in [old, new] {
        let (s, body) = manifest(token).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert!(body.contains("unknown, rotated out or revoked"), "{body}");
    }
    let (s, body) = manifest("lpc_never-issued".into()).await;
    assert_eq!((s, body.lines().count()), (StatusCode::UNAUTHORIZED, 1));
    let (s, _) = t
        .client
        .get(t.url("/install/kube-manager.yaml"))
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // A rotation after a revocation issues a token again, with no grace.
    let (s, again) = t
        .call(
            Method::POST,
            &format!("{CLUSTERS}/dev/token"),
            Some(&t.admin_token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(again.get("previous_token_retires_at").is_none(), "{again}");
    let token = again["token"].as_str().unwrap().to_string();
    assert_eq!(manifest(token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_admin_manifest_has_a_placeholder_and_no_token() {
    let t = TestServer::start().await;
    let created = create(&t, json!({"name": "dev"})).await;
    let token = created["token"].as_str().unwrap();
    let resp = t
        .client
        .get(t.url(&format!("{CLUSTERS}/dev/install-manifest")))
        .bearer_auth(&t.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/yaml");
    let yaml = resp.text().await.unwrap();
    assert!(yaml.contains(lapdev_api::TOKEN_PLACEHOLDER));
    assert!(!yaml.contains(token));
    assert!(yaml.contains(&format!("value: \"{}\"", t.server.url())));
    assert!(
        yaml.contains("WARNING: http://"),
        "a plain-HTTP server URL is flagged: kube-manager needs TLS"
    );
}
