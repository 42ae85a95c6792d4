//! [`ManagedNamespace`]: the only kind of namespace kube-manager writes to.

use serde::{Deserialize, Serialize};

/// The label every Lapdev-managed namespace carries (`lapdev.io/managed`).
pub const MANAGED_LABEL: &str = "lapdev.io/managed";
/// The value of [`MANAGED_LABEL`] on Lapdev-managed namespaces.
pub const MANAGED_LABEL_VALUE: &str = "true";

/// The name of a Lapdev-managed namespace: `lapdev-` followed by at least one
/// character, a valid DNS label (RFC 1123: lowercase letters, digits and
/// `-`, starting and ending with a letter or digit) of at most 63
/// characters. Every write path in kube-manager takes one, so no message can
/// make it write to `kube-system` or a production namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ManagedNamespace(String);

/// Why a name is not a [`ManagedNamespace`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not a Lapdev-managed namespace: {reason}")]
pub struct NamespaceError {
    pub name: String,
    pub reason: &'static str,
}

impl ManagedNamespace {
    /// The required prefix.
    pub const PREFIX: &'static str = "lapdev-";
    /// The longest namespace name Kubernetes accepts.
    pub const MAX_LEN: usize = 63;

    pub fn parse(name: impl Into<String>) -> Result<Self, NamespaceError> {
        let name = name.into();
        let fail = |reason| {
            Err(NamespaceError {
                name: name.clone(),
                reason,
            })
        };
        if !name.starts_with(Self::PREFIX) || name.len() == Self::PREFIX.len() {
            return fail("the name must start with \"lapdev-\" followed by more characters");
        }
        if name.len() > Self::MAX_LEN {
            return fail("the name must be at most 63 characters long");
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return fail("only lowercase letters, digits and '-' are allowed");
        }
        if name.ends_with('-') {
            return fail("the name must end with a letter or a digit");
        }
        Ok(ManagedNamespace(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ManagedNamespace {
    type Error = NamespaceError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<ManagedNamespace> for String {
    fn from(ns: ManagedNamespace) -> Self {
        ns.0
    }
}

impl std::str::FromStr for ManagedNamespace {
    type Err = NamespaceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl std::fmt::Display for ManagedNamespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ManagedNamespace {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(name: &str, expect: &str) {
        let got = match ManagedNamespace::parse(name) {
            Ok(ns) => format!("ok {ns}"),
            Err(e) => e.reason.to_string(),
        };
        assert_eq!(got, expect, "{name:?}");
    }

    #[test]
    fn only_lapdev_dns_labels_are_managed() {
        check("lapdev-alice-shop", "ok lapdev-alice-shop");
        check("lapdev-1", "ok lapdev-1");
        check("lapdev-a-b-c-0", "ok lapdev-a-b-c-0");
        let longest = format!("lapdev-{}", "a".repeat(56));
        check(&longest, &format!("ok {longest}"));
        let prefix = "the name must start with \"lapdev-\" followed by more characters";
        for name in [
            "kube-system",
            "default",
            "lapdev",
            "lapdev-",
            "",
            "xlapdev-a",
            "Lapdev-a",
            " lapdev-a",
        ] {
            check(name, prefix);
        }
        check(
            &format!("lapdev-{}", "a".repeat(57)),
            "the name must be at most 63 characters long",
        );
        for name in [
            "lapdev-A",
            "lapdev-a_b",
            "lapdev-a.b",
            "lapdev-a/b",
            "lapdev-ä",
            "lapdev-a\n",
        ] {
            check(name, "only lowercase letters, digits and '-' are allowed");
        }
        check("lapdev-a-", "the name must end with a letter or a digit");
    }

    #[test]
    fn deserializing_checks_the_rule() {
        let ok: ManagedNamespace = serde_json::from_str("\"lapdev-x\"").unwrap();
        assert_eq!(ok.as_str(), "lapdev-x");
        let err = serde_json::from_str::<ManagedNamespace>("\"kube-system\"").unwrap_err();
        assert!(
            err.to_string().contains("not a Lapdev-managed namespace"),
            "{err}"
        );
    }
}
