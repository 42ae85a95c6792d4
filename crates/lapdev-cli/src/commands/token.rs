//! `lapdev token ...`: the caller's personal API tokens.

use lapdev_api::{CreateToken, PageQuery};

use super::{config_file, open_session, print, print_page};
use crate::cli::{GlobalArgs, TokenCommand};
use crate::output::{self, OutputFormat};
use crate::session::collect_pages;

pub(super) async fn run(global: &GlobalArgs, command: TokenCommand) -> anyhow::Result<()> {
    let session = open_session(global)?;
    let client = &session.client;
    match command {
        TokenCommand::Create {
            name,
            expires_in_days,
        } => {
            let created = client
                .create_token(&CreateToken {
                    name,
                    expires_in_days,
                })
                .await?;
            if global.output != OutputFormat::Table {
                return print(&output::serialized(global.output, &created)?);
            }
            let info = &created.token_info;
            print(&format!(
                "Created token {} ({}). Its secret is shown only now:\n\n    {}\n\n\
                 Use it as `Authorization: Bearer <token>`, or `LAPDEV_TOKEN=<token> lapdev ...`.\n",
                info.name, info.id, created.token
            ))
        }
        TokenCommand::List(list) => {
            let page =
                collect_pages(&list, async |q: PageQuery| client.list_tokens(&q).await).await?;
            print_page(global.output, &page)
        }
        TokenCommand::Revoke { id } => {
            client.revoke_token(id).await?;
            eprintln!("Revoked token {id}.");
            let stored = config_file(global)?.load()?;
            if stored.is_some_and(|c| c.token_id == Some(id)) {
                eprintln!("That was the token of your login: run `lapdev login` to sign in again.");
            }
            Ok(())
        }
    }
}
