//! Dependency invariants between crates, read from `cargo metadata`.
//!
//! Every workspace crate must have a row in [`LAYERS`]; a new crate without
//! one fails `every_crate_has_a_layer`, so the map in ARCHITECTURE.md cannot
//! silently go stale.

use std::collections::{BTreeMap, BTreeSet};

use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, Package, PackageId};

use crate::workspace_root;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    /// Domain types, wire contracts, pure transforms: no I/O.
    Pure = 0,
    /// Talk to the outside world: database, Kubernetes test server, transports.
    Adapter = 1,
    /// Application logic on top of adapters: the control plane.
    App = 2,
    /// Binaries: wire everything together.
    Bin = 3,
    /// Test-only tooling with no normal dependencies on the product.
    Tooling = 4,
}

/// The layer of every workspace crate. Normal dependencies between workspace
/// crates point to a lower layer, or within the pure layer to a crate listed
/// before it here.
const LAYERS: &[(&str, Layer)] = &[
    ("lapdev-domain", Layer::Pure),
    ("lapdev-api", Layer::Pure),
    ("lapdev-tunnel-proto", Layer::Pure),
    ("lapdev-manifest", Layer::Pure),
    ("lapdev-db", Layer::Adapter),
    ("kube-sim", Layer::Adapter),
    ("lapdev-server", Layer::App),
    // A library with a thin binary; `lapdev demo` embeds it.
    ("lapdev-kube-manager", Layer::App),
    ("lapdev-cli", Layer::Bin),
    ("lapdev-tidy", Layer::Tooling),
    ("lapdev-e2e", Layer::Tooling),
];

/// Crates that are never allowed in a pure crate's normal dependency tree.
const IO_CRATES: &[&str] = &[
    "tokio",
    "hyper",
    "axum",
    "sqlx",
    "sqlx-core",
    "kube",
    "kube-client",
    "reqwest",
    "mio",
];

/// Crates that talk to a Kubernetes API (or model it).
const KUBE_CRATES: &[&str] = &[
    "kube",
    "kube-client",
    "kube-runtime",
    "kube-core",
    "k8s-openapi",
];

/// The control plane must never be able to reach a cluster's Kubernetes API.
const SERVER_CRATES: &[&str] = &["lapdev-server", "lapdev-db", "lapdev-api", "lapdev-domain"];

/// The sidecar routes requests; it must not reach the database or Kubernetes.
const SIDECAR_CRATES: &[&str] = &["lapdev-sidecar", "lapdev-routing"];

fn metadata() -> Metadata {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    MetadataCommand::new()
        .cargo_path(cargo)
        .current_dir(workspace_root())
        .other_options(vec!["--offline".to_string()])
        .exec()
        .expect("cargo metadata")
}

struct Graph {
    metadata: Metadata,
}

impl Graph {
    fn load() -> Self {
        Self {
            metadata: metadata(),
        }
    }

    fn workspace(&self) -> Vec<&Package> {
        self.metadata.workspace_packages()
    }

    fn package(&self, id: &PackageId) -> &Package {
        &self.metadata[id]
    }

    fn by_name(&self, name: &str) -> Option<&Package> {
        self.workspace()
            .into_iter()
            .find(|p| p.name.as_str() == name)
    }

    /// Names of every crate in `name`'s normal (non-dev, non-build) dependency
    /// tree, transitively, for the host platform.
    fn normal_closure(&self, name: &str) -> BTreeSet<String> {
        let resolve = self.metadata.resolve.as_ref().expect("resolve graph");
        let nodes: BTreeMap<&PackageId, _> = resolve.nodes.iter().map(|n| (&n.id, n)).collect();
        let Some(root) = self.by_name(name) else {
            return BTreeSet::new();
        };
        let mut seen = BTreeSet::new();
        let mut stack = vec![&root.id];
        let mut names = BTreeSet::new();
        while let Some(id) = stack.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            for dep in &nodes[id].deps {
                let normal = dep
                    .dep_kinds
                    .iter()
                    .any(|k| k.kind == DependencyKind::Normal);
                if normal {
                    names.insert(self.package(&dep.pkg).name.to_string());
                    stack.push(&dep.pkg);
                }
            }
        }
        names
    }

    /// Direct normal dependencies of `name` that are workspace crates.
    fn direct_workspace_deps(&self, name: &str) -> Vec<String> {
        let members: BTreeSet<String> = self
            .workspace()
            .iter()
            .map(|p| p.name.to_string())
            .collect();
        let package = self.by_name(name).expect("workspace crate");
        package
            .dependencies
            .iter()
            .filter(|d| d.kind == DependencyKind::Normal && members.contains(d.name.as_str()))
            .map(|d| d.name.clone())
            .collect()
    }
}

