//! `token create|list|revoke` and `audit list`.

use lapdev_api::{ApiToken, AuditEvent, CreatedToken, Me, Page};

use crate::{ADMIN, TestServer};

#[test]
fn create_use_list_and_revoke_a_token() {
    let server = TestServer::start();
    let admin = server.admin();

    let created: CreatedToken = admin
        .cmd(&["token", "create", "ci-bot", "--expires-in-days", "30"])
        .json();
    assert_eq!(created.token_info.name.as_str(), "ci-bot");
    assert!(created.token_info.expires_at.is_some());

    // Anyone holding the token acts as its owner.
    let robot = server.user();
    let me: Me = robot
        .cmd(&["whoami", "--server", &server.url])
        .env("LAPDEV_TOKEN", &created.token)
        .json();
    assert_eq!(me.user.username.as_str(), ADMIN);

    let tokens: Page<ApiToken> = admin.cmd(&["token", "list"]).yaml();
    assert!(tokens.items.iter().any(|t| t.id == created.token_info.id));

    admin
        .cmd(&["token", "revoke", &created.token_info.id.to_string()])
        .ok();
    let tokens: Page<ApiToken> = admin.cmd(&["token", "list"]).json();
    assert!(!tokens.items.iter().any(|t| t.id == created.token_info.id));

    let (code, stderr) = robot
        .cmd(&["whoami", "--server", &server.url, "--token", &created.token])
        .fails();
    assert_eq!(code, 3);
    assert_eq!(
        stderr.trim_end(),
        "error: your token was rejected (revoked or expired): run `lapdev login`"
    );
    assert!(!stderr.contains(&created.token), "the token never shows");
}

#[test]
fn token_create_prints_the_secret_once_in_a_table() {
    let server = TestServer::start();
    let admin = server.admin();
    let stdout = admin.cmd(&["token", "create", "laptop"]).ok();
    assert!(stdout.contains("shown only now"), "{stdout}");
    let table = admin.cmd(&["token", "list"]).ok();
    assert!(table.contains("laptop"), "{table}");
}

#[test]
fn the_audit_log_records_member_changes() {
    let server = TestServer::start();
    let admin = server.admin();
    admin.cmd(&["org", "members", "add", "gina"]).ok();

    let events: Page<AuditEvent> = admin.cmd(&["audit", "list", "--all"]).json();
    let add = events
        .items
        .iter()
        .find(|e| e.object_name.as_deref() == Some("gina"))
        .unwrap_or_else(|| panic!("no audit event about gina: {events:#?}"));
    assert_eq!(add.actor.as_ref().unwrap().username.as_str(), ADMIN);

    let limited: Page<AuditEvent> = admin.cmd(&["audit", "list", "--limit", "1"]).yaml();
    assert_eq!(limited.items.len(), 1);
    assert_eq!(limited.items[0].id, events.items[0].id, "newest first");
}
