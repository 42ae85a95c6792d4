//! The App Catalog pages of the dashboard in a headless Chromium (helpers
//! shared with lapdev-server's browser test, `webdriver`), against the real
//! server with a connected cluster: kube-sim's sample shop read by the real
//! kube-manager through the tunnel. Lists workloads, filters them, selects
//! two, creates a catalog and views it; then production changes (kubectl),
//! and the refresh preview shows the field paths (a Secret value hidden)
//! and applies; the Secrets policy shows a redacted key; screenshots
//! `dashboard-workloads.png`, `dashboard-catalog.png`, `dashboard-catalogs.png`,
//! `dashboard-catalog-refresh.png` and `dashboard-catalog-secrets.png` go to
//! `target/test-artifacts/`.

use fantoccini::{Client, Locator};
use lapdev_e2e::ADMIN_PASSWORD;

use crate::webdriver::{ChromeDriver, browser, screenshot, text_of, wait_for};
use crate::{World, kubectl};

/// Clicks the element `css` once it is on the page.
async fn click(b: &Client, css: &str) {
    wait_for(b, css).await.click().await.unwrap();
}

/// Types `text` into the element `css` once it is on the page.
async fn type_into(b: &Client, css: &str, text: &str) {
    wait_for(b, css).await.send_keys(text).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workloads_table_to_a_catalog_in_the_browser() {
    let w = World::start().await;
    let c = w.connect_active("prod").await;

    let driver = ChromeDriver::start();
    let profile = tempfile::tempdir().unwrap();
    let b = browser(&driver, &profile).await;
    let base = w.server.url();

    b.goto(&format!("{base}/login")).await.unwrap();
    type_into(&b, "#username", "admin").await;
    type_into(&b, "#password", ADMIN_PASSWORD).await;
    click(&b, "#login-form button[type=submit]").await;
    click(&b, "tr[data-cluster='prod'] a").await;

    // The table, live from kube-sim: system namespaces hidden by default.
    wait_for(&b, "#workloads-table").await;
    let rows = text_of(&b, "#workloads-table tbody").await;
    assert!(
        rows.contains("postgres") && rows.contains("invoicer"),
        "{rows}"
    );
    assert!(!rows.contains("coredns"), "system workloads hidden: {rows}");

    // Filter to the shop namespace.
    type_into(&b, "#filter-namespace", "shop").await;
    click(&b, "#workload-filters button[type=submit]").await;
    wait_for(&b, "#workload-filters a.btn-ghost").await;
    let rows = text_of(&b, "#workloads-table tbody").await;
    assert!(rows.contains("api") && !rows.contains("invoicer"), "{rows}");

    // Select api and web, name the catalog.
    for id in ["shop/Deployment/api", "shop/Deployment/web"] {
        click(
            &b,
            &format!("tr[data-workload='{id}'] input[type=checkbox]"),
        )
        .await;
    }
    type_into(&b, "#catalog-name", "shop").await;
    type_into(&b, "#catalog-description", "The storefront and its API").await;
    // One Secret key redacted: kept without its value.
    click(&b, "#create-catalog details summary").await;
    type_into(&b, "#secret-rules", "api-keys/STRIPE_KEY redact").await;
    wait_for(&b, "#workloads").await;
    screenshot(&b, "dashboard-workloads.png").await;
    click(&b, "#create-catalog-submit").await;

    // The catalog page.
    assert_eq!(text_of(&b, "#catalog-name").await, "shop");
    assert!(
        text_of(&b, ".alert-success")
            .await
            .starts_with("Created the catalog shop with 2 workloads"),
    );
    assert_eq!(
        b.current_url().await.unwrap().path(),
        "/orgs/default/catalogs/shop"
    );
    let workloads = text_of(&b, "#catalog-workloads tbody").await;
    assert!(
        workloads.contains("api") && workloads.contains("web"),
        "{workloads}"
    );
    assert!(!workloads.contains("worker"), "{workloads}");
    let secrets = b
        .find_all(Locator::Css("#secrets-table tr[data-secret]"))
        .await
        .unwrap();
    assert!(!secrets.is_empty(), "the shop's Secrets are listed by key");
    let shot = screenshot(&b, "dashboard-catalog.png").await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 1000, "{shot:?}");

    // Production changes: web scaled, a Secret value rotated.
    let kubeconfig = c.sim.kubeconfig();
    kubectl(
        kubeconfig,
        &["-n", "shop", "scale", "deployment", "web", "--replicas=4"],
        None,
    );
    // base64 of "rotated-db-pa55"
    let patch = r#"{"data":{"password":"cm90YXRlZC1kYi1wYTU1"}}"#;
    kubectl(
        kubeconfig,
        &[
            "-n",
            "shop",
            "patch",
            "secret",
            "db-credentials",
            "--type=merge",
            "-p",
            patch,
        ],
        None,
    );

    // From the list to the catalog, then the refresh preview.
    click(&b, "nav a[href='/orgs/default/catalogs']").await;
    let row = text_of(&b, "tr[data-catalog='shop']").await;
    assert!(
        row.contains("The storefront and its API") && row.contains("prod"),
        "{row}"
    );
    screenshot(&b, "dashboard-catalogs.png").await;
    click(&b, "tr[data-catalog='shop'] a").await;
    click(&b, "#refresh-catalog button").await;
    let preview = text_of(&b, "#refresh-preview").await;
    assert!(preview.contains("/spec/replicas"), "{preview}");
    assert!(preview.contains("(secret value, hidden)"), "{preview}");
    assert!(!preview.contains("rotated-db-pa55") && !preview.contains("cm90YXRlZC1kYi1wYTU1"));
    screenshot(&b, "dashboard-catalog-refresh.png").await;
    click(&b, "#apply-refresh button").await;
    assert_eq!(
        text_of(&b, ".alert-success").await,
        "Refreshed the catalog shop from its source."
    );
    click(&b, "#refresh-catalog button").await;
    let preview = text_of(&b, "#refresh-preview").await;
    assert!(preview.contains("up to date"), "{preview}");

    // The Secrets policy: the redacted key, values never shown.
    b.goto(&format!("{base}/orgs/default/catalogs/shop#secrets"))
        .await
        .unwrap();
    wait_for(
        &b,
        "tr[data-secret='api-keys'] [data-key='STRIPE_KEY'][data-action='redact']",
    )
    .await;
    wait_for(
        &b,
        "tr[data-secret='api-keys'] [data-key='SENDGRID_KEY'][data-action='copy']",
    )
    .await;
    assert!(!text_of(&b, "main").await.contains("rotated-db-pa55"));
    screenshot(&b, "dashboard-catalog-secrets.png").await;

    // The only writes are kubectl's two: kube-manager only read.
    let writes: Vec<String> = c
        .sim
        .requests()
        .await
        .into_iter()
        .filter(|r| r.is_write())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        writes,
        [
            "PATCH /apis/apps/v1/namespaces/shop/deployments/web/scale",
            "PATCH /api/v1/namespaces/shop/secrets/db-credentials",
        ]
    );

    b.close().await.unwrap();
    drop(driver);
}
