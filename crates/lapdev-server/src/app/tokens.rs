//! Personal API tokens: list, create (secret shown once), revoke. Creation
//! and revocation are audited in every organization the user belongs to.

use jiff::{SignedDuration, Timestamp};
use lapdev_api::{ApiToken, CreateToken, CreatedToken, Page};
use lapdev_db::{NewApiToken, NewAuditEvent, TokenRecord};
use lapdev_domain::{ApiTokenId, TokenName};

use super::{AppError, AppResult, PageRequest, page};
use crate::auth::{AuthUser, tokens};
use crate::authz::{self, Action, Object};
use crate::state::AppState;

const MAX_DAYS: u32 = 3650;

fn token_api(t: TokenRecord) -> ApiToken {
    ApiToken {
        id: t.id,
        name: t.name,
        prefix: t.prefix,
        created_at: t.created_at,
        last_used_at: t.last_used_at,
        expires_at: t.expires_at,
    }
}

pub(crate) async fn list(
    state: &AppState,
    caller: &AuthUser,
    req: PageRequest,
) -> AppResult<Page<ApiToken>> {
    authz::authorize(caller.id, Action::ListOwnTokens, Object::Caller)?;
    let slice = state
        .db()
        .tokens_of_user(caller.id, req.cursor::<ApiTokenId>()?, req.limit)
        .await?;
    Ok(page(slice, |t| t.id.to_string(), token_api))
}

pub(crate) async fn create(
    state: &AppState,
    caller: &AuthUser,
    req: CreateToken,
) -> AppResult<CreatedToken> {
    authz::authorize(caller.id, Action::CreateOwnToken, Object::Caller)?;
    let expires_in = match req.expires_in_days {
        None => None,
        Some(days) if (1..=MAX_DAYS).contains(&days) => Some(days),
        Some(_) => {
            return Err(AppError::invalid(
                "expires_in_days",
                format!("must be between 1 and {MAX_DAYS}"),
            ));
        }
    };
    create_for(state, caller, req.name, expires_in, "api").await
}

/// Creates a token for `user` (also used by password sign-in).
pub(crate) async fn create_for(
    state: &AppState,
    user: &AuthUser,
    name: TokenName,
    expires_in_days: Option<u32>,
    via: &str,
) -> AppResult<CreatedToken> {
    let secret = tokens::generate();
    let new = NewApiToken {
        id: ApiTokenId::new(),
        user_id: user.id,
        name,
        prefix: secret.prefix,
        secret_hash: secret.hash,
        expires_at: expires_in_days
            .map(|d| Timestamp::now() + SignedDuration::from_hours(24 * i64::from(d))),
    };
    let event = NewAuditEvent::new(Some(user.actor()), "token.create", "api_token")
        .with_details(serde_json::json!({ "via": via }));
    let record = state.db().token_create(&new, &event).await?;
    Ok(CreatedToken {
        token: secret.secret,
        token_info: token_api(record),
    })
}

pub(crate) async fn revoke(state: &AppState, caller: &AuthUser, id: &str) -> AppResult<()> {
    let id: ApiTokenId = id.parse().map_err(|_| AppError::NotFound("token"))?;
    // The datastore only finds the caller's own tokens; the decision is still
    // made here, so the rule lives in `authz`.
    let owner = match state.db().token_owner(id).await? {
        Some(owner) => owner,
        None => return Err(AppError::NotFound("token")),
    };
    authz::authorize(caller.id, Action::RevokeToken, Object::OwnedBy(owner))?;
    let event = NewAuditEvent::new(Some(caller.actor()), "token.revoke", "api_token");
    state.db().token_revoke(caller.id, id, &event).await?;
    Ok(())
}
