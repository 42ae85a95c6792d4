//! The cluster pages: connecting a cluster (install command and token
//! shown once), and managing one (settings, token rotation and revocation,
//! deletion), each change audited.

use reqwest::StatusCode;
use serde_json::json;

use super::Web;
use crate::ADMIN_PASSWORD;

#[tokio::test]
async fn connecting_a_cluster_shows_its_install_command_once() {
    let w = Web::start().await;
    let admin = w.session("admin", ADMIN_PASSWORD).await;
    let empty = w.get("/orgs/default/clusters", Some(&admin)).await;
    assert!(empty.body.contains("No clusters connected yet"));

    let r = w
        .post(
            "/orgs/default/clusters",
            Some(&admin),
            &[("name", "prod"), ("role_source", "on")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let command = r
        .body
        .split("<code id=\"install-command\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the install command");
    assert!(
        command.starts_with("kubectl apply -f &#39;http://127.0.0.1:"),
        "{command}"
    );
    let token = r
        .body
        .split("<code id=\"cluster-token\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the token")
        .to_string();
    assert!(command.contains(&token));

    // Listed for members too, as the API reports it; the token never again.
    let _ = w.t.add_user("default", "bob", "member").await;
    let member = w.session("bob", "bob-password-1").await;
    let list = w.get("/orgs/default/clusters", Some(&member)).await;
    assert!(list.body.contains("data-cluster=\"prod\""), "{}", list.body);
    assert!(list.body.contains("badge-pending"));
    assert!(
        list.body.contains("no environments"),
        "source only, no permissions"
    );
    assert!(!list.body.contains(&token));
    assert!(
        !list.body.contains("id=\"connect-cluster\""),
        "no form for members"
    );

    // A clash is a readable 409, the form filled again.
    let r = w
        .post(
            "/orgs/default/clusters",
            Some(&admin),
            &[("name", "prod"), ("role_target", "on")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.body.contains("already has a cluster named prod"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"prod\""));

    // No role at all: 422 from the app layer.
    let r = w
        .post(
            "/orgs/default/clusters",
            Some(&admin),
            &[("name", "norole")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("Roles: a cluster needs at least one role"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn managing_a_cluster() {
    let w = Web::start().await;
    let admin = w.session("admin", ADMIN_PASSWORD).await;
    let (s, created) =
        w.t.post(
            "/api/v1/orgs/default/clusters",
            &w.t.admin_token,
            json!({"name": "dev"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let first_token = created["token"].as_str().unwrap().to_string();
    let page = w.get("/orgs/default/clusters/dev", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"cluster-settings\""));
    assert!(
        !page.body.contains(&first_token),
        "the token is never shown again"
    );

    // Make it a production-like cluster: source only, no environments.
    let r = w
        .post(
            "/orgs/default/clusters/dev",
            Some(&admin),
            &[("role_source", "on")],
        )
        .await;
    assert_eq!(r.summary(), "303 /orgs/default/clusters/dev");
    let (_, api) =
        w.t.get("/api/v1/orgs/default/clusters/dev", &w.t.admin_token)
            .await;
    assert_eq!(api["roles"], json!(["source"]));
    assert_eq!(api["permissions"], json!([]));

    // Rotating shows the new token once, with the grace of the old one.
    let r = w
        .post("/orgs/default/clusters/dev/rotate", Some(&admin), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("id=\"cluster-token\">lpc_"), "{}", r.body);
    assert!(r.body.contains("The previous token keeps working until"));

    // Revoking leaves no token.
    let r = w
        .post("/orgs/default/clusters/dev/revoke", Some(&admin), &[])
        .await;
    assert_eq!(r.summary(), "303 /orgs/default/clusters/dev");
    let page = w.get("/orgs/default/clusters/dev", Some(&admin)).await;
    assert!(page.body.contains("<code>Revoked</code>"), "{}", page.body);

    // Deleting returns to the list, which no longer has it.
    let r = w
        .post("/orgs/default/clusters/dev/delete", Some(&admin), &[])
        .await;
    assert_eq!(r.summary(), "303 /orgs/default/clusters");
    let missing = w.get("/orgs/default/clusters/dev", Some(&admin)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.body.contains("Cluster not found"),
        "{}",
        missing.body
    );

    let (_, audit) =
        w.t.get("/api/v1/orgs/default/audit", &w.t.admin_token)
            .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "cluster.update",
        "cluster.rotate_token",
        "cluster.revoke_token",
        "cluster.delete",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}
