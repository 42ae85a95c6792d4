//! The environment pages over real HTTP: the list (kind, catalog, cluster,
//! owner, status and why) and its empty state, the environment page
//! (workloads, warnings, events, the buttons each caller may use), Pause,
//! Resume and Delete, a member's Personal environment hidden from other
//! members (404), the "Create environment" form on a catalog page (its
//! refusals as readable messages, Secret values never echoed) and CSRF.
//!
//! Environments are written straight into the datastore with a stored
//! status report ([`insert_environment`], [`report`]), so no cluster has
//! to run them; creating one goes through a kube-manager stand-in on the
//! real tunnel (`crate::catalogs::serve`).

use std::sync::{Arc, Mutex};

use lapdev_db::{CatalogContent, EnvironmentReport, EventNote};
use lapdev_domain::{EnvironmentId, EnvironmentKind};
use lapdev_tunnel_proto::WorkloadStatus;
use lapdev_tunnel_proto::catalog::{CatalogSnapshot, SecretKey, WorkloadKind};
use reqwest::StatusCode;
use serde_json::json;

use super::{Resp, Session, Web};
use crate::catalogs::{Prod, cluster, insert_fixture_catalog, serve};
use crate::{ADMIN_PASSWORD, TestServer};

/// An environment to write into the datastore, as if its owner had
/// created it on `cluster` from `catalog`.
pub(crate) struct Fixture {
    name: &'static str,
    catalog: &'static str,
    cluster: &'static str,
    kind: EnvironmentKind,
    owner: &'static str,
}

impl Fixture {
    /// A Shared environment created by `admin`.
    pub(crate) fn shared(
        name: &'static str,
        catalog: &'static str,
        cluster: &'static str,
    ) -> Fixture {
        Fixture {
            name,
            catalog,
            cluster,
            kind: EnvironmentKind::Shared,
            owner: "admin",
        }
    }

    /// `owner`'s Personal environment.
    pub(crate) fn personal(self, owner: &'static str) -> Fixture {
        Fixture {
            kind: EnvironmentKind::Personal,
            owner,
            ..self
        }
    }
}

/// Inserts the environment (generation 1, nothing reported yet) with one
/// event, the way `app::environments::create` records it.
pub(crate) async fn insert_environment(t: &TestServer, f: Fixture) -> EnvironmentId {
    let db = t.server.state().db();
    let org = db.organization_by_name("default").await.unwrap().unwrap();
    let cluster = db
        .cluster_by_name(org.id, f.cluster)
        .await
        .unwrap()
        .unwrap();
    let catalog = db
        .catalog_by_name(org.id, f.catalog)
        .await
        .unwrap()
        .unwrap();
    let owner = db.user_by_username(f.owner).await.unwrap().unwrap();
    let id = EnvironmentId::new();
    let new = lapdev_db::NewEnvironment {
        id,
        organization_id: org.id,
        name: lapdev_domain::EnvironmentName::parse(f.name).unwrap(),
        kind: f.kind,
        owner_id: owner.id,
        catalog_id: catalog.id,
        catalog_name: f.catalog.into(),
        cluster_id: cluster.id,
        namespace: format!("lapdev-{}-fixtr", f.name),
        replicas: "\"keep\"".into(),
        objects: "[]".into(),
    };
    let event = lapdev_db::NewAuditEvent::new(None, "environment.create", "environment");
    let note = EventNote {
        level: "info",
        message: "created from a test fixture",
    };
    db.environment_create(&new, &[], &event, note)
        .await
        .unwrap();
    id
}

/// A workload as kube-manager reports it; `why` is a reason and message.
pub(crate) fn workload(
    name: &str,
    desired: u32,
    available: u32,
    why: Option<(&str, &str)>,
) -> WorkloadStatus {
    WorkloadStatus {
        kind: WorkloadKind::Deployment,
        name: name.into(),
        desired,
        ready: available,
        available,
        reason: why.map(|(r, _)| r.to_string()),
        message: why.map(|(_, m)| m.to_string()),
    }
}

