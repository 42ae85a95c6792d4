//! Cluster tokens: what kube-manager authenticates its tunnel with. Only a
//! SHA-256 hash of the secret is stored and lookup is by that hash, as for
//! API tokens. Rotation keeps the old token working until its `retires_at`
//! (the grace period, decided by the caller) or until the new token is
//! first used; revocation deletes every token of the cluster.

use jiff::Timestamp;
use lapdev_domain::{ClusterId, ClusterTokenId, OrganizationId};
use sqlx::any::AnyRow;

use crate::audit::{self, NewAuditEvent};
use crate::clusters::{self, ClusterRecord, cluster_by_id_in, cluster_from_row};
use crate::row::{get_opt_ts, get_parsed, get_string, get_ts, millis};
use crate::{Db, DbResult, conflict_as};

/// A token to store. `secret_hash` is the hex SHA-256 of the secret.
#[derive(Clone)]
pub struct NewClusterToken {
    pub id: ClusterTokenId,
    pub prefix: String,
    pub secret_hash: String,
}

impl std::fmt::Debug for NewClusterToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewClusterToken")
            .field("id", &self.id)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterTokenRecord {
    pub id: ClusterTokenId,
    pub cluster_id: ClusterId,
    pub prefix: String,
    pub created_at: Timestamp,
    /// `None` for the current token; set on a rotated-out one.
    pub retires_at: Option<Timestamp>,
}

fn token_from_row(row: &AnyRow) -> DbResult<ClusterTokenRecord> {
    Ok(ClusterTokenRecord {
        id: get_parsed(row, "token_id")?,
        cluster_id: get_parsed(row, "id")?,
        prefix: get_string(row, "prefix")?,
        created_at: get_ts(row, "token_created_at")?,
        retires_at: get_opt_ts(row, "retires_at")?,
    })
}

pub(crate) async fn insert(
    conn: &mut sqlx::AnyConnection,
    cluster: ClusterId,
    token: &NewClusterToken,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO cluster_tokens (id, cluster_id, prefix, secret_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token.id.to_string())
    .bind(cluster.to_string())
    .bind(token.prefix.as_str())
    .bind(token.secret_hash.as_str())
    .bind(millis(crate::row::now()))
    .execute(conn)
    .await
    .map_err(conflict_as("cluster token"))?;
    Ok(())
}

impl Db {
    /// The cluster whose token has this hash, if the token is current or
    /// still in its grace period at `now`.
    pub async fn cluster_by_token_hash(
        &self,
        secret_hash: &str,
        now: Timestamp,
    ) -> DbResult<Option<(ClusterRecord, ClusterTokenRecord)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {}, t.id AS token_id, t.prefix, t.created_at AS token_created_at, \
             t.retires_at FROM cluster_tokens t JOIN clusters c ON c.id = t.cluster_id \
             WHERE t.secret_hash = $1 AND (t.retires_at IS NULL OR t.retires_at > $2)",
            crate::clusters::COLUMNS
        )))
        .bind(secret_hash)
        .bind(millis(now))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((cluster_from_row(&row)?, token_from_row(&row)?)))
    }

    /// Replaces the current token with `token`; the previous current token
    /// keeps working until `old_retires_at`. Tokens already retiring keep
    /// their own deadline. Audited.
    pub async fn cluster_token_rotate(
        &self,
        org: OrganizationId,
        id: ClusterId,
        token: &NewClusterToken,
        old_retires_at: Timestamp,
        event: &NewAuditEvent,
    ) -> DbResult<ClusterRecord> {
        let mut tx = self.pool().begin().await?;
        clusters::lock_in(&mut tx, org, id).await?;
        sqlx::query(
            "UPDATE cluster_tokens SET retires_at = $1 WHERE cluster_id = $2 AND retires_at IS NULL",
        )
        .bind(millis(old_retires_at))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        insert(&mut tx, id, token).await?;
        let cluster = cluster_by_id_in(&mut tx, id).await?;
        audit::insert_about(&mut tx, org, event, id, cluster.name.as_str()).await?;
        tx.commit().await?;
        Ok(cluster)
    }

    /// Deletes every token of the cluster (current and retiring); returns
    /// how many there were. Audited.
    pub async fn cluster_token_revoke(
        &self,
        org: OrganizationId,
        id: ClusterId,
        event: &NewAuditEvent,
    ) -> DbResult<u64> {
        let mut tx = self.pool().begin().await?;
        clusters::lock_in(&mut tx, org, id).await?;
        let revoked = sqlx::query("DELETE FROM cluster_tokens WHERE cluster_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let cluster = cluster_by_id_in(&mut tx, id).await?;
        audit::insert_about(&mut tx, org, event, id, cluster.name.as_str()).await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// Whether the token still exists and has not retired at `now` (checked
    /// again once a tunnel is registered, closing the race with a
    /// revocation that happened during its handshake).
    pub async fn cluster_token_is_valid(
        &self,
        id: ClusterTokenId,
        now: Timestamp,
    ) -> DbResult<bool> {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT id FROM cluster_tokens WHERE id = $1 AND (retires_at IS NULL OR retires_at > $2)",
        )
        .bind(id.to_string())
        .bind(millis(now))
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    /// Ends the grace period of the cluster's retiring tokens once its
    /// current token (`current`) is used: deletes the others. Returns how
    /// many were deleted (0 when `current` is itself a retiring token).
    pub async fn cluster_token_retire_others(
        &self,
        cluster: ClusterId,
        current: ClusterTokenId,
    ) -> DbResult<u64> {
        let deleted = sqlx::query(
            "DELETE FROM cluster_tokens WHERE cluster_id = $1 AND id <> $2 \
             AND EXISTS (SELECT 1 FROM cluster_tokens cur WHERE cur.id = $2 \
             AND cur.retires_at IS NULL)",
        )
        .bind(cluster.to_string())
        .bind(current.to_string())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(deleted)
    }
}
