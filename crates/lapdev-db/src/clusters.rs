//! Connected clusters: create (with their first token), list, look up,
//! change (name, roles, permissions), delete, and the facts the tunnel
//! records (last seen, status report). Every change made by a person is
//! audited in the same transaction.

use jiff::Timestamp;
use lapdev_domain::{ClusterId, ClusterName, ClusterPermissions, ClusterRoles, OrganizationId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, NewAuditEvent};
use crate::cluster_tokens::{self, NewClusterToken};
use crate::row::{
    bigint, fetch_limit, get_opt_ts, get_opt_u64, get_parsed, get_ts, get_validated, millis,
};
use crate::{Db, DbError, DbResult, Slice, conflict_as, lock_owned};

/// What kube-manager last reported about its cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterFacts {
    pub kube_manager_version: String,
    pub kubernetes_version: String,
    pub node_count: u32,
    pub allocatable_cpu_millis: u64,
    pub allocatable_memory_bytes: u64,
    pub reported_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterRecord {
    pub id: ClusterId,
    pub organization_id: OrganizationId,
    pub name: ClusterName,
    pub roles: ClusterRoles,
    pub permissions: ClusterPermissions,
    pub created_at: Timestamp,
    /// Last heartbeat written; `None`: never connected.
    pub last_seen_at: Option<Timestamp>,
    pub facts: Option<ClusterFacts>,
    /// Visible prefix of the current token; `None` after a revocation.
    pub token_prefix: Option<String>,
}

/// A cluster to create.
#[derive(Debug, Clone)]
pub struct NewCluster {
    pub id: ClusterId,
    pub organization_id: OrganizationId,
    pub name: ClusterName,
    pub roles: ClusterRoles,
    pub permissions: ClusterPermissions,
}

/// A change to a cluster's settings; `None` keeps the value.
#[derive(Debug, Clone, Default)]
pub struct ClusterChange {
    pub name: Option<ClusterName>,
    pub roles: Option<ClusterRoles>,
    pub permissions: Option<ClusterPermissions>,
}

pub(crate) const COLUMNS: &str = "c.id, c.organization_id, c.name, c.role_source, c.role_target, \
    c.allow_personal, c.allow_shared, c.created_at, c.last_seen_at, c.kube_manager_version, \
    c.kubernetes_version, c.node_count, c.allocatable_cpu_millis, c.allocatable_memory_bytes, \
    c.reported_at, \
    (SELECT t.prefix FROM cluster_tokens t WHERE t.cluster_id = c.id AND t.retires_at IS NULL) \
    AS token_prefix";

fn flag(row: &AnyRow, col: &'static str) -> DbResult<bool> {
    match row.try_get::<i64, _>(col)? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(DbError::Corrupt {
            what: col,
            value: other.to_string(),
        }),
    }
}

pub(crate) fn cluster_from_row(row: &AnyRow) -> DbResult<ClusterRecord> {
    let roles = ClusterRoles::new(flag(row, "role_source")?, flag(row, "role_target")?).ok_or(
        DbError::Corrupt {
            what: "roles",
            value: "none".into(),
        },
    )?;
    let facts = match get_opt_ts(row, "reported_at")? {
        None => None,
        Some(reported_at) => Some(ClusterFacts {
            kube_manager_version: row
                .try_get::<Option<String>, _>("kube_manager_version")?
                .unwrap_or_default(),
            kubernetes_version: row
                .try_get::<Option<String>, _>("kubernetes_version")?
                .unwrap_or_default(),
            node_count: get_opt_u64(row, "node_count")?
                .unwrap_or_default()
                .try_into()
                .unwrap_or(u32::MAX),
            allocatable_cpu_millis: get_opt_u64(row, "allocatable_cpu_millis")?.unwrap_or_default(),
            allocatable_memory_bytes: get_opt_u64(row, "allocatable_memory_bytes")?
                .unwrap_or_default(),
            reported_at,
        }),
    };
    Ok(ClusterRecord {
        id: get_parsed(row, "id")?,
        organization_id: get_parsed(row, "organization_id")?,
        name: get_validated(row, "name", ClusterName::parse)?,
        roles,
        permissions: ClusterPermissions {
            personal: flag(row, "allow_personal")?,
            shared: flag(row, "allow_shared")?,
        },
        created_at: get_ts(row, "created_at")?,
        last_seen_at: get_opt_ts(row, "last_seen_at")?,
        facts,
        token_prefix: row.try_get("token_prefix")?,
    })
}

fn bit(b: bool) -> i64 {
    i64::from(b)
}

pub(crate) async fn cluster_by_id_in(
    conn: &mut sqlx::AnyConnection,
    id: ClusterId,
) -> DbResult<ClusterRecord> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM clusters c WHERE c.id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(DbError::NotFound { what: "cluster" })?;
    cluster_from_row(&row)
}

/// Takes the cluster's row lock first (see the crate docs); `NotFound`
/// unless it belongs to `org`.
pub(crate) async fn lock_in(
    conn: &mut sqlx::AnyConnection,
    org: OrganizationId,
    id: ClusterId,
) -> DbResult<()> {
    lock_owned(conn, "clusters", id, "organization_id", org, "cluster").await
}

