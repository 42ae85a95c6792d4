//! The dashboard in a real headless Chromium, driven over WebDriver
//! (chromedriver + fantoccini, helpers in `webdriver`): sign in, add a
//! member, change its role, save a screenshot as a test artifact, sign out;
//! and the environment pages (list, one environment with its workloads,
//! the create form on a catalog page, pause, delete) over fixture
//! environments with a stored status report. The catalog pages against a
//! connected cluster are driven in lapdev-e2e (`tests/it/dashboard.rs`),
//! with kube-sim and the real kube-manager.

use fantoccini::Locator;
use serde_json::json;

use crate::catalogs::insert_fixture_catalog;
use crate::web::environments::{Fixture, insert_environment, report, workload};
use crate::webdriver::{ChromeDriver, browser, screenshot, text_of, wait_for};
use crate::{ADMIN_PASSWORD, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_add_a_member_change_its_role_sign_out() {
    let t = TestServer::start().await;
    let _ = t.add_user("default", "heidi", "member").await;
    // A second organization, so the sidebar offers the switcher.
    let (status, body) = t
        .post("/api/v1/orgs", &t.admin_token, json!({"name": "acme"}))
        .await;
    assert_eq!(status.as_u16(), 201, "{body}");
    let driver = ChromeDriver::start();
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, &profile).await;
    let base = t.server.url();

    // Sign in.
    c.goto(&format!("{base}/login")).await.unwrap();
    wait_for(&c, "#login-form").await;
    screenshot(&c, "dashboard-login.png").await;
    sign_in_as_admin(&c).await;
    assert_eq!(text_of(&c, ".topbar .user-name").await, "admin");
    assert_eq!(
        text_of(&c, ".empty-state h2").await,
        "No clusters connected yet"
    );
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/orgs/default/clusters"
    );
    screenshot(&c, "dashboard-clusters.png").await;

    // To the members page through the navigation.
    wait_for(&c, "nav a[href='/orgs/default/members']")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "#add-member").await;
    assert!(
        text_of(&c, "tr[data-username='admin'] .role")
            .await
            .eq_ignore_ascii_case("admin")
    );

    // Add a member; the generated password is shown once.
    wait_for(&c, "#new-username")
        .await
        .send_keys("grace")
        .await
        .unwrap();
    wait_for(&c, "#new-role")
        .await
        .select_by_value("member")
        .await
        .unwrap();
    wait_for(&c, "#add-member button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    let password = text_of(&c, "#initial-password").await;
    assert_eq!(password.len(), 24, "a generated password is shown");
    assert!(
        text_of(&c, "tr[data-username='grace'] .role")
            .await
            .eq_ignore_ascii_case("member")
    );

    // Make grace an admin.
    wait_for(&c, "tr[data-username='grace'] select[name=role]")
        .await
        .select_by_value("admin")
        .await
        .unwrap();
    wait_for(
        &c,
        "tr[data-username='grace'] .role-form button[type=submit]",
    )
    .await
    .click()
    .await
    .unwrap();
    wait_for(&c, "tr[data-username='grace'] .badge-admin").await;
    assert_eq!(text_of(&c, ".alert-success").await, "grace is now admin.");
    let shot = screenshot(&c, "dashboard-members.png").await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 1000, "{shot:?}");

    // The audit log shows what the dashboard just did.
    wait_for(&c, "nav a[href='/orgs/default/audit']")
        .await
        .click()
        .await
        .unwrap();
    let log = text_of(&c, "#audit tbody").await;
    assert!(
        log.contains("member.set_role") && log.contains("member.add"),
        "{log}"
    );
    screenshot(&c, "dashboard-audit.png").await;
    wait_for(&c, "nav a[href='/orgs/default/members']")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "#add-member").await;

    // Switch organization: same section, other organization.
    wait_for(&c, ".org-menu summary")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, ".org-list a[href='/orgs/acme/members']").await;
    screenshot(&c, "dashboard-org-switcher.png").await;
    wait_for(&c, ".org-list a[href='/orgs/acme/members']")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "tr[data-username='admin']").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/orgs/acme/members");
    assert!(text_of(&c, ".org-menu .org-name").await.ends_with("acme"));
    wait_for(&c, ".org-menu summary")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, ".org-list a[href='/orgs/default/members']")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "tr[data-username='grace']").await;

    // Create an API token: its secret is shown once.
    wait_for(&c, "nav a[href='/settings/tokens']")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "#token-name")
        .await
        .send_keys("laptop CLI")
        .await
        .unwrap();
    wait_for(&c, "#create-token button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    let secret = text_of(&c, "#new-token").await;
    assert!(!secret.is_empty());
    let table = text_of(&c, "#tokens tbody").await;
    assert!(table.contains("laptop CLI"), "{table}");
    screenshot(&c, "dashboard-tokens.png").await;

    // Connect a cluster: the install command is shown once.
    wait_for(&c, "nav a[href='/orgs/default/clusters']")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "#cluster-name")
        .await
        .send_keys("dev-eu")
        .await
        .unwrap();
    wait_for(&c, "#connect-cluster button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    let command = text_of(&c, "#install-command").await;
    assert!(command.starts_with("kubectl apply -f"), "{command}");
    assert_eq!(
        text_of(&c, "tr[data-cluster='dev-eu'] .badge-status")
            .await
            .to_lowercase(),
        "pending"
    );
    screenshot(&c, "dashboard-clusters-connect.png").await;
    wait_for(&c, "tr[data-cluster='dev-eu'] a")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "#cluster-details").await;
    wait_for(&c, "#rotate-token button")
        .await
        .click()
        .await
        .unwrap();
    assert!(text_of(&c, "#cluster-token").await.starts_with("lpc_"));
    screenshot(&c, "dashboard-cluster.png").await;

    wait_for(&c, "nav a[href='/settings']")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "#change-password").await;

    // Sign out: back on the sign-in page, and the pages are closed.
    wait_for(&c, ".topbar form[action='/logout'] button")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "#login-form").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/login");
    assert_eq!(text_of(&c, ".alert-success").await, "You have signed out.");
    c.goto(&format!("{base}/orgs/default/members"))
        .await
        .unwrap();
    wait_for(&c, "#login-form").await;

    // A member sees the list read-only.
    wait_for(&c, "#username")
        .await
        .send_keys("heidi")
        .await
        .unwrap();
    wait_for(&c, "#password")
        .await
        .send_keys("heidi-password-1")
        .await
        .unwrap();
    wait_for(&c, "#login-form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    assert_eq!(text_of(&c, ".topbar .user-name").await, "heidi");
    wait_for(&c, "nav a[href='/orgs/default/members']")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "tr[data-username='grace'] .badge-admin").await;
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/orgs/default/members"
    );
    assert!(
        c.find_all(Locator::Css("#add-member, .role-form"))
            .await
            .unwrap()
            .is_empty(),
        "no admin forms for a member"
    );
    screenshot(&c, "dashboard-members-readonly.png").await;

    c.close().await.unwrap();
    drop(driver);
    t.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environments_list_page_create_form_pause_and_delete() {
    let t = TestServer::start().await;
    // `dev` never connects: the environments are fixtures with a stored
    // status report, as if its kube-manager had sent it.
    let _ = crate::catalogs::cluster(&t, "dev", json!(["source", "target"])).await;
    insert_fixture_catalog(&t, "default", "dev", "shop").await;
    let team = insert_environment(&t, Fixture::shared("team", "shop", "dev")).await;
    let failing = (
        "CrashLoopBackOff",
        "back-off 5m0s restarting failed container=web pod=web-7d9c6b5f4-x2x9k",
    );
    report(
        &t,
        team,
        "degraded",
        &[
            workload("api", 2, 2, None),
            workload("web", 2, 1, Some(failing)),
        ],
        &["Service shop/legacy selects no workload of the catalog"],
    )
    .await;
    let mine = insert_environment(
        &t,
        Fixture::shared("admin-dev", "shop", "dev").personal("admin"),
    )
    .await;
    report(
        &t,
        mine,
        "running",
        &[workload("api", 1, 1, None), workload("web", 1, 1, None)],
        &[],
    )
    .await;
    let driver = ChromeDriver::start();
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, &profile).await;
    let base = t.server.url();

    c.goto(&format!("{base}/login")).await.unwrap();
    sign_in_as_admin(&c).await;
    wait_for(&c, ".topbar .user-name").await;

    // The list, through the navigation.
    wait_for(&c, "nav a[href='/orgs/default/environments']")
        .await
        .click()
        .await
        .unwrap();
    let status = text_of(&c, "tr[data-environment='team'] .badge-env").await;
    assert_eq!(status.to_lowercase(), "degraded");
    let why = text_of(&c, "tr[data-environment='team'] .status-message").await;
    assert!(why.contains("CrashLoopBackOff"), "{why}");
    assert_eq!(
        text_of(&c, "tr[data-environment='admin-dev'] .badge-env")
            .await
            .to_lowercase(),
        "running"
    );
    screenshot(&c, "dashboard-environments.png").await;

    // One environment: its workloads as reported, warnings, events.
    wait_for(
        &c,
        "tr[data-environment='team'] a[href='/orgs/default/environments/team']",
    )
    .await
    .click()
    .await
    .unwrap();
    let web = text_of(
        &c,
        "#environment-workloads tr[data-workload='Deployment/web']",
    )
    .await;
    assert!(
        web.contains("1/2") && web.contains("CrashLoopBackOff"),
        "{web}"
    );
    let warnings = text_of(&c, "#environment-warnings").await;
    assert!(warnings.contains("Service shop/legacy"), "{warnings}");
    let events = text_of(&c, "#environment-events").await;
    assert!(events.contains("now degraded"), "{events}");
    let shot = screenshot(&c, "dashboard-environment.png").await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 1000, "{shot:?}");
    c.goto(&format!("{base}/orgs/default/environments/team#workloads"))
        .await
        .unwrap();
    wait_for(&c, "#environment-events").await;
    screenshot(&c, "dashboard-environment-workloads.png").await;

    // The create form on the catalog page: the cluster never connected,
    // so the refusal is shown in words, the form kept.
    wait_for(&c, ".lead a[href='/orgs/default/catalogs/shop']")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "#environment-name")
        .await
        .send_keys("preview")
        .await
        .unwrap();
    wait_for(&c, "#environment-replicas")
        .await
        .send_keys("keep")
        .await
        .unwrap();
    wait_for(&c, "#create-environment-submit")
        .await
        .click()
        .await
        .unwrap();
    let error = text_of(&c, ".alert-error").await;
    assert!(error.contains("has never connected"), "{error}");
    assert_eq!(
        wait_for(&c, "#environment-name")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("preview")
    );
    c.goto(&format!(
        "{base}/orgs/default/catalogs/shop#create-environment"
    ))
    .await
    .unwrap();
    wait_for(&c, "#create-environment-form").await;
    screenshot(&c, "dashboard-catalog-create-environment.png").await;

    // Pause: accepted at once; the page shows it and follows the change.
    c.goto(&format!("{base}/orgs/default/environments/admin-dev"))
        .await
        .unwrap();
    wait_for(&c, "#pause-environment button")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "#resume-environment").await;
    let flash = text_of(&c, ".alert-success").await;
    assert_eq!(flash, "Pausing admin-dev: its workloads scale to zero.");
    screenshot(&c, "dashboard-environment-pausing.png").await;

    // Delete, confirmed in a disclosure (no JavaScript needed).
    wait_for(&c, "#delete-environment summary")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "#delete-environment-form button")
        .await
        .click()
        .await
        .unwrap();
    // The list, where it shows as deleting until its namespace is gone.
    wait_for(&c, "tr[data-environment='admin-dev'] .badge-env-deleting").await;
    let flash = text_of(&c, ".alert-success").await;
    assert!(flash.starts_with("Deleting admin-dev"), "{flash}");
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/orgs/default/environments"
    );

    c.close().await.unwrap();
    drop(driver);
    t.server.shutdown().await;
}

/// Fills the sign-in form (the page is open) as the admin and submits it.
async fn sign_in_as_admin(c: &fantoccini::Client) {
    wait_for(c, "#username")
        .await
        .send_keys("admin")
        .await
        .unwrap();
    wait_for(c, "#password")
        .await
        .send_keys(ADMIN_PASSWORD)
        .await
        .unwrap();
    wait_for(c, "#login-form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
}
