//! Cluster tokens: `lpc_` + 32 random bytes from the OS (base64url), shown
//! once, stored as a SHA-256 hash and found by that hash (as API tokens):
//! no secret is ever compared byte by byte, so timing reveals nothing about
//! stored tokens (an attacker controls the hash input, not the hash).

use jiff::Timestamp;
use lapdev_db::{ClusterRecord, ClusterTokenRecord, NewClusterToken};
use lapdev_domain::ClusterTokenId;

use crate::app::{AppError, AppResult};
use crate::state::AppState;

pub(crate) const TOKEN_PREFIX: &str = "lpc_";
/// Characters of the secret kept in clear, to tell tokens apart.
const SHOWN_PREFIX_LEN: usize = TOKEN_PREFIX.len() + 6;
/// Longer bearer values are refused without hashing.
const MAX_LEN: usize = 200;

/// A fresh token: the secret (shown once) and what is stored of it.
pub(crate) fn generate() -> (String, NewClusterToken) {
    let secret = format!("{TOKEN_PREFIX}{}", super::random::secret());
    let stored = NewClusterToken {
        id: ClusterTokenId::new(),
        prefix: secret[..SHOWN_PREFIX_LEN].to_string(),
        secret_hash: super::random::sha256_hex(&secret),
    };
    (secret, stored)
}

/// The cluster a token belongs to, if the token is current or within its
/// rotation grace period. Anything else is `Unauthenticated`.
pub(crate) async fn authenticate(
    state: &AppState,
    secret: &str,
) -> AppResult<(ClusterRecord, ClusterTokenRecord)> {
    if !secret.starts_with(TOKEN_PREFIX) || secret.len() > MAX_LEN {
        return Err(AppError::Unauthenticated);
    }
    let hash = super::random::sha256_hex(secret);
    let found = state
        .db()
        .cluster_by_token_hash(&hash, Timestamp::now())
        .await?;
    let Some((cluster, token)) = found else {
        return Err(AppError::Unauthenticated);
    };
    Ok((cluster, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_look_right() {
        let (secret, stored) = generate();
        assert!(secret.starts_with("lpc_"));
        assert_eq!(secret.len(), 4 + 43);
        assert!(secret.starts_with(&stored.prefix));
        assert_eq!(stored.secret_hash, crate::auth::random::sha256_hex(&secret));
        assert_ne!(generate().0, secret);
    }
}
