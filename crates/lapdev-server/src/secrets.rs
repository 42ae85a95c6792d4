//! Encryption at rest of the Secret values catalogs store: the server's
//! [`Keyring`] (one current key, any number of old keys kept for
//! decryption), sealing and opening one value, and re-sealing values under
//! old keys at start ([`reseal_old_values`]).
//!
//! * Cipher: XChaCha20-Poly1305 (RustCrypto `chacha20poly1305`), a random
//!   192-bit nonce per value, so random nonces never collide in practice.
//! * Every ciphertext is stored with the **key id** of the key that sealed
//!   it (16 hex digits of a SHA-256 of the key), and with associated data
//!   binding it to its place (catalog, Secret, field, key): a ciphertext
//!   copied elsewhere in the database does not open.
//! * The key: 32 random bytes, base64, in `--secrets-key-file`
//!   (`LAPDEV_SECRETS_KEY_FILE`). Without one, the first start generates
//!   `<data dir>/secrets.key` (mode 0600) and warns that production should
//!   manage the key itself.
//! * Rotation: start with the new key in `--secrets-key-file` and the old
//!   one in `--secrets-old-key-files`; the start re-seals every value under
//!   the new key, after which the old key file can go.
//!
//! Neither keys nor values are ever logged: [`Keyring`]'s `Debug` shows key
//! ids only.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use lapdev_db::{Db, SealedValue};
use lapdev_domain::{CatalogId, EnvironmentId};
use sha2::Digest;

/// The key file generated in the data directory when none is configured.
pub const GENERATED_KEY_FILE: &str = "secrets.key";

/// Why a key could not be loaded or a value not opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("cannot read the secrets key file {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the secrets key file {path}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the secrets key file {path} must hold 32 random bytes in base64 \
         (e.g. `head -c 32 /dev/urandom | base64`)"
    )]
    BadKey { path: String },
    #[error(
        "a value is sealed with key {0}, which is neither --secrets-key-file nor one \
         of --secrets-old-key-files"
    )]
    UnknownKey(String),
    #[error("a stored secret value does not decrypt (corrupt, or moved in the database)")]
    Corrupt,
}

struct Key {
    id: String,
    bytes: [u8; 32],
    cipher: XChaCha20Poly1305,
}

impl Key {
    fn new(bytes: [u8; 32]) -> Self {
        let mut h = sha2::Sha256::new();
        h.update(b"lapdev secrets key id\0");
        h.update(bytes);
        let id = hex::encode(&h.finalize()[..8]);
        let cipher = XChaCha20Poly1305::new(&bytes.into());
        Key { id, bytes, cipher }
    }

    fn read(path: &Path) -> Result<Self, SecretsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SecretsError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let bad = || SecretsError::BadKey {
            path: path.display().to_string(),
        };
        let raw = STANDARD.decode(text.trim()).map_err(|_| bad())?;
        let bytes: [u8; 32] = raw.try_into().map_err(|_| bad())?;
        Ok(Key::new(bytes))
    }
}

/// The current key (seals) and the old keys (open only).
pub struct Keyring {
    current: Key,
    old: Vec<Key>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id)
            .field("old", &self.old.iter().map(|k| &k.id).collect::<Vec<_>>())
            .finish()
    }
}

/// Where one value belongs: the associated data of its ciphertext.
/// Whose Secret value it is: a sealed value only opens for its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Owner {
    Catalog(CatalogId),
    Environment(EnvironmentId),
}

impl From<CatalogId> for Owner {
    fn from(id: CatalogId) -> Self {
        Owner::Catalog(id)
    }
}

impl From<EnvironmentId> for Owner {
    fn from(id: EnvironmentId) -> Self {
        Owner::Environment(id)
    }
}

fn aad(owner: Owner, object: &str, field: &str, key: &str) -> Vec<u8> {
    match owner {
        Owner::Catalog(catalog) => {
            format!("lapdev catalog secret\0{catalog}\0{object}\0{field}\0{key}").into_bytes()
        }
        Owner::Environment(env) => {
            format!("lapdev environment secret\0{env}\0{object}\0{field}\0{key}").into_bytes()
        }
    }
}

impl Keyring {
    /// A keyring from raw keys (tests, embedders).
    pub fn from_keys(current: [u8; 32], old: &[[u8; 32]]) -> Self {
        Keyring {
            current: Key::new(current),
            old: old.iter().copied().map(Key::new).collect(),
        }
    }

