//! Environments: create (row, sealed values, audit event and first event in
//! one transaction; taken names and namespaces create nothing), lookups, the
//! list's visibility rule, kind filter and pagination, desired-state changes
//! (generation, revision, failure, audit, events; deletion is final), what
//! the cluster applied, refused and reports, events, final removal, the
//! per-cluster queries and the key-rotation helpers.

use lapdev_db::{
    CatalogContent, CatalogRecord, Db, DbError, EnvironmentRecord, EnvironmentReport,
    EnvironmentVisibility, EventNote, NewCatalog, NewEnvironment, OrganizationRecord, SealedValue,
    UserRecord,
};
use lapdev_domain::{
    CatalogId, CatalogName, ClusterId, DesiredState, EnvironmentId, EnvironmentKind,
    EnvironmentName, OrganizationId, Role,
};

use crate::{admin_of, cluster, event, sealed};

mod cluster_side;

crate::backend_tests!(
    create_returns_the_record_with_audit_event_and_values,
    taken_name_or_namespace_creates_nothing,
    list_follows_visibility_kind_and_pages,
    lookups_by_name_id_and_namespace,
    set_desired_bumps_generation_and_clears_failure,
    set_desired_same_is_a_no_op_and_deletion_is_final,
    needs_reconcile_truth_table,
);

const CREATED: EventNote<'static> = EventNote {
    level: "info",
    message: "created",
};

/// An organization with its admin, a cluster and a catalog.
struct Setup {
    alice: UserRecord,
    org: OrganizationRecord,
    prod: ClusterId,
    shop: CatalogRecord,
}

async fn catalog(
    db: &Db,
    by: &UserRecord,
    org: OrganizationId,
    source: ClusterId,
) -> CatalogRecord {
    let new = NewCatalog {
        id: CatalogId::new(),
        organization_id: org,
        name: CatalogName::parse("shop").unwrap(),
        description: "the shop".into(),
        source_cluster_id: source,
        content: CatalogContent {
            workloads: "[]".into(),
            workload_count: 1,
            secret_policy: "{}".into(),
            snapshot: "{}".into(),
        },
    };
    db.catalog_create(&new, &[], &event(by, "catalog.create"))
        .await
        .unwrap()
}

async fn setup(db: &Db) -> Setup {
    let (alice, org) = admin_of(db, "alice", "acme").await;
    let prod = cluster(db, &alice, org.id, "prod").await;
    let shop = catalog(db, &alice, org.id, prod).await;
    Setup {
        alice,
        org,
        prod,
        shop,
    }
}

fn new_env(s: &Setup, name: &str, kind: EnvironmentKind, owner: &UserRecord) -> NewEnvironment {
    NewEnvironment {
        id: EnvironmentId::new(),
        organization_id: s.org.id,
        name: EnvironmentName::parse(name).unwrap(),
        kind,
        owner_id: owner.id,
        catalog_id: s.shop.id,
        catalog_name: s.shop.name.to_string(),
        cluster_id: s.prod,
        namespace: format!("lapdev-{name}"),
        replicas: "{\"mode\":\"catalog\"}".into(),
        objects: "[{\"kind\":\"Deployment\"}]".into(),
    }
}

/// A Shared environment named `name` created by Alice, without values.
async fn shared(db: &Db, s: &Setup, name: &str) -> EnvironmentRecord {
    let new = new_env(s, name, EnvironmentKind::Shared, &s.alice);
    db.environment_create(&new, &[], &event(&s.alice, "environment.create"), CREATED)
        .await
        .unwrap()
}

async fn member(db: &Db, s: &Setup, name: &str) -> UserRecord {
    db.member_add_new_user(
        s.org.id,
        &crate::username(name),
        "h",
        Role::Member,
        &event(&s.alice, "member.add"),
    )
    .await
    .unwrap()
    .user
}

async fn reload(db: &Db, id: EnvironmentId) -> EnvironmentRecord {
    db.environment_by_id(id).await.unwrap().unwrap()
}

