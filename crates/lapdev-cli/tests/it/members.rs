//! `org` and `org members`: the admin manages the team; a member may not.

use lapdev_api::{AddedMember, Member, Organization, OrganizationMembership, Page, Role};

use crate::TestServer;

fn usernames(page: &Page<Member>) -> Vec<&str> {
    page.items
        .iter()
        .map(|m| m.user.username.as_str())
        .collect()
}

#[test]
fn members_add_list_set_role_remove() {
    let server = TestServer::start();
    let admin = server.admin();

    let stdout = admin
        .cmd(&["org", "members", "add", "bob", "--role", "member"])
        .ok();
    assert!(stdout.contains("Initial password of bob"), "{stdout}");

    let members: Page<Member> = admin.cmd(&["org", "members", "list"]).yaml();
    assert_eq!(usernames(&members).len(), 2, "{members:?}");
    assert!(usernames(&members).contains(&"bob"));

    let bob: Member = admin
        .cmd(&["org", "members", "set-role", "bob", "admin"])
        .json();
    assert_eq!(bob.role, Role::Admin);

    admin.cmd(&["org", "members", "remove", "bob"]).ok();
    let members: Page<Member> = admin.cmd(&["org", "members", "list"]).json();
    assert_eq!(usernames(&members), ["admin"]);

    let (code, stderr) = admin.cmd(&["org", "members", "remove", "bob"]).fails();
    assert_eq!(code, 1);
    assert!(stderr.contains("bob is not a member"), "{stderr}");
}

#[test]
fn a_new_member_signs_in_with_the_given_password_and_cannot_manage_members() {
    let server = TestServer::start();
    let admin = server.admin();
    let added: AddedMember = admin
        .cmd(&["org", "members", "add", "carol", "--password-stdin"])
        .stdin("carols-long-password\n")
        .json();
    assert_eq!(added.member.role, Role::Member);
    assert_eq!(added.initial_password, None);

    let carol = server.user();
    carol.login("carol", "carols-long-password");
    let orgs: Page<OrganizationMembership> = carol.cmd(&["org", "list"]).json();
    let org = orgs.items[0].organization.name.to_string();

    let (code, stderr) = carol
        .cmd(&["org", "members", "add", "dave", "--role", "admin"])
        .fails();
    assert_eq!(code, 1);
    assert_eq!(
        stderr.trim_end(),
        format!("error: you need the admin role in organization {org} to do this")
    );
}

#[test]
fn the_last_admin_cannot_be_demoted() {
    let server = TestServer::start();
    let admin = server.admin();
    let (code, stderr) = admin
        .cmd(&["org", "members", "set-role", "admin", "member"])
        .fails();
    assert_eq!(code, 1);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("admin"), "{stderr}");
}

#[test]
fn a_too_short_password_names_the_field() {
    let server = TestServer::start();
    let admin = server.admin();
    let (code, stderr) = admin
        .cmd(&["org", "members", "add", "erin", "--password-stdin"])
        .stdin("short\n")
        .fails();
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("error: invalid `password`: "),
        "{stderr}"
    );
}

#[test]
fn create_an_organization_and_act_in_it_with_org() {
    let server = TestServer::start();
    let admin = server.admin();
    let org: Organization = admin.cmd(&["org", "create", "team-two"]).json();
    assert_eq!(org.name.as_str(), "team-two");

    let orgs: Page<OrganizationMembership> = admin.cmd(&["org", "list"]).yaml();
    assert_eq!(orgs.items.len(), 2);

    admin
        .cmd(&["org", "members", "add", "frank", "--org", "team-two"])
        .ok();
    let members: Page<Member> = admin
        .cmd(&["org", "members", "list", "--org", "team-two"])
        .json();
    assert_eq!(usernames(&members), ["admin", "frank"]);
    let members: Page<Member> = admin.cmd(&["org", "members", "list"]).json();
    assert_eq!(
        usernames(&members),
        ["admin"],
        "the default org is unchanged"
    );
}

#[test]
fn lists_follow_cursors() {
    let server = TestServer::start();
    let admin = server.admin();
    for name in ["m1", "m2", "m3", "m4"] {
        admin.cmd(&["org", "members", "add", name]).ok();
    }
    let first: Page<Member> = admin
        .cmd(&["org", "members", "list", "--limit", "2"])
        .json();
    assert_eq!(first.items.len(), 2);
    let cursor = first.next_cursor.expect("more members remain");
    let rest: Page<Member> = admin
        .cmd(&["org", "members", "list", "--cursor", &cursor, "--all"])
        .json();
    assert_eq!(rest.items.len(), 3);
    assert_eq!(rest.next_cursor, None);
    let all: Page<Member> = admin.cmd(&["org", "members", "list", "--all"]).json();
    assert_eq!(all.items.len(), 5);
}
