//! The catalog's Secret policy, and filling redacted values per environment.
//!
//! By default a Secret's values are copied into the catalog. A
//! [`SecretPolicy`] can say, per Secret or per key, [`SecretAction::Redact`]
//! (the key is kept, its value is not stored: each environment must supply
//! it) or [`SecretAction::Exclude`] (the key, or the whole Secret, is not
//! stored at all; use it for Secrets a dev cluster provides by other means).
//!
//! The redaction marker: a redacted key has no value in `data`, and the
//! Secret carries the annotation [`REDACTED_KEYS`] listing the redacted keys,
//! sorted and comma-separated (Secret keys cannot contain commas). No
//! placeholder value exists that could be deployed by mistake, the server can
//! read the list from the stored JSON without Kubernetes types, and
//! [`fill_redacted`] can name exactly which values are missing.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use serde::{Deserialize, Serialize};

/// The policy and the names of redacted values are pure data, so they are
/// the tunnel protocol's own types: kube-manager uses what the server sent,
/// and sends what this crate found, without converting.
pub use lapdev_tunnel_proto::{SecretAction, SecretKey, SecretPolicy, SecretRule};

use crate::keys::REDACTED_KEYS;
use crate::object::ManifestObject;

/// The result of [`apply_policy`].
#[derive(Debug, Clone, PartialEq)]
pub enum SecretOutcome {
    /// The Secret is not stored.
    Excluded,
    /// The Secret to store, and the keys whose values each environment must
    /// supply (sorted).
    Kept {
        secret: Secret,
        redacted_keys: Vec<String>,
    },
}

/// Applies the policy to one Secret. `stringData` is folded into `data`
/// first (as the API server does), so no value escapes through it.
pub fn apply_policy(secret: &Secret, policy: &SecretPolicy) -> SecretOutcome {
    let namespace = secret.metadata.namespace.as_deref();
    let name = secret.metadata.name.as_deref().unwrap_or_default();
    let mut secret = secret.clone();
    let mut data = secret.data.take().unwrap_or_default();
    for (k, v) in secret.string_data.take().unwrap_or_default() {
        data.insert(k, ByteString(v.into_bytes()));
    }
    let mut redacted = redacted_keys(&secret);
    let mut kept = BTreeMap::new();
    for (key, value) in data {
        match policy.action_for(namespace, name, Some(&key)) {
            SecretAction::Copy => {
                kept.insert(key, value);
            }
            SecretAction::Redact => redacted.push(key),
            SecretAction::Exclude => {}
        }
    }
    redacted.sort();
    redacted.dedup();
    if kept.is_empty()
        && redacted.is_empty()
        && policy.action_for(namespace, name, None) == SecretAction::Exclude
    {
        return SecretOutcome::Excluded;
    }
    secret.data = (!kept.is_empty()).then_some(kept);
    set_redacted_keys(&mut secret, &redacted);
    SecretOutcome::Kept {
        secret,
        redacted_keys: redacted,
    }
}

/// The keys the [`REDACTED_KEYS`] annotation lists.
pub fn redacted_keys(secret: &Secret) -> Vec<String> {
    secret
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REDACTED_KEYS))
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn set_redacted_keys(secret: &mut Secret, keys: &[String]) {
    let annotations = secret.metadata.annotations.get_or_insert_default();
    if keys.is_empty() {
        annotations.remove(REDACTED_KEYS);
    } else {
        annotations.insert(REDACTED_KEYS.to_string(), keys.join(","));
    }
    if annotations.is_empty() {
        secret.metadata.annotations = None;
    }
}

/// The values an environment supplies for redacted keys: Secret name → key →
/// value. Serialized with base64 values, like a Secret's `data`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretValues(pub BTreeMap<String, BTreeMap<String, ByteString>>);

impl SecretValues {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, secret: &str, key: &str, value: impl Into<Vec<u8>>) -> Self {
        self.insert(secret, key, value);
        self
    }

    pub fn insert(&mut self, secret: &str, key: &str, value: impl Into<Vec<u8>>) {
        self.0
            .entry(secret.to_string())
            .or_default()
            .insert(key.to_string(), ByteString(value.into()));
    }

    pub fn get(&self, secret: &str, key: &str) -> Option<&ByteString> {
        self.0.get(secret)?.get(key)
    }
}

/// Never prints values.
impl fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self
            .0
            .iter()
            .flat_map(|(s, keys)| keys.keys().map(move |k| format!("{s}/{k}")))
            .collect();
        f.debug_tuple("SecretValues").field(&keys).finish()
    }
}

/// Every redacted value the objects need, sorted: what an environment must
/// be given before it can start.
pub fn required_values(objects: &[ManifestObject]) -> Vec<SecretKey> {
    let mut out: Vec<SecretKey> = objects
        .iter()
        .filter_map(|o| match o {
            ManifestObject::Secret(s) => Some(s),
            _ => None,
        })
        .flat_map(|s| {
            let secret = s.metadata.name.clone().unwrap_or_default();
            redacted_keys(s).into_iter().map(move |key| SecretKey {
                secret: secret.clone(),
                key,
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Fills the redacted keys of `secret` from `values` and removes the marker.
/// Values for keys that are not redacted are ignored: an environment fills
/// placeholders, it does not override copied values. On error the Secret is
/// unchanged and every missing key is named.
pub fn fill_redacted(secret: &mut Secret, values: &SecretValues) -> Result<(), Vec<SecretKey>> {
    let name = secret.metadata.name.clone().unwrap_or_default();
    let redacted = redacted_keys(secret);
    let missing: Vec<SecretKey> = redacted
        .iter()
        .filter(|k| values.get(&name, k).is_none())
        .map(|key| SecretKey {
            secret: name.clone(),
            key: key.clone(),
        })
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    for key in redacted {
        let value = values.get(&name, &key).cloned().unwrap_or_default();
        secret.data.get_or_insert_default().insert(key, value);
    }
    set_redacted_keys(secret, &[]);
    Ok(())
}
