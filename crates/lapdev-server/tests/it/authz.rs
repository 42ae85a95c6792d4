//! Walks EVERY endpoint of the OpenAPI document as anonymous, as an admin of
//! another organization, as a member and as an admin, and checks each status
//! against the table. A route missing from the table fails the test.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{ADMIN_PASSWORD, TestServer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    OtherOrg,
    Member,
    Admin,
}

const WHO: [Who; 4] = [Who::Anonymous, Who::OtherOrg, Who::Member, Who::Admin];

/// `(method, path template, [anonymous, other org, member, admin])`.
const TABLE: &[(&str, &str, [u16; 4])] = &[
    ("POST", "/api/v1/auth/login", [200, 200, 200, 200]),
    ("GET", "/api/v1/me", [401, 200, 200, 200]),
    ("PUT", "/api/v1/me/password", [401, 204, 204, 204]),
    ("GET", "/api/v1/orgs", [401, 200, 200, 200]),
    ("POST", "/api/v1/orgs", [401, 201, 201, 201]),
    ("GET", "/api/v1/orgs/{org}", [401, 404, 200, 200]),
    ("GET", "/api/v1/orgs/{org}/members", [401, 404, 200, 200]),
    ("POST", "/api/v1/orgs/{org}/members", [401, 404, 403, 201]),
    (
        "PATCH",
        "/api/v1/orgs/{org}/members/{user_id}",
        [401, 404, 403, 200],
    ),
    (
        "DELETE",
        "/api/v1/orgs/{org}/members/{user_id}",
        [401, 404, 403, 204],
    ),
    ("GET", "/api/v1/orgs/{org}/audit", [401, 404, 403, 200]),
    ("GET", "/api/v1/tokens", [401, 200, 200, 200]),
    ("POST", "/api/v1/tokens", [401, 201, 201, 201]),
    ("DELETE", "/api/v1/tokens/{id}", [401, 404, 404, 204]),
    ("GET", "/api/v1/orgs/{org}/clusters", [401, 404, 200, 200]),
    ("POST", "/api/v1/orgs/{org}/clusters", [401, 404, 403, 201]),
    (
        "GET",
        "/api/v1/orgs/{org}/clusters/{cluster}",
        [401, 404, 200, 200],
    ),
    (
        "PATCH",
        "/api/v1/orgs/{org}/clusters/{cluster}",
        [401, 404, 403, 200],
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/clusters/{cluster}/token",
        [401, 404, 403, 200],
    ),
    (
        "DELETE",
        "/api/v1/orgs/{org}/clusters/{cluster}/token",
        [401, 404, 403, 200],
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/clusters/{cluster}/install-manifest",
        [401, 404, 403, 200],
    ),
    // The fixture's cluster `walk` never connected: whatever needs the
    // source cluster answers 409 once authorized.
    (
        "GET",
        "/api/v1/orgs/{org}/clusters/{cluster}/workloads",
        [401, 404, 409, 409],
    ),
    ("GET", "/api/v1/orgs/{org}/catalogs", [401, 404, 200, 200]),
    ("POST", "/api/v1/orgs/{org}/catalogs", [401, 404, 403, 409]),
    (
        "GET",
        "/api/v1/orgs/{org}/catalogs/{catalog}",
        [401, 404, 200, 200],
    ),
    (
        "PATCH",
        "/api/v1/orgs/{org}/catalogs/{catalog}",
        [401, 404, 403, 200],
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/catalogs/{catalog}/workloads",
        [401, 404, 403, 409],
    ),
    (
        "DELETE",
        "/api/v1/orgs/{org}/catalogs/{catalog}/workloads/{namespace}/{kind}/{name}",
        [401, 404, 403, 200],
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/catalogs/{catalog}/refresh",
        [401, 404, 403, 409],
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/catalogs/{catalog}/refresh/apply",
        [401, 404, 403, 409],
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/environments",
        [401, 404, 200, 200],
    ),
    // The fixture's cluster `walk` never connected: creating there is 409
    // once authorized (a Shared one: admins only, see `body_for`).
    (
        "POST",
        "/api/v1/orgs/{org}/environments",
        [401, 404, 403, 409],
    ),
    // The fixture environment `walk` is a Shared one: members read it only.
    (
        "GET",
        "/api/v1/orgs/{org}/environments/{env}",
        [401, 404, 200, 200],
    ),
    (
        "GET",
        "/api/v1/orgs/{org}/environments/{env}/events",
        [401, 404, 200, 200],
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/environments/{env}/pause",
        [401, 404, 403, 202],
    ),
    (
        "POST",
        "/api/v1/orgs/{org}/environments/{env}/resume",
        [401, 404, 403, 202],
    ),
    (
        "DELETE",
        "/api/v1/orgs/{org}/environments/{env}",
        [401, 404, 403, 202],
    ),
    (
        "DELETE",
        "/api/v1/orgs/{org}/catalogs/{catalog}",
        [401, 404, 403, 204],
    ),
    // Deletes the fixture's cluster: after every other cluster row.
    (
        "DELETE",
        "/api/v1/orgs/{org}/clusters/{cluster}",
        [401, 404, 403, 204],
    ),
    // Revokes the caller's own token: keep this row LAST.
    ("DELETE", "/api/v1/tokens/current", [401, 204, 204, 204]),
];

