//! Clusters and their tokens: names unique per organization, settings
//! changes, rotation with a grace period, revocation, heartbeats and facts,
//! and the audit trail of each change.

use jiff::{SignedDuration, Timestamp};
use lapdev_db::{
    ClusterChange, ClusterFacts, ClusterRecord, Db, DbError, NewCluster, NewClusterToken,
    OrganizationRecord, UserRecord,
};
use lapdev_domain::{
    ClusterId, ClusterName, ClusterPermissions, ClusterRoles, ClusterTokenId, OrganizationId,
};

use crate::{admin_of, event};

crate::backend_tests!(
    create_list_and_find_clusters,
    names_are_unique_per_organization,
    change_settings_and_delete,
    rotation_keeps_the_old_token_for_the_grace_period,
    the_new_token_ends_the_grace_period,
    revocation_removes_every_token,
    heartbeats_and_facts,
);

fn name(s: &str) -> ClusterName {
    ClusterName::parse(s).unwrap()
}

fn token(secret: &str) -> NewClusterToken {
    NewClusterToken {
        id: ClusterTokenId::new(),
        prefix: secret[..6].to_string(),
        secret_hash: format!("hash-of-{secret}"),
    }
}

fn new_cluster(org: OrganizationId, n: &str) -> NewCluster {
    NewCluster {
        id: ClusterId::new(),
        organization_id: org,
        name: name(n),
        roles: ClusterRoles::BOTH,
        permissions: ClusterPermissions::ALL,
    }
}

/// Alice's cluster `dev` in `acme`, created with token `lpc_old1` and
/// rotated to `lpc_new1` with the old one retiring at `grace_end`; returns
/// the cluster as the rotation returned it.
async fn rotated(db: &Db, grace_end: Timestamp) -> (UserRecord, OrganizationRecord, ClusterRecord) {
    let (alice, org) = admin_of(db, "alice", "acme").await;
    let dev = db
        .cluster_create(
            &new_cluster(org.id, "dev"),
            &token("lpc_old1"),
            &event(&alice, "c"),
        )
        .await
        .unwrap();
    let rotated = db
        .cluster_token_rotate(
            org.id,
            dev.id,
            &token("lpc_new1"),
            grace_end,
            &event(&alice, "cluster.rotate_token"),
        )
        .await
        .unwrap();
    (alice, org, rotated)
}

async fn create_list_and_find_clusters(db: &Db) {
    let (alice, org) = admin_of(db, "alice", "acme").await;
    let ev = event(&alice, "cluster.create");
    let dev = db
        .cluster_create(&new_cluster(org.id, "dev"), &token("lpc_dev1"), &ev)
        .await
        .unwrap();
    assert_eq!(dev.name.as_str(), "dev");
    assert_eq!(dev.roles, ClusterRoles::BOTH);
    assert_eq!(dev.last_seen_at, None, "never connected");
    assert_eq!(dev.facts, None);
    assert_eq!(dev.token_prefix.as_deref(), Some("lpc_de"));
    let prod = db
        .cluster_create(&new_cluster(org.id, "prod"), &token("lpc_prod"), &ev)
        .await
        .unwrap();

    let page = db.clusters_list(org.id, None, 1).await.unwrap();
    assert_eq!(page.items, vec![dev.clone()]);
    assert!(page.has_more);
    let page = db.clusters_list(org.id, Some(dev.id), 10).await.unwrap();
    assert_eq!(page.items, vec![prod.clone()]);
    assert!(!page.has_more);

    assert_eq!(
        db.cluster_by_name(org.id, "prod").await.unwrap(),
        Some(prod.clone())
    );
    assert_eq!(db.cluster_by_id(prod.id).await.unwrap(), Some(prod));
    assert_eq!(db.cluster_by_name(org.id, "nope").await.unwrap(), None);

    let audit = db.audit_list(org.id, None, 10).await.unwrap();
    assert_eq!(audit.items[0].action, "cluster.create");
    assert_eq!(audit.items[0].object_name.as_deref(), Some("prod"));
}

