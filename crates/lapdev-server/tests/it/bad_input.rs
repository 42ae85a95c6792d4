//! Bad input over real HTTP: each case is one request and the expected
//! `status code [field=...]`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{TestServer, summary};

/// Sends `body` as raw bytes with `content_type`.
async fn raw(
    t: &TestServer,
    method: Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let resp = t
        .client
        .request(method, t.url(path))
        .bearer_auth(&t.admin_token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn bodies() {
    let t = TestServer::start().await;
    let check = async |path: &str, body: Value, expect: &str| {
        let (status, resp) = t.post(path, &t.admin_token, body.clone()).await;
        assert_eq!(
            summary(status, &resp),
            expect,
            "POST {path} {body} -> {resp}"
        );
    };
    check(
        "/api/v1/orgs",
        json!({"name": "Bad Name"}),
        "422 invalid field=name",
    )
    .await;
    check("/api/v1/orgs", json!({}), "422 invalid field=name").await;
    check("/api/v1/orgs", json!({"name": 7}), "422 invalid field=name").await;
    check("/api/v1/orgs", json!({"name": "acme"}), "201 -").await;
    check("/api/v1/orgs", json!({"name": "acme"}), "409 conflict").await;
    check(
        "/api/v1/orgs/acme/members",
        json!({"username": "UPPER", "role": "member"}),
        "422 invalid field=username",
    )
    .await;
    check(
        "/api/v1/orgs/acme/members",
        json!({"username": "dave", "role": "owner"}),
        "422 invalid field=role",
    )
    .await;
    check(
        "/api/v1/orgs/acme/members",
        json!({"username": "dave", "role": "member", "password": "short"}),
        "422 invalid field=password",
    )
    .await;
    check(
        "/api/v1/orgs/acme/members",
        json!({"username": "admin", "role": "member"}),
        "409 conflict",
    )
    .await;
    check(
        "/api/v1/tokens",
        json!({"name": " padded"}),
        "422 invalid field=name",
    )
    .await;
    check(
        "/api/v1/tokens",
        json!({"name": "ok", "expires_in_days": 0}),
        "422 invalid field=expires_in_days",
    )
    .await;
    check(
        "/api/v1/auth/login",
        json!({"username": "admin", "password": "x", "token_name": ""}),
        "422 invalid field=token_name",
    )
    .await;
}

#[tokio::test]
async fn malformed_unsupported_and_too_large() {
    let t = TestServer::start().await;
    let (s, b) = raw(
        &t,
        Method::POST,
        "/api/v1/orgs",
        "application/json",
        b"{\"name\":".to_vec(),
    )
    .await;
    assert_eq!(summary(s, &b), "400 bad_request");
    let (s, b) = raw(
        &t,
        Method::POST,
        "/api/v1/orgs",
        "text/plain",
        b"{\"name\":\"x\"}".to_vec(),
    )
    .await;
    assert_eq!(summary(s, &b), "415 unsupported_media_type");
    let big = format!(
        "{{\"name\":\"{}\"}}",
        "a".repeat(lapdev_api::MAX_BODY_BYTES)
    );
    let (s, b) = raw(
        &t,
        Method::POST,
        "/api/v1/orgs",
        "application/json",
        big.into_bytes(),
    )
    .await;
    assert_eq!(summary(s, &b), "413 payload_too_large");
    let (s, b) = t.get("/api/v1/orgs?limit=500", &t.admin_token).await;
    assert_eq!(summary(s, &b), "422 invalid field=limit");
    let (s, b) = t.get("/api/v1/orgs?limit=abc", &t.admin_token).await;
    assert_eq!(summary(s, &b), "400 bad_request");
    let (s, b) = t.get("/api/v1/orgs?cursor=nonsense", &t.admin_token).await;
    assert_eq!(summary(s, &b), "422 invalid field=cursor");
    let (s, b) = t.get("/api/v1/no-such-thing", &t.admin_token).await;
    assert_eq!(summary(s, &b), "404 not_found");
    let (s, b) = t
        .call(
            Method::GET,
            "/api/v1/me",
            Some("lpd_not-a-real-token"),
            None,
        )
        .await;
    assert_eq!(summary(s, &b), "401 unauthenticated");
    let resp = t
        .client
        .get(t.url("/api/v1/me"))
        .header("authorization", "Basic YWRtaW46eA==")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sign_in_failures_look_alike_and_are_rate_limited() {
    let t = TestServer::start().await;
    let login = async |username: &str, password: &str| {
        t.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": username, "password": password})),
        )
        .await
    };
    let (s1, wrong_password) = login("admin", "wrong-password").await;
    let (s2, no_such_user) = login("nobody", "wrong-password").await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!(s2, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong_password, no_such_user,
        "no hint whether the user exists"
    );
    for _ in 0..4 {
        let (s, _) = login("admin", "wrong-password").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, b) = login("admin", crate::ADMIN_PASSWORD).await;
    assert_eq!(
        summary(s, &b),
        "429 rate_limited",
        "locked out even with the right password"
    );
    // Other usernames are still allowed from this IP (below the IP limit).
    let (s, _) = login("nobody", "x").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}
