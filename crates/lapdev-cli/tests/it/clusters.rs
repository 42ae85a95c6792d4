//! `lapdev cluster ...`: the whole life of a cluster through the binary,
//! what a member may do, and the install manifest with and without a token.

use lapdev_api::{
    Cluster, ClusterCredentials, ClusterPermission, ClusterRole, ClusterStatus, Page,
};

use crate::TestServer;

fn names(page: &Page<Cluster>) -> Vec<&str> {
    page.items.iter().map(|c| c.name.as_str()).collect()
}

#[test]
fn create_list_change_rotate_revoke_delete() {
    let server = TestServer::start();
    let admin = server.admin();

    let dev: ClusterCredentials = admin.cmd(&["cluster", "create", "dev"]).json();
    assert!(dev.token.starts_with("lpc_"));
    assert_eq!(
        dev.cluster.roles,
        [ClusterRole::Source, ClusterRole::Target]
    );
    assert_eq!(dev.cluster.status, ClusterStatus::Pending);
    assert!(dev.install_command.contains(&dev.token));

    let prod: ClusterCredentials = admin
        .cmd(&[
            "cluster",
            "create",
            "prod",
            "--roles",
            "source",
            "--permissions",
            "none",
        ])
        .json();
    assert_eq!(prod.cluster.roles, [ClusterRole::Source]);
    assert!(prod.cluster.permissions.is_empty());

    let table = admin.cmd(&["cluster", "create", "lab"]).ok();
    assert!(table.contains("shown only now"), "{table}");
    assert!(table.contains("kubectl apply -f"), "{table}");

    let list: Page<Cluster> = admin.cmd(&["cluster", "list"]).yaml();
    assert_eq!(names(&list), ["dev", "prod", "lab"]);
    let table = admin.cmd(&["cluster", "show", "prod"]).ok();
    assert!(
        table.contains("pending") && table.contains("never"),
        "{table}"
    );

    admin.cmd(&["cluster", "rename", "dev", "staging"]).ok();
    let staging: Cluster = admin
        .cmd(&["cluster", "set-roles", "staging", "target"])
        .json();
    assert_eq!(staging.roles, [ClusterRole::Target]);
    let staging: Cluster = admin
        .cmd(&["cluster", "set-permissions", "staging", "shared"])
        .json();
    assert_eq!(staging.permissions, [ClusterPermission::Shared]);
    let staging: Cluster = admin
        .cmd(&["cluster", "set-permissions", "staging", "personal,shared"])
        .json();
    assert_eq!(staging.permissions.len(), 2);

    let rotated: ClusterCredentials = admin.cmd(&["cluster", "rotate-token", "staging"]).json();
    assert_ne!(rotated.token, dev.token);
    assert!(rotated.previous_token_retires_at.is_some());

    let revoked: Cluster = admin.cmd(&["cluster", "revoke-token", "staging"]).json();
    assert_eq!(revoked.token_prefix, None);

    admin.cmd(&["cluster", "delete", "staging"]).ok();
    let (code, stderr) = admin.cmd(&["cluster", "show", "staging"]).fails();
    assert_eq!(code, 1);
    assert_eq!(
        stderr.trim_end(),
        "error: cluster not found (in organization default)"
    );
    let (_, stderr) = admin.cmd(&["cluster", "create", "prod"]).fails();
    assert!(
        stderr.contains("already has a cluster named prod"),
        "{stderr}"
    );
    let (code, stderr) = admin.cmd(&["cluster", "set-roles", "prod"]).fails();
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn members_read_clusters_and_admins_manage_them() {
    let server = TestServer::start();
    let admin = server.admin();
    admin.cmd(&["cluster", "create", "dev"]).ok();
    admin
        .cmd(&["org", "members", "add", "bob", "--password-stdin"])
        .stdin("bobs-long-password\n")
        .ok();
    let bob = server.user();
    bob.login("bob", "bobs-long-password");
    let list: Page<Cluster> = bob.cmd(&["cluster", "list"]).json();
    assert_eq!(names(&list), ["dev"]);
    let (code, stderr) = bob.cmd(&["cluster", "create", "mine"]).fails();
    assert_eq!(code, 1);
    assert_eq!(
        stderr.trim_end(),
        "error: you need the admin role in organization default to do this"
    );
    let (_, stderr) = bob.cmd(&["cluster", "install-manifest", "dev"]).fails();
    assert!(stderr.contains("admin role"), "{stderr}");
    let (_, stderr) = bob.cmd(&["cluster", "list", "--org", "nope"]).fails();
    assert_eq!(
        stderr.trim_end(),
        "error: there is no organization nope that you are a member of: see `lapdev org list`"
    );
}

#[test]
fn install_manifest_with_and_without_the_token() {
    let server = TestServer::start();
    let admin = server.admin();
    let created: ClusterCredentials = admin.cmd(&["cluster", "create", "dev"]).json();

    let out = admin.cmd(&["cluster", "install-manifest", "dev"]).output();
    assert!(out.status.success());
    let yaml = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(yaml.contains(lapdev_api::TOKEN_PLACEHOLDER));
    assert!(stderr.contains("--cluster-token"), "{stderr}");

    let yaml = admin
        .cmd(&[
            "cluster",
            "install-manifest",
            "dev",
            "--cluster-token",
            &created.token,
            "--source-namespaces",
            "shop,billing",
        ])
        .ok();
    assert!(yaml.contains(&format!("token: \"{}\"", created.token)));
    assert!(!yaml.contains(lapdev_api::TOKEN_PLACEHOLDER));
    assert!(yaml.contains("namespace: \"shop\"") && yaml.contains("namespace: \"billing\""));
    assert!(yaml.contains("kind: ValidatingAdmissionPolicy"));

    let yaml = admin
        .cmd(&[
            "cluster",
            "install-manifest",
            "dev",
            "--cluster-token-stdin",
        ])
        .stdin(&format!("{}\n", created.token))
        .ok();
    assert!(yaml.contains(&created.token));
    let (_, stderr) = admin
        .cmd(&[
            "cluster",
            "install-manifest",
            "dev",
            "--cluster-token",
            "lpd_x",
        ])
        .fails();
    assert!(stderr.contains("not a cluster token"), "{stderr}");
    let (_, stderr) = admin
        .cmd(&[
            "cluster",
            "install-manifest",
            "dev",
            "--source-namespaces",
            "Bad",
        ])
        .fails();
    assert!(stderr.contains("`namespaces`"), "{stderr}");
}
