//! App Catalogs: create (snapshot and sealed Secret values in one
//! transaction), list, look up, rename/describe, replace the content (add or
//! remove workloads, apply a refresh), delete; and the key-rotation helpers
//! over the sealed values. Every change made by a person is audited in the
//! same transaction.
//!
//! This module stores JSON as opaque TEXT and ciphertexts as opaque
//! base64: it knows neither the snapshot's shape nor the cipher (the server
//! owns both), so a plaintext Secret value never reaches it.

use jiff::Timestamp;
use lapdev_domain::{CatalogId, CatalogName, ClusterId, ClusterName, OrganizationId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, NewAuditEvent};
use crate::row::{
    fetch_limit, get_opt_parsed, get_opt_validated, get_parsed, get_string, get_ts, get_validated,
    millis,
};
use crate::{Db, DbError, DbResult, Slice, conflict_as, lock_owned};

/// A catalog as stored. The JSON columns are parsed by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogRecord {
    pub id: CatalogId,
    pub organization_id: OrganizationId,
    pub name: CatalogName,
    pub description: String,
    /// `None` once the source cluster was deleted.
    pub source_cluster_id: Option<ClusterId>,
    /// The source cluster's current name (it may have been renamed).
    pub source_cluster_name: Option<ClusterName>,
    pub content: CatalogContent,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a catalog holds besides its name: JSON documents owned by the server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CatalogContent {
    /// JSON list of the selected workloads.
    pub workloads: String,
    pub workload_count: u32,
    /// JSON Secret policy.
    pub secret_policy: String,
    /// JSON snapshot, with every Secret value removed (see [`SealedValue`]).
    pub snapshot: String,
}

/// A catalog to create.
#[derive(Debug, Clone)]
pub struct NewCatalog {
    pub id: CatalogId,
    pub organization_id: OrganizationId,
    pub name: CatalogName,
    pub description: String,
    pub source_cluster_id: ClusterId,
    pub content: CatalogContent,
}

/// One encrypted Secret value. `Debug` shows where it belongs, never the
/// ciphertext.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedValue {
    /// `namespace/name` of the Secret.
    pub object: String,
    /// `data` or `stringData`.
    pub field: String,
    /// The key inside the Secret.
    pub key: String,
    /// Which server key sealed it.
    pub key_id: String,
    /// base64
    pub nonce: String,
    /// base64
    pub ciphertext: String,
}

impl std::fmt::Debug for SealedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedValue")
            .field("object", &self.object)
            .field("field", &self.field)
            .field("key", &self.key)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str = "k.id, k.organization_id, k.name, k.description, k.source_cluster_id, \
    c.name AS source_cluster_name, k.workloads, k.workload_count, k.secret_policy, k.snapshot, \
    k.created_at, k.updated_at";

const FROM: &str = "catalogs k LEFT JOIN clusters c ON c.id = k.source_cluster_id";

