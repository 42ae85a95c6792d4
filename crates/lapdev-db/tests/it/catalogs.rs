//! Catalogs: create with sealed values in one transaction, duplicate names,
//! list/find, rename, content replacement guarded by the previous snapshot,
//! delete, and the key-rotation helpers; a deleted source cluster leaves the
//! catalog with an unknown source.

use lapdev_db::{CatalogContent, Db, DbError, NewCatalog, SealedValue};
use lapdev_domain::{CatalogId, CatalogName, ClusterId, OrganizationId};

use crate::{admin_of, cluster, event, sealed};

crate::backend_tests!(
    create_find_and_list_catalogs,
    duplicate_name_creates_nothing,
    rename_replace_and_delete,
    rotation_helpers_touch_only_old_keys,
    deleting_the_source_cluster_keeps_the_catalog,
);

fn content(workloads: u32, snapshot: &str) -> CatalogContent {
    CatalogContent {
        workloads: "[]".into(),
        workload_count: workloads,
        secret_policy: "{}".into(),
        snapshot: snapshot.into(),
    }
}

fn new_catalog(org: OrganizationId, cluster: ClusterId, name: &str) -> NewCatalog {
    NewCatalog {
        id: CatalogId::new(),
        organization_id: org,
        name: CatalogName::parse(name).unwrap(),
        description: format!("the {name} app"),
        source_cluster_id: cluster,
        content: content(2, "{\"objects\":[]}"),
    }
}

async fn create_find_and_list_catalogs(db: &Db) {
    let (alice, org) = admin_of(db, "alice", "acme").await;
    let (_, other) = admin_of(db, "bob", "other").await;
    let prod = cluster(db, &alice, org.id, "prod").await;
    let values = [
        sealed("shop/db", "password", "k1"),
        sealed("shop/db", "user", "k1"),
    ];
    let shop = db
        .catalog_create(
            &new_catalog(org.id, prod, "shop"),
            &values,
            &event(&alice, "catalog.create"),
        )
        .await
        .unwrap();
    assert_eq!(shop.source_cluster_name.as_ref().unwrap().as_str(), "prod");
    assert_eq!(shop.content.workload_count, 2);
    db.catalog_create(
        &new_catalog(org.id, prod, "blog"),
        &[],
        &event(&alice, "catalog.create"),
    )
    .await
    .unwrap();
    let found = db.catalog_by_name(org.id, "shop").await.unwrap().unwrap();
    assert_eq!(found, shop);
    assert!(
        db.catalog_by_name(other.id, "shop")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(db.catalog_secret_values(shop.id).await.unwrap(), values);
    let page = db.catalogs_list(org.id, None, 1).await.unwrap();
    assert_eq!(page.items[0].name.as_str(), "shop");
    assert!(page.has_more);
    let page = db
        .catalogs_list(org.id, Some(page.items[0].id), 10)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(!page.has_more);
    let audit = db.audit_list(org.id, None, 10).await.unwrap();
    assert_eq!(audit.items[0].action, "catalog.create");
    assert_eq!(audit.items[0].object_name.as_deref(), Some("blog"));
}

async fn duplicate_name_creates_nothing(db: &Db) {
    let (alice, org) = admin_of(db, "alice", "acme").await;
    let prod = cluster(db, &alice, org.id, "prod").await;
    let ev = event(&alice, "catalog.create");
    db.catalog_create(&new_catalog(org.id, prod, "shop"), &[], &ev)
        .await
        .unwrap();
    let dup = new_catalog(org.id, prod, "shop");
    let err = db
        .catalog_create(&dup, &[sealed("a/b", "c", "k1")], &ev)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DbError::Conflict { what: "catalog" }),
        "{err:?}"
    );
    assert!(db.catalog_secret_values(dup.id).await.unwrap().is_empty());
    // A failing value insert rolls the whole catalog back.
    let twice = [sealed("a/b", "c", "k1"), sealed("a/b", "c", "k1")];
    let bad = new_catalog(org.id, prod, "half");
    assert!(db.catalog_create(&bad, &twice, &ev).await.is_err());
    assert!(db.catalog_by_name(org.id, "half").await.unwrap().is_none());
    let audit = db.audit_list(org.id, None, 10).await.unwrap();
    let creates = audit
        .items
        .iter()
        .filter(|e| e.action == "catalog.create")
        .count();
    assert_eq!(creates, 1);
}

