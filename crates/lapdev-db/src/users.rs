//! User accounts and their password hashes (hashing itself is the server's job).

use jiff::Timestamp;
use lapdev_domain::{UserId, Username};
use sqlx::any::AnyRow;

use crate::audit::{self, NewAuditEvent};
use crate::organizations::{OrganizationRecord, insert_organization};
use crate::row::{get_parsed, get_string, get_ts, get_validated, millis};
use crate::{Db, DbError, DbResult, conflict_as};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub username: Username,
    pub created_at: Timestamp,
}

/// A user with the stored password hash, for sign-in only.
#[derive(Clone)]
pub struct UserWithPassword {
    pub user: UserRecord,
    pub password_hash: String,
}

impl std::fmt::Debug for UserWithPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserWithPassword")
            .field("user", &self.user)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

pub(crate) fn user_from_row(row: &AnyRow) -> DbResult<UserRecord> {
    Ok(UserRecord {
        id: get_parsed(row, "id")?,
        username: get_validated(row, "username", Username::parse)?,
        created_at: get_ts(row, "created_at")?,
    })
}

pub(crate) async fn insert_user(
    conn: &mut sqlx::AnyConnection,
    username: &Username,
    password_hash: &str,
) -> DbResult<UserRecord> {
    let user = UserRecord {
        id: UserId::new(),
        username: username.clone(),
        created_at: crate::row::now(),
    };
    sqlx::query(
        "INSERT INTO users (id, username, password_hash, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(user.id.to_string())
    .bind(user.username.as_str())
    .bind(password_hash)
    .bind(millis(user.created_at))
    .execute(conn)
    .await
    .map_err(conflict_as("user"))?;
    Ok(user)
}

impl Db {
    /// On an empty database, creates the first admin and the first
    /// organization (audited as a system action); otherwise does nothing and
    /// returns `None`.
    pub async fn bootstrap_first_admin(
        &self,
        username: &Username,
        password_hash: &str,
        organization: &lapdev_domain::OrganizationName,
    ) -> DbResult<Option<(UserRecord, OrganizationRecord)>> {
        let mut tx = self.pool().begin().await?;
        // Write first (see the crate docs), then check we were alone.
        let user = match insert_user(&mut tx, username, password_hash).await {
            Ok(user) => user,
            Err(DbError::Conflict { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&mut *tx)
            .await?;
        if users != 1 {
            return Ok(None); // dropped: rolled back
        }
        let event = NewAuditEvent::new(None, "organization.create", "organization")
            .with_object_name(organization.as_str())
            .with_details(serde_json::json!({ "first_admin": username.as_str() }));
        let org = insert_organization(&mut tx, organization, user.id, &event).await?;
        tx.commit().await?;
        Ok(Some((user, org)))
    }

    /// Creates a user who belongs to no organization yet.
    pub async fn user_create(
        &self,
        username: &Username,
        password_hash: &str,
    ) -> DbResult<UserRecord> {
        let mut conn = self.pool().acquire().await?;
        insert_user(&mut conn, username, password_hash).await
    }

    pub async fn user_by_id(&self, id: UserId) -> DbResult<Option<UserRecord>> {
        sqlx::query("SELECT id, username, created_at FROM users WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    pub async fn user_by_username(&self, username: &str) -> DbResult<Option<UserRecord>> {
        sqlx::query("SELECT id, username, created_at FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    /// The user and password hash, for sign-in.
    pub async fn user_credentials(&self, username: &str) -> DbResult<Option<UserWithPassword>> {
        sqlx::query("SELECT id, username, created_at, password_hash FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(|row| {
                Ok(UserWithPassword {
                    user: user_from_row(row)?,
                    password_hash: get_string(row, "password_hash")?,
                })
            })
            .transpose()
    }

    pub async fn user_password_hash(&self, id: UserId) -> DbResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Replaces the password hash, ends the user's other dashboard sessions
    /// (all of them when `keep_session` is `None`), and audits the change in
    /// each of the user's organizations.
    pub async fn user_set_password(
        &self,
        id: UserId,
        password_hash: &str,
        keep_session: Option<lapdev_domain::SessionId>,
        event: &NewAuditEvent,
    ) -> DbResult<()> {
        let mut tx = self.pool().begin().await?;
        let updated = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if updated == 0 {
            return Err(DbError::NotFound { what: "user" });
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(id.to_string())
            .bind(keep_session.map(|s| s.to_string()).unwrap_or_default())
            .execute(&mut *tx)
            .await?;
        audit::insert_for_user_orgs(&mut tx, id, event).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Db {
    /// Whether any user exists (the first start creates one).
    pub async fn has_users(&self) -> DbResult<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) t")
            .fetch_one(self.pool())
            .await?;
        Ok(n > 0)
    }
}
