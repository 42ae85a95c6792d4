//! `lapdev catalog ...`: App Catalogs — list, show, create from workloads of
//! a source cluster (with a Secret policy), edit, add and remove workloads,
//! refresh (preview, then `--apply`) and delete.

use lapdev_api::{
    AddWorkloads, ApplyRefresh, CreateCatalog, PageQuery, SecretAction, SecretPolicy, SecretRule,
    UpdateCatalog,
};

use super::{open_session, print, print_page};
use crate::cli::{CatalogCommand, GlobalArgs};
use crate::output::{self, OutputFormat};
use crate::session::collect_pages;

/// `secret` or `secret/key` → a rule with `action`.
fn rule(spec: &str, action: SecretAction) -> anyhow::Result<SecretRule> {
    let (secret, key) = match spec.split_once('/') {
        Some((s, k)) => (s, Some(k)),
        None => (spec, None),
    };
    anyhow::ensure!(
        !secret.is_empty() && key.is_none_or(|k| !k.is_empty() && !k.contains('/')),
        "{spec:?} is not SECRET or SECRET/KEY"
    );
    Ok(SecretRule {
        namespace: None,
        secret: secret.to_owned(),
        key: key.map(str::to_owned),
        action,
    })
}

fn print_catalog(format: OutputFormat, catalog: &lapdev_api::Catalog) -> anyhow::Result<()> {
    match format {
        OutputFormat::Table => print(&output::catalog_details(catalog)),
        format => print(&output::serialized(format, catalog)?),
    }
}

pub(super) async fn run(global: &GlobalArgs, command: CatalogCommand) -> anyhow::Result<()> {
    let session = open_session(global)?;
    let client = &session.client;
    let org = session.org().await?;
    match command {
        CatalogCommand::List(list) => {
            let page = collect_pages(&list, async |q: PageQuery| {
                client.list_catalogs(&org, &q).await
            })
            .await?;
            print_page(global.output, &page)
        }
        CatalogCommand::Show { name } => {
            print_catalog(global.output, &client.get_catalog(&org, &name).await?)
        }
        CatalogCommand::Create {
            name,
            cluster,
            workloads,
            description,
            redact,
            exclude,
        } => {
            let mut rules = Vec::new();
            for spec in &redact {
                rules.push(rule(spec, SecretAction::Redact)?);
            }
            for spec in &exclude {
                rules.push(rule(spec, SecretAction::Exclude)?);
            }
            let request = CreateCatalog {
                name,
                description,
                cluster,
                workloads,
                secret_policy: SecretPolicy {
                    default: SecretAction::Copy,
                    rules,
                },
            };
            let created = client.create_catalog(&org, &request).await?;
            if global.output == OutputFormat::Table {
                eprintln!(
                    "Created catalog {} from cluster {} ({} workloads, {} objects, {} warnings).",
                    created.summary.name,
                    request.cluster,
                    created.workloads.len(),
                    created.objects.len(),
                    created.warnings.len()
                );
            }
            print_catalog(global.output, &created)
        }
        CatalogCommand::Edit {
            name,
            new_name,
            description,
        } => {
            anyhow::ensure!(
                new_name.is_some() || description.is_some(),
                "nothing to change: pass --name or --description"
            );
            let update = UpdateCatalog {
                name: new_name,
                description,
            };
            print_catalog(
                global.output,
                &client.update_catalog(&org, &name, &update).await?,
            )
        }
        CatalogCommand::AddWorkload { name, workloads } => {
            let request = AddWorkloads { workloads };
            print_catalog(
                global.output,
                &client.add_catalog_workloads(&org, &name, &request).await?,
            )
        }
        CatalogCommand::RemoveWorkload { name, workload } => print_catalog(
            global.output,
            &client
                .remove_catalog_workload(&org, &name, &workload)
                .await?,
        ),
        CatalogCommand::Refresh {
            name,
            apply,
            digest,
        } => {
            let digest = match digest {
                Some(digest) => digest,
                None => {
                    let preview = client.preview_catalog_refresh(&org, &name).await?;
                    if !apply || global.output == OutputFormat::Table {
                        match global.output {
                            OutputFormat::Table => print(&output::refresh_preview(&preview))?,
                            format => print(&output::serialized(format, &preview)?)?,
                        }
                    }
                    if !apply {
                        if global.output == OutputFormat::Table && !preview.changes.is_empty() {
                            eprintln!(
                                "Apply exactly this with: lapdev catalog refresh {name} --apply \
                                 --digest {}",
                                preview.digest
                            );
                        }
                        return Ok(());
                    }
                    if preview.changes.is_empty() {
                        eprintln!("Catalog {name} is up to date: nothing to apply.");
                        return Ok(());
                    }
                    preview.digest
                }
            };
            let applied = client
                .apply_catalog_refresh(&org, &name, &ApplyRefresh { digest })
                .await?;
            if global.output == OutputFormat::Table {
                eprintln!("Applied the refresh to catalog {name}.");
                Ok(())
            } else {
                print_catalog(global.output, &applied)
            }
        }
        CatalogCommand::Delete { name } => {
            client.delete_catalog(&org, &name).await?;
            eprintln!("Deleted catalog {name} from organization {org}.");
            Ok(())
        }
    }
}
