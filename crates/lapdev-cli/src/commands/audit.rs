//! `lapdev audit ...`: the organization's audit log (admins).

use lapdev_api::PageQuery;

use super::{open_session, print_page};
use crate::cli::{AuditCommand, GlobalArgs};
use crate::session::collect_pages;

pub(super) async fn run(global: &GlobalArgs, command: AuditCommand) -> anyhow::Result<()> {
    let session = open_session(global)?;
    let org = session.org().await?;
    let client = &session.client;
    match command {
        AuditCommand::List(list) => {
            let page = collect_pages(&list, async |q: PageQuery| {
                client.list_audit(&org, &q).await
            })
            .await?;
            print_page(global.output, &page)
        }
    }
}
