//! The REST API's behaviour, end to end over HTTP.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{TestServer, summary};

#[tokio::test]
async fn me_and_organizations() {
    let t = TestServer::start().await;
    let (s, me) = t.get("/api/v1/me", &t.admin_token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["user"]["username"], "admin");
    assert_eq!(me["organizations"][0]["organization"]["name"], "default");
    assert_eq!(me["organizations"][0]["role"], "admin");

    let (s, org) = t
        .post("/api/v1/orgs", &t.admin_token, json!({"name": "acme"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(org["name"], "acme");
    let (s, got) = t.get("/api/v1/orgs/acme", &t.admin_token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got["role"], "admin");
    assert_eq!(got["organization"]["id"], org["id"]);

    // Pagination: creation order, then the cursor.
    for i in 0..3 {
        t.post(
            "/api/v1/orgs",
            &t.admin_token,
            json!({"name": format!("o{i}")}),
        )
        .await;
    }
    let mut names = vec![];
    let mut path = "/api/v1/orgs?limit=2".to_string();
    loop {
        let (s, page) = t.get(&path, &t.admin_token).await;
        assert_eq!(s, StatusCode::OK);
        for item in page["items"].as_array().unwrap() {
            names.push(item["organization"]["name"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/orgs?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(names, ["default", "acme", "o0", "o1", "o2"]);
}

#[tokio::test]
async fn members_roles_and_the_last_admin() {
    let t = TestServer::start().await;
    // A new user with a generated password, shown once.
    let (s, added) = t
        .post(
            "/api/v1/orgs/default/members",
            &t.admin_token,
            json!({"username": "bob", "role": "member"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{added}");
    let bob_password = added["initial_password"].as_str().unwrap().to_string();
    let bob_id = added["member"]["user"]["id"].as_str().unwrap().to_string();
    let bob = t.login("bob", &bob_password).await;
    let (s, members) = t.get("/api/v1/orgs/default/members", &bob).await;
    assert_eq!(s, StatusCode::OK);
    let list: Vec<_> = members["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}:{}",
                m["user"]["username"].as_str().unwrap(),
                m["role"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(list, ["admin:admin", "bob:member"]);

    // The only admin can neither be demoted nor removed.
    let (_, me) = t.get("/api/v1/me", &t.admin_token).await;
    let admin_id = me["user"]["id"].as_str().unwrap().to_string();
    let admin_path = format!("/api/v1/orgs/default/members/{admin_id}");
    let (s, b) = t
        .call(
            Method::PATCH,
            &admin_path,
            Some(&t.admin_token),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(summary(s, &b), "409 conflict");
    let (s, b) = t
        .call(Method::DELETE, &admin_path, Some(&t.admin_token), None)
        .await;
    assert_eq!(summary(s, &b), "409 conflict");

    // Promote bob; now the admin can step down, and bob is in charge.
    let bob_path = format!("/api/v1/orgs/default/members/{bob_id}");
    let (s, b) = t
        .call(
            Method::PATCH,
            &bob_path,
            Some(&t.admin_token),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["role"], "admin");
    let (s, _) = t
        .call(
            Method::PATCH,
            &admin_path,
            Some(&t.admin_token),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = t.get("/api/v1/orgs/default/audit", &t.admin_token).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "no longer an admin");
    let (s, _) = t.call(Method::DELETE, &admin_path, Some(&bob), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t.get("/api/v1/orgs/default", &t.admin_token).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "removed members lose sight of the organization"
    );
    let (s, _) = t
        .call(
            Method::PATCH,
            "/api/v1/orgs/default/members/not-an-id",
            Some(&bob),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The audit log, newest first.
    let (s, audit) = t.get("/api/v1/orgs/default/audit", &bob).await;
    assert_eq!(s, StatusCode::OK);
    let actions: Vec<_> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} by {}",
                e["action"].as_str().unwrap(),
                e["object_name"].as_str().unwrap_or("-"),
                e["actor"]["username"].as_str().unwrap_or("system")
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            "member.remove admin by bob",
            "member.set_role admin by admin",
            "member.set_role bob by admin",
            "token.create cli by bob",
            "member.add bob by admin",
            "token.create cli by admin",
            "organization.create default by system",
        ]
    );
}

#[tokio::test]
async fn tokens_create_list_use_revoke() {
    let t = TestServer::start().await;
    let (s, created) = t
        .post(
            "/api/v1/tokens",
            &t.admin_token,
            json!({"name": "ci", "expires_in_days": 30}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let secret = created["token"].as_str().unwrap().to_string();
    assert!(secret.starts_with("lpd_"));
    assert!(secret.starts_with(created["token_info"]["prefix"].as_str().unwrap()));
    assert!(created["token_info"]["expires_at"].is_string());

    let (s, me) = t.get("/api/v1/me", &secret).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["user"]["username"], "admin");

    let (s, list) = t.get("/api/v1/tokens", &t.admin_token).await;
    assert_eq!(s, StatusCode::OK);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "the login token and ci");
    assert!(items[1]["last_used_at"].is_string(), "used once above");
    assert!(
        !list.to_string().contains(&secret),
        "secrets are never listed"
    );

    let id = created["token_info"]["id"].as_str().unwrap();
    let (s, _) = t
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(&t.admin_token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = t.get("/api/v1/me", &secret).await;
    assert_eq!(summary(s, &b), "401 unauthenticated", "revoked at once");
    let (s, _) = t
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(&t.admin_token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_current_token_revokes_itself() {
    let t = TestServer::start().await;
    let other = t.login("admin", crate::ADMIN_PASSWORD).await;
    let (s, _) = t
        .call(Method::DELETE, "/api/v1/tokens/current", Some(&other), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = t.get("/api/v1/me", &other).await;
    assert_eq!(summary(s, &b), "401 unauthenticated", "revoked at once");
    let (s, _) = t.get("/api/v1/me", &t.admin_token).await;
    assert_eq!(s, StatusCode::OK, "only the token of the request");
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let t = TestServer::start().await;
    let db = t.server.state().db();
    let admin = db.user_by_username("admin").await.unwrap().unwrap();
    let secret = "lpd_expired-token-for-the-test";
    let token = lapdev_db::NewApiToken {
        id: lapdev_domain::ApiTokenId::new(),
        user_id: admin.id,
        name: lapdev_domain::TokenName::parse("old").unwrap(),
        prefix: "lpd_exp".into(),
        secret_hash: {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(secret.as_bytes()))
        },
        expires_at: Some(jiff::Timestamp::now() - jiff::SignedDuration::from_secs(1)),
    };
    let event = lapdev_db::NewAuditEvent::new(None, "token.create", "api_token");
    db.token_create(&token, &event).await.unwrap();
    let (s, _) = t.get("/api/v1/me", secret).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn password_change() {
    let t = TestServer::start().await;
    let put = async |current: &str, new: &str| {
        t.call(
            Method::PUT,
            "/api/v1/me/password",
            Some(&t.admin_token),
            Some(json!({"current_password": current, "new_password": new})),
        )
        .await
    };
    let (s, b) = put("wrong-password", "a-new-password-1").await;
    assert_eq!(summary(s, &b), "422 invalid field=current_password");
    let (s, b) = put(crate::ADMIN_PASSWORD, "short").await;
    assert_eq!(summary(s, &b), "422 invalid field=new_password");
    let (s, _) = put(crate::ADMIN_PASSWORD, "a-new-password-1").await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    t.login("admin", "a-new-password-1").await;
    let (s, _) = t
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "admin", "password": crate::ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = t.get("/api/v1/me", &t.admin_token).await;
    assert_eq!(s, StatusCode::OK, "API tokens survive a password change");
}
