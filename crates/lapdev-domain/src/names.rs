//! Validated names. A value of these types has passed its rules once, at the
//! edge; everything inside can rely on it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a name was refused, in words meant for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: {reason}")]
pub struct NameError {
    pub what: &'static str,
    pub reason: String,
}

fn refuse(what: &'static str, reason: impl Into<String>) -> NameError {
    NameError {
        what,
        reason: reason.into(),
    }
}

macro_rules! name_type {
    ($(#[$meta:meta])* $name:ident, $what:literal, $check:path) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: impl Into<String>) -> Result<Self, NameError> {
                let value = value.into();
                $check(&value).map_err(|reason| refuse($what, reason))?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = NameError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

name_type!(
    /// A login name: 1–64 characters of `a-z`, `0-9`, `-`, `_`, `.`, starting
    /// with a letter or digit.
    Username,
    "username",
    check_username
);
name_type!(
    /// An organization's name, used in URLs: a DNS label (1–63 characters of
    /// `a-z`, `0-9`, `-`, starting and ending with a letter or digit).
    OrganizationName,
    "organization name",
    check_dns_label
);
name_type!(
    /// A cluster's name, unique in its organization and used in URLs and on
    /// the command line: a DNS label like [`OrganizationName`].
    ClusterName,
    "cluster name",
    check_dns_label
);
name_type!(
    /// An App Catalog's name, unique in its organization and used in URLs
    /// and on the command line: a DNS label like [`OrganizationName`].
    CatalogName,
    "catalog name",
    check_dns_label
);
name_type!(
    /// An environment's name, unique in its organization and used in URLs,
    /// on the command line and in its namespace (`lapdev-<name>-<suffix>`):
    /// a DNS label of at most [`ENVIRONMENT_NAME_MAX`] characters.
    EnvironmentName,
    "environment name",
    check_environment_name
);
name_type!(
    /// A human label for an API token: 1–100 printable characters.
    TokenName,
    "token name",
    check_label
);

fn check_username(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 64 {
        return Err("must be 1 to 64 characters long".into());
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return Err("must start with a lowercase letter or a digit".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "{c:?} is not allowed (use lowercase letters, digits, '-', '_' and '.')"
        ));
    }
    Ok(())
}

/// RFC 1123 label, the rule Kubernetes uses for namespace names.
pub(crate) fn check_dns_label(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 63 {
        return Err("must be 1 to 63 characters long".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "{c:?} is not allowed (use lowercase letters, digits and '-')"
        ));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("must start and end with a letter or a digit".into());
    }
    Ok(())
}

/// Longest environment name: `lapdev-` + name + `-` + a 5-character
/// suffix must fit a namespace name (63).
pub const ENVIRONMENT_NAME_MAX: usize = 50;

fn check_environment_name(s: &str) -> Result<(), String> {
    check_dns_label(s)?;
    if s.len() > ENVIRONMENT_NAME_MAX {
        return Err(format!(
            "must be at most {ENVIRONMENT_NAME_MAX} characters long (it becomes part of a namespace name)"
        ));
    }
    Ok(())
}

fn check_label(s: &str) -> Result<(), String> {
    let trimmed = s.trim();
    if trimmed.is_empty() || s.chars().count() > 100 {
        return Err("must be 1 to 100 characters long".into());
    }
    if trimmed.len() != s.len() {
        return Err("must not start or end with whitespace".into());
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check<T: std::fmt::Debug>(parsed: Result<T, NameError>, expect: &str) {
        let got = match parsed {
            Ok(_) => "ok".to_string(),
            Err(e) => e.to_string(),
        };
        assert_eq!(got, expect);
    }

    #[test]
    fn usernames() {
        check(Username::parse("alice"), "ok");
        check(Username::parse("a.b-c_9"), "ok");
        check(
            Username::parse(""),
            "invalid username: must be 1 to 64 characters long",
        );
        check(
            Username::parse("-x"),
            "invalid username: must start with a lowercase letter or a digit",
        );
        check(
            Username::parse("Alice"),
            "invalid username: must start with a lowercase letter or a digit",
        );
        check(
            Username::parse("al ice"),
            "invalid username: ' ' is not allowed (use lowercase letters, digits, '-', '_' and '.')",
        );
        check(Username::parse("a".repeat(64)), "ok");
        check(
            Username::parse("a".repeat(65)),
            "invalid username: must be 1 to 64 characters long",
        );
    }

    #[test]
    fn organization_names_are_dns_labels() {
        check(OrganizationName::parse("acme"), "ok");
        check(OrganizationName::parse("acme-2"), "ok");
        check(OrganizationName::parse("a".repeat(63)), "ok");
        check(
            OrganizationName::parse("a".repeat(64)),
            "invalid organization name: must be 1 to 63 characters long",
        );
        check(
            OrganizationName::parse("acme-"),
            "invalid organization name: must start and end with a letter or a digit",
        );
        check(
            OrganizationName::parse("Acme"),
            "invalid organization name: 'A' is not allowed (use lowercase letters, digits and '-')",
        );
    }

    #[test]
    fn token_names() {
        check(TokenName::parse("laptop CLI"), "ok");
        check(
            TokenName::parse(" x"),
            "invalid token name: must not start or end with whitespace",
        );
        check(
            TokenName::parse("a\nb"),
            "invalid token name: must not contain control characters",
        );
        check(
            TokenName::parse(""),
            "invalid token name: must be 1 to 100 characters long",
        );
    }

    #[test]
    fn names_deserialize_through_validation() {
        let ok: Result<Username, _> = serde_json::from_str("\"bob\"");
        assert!(ok.is_ok());
        let bad: Result<Username, _> = serde_json::from_str("\"BOB\"");
        assert!(bad.unwrap_err().to_string().contains("invalid username"));
    }
}
