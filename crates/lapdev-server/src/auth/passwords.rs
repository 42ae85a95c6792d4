//! Password hashing (argon2id, always on the blocking pool), the password
//! policy, generated passwords, and the sign-in check shared by the API and
//! the dashboard.

use argon2::password_hash::PasswordVerifier;
use argon2::{Argon2, PasswordHasher};

use crate::app::{AppError, AppResult};
use crate::state::AppState;

pub(crate) const MIN_LEN: usize = 12;
pub(crate) const MAX_LEN: usize = 1024;

/// Refuses passwords the policy does not allow, naming the field.
pub(crate) fn check_policy(field: &str, password: &str) -> AppResult<()> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(AppError::invalid(
            field,
            format!("must be at least {MIN_LEN} characters long"),
        ));
    }
    if len > MAX_LEN {
        return Err(AppError::invalid(
            field,
            format!("must be at most {MAX_LEN} characters long"),
        ));
    }
    Ok(())
}

/// A random password of 24 letters and digits (about 142 bits).
pub(crate) fn generate() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    super::random::bytes::<24>()
        .iter()
        // 256 % 57 != 0: a slight bias, irrelevant at this length.
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub(crate) struct HashError(String);

/// Hashes on the blocking pool: argon2 takes tens of milliseconds of CPU.
pub(crate) async fn hash(password: String) -> Result<String, HashError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| HashError(e.to_string()))
    })
    .await
    .map_err(|e| HashError(e.to_string()))?
}

/// Verifies on the blocking pool. A malformed stored hash counts as a mismatch.
pub(crate) async fn verify(password: String, stored_hash: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = argon2::PasswordHash::new(&stored_hash) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .map_err(AppError::internal)
}

/// Checks a username and password, with the rate limit, in constant-ish
/// time whether or not the user exists. Wrong username and wrong password
/// are the same error.
pub(crate) async fn authenticate(
    state: &AppState,
    username: &str,
    password: &str,
    client_ip: Option<std::net::IpAddr>,
) -> AppResult<lapdev_db::UserRecord> {
    let limiter = state.login_limiter();
    if !limiter.allowed(username, client_ip) {
        return Err(AppError::RateLimited);
    }
    let found = state.db().user_credentials(username).await?;
    let (stored, user) = match found {
        Some(u) => (u.password_hash, Some(u.user)),
        None => (state.dummy_hash().to_string(), None),
    };
    let ok = verify(password.to_string(), stored).await?;
    match user {
        Some(user) if ok => {
            limiter.record_success(username);
            Ok(user)
        }
        _ => {
            limiter.record_failure(username, client_ip);
            Err(AppError::WrongCredentials)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            verify("correct horse battery".into(), h.clone())
                .await
                .unwrap()
        );
        assert!(!verify("wrong".into(), h).await.unwrap());
        assert!(!verify("x".into(), "not a hash".into()).await.unwrap());
    }

    #[test]
    fn generated_passwords_pass_the_policy() {
        let p = generate();
        assert_eq!(p.len(), 24);
        check_policy("password", &p).unwrap();
        assert_ne!(generate(), p);
        assert!(check_policy("new_password", "short").is_err());
    }
}