    /// Loads `key_file`, or (when `None`) `<data_dir>/secrets.key`,
    /// generating it (mode 0600) on the first start; then the old keys.
    pub fn load(
        key_file: Option<&Path>,
        old_key_files: &[PathBuf],
        data_dir: &Path,
    ) -> Result<Self, SecretsError> {
        let current = match key_file {
            Some(path) => Key::read(path)?,
            None => load_or_generate(&data_dir.join(GENERATED_KEY_FILE))?,
        };
        let old = old_key_files
            .iter()
            .map(|p| Key::read(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Keyring { current, old })
    }

    /// The id of the key new values are sealed with.
    pub fn current_key_id(&self) -> &str {
        &self.current.id
    }

    /// Encrypts one Secret value of a catalog or an environment.
    pub(crate) fn seal(
        &self,
        owner: impl Into<Owner>,
        object: &str,
        field: &str,
        key: &str,
        plaintext: &[u8],
    ) -> SealedValue {
        let nonce = XNonce::generate();
        let ciphertext = self
            .current
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &aad(owner.into(), object, field, key),
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any value that fits in memory");
        SealedValue {
            object: object.into(),
            field: field.into(),
            key: key.into(),
            key_id: self.current.id.clone(),
            nonce: STANDARD.encode(nonce),
            ciphertext: STANDARD.encode(ciphertext),
        }
    }

    /// Decrypts one value with whichever key sealed it.
    pub(crate) fn open(
        &self,
        owner: impl Into<Owner>,
        value: &SealedValue,
    ) -> Result<Vec<u8>, SecretsError> {
        let key = std::iter::once(&self.current)
            .chain(&self.old)
            .find(|k| k.id == value.key_id)
            .ok_or_else(|| SecretsError::UnknownKey(value.key_id.clone()))?;
        let nonce = STANDARD
            .decode(&value.nonce)
            .ok()
            .and_then(|n| XNonce::try_from(n.as_slice()).ok())
            .ok_or(SecretsError::Corrupt)?;
        let ciphertext = STANDARD
            .decode(&value.ciphertext)
            .map_err(|_| SecretsError::Corrupt)?;
        key.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: &ciphertext,
                    aad: &aad(owner.into(), &value.object, &value.field, &value.key),
                },
            )
            .map_err(|_| SecretsError::Corrupt)
    }

    /// A keyed digest (it covers Secret values, so it must not be a plain
    /// hash a guess could be checked against).
    pub(crate) fn digest(&self, parts: &[&[u8]]) -> String {
        let mut h = sha2::Sha256::new();
        h.update(b"lapdev digest\0");
        h.update(self.current.bytes);
        for p in parts {
            h.update((p.len() as u64).to_be_bytes());
            h.update(p);
        }
        hex::encode(&h.finalize()[..16])
    }
}