/// Records generation 1 as applied (with `warnings`) and a status report
/// of it: `phase` (`running`, `degraded`, `failed`, …) and `workloads`.
pub(crate) async fn report(
    t: &TestServer,
    id: EnvironmentId,
    phase: &str,
    workloads: &[WorkloadStatus],
    warnings: &[&str],
) {
    let db = t.server.state().db();
    let applied = EventNote {
        level: "info",
        message: "applied generation 1",
    };
    let warnings = serde_json::to_string(warnings).unwrap();
    assert!(
        db.environment_record_applied(id, 1, &warnings, Some(applied))
            .await
            .unwrap()
    );
    let report = EnvironmentReport {
        phase: phase.into(),
        observed_generation: Some(1),
        workloads: serde_json::to_string(workloads).unwrap(),
    };
    let level = if phase == "running" {
        "info"
    } else {
        "warning"
    };
    let message = format!("now {phase}");
    let note = EventNote {
        level,
        message: &message,
    };
    assert!(
        db.environment_record_report(id, &report, Some(note))
            .await
            .unwrap()
    );
}

/// A catalog `name` on `cluster` (workload `shop/Deployment/api`) whose
/// Secret policy redacted `required` (`(secret, key)`).
async fn insert_catalog_requiring(
    t: &TestServer,
    cluster: &str,
    name: &str,
    required: &[(&str, &str)],
) {
    let db = t.server.state().db();
    let org = db.organization_by_name("default").await.unwrap().unwrap();
    let cluster = db.cluster_by_name(org.id, cluster).await.unwrap().unwrap();
    let snapshot = CatalogSnapshot {
        required_values: required
            .iter()
            .map(|(secret, key)| SecretKey {
                secret: secret.to_string(),
                key: key.to_string(),
            })
            .collect(),
        ..CatalogSnapshot::default()
    };
    let workloads = json!([{"namespace": "shop", "kind": "Deployment", "name": "api"}]);
    let new = lapdev_db::NewCatalog {
        id: lapdev_domain::CatalogId::new(),
        organization_id: org.id,
        name: lapdev_domain::CatalogName::parse(name).unwrap(),
        description: String::new(),
        source_cluster_id: cluster.id,
        content: CatalogContent {
            workloads: workloads.to_string(),
            workload_count: 1,
            secret_policy: "{}".into(),
            snapshot: serde_json::to_string(&snapshot).unwrap(),
        },
    };
    let event = lapdev_db::NewAuditEvent::new(None, "catalog.create", "catalog");
    db.catalog_create(&new, &[], &event).await.unwrap();
}

/// A create form, the status it gets and a part of its message.
type Refusal<'a> = (&'a [(&'a str, &'a str)], StatusCode, &'a str);

/// Follows a redirect that set a flash message, the way a browser does.
async fn follow(w: &Web, r: &Resp, session: &Session) -> Resp {
    let to = r.headers.get("location").expect("a redirect");
    let flash = r.cookie("lapdev_flash").expect("a flash message");
    let flash = format!("lapdev_flash={flash}");
    w.send(
        "GET",
        to.to_str().unwrap(),
        &[session.cookie.as_str(), flash.as_str()],
        None,
        None,
    )
    .await
}

fn has(r: &Resp, needles: &[&str]) {
    for needle in needles {
        assert!(r.body.contains(needle), "{needle} in {}", r.body);
    }
}

fn lacks(r: &Resp, needles: &[&str]) {
    for needle in needles {
        assert!(!r.body.contains(needle), "no {needle} in {}", r.body);
    }
}

#[tokio::test]
async fn no_environments_says_how_to_create_one() {
    let w = Web::start().await;
    let admin = w.session("admin", ADMIN_PASSWORD).await;
    let list = w.get("/orgs/default/environments", Some(&admin)).await;
    assert_eq!(list.status, StatusCode::OK);
    has(
        &list,
        &[
            "id=\"environments-empty\"",
            "No environments yet",
            "lapdev env create NAME --catalog CATALOG --cluster CLUSTER",
            "href=\"/orgs/default/catalogs\"",
            "aria-current=\"page\"",
        ],
    );
    lacks(&list, &["http-equiv=\"refresh\""]);
}

