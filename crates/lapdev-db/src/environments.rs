//! Personal and Shared environments: create (row, sealed Secret values,
//! audit and first event in one transaction), look up, list with the
//! visibility rule, change what is desired (pause, resume, delete: the
//! generation increases), record what the cluster did and reports, events,
//! and final removal once the namespace is gone.
//!
//! Like [`crate::catalogs`], JSON columns are opaque TEXT owned by the
//! server, and Secret values are opaque ciphertexts.

use jiff::Timestamp;
use lapdev_domain::{
    CatalogId, ClusterId, ClusterName, DesiredState, EnvironmentId, EnvironmentKind,
    EnvironmentName, OrganizationId, UserId, Username,
};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, NewAuditEvent};
use crate::catalogs::{SealedTable, insert_values, value_replace, values_not_under, values_of};
use crate::row::{
    bigint, fetch_limit, get_opt_parsed, get_opt_u64, get_opt_validated, get_parsed, get_string,
    get_ts, get_u64, get_validated, millis,
};
use crate::{Db, DbError, DbResult, SealedValue, Slice, conflict_as, lock_owned};

/// An environment as stored (without its objects: see
/// [`Db::environment_objects`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentRecord {
    pub id: EnvironmentId,
    pub organization_id: OrganizationId,
    pub name: EnvironmentName,
    pub kind: EnvironmentKind,
    /// `None` once the account was deleted.
    pub owner_id: Option<UserId>,
    pub owner_name: Option<Username>,
    /// `None` once the catalog was deleted (the environment keeps its copy).
    pub catalog_id: Option<CatalogId>,
    /// The catalog's current name; its name at creation once it was deleted.
    pub catalog_name: String,
    pub cluster_id: ClusterId,
    pub cluster_name: ClusterName,
    pub namespace: String,
    /// JSON replicas policy.
    pub replicas: String,
    pub desired: DesiredState,
    pub generation: u64,
    pub applied_generation: Option<u64>,
    pub failed_generation: Option<u64>,
    pub failure: Option<String>,
    /// JSON list of strings.
    pub warnings: String,
    /// The last reported phase (`pending` before any report).
    pub phase: String,
    pub observed_generation: Option<u64>,
    /// JSON list of workload statuses.
    pub workloads: String,
    pub revision: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl EnvironmentRecord {
    /// Whether the cluster still has to be told something: the current
    /// generation is neither applied nor refused, or a deletion is pending.
    /// The cluster reporting the namespace gone while the environment
    /// should run (deleted behind Lapdev's back) counts too: it is
    /// re-created.
    pub fn needs_reconcile(&self) -> bool {
        if self.desired == DesiredState::Deleted {
            return true;
        }
        let refused = self.failed_generation == Some(self.generation);
        let behind = self.applied_generation < Some(self.generation) || self.phase == "deleted";
        behind && !refused
    }
}

/// An environment to create.
#[derive(Debug, Clone)]
pub struct NewEnvironment {
    pub id: EnvironmentId,
    pub organization_id: OrganizationId,
    pub name: EnvironmentName,
    pub kind: EnvironmentKind,
    pub owner_id: UserId,
    pub catalog_id: CatalogId,
    pub catalog_name: String,
    pub cluster_id: ClusterId,
    pub namespace: String,
    /// JSON replicas policy.
    pub replicas: String,
    /// JSON list of the catalog's objects (Secret values removed).
    pub objects: String,
}

/// Who may see which environments in a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvironmentVisibility {
    /// Every environment of the organization (admins).
    All,
    /// Shared environments and this user's Personal ones (members).
    SharedOrOwnedBy(UserId),
}

/// A status report from the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentReport {
    pub phase: String,
    pub observed_generation: Option<u64>,
    /// JSON list of workload statuses.
    pub workloads: String,
}

/// One event of an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentEventRecord {
    pub at: Timestamp,
    /// `info` or `warning`.
    pub level: String,
    pub message: String,
}

const COLUMNS: &str = "e.id, e.organization_id, e.name, e.kind, e.owner_id, \
    u.username AS owner_name, e.catalog_id, COALESCE(k.name, e.catalog_name) AS catalog_name, \
    e.cluster_id, \
    c.name AS cluster_name, e.namespace, e.replicas, e.desired, e.generation, \
    e.applied_generation, e.failed_generation, e.failure, e.warnings, e.phase, \
    e.observed_generation, e.workloads, e.revision, e.created_at, e.updated_at";

const FROM: &str = "environments e JOIN clusters c ON c.id = e.cluster_id \
    LEFT JOIN users u ON u.id = e.owner_id LEFT JOIN catalogs k ON k.id = e.catalog_id";