async fn names_are_unique_per_organization(db: &Db) {
    let (alice, acme) = admin_of(db, "alice", "acme").await;
    let (bob, beta) = admin_of(db, "bob", "beta").await;
    db.cluster_create(
        &new_cluster(acme.id, "dev"),
        &token("lpc_a1"),
        &event(&alice, "x"),
    )
    .await
    .unwrap();
    let dup = db
        .cluster_create(
            &new_cluster(acme.id, "dev"),
            &token("lpc_a2"),
            &event(&alice, "x"),
        )
        .await;
    assert!(matches!(dup, Err(DbError::Conflict { what: "cluster" })));
    // Another organization may use the name; and it cannot see acme's.
    db.cluster_create(
        &new_cluster(beta.id, "dev"),
        &token("lpc_b1"),
        &event(&bob, "x"),
    )
    .await
    .unwrap();
    assert_eq!(
        db.clusters_list(beta.id, None, 10)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let audit = db.audit_list(acme.id, None, 10).await.unwrap();
    assert_eq!(
        audit.items.iter().filter(|e| e.action == "x").count(),
        1,
        "the failed create is not audited"
    );
}

async fn change_settings_and_delete(db: &Db) {
    let (alice, org) = admin_of(db, "alice", "acme").await;
    let ev = |a| event(&alice, a);
    let dev = db
        .cluster_create(&new_cluster(org.id, "dev"), &token("lpc_dev1"), &ev("c"))
        .await
        .unwrap();
    db.cluster_create(&new_cluster(org.id, "prod"), &token("lpc_prd1"), &ev("c"))
        .await
        .unwrap();
    let changed = db
        .cluster_update(
            org.id,
            dev.id,
            &ClusterChange {
                name: Some(name("staging")),
                roles: ClusterRoles::new(true, false),
                permissions: Some(ClusterPermissions::NONE),
            },
            &ev("cluster.update"),
        )
        .await
        .unwrap();
    assert_eq!(changed.name.as_str(), "staging");
    assert!(changed.roles.source() && !changed.roles.target());
    assert_eq!(changed.permissions, ClusterPermissions::NONE);
    let partial = db
        .cluster_update(
            org.id,
            dev.id,
            &ClusterChange {
                permissions: Some(ClusterPermissions {
                    personal: false,
                    shared: true,
                }),
                ..ClusterChange::default()
            },
            &ev("cluster.update"),
        )
        .await
        .unwrap();
    assert_eq!(partial.name.as_str(), "staging", "kept");
    assert!(partial.permissions.shared && !partial.permissions.personal);

    let clash = db
        .cluster_update(
            org.id,
            dev.id,
            &ClusterChange {
                name: Some(name("prod")),
                ..ClusterChange::default()
            },
            &ev("cluster.update"),
        )
        .await;
    assert!(matches!(clash, Err(DbError::Conflict { what: "cluster" })));

    // Another organization's id is not found.
    let (bob, other) = admin_of(db, "bob", "beta").await;
    let foreign = db
        .cluster_delete(other.id, dev.id, &event(&bob, "cluster.delete"))
        .await;
    assert!(matches!(
        foreign,
        Err(DbError::NotFound { what: "cluster" })
    ));

    db.cluster_delete(org.id, dev.id, &ev("cluster.delete"))
        .await
        .unwrap();
    assert_eq!(db.cluster_by_id(dev.id).await.unwrap(), None);
    let now = Timestamp::now();
    assert!(
        db.cluster_by_token_hash("hash-of-lpc_dev1", now)
            .await
            .unwrap()
            .is_none(),
        "its token goes with it"
    );
    let actions: Vec<_> = db
        .audit_list(org.id, None, 10)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions[..3],
        ["cluster.delete", "cluster.update", "cluster.update"]
    );
}

async fn rotation_keeps_the_old_token_for_the_grace_period(db: &Db) {
    let now = Timestamp::now();
    let grace_end = now + SignedDuration::from_hours(1);
    let (_, _, dev) = rotated(db, grace_end).await;
    assert_eq!(dev.token_prefix.as_deref(), Some("lpc_ne"));

    let (c, old) = db
        .cluster_by_token_hash("hash-of-lpc_old1", now)
        .await
        .unwrap()
        .expect("the old token works during the grace period");
    assert_eq!(c.id, dev.id);
    assert!(old.retires_at.is_some());
    let (_, new) = db
        .cluster_by_token_hash("hash-of-lpc_new1", now)
        .await
        .unwrap()
        .expect("the new token works");
    assert_eq!(new.retires_at, None);
    let after = grace_end + SignedDuration::from_millis(1);
    assert!(
        db.cluster_by_token_hash("hash-of-lpc_old1", after)
            .await
            .unwrap()
            .is_none(),
        "not after it"
    );
    assert!(
        db.cluster_by_token_hash("hash-of-lpc_new1", after)
            .await
            .unwrap()
            .is_some()
    );
}