async fn messages(db: &Db, id: EnvironmentId) -> Vec<String> {
    db.environment_events(id, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {}", e.level, e.message))
        .collect()
}

async fn set(
    db: &Db,
    s: &Setup,
    id: EnvironmentId,
    desired: DesiredState,
) -> (EnvironmentRecord, bool) {
    let note = EventNote {
        level: "info",
        message: desired.as_str(),
    };
    db.environment_set_desired(
        s.org.id,
        id,
        desired,
        &event(&s.alice, "environment.update"),
        note,
    )
    .await
    .unwrap()
}

async fn audit_count(db: &Db, s: &Setup) -> usize {
    db.audit_list(s.org.id, None, 100)
        .await
        .unwrap()
        .items
        .len()
}

async fn create_returns_the_record_with_audit_event_and_values(db: &Db) {
    let s = setup(db).await;
    let new = new_env(&s, "dev", EnvironmentKind::Personal, &s.alice);
    let values = [
        sealed("shop/db", "password", "k1"),
        sealed("shop/db", "user", "k1"),
    ];
    let env = db
        .environment_create(
            &new,
            &values,
            &event(&s.alice, "environment.create"),
            CREATED,
        )
        .await
        .unwrap();
    assert_eq!(env.id, new.id);
    assert_eq!(env.organization_id, s.org.id);
    assert_eq!(env.name.as_str(), "dev");
    assert_eq!(env.kind, EnvironmentKind::Personal);
    assert_eq!(env.owner_id, Some(s.alice.id));
    assert_eq!(env.owner_name.as_ref().unwrap().as_str(), "alice");
    assert_eq!(env.catalog_id, Some(s.shop.id));
    assert_eq!(env.catalog_name, "shop");
    assert_eq!(env.cluster_id, s.prod);
    assert_eq!(env.cluster_name.as_str(), "prod");
    assert_eq!(env.namespace, "lapdev-dev");
    assert_eq!(env.replicas, new.replicas);
    assert_eq!(env.desired, DesiredState::Running);
    assert_eq!(env.generation, 1);
    assert_eq!(
        (
            env.applied_generation,
            env.failed_generation,
            env.failure.as_deref()
        ),
        (None, None, None)
    );
    assert_eq!(env.warnings, "[]");
    assert_eq!(env.phase, "pending");
    assert_eq!(env.observed_generation, None);
    assert_eq!(env.workloads, "[]");
    assert_eq!(env.revision, 1);
    assert_eq!(env.created_at, env.updated_at);
    assert!(env.needs_reconcile());

    assert_eq!(reload(db, env.id).await, env);
    assert_eq!(db.environment_objects(env.id).await.unwrap(), new.objects);
    assert_eq!(db.environment_secret_values(env.id).await.unwrap(), values);
    let err = db
        .environment_objects(EnvironmentId::new())
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        DbError::NotFound {
            what: "environment"
        }
    ));

    let audit = db.audit_list(s.org.id, None, 10).await.unwrap();
    let last = &audit.items[0];
    assert_eq!(last.action, "environment.create");
    assert_eq!(last.object_id, env.id.to_string());
    assert_eq!(last.object_name.as_deref(), Some("dev"));
    assert_eq!(last.actor.as_ref().unwrap().id, s.alice.id);

    let events = db.environment_events(env.id, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].level.as_str(), events[0].message.as_str()),
        ("info", "created")
    );
    assert!(events[0].at >= env.created_at);
}

