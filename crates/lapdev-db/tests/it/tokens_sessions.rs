//! API tokens and dashboard sessions.

use jiff::{SignedDuration, Timestamp};
use lapdev_db::{Db, DbError, NewApiToken, NewSession};
use lapdev_domain::{ApiTokenId, SessionId, TokenName};

use crate::{admin_of, event, user};

#[tokio::test]
async fn data_dirs_with_odd_characters_work() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a dir?with#odd%25chars");
    let db = Db::open_sqlite_in(&data).await.unwrap();
    db.ping().await.unwrap();
    db.close().await;
    assert!(data.join(lapdev_db::SQLITE_FILE_NAME).exists());
}

crate::backend_tests!(
    tokens_are_found_by_hash_and_revoked_by_owner,
    token_events_are_audited_in_every_organization,
    sessions_expire,
    migrations_run_once_on_reconnect,
);

fn new_token(user: lapdev_domain::UserId, hash: &str) -> NewApiToken {
    NewApiToken {
        id: ApiTokenId::new(),
        user_id: user,
        name: TokenName::parse("laptop").unwrap(),
        prefix: "lpd_abc".into(),
        secret_hash: hash.into(),
        expires_at: None,
    }
}

async fn tokens_are_found_by_hash_and_revoked_by_owner(db: &Db) {
    let alice = user(db, "alice").await;
    let bob = user(db, "bob").await;
    let t = db
        .token_create(&new_token(alice.id, "h1"), &event(&alice, "token.create"))
        .await
        .unwrap();
    let (found, owner) = db.token_by_hash("h1").await.unwrap().unwrap();
    assert_eq!(found, t);
    assert_eq!(owner, alice);
    assert!(db.token_by_hash("h2").await.unwrap().is_none());
    assert_eq!(db.token_owner(t.id).await.unwrap(), Some(alice.id));

    let now = Timestamp::now();
    db.token_touch(t.id, now, 60_000).await.unwrap();
    let used = db
        .token_by_hash("h1")
        .await
        .unwrap()
        .unwrap()
        .0
        .last_used_at;
    assert_eq!(used.map(|u| u.as_millisecond()), Some(now.as_millisecond()));
    // Within the granularity: not written again.
    db.token_touch(t.id, now + SignedDuration::from_secs(1), 60_000)
        .await
        .unwrap();
    let used2 = db
        .token_by_hash("h1")
        .await
        .unwrap()
        .unwrap()
        .0
        .last_used_at;
    assert_eq!(used, used2);

    assert!(matches!(
        db.token_revoke(bob.id, t.id, &event(&bob, "token.revoke"))
            .await,
        Err(DbError::NotFound { what: "token" })
    ));
    db.token_revoke(alice.id, t.id, &event(&alice, "token.revoke"))
        .await
        .unwrap();
    assert!(db.token_by_hash("h1").await.unwrap().is_none());
    assert!(
        db.tokens_of_user(alice.id, None, 10)
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

async fn token_events_are_audited_in_every_organization(db: &Db) {
    let (alice, acme) = admin_of(db, "alice", "acme").await;
    let globex = db
        .organization_create(
            &crate::org_name("globex"),
            alice.id,
            &event(&alice, "organization.create"),
        )
        .await
        .unwrap();
    let t = db
        .token_create(&new_token(alice.id, "h"), &event(&alice, "token.create"))
        .await
        .unwrap();
    for org in [acme.id, globex.id] {
        let latest = &db.audit_list(org, None, 1).await.unwrap().items[0];
        assert_eq!(latest.action, "token.create");
        assert_eq!(latest.object_id, t.id.to_string());
        assert_eq!(latest.object_name.as_deref(), Some("laptop"));
    }
}

async fn sessions_expire(db: &Db) {
    let alice = user(db, "alice").await;
    let now = Timestamp::now();
    let s = NewSession {
        id: SessionId::new(),
        user_id: alice.id,
        secret_hash: "sh".into(),
        csrf_token: "csrf".into(),
        expires_at: now + SignedDuration::from_secs(60),
    };
    db.session_create(&s).await.unwrap();
    let found = db.session_by_hash("sh", now).await.unwrap().unwrap();
    assert_eq!(found.user, alice);
    assert_eq!(found.csrf_token, "csrf");
    let after = now + SignedDuration::from_secs(61);
    assert!(db.session_by_hash("sh", after).await.unwrap().is_none());
    assert_eq!(db.sessions_delete_expired(after).await.unwrap(), 1);
    db.session_delete(s.id).await.unwrap();
}

async fn migrations_run_once_on_reconnect(db: &Db) {
    db.ping().await.unwrap();
    // Creating the same schema again would fail; a second migrator run must not.
    let (alice, _) = admin_of(db, "alice", "acme").await;
    assert_eq!(db.user_by_id(alice.id).await.unwrap(), Some(alice));
}
