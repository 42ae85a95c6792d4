//! Users, organizations, memberships and the last-admin rule.

use lapdev_db::{Db, DbError};
use lapdev_domain::Role;

use crate::{admin_of, event, org_name, user, username};

crate::backend_tests!(
    bootstrap_creates_the_first_admin_once,
    names_are_unique,
    memberships_and_roles,
    the_last_admin_stays,
    concurrent_demotions_keep_an_admin,
    pages_follow_creation_order,
    password_change_ends_other_sessions,
    an_organization_with_the_callers_role,
);

async fn bootstrap_creates_the_first_admin_once(db: &Db) {
    assert!(!db.has_users().await.unwrap());
    let (admin, org) = db
        .bootstrap_first_admin(&username("admin"), "h", &org_name("default"))
        .await
        .unwrap()
        .expect("first start creates the admin");
    assert!(db.has_users().await.unwrap());
    assert_eq!(
        db.membership_role(org.id, admin.id).await.unwrap(),
        Some(Role::Admin)
    );
    let again = db
        .bootstrap_first_admin(&username("other"), "h", &org_name("other"))
        .await
        .unwrap();
    assert!(again.is_none(), "second start does nothing");
    assert!(db.user_by_username("other").await.unwrap().is_none());
    let audit = db.audit_list(org.id, None, 10).await.unwrap();
    assert_eq!(audit.items.len(), 1);
    assert_eq!(audit.items[0].action, "organization.create");
    assert_eq!(audit.items[0].actor, None, "a system action");
}

async fn names_are_unique(db: &Db) {
    let (alice, _) = admin_of(db, "alice", "acme").await;
    assert!(matches!(
        db.user_create(&username("alice"), "h").await,
        Err(DbError::Conflict { what: "user" })
    ));
    assert!(matches!(
        db.organization_create(&org_name("acme"), alice.id, &event(&alice, "x"))
            .await,
        Err(DbError::Conflict {
            what: "organization"
        })
    ));
    let creds = db.user_credentials("alice").await.unwrap().unwrap();
    assert_eq!(creds.password_hash, "hash");
    assert!(
        !format!("{creds:?}").contains("hash\""),
        "Debug redacts the hash"
    );
}

async fn memberships_and_roles(db: &Db) {
    let (alice, acme) = admin_of(db, "alice", "acme").await;
    let bob = user(db, "bob").await;
    assert_eq!(db.membership_role(acme.id, bob.id).await.unwrap(), None);
    db.member_add_existing(acme.id, &bob, Role::Member, &event(&alice, "member.add"))
        .await
        .unwrap();
    assert!(matches!(
        db.member_add_existing(acme.id, &bob, Role::Admin, &event(&alice, "member.add"))
            .await,
        Err(DbError::Conflict { .. })
    ));
    let carol = db
        .member_add_new_user(
            acme.id,
            &username("carol"),
            "h",
            Role::Admin,
            &event(&alice, "member.add"),
        )
        .await
        .unwrap();
    assert_eq!(carol.role, Role::Admin);
    assert!(matches!(
        db.member_add_new_user(
            acme.id,
            &username("bob"),
            "h",
            Role::Member,
            &event(&alice, "member.add")
        )
        .await,
        Err(DbError::Conflict { what: "user" })
    ));
    let m = db
        .member_set_role(
            acme.id,
            bob.id,
            Role::Admin,
            &event(&alice, "member.set_role"),
        )
        .await
        .unwrap();
    assert_eq!(m.role, Role::Admin);
    let removed = db
        .member_remove(acme.id, bob.id, &event(&alice, "member.remove"))
        .await
        .unwrap();
    assert_eq!(removed.user.username.as_str(), "bob");
    assert!(matches!(
        db.member_remove(acme.id, bob.id, &event(&alice, "member.remove"))
            .await,
        Err(DbError::NotFound { what: "member" })
    ));
    let names: Vec<_> = db
        .members_list(acme.id, None, 10)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|m| format!("{}:{}", m.user.username, m.role))
        .collect();
    assert_eq!(names, ["alice:admin", "carol:admin"]);
}

