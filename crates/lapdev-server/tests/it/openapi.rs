//! Golden test of the OpenAPI document: an API change shows up in review as
//! a diff of `openapi.json`. Update with `UPDATE_EXPECT=1`.

#[test]
fn openapi_document() {
    let doc = lapdev_server::openapi();
    let json = serde_json::to_string_pretty(&doc).unwrap();
    expect_test::expect_file!["openapi.json"].assert_eq(&format!("{json}\n"));
}
