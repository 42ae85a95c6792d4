//! The demo's cluster `demo`: created through the REST API (as the admin,
//! with a short-lived API token) on the first run, its cluster token kept in
//! a 0600 file of the demo directory and reused on later runs. If the token
//! file is gone but the cluster exists, the token is rotated; if the
//! cluster is gone (deleted in the dashboard), it is created again.

use std::path::Path;

use anyhow::Context;
use lapdev_api::{
    ClusterName, ClusterPermission, ClusterRole, CreateCluster, LoginRequest, OrganizationName,
    TokenName,
};

use crate::client::{Client, ClientError, ServerUrl, Token};
use crate::config_file::write_private;

/// The simulated cluster's name in Lapdev.
pub(crate) const CLUSTER_NAME: &str = "demo";

/// Makes sure cluster `demo` exists in the first organization and that
/// `token_file` holds a live token for it.
pub(crate) async fn ensure(
    server: &ServerUrl,
    username: &str,
    password: &str,
    token_file: &Path,
) -> anyhow::Result<()> {
    let anonymous = Client::new(server.clone(), None)?;
    let login = anonymous
        .login(&LoginRequest {
            username: username.to_string(),
            password: password.to_string(),
            token_name: Some(TokenName::parse("demo-setup").expect("a valid token name")),
        })
        .await
        .context("the demo cannot sign in as its admin")?;
    let client = anonymous.with_token(Token::new(login.token));
    let result = ensure_as(&client, token_file).await;
    // The setup token is not needed any more, whatever happened.
    let _ = client.revoke_current_token().await;
    result
}

async fn ensure_as(client: &Client, token_file: &Path) -> anyhow::Result<()> {
    let org = OrganizationName::parse(lapdev_server::FIRST_ORGANIZATION).expect("a valid name");
    let name = ClusterName::parse(CLUSTER_NAME).expect("a valid name");
    let have_token = token_file.is_file();
    let credentials = match client.get_cluster(&org, &name).await {
        Ok(_) if have_token => return Ok(()),
        Ok(_) => client.rotate_cluster_token(&org, &name).await?,
        Err(ClientError::NotFound { .. }) => {
            let request = CreateCluster {
                name: name.clone(),
                roles: Some(vec![ClusterRole::Source, ClusterRole::Target]),
                permissions: Some(vec![ClusterPermission::Personal, ClusterPermission::Shared]),
            };
            client.create_cluster(&org, &request).await?
        }
        Err(e) => return Err(e).context("cannot look up the demo cluster"),
    };
    let _ = std::fs::remove_file(token_file);
    write_private(token_file, credentials.token.as_bytes())
        .with_context(|| format!("cannot write {}", token_file.display()))
}
