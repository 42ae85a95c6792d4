//! Golden test of the OpenAPI document: an API change shows up in review as
//! a diff of `openapi.json`. Update with `UPDATE_EXPECT=1`.

#[test]
fn openapi_document() {
    let doc = lapdev_server::openapi();
    let json = serde_json::to_string_pretty(&doc).unwrap();
    expect_test::expect_file!["openapi.json"].assert_eq(&format!("{json}\n"));
}

/// The router (no socket) serves the same document.
#[tokio::test]
async fn served_document_is_the_generated_one() {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let dir = tempfile::tempdir().unwrap();
    let (state, _) = lapdev_server::AppState::open(&crate::config(&dir))
        .await
        .unwrap();
    let response = lapdev_server::router(state)
        .oneshot(
            axum::http::Request::get("/api/v1/openapi.json")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let served: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        served,
        serde_json::to_value(lapdev_server::openapi()).unwrap()
    );
}
