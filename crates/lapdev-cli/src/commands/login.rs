//! `lapdev login`, `logout`, `whoami` and `change-password`: the caller's
//! own account, and the credentials the other commands use.

use lapdev_api::{ChangePassword, LoginRequest};

use super::{config_file, open_session, print_one, prompt_line, prompt_secret, read_stdin_line};
use crate::cli::{ChangePasswordArgs, GlobalArgs, LoginArgs};
use crate::client::{Client, ClientError, Token};
use crate::config_file::Credentials;
use crate::session;

pub(super) async fn login(global: &GlobalArgs, args: LoginArgs) -> anyhow::Result<()> {
    let file = config_file(global)?;
    let stored = file.load()?;
    let server = session::resolve_server(global, stored.as_ref())?;
    let client = Client::new(server.clone(), None)?;

    let with_password = args.username.is_some() || args.password_stdin || global.token.is_none();
    let (client, token_id) = if with_password {
        if server.is_insecure() {
            eprintln!(
                "warning: {server} is not HTTPS: your password and token cross the network unencrypted"
            );
        }
        let username = match args.username {
            Some(username) => username,
            None => prompt_line("Username: ", "--username")?,
        };
        let password = if args.password_stdin {
            read_stdin_line("password")?
        } else {
            prompt_secret("Password: ", "--password-stdin")?
        };
        let response = client
            .login(&LoginRequest {
                username,
                password,
                token_name: None,
            })
            .await?;
        let token_id = response.token_info.id;
        (
            client.with_token(Token::new(response.token)),
            Some(token_id),
        )
    } else {
        let token = global.token.clone().expect("checked above");
        (client.with_token(token), None)
    };

    let me = client.me().await?;
    let organization = match &global.org {
        Some(org) => {
            anyhow::ensure!(
                me.organizations.iter().any(|m| &m.organization.name == org),
                "{} is not a member of organization {org} on {server}",
                me.user.username
            );
            Some(org.clone())
        }
        None => me
            .organizations
            .first()
            .map(|m| m.organization.name.clone()),
    };
    file.save(&Credentials {
        server: server.clone(),
        token: client.token().cloned().expect("the client has a token"),
        token_id,
        username: Some(me.user.username.clone()),
        organization: organization.clone(),
    })?;

    // The token of an earlier `lapdev login` to this server is replaced: revoke
    // it, best effort, so logins do not pile up live tokens. A token stored
    // with `--token` has no id and may be used elsewhere: it is left alone.
    let replaced = stored.filter(|old| {
        old.server == server && old.token_id.is_some() && Some(&old.token) != client.token()
    });
    if let Some(old) = replaced {
        let old_client = Client::new(server.clone(), Some(old.token.clone()))?;
        let _ = old_client.revoke_current_token().await;
    }

    let org_note = organization.map_or_else(
        || " (no organization yet)".to_owned(),
        |org| format!(", organization {org}"),
    );
    eprintln!(
        "Logged in to {server} as {}{org_note}. Credentials saved in {}.",
        me.user.username,
        file.path().display()
    );
    Ok(())
}

pub(super) async fn logout(global: &GlobalArgs) -> anyhow::Result<()> {
    let file = config_file(global)?;
    let Some(creds) = file.load()? else {
        eprintln!("Not logged in.");
        return Ok(());
    };
    if let Some(server) = &global.server {
        anyhow::ensure!(
            *server == creds.server,
            "not logged in to {server} (the stored login is for {})",
            creds.server
        );
    }
    let client = Client::new(creds.server.clone(), Some(creds.token.clone()))?;
    let revoked = client.revoke_current_token().await;
    file.remove()?;
    match revoked {
        Ok(()) | Err(ClientError::TokenRejected) => {
            eprintln!("Logged out of {}; the token is revoked.", creds.server);
        }
        Err(err) => {
            eprintln!(
                "Logged out locally, but the token could not be revoked on {}: {err}. \
                 Revoke it with `lapdev token revoke` from another login.",
                creds.server
            );
        }
    }
    Ok(())
}

pub(super) async fn whoami(global: &GlobalArgs) -> anyhow::Result<()> {
    let session = open_session(global)?;
    let me = session.client.me().await?;
    print_one(global.output, &me)
}

pub(super) async fn change_password(
    global: &GlobalArgs,
    args: ChangePasswordArgs,
) -> anyhow::Result<()> {
    let session = open_session(global)?;
    let (current_password, new_password) = if args.password_stdin {
        (
            read_stdin_line("current password")?,
            read_stdin_line("new password")?,
        )
    } else {
        let current = prompt_secret("Current password: ", "--password-stdin")?;
        let new = prompt_secret("New password: ", "--password-stdin")?;
        let again = prompt_secret("Repeat the new password: ", "--password-stdin")?;
        anyhow::ensure!(
            new == again,
            "the new passwords differ; nothing was changed"
        );
        (current, new)
    };
    session
        .client
        .change_password(&ChangePassword {
            current_password,
            new_password,
        })
        .await?;
    eprintln!("Password changed. Your API tokens stay valid; dashboard sessions are signed out.");
    Ok(())
}
