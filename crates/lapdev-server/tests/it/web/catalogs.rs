//! The workloads table and the App Catalog pages against a kube-manager
//! stand-in on the real tunnel (`crate::catalogs`' fake production):
//! honest messages for a cluster that is not a source or not connected,
//! filters, creating a catalog from checked rows, the catalog page (keys,
//! never values), members read-only, edit, refresh preview and apply,
//! remove a workload, delete.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::json;

use super::Web;
use crate::ADMIN_PASSWORD;
use crate::catalogs::{Prod, cluster, serve};

#[tokio::test]
async fn cluster_pages_say_why_there_is_no_table() {
    let w = Web::start().await;
    let admin = w.session("admin", ADMIN_PASSWORD).await;
    let _ = cluster(&w.t, "prod", json!(["source"])).await;
    let _ = cluster(&w.t, "dev", json!(["target"])).await;

    let prod = w.get("/orgs/default/clusters/prod", Some(&admin)).await;
    assert_eq!(prod.status, StatusCode::OK);
    assert!(prod.body.contains("id=\"workloads-not-connected\""));
    assert!(
        prod.body
            .contains("kube-manager is not connected; workloads are read live from the cluster"),
        "{}",
        prod.body
    );
    assert!(!prod.body.contains("id=\"workloads-table\""));

    let dev = w.get("/orgs/default/clusters/dev", Some(&admin)).await;
    assert!(dev.body.contains("id=\"workloads-not-source\""));
    assert!(
        dev.body
            .contains("does not have the <strong>source</strong> role")
    );

    // No catalogs: the empty state points at the source cluster.
    let list = w.get("/orgs/default/catalogs", Some(&admin)).await;
    assert!(list.body.contains("No app catalogs yet"));
    assert!(
        list.body
            .contains("href=\"/orgs/default/clusters/prod#workloads\""),
        "{}",
        list.body
    );
    assert!(!list.body.contains("clusters/dev#workloads"));
}

#[tokio::test]
async fn create_view_refresh_and_delete_a_catalog() {
    let w = Web::start().await;
    let admin = w.session("admin", ADMIN_PASSWORD).await;
    let _ = w.t.add_user("default", "bob", "member").await;
    let member = w.session("bob", "bob-password-1").await;
    let token = cluster(&w.t, "prod", json!(["source"])).await;
    let prod = Arc::new(Mutex::new(Prod::default()));
    serve(&w.t, &token, prod.clone()).await;

    // The table, read through the tunnel, with the filters passed on.
    let page = w
        .get(
            "/orgs/default/clusters/prod?namespace=shop&kind=Deployment&name=&system=on",
            Some(&admin),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("data-workload=\"shop/Deployment/api\""));
    assert!(page.body.contains("data-workload=\"shop/Deployment/web\""));
    assert!(page.body.contains("<code>shop/api:1</code>"));
    assert!(page.body.contains("name=\"w:shop/Deployment/api\""));
    assert!(page.body.contains("id=\"create-catalog\""));
    let asked = prod.lock().unwrap().listed.last().cloned().unwrap();
    assert_eq!(asked.namespace.as_deref(), Some("shop"));
    assert!(asked.include_system);

    // Members see the table, without checkboxes or the form.
    let seen = w.get("/orgs/default/clusters/prod", Some(&member)).await;
    assert!(seen.body.contains("data-workload=\"shop/Deployment/api\""));
    assert!(!seen.body.contains("name=\"w:"));
    assert!(!seen.body.contains("Create App Catalog"));

    // Nothing selected: 422, the form kept.
    let r = w
        .post(
            "/orgs/default/clusters/prod/catalogs",
            Some(&admin),
            &[("catalog_name", "shop"), ("description", "The shop")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("select at least one workload"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"The shop\""));

    // A member may not create one.
    let r = w
        .post(
            "/orgs/default/clusters/prod/catalogs",
            Some(&member),
            &[("catalog_name", "shop"), ("w:shop/Deployment/api", "on")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = w
        .post(
            "/orgs/default/clusters/prod/catalogs",
            Some(&admin),
            &[
                ("catalog_name", "shop"),
                ("description", "The shop"),
                ("secret_default", "copy"),
                ("secret_rules", "db/api-key redact"),
                ("w:shop/Deployment/api", "on"),
                ("w:shop/Deployment/web", "on"),
            ],
        )
        .await;
    assert_eq!(r.summary(), "303 /orgs/default/catalogs/shop", "{}", r.body);

    let list = w.get("/orgs/default/catalogs", Some(&member)).await;
    assert!(list.body.contains("data-catalog=\"shop\""), "{}", list.body);
    assert!(list.body.contains("The shop"));
    assert!(list.body.contains("badge-warning\">1<"), "{}", list.body);

    // The catalog page: dependencies, Secret keys, never the value.
    let page = w.get("/orgs/default/catalogs/shop", Some(&member)).await;
    assert_eq!(page.status, StatusCode::OK);
    for needle in [
        "data-workload=\"shop/Deployment/api\"",
        "api-config",
        "<code class=\"key\">password</code>",
        "feature-flags",
        "row-warning",
        "<code>db key api-key</code>",
    ] {
        assert!(page.body.contains(needle), "{needle} in {}", page.body);
    }
    assert!(!page.body.contains("s3cr3t"));
    assert!(!page.body.contains("id=\"delete-catalog\""), "read-only");
    assert!(!page.body.contains("id=\"refresh-catalog\""));
    let r = w
        .post("/orgs/default/catalogs/shop/delete", Some(&member), &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Edit the description.
    let r = w
        .post(
            "/orgs/default/catalogs/shop",
            Some(&admin),
            &[("name", "shop"), ("description", "Shop, edited")],
        )
        .await;
    assert_eq!(r.summary(), "303 /orgs/default/catalogs/shop");

    // Production changes: the preview shows field paths, hides the secret.
    {
        let mut p = prod.lock().unwrap();
        p.replicas = 5;
        p.secret = "n3w-s3cr3t".into();
    }
    let preview = w
        .post("/orgs/default/catalogs/shop/refresh", Some(&admin), &[])
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("id=\"refresh-preview\""));
    assert!(preview.body.contains("<code>/spec/replicas</code>"));
    assert!(preview.body.contains("badge-change-changed"));
    assert!(!preview.body.contains("n3w-s3cr3t"));
    let digest = super::hidden_field(&preview.body, "digest").expect("the digest");
    let r = w
        .post(
            "/orgs/default/catalogs/shop/refresh/apply",
            Some(&admin),
            &[("digest", &digest)],
        )
        .await;
    assert_eq!(r.summary(), "303 /orgs/default/catalogs/shop", "{}", r.body);
    // The same preview again: the catalog changed since, so 409.
    let r = w
        .post(
            "/orgs/default/catalogs/shop/refresh/apply",
            Some(&admin),
            &[("digest", &digest)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

    let r = w
        .post(
            "/orgs/default/catalogs/shop/workloads/remove",
            Some(&admin),
            &[("workload", "shop/Deployment/web")],
        )
        .await;
    assert_eq!(r.summary(), "303 /orgs/default/catalogs/shop");
    let page = w.get("/orgs/default/catalogs/shop", Some(&admin)).await;
    assert!(!page.body.contains("data-workload=\"shop/Deployment/web\""));

    let r = w
        .post("/orgs/default/catalogs/shop/delete", Some(&admin), &[])
        .await;
    assert_eq!(r.summary(), "303 /orgs/default/catalogs");
    let gone = w.get("/orgs/default/catalogs/shop", Some(&admin)).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}
