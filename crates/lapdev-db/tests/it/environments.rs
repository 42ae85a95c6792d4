//! Environments: create (row, sealed values, audit event and first event in
//! one transaction; taken names and namespaces create nothing), lookups, the
//! list's visibility rule, kind filter and pagination, desired-state changes
//! (generation, revision, failure, audit, events; deletion is final), what
//! the cluster applied, refused and reports, events, final removal, the
//! per-cluster queries and the key-rotation helpers.

use lapdev_db::{
    CatalogContent, CatalogRecord, Db, DbError, EnvironmentRecord, EnvironmentReport,
    EnvironmentVisibility, EventNote, NewCatalog, NewCluster, NewClusterToken, NewEnvironment,
    OrganizationRecord, SealedValue, UserRecord,
};
use lapdev_domain::{
    CatalogId, CatalogName, ClusterId, ClusterName, ClusterPermissions, ClusterRoles,
    ClusterTokenId, DesiredState, EnvironmentId, EnvironmentKind, EnvironmentName, OrganizationId,
    Role,
};

use crate::{admin_of, event};

crate::backend_tests!(
    create_returns_the_record_with_audit_event_and_values,
    taken_name_or_namespace_creates_nothing,
    list_follows_visibility_kind_and_pages,
    lookups_by_name_id_and_namespace,
    set_desired_bumps_generation_and_clears_failure,
    set_desired_same_is_a_no_op_and_deletion_is_final,
    needs_reconcile_truth_table,
    record_applied_ignores_older_generations,
    record_failure_only_for_the_current_generation,
    record_report_only_when_changed,
    events_newest_first_with_limit,
    remove_only_after_deletion_and_cascades,
    per_cluster_count_and_listing,
    rotation_helpers_touch_only_old_keys,
    deleted_catalog_is_forgotten_and_used_cluster_stays,
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

async fn cluster(db: &Db, by: &UserRecord, org: OrganizationId, name: &str) -> ClusterId {
    let new = NewCluster {
        id: ClusterId::new(),
        organization_id: org,
        name: ClusterName::parse(name).unwrap(),
        roles: ClusterRoles::BOTH,
        permissions: ClusterPermissions::ALL,
    };
    let token = NewClusterToken {
        id: ClusterTokenId::new(),
        prefix: "lpc_ab".into(),
        secret_hash: format!("hash-{}", new.id),
    };
    db.cluster_create(&new, &token, &event(by, "cluster.create"))
        .await
        .unwrap()
        .id
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

fn sealed(object: &str, key: &str, key_id: &str) -> SealedValue {
    SealedValue {
        object: object.into(),
        field: "data".into(),
        key: key.into(),
        key_id: key_id.into(),
        nonce: "bm9uY2U=".into(),
        ciphertext: format!("ct-{object}-{key}"),
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
    let audit_before = db
        .audit_list(s.org.id, None, 100)
        .await
        .unwrap()
        .items
        .len();

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

    let audit_after = db
        .audit_list(s.org.id, None, 100)
        .await
        .unwrap()
        .items
        .len();
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
}

async fn record_applied_ignores_older_generations(db: &Db) {
    let s = setup(db).await;
    let dev = shared(db, &s, "dev").await;
    let other = shared(db, &s, "other").await;
    let note = EventNote {
        level: "info",
        message: "applied",
    };
    assert!(
        db.environment_record_applied(dev.id, 1, "[\"w1\"]", Some(note))
            .await
            .unwrap()
    );
    let applied = reload(db, dev.id).await;
    assert_eq!(applied.applied_generation, Some(1));
    assert_eq!(applied.warnings, "[\"w1\"]");
    assert_eq!(applied.revision, dev.revision + 1);
    assert!(!applied.needs_reconcile());
    // The same generation again changes nothing, and writes no event.
    assert!(
        !db.environment_record_applied(dev.id, 1, "[]", Some(note))
            .await
            .unwrap()
    );
    assert_eq!(reload(db, dev.id).await, applied);
    assert_eq!(messages(db, dev.id).await, ["info applied", "info created"]);

    set(db, &s, dev.id, DesiredState::Paused).await;
    set(db, &s, dev.id, DesiredState::Running).await;
    assert!(
        db.environment_record_applied(dev.id, 3, "[]", None)
            .await
            .unwrap()
    );
    let newest = reload(db, dev.id).await;
    assert_eq!((newest.applied_generation, newest.generation), (Some(3), 3));
    // A late answer for generation 2 is older: ignored.
    assert!(
        !db.environment_record_applied(dev.id, 2, "[\"late\"]", Some(note))
            .await
            .unwrap()
    );
    assert_eq!(reload(db, dev.id).await, newest);
    assert_eq!(
        messages(db, dev.id).await,
        [
            "info running",
            "info paused",
            "info applied",
            "info created"
        ]
    );
    // Other environments are untouched; an unknown one is no change.
    assert_eq!(reload(db, other.id).await, other);
    assert!(
        !db.environment_record_applied(EnvironmentId::new(), 1, "[]", None)
            .await
            .unwrap()
    );
}

async fn record_failure_only_for_the_current_generation(db: &Db) {
    let s = setup(db).await;
    let dev = shared(db, &s, "dev").await;
    set(db, &s, dev.id, DesiredState::Paused).await;
    // Generation 1 is no longer current.
    assert!(
        !db.environment_record_failure(dev.id, 1, "too late")
            .await
            .unwrap()
    );
    let paused = reload(db, dev.id).await;
    assert_eq!(
        (paused.failed_generation, paused.failure.as_deref()),
        (None, None)
    );

    assert!(
        db.environment_record_failure(dev.id, 2, "missing value db/password")
            .await
            .unwrap()
    );
    let failed = reload(db, dev.id).await;
    assert_eq!(failed.failed_generation, Some(2));
    assert_eq!(failed.failure.as_deref(), Some("missing value db/password"));
    assert_eq!(failed.revision, paused.revision + 1);
    assert!(!failed.needs_reconcile());
    // The same refusal again: no change, no second event.
    assert!(
        !db.environment_record_failure(dev.id, 2, "missing value db/password")
            .await
            .unwrap()
    );
    assert_eq!(reload(db, dev.id).await, failed);
    // A different reason for the same generation is recorded.
    assert!(
        db.environment_record_failure(dev.id, 2, "quota exceeded")
            .await
            .unwrap()
    );
    let refailed = reload(db, dev.id).await;
    assert_eq!(refailed.failure.as_deref(), Some("quota exceeded"));
    assert_eq!(refailed.revision, failed.revision + 1);
    // A generation the server never asked for is not recorded either.
    assert!(
        !db.environment_record_failure(dev.id, 3, "future")
            .await
            .unwrap()
    );
    assert_eq!(
        messages(db, dev.id).await,
        [
            "warning quota exceeded",
            "warning missing value db/password",
            "info paused",
            "info created"
        ]
    );
}

async fn record_report_only_when_changed(db: &Db) {
    let s = setup(db).await;
    let dev = shared(db, &s, "dev").await;
    let ready = EnvironmentReport {
        phase: "ready".into(),
        observed_generation: Some(1),
        workloads: "[{\"name\":\"web\",\"ready\":1}]".into(),
    };
    let note = EventNote {
        level: "info",
        message: "ready",
    };
    assert!(
        db.environment_record_report(dev.id, &ready, Some(note))
            .await
            .unwrap()
    );
    let reported = reload(db, dev.id).await;
    assert_eq!(reported.phase, "ready");
    assert_eq!(reported.observed_generation, Some(1));
    assert_eq!(reported.workloads, ready.workloads);
    assert_eq!(reported.revision, dev.revision + 1);
    assert_eq!(reported.generation, 1, "a report is not a desired change");

    // The same report: no change, and the note is not recorded.
    assert!(
        !db.environment_record_report(dev.id, &ready, Some(note))
            .await
            .unwrap()
    );
    assert_eq!(reload(db, dev.id).await, reported);
    assert_eq!(messages(db, dev.id).await, ["info ready", "info created"]);

    // Each field alone counts as a change, including an unknown generation.
    let variants = [
        EnvironmentReport {
            phase: "degraded".into(),
            ..ready.clone()
        },
        EnvironmentReport {
            observed_generation: None,
            ..ready.clone()
        },
        EnvironmentReport {
            observed_generation: None,
            ..ready.clone()
        },
        EnvironmentReport {
            workloads: "[]".into(),
            ..ready.clone()
        },
    ];
    let mut revision = reported.revision;
    for (i, report) in variants.iter().enumerate() {
        let changed = db
            .environment_record_report(dev.id, report, None)
            .await
            .unwrap();
        // The third repeats the second.
        assert_eq!(changed, i != 2, "report {i}: {report:?}");
        let now = reload(db, dev.id).await;
        assert_eq!(now.phase, report.phase);
        assert_eq!(now.observed_generation, report.observed_generation);
        assert_eq!(now.workloads, report.workloads);
        if changed {
            revision += 1;
        }
        assert_eq!(now.revision, revision);
    }
    assert_eq!(messages(db, dev.id).await.len(), 2, "no notes were given");
}

async fn events_newest_first_with_limit(db: &Db) {
    let s = setup(db).await;
    let dev = shared(db, &s, "dev").await;
    let other = shared(db, &s, "other").await;
    for i in 0..5 {
        let message = format!("event {i}");
        let level = if i % 2 == 0 { "info" } else { "warning" };
        db.environment_add_event(
            dev.id,
            EventNote {
                level,
                message: &message,
            },
        )
        .await
        .unwrap();
    }
    let newest = db.environment_events(dev.id, 3).await.unwrap();
    let got: Vec<_> = newest
        .iter()
        .map(|e| (e.level.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("info", "event 4"),
            ("warning", "event 3"),
            ("info", "event 2")
        ]
    );
    assert!(newest.windows(2).all(|w| w[0].at >= w[1].at));
    assert_eq!(
        messages(db, dev.id).await,
        [
            "info event 4",
            "warning event 3",
            "info event 2",
            "warning event 1",
            "info event 0",
            "info created"
        ]
    );
    assert_eq!(messages(db, other.id).await, ["info created"]);
    // A limit of zero still shows the newest.
    let one = db.environment_events(dev.id, 0).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].message, "event 4");
    // Only `info` and `warning` are levels.
    let err = db
        .environment_add_event(
            dev.id,
            EventNote {
                level: "debug",
                message: "x",
            },
        )
        .await;
    assert!(err.is_err());
}

async fn remove_only_after_deletion_and_cascades(db: &Db) {
    let s = setup(db).await;
    let new = new_env(&s, "dev", EnvironmentKind::Shared, &s.alice);
    let values = [sealed("shop/db", "password", "k1")];
    let dev = db
        .environment_create(
            &new,
            &values,
            &event(&s.alice, "environment.create"),
            CREATED,
        )
        .await
        .unwrap();
    let keep = shared(db, &s, "keep").await;

    assert!(
        !db.environment_remove(dev.id).await.unwrap(),
        "still running"
    );
    set(db, &s, dev.id, DesiredState::Paused).await;
    assert!(!db.environment_remove(dev.id).await.unwrap(), "only paused");
    assert!(db.environment_by_id(dev.id).await.unwrap().is_some());

    set(db, &s, dev.id, DesiredState::Deleted).await;
    assert!(db.environment_remove(dev.id).await.unwrap());
    assert!(db.environment_by_id(dev.id).await.unwrap().is_none());
    assert!(
        db.environment_by_name(s.org.id, "dev")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.environment_secret_values(dev.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(db.environment_events(dev.id, 10).await.unwrap().is_empty());
    assert!(
        db.environment_values_not_under("none", 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !db.environment_remove(dev.id).await.unwrap(),
        "already gone"
    );
    assert_eq!(reload(db, keep.id).await, keep);
    assert_eq!(messages(db, keep.id).await, ["info created"]);

    // The name and namespace are free again.
    let again = new_env(&s, "dev", EnvironmentKind::Shared, &s.alice);
    let recreated = db
        .environment_create(&again, &[], &event(&s.alice, "environment.create"), CREATED)
        .await
        .unwrap();
    assert_eq!(recreated.namespace, dev.namespace);
    assert_eq!(recreated.generation, 1);
}

async fn per_cluster_count_and_listing(db: &Db) {
    let s = setup(db).await;
    let staging = cluster(db, &s.alice, s.org.id, "staging").await;
    assert_eq!(db.environments_count_on_cluster(s.prod).await.unwrap(), 0);
    assert!(db.environments_on_cluster(None).await.unwrap().is_empty());

    let a = shared(db, &s, "a").await;
    let on_staging = NewEnvironment {
        cluster_id: staging,
        ..new_env(&s, "b", EnvironmentKind::Shared, &s.alice)
    };
    let b = db
        .environment_create(
            &on_staging,
            &[],
            &event(&s.alice, "environment.create"),
            CREATED,
        )
        .await
        .unwrap();
    assert_eq!(b.cluster_name.as_str(), "staging");
    let c = shared(db, &s, "c").await;
    // Another organization's cluster counts for itself and in the full list.
    let (bob, other) = admin_of(db, "bob", "other").await;
    let their_cluster = cluster(db, &bob, other.id, "prod").await;
    let theirs = NewEnvironment {
        organization_id: other.id,
        owner_id: bob.id,
        cluster_id: their_cluster,
        ..new_env(&s, "d", EnvironmentKind::Shared, &bob)
    };
    let d = db
        .environment_create(&theirs, &[], &event(&bob, "environment.create"), CREATED)
        .await
        .unwrap();

    // Being deleted still counts.
    set(db, &s, c.id, DesiredState::Deleted).await;
    let c = reload(db, c.id).await;
    assert_eq!(db.environments_count_on_cluster(s.prod).await.unwrap(), 2);
    assert_eq!(db.environments_count_on_cluster(staging).await.unwrap(), 1);
    assert_eq!(
        db.environments_count_on_cluster(their_cluster)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        db.environments_count_on_cluster(ClusterId::new())
            .await
            .unwrap(),
        0
    );

    assert_eq!(
        db.environments_on_cluster(Some(s.prod)).await.unwrap(),
        [a.clone(), c.clone()]
    );
    assert_eq!(
        db.environments_on_cluster(Some(staging)).await.unwrap(),
        std::slice::from_ref(&b)
    );
    assert_eq!(
        db.environments_on_cluster(None).await.unwrap(),
        [a, b, c.clone(), d]
    );

    assert!(db.environment_remove(c.id).await.unwrap());
    assert_eq!(db.environments_count_on_cluster(s.prod).await.unwrap(), 1);
}

async fn rotation_helpers_touch_only_old_keys(db: &Db) {
    let s = setup(db).await;
    let ev = event(&s.alice, "environment.create");
    let dev_values = [sealed("s/a", "k", "old"), sealed("s/b", "k", "new")];
    let dev = db
        .environment_create(
            &new_env(&s, "dev", EnvironmentKind::Shared, &s.alice),
            &dev_values,
            &ev,
            CREATED,
        )
        .await
        .unwrap();
    let qa_values = [sealed("s/a", "k", "old"), sealed("s/c", "k", "old")];
    let qa = db
        .environment_create(
            &new_env(&s, "qa", EnvironmentKind::Shared, &s.alice),
            &qa_values,
            &ev,
            CREATED,
        )
        .await
        .unwrap();
    // Catalog values are a separate table.
    assert!(
        db.sealed_values_not_under("new", 100)
            .await
            .unwrap()
            .is_empty()
    );

    let mut stale = db.environment_values_not_under("new", 100).await.unwrap();
    stale.sort_by(|x, y| (x.0.to_string(), &x.1.object).cmp(&(y.0.to_string(), &y.1.object)));
    let mut expected = vec![
        (dev.id, dev_values[0].clone()),
        (qa.id, qa_values[0].clone()),
        (qa.id, qa_values[1].clone()),
    ];
    expected.sort_by(|x, y| (x.0.to_string(), &x.1.object).cmp(&(y.0.to_string(), &y.1.object)));
    assert_eq!(stale, expected);
    assert_eq!(
        db.environment_values_not_under("new", 2)
            .await
            .unwrap()
            .len(),
        2
    );

    let resealed = SealedValue {
        key_id: "new".into(),
        nonce: "bmV3".into(),
        ciphertext: "fresh".into(),
        ..dev_values[0].clone()
    };
    assert!(
        db.environment_value_replace(dev.id, "old", &resealed)
            .await
            .unwrap()
    );
    // A second re-seal (a concurrent start) changes nothing.
    assert!(
        !db.environment_value_replace(dev.id, "old", &resealed)
            .await
            .unwrap()
    );
    assert_eq!(
        db.environment_secret_values(dev.id).await.unwrap(),
        [resealed.clone(), dev_values[1].clone()]
    );
    // The same object in the other environment is untouched.
    assert_eq!(
        db.environment_secret_values(qa.id).await.unwrap(),
        qa_values
    );
    for (_, v) in db.environment_values_not_under("new", 100).await.unwrap() {
        assert_eq!(v.key_id, "old");
    }
    assert_eq!(
        db.environment_values_not_under("new", 100)
            .await
            .unwrap()
            .len(),
        2
    );
    // A value that does not exist is not created.
    let missing = SealedValue {
        object: "s/zzz".into(),
        ..resealed
    };
    assert!(
        !db.environment_value_replace(dev.id, "old", &missing)
            .await
            .unwrap()
    );
    assert_eq!(db.environment_secret_values(dev.id).await.unwrap().len(), 2);
}

async fn deleted_catalog_is_forgotten_and_used_cluster_stays(db: &Db) {
    let s = setup(db).await;
    let dev = shared(db, &s, "dev").await;
    db.catalog_delete(s.org.id, s.shop.id, &event(&s.alice, "catalog.delete"))
        .await
        .unwrap();
    let after = reload(db, dev.id).await;
    assert_eq!(after.catalog_id, None);
    assert_eq!(after.catalog_name, "shop", "the name at creation is kept");
    assert_eq!(
        db.environment_objects(dev.id).await.unwrap(),
        new_env(&s, "x", EnvironmentKind::Shared, &s.alice).objects
    );

    // The database refuses to delete a cluster an environment is on.
    let err = db
        .cluster_delete(s.org.id, s.prod, &event(&s.alice, "cluster.delete"))
        .await;
    assert!(err.is_err(), "{err:?}");
    assert_eq!(reload(db, dev.id).await, after);
    assert!(db.cluster_by_id(s.prod).await.unwrap().is_some());
}
