//! Dashboard login sessions. The cookie carries a random secret; only its
//! SHA-256 hash is stored, beside the session's CSRF token.

use jiff::Timestamp;
use lapdev_domain::{SessionId, UserId, Username};
use sqlx::any::AnyRow;

use crate::row::{get_parsed, get_string, get_ts, get_validated, millis};
use crate::{Db, DbResult, UserRecord, conflict_as};

#[derive(Clone)]
pub struct NewSession {
    pub id: SessionId,
    pub user_id: UserId,
    /// Hex SHA-256 of the cookie secret.
    pub secret_hash: String,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct SessionRecord {
    pub id: SessionId,
    pub user: UserRecord,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("id", &self.id)
            .field("user", &self.user)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

fn session_from_row(row: &AnyRow) -> DbResult<SessionRecord> {
    Ok(SessionRecord {
        id: get_parsed(row, "id")?,
        user: UserRecord {
            id: get_parsed(row, "user_id")?,
            username: get_validated(row, "username", Username::parse)?,
            created_at: get_ts(row, "user_created_at")?,
        },
        csrf_token: get_string(row, "csrf_token")?,
        created_at: get_ts(row, "created_at")?,
        expires_at: get_ts(row, "expires_at")?,
    })
}

impl Db {
    pub async fn session_create(&self, session: &NewSession) -> DbResult<()> {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, secret_hash, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(session.id.to_string())
        .bind(session.user_id.to_string())
        .bind(session.secret_hash.as_str())
        .bind(session.csrf_token.as_str())
        .bind(millis(crate::row::now()))
        .bind(millis(session.expires_at))
        .execute(self.pool())
        .await
        .map_err(conflict_as("session"))?;
        Ok(())
    }

    /// The unexpired session with this secret hash, and its user.
    pub async fn session_by_hash(
        &self,
        secret_hash: &str,
        now: Timestamp,
    ) -> DbResult<Option<SessionRecord>> {
        sqlx::query(
            "SELECT s.id, s.user_id, s.csrf_token, s.created_at, s.expires_at, u.username, \
             u.created_at AS user_created_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.secret_hash = $1 AND s.expires_at > $2",
        )
        .bind(secret_hash)
        .bind(millis(now))
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(session_from_row)
        .transpose()
    }

    pub async fn session_delete(&self, id: SessionId) -> DbResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Removes expired sessions; returns how many.
    pub async fn sessions_delete_expired(&self, now: Timestamp) -> DbResult<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(millis(now))
            .execute(self.pool())
            .await?
            .rows_affected())
    }
}
