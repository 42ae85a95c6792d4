//! Membership of users in organizations, with their role. Keeps the rule that
//! an organization always has at least one admin.

use jiff::Timestamp;
use lapdev_domain::{OrganizationId, Role, UserId, Username};
use sqlx::any::AnyRow;

use crate::audit::{self, NewAuditEvent};
use crate::row::{fetch_limit, get_parsed, get_ts, millis, parsed};
use crate::users::{insert_user, user_from_row};
use crate::{Db, DbError, DbResult, Slice, UserRecord, conflict_as};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub user: UserRecord,
    pub role: Role,
    pub joined_at: Timestamp,
}

macro_rules! member_select {
    ($rest:literal) => {
        concat!(
            "SELECT u.id, u.username, u.created_at, m.role, m.joined_at \
             FROM memberships m JOIN users u ON u.id = m.user_id ",
            $rest
        )
    };
}

fn member_from_row(row: &AnyRow) -> DbResult<MemberRecord> {
    Ok(MemberRecord {
        user: user_from_row(row)?,
        role: get_parsed(row, "role")?,
        joined_at: get_ts(row, "joined_at")?,
    })
}

/// Takes the organization's row lock (PostgreSQL) / the write lock (SQLite),
/// so membership changes of one organization are serialised, and fails with
/// `NotFound` if the organization is gone.
async fn lock_members(conn: &mut sqlx::AnyConnection, org: OrganizationId) -> DbResult<()> {
    let n =
        sqlx::query("UPDATE organizations SET members_version = members_version + 1 WHERE id = $1")
            .bind(org.to_string())
            .execute(conn)
            .await?
            .rows_affected();
    if n == 0 {
        return Err(DbError::NotFound {
            what: "organization",
        });
    }
    Ok(())
}

/// Inserts the membership row; `Conflict` if `user` is already a member.
pub(crate) async fn insert_membership(
    conn: &mut sqlx::AnyConnection,
    org: OrganizationId,
    user: UserId,
    role: Role,
    joined_at: Timestamp,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO memberships (organization_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(org.to_string())
    .bind(user.to_string())
    .bind(role.as_str())
    .bind(millis(joined_at))
    .execute(conn)
    .await
    .map_err(conflict_as("membership"))?;
    Ok(())
}

/// Adds `user` to `org` (already locked) and audits it.
async fn add_in(
    conn: &mut sqlx::AnyConnection,
    org: OrganizationId,
    user: UserRecord,
    role: Role,
    event: &NewAuditEvent,
) -> DbResult<MemberRecord> {
    let joined_at = crate::row::now();
    insert_membership(&mut *conn, org, user.id, role, joined_at).await?;
    audit::insert(&mut *conn, org, &event.clone().with_object_id(user.id)).await?;
    Ok(MemberRecord {
        user,
        role,
        joined_at,
    })
}

async fn member_in(
    conn: &mut sqlx::AnyConnection,
    org: OrganizationId,
    user: UserId,
) -> DbResult<Option<MemberRecord>> {
    sqlx::query(member_select!(
        "WHERE m.organization_id = $1 AND m.user_id = $2"
    ))
    .bind(org.to_string())
    .bind(user.to_string())
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(member_from_row)
    .transpose()
}

async fn admin_count(conn: &mut sqlx::AnyConnection, org: OrganizationId) -> DbResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships WHERE organization_id = $1 AND role = 'admin'",
    )
    .bind(org.to_string())
    .fetch_one(conn)
    .await?)
}

impl Db {
    /// The user's role in the organization, if they are a member.
    pub async fn membership_role(
        &self,
        org: OrganizationId,
        user: UserId,
    ) -> DbResult<Option<Role>> {
        let role: Option<String> = sqlx::query_scalar(
            "SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2",
        )
        .bind(org.to_string())
        .bind(user.to_string())
        .fetch_optional(self.pool())
        .await?;
        role.map(|r| parsed("role", r)).transpose()
    }

