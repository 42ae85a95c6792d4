//! Organizations (tenants): create, look up, list a user's organizations.

use jiff::Timestamp;
use lapdev_domain::{OrganizationId, OrganizationName, Role, UserId};
use sqlx::any::AnyRow;

use crate::audit::{self, NewAuditEvent};
use crate::memberships::insert_membership;
use crate::row::{fetch_limit, get_opt_parsed, get_parsed, get_ts, get_validated, millis};
use crate::{Db, DbResult, Slice, conflict_as};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationRecord {
    pub id: OrganizationId,
    pub name: OrganizationName,
    pub created_at: Timestamp,
}

pub(crate) fn organization_from_row(row: &AnyRow) -> DbResult<OrganizationRecord> {
    Ok(OrganizationRecord {
        id: get_parsed(row, "id")?,
        name: get_validated(row, "name", OrganizationName::parse)?,
        created_at: get_ts(row, "created_at")?,
    })
}

pub(crate) async fn insert_organization(
    conn: &mut sqlx::AnyConnection,
    name: &OrganizationName,
    creator: UserId,
    event: &NewAuditEvent,
) -> DbResult<OrganizationRecord> {
    let org = OrganizationRecord {
        id: OrganizationId::new(),
        name: name.clone(),
        created_at: crate::row::now(),
    };
    sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(org.id.to_string())
        .bind(org.name.as_str())
        .bind(millis(org.created_at))
        .execute(&mut *conn)
        .await
        .map_err(conflict_as("organization"))?;
    insert_membership(&mut *conn, org.id, creator, Role::Admin, org.created_at).await?;
    audit::insert(&mut *conn, org.id, &event.clone().with_object_id(org.id)).await?;
    Ok(org)
}

impl Db {
    /// Creates an organization with `creator` as its first admin, and audits it.
    pub async fn organization_create(
        &self,
        name: &OrganizationName,
        creator: UserId,
        event: &NewAuditEvent,
    ) -> DbResult<OrganizationRecord> {
        let mut tx = self.pool().begin().await?;
        let org = insert_organization(&mut tx, name, creator, event).await?;
        tx.commit().await?;
        Ok(org)
    }

    pub async fn organization_by_name(&self, name: &str) -> DbResult<Option<OrganizationRecord>> {
        sqlx::query("SELECT id, name, created_at FROM organizations WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(organization_from_row)
            .transpose()
    }

    /// The organization named `name` and `user`'s role in it (`None` for a
    /// non-member), in one query: every organization-scoped request asks.
    pub async fn organization_with_role(
        &self,
        name: &str,
        user: UserId,
    ) -> DbResult<Option<(OrganizationRecord, Option<Role>)>> {
        let row = sqlx::query(
            "SELECT o.id, o.name, o.created_at, m.role FROM organizations o \
             LEFT JOIN memberships m ON m.organization_id = o.id AND m.user_id = $1 \
             WHERE o.name = $2",
        )
        .bind(user.to_string())
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((
            organization_from_row(&row)?,
            get_opt_parsed(&row, "role")?,
        )))
    }

    /// The organizations `user` belongs to, with their role, in creation order
    /// after `after`.
    pub async fn organizations_of_user(
        &self,
        user: UserId,
        after: Option<OrganizationId>,
        limit: u32,
    ) -> DbResult<Slice<(OrganizationRecord, Role)>> {
        let rows = sqlx::query(
            "SELECT o.id, o.name, o.created_at, m.role FROM organizations o \
             JOIN memberships m ON m.organization_id = o.id \
             WHERE m.user_id = $1 AND o.id > $2 ORDER BY o.id LIMIT $3",
        )
        .bind(user.to_string())
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(fetch_limit(limit))
        .fetch_all(self.pool())
        .await?;
        Slice::from_rows(&rows, limit, |row| {
            Ok((organization_from_row(row)?, get_parsed(row, "role")?))
        })
    }
}
