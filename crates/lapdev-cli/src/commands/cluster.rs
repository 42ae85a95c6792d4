//! `lapdev cluster ...`: connected Kubernetes clusters, their tokens and the
//! kube-manager install manifest.

use lapdev_api::{ClusterCredentials, CreateCluster, PageQuery, TOKEN_PLACEHOLDER, UpdateCluster};

use super::{open_session, print, print_one, print_page, read_stdin_line};
use crate::cli::{ClusterCommand, GlobalArgs, permissions};
use crate::output::{self, OutputFormat};
use crate::session::collect_pages;

pub(super) async fn run(global: &GlobalArgs, command: ClusterCommand) -> anyhow::Result<()> {
    let session = open_session(global)?;
    let client = &session.client;
    let org = session.org().await?;
    match command {
        ClusterCommand::List(list) => {
            let page = collect_pages(&list, async |q: PageQuery| {
                client.list_clusters(&org, &q).await
            })
            .await?;
            print_page(global.output, &page)
        }
        ClusterCommand::Show { name } => {
            let cluster = client.get_cluster(&org, &name).await?;
            print_one(global.output, &cluster)
        }
        ClusterCommand::Create {
            name,
            roles,
            permissions: perms,
        } => {
            let request = CreateCluster {
                name,
                roles: (!roles.is_empty()).then(|| roles.into_iter().map(Into::into).collect()),
                permissions: if perms.is_empty() {
                    None
                } else {
                    Some(permissions(&perms).map_err(anyhow::Error::msg)?)
                },
            };
            let created = client.create_cluster(&org, &request).await?;
            print_credentials(global.output, &created, "Created")
        }
        ClusterCommand::Rename { name, new_name } => {
            let update = UpdateCluster {
                name: Some(new_name),
                ..UpdateCluster::default()
            };
            print_one(
                global.output,
                &client.update_cluster(&org, &name, &update).await?,
            )
        }
        ClusterCommand::Delete { name } => {
            client.delete_cluster(&org, &name).await?;
            eprintln!(
                "Deleted cluster {name} from organization {org}. kube-manager still runs in the \
                 cluster: remove it with `kubectl delete namespace lapdev` (and the lapdev-* \
                 cluster-scoped RBAC and admission policy objects)."
            );
            Ok(())
        }
        ClusterCommand::SetRoles { name, roles } => {
            let update = UpdateCluster {
                roles: Some(roles.into_iter().map(Into::into).collect()),
                ..UpdateCluster::default()
            };
            print_one(
                global.output,
                &client.update_cluster(&org, &name, &update).await?,
            )
        }
        ClusterCommand::SetPermissions {
            name,
            permissions: perms,
        } => {
            let update = UpdateCluster {
                permissions: Some(permissions(&perms).map_err(anyhow::Error::msg)?),
                ..UpdateCluster::default()
            };
            print_one(
                global.output,
                &client.update_cluster(&org, &name, &update).await?,
            )
        }
        ClusterCommand::Workloads {
            cluster,
            namespace,
            kind,
            name,
            all,
        } => {
            let query = lapdev_api::WorkloadsQuery {
                namespace,
                kind: (!kind.is_empty()).then(|| kind.join(",")),
                name,
                include_system: all,
            };
            let list = client.list_workloads(&org, &cluster, &query).await?;
            match global.output {
                OutputFormat::Table => {
                    print(&output::table(&list.items))?;
                    if list.truncated {
                        eprintln!("(more workloads matched: narrow the filters)");
                    }
                    Ok(())
                }
                format => print(&output::serialized(format, &list)?),
            }
        }
        ClusterCommand::RotateToken { name } => {
            let rotated = client.rotate_cluster_token(&org, &name).await?;
            print_credentials(global.output, &rotated, "Rotated the token of")
        }
        ClusterCommand::RevokeToken { name } => {
            let cluster = client.revoke_cluster_token(&org, &name).await?;
            if global.output != OutputFormat::Table {
                return print(&output::serialized(global.output, &cluster)?);
            }
            eprintln!(
                "Revoked every token of cluster {name}; its tunnel is closed. \
                 Run `lapdev cluster rotate-token {name}` to issue a new one."
            );
            Ok(())
        }
        ClusterCommand::InstallManifest {
            name,
            cluster_token,
            cluster_token_stdin,
            source_namespaces,
        } => {
            let token = match (cluster_token, cluster_token_stdin) {
                (Some(token), _) => Some(token),
                (None, true) => Some(read_stdin_line("cluster token")?),
                (None, false) => None,
            };
            if let Some(token) = &token {
                anyhow::ensure!(
                    token.starts_with("lpc_")
                        && token.len() <= 200
                        && token[4..]
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                    "that is not a cluster token (they start with lpc_)"
                );
            }
            let yaml = client
                .install_manifest(&org, &name, &source_namespaces)
                .await?;
            match token {
                Some(token) => {
                    anyhow::ensure!(
                        yaml.contains(TOKEN_PLACEHOLDER),
                        "the server's manifest has no token placeholder; is it a matching version?"
                    );
                    print(&yaml.replace(TOKEN_PLACEHOLDER, &token))
                }
                None => {
                    eprintln!(
                        "note: the Secret `lapdev-kube-manager-token` holds {TOKEN_PLACEHOLDER}; \
                         pass --cluster-token (the token from `lapdev cluster create` or \
                         `rotate-token`) or edit it before `kubectl apply`."
                    );
                    print(&yaml)
                }
            }
        }
    }
}

/// A new token: shown once, with the command that installs kube-manager.
fn print_credentials(
    format: OutputFormat,
    created: &ClusterCredentials,
    verb: &str,
) -> anyhow::Result<()> {
    if format != OutputFormat::Table {
        return print(&output::serialized(format, created)?);
    }
    let cluster = &created.cluster;
    let mut text = format!(
        "{verb} cluster {} ({}). Its token is shown only now:\n\n    {}\n\n\
         Install kube-manager in the cluster (it connects out to Lapdev over TLS):\n\n    {}\n\n\
         or: lapdev cluster install-manifest {} --cluster-token <token> | kubectl apply -f -\n",
        cluster.name, cluster.id, created.token, created.install_command, cluster.name
    );
    if let Some(at) = created.previous_token_retires_at {
        text.push_str(&format!(
            "\nThe previous token keeps working until {} UTC, or until kube-manager connects with this one.\n",
            output::time(at)
        ));
    }
    print(&text)
}
