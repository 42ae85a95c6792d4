//! Personal API tokens: `lpd_` + 32 random bytes (base64url). Stored as a
//! SHA-256 hash and found by that hash, so no secret is ever compared in Rust
//! and timing reveals nothing about stored tokens.

use jiff::Timestamp;
use lapdev_domain::ApiTokenId;

use super::AuthUser;
use crate::app::{AppError, AppResult};
use crate::state::AppState;

pub(crate) const TOKEN_PREFIX: &str = "lpd_";
/// Characters of the secret kept in clear, to tell tokens apart.
const SHOWN_PREFIX_LEN: usize = TOKEN_PREFIX.len() + 6;
/// `last_used_at` is written at most this often per token.
const TOUCH_GRANULARITY_MS: i64 = 60_000;

/// A fresh token: the secret (shown once), its visible prefix and its hash.
pub(crate) struct NewSecret {
    pub(crate) secret: String,
    pub(crate) prefix: String,
    pub(crate) hash: String,
}

pub(crate) fn generate() -> NewSecret {
    let secret = format!("{TOKEN_PREFIX}{}", super::random::secret());
    NewSecret {
        prefix: secret[..SHOWN_PREFIX_LEN].to_string(),
        hash: super::random::sha256_hex(&secret),
        secret,
    }
}

/// The user a bearer token belongs to, and the token's id. Unknown,
/// malformed and expired tokens are all `Unauthenticated`.
pub(crate) async fn authenticate(
    state: &AppState,
    secret: &str,
) -> AppResult<(AuthUser, ApiTokenId)> {
    if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 200 {
        return Err(AppError::Unauthenticated);
    }
    let hash = super::random::sha256_hex(secret);
    let Some((token, user)) = state.db().token_by_hash(&hash).await? else {
        return Err(AppError::Unauthenticated);
    };
    let now = Timestamp::now();
    if token.expires_at.is_some_and(|at| at <= now) {
        return Err(AppError::Unauthenticated);
    }
    // The row read above says whether the touch would write; skip the
    // round trip when it would not (the common case).
    let recent = token
        .last_used_at
        .is_some_and(|at| at.as_millisecond() >= now.as_millisecond() - TOUCH_GRANULARITY_MS);
    if !recent {
        state
            .db()
            .token_touch(token.id, now, TOUCH_GRANULARITY_MS)
            .await?;
    }
    Ok((user.into(), token.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_look_right() {
        let t = generate();
        assert!(t.secret.starts_with("lpd_"));
        assert_eq!(t.secret.len(), 4 + 43);
        assert!(t.secret.starts_with(&t.prefix));
        assert_eq!(t.hash.len(), 64);
        assert_ne!(generate().secret, t.secret);
    }
}
