//! The audit log: every mutating action, written in the same transaction as
//! the change it records, listed newest first.

use jiff::Timestamp;
use lapdev_domain::{AuditEventId, OrganizationId, UserId, Username};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::row::{fetch_limit, get_parsed, get_string, get_ts, millis, parsed, validated};
use crate::{Db, DbError, DbResult, Slice};

/// Who did something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: UserId,
    pub username: Username,
}

/// An action to record. Mutating datastore methods take one and write it
/// atomically with the change.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent {
    /// `None` for the system itself (first start).
    pub actor: Option<Actor>,
    /// Dotted verb, e.g. `member.add`.
    pub action: &'static str,
    pub object_kind: &'static str,
    pub object_id: String,
    pub object_name: Option<String>,
    /// Facts about the action; never secrets.
    pub details: serde_json::Value,
}

impl NewAuditEvent {
    pub fn new(actor: Option<Actor>, action: &'static str, object_kind: &'static str) -> Self {
        NewAuditEvent {
            actor,
            action,
            object_kind,
            object_id: String::new(),
            object_name: None,
            details: serde_json::Value::Object(Default::default()),
        }
    }

    pub fn with_object_id(mut self, id: impl ToString) -> Self {
        self.object_id = id.to_string();
        self
    }

    pub fn with_object_name(mut self, name: impl Into<String>) -> Self {
        self.object_name = Some(name.into());
        self
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: AuditEventId,
    pub organization_id: OrganizationId,
    pub at: Timestamp,
    pub actor: Option<Actor>,
    pub action: String,
    pub object_kind: String,
    pub object_id: String,
    pub object_name: Option<String>,
    pub details: serde_json::Value,
}

pub(crate) async fn insert(
    conn: &mut sqlx::AnyConnection,
    org: OrganizationId,
    event: &NewAuditEvent,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO audit_events (id, organization_id, at, actor_id, actor_username, action, \
         object_kind, object_id, object_name, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(AuditEventId::new().to_string())
    .bind(org.to_string())
    .bind(millis(crate::row::now()))
    .bind(event.actor.as_ref().map(|a| a.id.to_string()))
    .bind(event.actor.as_ref().map(|a| a.username.to_string()))
    .bind(event.action)
    .bind(event.object_kind)
    .bind(event.object_id.as_str())
    .bind(event.object_name.as_deref())
    .bind(event.details.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// Records `event` as done to the object `id` named `name`.
pub(crate) async fn insert_about(
    conn: &mut sqlx::AnyConnection,
    org: OrganizationId,
    event: &NewAuditEvent,
    id: impl ToString,
    name: &str,
) -> DbResult<()> {
    let event = event.clone().with_object_id(id).with_object_name(name);
    insert(conn, org, &event).await
}

/// Records `event` in every organization `user` belongs to (for actions on
/// the user's own things, such as tokens).
pub(crate) async fn insert_for_user_orgs(
    conn: &mut sqlx::AnyConnection,
    user: UserId,
    event: &NewAuditEvent,
) -> DbResult<()> {
    let orgs = sqlx::query("SELECT organization_id FROM memberships WHERE user_id = $1")
        .bind(user.to_string())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| get_parsed::<OrganizationId>(row, "organization_id"))
        .collect::<DbResult<Vec<_>>>()?;
    for org in orgs {
        insert(&mut *conn, org, event).await?;
    }
    Ok(())
}

fn audit_from_row(row: &AnyRow) -> DbResult<AuditRecord> {
    let actor_id: Option<String> = row.try_get("actor_id")?;
    let actor_name: Option<String> = row.try_get("actor_username")?;
    let actor = match (actor_id, actor_name) {
        (Some(id), Some(name)) => Some(Actor {
            id: parsed("actor_id", id)?,
            username: validated("actor_username", name, Username::parse)?,
        }),
        _ => None,
    };
    let details = get_string(row, "details")?;
    Ok(AuditRecord {
        id: get_parsed(row, "id")?,
        organization_id: get_parsed(row, "organization_id")?,
        at: get_ts(row, "at")?,
        actor,
        action: get_string(row, "action")?,
        object_kind: get_string(row, "object_kind")?,
        object_id: get_string(row, "object_id")?,
        object_name: row.try_get("object_name")?,
        details: serde_json::from_str(&details).map_err(|_| DbError::Corrupt {
            what: "details",
            value: details,
        })?,
    })
}

impl Db {
    /// The organization's audit log, newest first, older than `before`.
    pub async fn audit_list(
        &self,
        org: OrganizationId,
        before: Option<AuditEventId>,
        limit: u32,
    ) -> DbResult<Slice<AuditRecord>> {
        // The largest UUID: "no cursor" is "before the end". (Not a symbol such
        // as '~': PostgreSQL collations may ignore punctuation.)
        let before = before
            .map(|b| b.to_string())
            .unwrap_or_else(|| uuid::Uuid::max().to_string());
        let rows = sqlx::query(
            "SELECT id, organization_id, at, actor_id, actor_username, action, object_kind, \
             object_id, object_name, details FROM audit_events \
             WHERE organization_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(org.to_string())
        .bind(before)
        .bind(fetch_limit(limit))
        .fetch_all(self.pool())
        .await?;
        Slice::from_rows(&rows, limit, audit_from_row)
    }
}
