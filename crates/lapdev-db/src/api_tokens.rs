//! Personal API tokens. Only a SHA-256 hash of the secret is stored; lookup is
//! by that hash, so comparing secrets never happens byte by byte in Rust.

use jiff::Timestamp;
use lapdev_domain::{ApiTokenId, TokenName, UserId};
use sqlx::any::AnyRow;

use crate::audit::{self, NewAuditEvent};
use crate::row::{
    fetch_limit, get_opt_ts, get_parsed, get_string, get_ts, get_validated, millis, parsed,
};
use crate::{Db, DbResult, Slice, UserRecord, conflict_as, lock_owned};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: ApiTokenId,
    pub user_id: UserId,
    pub name: TokenName,
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
}

/// A token to store. `secret_hash` is the hex SHA-256 of the secret.
#[derive(Clone)]
pub struct NewApiToken {
    pub id: ApiTokenId,
    pub user_id: UserId,
    pub name: TokenName,
    pub prefix: String,
    pub secret_hash: String,
    pub expires_at: Option<Timestamp>,
}

impl std::fmt::Debug for NewApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiToken")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .field("prefix", &self.prefix)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str =
    "t.id, t.user_id, t.name, t.prefix, t.created_at, t.last_used_at, t.expires_at";

fn token_from_row(row: &AnyRow) -> DbResult<TokenRecord> {
    Ok(TokenRecord {
        id: get_parsed(row, "id")?,
        user_id: get_parsed(row, "user_id")?,
        name: get_validated(row, "name", TokenName::parse)?,
        prefix: get_string(row, "prefix")?,
        created_at: get_ts(row, "created_at")?,
        last_used_at: get_opt_ts(row, "last_used_at")?,
        expires_at: get_opt_ts(row, "expires_at")?,
    })
}

impl Db {
    /// Stores a token and audits its creation in each of the user's organizations.
    pub async fn token_create(
        &self,
        token: &NewApiToken,
        event: &NewAuditEvent,
    ) -> DbResult<TokenRecord> {
        let record = TokenRecord {
            id: token.id,
            user_id: token.user_id,
            name: token.name.clone(),
            prefix: token.prefix.clone(),
            created_at: crate::row::now(),
            last_used_at: None,
            expires_at: token.expires_at.map(crate::row::truncate),
        };
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, prefix, secret_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(record.id.to_string())
        .bind(record.user_id.to_string())
        .bind(record.name.as_str())
        .bind(record.prefix.as_str())
        .bind(token.secret_hash.as_str())
        .bind(millis(record.created_at))
        .bind(record.expires_at.map(millis))
        .execute(&mut *tx)
        .await
        .map_err(conflict_as("token"))?;
        let event = event
            .clone()
            .with_object_id(record.id)
            .with_object_name(record.name.as_str());
        audit::insert_for_user_orgs(&mut tx, record.user_id, &event).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// The user's tokens in creation order, after `after`.
    pub async fn tokens_of_user(
        &self,
        user: UserId,
        after: Option<ApiTokenId>,
        limit: u32,
    ) -> DbResult<Slice<TokenRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_tokens t WHERE t.user_id = $1 AND t.id > $2 \
             ORDER BY t.id LIMIT $3"
        )))
        .bind(user.to_string())
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(fetch_limit(limit))
        .fetch_all(self.pool())
        .await?;
        Slice::from_rows(&rows, limit, token_from_row)
    }

    /// The token with this secret hash and its user, expired or not.
    pub async fn token_by_hash(
        &self,
        secret_hash: &str,
    ) -> DbResult<Option<(TokenRecord, UserRecord)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, u.username, u.created_at AS user_created_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = $1"
        )))
        .bind(secret_hash)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let token = token_from_row(&row)?;
        let user = UserRecord {
            id: token.user_id,
            username: get_validated(&row, "username", lapdev_domain::Username::parse)?,
            created_at: get_ts(&row, "user_created_at")?,
        };
        Ok(Some((token, user)))
    }

    /// Records a use of the token, at most once per `granularity` (a cheap
    /// conditional update; most requests write nothing).
    pub async fn token_touch(
        &self,
        id: ApiTokenId,
        now: Timestamp,
        granularity_ms: i64,
    ) -> DbResult<()> {
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 \
             AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(millis(now))
        .bind(id.to_string())
        .bind(millis(now) - granularity_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Deletes one of the user's tokens and audits it. `NotFound` when the
    /// token does not exist or belongs to someone else.
    pub async fn token_revoke(
        &self,
        user: UserId,
        id: ApiTokenId,
        event: &NewAuditEvent,
    ) -> DbResult<TokenRecord> {
        let mut tx = self.pool().begin().await?;
        lock_owned(&mut tx, "api_tokens", id, "user_id", user, "token").await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_tokens t WHERE t.id = $1"
        )))
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        let token = token_from_row(&row)?;
        sqlx::query("DELETE FROM api_tokens WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let event = event
            .clone()
            .with_object_id(token.id)
            .with_object_name(token.name.as_str());
        audit::insert_for_user_orgs(&mut tx, user, &event).await?;
        tx.commit().await?;
        Ok(token)
    }
}

impl Db {
    /// Who owns a token, if it exists.
    pub async fn token_owner(&self, id: ApiTokenId) -> DbResult<Option<UserId>> {
        let owner: Option<String> =
            sqlx::query_scalar("SELECT user_id FROM api_tokens WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(self.pool())
                .await?;
        owner.map(|o| parsed("user_id", o)).transpose()
    }
}
