//! Facts about the cluster for the [`ClusterStatus`] report, read from the
//! Kubernetes API: `/version` and the Node list (read-only).

use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::ListParams;
use lapdev_tunnel_proto::ClusterStatus;

/// kube-manager's own version, as reported to the server.
pub const KUBE_MANAGER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Reads `/version` and every Node (paged) and sums their allocatable
/// CPU and memory.
pub async fn collect(client: &kube::Client) -> Result<ClusterStatus, kube::Error> {
    let version = client.apiserver_version().await?;
    let nodes: Api<Node> = Api::all(client.clone());
    let mut status = ClusterStatus {
        kube_manager_version: KUBE_MANAGER_VERSION.to_string(),
        kubernetes_version: version.git_version,
        node_count: 0,
        ready_node_count: 0,
        allocatable_cpu_millis: 0,
        allocatable_memory_bytes: 0,
    };
    let mut params = ListParams::default().limit(500);
    loop {
        let page = nodes.list(&params).await?;
        for node in &page.items {
            add_node(&mut status, node);
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    Ok(status)
}

fn add_node(status: &mut ClusterStatus, node: &Node) {
    status.node_count += 1;
    let Some(node_status) = &node.status else {
        return;
    };
    let ready = node_status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    if ready {
        status.ready_node_count += 1;
    }
    let allocatable = node_status.allocatable.as_ref();
    let get = |key: &str| allocatable.and_then(|a| a.get(key)).map(|q| q.0.as_str());
    if let Some(q) = get("cpu") {
        match parse_quantity(q) {
            Some(cores) => status.allocatable_cpu_millis += (cores * 1000.0).round() as u64,
            None => tracing::warn!(quantity = q, "unparsable allocatable cpu on a node"),
        }
    }
    if let Some(q) = get("memory") {
        match parse_quantity(q) {
            Some(bytes) => status.allocatable_memory_bytes += bytes.round() as u64,
            None => tracing::warn!(quantity = q, "unparsable allocatable memory on a node"),
        }
    }
}

/// A Kubernetes resource quantity (`500m`, `8`, `16Gi`, `1.5`, `2e3`, `128974848`)
/// in base units, or `None` when it is not one. Negative quantities are refused.
pub fn parse_quantity(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+'))
        .unwrap_or(q.len());
    let (number, suffix) = q.split_at(split);
    let mut value: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e if e.starts_with(['e', 'E']) => 10f64.powi(e[1..].parse().ok()?),
        _ => return None,
    };
    value *= factor;
    (value.is_finite() && value >= 0.0).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        let check = |q: &str, expect: Option<f64>| assert_eq!(parse_quantity(q), expect, "{q}");
        check("8", Some(8.0));
        check("3500m", Some(3.5));
        check("250m", Some(0.25));
        check("1.5", Some(1.5));
        check("16Gi", Some(17_179_869_184.0));
        check("16417848Ki", Some(16_811_876_352.0));
        check("128974848", Some(128_974_848.0));
        check("129M", Some(129e6));
        check("2e3", Some(2000.0));
        check("1E2", Some(100.0));
        check("", None);
        check("-1", None);
        check("12x", None);
        check("Gi", None);
    }
}