    pub async fn member_get(
        &self,
        org: OrganizationId,
        user: UserId,
    ) -> DbResult<Option<MemberRecord>> {
        let mut conn = self.pool().acquire().await?;
        member_in(&mut conn, org, user).await
    }

    /// Members in the order their users were created, after `after`.
    pub async fn members_list(
        &self,
        org: OrganizationId,
        after: Option<UserId>,
        limit: u32,
    ) -> DbResult<Slice<MemberRecord>> {
        let rows = sqlx::query(member_select!(
            "WHERE m.organization_id = $1 AND m.user_id > $2 ORDER BY m.user_id LIMIT $3"
        ))
        .bind(org.to_string())
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(fetch_limit(limit))
        .fetch_all(self.pool())
        .await?;
        Slice::from_rows(&rows, limit, member_from_row)
    }

    /// Adds an existing user. `Conflict` if they are already a member.
    pub async fn member_add_existing(
        &self,
        org: OrganizationId,
        user: &UserRecord,
        role: Role,
        event: &NewAuditEvent,
    ) -> DbResult<MemberRecord> {
        let mut tx = self.pool().begin().await?;
        lock_members(&mut tx, org).await?;
        let member = add_in(&mut tx, org, user.clone(), role, event).await?;
        tx.commit().await?;
        Ok(member)
    }

    /// Creates a user and adds them. `Conflict` if the username is taken.
    pub async fn member_add_new_user(
        &self,
        org: OrganizationId,
        username: &Username,
        password_hash: &str,
        role: Role,
        event: &NewAuditEvent,
    ) -> DbResult<MemberRecord> {
        let mut tx = self.pool().begin().await?;
        lock_members(&mut tx, org).await?;
        let user = insert_user(&mut tx, username, password_hash).await?;
        let member = add_in(&mut tx, org, user, role, event).await?;
        tx.commit().await?;
        Ok(member)
    }

    /// Changes a member's role. `LastAdmin` if that would leave no admin.
    pub async fn member_set_role(
        &self,
        org: OrganizationId,
        user: UserId,
        role: Role,
        event: &NewAuditEvent,
    ) -> DbResult<MemberRecord> {
        let mut tx = self.pool().begin().await?;
        lock_members(&mut tx, org).await?;
        let Some(current) = member_in(&mut tx, org, user).await? else {
            return Err(DbError::NotFound { what: "member" });
        };
        if current.role == Role::Admin
            && role != Role::Admin
            && admin_count(&mut tx, org).await? <= 1
        {
            return Err(DbError::LastAdmin);
        }
        sqlx::query("UPDATE memberships SET role = $1 WHERE organization_id = $2 AND user_id = $3")
            .bind(role.as_str())
            .bind(org.to_string())
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        let event = event
            .clone()
            .with_object_id(user)
            .with_object_name(current.user.username.as_str())
            .with_details(
                serde_json::json!({ "from": current.role.as_str(), "to": role.as_str() }),
            );
        audit::insert(&mut tx, org, &event).await?;
        tx.commit().await?;
        Ok(MemberRecord { role, ..current })
    }

    /// Removes a member. `LastAdmin` if they are the only admin.
    pub async fn member_remove(
        &self,
        org: OrganizationId,
        user: UserId,
        event: &NewAuditEvent,
    ) -> DbResult<MemberRecord> {
        let mut tx = self.pool().begin().await?;
        lock_members(&mut tx, org).await?;
        let Some(current) = member_in(&mut tx, org, user).await? else {
            return Err(DbError::NotFound { what: "member" });
        };
        if current.role == Role::Admin && admin_count(&mut tx, org).await? <= 1 {
            return Err(DbError::LastAdmin);
        }
        sqlx::query("DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2")
            .bind(org.to_string())
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        let event = event
            .clone()
            .with_object_id(user)
            .with_object_name(current.user.username.as_str())
            .with_details(serde_json::json!({ "role": current.role.as_str() }));
        audit::insert(&mut tx, org, &event).await?;
        tx.commit().await?;
        Ok(current)
    }
}
