//! Who a client command talks to and as whom: the global flags
//! (`--server`, `--token`, `--org`) over the credentials stored by
//! `lapdev login`.
//!
//! A stored token is only ever sent to the server it was issued by: with
//! `--server` naming another server, the command needs `--token` or a login.

use lapdev_api::{OrganizationName, PageQuery};

use crate::cli::{GlobalArgs, ListArgs};
use crate::client::{Client, ClientError, ServerUrl};
use crate::config_file::{ConfigFile, ConfigFileError, Credentials};

#[derive(Debug, thiserror::Error)]
pub(crate) enum SessionError {
    #[error("no server given and not logged in: run `lapdev login --server URL`, or pass --server")]
    NoServer,
    #[error("not logged in to {server}: run `lapdev login --server {server}`, or pass --token")]
    NotLoggedIn { server: ServerUrl },
    #[error("you are not a member of any organization on {server}: ask an admin to add you")]
    NoOrganization { server: ServerUrl },
    #[error(transparent)]
    ConfigFile(#[from] ConfigFileError),
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// The resolved connection of a client command.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) client: Client,
    org: Option<OrganizationName>,
}

impl Session {
    /// The server from `--server` or the stored credentials; the token from
    /// `--token`, else the stored one if it belongs to that server.
    pub(crate) fn open(global: &GlobalArgs, file: &ConfigFile) -> Result<Self, SessionError> {
        let stored = file.load()?;
        let server = resolve_server(global, stored.as_ref())?;
        let stored = stored.filter(|c| c.server == server);
        let token = match (&global.token, &stored) {
            (Some(token), _) => token.clone(),
            (None, Some(creds)) => creds.token.clone(),
            (None, None) => return Err(SessionError::NotLoggedIn { server }),
        };
        // The stored default organization goes with the stored token only.
        let org = match (&global.org, &global.token, &stored) {
            (Some(org), _, _) => Some(org.clone()),
            (None, None, Some(creds)) => creds.organization.clone(),
            _ => None,
        };
        Ok(Self {
            client: Client::new(server, Some(token))?,
            org,
        })
    }

