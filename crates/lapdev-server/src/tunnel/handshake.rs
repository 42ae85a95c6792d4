//! The handshake, as a pure function: kube-manager's [`Hello`] and the
//! authenticated cluster in, the server's [`Welcome`] or [`Refused`] out.

use std::time::Duration;

use lapdev_db::ClusterRecord;
use lapdev_tunnel_proto::{Hello, Refused, RefusedCode, VersionRange, Welcome};

use super::TunnelSettings;

fn secs(d: Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX).max(1)
}

/// Accepts `hello` for `cluster` when a protocol version is common to both.
pub(crate) fn answer_hello(
    hello: &Hello,
    cluster: &ClusterRecord,
    settings: &TunnelSettings,
) -> Result<Welcome, Refused> {
    let ours = VersionRange::CURRENT;
    let Some(version) = ours.negotiate(hello.supported) else {
        return Err(Refused {
            code: RefusedCode::UnsupportedVersion,
            message: format!(
                "no common tunnel protocol version: this server speaks {}..={}, kube-manager {} speaks {}..={}; upgrade the older side",
                ours.min,
                ours.max,
                hello.kube_manager_version,
                hello.supported.min,
                hello.supported.max
            ),
            server_supported: Some(ours),
        });
    };
    Ok(Welcome {
        version,
        cluster_id: cluster.id.to_string(),
        cluster_name: cluster.name.to_string(),
        heartbeat_interval_secs: secs(settings.heartbeat_interval),
        status_interval_secs: secs(settings.status_interval),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapdev_domain::{ClusterId, ClusterName, ClusterPermissions, ClusterRoles, OrganizationId};

    fn cluster() -> ClusterRecord {
        ClusterRecord {
            id: ClusterId::new(),
            organization_id: OrganizationId::new(),
            name: ClusterName::parse("dev").unwrap(),
            roles: ClusterRoles::BOTH,
            permissions: ClusterPermissions::ALL,
            created_at: jiff::Timestamp::now(),
            last_seen_at: None,
            facts: None,
            token_prefix: None,
        }
    }

    fn hello(min: u32, max: u32) -> Hello {
        Hello {
            supported: VersionRange { min, max },
            kube_manager_version: "0.1.0".into(),
            max_concurrent_requests: 8,
        }
    }

    #[test]
    fn negotiates_the_highest_common_version() {
        let settings = TunnelSettings::default();
        let c = cluster();
        let welcome = answer_hello(&hello(1, 99), &c, &settings).unwrap();
        assert_eq!(welcome.version, VersionRange::CURRENT.max);
        assert_eq!(welcome.cluster_id, c.id.to_string());
        assert_eq!(welcome.cluster_name, "dev");
        assert_eq!(welcome.heartbeat_interval_secs, 10);
        assert_eq!(welcome.status_interval_secs, 60);
    }

    #[test]
    fn refuses_without_a_common_version() {
        let refused =
            answer_hello(&hello(90, 99), &cluster(), &TunnelSettings::default()).unwrap_err();
        assert_eq!(refused.code, RefusedCode::UnsupportedVersion);
        assert_eq!(refused.server_supported, Some(VersionRange::CURRENT));
        assert!(refused.message.contains("upgrade"), "{}", refused.message);
    }
}