fn load_or_generate(path: &Path) -> Result<Key, SecretsError> {
    if path.exists() {
        return Key::read(path);
    }
    let bytes = crate::auth::random::bytes::<32>();
    let write_err = |source| SecretsError::Write {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(write_err)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(write_err)?;
    std::io::Write::write_all(
        &mut file,
        format!("{}\n", STANDARD.encode(bytes)).as_bytes(),
    )
    .map_err(write_err)?;
    tracing::warn!(
        path = %path.display(),
        "generated a key for Secret values stored in catalogs; in production, manage the key \
         yourself (--secrets-key-file) and back it up: without it, stored Secret values are lost"
    );
    Ok(Key::new(bytes))
}

/// Re-seals every value sealed with an old key under the current key.
/// Returns how many changed. Values under a key the keyring lacks are left
/// (and reported as an error: their catalogs cannot be used until the key
/// is given).
pub async fn reseal_old_values(db: &Db, keyring: &Keyring) -> Result<usize, ResealError> {
    let catalogs = reseal(
        keyring,
        async |limit| {
            db.sealed_values_not_under(keyring.current_key_id(), limit)
                .await
        },
        async |owner, old, fresh| db.sealed_value_replace(owner, old, fresh).await,
    )
    .await?;
    let environments = reseal(
        keyring,
        async |limit| {
            db.environment_values_not_under(keyring.current_key_id(), limit)
                .await
        },
        async |owner, old, fresh| db.environment_value_replace(owner, old, fresh).await,
    )
    .await?;
    let done = catalogs + environments;
    if done > 0 {
        tracing::info!(
            values = done,
            key_id = %keyring.current_key_id(),
            "re-encrypted stored Secret values under the current key"
        );
    }
    Ok(done)
}

/// Re-seals, in batches, the values `fetch` finds under an old key.
async fn reseal<O>(
    keyring: &Keyring,
    fetch: impl AsyncFn(u32) -> lapdev_db::DbResult<Vec<(O, SealedValue)>>,
    replace: impl AsyncFn(O, &str, &SealedValue) -> lapdev_db::DbResult<bool>,
) -> Result<usize, ResealError>
where
    O: Into<Owner> + Copy + Ord,
{
    const BATCH: u32 = 500;
    let mut done = 0;
    let mut unknown = std::collections::BTreeSet::new();
    // Each round re-seals at least one value or ends: values under unknown
    // keys stay in the query, so the limit grows by their number.
    loop {
        let limit = BATCH.saturating_add(u32::try_from(unknown.len()).unwrap_or(u32::MAX));
        let batch = fetch(limit).await?;
        let mut progressed = false;
        for (owner, value) in batch {
            let plain = match keyring.open(owner, &value) {
                Ok(p) => p,
                Err(SecretsError::UnknownKey(id)) => {
                    unknown.insert((owner, value.object, value.field, value.key, id));
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let fresh = keyring.seal(owner, &value.object, &value.field, &value.key, &plain);
            if replace(owner, &value.key_id, &fresh).await? {
                done += 1;
            }
            progressed = true;
        }
        if !progressed {
            break;
        }
    }
    let missing: std::collections::BTreeSet<&str> =
        unknown.iter().map(|(.., id)| id.as_str()).collect();
    for id in missing {
        tracing::error!(
            key_id = %id,
            "stored Secret values are sealed with a key this server was not given; pass its \
             file in --secrets-old-key-files"
        );
    }
    Ok(done)
}

/// Why [`reseal_old_values`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum ResealError {
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error("cannot re-encrypt stored Secret values")]
    Db(#[from] lapdev_db::DbError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_rotate() {
        let catalog = CatalogId::new();
        let old = Keyring::from_keys([1; 32], &[]);
        let sealed = old.seal(catalog, "shop/db", "data", "password", b"hunter2");
        assert!(!sealed.ciphertext.contains("hunter2"));
        assert_eq!(old.open(catalog, &sealed).unwrap(), b"hunter2");
        // Two seals of one value differ (random nonce).
        let again = old.seal(catalog, "shop/db", "data", "password", b"hunter2");
        assert_ne!(again.nonce, sealed.nonce);
        // Moved to another place: does not open.
        let moved = SealedValue {
            key: "user".into(),
            ..sealed.clone()
        };
        assert!(matches!(
            old.open(catalog, &moved),
            Err(SecretsError::Corrupt)
        ));
        let new = Keyring::from_keys([2; 32], &[[1; 32]]);
        assert_ne!(new.current_key_id(), old.current_key_id());
        assert_eq!(new.open(catalog, &sealed).unwrap(), b"hunter2");
        let without_old = Keyring::from_keys([2; 32], &[]);
        assert!(matches!(
            without_old.open(catalog, &sealed),
            Err(SecretsError::UnknownKey(_))
        ));
        assert!(!format!("{new:?}").contains("[2"));
    }

    #[test]
    fn values_open_only_for_their_owner() {
        let keyring = Keyring::from_keys([3; 32], &[]);
        let id = uuid::Uuid::now_v7();
        let (catalog, env) = (CatalogId::from_uuid(id), EnvironmentId::from_uuid(id));
        let sealed = keyring.seal(env, "db", "provided", "password", b"hunter2");
        assert_eq!(keyring.open(env, &sealed).unwrap(), b"hunter2");
        // Same id, same place, but a catalog's: does not open.
        assert!(matches!(
            keyring.open(catalog, &sealed),
            Err(SecretsError::Corrupt)
        ));
        assert!(matches!(
            keyring.open(EnvironmentId::new(), &sealed),
            Err(SecretsError::Corrupt)
        ));
    }

    #[test]
    fn key_files_generate_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let a = Keyring::load(None, &[], dir.path()).unwrap();
        let b = Keyring::load(None, &[], dir.path()).unwrap();
        assert_eq!(a.current_key_id(), b.current_key_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(GENERATED_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let bad = dir.path().join("bad.key");
        std::fs::write(&bad, "c2hvcnQ=").unwrap();
        assert!(matches!(
            Keyring::load(Some(&bad), &[], dir.path()),
            Err(SecretsError::BadKey { .. })
        ));
    }
}