    /// The organization to act in: `--org`, the one stored at login, or else
    /// the caller's first organization.
    pub(crate) async fn org(&self) -> Result<OrganizationName, SessionError> {
        if let Some(org) = &self.org {
            return Ok(org.clone());
        }
        let me = self.client.me().await?;
        me.organizations
            .into_iter()
            .next()
            .map(|m| m.organization.name)
            .ok_or_else(|| SessionError::NoOrganization {
                server: self.client.server().clone(),
            })
    }
}

/// The server a command talks to: `--server`, else the stored one.
pub(crate) fn resolve_server(
    global: &GlobalArgs,
    stored: Option<&Credentials>,
) -> Result<ServerUrl, SessionError> {
    global
        .server
        .clone()
        .or_else(|| stored.map(|c| c.server.clone()))
        .ok_or(SessionError::NoServer)
}

/// Fetches pages following `next_cursor` as `paging` asks (one page by
/// default, `--limit` items, or `--all`), and returns them
/// as one page whose `next_cursor` continues exactly after the last item.
pub(crate) async fn collect_pages<T>(
    paging: &ListArgs,
    mut fetch: impl AsyncFnMut(PageQuery) -> Result<lapdev_api::Page<T>, ClientError>,
) -> Result<lapdev_api::Page<T>, ClientError> {
    let mut items = Vec::new();
    let mut cursor = paging.cursor.clone();
    loop {
        let limit = match (paging.all, paging.limit) {
            (true, _) => Some(PageQuery::MAX_LIMIT),
            (false, Some(limit)) => {
                let remaining = limit.saturating_sub(items.len() as u32);
                Some(remaining.min(PageQuery::MAX_LIMIT))
            }
            (false, None) => None,
        };
        let page = fetch(PageQuery {
            limit,
            cursor: cursor.clone(),
        })
        .await?;
        let fetched = page.items.len();
        items.extend(page.items);
        let more_wanted = paging.all
            || paging
                .limit
                .is_some_and(|limit| (items.len() as u32) < limit);
        // An empty page or a repeated cursor would loop forever.
        let progressed = fetched > 0 && page.next_cursor != cursor;
        cursor = page.next_cursor;
        if cursor.is_none() || !more_wanted || !progressed {
            return Ok(lapdev_api::Page {
                items,
                next_cursor: cursor,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use expect_test::{Expect, expect};
    use lapdev_api::Page;

    use super::*;
    use crate::cli::Cli;

    /// Resolves a session from `args` with credentials stored for
    /// http://stored.example (token "stored", org "acme").
    #[track_caller]
    fn check_session(args: &str, expect: Expect) {
        let tmp = tempfile::tempdir().unwrap();
        let file = ConfigFile::locate(Some(tmp.path())).unwrap();
        file.save(&Credentials {
            server: "http://stored.example".parse().unwrap(),
            token: "stored".parse().unwrap(),
            token_id: None,
            username: None,
            organization: Some(OrganizationName::parse("acme").unwrap()),
        })
        .unwrap();
        let argv = ["lapdev"].into_iter().chain(args.split_whitespace());
        let cli = Cli::try_parse_from(argv).unwrap();
        let got = match Session::open(&cli.global, &file) {
            Ok(s) => format!(
                "server={} token={} org={}",
                s.client.server(),
                s.client.token().map_or("-", |t| t.expose()),
                s.org.as_ref().map_or("(first)", |o| o.as_str())
            ),
            Err(e) => format!("error: {e}"),
        };
        expect.assert_eq(&got);
    }

    #[test]
    fn stored_credentials_and_flags() {
        check_session(
            "whoami",
            expect!["server=http://stored.example token=stored org=acme"],
        );
        check_session(
            "whoami --org beta",
            expect!["server=http://stored.example token=stored org=beta"],
        );
        check_session(
            "whoami --token flag",
            expect!["server=http://stored.example token=flag org=(first)"],
        );
        check_session(
            "whoami --server http://stored.example/",
            expect!["server=http://stored.example token=stored org=acme"],
        );
        // The stored token never goes to another server.
        check_session(
            "whoami --server http://other.example",
            expect![
                "error: not logged in to http://other.example: run `lapdev login --server http://other.example`, or pass --token"
            ],
        );
        check_session(
            "whoami --server http://other.example --token flag",
            expect!["server=http://other.example token=flag org=(first)"],
        );
    }

    /// A fake list of `total` numbers served in pages; records every query.
    #[track_caller]
    fn check(total: u32, paging: ListArgs, expect: Expect) {
        let mut log = Vec::new();
        let result = block_on(collect_pages(&paging, async |q: PageQuery| {
            let start: u32 = q.cursor.as_deref().map_or(0, |c| c.parse().unwrap());
            let size = q.limit.unwrap_or(PageQuery::DEFAULT_LIMIT);
            let end = (start + size).min(total);
            log.push(format!("limit={:?} cursor={:?}", q.limit, q.cursor));
            Ok(Page {
                items: (start..end).collect(),
                next_cursor: (end < total).then(|| end.to_string()),
            })
        }))
        .unwrap();
        let summary = format!(
            "{}\n=> {} items, first {:?}, next_cursor {:?}\n",
            log.join("\n"),
            result.items.len(),
            result.items.first(),
            result.next_cursor
        );
        expect.assert_eq(&summary);
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn one_page_by_default() {
        check(
            120,
            ListArgs::default(),
            expect![[r#"
                limit=None cursor=None
                => 50 items, first Some(0), next_cursor Some("50")
            "#]],
        );
    }

    #[test]
    fn limit_spans_pages_and_stops_exactly() {
        check(
            500,
            ListArgs {
                limit: Some(250),
                ..ListArgs::default()
            },
            expect![[r#"
                limit=Some(200) cursor=None
                limit=Some(50) cursor=Some("200")
                => 250 items, first Some(0), next_cursor Some("250")
            "#]],
        );
    }

    #[test]
    fn all_follows_every_cursor() {
        check(
            450,
            ListArgs {
                all: true,
                cursor: Some("10".into()),
                ..ListArgs::default()
            },
            expect![[r#"
                limit=Some(200) cursor=Some("10")
                limit=Some(200) cursor=Some("210")
                limit=Some(200) cursor=Some("410")
                => 440 items, first Some(10), next_cursor None
            "#]],
        );
    }
}
