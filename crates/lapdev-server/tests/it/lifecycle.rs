//! Start, first-start bootstrap, restart, health, metrics and shutdown.

use reqwest::StatusCode;

use crate::{TestServer, client, config};

#[tokio::test]
async fn first_start_generates_the_admin_password_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.admin_password = None;
    let server = lapdev_server::start(cfg.clone()).await.unwrap();
    let admin = server.initial_admin().expect("first start").clone();
    assert_eq!(admin.username, "admin");
    assert_eq!(admin.organization, "default");
    assert!(admin.password.len() >= 20);
    assert!(
        !format!("{admin:?}").contains(&admin.password),
        "Debug redacts"
    );
    let resp = client()
        .post(format!("{}/api/v1/auth/login", server.url()))
        .json(&serde_json::json!({"username": "admin", "password": admin.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    server.shutdown().await;

    let again = lapdev_server::start(cfg).await.unwrap();
    assert!(
        again.initial_admin().is_none(),
        "only the first start creates an admin"
    );
    again.shutdown().await;
}

#[tokio::test]
async fn a_start_that_cannot_listen_creates_no_admin() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.admin_password = None;
    cfg.listen = busy.local_addr().unwrap();
    let err = lapdev_server::start(cfg.clone()).await.unwrap_err();
    assert!(
        matches!(err, lapdev_server::StartError::Bind { .. }),
        "{err}"
    );
    // The password was never generated, so nothing was lost: the next start
    // that can listen is still the first one and shows it.
    drop(busy);
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    let server = lapdev_server::start(cfg).await.unwrap();
    assert!(server.initial_admin().is_some(), "still the first start");
    server.shutdown().await;
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let t = TestServer::start().await;
    let c = &t.client;
    let healthz = c.get(t.url("/healthz")).send().await.unwrap();
    assert_eq!(healthz.status(), StatusCode::OK);
    let readyz = c.get(t.url("/readyz")).send().await.unwrap();
    assert_eq!(readyz.status(), StatusCode::OK);
    t.get("/api/v1/orgs/default", &t.admin_token).await;
    let metrics = c.get(t.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains(
            r#"lapdev_http_requests_total{method="GET",route="/api/v1/orgs/{org}",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains("lapdev_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn shutdown_is_graceful_and_releases_the_port() {
    let t = TestServer::start().await;
    let addr = t.server.local_addr();
    t.server.shutdown().await;
    let err = reqwest::Client::new()
        .get(format!("http://{addr}/healthz"))
        .send()
        .await;
    assert!(err.is_err(), "no longer serving");
}

#[tokio::test]
async fn bad_configuration_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.admin_username = "Not Valid".into();
    let err = lapdev_server::start(cfg).await.unwrap_err();
    assert!(err.to_string().contains("--admin-username"), "{err}");
    let mut cfg = config(&dir);
    cfg.database_url = Some("mysql://x".into());
    let err = lapdev_server::start(cfg).await.unwrap_err();
    assert_eq!(err.to_string(), "cannot open the database");
}

#[tokio::test]
async fn readiness_fails_without_the_database() {
    let t = TestServer::start().await;
    t.server.state().db().close().await;
    let resp = t.client.get(t.url("/readyz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "unavailable");
    let healthz = t.client.get(t.url("/healthz")).send().await.unwrap();
    assert_eq!(
        healthz.status(),
        StatusCode::OK,
        "liveness does not depend on the database"
    );
}

/// The whole server on PostgreSQL (`--database-url`), not just the datastore.
#[tokio::test]
async fn serves_on_postgres() {
    let Some(pg) = lapdev_db::testing::TestDatabase::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.database_url = Some(pg.url.clone());
    let server = lapdev_server::start(cfg).await.unwrap();
    assert!(server.initial_admin().is_some());
    let c = client();
    let login: serde_json::Value = c
        .post(format!("{}/api/v1/auth/login", server.url()))
        .json(&serde_json::json!({"username": "admin", "password": crate::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap();
    let me = c
        .get(format!("{}/api/v1/orgs/default/audit", server.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert!(
        !dir.path().join(lapdev_db::SQLITE_FILE_NAME).exists(),
        "no SQLite file when PostgreSQL is configured"
    );
    server.shutdown().await;
    pg.cleanup().await;
}
