//! `lapdev cluster workloads` and `lapdev catalog ...` through the binary,
//! without a connected cluster: argument parsing, refusals with clear
//! messages (not a source, never connected, member, unknown catalog) and
//! empty lists. The connected path (real kube-manager and kube-sim) is in
//! lapdev-e2e's catalog test.

use lapdev_api::{CatalogSummary, Page};

use crate::TestServer;

#[test]
fn refusals_are_clear() {
    let server = TestServer::start();
    let admin = server.admin();
    admin
        .cmd(&["cluster", "create", "dev", "--roles", "target"])
        .ok();
    admin.cmd(&["cluster", "create", "prod"]).ok();

    let (code, stderr) = admin.cmd(&["cluster", "workloads", "dev"]).fails();
    assert_eq!(code, 1);
    assert!(stderr.contains("does not have the source role"), "{stderr}");
    let (_, stderr) = admin
        .cmd(&["cluster", "workloads", "prod", "--kind", "deploy"])
        .fails();
    assert!(stderr.contains("never connected"), "{stderr}");
    let (_, stderr) = admin
        .cmd(&["cluster", "workloads", "prod", "--kind", "pod"])
        .fails();
    assert!(stderr.contains("kind"), "{stderr}");

    let (_, stderr) = admin
        .cmd(&[
            "catalog",
            "create",
            "shop",
            "--cluster",
            "prod",
            "--workload",
            "shop/api",
        ])
        .fails();
    assert!(stderr.contains("namespace/kind/name"), "{stderr}");
    let (_, stderr) = admin
        .cmd(&[
            "catalog",
            "create",
            "shop",
            "--cluster",
            "prod",
            "--workload",
            "shop/deploy/api",
            "--redact",
            "db/",
        ])
        .fails();
    assert!(stderr.contains("SECRET/KEY"), "{stderr}");
    let (_, stderr) = admin
        .cmd(&[
            "catalog",
            "create",
            "shop",
            "--cluster",
            "prod",
            "--workload",
            "shop/deploy/api",
            "--exclude",
            "db/password",
        ])
        .fails();
    assert!(stderr.contains("never connected"), "{stderr}");

    let list: Page<CatalogSummary> = admin.cmd(&["catalog", "list"]).json();
    assert!(list.items.is_empty(), "nothing half-created");
    let table = admin.cmd(&["catalog", "list"]).ok();
    assert!(table.contains("SOURCE CLUSTER"), "{table}");
    let (_, stderr) = admin.cmd(&["catalog", "show", "nope"]).fails();
    assert!(stderr.contains("catalog not found"), "{stderr}");
    let (_, stderr) = admin.cmd(&["catalog", "refresh", "nope"]).fails();
    assert!(stderr.contains("catalog not found"), "{stderr}");

    admin
        .cmd(&["org", "members", "add", "bob", "--password-stdin"])
        .stdin("bobs-long-password\n")
        .ok();
    let bob = server.user();
    bob.login("bob", "bobs-long-password");
    let (_, stderr) = bob
        .cmd(&[
            "catalog",
            "create",
            "shop",
            "--cluster",
            "prod",
            "--workload",
            "shop/Deployment/api",
        ])
        .fails();
    assert!(stderr.contains("admin role"), "{stderr}");
    let (_, stderr) = bob.cmd(&["catalog", "delete", "nope"]).fails();
    assert!(stderr.contains("admin role"), "{stderr}");
}
