//! `login`, `whoami`, `logout` and the stored credentials.

use lapdev_api::{Me, Role};

use crate::{ADMIN, ADMIN_PASSWORD, TestServer};

#[test]
fn login_with_password_on_stdin_then_whoami() {
    let server = TestServer::start();
    let admin = server.admin();

    let me: Me = admin.cmd(&["whoami"]).json();
    assert_eq!(me.user.username.as_str(), ADMIN);
    assert_eq!(me.organizations.len(), 1);
    assert_eq!(me.organizations[0].role, Role::Admin);

    let table = admin.cmd(&["whoami"]).ok();
    assert!(table.starts_with("USERNAME"), "{table}");
    assert!(table.contains(ADMIN), "{table}");
}

#[cfg(unix)]
#[test]
fn the_stored_token_is_readable_only_by_its_owner() {
    use std::os::unix::fs::PermissionsExt;

    let server = TestServer::start();
    let admin = server.admin();
    let mode = std::fs::metadata(admin.config_file())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(admin.config_file()).unwrap()).unwrap();
    assert_eq!(stored["server"], server.url.as_str());
    assert!(stored["organization"].is_string(), "{stored}");
}

#[test]
fn a_wrong_password_is_refused_and_nothing_is_stored() {
    let server = TestServer::start();
    let user = server.user();
    let (code, stderr) = user
        .cmd(&[
            "login",
            "--server",
            &server.url,
            "--username",
            ADMIN,
            "--password-stdin",
        ])
        .stdin("not-the-password\n")
        .fails();
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!user.config_file().exists());
}

#[test]
fn an_existing_token_can_be_stored_with_token() {
    let server = TestServer::start();
    let admin = server.admin();
    let token = admin.stored_token();

    let other = server.user();
    other
        .cmd(&["login", "--server", &server.url])
        .env("LAPDEV_TOKEN", &token)
        .ok();
    let me: Me = other.cmd(&["whoami"]).json();
    assert_eq!(me.user.username.as_str(), ADMIN);
}

#[test]
fn logout_revokes_the_token_and_forgets_it() {
    let server = TestServer::start();
    let admin = server.admin();
    let token = admin.stored_token();

    admin.cmd(&["logout"]).ok();
    assert!(!admin.config_file().exists());

    let (code, stderr) = admin.cmd(&["whoami"]).fails();
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("not logged in"), "{stderr}");

    let (code, stderr) = admin
        .cmd(&["whoami", "--server", &server.url])
        .env("LAPDEV_TOKEN", &token)
        .fails();
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "error: your token was rejected (revoked or expired): run `lapdev login`"
    );
}

#[test]
fn a_password_login_works_again_after_logout() {
    let server = TestServer::start();
    let admin = server.admin();
    admin.cmd(&["logout"]).ok();
    admin.login(ADMIN, ADMIN_PASSWORD);
    let me: Me = admin.cmd(&["whoami"]).json();
    assert_eq!(me.user.username.as_str(), ADMIN);
}

#[test]
fn a_second_login_replaces_and_revokes_the_first_token() {
    let server = TestServer::start();
    let admin = server.admin();
    let first = admin.stored_token();
    admin.login(ADMIN, ADMIN_PASSWORD);
    assert_ne!(admin.stored_token(), first);

    let (code, _) = admin
        .cmd(&["whoami", "--server", &server.url])
        .env("LAPDEV_TOKEN", &first)
        .fails();
    assert_eq!(code, 3);
    admin.cmd(&["whoami"]).ok();
}

#[test]
fn repeated_wrong_passwords_are_rate_limited() {
    let server = TestServer::start();
    let user = server.user();
    let attempt = || {
        user.cmd(&[
            "login",
            "--server",
            &server.url,
            "--username",
            ADMIN,
            "--password-stdin",
        ])
        .stdin("wrong-password\n")
        .fails()
    };
    let last = (0..10)
        .map(|_| attempt())
        .find(|(_, stderr)| stderr.starts_with("error: rate limited: "))
        .expect("the server rate-limits sign-ins");
    assert_eq!(last.0, 1);
    assert_eq!(last.1.lines().count(), 1, "{}", last.1);
}

#[test]
fn change_password_then_sign_in_with_the_new_one() {
    let server = TestServer::start();
    let admin = server.admin();

    let (code, stderr) = admin
        .cmd(&["change-password", "--password-stdin"])
        .stdin("not-my-password\na-brand-new-password\n")
        .fails();
    assert_eq!(code, 1);
    assert_eq!(
        stderr.trim_end(),
        "error: invalid `current_password`: is not your current password"
    );

    admin
        .cmd(&["change-password", "--password-stdin"])
        .stdin(&format!("{ADMIN_PASSWORD}\na-brand-new-password\n"))
        .ok();
    admin.cmd(&["whoami"]).ok();
    server.user().login(ADMIN, "a-brand-new-password");
}