async fn rename_replace_and_delete(db: &Db) {
    let (alice, org) = admin_of(db, "alice", "acme").await;
    let (_, other) = admin_of(db, "bob", "other").await;
    let prod = cluster(db, &alice, org.id, "prod").await;
    let ev = event(&alice, "catalog.update");
    let shop = db
        .catalog_create(
            &new_catalog(org.id, prod, "shop"),
            &[sealed("shop/db", "password", "k1")],
            &ev,
        )
        .await
        .unwrap();
    db.catalog_create(&new_catalog(org.id, prod, "blog"), &[], &ev)
        .await
        .unwrap();
    let taken = CatalogName::parse("blog").unwrap();
    let err = db
        .catalog_update_meta(org.id, shop.id, Some(&taken), None, &ev)
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Conflict { .. }), "{err:?}");
    let err = db
        .catalog_update_meta(other.id, shop.id, None, Some("x"), &ev)
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::NotFound { what: "catalog" }));
    let store = CatalogName::parse("store").unwrap();
    let renamed = db
        .catalog_update_meta(org.id, shop.id, Some(&store), Some("new words"), &ev)
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.description.as_str()),
        ("store", "new words")
    );

    let next = content(3, "{\"objects\":[1]}");
    let err = db
        .catalog_replace_content(org.id, shop.id, &next, &[], Some("stale"), &ev)
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Conflict { .. }), "{err:?}");
    let replaced = db
        .catalog_replace_content(
            org.id,
            shop.id,
            &next,
            &[sealed("shop/api", "token", "k1")],
            Some(&shop.content.snapshot),
            &ev,
        )
        .await
        .unwrap();
    assert_eq!(replaced.content, next);
    let values = db.catalog_secret_values(shop.id).await.unwrap();
    assert_eq!(values, [sealed("shop/api", "token", "k1")]);

    db.catalog_delete(org.id, shop.id, &ev).await.unwrap();
    assert!(db.catalog_by_name(org.id, "store").await.unwrap().is_none());
    assert!(db.catalog_secret_values(shop.id).await.unwrap().is_empty());
    let err = db.catalog_delete(org.id, shop.id, &ev).await.unwrap_err();
    assert!(matches!(err, DbError::NotFound { .. }));
}

async fn rotation_helpers_touch_only_old_keys(db: &Db) {
    let (alice, org) = admin_of(db, "alice", "acme").await;
    let prod = cluster(db, &alice, org.id, "prod").await;
    let values = [sealed("s/a", "k", "old"), sealed("s/b", "k", "new")];
    let shop = db
        .catalog_create(
            &new_catalog(org.id, prod, "shop"),
            &values,
            &event(&alice, "c"),
        )
        .await
        .unwrap();
    let stale = db.sealed_values_not_under("new", 100).await.unwrap();
    assert_eq!(stale, [(shop.id, values[0].clone())]);
    let resealed = SealedValue {
        key_id: "new".into(),
        ciphertext: "fresh".into(),
        ..values[0].clone()
    };
    assert!(
        db.sealed_value_replace(shop.id, "old", &resealed)
            .await
            .unwrap()
    );
    // A second re-seal (a concurrent start) changes nothing.
    assert!(
        !db.sealed_value_replace(shop.id, "old", &resealed)
            .await
            .unwrap()
    );
    assert!(
        db.sealed_values_not_under("new", 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.catalog_secret_values(shop.id).await.unwrap()[0],
        resealed
    );
}

async fn deleting_the_source_cluster_keeps_the_catalog(db: &Db) {
    let (alice, org) = admin_of(db, "alice", "acme").await;
    let prod = cluster(db, &alice, org.id, "prod").await;
    db.catalog_create(&new_catalog(org.id, prod, "shop"), &[], &event(&alice, "c"))
        .await
        .unwrap();
    db.cluster_delete(org.id, prod, &event(&alice, "cluster.delete"))
        .await
        .unwrap();
    let shop = db.catalog_by_name(org.id, "shop").await.unwrap().unwrap();
    assert_eq!(
        (shop.source_cluster_id, shop.source_cluster_name),
        (None, None)
    );
}
