//! The audit log: newest first, paginated, per organization.

use lapdev_db::Db;

use crate::{admin_of, event};

crate::backend_tests!(audit_is_newest_first_and_per_organization);

async fn audit_is_newest_first_and_per_organization(db: &Db) {
    let (alice, acme) = admin_of(db, "alice", "acme").await;
    let (bob, other) = admin_of(db, "bob", "other").await;
    for i in 0..4 {
        let name = format!("u{i}");
        db.member_add_new_user(
            acme.id,
            &crate::username(&name),
            "h",
            lapdev_domain::Role::Member,
            &event(&alice, "member.add").with_object_name(name.clone()),
        )
        .await
        .unwrap();
    }
    let mut names = vec![];
    let mut cursor = None;
    loop {
        let page = db.audit_list(acme.id, cursor, 2).await.unwrap();
        names.extend(
            page.items
                .iter()
                .map(|e| format!("{} {}", e.action, e.object_name.clone().unwrap_or_default())),
        );
        if !page.has_more {
            break;
        }
        cursor = page.items.last().map(|e| e.id);
    }
    assert_eq!(
        names,
        [
            "member.add u3",
            "member.add u2",
            "member.add u1",
            "member.add u0",
            "organization.create ",
        ]
    );
    let theirs = db.audit_list(other.id, None, 10).await.unwrap();
    assert_eq!(
        theirs.items.len(),
        1,
        "other organizations' events are separate"
    );
    assert_eq!(theirs.items[0].actor.as_ref().unwrap().id, bob.id);
    let first = &db.audit_list(acme.id, None, 1).await.unwrap().items[0];
    assert_eq!(first.actor.as_ref().unwrap().username.as_str(), "alice");
    assert!(first.details.is_object());
}
