//! kube-manager's own write rules, checked on every request whatever the
//! server says: writes only ever go to a Lapdev-managed namespace
//! ([`ManagedNamespace`]: `lapdev-` prefix, DNS label, ≤ 63 characters) that
//! carries the `lapdev.io/managed: "true"` label. Every write
//! path takes a [`ManagedNamespace`], which only [`managed_namespace`] makes
//! from what the server sent. Reads of source namespaces need no guard.

use k8s_openapi::api::core::v1::Namespace;
use lapdev_tunnel_proto::{MANAGED_LABEL, MANAGED_LABEL_VALUE, ManagedNamespace, TunnelError};

/// Parses a namespace name the server asked to write to, or refuses.
pub fn managed_namespace(name: &str) -> Result<ManagedNamespace, TunnelError> {
    ManagedNamespace::parse(name).map_err(|e| {
        TunnelError::forbidden(format!(
            "kube-manager only writes to Lapdev-managed namespaces; refusing to write to {e}"
        ))
    })
}

/// Refuses an existing namespace that has a Lapdev-style name but was not
/// created by Lapdev (someone's own `lapdev-tools`, say).
pub fn check_managed_label(ns: &ManagedNamespace, object: &Namespace) -> Result<(), TunnelError> {
    let labelled = object
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_LABEL))
        .is_some_and(|v| v == MANAGED_LABEL_VALUE);
    if labelled {
        Ok(())
    } else {
        Err(TunnelError::forbidden(format!(
            "namespace {ns} was not created by Lapdev (no {MANAGED_LABEL}={MANAGED_LABEL_VALUE} label); kube-manager will not change it"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapdev_tunnel_proto::ErrorCode;

    #[test]
    fn only_managed_names_pass() {
        for name in [
            "kube-system",
            "default",
            "lapdev",
            "shop",
            "lapdev-",
            "LAPDEV-x",
            "lapdev-x/../kube-system",
        ] {
            let err = managed_namespace(name).unwrap_err();
            assert_eq!(err.code, ErrorCode::Forbidden, "{name}");
            assert!(
                err.message
                    .contains("only writes to Lapdev-managed namespaces"),
                "{err}"
            );
        }
        assert_eq!(
            managed_namespace("lapdev-alice").unwrap().as_str(),
            "lapdev-alice"
        );
    }

    #[test]
    fn the_label_is_required() {
        let ns = managed_namespace("lapdev-tools").unwrap();
        let mut object = Namespace::default();
        assert_eq!(
            check_managed_label(&ns, &object).unwrap_err().code,
            ErrorCode::Forbidden
        );
        object.metadata.labels = Some([(MANAGED_LABEL.to_string(), "false".to_string())].into());
        assert!(check_managed_label(&ns, &object).is_err());
        object.metadata.labels =
            Some([(MANAGED_LABEL.to_string(), MANAGED_LABEL_VALUE.to_string())].into());
        check_managed_label(&ns, &object).unwrap();
    }
}