async fn taken_name_or_namespace_creates_nothing(db: &Db) {
    let s = setup(db).await;
    let (bob, other) = admin_of(db, "bob", "other").await;
    let dev = shared(db, &s, "dev").await;
    let ev = event(&s.alice, "environment.create");
    let audit_before = audit_count(db, &s).await;

    // The same name in the organization, in another namespace.
    let mut same_name = new_env(&s, "dev", EnvironmentKind::Personal, &s.alice);
    same_name.namespace = "elsewhere".into();
    // The same namespace in the cluster, under another name.
    let mut same_namespace = new_env(&s, "other", EnvironmentKind::Shared, &s.alice);
    same_namespace.namespace = dev.namespace.clone();
    for dup in [&same_name, &same_namespace] {
        let err = db
            .environment_create(dup, &[sealed("a/b", "c", "k1")], &ev, CREATED)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                DbError::Conflict {
                    what: "environment"
                }
            ),
            "{err:?}"
        );
        assert!(db.environment_by_id(dup.id).await.unwrap().is_none());
        assert!(
            db.environment_secret_values(dup.id)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(db.environment_events(dup.id, 10).await.unwrap().is_empty());
    }
    assert!(
        db.environment_by_name(s.org.id, "other")
            .await
            .unwrap()
            .is_none()
    );

    // A value given twice rolls the whole environment back.
    let half = new_env(&s, "half", EnvironmentKind::Shared, &s.alice);
    let twice = [sealed("a/b", "c", "k1"), sealed("a/b", "c", "k2")];
    let err = db
        .environment_create(&half, &twice, &ev, CREATED)
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Conflict { .. }), "{err:?}");
    assert!(
        db.environment_by_name(s.org.id, "half")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.environment_secret_values(half.id)
            .await
            .unwrap()
            .is_empty()
    );

    let audit_after = audit_count(db, &s).await;
    assert_eq!(
        audit_after, audit_before,
        "no audit event for a failed create"
    );
    assert_eq!(db.environments_count_on_cluster(s.prod).await.unwrap(), 1);

    // Names are per organization, namespaces per cluster.
    let their_cluster = cluster(db, &bob, other.id, "prod").await;
    let theirs = NewEnvironment {
        organization_id: other.id,
        owner_id: bob.id,
        cluster_id: their_cluster,
        ..new_env(&s, "dev", EnvironmentKind::Shared, &bob)
    };
    let created = db
        .environment_create(&theirs, &[], &event(&bob, "environment.create"), CREATED)
        .await
        .unwrap();
    assert_eq!(created.namespace, dev.namespace);
    assert_eq!(created.owner_name.unwrap().as_str(), "bob");
}

async fn list_follows_visibility_kind_and_pages(db: &Db) {
    let s = setup(db).await;
    let carol = member(db, &s, "carol").await;
    let dave = member(db, &s, "dave").await;
    let ev = event(&s.alice, "environment.create");
    let mut created = vec![];
    for (name, kind, owner) in [
        ("s1", EnvironmentKind::Shared, &s.alice),
        ("alice1", EnvironmentKind::Personal, &s.alice),
        ("carol1", EnvironmentKind::Personal, &carol),
        ("s2", EnvironmentKind::Shared, &s.alice),
        ("dave1", EnvironmentKind::Personal, &dave),
        ("carol2", EnvironmentKind::Personal, &carol),
    ] {
        let new = new_env(&s, name, kind, owner);
        created.push(
            db.environment_create(&new, &[], &ev, CREATED)
                .await
                .unwrap(),
        );
    }
    // Another organization's environments are never listed.
    let (bob, other) = admin_of(db, "bob", "other").await;
    let their_cluster = cluster(db, &bob, other.id, "prod").await;
    let theirs = NewEnvironment {
        organization_id: other.id,
        owner_id: bob.id,
        cluster_id: their_cluster,
        ..new_env(&s, "theirs", EnvironmentKind::Shared, &bob)
    };
    db.environment_create(&theirs, &[], &event(&bob, "environment.create"), CREATED)
        .await
        .unwrap();

    let names = |page: &lapdev_db::Slice<EnvironmentRecord>| -> Vec<String> {
        page.items.iter().map(|e| e.name.to_string()).collect()
    };
    let all = db
        .environments_list(s.org.id, EnvironmentVisibility::All, None, None, 100)
        .await
        .unwrap();
    assert_eq!(
        names(&all),
        ["s1", "alice1", "carol1", "s2", "dave1", "carol2"]
    );
    assert!(!all.has_more);
    assert_eq!(
        all.items, created,
        "the listed records equal the created ones"
    );

    let carols = db
        .environments_list(
            s.org.id,
            EnvironmentVisibility::SharedOrOwnedBy(carol.id),
            None,
            None,
            100,
        )
        .await
        .unwrap();
    assert_eq!(names(&carols), ["s1", "carol1", "s2", "carol2"]);
    let daves_personal = db
        .environments_list(
            s.org.id,
            EnvironmentVisibility::SharedOrOwnedBy(dave.id),
            Some(EnvironmentKind::Personal),
            None,
            100,
        )
        .await
        .unwrap();
    assert_eq!(names(&daves_personal), ["dave1"]);
    let shared_only = db
        .environments_list(
            s.org.id,
            EnvironmentVisibility::All,
            Some(EnvironmentKind::Shared),
            None,
            100,
        )
        .await
        .unwrap();
    assert_eq!(names(&shared_only), ["s1", "s2"]);
    let personal = db
        .environments_list(
            s.org.id,
            EnvironmentVisibility::All,
            Some(EnvironmentKind::Personal),
            None,
            100,
        )
        .await
        .unwrap();
    assert_eq!(names(&personal), ["alice1", "carol1", "dave1", "carol2"]);

    // Pages of two of what Carol sees.
    let mut seen = vec![];
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = db
            .environments_list(
                s.org.id,
                EnvironmentVisibility::SharedOrOwnedBy(carol.id),
                None,
                after,
                2,
            )
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        pages += 1;
        seen.extend(names(&page));
        if !page.has_more {
            break;
        }
        after = page.items.last().map(|e| e.id);
    }
    assert_eq!(seen, ["s1", "carol1", "s2", "carol2"]);
    assert_eq!(pages, 2);
    let first = db
        .environments_list(s.org.id, EnvironmentVisibility::All, None, None, 1)
        .await
        .unwrap();
    assert_eq!(names(&first), ["s1"]);
    assert!(first.has_more);
    let past_the_end = db
        .environments_list(
            s.org.id,
            EnvironmentVisibility::All,
            None,
            Some(created[5].id),
            10,
        )
        .await
        .unwrap();
    assert!(past_the_end.items.is_empty());
    assert!(!past_the_end.has_more);

    let mine = db
        .environments_list(other.id, EnvironmentVisibility::All, None, None, 100)
        .await
        .unwrap();
    assert_eq!(names(&mine), ["theirs"]);
}