#[tokio::test]
async fn the_list_and_the_page_show_status_workloads_and_events() {
    let w = Web::start().await;
    let t = &w.t;
    let admin = w.session("admin", ADMIN_PASSWORD).await;
    let _ = t.add_user("default", "bob", "member").await;
    let bob = w.session("bob", "bob-password-1").await;
    let _ = cluster(t, "dev", json!(["source", "target"])).await;
    insert_fixture_catalog(t, "default", "dev", "shop").await;
    let id = insert_environment(t, Fixture::shared("team", "shop", "dev")).await;
    let failing = (
        "CrashLoopBackOff",
        "back-off 5m0s restarting failed container=web",
    );
    report(
        t,
        id,
        "degraded",
        &[
            workload("api", 2, 2, None),
            workload("web", 2, 1, Some(failing)),
        ],
        &["Service shop/legacy selects no workload of the catalog"],
    )
    .await;

    let list = w.get("/orgs/default/environments", Some(&bob)).await;
    assert_eq!(list.status, StatusCode::OK);
    has(
        &list,
        &[
            "data-environment=\"team\"",
            "href=\"/orgs/default/environments/team\"",
            "badge-kind-shared\">Shared<",
            "href=\"/orgs/default/catalogs/shop\">shop<",
            "href=\"/orgs/default/clusters/dev\">dev<",
            "<td>admin</td>",
            "badge-env-degraded\">degraded<",
            "status-problem\">Deployment/web: CrashLoopBackOff: back-off 5m0s",
            "You see the Shared environments and your own Personal ones.",
        ],
    );
    lacks(&list, &["http-equiv=\"refresh\""]);

    // A member reads a Shared environment; its buttons are the admins'.
    let page = w.get("/orgs/default/environments/team", Some(&bob)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    has(
        &page,
        &[
            "id=\"environment-status\">degraded<",
            "<code>lapdev-team-fixtr</code>",
            "badge-offline\">not connected<",
            "As in the catalog",
            "data-workload=\"Deployment/api\"",
            "data-workload=\"Deployment/web\" class=\"row-warning\"",
            "<td class=\"nowrap\">1/2</td>",
            "badge-warning\">CrashLoopBackOff<",
            "restarting failed container=web",
            "id=\"environment-warnings\"",
            "Service shop/legacy selects no workload of the catalog",
            "id=\"environment-events\"",
            "now degraded",
            "applied generation 1",
            "created from a test fixture",
            "1 <span class=\"muted\">· observed 1</span>",
        ],
    );
    lacks(
        &page,
        &[
            "id=\"pause-environment\"",
            "id=\"delete-environment\"",
            "http-equiv=\"refresh\"",
        ],
    );
    // The server refuses anyway, on the page, in words.
    let r = w
        .post("/orgs/default/environments/team/pause", Some(&bob), &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    has(
        &r,
        &[
            "Only admins of the organization may change a shared environment",
            "id=\"environment-details\"",
        ],
    );

    let page = w.get("/orgs/default/environments/team", Some(&admin)).await;
    has(
        &page,
        &["id=\"pause-environment\"", "id=\"delete-environment\""],
    );
    lacks(&page, &["id=\"resume-environment\""]);
}

#[tokio::test]
async fn a_personal_environment_is_its_owners_and_the_admins() {
    let w = Web::start().await;
    let t = &w.t;
    let admin = w.session("admin", ADMIN_PASSWORD).await;
    let _ = t.add_user("default", "bob", "member").await;
    let _ = t.add_user("default", "carol", "member").await;
    let bob = w.session("bob", "bob-password-1").await;
    let carol = w.session("carol", "carol-password-1").await;
    let _ = cluster(t, "dev", json!(["source", "target"])).await;
    insert_fixture_catalog(t, "default", "dev", "shop").await;
    let id = insert_environment(t, Fixture::shared("bobs", "shop", "dev").personal("bob")).await;
    report(t, id, "running", &[workload("api", 1, 1, None)], &[]).await;

    // Another member learns nothing about it.
    let list = w.get("/orgs/default/environments", Some(&carol)).await;
    has(&list, &["No environments yet"]);
    let page = w.get("/orgs/default/environments/bobs", Some(&carol)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    has(&page, &["Environment not found"]);
    for action in ["pause", "resume", "delete"] {
        let r = w
            .post(
                &format!("/orgs/default/environments/bobs/{action}"),
                Some(&carol),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action}");
    }

    // Its owner sees it and may pause, resume and delete it.
    let list = w.get("/orgs/default/environments", Some(&bob)).await;
    has(
        &list,
        &[
            "data-environment=\"bobs\"",
            "badge-kind-personal\">Personal<",
            "badge-env-running\">running<",
        ],
    );
    let page = w.get("/orgs/default/environments/bobs", Some(&bob)).await;
    has(
        &page,
        &["id=\"pause-environment\"", "id=\"delete-environment\""],
    );
    // An admin may delete it, not pause it (only its owner does).
    let page = w.get("/orgs/default/environments/bobs", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    has(&page, &["id=\"delete-environment\""]);
    lacks(&page, &["id=\"pause-environment\""]);

    let r = w
        .post("/orgs/default/environments/bobs/pause", Some(&bob), &[])
        .await;
    assert_eq!(r.summary(), "303 /orgs/default/environments/bobs");
    let page = follow(&w, &r, &bob).await;
    has(
        &page,
        &[
            "Pausing bobs: its workloads scale to zero.",
            "id=\"environment-status\">pausing<",
            // Changing: the page reloads itself, no JavaScript needed.
            "<meta http-equiv=\"refresh\" content=\"3; url=/orgs/default/environments/bobs\">",
            "waiting for cluster dev to come back online",
            "id=\"resume-environment\"",
        ],
    );
    lacks(&page, &["id=\"pause-environment\""]);

    let r = w
        .post("/orgs/default/environments/bobs/resume", Some(&bob), &[])
        .await;
    assert_eq!(r.summary(), "303 /orgs/default/environments/bobs");
    let page = follow(&w, &r, &bob).await;
    has(
        &page,
        &["Resuming bobs", "id=\"environment-status\">resuming<"],
    );

    let r = w
        .post("/orgs/default/environments/bobs/delete", Some(&admin), &[])
        .await;
    assert_eq!(r.summary(), "303 /orgs/default/environments");
    let list = follow(&w, &r, &admin).await;
    has(
        &list,
        &[
            "Deleting bobs: its namespace lapdev-bobs-fixtr is being removed.",
            "badge-env-deleting\">deleting<",
            "http-equiv=\"refresh\"",
        ],
    );
    let page = w.get("/orgs/default/environments/bobs", Some(&bob)).await;
    lacks(
        &page,
        &["id=\"delete-environment\"", "id=\"resume-environment\""],
    );
    // Nothing else may be asked of it now: a readable 409.
    let r = w
        .post("/orgs/default/environments/bobs/pause", Some(&bob), &[])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    has(&r, &["Environment bobs is being deleted; it cannot pause"]);
}

#[tokio::test]
async fn create_an_environment_from_a_catalog_page() {
    let w = Web::start().await;
    let t = &w.t;
    let admin = w.session("admin", ADMIN_PASSWORD).await;
    let _ = t.add_user("default", "bob", "member").await;
    let bob = w.session("bob", "bob-password-1").await;
    let token = cluster(t, "dev", json!(["source", "target"])).await;
    serve(t, &token, Arc::new(Mutex::new(Prod::default()))).await;
    let (s, b) = t
        .post(
            "/api/v1/orgs/default/clusters",
            &t.admin_token,
            json!({"name": "prod", "roles": ["target"], "permissions": ["shared"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let _ = cluster(t, "source-only", json!(["source"])).await;
    insert_catalog_requiring(t, "dev", "shop", &[("db", "password")]).await;
    let catalog = "/orgs/default/catalogs/shop";
    let create = "/orgs/default/catalogs/shop/environments";

    // Members get the form: Personal only, target clusters with what they allow.
    let page = w.get(catalog, Some(&bob)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    has(
        &page,
        &[
            "id=\"create-environment-form\"",
            &format!("action=\"{create}\""),
            "<option value=\"dev\" selected>dev — allows personal, shared · connected</option>",
            "<option value=\"prod\">prod — allows shared · never connected</option>",
            "name=\"kind\" value=\"personal\" checked",
            "name=\"secret:db/password\" type=\"password\" required",
            "<code>db</code> / <code>password</code>",
        ],
    );
    lacks(&page, &["value=\"source-only\"", "value=\"shared\""]);
    let page = w.get(catalog, Some(&admin)).await;
    has(&page, &["name=\"kind\" value=\"shared\""]);

    let secret = "hunter2-not-echoed";
    // Each refusal: the catalog page again, the message, the form kept,
    // never the Secret value.
    let cases: [Refusal; 5] = [
        (
            &[("name", "Not A Name"), ("cluster", "dev")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "Name: ",
        ),
        (
            &[("name", "mine"), ("cluster", "dev"), ("replicas", "lots")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "Replicas: &#34;lots&#34; is not a number of pods",
        ),
        (
            &[("name", "mine"), ("cluster", "dev")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "Secret values: catalog shop redacts Secret values that every environment must supply; missing: db/password",
        ),
        (
            &[
                ("name", "mine"),
                ("cluster", "dev"),
                ("kind", "shared"),
                ("secret:db/password", secret),
            ],
            StatusCode::FORBIDDEN,
            "Only admins",
        ),
        (
            &[
                ("name", "mine"),
                ("cluster", "prod"),
                ("kind", "personal"),
                ("secret:db/password", secret),
            ],
            StatusCode::CONFLICT,
            "Cluster prod does not allow personal environments",
        ),
    ];
    for (form, status, message) in cases {
        let r = w.post(create, Some(&bob), form).await;
        assert_eq!(r.status, status, "{form:?}: {}", r.body);
        has(&r, &[message, "id=\"create-environment-form\""]);
        lacks(&r, &[secret]);
        let name = form[0].1;
        assert!(
            r.body.contains(&format!("value=\"{name}\"")),
            "{name} kept in {}",
            r.body
        );
    }
    // The cluster kept: `prod` selected after the 409.
    let r = w
        .post(
            create,
            Some(&bob),
            &[("name", "mine"), ("cluster", "prod"), ("kind", "personal")],
        )
        .await;
    has(&r, &["<option value=\"prod\" selected>"]);

    let r = w
        .post(
            create,
            Some(&bob),
            &[
                ("name", "mine"),
                ("cluster", "dev"),
                ("kind", "personal"),
                ("secret:db/password", secret),
            ],
        )
        .await;
    assert_eq!(
        r.summary(),
        "303 /orgs/default/environments/mine",
        "{}",
        r.body
    );
    let page = follow(&w, &r, &bob).await;
    assert_eq!(page.status, StatusCode::OK);
    has(
        &page,
        &[
            "Created the environment mine: it is starting on cluster dev in namespace lapdev-mine-",
            "badge-kind-personal\">Personal<",
            "At most 1 pod per workload",
        ],
    );
    lacks(&page, &[secret]);
    let list = w.get("/orgs/default/environments", Some(&bob)).await;
    has(&list, &["data-environment=\"mine\""]);

    // The name is taken now: a readable 409.
    let r = w
        .post(
            create,
            Some(&admin),
            &[
                ("name", "mine"),
                ("cluster", "dev"),
                ("kind", "shared"),
                ("secret:db/password", secret),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    has(&r, &["already has an environment named mine"]);
}

#[tokio::test]
async fn environment_forms_need_the_csrf_token_and_the_origin() {
    let w = Web::start().await;
    let t = &w.t;
    let admin = w.session("admin", ADMIN_PASSWORD).await;
    let _ = cluster(t, "dev", json!(["source", "target"])).await;
    insert_fixture_catalog(t, "default", "dev", "shop").await;
    let _ = insert_environment(t, Fixture::shared("team", "shop", "dev")).await;
    let origin = t.server.url();
    let forged = [("csrf_token", "forged".to_string())];
    let genuine = [("csrf_token", admin.csrf.clone())];
    for path in [
        "/orgs/default/environments/team/pause",
        "/orgs/default/environments/team/delete",
        "/orgs/default/catalogs/shop/environments",
    ] {
        let r = w
            .send(
                "POST",
                path,
                &[admin.cookie.as_str()],
                Some(&forged),
                Some(&origin),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        has(&r, &["This form has expired"]);
        let r = w
            .send(
                "POST",
                path,
                &[admin.cookie.as_str()],
                Some(&genuine),
                Some("https://evil.example"),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        has(&r, &["sent from another site"]);
    }
    let (s, env) = t
        .get("/api/v1/orgs/default/environments/team", &t.admin_token)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(env["desired"], "running", "nothing changed: {env}");
    assert_eq!(env["generation"], 1);
}
