//! Environments, the cluster's half: what the cluster applied, refused and
//! reports, events, final removal, the per-cluster queries, the
//! key-rotation helpers, and what deleting a catalog or cluster does.

#[allow(clippy::wildcard_imports)]
use super::*;

crate::backend_tests!(
    record_applied_ignores_older_generations,
    record_failure_only_for_the_current_generation,
    record_report_only_when_changed,
    events_newest_first_with_limit,
    remove_only_after_deletion_and_cascades,
    per_cluster_count_and_listing,
    rotation_helpers_touch_only_old_keys,
    deleted_catalog_is_forgotten_and_used_cluster_stays,
);

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
    // A renamed catalog shows its new name; a deleted one, the name the
    // environment stored at creation.
    let renamed = CatalogName::parse("store").unwrap();
    db.catalog_update_meta(
        s.org.id,
        s.shop.id,
        Some(&renamed),
        None,
        &event(&s.alice, "catalog.update"),
    )
    .await
    .unwrap();
    assert_eq!(reload(db, dev.id).await.catalog_name, "store");
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