async fn lookups_by_name_id_and_namespace(db: &Db) {
    let s = setup(db).await;
    let (bob, other) = admin_of(db, "bob", "other").await;
    let dev = shared(db, &s, "dev").await;
    let staging = shared(db, &s, "staging").await;

    let by_name = db.environment_by_name(s.org.id, "dev").await.unwrap();
    assert_eq!(by_name.as_ref(), Some(&dev));
    assert!(
        db.environment_by_name(s.org.id, "prod")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.environment_by_name(other.id, "dev")
            .await
            .unwrap()
            .is_none()
    );

    assert_eq!(reload(db, staging.id).await, staging);
    assert!(
        db.environment_by_id(EnvironmentId::new())
            .await
            .unwrap()
            .is_none()
    );

    let by_ns = db
        .environment_by_namespace(s.prod, "lapdev-staging")
        .await
        .unwrap();
    assert_eq!(by_ns, Some(staging));
    assert!(
        db.environment_by_namespace(s.prod, "lapdev-nope")
            .await
            .unwrap()
            .is_none()
    );
    let their_cluster = cluster(db, &bob, other.id, "prod").await;
    assert!(
        db.environment_by_namespace(their_cluster, "lapdev-dev")
            .await
            .unwrap()
            .is_none()
    );
}

async fn set_desired_bumps_generation_and_clears_failure(db: &Db) {
    let s = setup(db).await;
    let dev = shared(db, &s, "dev").await;
    assert!(
        db.environment_record_failure(dev.id, 1, "missing value")
            .await
            .unwrap()
    );
    let failed = reload(db, dev.id).await;
    assert_eq!(failed.failed_generation, Some(1));
    assert!(!failed.needs_reconcile());

    let (paused, changed) = set(db, &s, dev.id, DesiredState::Paused).await;
    assert!(changed);
    assert_eq!(paused.desired, DesiredState::Paused);
    assert_eq!(paused.generation, 2);
    assert_eq!(paused.revision, failed.revision + 1);
    assert_eq!(
        (paused.failed_generation, paused.failure.as_deref()),
        (None, None)
    );
    assert!(paused.updated_at >= failed.updated_at);
    assert_eq!(paused.created_at, dev.created_at);
    assert!(paused.needs_reconcile());
    assert_eq!(reload(db, dev.id).await, paused);

    let (running, changed) = set(db, &s, dev.id, DesiredState::Running).await;
    assert!(changed);
    assert_eq!(
        (running.desired, running.generation),
        (DesiredState::Running, 3)
    );
    assert_eq!(running.revision, paused.revision + 1);

    let audit = db.audit_list(s.org.id, None, 2).await.unwrap();
    let actions: Vec<_> = audit
        .items
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.object_name.as_deref(),
                e.object_id.clone(),
            )
        })
        .collect();
    let id = dev.id.to_string();
    assert_eq!(
        actions,
        [
            ("environment.update", Some("dev"), id.clone()),
            ("environment.update", Some("dev"), id),
        ]
    );
    assert_eq!(
        messages(db, dev.id).await,
        [
            "info running",
            "info paused",
            "warning missing value",
            "info created"
        ]
    );
}