fn catalog_from_row(row: &AnyRow) -> DbResult<CatalogRecord> {
    let count: i64 = row.try_get("workload_count")?;
    Ok(CatalogRecord {
        id: get_parsed(row, "id")?,
        organization_id: get_parsed(row, "organization_id")?,
        name: get_validated(row, "name", CatalogName::parse)?,
        description: get_string(row, "description")?,
        source_cluster_id: get_opt_parsed(row, "source_cluster_id")?,
        source_cluster_name: get_opt_validated(row, "source_cluster_name", ClusterName::parse)?,
        content: CatalogContent {
            workloads: get_string(row, "workloads")?,
            workload_count: u32::try_from(count).unwrap_or(0),
            secret_policy: get_string(row, "secret_policy")?,
            snapshot: get_string(row, "snapshot")?,
        },
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

async fn by_id_in(conn: &mut sqlx::AnyConnection, id: CatalogId) -> DbResult<CatalogRecord> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE k.id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(DbError::NotFound { what: "catalog" })?;
    catalog_from_row(&row)
}

/// Takes the row lock first (see the crate docs); `NotFound` unless the
/// catalog belongs to `org`.
async fn lock_in(
    conn: &mut sqlx::AnyConnection,
    org: OrganizationId,
    id: CatalogId,
) -> DbResult<()> {
    lock_owned(conn, "catalogs", id, "organization_id", org, "catalog").await
}

fn value_from_row(row: &AnyRow) -> DbResult<SealedValue> {
    Ok(SealedValue {
        object: get_string(row, "object")?,
        field: get_string(row, "field")?,
        key: get_string(row, "secret_key")?,
        key_id: get_string(row, "key_id")?,
        nonce: get_string(row, "nonce")?,
        ciphertext: get_string(row, "ciphertext")?,
    })
}

impl Db {
    /// Creates a catalog with its sealed Secret values, and audits it, in
    /// one transaction: all of it or nothing. A taken name is
    /// [`DbError::Conflict`].
    pub async fn catalog_create(
        &self,
        catalog: &NewCatalog,
        values: &[SealedValue],
        event: &NewAuditEvent,
    ) -> DbResult<CatalogRecord> {
        let mut tx = self.pool().begin().await?;
        let now = millis(crate::row::now());
        sqlx::query(
            "INSERT INTO catalogs (id, organization_id, name, description, source_cluster_id, \
             workloads, workload_count, secret_policy, snapshot, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(catalog.id.to_string())
        .bind(catalog.organization_id.to_string())
        .bind(catalog.name.as_str())
        .bind(catalog.description.as_str())
        .bind(catalog.source_cluster_id.to_string())
        .bind(catalog.content.workloads.as_str())
        .bind(i64::from(catalog.content.workload_count))
        .bind(catalog.content.secret_policy.as_str())
        .bind(catalog.content.snapshot.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(conflict_as("catalog"))?;
        insert_values(&mut tx, SealedTable::Catalogs, catalog.id, values).await?;
        audit::insert_about(
            &mut tx,
            catalog.organization_id,
            event,
            catalog.id,
            catalog.name.as_str(),
        )
        .await?;
        let record = by_id_in(&mut tx, catalog.id).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// The organization's catalogs in creation order, after `after`.
    pub async fn catalogs_list(
        &self,
        org: OrganizationId,
        after: Option<CatalogId>,
        limit: u32,
    ) -> DbResult<Slice<CatalogRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE k.organization_id = $1 AND k.id > $2 \
             ORDER BY k.id LIMIT $3"
        )))
        .bind(org.to_string())
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(fetch_limit(limit))
        .fetch_all(self.pool())
        .await?;
        Slice::from_rows(&rows, limit, catalog_from_row)
    }

    pub async fn catalog_by_name(
        &self,
        org: OrganizationId,
        name: &str,
    ) -> DbResult<Option<CatalogRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE k.organization_id = $1 AND k.name = $2"
        )))
        .bind(org.to_string())
        .bind(name)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(catalog_from_row)
        .transpose()
    }

    /// The sealed Secret values of a catalog.
    pub async fn catalog_secret_values(&self, id: CatalogId) -> DbResult<Vec<SealedValue>> {
        values_of(self, SealedTable::Catalogs, id).await
    }

    /// Renames a catalog of `org` and/or changes its description; audited.
    pub async fn catalog_update_meta(
        &self,
        org: OrganizationId,
        id: CatalogId,
        name: Option<&CatalogName>,
        description: Option<&str>,
        event: &NewAuditEvent,
    ) -> DbResult<CatalogRecord> {
        let mut tx = self.pool().begin().await?;
        lock_in(&mut tx, org, id).await?;
        let before = by_id_in(&mut tx, id).await?;
        let after = CatalogRecord {
            name: name.cloned().unwrap_or(before.name),
            description: description.map_or(before.description, str::to_string),
            updated_at: crate::row::now(),
            ..before
        };
        sqlx::query(
            "UPDATE catalogs SET name = $1, description = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(after.name.as_str())
        .bind(after.description.as_str())
        .bind(millis(after.updated_at))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(conflict_as("catalog"))?;
        audit::insert_about(&mut tx, org, event, id, after.name.as_str()).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Replaces a catalog's workloads, policy, snapshot and sealed values
    /// (adding or removing workloads, applying a refresh); audited. When
    /// `expect_snapshot` is given, the stored snapshot must still be that
    /// one, else [`DbError::Conflict`] (someone changed it meanwhile).
    pub async fn catalog_replace_content(
        &self,
        org: OrganizationId,
        id: CatalogId,
        content: &CatalogContent,
        values: &[SealedValue],
        expect_snapshot: Option<&str>,
        event: &NewAuditEvent,
    ) -> DbResult<CatalogRecord> {
        let mut tx = self.pool().begin().await?;
        lock_in(&mut tx, org, id).await?;
        let before = by_id_in(&mut tx, id).await?;
        if expect_snapshot.is_some_and(|s| s != before.content.snapshot) {
            return Err(DbError::Conflict {
                what: "a newer version of the catalog",
            });
        }
        let after = CatalogRecord {
            content: content.clone(),
            updated_at: crate::row::now(),
            ..before
        };
        sqlx::query(
            "UPDATE catalogs SET workloads = $1, workload_count = $2, secret_policy = $3, \
             snapshot = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(content.workloads.as_str())
        .bind(i64::from(content.workload_count))
        .bind(content.secret_policy.as_str())
        .bind(content.snapshot.as_str())
        .bind(millis(after.updated_at))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM catalog_secret_values WHERE catalog_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        insert_values(&mut tx, SealedTable::Catalogs, id, values).await?;
        audit::insert_about(&mut tx, org, event, id, after.name.as_str()).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a catalog of `org` with its sealed values; audited.
    pub async fn catalog_delete(
        &self,
        org: OrganizationId,
        id: CatalogId,
        event: &NewAuditEvent,
    ) -> DbResult<CatalogRecord> {
        let mut tx = self.pool().begin().await?;
        lock_in(&mut tx, org, id).await?;
        let catalog = by_id_in(&mut tx, id).await?;
        // Its sealed values go by ON DELETE CASCADE.
        sqlx::query("DELETE FROM catalogs WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        audit::insert_about(&mut tx, org, event, id, catalog.name.as_str()).await?;
        tx.commit().await?;
        Ok(catalog)
    }

    /// Up to `limit` sealed values not sealed with `key_id` (for
    /// re-encryption after a key rotation), with their catalog.
    pub async fn sealed_values_not_under(
        &self,
        key_id: &str,
        limit: u32,
    ) -> DbResult<Vec<(CatalogId, SealedValue)>> {
        values_not_under(self, SealedTable::Catalogs, key_id, limit).await
    }

    /// Replaces one value's ciphertext (same catalog, object, field, key)
    /// if it is still sealed with `old_key_id`. Returns whether it changed.
    pub async fn sealed_value_replace(
        &self,
        catalog: CatalogId,
        old_key_id: &str,
        value: &SealedValue,
    ) -> DbResult<bool> {
        value_replace(self, SealedTable::Catalogs, catalog, old_key_id, value).await
    }
}

/// The two tables of sealed values, which have the same shape.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SealedTable {
    Catalogs,
    Environments,
}

impl SealedTable {
    /// `(table, owner column)`.
    const fn names(self) -> (&'static str, &'static str) {
        match self {
            SealedTable::Catalogs => ("catalog_secret_values", "catalog_id"),
            SealedTable::Environments => ("environment_secret_values", "environment_id"),
        }
    }
}

/// Stores `values` of `owner` in `table` (a value given twice is a
/// [`DbError::Conflict`]).
pub(crate) async fn insert_values(
    conn: &mut sqlx::AnyConnection,
    table: SealedTable,
    owner_id: impl ToString,
    values: &[SealedValue],
) -> DbResult<()> {
    let (table, owner) = table.names();
    let owner_id = owner_id.to_string();
    for v in values {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table} ({owner}, object, field, secret_key, key_id, nonce, ciphertext) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )))
        .bind(owner_id.as_str())
        .bind(v.object.as_str())
        .bind(v.field.as_str())
        .bind(v.key.as_str())
        .bind(v.key_id.as_str())
        .bind(v.nonce.as_str())
        .bind(v.ciphertext.as_str())
        .execute(&mut *conn)
        .await
        .map_err(conflict_as("secret value"))?;
    }
    Ok(())
}