async fn the_new_token_ends_the_grace_period(db: &Db) {
    let now = Timestamp::now();
    let (_, _, dev) = rotated(db, now + SignedDuration::from_hours(1)).await;
    let (_, old) = db
        .cluster_by_token_hash("hash-of-lpc_old1", now)
        .await
        .unwrap()
        .unwrap();
    // The retiring token connecting does not end anything.
    assert_eq!(
        db.cluster_token_retire_others(dev.id, old.id)
            .await
            .unwrap(),
        0
    );
    let (_, new) = db
        .cluster_by_token_hash("hash-of-lpc_new1", now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        db.cluster_token_retire_others(dev.id, new.id)
            .await
            .unwrap(),
        1
    );
    assert!(
        db.cluster_by_token_hash("hash-of-lpc_old1", now)
            .await
            .unwrap()
            .is_none()
    );
}

async fn revocation_removes_every_token(db: &Db) {
    let now = Timestamp::now();
    let (alice, org, dev) = rotated(db, now + SignedDuration::from_hours(1)).await;
    let (_, current) = db
        .cluster_by_token_hash("hash-of-lpc_new1", now)
        .await
        .unwrap()
        .unwrap();
    assert!(db.cluster_token_is_valid(current.id, now).await.unwrap());
    let revoked = db
        .cluster_token_revoke(org.id, dev.id, &event(&alice, "cluster.revoke_token"))
        .await
        .unwrap();
    assert_eq!(revoked, 2);
    assert!(!db.cluster_token_is_valid(current.id, now).await.unwrap());
    for secret in ["hash-of-lpc_old1", "hash-of-lpc_new1"] {
        assert!(
            db.cluster_by_token_hash(secret, now)
                .await
                .unwrap()
                .is_none()
        );
    }
    let dev = db.cluster_by_id(dev.id).await.unwrap().unwrap();
    assert_eq!(dev.token_prefix, None, "no token until the next rotation");
    let audit = db.audit_list(org.id, None, 1).await.unwrap();
    assert_eq!(audit.items[0].action, "cluster.revoke_token");
}

async fn heartbeats_and_facts(db: &Db) {
    let (alice, org) = admin_of(db, "alice", "acme").await;
    let dev = db
        .cluster_create(
            &new_cluster(org.id, "dev"),
            &token("lpc_dev1"),
            &event(&alice, "c"),
        )
        .await
        .unwrap();
    let t0 = Timestamp::from_millisecond(1_800_000_000_000).unwrap();
    db.cluster_touch(dev.id, t0, 10_000).await.unwrap();
    let seen = |c: Option<lapdev_db::ClusterRecord>| c.unwrap().last_seen_at;
    assert_eq!(seen(db.cluster_by_id(dev.id).await.unwrap()), Some(t0));
    // Within the granularity: not written.
    let t1 = t0 + SignedDuration::from_secs(5);
    db.cluster_touch(dev.id, t1, 10_000).await.unwrap();
    assert_eq!(seen(db.cluster_by_id(dev.id).await.unwrap()), Some(t0));
    let t2 = t0 + SignedDuration::from_secs(10);
    db.cluster_touch(dev.id, t2, 10_000).await.unwrap();
    assert_eq!(seen(db.cluster_by_id(dev.id).await.unwrap()), Some(t2));

    let facts = ClusterFacts {
        kube_manager_version: "0.1.0".into(),
        kubernetes_version: "v1.33.1".into(),
        node_count: 3,
        allocatable_cpu_millis: 11_500,
        allocatable_memory_bytes: 48 * 1024 * 1024 * 1024,
        reported_at: t2 + SignedDuration::from_secs(1),
    };
    db.cluster_record_facts(dev.id, &facts).await.unwrap();
    let dev = db.cluster_by_id(dev.id).await.unwrap().unwrap();
    assert_eq!(dev.facts, Some(facts.clone()));
    assert_eq!(dev.last_seen_at, Some(facts.reported_at));
}