async fn set_desired_same_is_a_no_op_and_deletion_is_final(db: &Db) {
    let s = setup(db).await;
    let (_, other) = admin_of(db, "bob", "other").await;
    let dev = shared(db, &s, "dev").await;
    let before = audit_count(db, &s).await;

    let (same, changed) = set(db, &s, dev.id, DesiredState::Running).await;
    assert!(!changed);
    assert_eq!(same, dev, "nothing moved: generation, revision, updated_at");
    assert_eq!(audit_count(db, &s).await, before);
    assert_eq!(messages(db, dev.id).await, ["info created"]);

    let ev = event(&s.alice, "environment.update");
    let note = EventNote {
        level: "info",
        message: "x",
    };
    let err = db
        .environment_set_desired(other.id, dev.id, DesiredState::Paused, &ev, note)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DbError::NotFound {
                what: "environment"
            }
        ),
        "{err:?}"
    );
    let err = db
        .environment_set_desired(
            s.org.id,
            EnvironmentId::new(),
            DesiredState::Paused,
            &ev,
            note,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DbError::NotFound {
                what: "environment"
            }
        ),
        "{err:?}"
    );
    assert_eq!(reload(db, dev.id).await, dev);

    let (deleted, changed) = set(db, &s, dev.id, DesiredState::Deleted).await;
    assert!(changed);
    assert_eq!(
        (deleted.desired, deleted.generation),
        (DesiredState::Deleted, 2)
    );
    let (again, changed) = set(db, &s, dev.id, DesiredState::Deleted).await;
    assert!(!changed);
    assert_eq!(again, deleted);
    for desired in [DesiredState::Running, DesiredState::Paused] {
        let err = db
            .environment_set_desired(s.org.id, dev.id, desired, &ev, note)
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::Conflict { .. }), "{err:?}");
    }
    assert_eq!(reload(db, dev.id).await, deleted);
    assert_eq!(audit_count(db, &s).await, before + 1);
    assert_eq!(messages(db, dev.id).await, ["info deleted", "info created"]);
}

async fn needs_reconcile_truth_table(db: &Db) {
    let s = setup(db).await;
    let base = EnvironmentRecord {
        generation: 2,
        ..shared(db, &s, "dev").await
    };
    let with = |desired, applied: Option<u64>, failed: Option<u64>| EnvironmentRecord {
        desired,
        applied_generation: applied,
        failed_generation: failed,
        ..base.clone()
    };
    use DesiredState::{Deleted, Paused, Running};
    let table = [
        // desired, applied, failed => needs reconcile
        (Running, None, None, true),
        (Running, Some(1), None, true),
        (Running, Some(2), None, false),
        (Running, None, Some(2), false),
        (Running, Some(1), Some(2), false),
        (Running, Some(1), Some(1), true),
        (Paused, None, None, true),
        (Paused, Some(2), None, false),
        (Paused, Some(1), Some(2), false),
        (Deleted, None, None, true),
        (Deleted, Some(2), None, true),
        (Deleted, None, Some(2), true),
    ];
    for (desired, applied, failed, expected) in table {
        assert_eq!(
            with(desired, applied, failed).needs_reconcile(),
            expected,
            "desired {desired:?}, applied {applied:?}, failed {failed:?}"
        );
    }
    // The namespace was reported gone while it should run: re-create it
    // (unless this generation was refused).
    let gone = |desired, failed| EnvironmentRecord {
        phase: "deleted".into(),
        ..with(desired, Some(2), failed)
    };
    assert!(gone(Running, None).needs_reconcile());
    assert!(gone(Paused, None).needs_reconcile());
    assert!(!gone(Running, Some(2)).needs_reconcile());
}
