//! Rendering of workloads, catalogs and refresh previews for people. A
//! catalog shows its Secret keys only: the API never returns values.

use std::fmt::Write;

use lapdev_api::{
    Catalog, CatalogSummary, FieldValue, ObjectChange, RefreshPreview, SecretAction, Workload,
};

use super::{Tabular, time};

impl Tabular for Workload {
    const HEADERS: &'static [&'static str] = &["NAMESPACE", "KIND", "NAME", "READY", "IMAGES"];
    fn row(&self) -> Vec<String> {
        vec![
            self.namespace.clone(),
            self.kind.to_string(),
            self.name.clone(),
            format!("{}/{}", self.ready_replicas, self.replicas),
            self.images.join(","),
        ]
    }
}

impl Tabular for CatalogSummary {
    const HEADERS: &'static [&'static str] = &[
        "NAME",
        "DESCRIPTION",
        "SOURCE CLUSTER",
        "WORKLOADS",
        "UPDATED",
    ];
    fn row(&self) -> Vec<String> {
        vec![
            self.name.to_string(),
            self.description.clone(),
            self.source_cluster
                .as_ref()
                .map_or_else(|| "(deleted)".to_owned(), ToString::to_string),
            self.workload_count.to_string(),
            time(self.updated_at),
        ]
    }
}

/// `show` as a table: one row for the catalog, by its summary.
impl Tabular for Catalog {
    const HEADERS: &'static [&'static str] = CatalogSummary::HEADERS;
    fn row(&self) -> Vec<String> {
        self.summary.row()
    }
}

fn action(a: SecretAction) -> &'static str {
    match a {
        SecretAction::Copy => "copy",
        SecretAction::Redact => "redact",
        SecretAction::Exclude => "exclude",
    }
}

/// A catalog in sections: workloads, objects (Secret keys only),
/// dependencies, warnings, Secret policy.
pub(crate) fn catalog_details(c: &Catalog) -> String {
    let s = &c.summary;
    let mut out = String::new();
    let source = s
        .source_cluster
        .as_ref()
        .map_or_else(|| "(deleted)".to_owned(), ToString::to_string);
    let _ = writeln!(out, "Catalog:        {}", s.name);
    if !s.description.is_empty() {
        let _ = writeln!(out, "Description:    {}", s.description);
    }
    let _ = writeln!(out, "Source cluster: {source}");
    let _ = writeln!(out, "Updated:        {}", time(s.updated_at));
    let _ = writeln!(out, "\nWorkloads ({}):", c.workloads.len());
    for w in &c.workloads {
        let _ = writeln!(out, "  {w}");
    }
    let _ = writeln!(out, "\nObjects ({}):", c.objects.len());
    for o in &c.objects {
        let mut line = format!("  {}", o.object);
        if !o.secret_keys.is_empty() {
            let _ = write!(line, "  keys: {}", o.secret_keys.join(", "));
        }
        if !o.redacted_keys.is_empty() {
            let _ = write!(line, "  redacted: {}", o.redacted_keys.join(", "));
        }
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "\nDependencies:");
    for d in &c.dependencies {
        let deps: Vec<String> = d.depends_on.iter().map(ToString::to_string).collect();
        let deps = if deps.is_empty() {
            "(none)".to_owned()
        } else {
            deps.join(", ")
        };
        let _ = writeln!(out, "  {} -> {deps}", d.workload);
    }
    let _ = writeln!(out, "\nWarnings ({}):", c.warnings.len());
    for w in &c.warnings {
        let key = w
            .key
            .as_ref()
            .map(|k| format!(" key {k}"))
            .unwrap_or_default();
        let severity = match w.severity {
            lapdev_api::Severity::Warning => "warning",
            lapdev_api::Severity::Note => "note",
        };
        let _ = writeln!(
            out,
            "  {severity}: {} needs {}{key}, which is missing ({})",
            w.workload, w.missing, w.field
        );
    }
    let p = &c.secret_policy;
    let _ = writeln!(out, "\nSecret policy: default {}", action(p.default));
    for r in &p.rules {
        let ns = r
            .namespace
            .as_ref()
            .map(|n| format!("{n}/"))
            .unwrap_or_default();
        let key = r.key.as_ref().map(|k| format!("/{k}")).unwrap_or_default();
        let _ = writeln!(out, "  {} {ns}{}{key}", action(r.action), r.secret);
    }
    if !c.excluded_secrets.is_empty() {
        let _ = writeln!(out, "\nExcluded Secrets:");
        for e in &c.excluded_secrets {
            let _ = writeln!(out, "  {e}");
        }
    }
    if !c.required_values.is_empty() {
        let _ = writeln!(out, "\nValues each environment must supply:");
        for v in &c.required_values {
            let _ = writeln!(out, "  {}/{}", v.secret, v.key);
        }
    }
    out
}

fn value(v: &FieldValue) -> String {
    match v {
        FieldValue::Absent => "(absent)".to_owned(),
        FieldValue::Hidden => "(hidden)".to_owned(),
        FieldValue::Value(v) => v.to_string(),
    }
}

/// A refresh preview: `+` added, `-` removed, `~` changed with its fields.
pub(crate) fn refresh_preview(p: &RefreshPreview) -> String {
    let mut out = String::new();
    if p.changes.is_empty() {
        out.push_str("Up to date: the source cluster matches the catalog.\n");
    }
    for d in &p.changes {
        match &d.change {
            ObjectChange::Added => {
                let _ = writeln!(out, "+ {}", d.object);
            }
            ObjectChange::Removed => {
                let _ = writeln!(out, "- {}", d.object);
            }
            ObjectChange::Changed { fields } => {
                let _ = writeln!(out, "~ {}", d.object);
                for f in fields {
                    let _ = writeln!(
                        out,
                        "    {}: {} -> {}",
                        f.path,
                        value(&f.old),
                        value(&f.new)
                    );
                }
            }
        }
    }
    if !p.warnings.is_empty() {
        let _ = writeln!(out, "{} warning(s) in the source:", p.warnings.len());
        for w in &p.warnings {
            let _ = writeln!(out, "  {} needs {} ({})", w.workload, w.missing, w.field);
        }
    }
    let _ = writeln!(out, "digest: {}", p.digest);
    out
}
