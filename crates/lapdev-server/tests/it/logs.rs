//! Secrets never reach the log: everything is captured at TRACE level while
//! passwords and tokens cross the API, then searched for them.

use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::{ADMIN_PASSWORD, TestServer};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// Current-thread runtime: the subscriber set for this thread sees every task.
#[tokio::test(flavor = "current_thread")]
async fn secrets_are_not_logged() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

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

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
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
