//! The audit log of an organization, for its admins, newest first.

use lapdev_api::{AuditActor, AuditEvent, Page};
use lapdev_db::AuditRecord;
use lapdev_domain::AuditEventId;

use super::organizations::authorize_org;
use super::{AppResult, PageRequest, page};
use crate::auth::AuthUser;
use crate::authz::Action;
use crate::state::AppState;

fn event_api(r: AuditRecord) -> AuditEvent {
    AuditEvent {
        id: r.id,
        at: r.at,
        actor: r.actor.map(|a| AuditActor {
            user_id: a.id,
            username: a.username,
        }),
        action: r.action,
        object_kind: r.object_kind,
        object_id: r.object_id,
        object_name: r.object_name,
        details: r.details,
    }
}

pub(crate) async fn list(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    req: PageRequest,
) -> AppResult<Page<AuditEvent>> {
    let (org, _) = authorize_org(state, caller, org_name, Action::ReadAudit).await?;
    let slice = state
        .db()
        .audit_list(org.id, req.cursor::<AuditEventId>()?, req.limit)
        .await?;
    Ok(page(slice, |e| e.id.to_string(), event_api))
}