/// The values of `owner` in `table`, in a stable order.
pub(crate) async fn values_of(
    db: &Db,
    table: SealedTable,
    owner_id: impl ToString,
) -> DbResult<Vec<SealedValue>> {
    let (table, owner) = table.names();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT object, field, secret_key, key_id, nonce, ciphertext FROM {table} \
         WHERE {owner} = $1 ORDER BY object, field, secret_key"
    )))
    .bind(owner_id.to_string())
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(value_from_row).collect()
}

/// Up to `limit` values of `table` not sealed with `key_id`, with their owner.
pub(crate) async fn values_not_under<O: std::str::FromStr>(
    db: &Db,
    table: SealedTable,
    key_id: &str,
    limit: u32,
) -> DbResult<Vec<(O, SealedValue)>> {
    let (table, owner) = table.names();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {owner} AS owner, object, field, secret_key, key_id, nonce, ciphertext \
         FROM {table} WHERE key_id <> $1 \
         ORDER BY {owner}, object, field, secret_key LIMIT $2"
    )))
    .bind(key_id)
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((get_parsed(r, "owner")?, value_from_row(r)?)))
        .collect()
}

/// Replaces one value's ciphertext in `table` if it is still sealed with
/// `old_key_id`. Returns whether it changed.
pub(crate) async fn value_replace(
    db: &Db,
    table: SealedTable,
    owner_id: impl ToString,
    old_key_id: &str,
    value: &SealedValue,
) -> DbResult<bool> {
    let (table, owner) = table.names();
    let n = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET key_id = $1, nonce = $2, ciphertext = $3 \
         WHERE {owner} = $4 AND object = $5 AND field = $6 AND secret_key = $7 \
         AND key_id = $8"
    )))
    .bind(value.key_id.as_str())
    .bind(value.nonce.as_str())
    .bind(value.ciphertext.as_str())
    .bind(owner_id.to_string())
    .bind(value.object.as_str())
    .bind(value.field.as_str())
    .bind(value.key.as_str())
    .bind(old_key_id)
    .execute(db.pool())
    .await?
    .rows_affected();
    Ok(n > 0)
}