fn environment_from_row(row: &AnyRow) -> DbResult<EnvironmentRecord> {
    Ok(EnvironmentRecord {
        id: get_parsed(row, "id")?,
        organization_id: get_parsed(row, "organization_id")?,
        name: get_validated(row, "name", EnvironmentName::parse)?,
        kind: get_parsed(row, "kind")?,
        owner_id: get_opt_parsed(row, "owner_id")?,
        owner_name: get_opt_validated(row, "owner_name", Username::parse)?,
        catalog_id: get_opt_parsed(row, "catalog_id")?,
        catalog_name: get_string(row, "catalog_name")?,
        cluster_id: get_parsed(row, "cluster_id")?,
        cluster_name: get_validated(row, "cluster_name", ClusterName::parse)?,
        namespace: get_string(row, "namespace")?,
        replicas: get_string(row, "replicas")?,
        desired: get_parsed(row, "desired")?,
        generation: get_u64(row, "generation")?,
        applied_generation: get_opt_u64(row, "applied_generation")?,
        failed_generation: get_opt_u64(row, "failed_generation")?,
        failure: row.try_get("failure")?,
        warnings: get_string(row, "warnings")?,
        phase: get_string(row, "phase")?,
        observed_generation: get_opt_u64(row, "observed_generation")?,
        workloads: get_string(row, "workloads")?,
        revision: get_u64(row, "revision")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

async fn by_id_in(
    conn: &mut sqlx::AnyConnection,
    id: EnvironmentId,
) -> DbResult<Option<EnvironmentRecord>> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE e.id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(environment_from_row)
    .transpose()
}

async fn insert_event(
    conn: &mut sqlx::AnyConnection,
    id: EnvironmentId,
    level: &str,
    message: &str,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO environment_events (id, environment_id, at, level, message) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(id.to_string())
    .bind(millis(crate::row::now()))
    .bind(level)
    .bind(message)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An event to record with a change, in the same transaction.
#[derive(Debug, Clone, Copy)]
pub struct EventNote<'a> {
    /// `info` or `warning`.
    pub level: &'a str,
    pub message: &'a str,
}

impl Db {
    /// Creates an environment (generation 1, desired `running`, phase
    /// `pending`) with its sealed Secret values, its audit event and its
    /// first event, in one transaction. A taken name (in the organization)
    /// or namespace (in the cluster) is [`DbError::Conflict`].
    pub async fn environment_create(
        &self,
        env: &NewEnvironment,
        values: &[SealedValue],
        event: &NewAuditEvent,
        first: EventNote<'_>,
    ) -> DbResult<EnvironmentRecord> {
        let mut tx = self.pool().begin().await?;
        let now = millis(crate::row::now());
        sqlx::query(
            "INSERT INTO environments (id, organization_id, name, kind, owner_id, catalog_id, \
             catalog_name, cluster_id, namespace, replicas, objects, desired, generation, \
             warnings, phase, workloads, revision, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'running', 1, '[]', \
             'pending', '[]', 1, $12, $12)",
        )
        .bind(env.id.to_string())
        .bind(env.organization_id.to_string())
        .bind(env.name.as_str())
        .bind(env.kind.as_str())
        .bind(env.owner_id.to_string())
        .bind(env.catalog_id.to_string())
        .bind(env.catalog_name.as_str())
        .bind(env.cluster_id.to_string())
        .bind(env.namespace.as_str())
        .bind(env.replicas.as_str())
        .bind(env.objects.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(conflict_as("environment"))?;
        insert_values(&mut tx, SealedTable::Environments, env.id, values).await?;
        audit::insert_about(
            &mut tx,
            env.organization_id,
            event,
            env.id,
            env.name.as_str(),
        )
        .await?;
        insert_event(&mut tx, env.id, first.level, first.message).await?;
        let record = by_id_in(&mut tx, env.id).await?.ok_or(DbError::NotFound {
            what: "environment",
        })?;
        tx.commit().await?;
        Ok(record)
    }

    /// The organization's environments visible under `visibility`, of
    /// `kind` when given, in creation order after `after`.
    pub async fn environments_list(
        &self,
        org: OrganizationId,
        visibility: EnvironmentVisibility,
        kind: Option<EnvironmentKind>,
        after: Option<EnvironmentId>,
        limit: u32,
    ) -> DbResult<Slice<EnvironmentRecord>> {
        let viewer = match visibility {
            EnvironmentVisibility::All => String::new(),
            EnvironmentVisibility::SharedOrOwnedBy(user) => user.to_string(),
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE e.organization_id = $1 AND e.id > $2 \
             AND ($3 = '' OR e.kind = 'shared' OR e.owner_id = $3) \
             AND ($4 = '' OR e.kind = $4) \
             ORDER BY e.id LIMIT $5"
        )))
        .bind(org.to_string())
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(viewer)
        .bind(kind.map(|k| k.as_str()).unwrap_or_default())
        .bind(fetch_limit(limit))
        .fetch_all(self.pool())
        .await?;
        Slice::from_rows(&rows, limit, environment_from_row)
    }

    /// An environment of `org` by name.
    pub async fn environment_by_name(
        &self,
        org: OrganizationId,
        name: &str,
    ) -> DbResult<Option<EnvironmentRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE e.organization_id = $1 AND e.name = $2"
        )))
        .bind(org.to_string())
        .bind(name)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(environment_from_row)
        .transpose()
    }

    pub async fn environment_by_id(
        &self,
        id: EnvironmentId,
    ) -> DbResult<Option<EnvironmentRecord>> {
        let mut conn = self.pool().acquire().await?;
        by_id_in(&mut conn, id).await
    }

    /// The environment deployed to `namespace` of `cluster`.
    pub async fn environment_by_namespace(
        &self,
        cluster: ClusterId,
        namespace: &str,
    ) -> DbResult<Option<EnvironmentRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE e.cluster_id = $1 AND e.namespace = $2"
        )))
        .bind(cluster.to_string())
        .bind(namespace)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(environment_from_row)
        .transpose()
    }

    /// Every environment on `cluster` (all of them when `None`), oldest
    /// first. The reconciler filters with
    /// [`EnvironmentRecord::needs_reconcile`].
    pub async fn environments_on_cluster(
        &self,
        cluster: Option<ClusterId>,
    ) -> DbResult<Vec<EnvironmentRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE ($1 = '' OR e.cluster_id = $1) ORDER BY e.id"
        )))
        .bind(cluster.map(|c| c.to_string()).unwrap_or_default())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(environment_from_row).collect()
    }

    /// How many environments (including ones being deleted) are on `cluster`.
    pub async fn environments_count_on_cluster(&self, cluster: ClusterId) -> DbResult<u64> {
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM environments WHERE cluster_id = $1")
            .bind(cluster.to_string())
            .fetch_one(self.pool())
            .await?
            .try_get("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The JSON list of the environment's objects (Secret values removed).
    pub async fn environment_objects(&self, id: EnvironmentId) -> DbResult<String> {
        let row = sqlx::query("SELECT objects FROM environments WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?
            .ok_or(DbError::NotFound {
                what: "environment",
            })?;
        get_string(&row, "objects")
    }

    /// The environment's sealed Secret values.
    pub async fn environment_secret_values(&self, id: EnvironmentId) -> DbResult<Vec<SealedValue>> {
        values_of(self, SealedTable::Environments, id).await
    }

    /// Asks for `desired` (pause, resume, delete) on an environment of
    /// `org`: the generation increases, a refusal of the previous
    /// generation is forgotten, and the audit event and an environment event
    /// are written in the same transaction. Asking for what is already
    /// desired changes nothing and returns `(record, false)`; once deletion
    /// was asked for, nothing else may be ([`DbError::Conflict`]).
    pub async fn environment_set_desired(
        &self,
        org: OrganizationId,
        id: EnvironmentId,
        desired: DesiredState,
        event: &NewAuditEvent,
        note: EventNote<'_>,
    ) -> DbResult<(EnvironmentRecord, bool)> {
        let mut tx = self.pool().begin().await?;
        lock_owned(
            &mut tx,
            "environments",
            id,
            "organization_id",
            org,
            "environment",
        )
        .await?;
        let current = by_id_in(&mut tx, id).await?.ok_or(DbError::NotFound {
            what: "environment",
        })?;
        if current.desired == desired {
            tx.commit().await?;
            return Ok((current, false));
        }
        if current.desired == DesiredState::Deleted {
            return Err(DbError::Conflict {
                what: "environment deletion",
            });
        }
        // The row is locked: what it becomes follows from what was read.
        let record = EnvironmentRecord {
            desired,
            generation: current.generation + 1,
            failed_generation: None,
            failure: None,
            revision: current.revision + 1,
            updated_at: crate::row::now(),
            ..current
        };
        sqlx::query(
            "UPDATE environments SET desired = $1, generation = generation + 1, \
             failed_generation = NULL, failure = NULL, revision = revision + 1, updated_at = $2 \
             WHERE id = $3",
        )
        .bind(desired.as_str())
        .bind(millis(record.updated_at))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        audit::insert_about(&mut tx, org, event, id, record.name.as_str()).await?;
        insert_event(&mut tx, id, note.level, note.message).await?;
        tx.commit().await?;
        Ok((record, true))
    }

    /// Records that the cluster applied `generation` (with these JSON
    /// `warnings`). An older generation than one already recorded changes
    /// nothing. Returns whether the row changed.
    pub async fn environment_record_applied(
        &self,
        id: EnvironmentId,
        generation: u64,
        warnings: &str,
        note: Option<EventNote<'_>>,
    ) -> DbResult<bool> {
        let update = sqlx::query(
            "UPDATE environments SET applied_generation = $1, warnings = $2, \
             revision = revision + 1, updated_at = $3 \
             WHERE id = $4 AND (applied_generation IS NULL OR applied_generation < $1)",
        )
        .bind(bigint(generation))
        .bind(warnings)
        .bind(millis(crate::row::now()))
        .bind(id.to_string());
        self.change_noted(id, update, note).await
    }

    /// Records that the cluster refused `generation` for good, with why.
    /// Ignored unless `generation` is still the current one. Returns
    /// whether the row changed.
    pub async fn environment_record_failure(
        &self,
        id: EnvironmentId,
        generation: u64,
        failure: &str,
    ) -> DbResult<bool> {
        let update = sqlx::query(
            "UPDATE environments SET failed_generation = $1, failure = $2, \
             revision = revision + 1, updated_at = $3 \
             WHERE id = $4 AND generation = $1 \
             AND (failed_generation IS NULL OR failed_generation <> $1 OR failure <> $2)",
        )
        .bind(bigint(generation))
        .bind(failure)
        .bind(millis(crate::row::now()))
        .bind(id.to_string());
        let note = EventNote {
            level: "warning",
            message: failure,
        };
        self.change_noted(id, update, Some(note)).await
    }

    /// Stores a status report unless it equals the stored one. Returns
    /// whether the row changed; `note` is recorded only then.
    pub async fn environment_record_report(
        &self,
        id: EnvironmentId,
        report: &EnvironmentReport,
        note: Option<EventNote<'_>>,
    ) -> DbResult<bool> {
        let update = sqlx::query(
            "UPDATE environments SET phase = $1, observed_generation = $2, workloads = $3, \
             revision = revision + 1, updated_at = $4 \
             WHERE id = $5 AND NOT (phase = $1 AND workloads = $3 \
             AND COALESCE(observed_generation, -1) = COALESCE($2, -1))",
        )
        .bind(report.phase.as_str())
        .bind(report.observed_generation.map(bigint))
        .bind(report.workloads.as_str())
        .bind(millis(crate::row::now()))
        .bind(id.to_string());
        self.change_noted(id, update, note).await
    }

    /// Runs a conditional `update` of one environment and, only if it
    /// changed the row, records `note`, in one transaction.
    async fn change_noted<'q>(
        &self,
        id: EnvironmentId,
        update: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
        note: Option<EventNote<'_>>,
    ) -> DbResult<bool> {
        let mut tx = self.pool().begin().await?;
        let changed = update.execute(&mut *tx).await?.rows_affected() > 0;
        if let (true, Some(note)) = (changed, note) {
            insert_event(&mut tx, id, note.level, note.message).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Records an event on its own.
    pub async fn environment_add_event(
        &self,
        id: EnvironmentId,
        note: EventNote<'_>,
    ) -> DbResult<()> {
        let mut conn = self.pool().acquire().await?;
        insert_event(&mut conn, id, note.level, note.message).await
    }

    /// The newest `limit` events, newest first.
    pub async fn environment_events(
        &self,
        id: EnvironmentId,
        limit: u32,
    ) -> DbResult<Vec<EnvironmentEventRecord>> {
        let rows = sqlx::query(
            "SELECT at, level, message FROM environment_events WHERE environment_id = $1 \
             ORDER BY id DESC LIMIT $2",
        )
        .bind(id.to_string())
        .bind(i64::from(limit.clamp(1, 1000)))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(EnvironmentEventRecord {
                    at: get_ts(row, "at")?,
                    level: get_string(row, "level")?,
                    message: get_string(row, "message")?,
                })
            })
            .collect()
    }

    /// Removes an environment for good (its namespace is gone), with its
    /// values and events. Only one whose deletion was asked for. Returns
    /// whether it existed.
    pub async fn environment_remove(&self, id: EnvironmentId) -> DbResult<bool> {
        let n = sqlx::query("DELETE FROM environments WHERE id = $1 AND desired = 'deleted'")
            .bind(id.to_string())
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Up to `limit` environment Secret values not sealed with `key_id`
    /// (for re-encryption after a key rotation).
    pub async fn environment_values_not_under(
        &self,
        key_id: &str,
        limit: u32,
    ) -> DbResult<Vec<(EnvironmentId, SealedValue)>> {
        values_not_under(self, SealedTable::Environments, key_id, limit).await
    }

    /// Replaces one environment value's ciphertext if it is still sealed
    /// with `old_key_id`. Returns whether it changed.
    pub async fn environment_value_replace(
        &self,
        env: EnvironmentId,
        old_key_id: &str,
        value: &SealedValue,
    ) -> DbResult<bool> {
        value_replace(self, SealedTable::Environments, env, old_key_id, value).await
    }
}