struct Fixture {
    t: TestServer,
    member_token: String,
    other_token: String,
    /// A member the admin may change and remove.
    target_user: String,
    /// A token of the admin's.
    admin_token_id: String,
}

async fn fixture() -> Fixture {
    let t = TestServer::start().await;
    let (_, member_token) = t.add_user("default", "bob", "member").await;
    let (target_user, _) = t.add_user("default", "carol", "member").await;
    // Mallory administers another organization.
    let (_, other_token) = t.add_user("default", "mallory", "member").await;
    let (s, b) = t
        .post("/api/v1/orgs", &other_token, json!({"name": "evil"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, _) = t
        .call(
            Method::DELETE,
            &format!(
                "/api/v1/orgs/default/members/{}",
                me_id(&t, &other_token).await
            ),
            Some(&t.admin_token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = t
        .post("/api/v1/tokens", &t.admin_token, json!({"name": "walk"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let admin_token_id = b["token_info"]["id"].as_str().unwrap().to_string();
    let (s, b) = t
        .post(
            "/api/v1/orgs/default/clusters",
            &t.admin_token,
            json!({"name": "walk"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // The other organization has a cluster of the same name: still 404.
    let (s, b) = t
        .post(
            "/api/v1/orgs/evil/clusters",
            &other_token,
            json!({"name": "walk"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    crate::catalogs::insert_fixture_catalog(&t, "default", "walk", "walk").await;
    insert_fixture_environment(&t, "walk").await;
    Fixture {
        t,
        member_token,
        other_token,
        target_user,
        admin_token_id,
    }
}

/// A Shared environment `name` of catalog `walk` on cluster `walk`, as
/// if an admin had created it (the cluster never connected).
async fn insert_fixture_environment(t: &TestServer, name: &str) {
    let db = t.server.state().db();
    let org = db.organization_by_name("default").await.unwrap().unwrap();
    let cluster = db.cluster_by_name(org.id, "walk").await.unwrap().unwrap();
    let catalog = db.catalog_by_name(org.id, "walk").await.unwrap().unwrap();
    let admin = db.user_by_username("admin").await.unwrap().unwrap();
    let new = lapdev_db::NewEnvironment {
        id: lapdev_domain::EnvironmentId::new(),
        organization_id: org.id,
        name: lapdev_domain::EnvironmentName::parse(name).unwrap(),
        kind: lapdev_domain::EnvironmentKind::Shared,
        owner_id: admin.id,
        catalog_id: catalog.id,
        catalog_name: "walk".into(),
        cluster_id: cluster.id,
        namespace: format!("lapdev-{name}-fixtr"),
        replicas: "\"keep\"".into(),
        objects: "[]".into(),
    };
    let event = lapdev_db::NewAuditEvent::new(None, "environment.create", "environment");
    let note = lapdev_db::EventNote {
        level: "info",
        message: "fixture",
    };
    db.environment_create(&new, &[], &event, note)
        .await
        .unwrap();
}

async fn me_id(t: &TestServer, token: &str) -> String {
    let (_, me) = t.get("/api/v1/me", token).await;
    me["user"]["id"].as_str().unwrap().to_string()
}

fn password_of(who: Who) -> (&'static str, String) {
    match who {
        Who::Anonymous | Who::Admin => ("admin", ADMIN_PASSWORD.to_string()),
        Who::OtherOrg => ("mallory", "mallory-password-1".into()),
        Who::Member => ("bob", "bob-password-1".into()),
    }
}

fn body_for(method: &str, path: &str, who: Who, n: usize) -> Option<Value> {
    let tag = format!("{who:?}").to_lowercase();
    let (username, password) = password_of(who);
    match (method, path) {
        ("POST", "/api/v1/auth/login") => Some(json!({"username": username, "password": password})),
        ("PUT", "/api/v1/me/password") => {
            Some(json!({"current_password": password, "new_password": password}))
        }
        ("POST", "/api/v1/orgs") => Some(json!({"name": format!("new-{tag}-{n}")})),
        ("POST", "/api/v1/orgs/{org}/members") => {
            Some(json!({"username": format!("new-{tag}-{n}"), "role": "member"}))
        }
        ("PATCH", "/api/v1/orgs/{org}/clusters/{cluster}") => {
            Some(json!({"permissions": ["personal"]}))
        }
        ("PATCH", "/api/v1/orgs/{org}/catalogs/{catalog}") => {
            Some(json!({"description": format!("by {tag}")}))
        }
        ("PATCH", _) => Some(json!({"role": "member"})),
        ("POST", "/api/v1/orgs/{org}/catalogs") => Some(json!({
            "name": format!("new-{tag}-{n}"),
            "cluster": "walk",
            "workloads": [{"namespace": "shop", "kind": "Deployment", "name": "api"}],
        })),
        ("POST", "/api/v1/orgs/{org}/catalogs/{catalog}/workloads") => Some(json!({
            "workloads": [{"namespace": "shop", "kind": "Deployment", "name": "cart"}],
        })),
        ("POST", "/api/v1/orgs/{org}/catalogs/{catalog}/refresh") => None,
        // Shared: members are refused before the cluster is looked at.
        ("POST", "/api/v1/orgs/{org}/environments") => Some(json!({
            "name": format!("new-{tag}-{n}"),
            "catalog": "walk",
            "cluster": "walk",
            "kind": "shared",
        })),
        (
            "POST",
            "/api/v1/orgs/{org}/environments/{env}/pause"
            | "/api/v1/orgs/{org}/environments/{env}/resume",
        ) => None,
        ("POST", "/api/v1/orgs/{org}/catalogs/{catalog}/refresh/apply") => {
            Some(json!({"digest": "0"}))
        }
        ("POST", "/api/v1/orgs/{org}/clusters") => Some(json!({"name": format!("new-{tag}-{n}")})),
        ("POST", "/api/v1/orgs/{org}/clusters/{cluster}/token") => None,
        ("POST", "/api/v1/tokens") => Some(json!({"name": format!("{tag} {n}")})),
        ("GET" | "DELETE", _) => None,
        other => panic!("no request body defined for {other:?}"),
    }
}

/// The `(METHOD, path)` pairs of the served OpenAPI document.
async fn documented_endpoints(t: &TestServer) -> BTreeSet<(String, String)> {
    let (status, doc) = t
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "put", "post", "delete", "patch", "head", "options"]
                .contains(&method.as_str())
            {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_endpoint_as_every_caller() {
    let f = fixture().await;
    let t = &f.t;

    let documented = documented_endpoints(t).await;
    let tabled: BTreeSet<_> = TABLE
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let missing: Vec<_> = documented.difference(&tabled).collect();
    assert!(
        missing.is_empty(),
        "endpoints missing from the authz table: {missing:?}"
    );
    let stale: Vec<_> = tabled.difference(&documented).collect();
    assert!(
        stale.is_empty(),
        "table rows for endpoints that do not exist: {stale:?}"
    );

    let mut failures = vec![];
    for (n, (method, template, expected)) in TABLE.iter().enumerate() {
        for (who, want) in WHO.iter().zip(expected) {
            let path = template
                .replace("{org}", "default")
                .replace("{user_id}", &f.target_user)
                .replace("{id}", &f.admin_token_id)
                .replace("{cluster}", "walk")
                .replace("{catalog}", "walk")
                .replace("{env}", "walk")
                .replace("{namespace}", "shop")
                .replace("{kind}", "Deployment")
                .replace("{name}", "web");
            let token = match who {
                Who::Anonymous => None,
                Who::OtherOrg => Some(f.other_token.as_str()),
                Who::Member => Some(f.member_token.as_str()),
                Who::Admin => Some(t.admin_token.as_str()),
            };
            let (status, body) = t
                .call(
                    method.parse().unwrap(),
                    &path,
                    token,
                    body_for(method, template, *who, n),
                )
                .await;
            if status.as_u16() != *want {
                failures.push(format!(
                    "{method} {template} as {who:?}: got {status}, want {want}: {body}"
                ));
            }
            if status.is_client_error() {
                assert!(
                    body["code"].is_string(),
                    "error body for {method} {template}: {body}"
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authz table mismatches:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn a_missing_organization_looks_like_a_foreign_one() {
    let f = fixture().await;
    let t = &f.t;
    let (missing, b1) = t.get("/api/v1/orgs/no-such-org", &t.admin_token).await;
    let (foreign, b2) = t.get("/api/v1/orgs/evil", &t.admin_token).await;
    assert_eq!(missing, StatusCode::NOT_FOUND);
    assert_eq!(foreign, StatusCode::NOT_FOUND);
    assert_eq!(b1, b2, "same body: existence is not revealed");
    assert_eq!(
        b1["field"], "org",
        "machine-readable: the organization is unknown"
    );
    let (status, _) = t.get("/api/v1/orgs/evil", &f.other_token).await;
    assert_eq!(status, StatusCode::OK);
}
