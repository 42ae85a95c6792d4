//! Secrets from the operating system's random number generator.

use base64::Engine;
use rand::TryRng;

/// `n` random bytes from the OS.
pub(crate) fn bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    rand::rngs::SysRng
        .try_fill_bytes(&mut buf)
        .expect("the operating system's random number generator failed");
    buf
}

/// 32 random bytes, base64url without padding (43 characters).
pub(crate) fn secret() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes::<32>())
}

/// Hex SHA-256, how secrets are stored.
pub(crate) fn sha256_hex(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}