impl Db {
    /// Creates a cluster with its first token, and audits it.
    pub async fn cluster_create(
        &self,
        cluster: &NewCluster,
        token: &NewClusterToken,
        event: &NewAuditEvent,
    ) -> DbResult<ClusterRecord> {
        let record = ClusterRecord {
            id: cluster.id,
            organization_id: cluster.organization_id,
            name: cluster.name.clone(),
            roles: cluster.roles,
            permissions: cluster.permissions,
            created_at: crate::row::now(),
            last_seen_at: None,
            facts: None,
            token_prefix: Some(token.prefix.clone()),
        };
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO clusters (id, organization_id, name, role_source, role_target, \
             allow_personal, allow_shared, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(cluster.id.to_string())
        .bind(cluster.organization_id.to_string())
        .bind(cluster.name.as_str())
        .bind(bit(cluster.roles.source()))
        .bind(bit(cluster.roles.target()))
        .bind(bit(cluster.permissions.personal))
        .bind(bit(cluster.permissions.shared))
        .bind(millis(record.created_at))
        .execute(&mut *tx)
        .await
        .map_err(conflict_as("cluster"))?;
        cluster_tokens::insert(&mut tx, cluster.id, token).await?;
        audit::insert_about(
            &mut tx,
            cluster.organization_id,
            event,
            cluster.id,
            cluster.name.as_str(),
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// The organization's clusters in creation order, after `after`.
    pub async fn clusters_list(
        &self,
        org: OrganizationId,
        after: Option<ClusterId>,
        limit: u32,
    ) -> DbResult<Slice<ClusterRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM clusters c WHERE c.organization_id = $1 AND c.id > $2 \
             ORDER BY c.id LIMIT $3"
        )))
        .bind(org.to_string())
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(fetch_limit(limit))
        .fetch_all(self.pool())
        .await?;
        Slice::from_rows(&rows, limit, cluster_from_row)
    }

    pub async fn cluster_by_name(
        &self,
        org: OrganizationId,
        name: &str,
    ) -> DbResult<Option<ClusterRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM clusters c WHERE c.organization_id = $1 AND c.name = $2"
        )))
        .bind(org.to_string())
        .bind(name)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(cluster_from_row)
        .transpose()
    }

    pub async fn cluster_by_id(&self, id: ClusterId) -> DbResult<Option<ClusterRecord>> {
        let mut conn = self.pool().acquire().await?;
        match cluster_by_id_in(&mut conn, id).await {
            Ok(c) => Ok(Some(c)),
            Err(DbError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Changes name, roles or permissions of a cluster of `org`, and audits
    /// it (the event's details say what changed).
    pub async fn cluster_update(
        &self,
        org: OrganizationId,
        id: ClusterId,
        change: &ClusterChange,
        event: &NewAuditEvent,
    ) -> DbResult<ClusterRecord> {
        let mut tx = self.pool().begin().await?;
        lock_in(&mut tx, org, id).await?;
        let before = cluster_by_id_in(&mut tx, id).await?;
        let after = ClusterRecord {
            name: change.name.clone().unwrap_or(before.name),
            roles: change.roles.unwrap_or(before.roles),
            permissions: change.permissions.unwrap_or(before.permissions),
            ..before
        };
        sqlx::query(
            "UPDATE clusters SET name = $1, role_source = $2, role_target = $3, \
             allow_personal = $4, allow_shared = $5 WHERE id = $6",
        )
        .bind(after.name.as_str())
        .bind(bit(after.roles.source()))
        .bind(bit(after.roles.target()))
        .bind(bit(after.permissions.personal))
        .bind(bit(after.permissions.shared))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(conflict_as("cluster"))?;
        audit::insert_about(&mut tx, org, event, id, after.name.as_str()).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a cluster of `org` (its tokens go with it), and audits it.
    pub async fn cluster_delete(
        &self,
        org: OrganizationId,
        id: ClusterId,
        event: &NewAuditEvent,
    ) -> DbResult<ClusterRecord> {
        let mut tx = self.pool().begin().await?;
        lock_in(&mut tx, org, id).await?;
        let cluster = cluster_by_id_in(&mut tx, id).await?;
        // The foreign keys do the rest (sqlx turns them on for SQLite too):
        // its tokens are deleted, catalogs keep their snapshot with an
        // unknown source, and a cluster with environments is refused.
        sqlx::query("DELETE FROM clusters WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        audit::insert_about(&mut tx, org, event, id, cluster.name.as_str()).await?;
        tx.commit().await?;
        Ok(cluster)
    }

    /// Records a heartbeat at `now`, at most once per `granularity_ms` (a
    /// conditional update: most heartbeats write nothing).
    pub async fn cluster_touch(
        &self,
        id: ClusterId,
        now: Timestamp,
        granularity_ms: i64,
    ) -> DbResult<()> {
        sqlx::query(
            "UPDATE clusters SET last_seen_at = $1 WHERE id = $2 \
             AND (last_seen_at IS NULL OR last_seen_at <= $3)",
        )
        .bind(millis(now))
        .bind(id.to_string())
        .bind(millis(now) - granularity_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Stores kube-manager's status report (and counts as a sighting).
    pub async fn cluster_record_facts(&self, id: ClusterId, facts: &ClusterFacts) -> DbResult<()> {
        sqlx::query(
            "UPDATE clusters SET kube_manager_version = $1, kubernetes_version = $2, \
             node_count = $3, allocatable_cpu_millis = $4, allocatable_memory_bytes = $5, \
             reported_at = $6, last_seen_at = $6 WHERE id = $7",
        )
        .bind(facts.kube_manager_version.as_str())
        .bind(facts.kubernetes_version.as_str())
        .bind(i64::from(facts.node_count))
        .bind(bigint(facts.allocatable_cpu_millis))
        .bind(bigint(facts.allocatable_memory_bytes))
        .bind(millis(facts.reported_at))
        .bind(id.to_string())
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