async fn the_last_admin_stays(db: &Db) {
    let (alice, acme) = admin_of(db, "alice", "acme").await;
    let e = event(&alice, "x");
    assert!(matches!(
        db.member_set_role(acme.id, alice.id, Role::Member, &e)
            .await,
        Err(DbError::LastAdmin)
    ));
    assert!(matches!(
        db.member_remove(acme.id, alice.id, &e).await,
        Err(DbError::LastAdmin)
    ));
    // Promote-to-admin of the only admin is a no-op, not an error.
    db.member_set_role(acme.id, alice.id, Role::Admin, &e)
        .await
        .unwrap();
    let bob = user(db, "bob").await;
    db.member_add_existing(acme.id, &bob, Role::Admin, &e)
        .await
        .unwrap();
    db.member_set_role(acme.id, alice.id, Role::Member, &e)
        .await
        .unwrap();
    assert!(matches!(
        db.member_remove(acme.id, bob.id, &e).await,
        Err(DbError::LastAdmin)
    ));
}

async fn concurrent_demotions_keep_an_admin(db: &Db) {
    let (alice, acme) = admin_of(db, "alice", "acme").await;
    let bob = user(db, "bob").await;
    let e = event(&alice, "x");
    db.member_add_existing(acme.id, &bob, Role::Admin, &e)
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        db.member_set_role(acme.id, alice.id, Role::Member, &e),
        db.member_set_role(acme.id, bob.id, Role::Member, &e),
    );
    let ok = [a.is_ok(), b.is_ok()].iter().filter(|x| **x).count();
    assert_eq!(ok, 1, "exactly one demotion wins: {a:?} {b:?}");
    let admins = db
        .members_list(acme.id, None, 10)
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|m| m.role == Role::Admin)
        .count();
    assert_eq!(admins, 1);
}

async fn pages_follow_creation_order(db: &Db) {
    let (alice, _) = admin_of(db, "alice", "org-0").await;
    for i in 1..5 {
        db.organization_create(
            &org_name(&format!("org-{i}")),
            alice.id,
            &event(&alice, "x"),
        )
        .await
        .unwrap();
    }
    let mut seen = vec![];
    let mut cursor = None;
    loop {
        let page = db.organizations_of_user(alice.id, cursor, 2).await.unwrap();
        seen.extend(page.items.iter().map(|(o, _)| o.name.to_string()));
        if !page.has_more {
            break;
        }
        cursor = page.items.last().map(|(o, _)| o.id);
    }
    assert_eq!(seen, ["org-0", "org-1", "org-2", "org-3", "org-4"]);
}

async fn password_change_ends_other_sessions(db: &Db) {
    let (alice, acme) = admin_of(db, "alice", "acme").await;
    let now = jiff::Timestamp::now();
    let later = now + jiff::SignedDuration::from_hours(1);
    let mut ids = vec![];
    for i in 0..2 {
        let s = lapdev_db::NewSession {
            id: lapdev_domain::SessionId::new(),
            user_id: alice.id,
            secret_hash: format!("s{i}"),
            csrf_token: "c".into(),
            expires_at: later,
        };
        db.session_create(&s).await.unwrap();
        ids.push(s.id);
    }
    db.user_set_password(
        alice.id,
        "new",
        Some(ids[1]),
        &event(&alice, "user.change_password"),
    )
    .await
    .unwrap();
    assert!(db.session_by_hash("s0", now).await.unwrap().is_none());
    assert!(db.session_by_hash("s1", now).await.unwrap().is_some());
    assert_eq!(
        db.user_credentials("alice")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "new"
    );
    let audit = db.audit_list(acme.id, None, 1).await.unwrap();
    assert_eq!(audit.items[0].action, "user.change_password");
}

async fn an_organization_with_the_callers_role(db: &Db) {
    let (alice, acme) = admin_of(db, "alice", "acme").await;
    let bob = user(db, "bob").await;
    assert_eq!(
        db.organization_with_role("acme", alice.id).await.unwrap(),
        Some((acme.clone(), Some(Role::Admin)))
    );
    assert_eq!(
        db.organization_with_role("acme", bob.id).await.unwrap(),
        Some((acme, None)),
        "a non-member sees no role"
    );
    assert_eq!(
        db.organization_with_role("nope", alice.id).await.unwrap(),
        None
    );
}
