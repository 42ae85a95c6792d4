//! Seeding: multi-document YAML manifests loaded at start (`--seed DIR`),
//! plus the bootstrap namespaces every cluster has. The sample production
//! app shipped in `seed/` is compiled in as [`SAMPLE_SEED`].

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::core::Core;
use crate::error::ApiError;
use crate::registry;

/// The sample seed files (`crates/kube-sim/seed/*.yaml`), compiled in.
pub const SAMPLE_SEED: &[(&str, &str)] = &[
    ("00-system.yaml", include_str!("../seed/00-system.yaml")),
    ("10-shop.yaml", include_str!("../seed/10-shop.yaml")),
    ("20-billing.yaml", include_str!("../seed/20-billing.yaml")),
];

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read seed path {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: document {index} is not valid YAML: {message}")]
    Yaml {
        file: String,
        index: usize,
        message: String,
    },
    #[error("{file}: {kind} ({api_version}) is not served by kube-sim")]
    UnknownKind {
        file: String,
        api_version: String,
        kind: String,
    },
    #[error("{file}: cannot create {kind} {name:?}: {source}")]
    Create {
        file: String,
        kind: String,
        name: String,
        source: Box<ApiError>,
    },
}

/// Parses one file's documents (empty documents and `List`s handled).
pub fn parse_documents(file: &str, text: &str) -> Result<Vec<Value>, SeedError> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| SeedError::Yaml {
        file: file.into(),
        index: 0,
        message: e.to_string(),
    })?;
    let mut out = Vec::new();
    for d in docs {
        match d {
            Value::Null => {}
            Value::Object(ref m) if m.get("kind").and_then(Value::as_str) == Some("List") => {
                out.extend(
                    m.get("items")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// Reads every `*.yaml`/`*.yml`/`*.json` file of a directory (sorted by name), or one file.
pub(crate) fn read_path(path: &Path) -> Result<Vec<(String, String)>, SeedError> {
    let io = |source| SeedError::Io {
        path: path.to_path_buf(),
        source,
    };
    if path.is_file() {
        return Ok(vec![(
            path.display().to_string(),
            std::fs::read_to_string(path).map_err(io)?,
        )]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).map_err(|source| SeedError::Io {
                path: f.clone(),
                source,
            })?;
            Ok((f.display().to_string(), text))
        })
        .collect()
}

/// Whether a Service names its cluster IP (not headless, not left empty).
fn claims_cluster_ip(service: &Value) -> bool {
    service
        .pointer("/spec/clusterIP")
        .and_then(Value::as_str)
        .is_some_and(|ip| !ip.is_empty() && ip != "None")
}

/// The namespaces every cluster starts with.
pub(crate) fn bootstrap(core: &Core) {
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let _ = core.create(
            registry::namespaces(),
            None,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            "kube-apiserver",
        );
    }
}

/// Creates the documents: Namespaces first, then Nodes, then Services that
/// name their clusterIP, then the rest in order. An address is only handed
/// out after every seed file has claimed its own (the sample's `kube-dns`
/// claims 10.96.0.10, whatever `--seed` loads before it).
/// Namespaces that already exist are skipped.
pub(crate) fn load(core: &Core, files: &[(String, String)]) -> Result<usize, SeedError> {
    let mut docs = Vec::new();
    for (file, text) in files {
        for d in parse_documents(file, text)? {
            docs.push((file.clone(), d));
        }
    }
    let rank = |d: &Value| match d.get("kind").and_then(Value::as_str) {
        Some("Namespace") => 0,
        Some("Node") => 1,
        Some("Service") if claims_cluster_ip(d) => 2,
        _ => 3,
    };
    docs.sort_by_key(|(_, d)| rank(d));
    let mut n = 0;
    for (file, d) in docs {
        let kind = d
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let api_version = d
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let res = registry::by_kind(&api_version, &kind).ok_or_else(|| SeedError::UnknownKind {
            file: file.clone(),
            api_version: api_version.clone(),
            kind: kind.clone(),
        })?;
        let ns = res
            .def()
            .namespaced
            .then(|| crate::meta::namespace(&d).unwrap_or("default").to_string());
        let name = crate::meta::name(&d).to_string();
        match core.create(res, ns.as_deref(), d, "kube-sim-seed") {
            Ok(_) => n += 1,
            Err(ApiError::AlreadyExists { .. }) if kind == "Namespace" => {}
            Err(source) => {
                return Err(SeedError::Create {
                    file,
                    kind,
                    name,
                    source: Box::new(source),
                });
            }
        }
    }
    Ok(n)
}
