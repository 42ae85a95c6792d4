//! The datastore test suite. Every behaviour is one `async fn(&Db)` run on
//! both backends: `backend_tests!` generates `sqlite::NAME` and
//! `postgres::NAME` for each (PostgreSQL: see `lapdev_db::testing`).

mod audit;
mod catalogs;
mod clusters;
mod environments;
mod identity;
mod tokens_sessions;

use lapdev_db::{
    Actor, Db, NewAuditEvent, NewCluster, NewClusterToken, OrganizationRecord, SealedValue,
    UserRecord,
};
use lapdev_domain::{
    ClusterId, ClusterName, ClusterPermissions, ClusterRoles, ClusterTokenId, OrganizationId,
    OrganizationName, Username,
};

/// Generates one `#[tokio::test]` per backend for each listed test body.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let t = lapdev_db::testing::TestDatabase::sqlite().await;
                    super::$name(&t.db).await;
                    t.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(t) = lapdev_db::testing::TestDatabase::postgres().await else {
                        eprintln!("skipped: LAPDEV_TEST_SKIP_POSTGRES=1");
                        return;
                    };
                    super::$name(&t.db).await;
                    t.cleanup().await;
                }
            )*
        }
    };
}

pub(crate) fn username(s: &str) -> Username {
    Username::parse(s).unwrap()
}

pub(crate) fn org_name(s: &str) -> OrganizationName {
    OrganizationName::parse(s).unwrap()
}

pub(crate) fn actor(u: &UserRecord) -> Actor {
    Actor {
        id: u.id,
        username: u.username.clone(),
    }
}

pub(crate) fn event(by: &UserRecord, action: &'static str) -> NewAuditEvent {
    NewAuditEvent::new(Some(actor(by)), action, "test")
}

pub(crate) async fn user(db: &Db, name: &str) -> UserRecord {
    db.user_create(&username(name), "hash").await.unwrap()
}

/// A user who is the admin of a new organization.
pub(crate) async fn admin_of(
    db: &Db,
    user_name: &str,
    org: &str,
) -> (UserRecord, OrganizationRecord) {
    let u = user(db, user_name).await;
    let o = db
        .organization_create(&org_name(org), u.id, &event(&u, "organization.create"))
        .await
        .unwrap();
    (u, o)
}

/// A cluster named `name` in `org`, created by `by`, with both roles and
/// every permission.
pub(crate) async fn cluster(
    db: &Db,
    by: &UserRecord,
    org: OrganizationId,
    name: &str,
) -> ClusterId {
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

/// A sealed value of key `key` of Secret `object`, sealed with `key_id`.
pub(crate) fn sealed(object: &str, key: &str, key_id: &str) -> SealedValue {
    SealedValue {
        object: object.into(),
        field: "data".into(),
        key: key.into(),
        key_id: key_id.into(),
        nonce: "bm9uY2U=".into(),
        ciphertext: format!("ct-{object}-{key}"),
    }
}