fn layer_of(name: &str) -> Option<(usize, Layer)> {
    LAYERS
        .iter()
        .enumerate()
        .find(|(_, (n, _))| *n == name)
        .map(|(i, (_, l))| (i, *l))
}

#[test]
fn every_crate_has_a_layer() {
    let graph = Graph::load();
    let missing: Vec<String> = graph
        .workspace()
        .iter()
        .map(|p| p.name.to_string())
        .filter(|n| layer_of(n).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "crates without a row in LAYERS (add them there and to ARCHITECTURE.md): {missing:?}"
    );
}

#[test]
fn layers_only_point_down() {
    let graph = Graph::load();
    let mut violations = Vec::new();
    for package in graph.workspace() {
        let Some((index, layer)) = layer_of(&package.name) else {
            continue;
        };
        for dep in graph.direct_workspace_deps(&package.name) {
            let Some((dep_index, dep_layer)) = layer_of(&dep) else {
                continue;
            };
            let ok = dep_layer < layer
                || (dep_layer == layer && layer == Layer::Pure && dep_index < index);
            if !ok {
                violations.push(format!(
                    "{} ({layer:?}) -> {dep} ({dep_layer:?})",
                    package.name
                ));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "dependencies pointing up or sideways: {violations:#?}"
    );
}

#[test]
fn no_crate_depends_on_a_binary_only_crate() {
    let graph = Graph::load();
    let binary_only: BTreeSet<String> = graph
        .workspace()
        .iter()
        .filter(|p| !p.targets.iter().any(|t| t.is_lib()))
        .map(|p| p.name.to_string())
        .collect();
    let mut violations = Vec::new();
    for package in graph.workspace() {
        for dep in &package.dependencies {
            if binary_only.contains(dep.name.as_str()) {
                violations.push(format!("{} -> {}", package.name, dep.name));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "dependencies on binary crates: {violations:?}"
    );
}

#[test]
fn server_crates_never_depend_on_kube() {
    let graph = Graph::load();
    for server in SERVER_CRATES {
        let closure = graph.normal_closure(server);
        let hits: Vec<&&str> = KUBE_CRATES
            .iter()
            .filter(|k| closure.contains(**k))
            .collect();
        assert!(
            hits.is_empty(),
            "{server} must never reach a Kubernetes API, but depends on {hits:?}"
        );
    }
}

#[test]
fn sidecar_depends_on_neither_database_nor_kube() {
    let graph = Graph::load();
    for sidecar in SIDECAR_CRATES {
        let closure = graph.normal_closure(sidecar);
        let forbidden = KUBE_CRATES
            .iter()
            .chain(&["sqlx", "sqlx-core", "lapdev-db"])
            .filter(|k| closure.contains(**k))
            .collect::<Vec<_>>();
        assert!(forbidden.is_empty(), "{sidecar} depends on {forbidden:?}");
    }
}

#[test]
fn pure_crates_do_no_io() {
    let graph = Graph::load();
    for (name, layer) in LAYERS {
        if *layer != Layer::Pure {
            continue;
        }
        let closure = graph.normal_closure(name);
        let hits: Vec<&&str> = IO_CRATES.iter().filter(|k| closure.contains(**k)).collect();
        assert!(
            hits.is_empty(),
            "pure crate {name} depends on I/O crates {hits:?}"
        );
    }
}

/// Guards the checks above against passing vacuously (e.g. if the closure
/// walk stopped following edges): a crate known to use kube must be seen to.
#[test]
fn the_dependency_walk_sees_real_edges() {
    let graph = Graph::load();
    let closure = graph.normal_closure("kube-sim");
    assert!(
        closure.contains("kube-client") && closure.contains("tokio"),
        "{closure:?}"
    );
    let server = graph.normal_closure("lapdev-server");
    assert!(
        server.contains("lapdev-db") && server.contains("axum"),
        "{server:?}"
    );
}
