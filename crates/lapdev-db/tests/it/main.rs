//! The datastore test suite. Every behaviour is one `async fn(&Db)` run on
//! both backends: `backend_tests!` generates `sqlite::NAME` and
//! `postgres::NAME` for each (PostgreSQL: see `lapdev_db::testing`).

mod audit;
mod catalogs;
mod clusters;
mod environments;
mod identity;
mod tokens_sessions;

use lapdev_db::{Actor, Db, NewAuditEvent, OrganizationRecord, UserRecord};
use lapdev_domain::{OrganizationName, Username};

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
