//! Secrets never reach the log: everything is captured at TRACE level while
//! passwords and tokens cross the API, then searched for them.

use serde_json::json;

use crate::log_capture::LogCapture;
use crate::{ADMIN_PASSWORD, TestServer};

// Current-thread runtime: the subscriber set for this thread sees every task.
#[tokio::test(flavor = "current_thread")]
async fn secrets_are_not_logged() {
    let capture = LogCapture::start();

    let t = TestServer::start().await;
    let (_, created) = t
        .post("/api/v1/tokens", &t.admin_token, json!({"name": "logged?"}))
        .await;
    let token = created["token"].as_str().unwrap().to_string();
    let (_, added) = t
        .post(
            "/api/v1/orgs/default/members",
            &token,
            json!({"username": "bob", "role": "member", "password": "bob-secret-password"}),
        )
        .await;
    assert_eq!(added["member"]["user"]["username"], "bob");
    t.get("/api/v1/me", &token).await;

    let log = capture.text();
    assert!(log.contains("/api/v1/tokens"), "requests are logged: {log}");
    for secret in [
        ADMIN_PASSWORD,
        "bob-secret-password",
        &token,
        &t.admin_token,
    ] {
        assert!(!log.contains(secret), "a secret is in the log");
    }
}
