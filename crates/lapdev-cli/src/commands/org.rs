//! `lapdev org ...`: organizations and their members.

use lapdev_api::{
    AddMember, CreateOrganization, OrganizationName, PageQuery, UpdateMember, UserId, Username,
};

use super::{open_session, print, print_one, print_page, read_stdin_line};
use crate::cli::{GlobalArgs, ListArgs, MembersCommand, OrgCommand};
use crate::output::{self, OutputFormat};
use crate::session::{Session, collect_pages};

pub(super) async fn run(global: &GlobalArgs, command: OrgCommand) -> anyhow::Result<()> {
    let session = open_session(global)?;
    let client = &session.client;
    match command {
        OrgCommand::List(list) => {
            let page =
                collect_pages(&list, async |q: PageQuery| client.list_orgs(&q).await).await?;
            print_page(global.output, &page)
        }
        OrgCommand::Create { name } => {
            let org = client.create_org(&CreateOrganization { name }).await?;
            print_one(global.output, &org)
        }
        OrgCommand::Members(command) => members(global, &session, command).await,
    }
}

async fn members(
    global: &GlobalArgs,
    session: &Session,
    command: MembersCommand,
) -> anyhow::Result<()> {
    let client = &session.client;
    let org = session.org().await?;
    match command {
        MembersCommand::List(list) => {
            let page = collect_pages(&list, async |q: PageQuery| {
                client.list_members(&org, &q).await
            })
            .await?;
            print_page(global.output, &page)
        }
        MembersCommand::Add {
            username,
            role,
            password_stdin,
        } => {
            let password = password_stdin
                .then(|| read_stdin_line("password"))
                .transpose()?;
            let added = client
                .add_member(
                    &org,
                    &AddMember {
                        username,
                        role: role.into(),
                        password,
                    },
                )
                .await?;
            if global.output != OutputFormat::Table {
                return print(&output::serialized(global.output, &added)?);
            }
            print_one(global.output, &added.member)?;
            if let Some(password) = &added.initial_password {
                print(&format!(
                    "\nInitial password of {} (shown only now; they should change it):\n\n    {password}\n\n",
                    added.member.user.username
                ))?;
            }
            Ok(())
        }
        MembersCommand::Remove { username } => {
            let user = find_member(session, &org, &username).await?;
            client.remove_member(&org, user).await?;
            eprintln!("Removed {username} from organization {org}.");
            Ok(())
        }
        MembersCommand::SetRole { username, role } => {
            let user = find_member(session, &org, &username).await?;
            let member = client
                .update_member(&org, user, &UpdateMember { role: role.into() })
                .await?;
            print_one(global.output, &member)
        }
    }
}

/// The user id of the member called `username`; the API addresses members by id.
async fn find_member(
    session: &Session,
    org: &OrganizationName,
    username: &Username,
) -> anyhow::Result<UserId> {
    let all = ListArgs {
        all: true,
        ..ListArgs::default()
    };
    let members = collect_pages(&all, async |q: PageQuery| {
        session.client.list_members(org, &q).await
    })
    .await?;
    members
        .items
        .iter()
        .find(|m| &m.user.username == username)
        .map(|m| m.user.id)
        .ok_or_else(|| anyhow::anyhow!("{username} is not a member of organization {org}"))
}
