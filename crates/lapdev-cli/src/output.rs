//! Rendering of command results, in one place: a plain aligned table (the
//! default, for people) or JSON / YAML of the lapdev-api types (for scripts;
//! they parse back into the same types).
//!
//! A list renders as a whole [`Page`]: `items`, and `next_cursor` when more
//! remain, so a script can continue with `--cursor`.

mod catalogs;
mod environments;

use comfy_table::{ContentArrangement, Table, presets};
use jiff::Timestamp;
use lapdev_api::{
    ApiToken, AuditEvent, Cluster, Me, Member, Organization, OrganizationMembership, Page,
};
use serde::Serialize;

pub(crate) use catalogs::{catalog_details, refresh_preview};
pub(crate) use environments::{environment_details, environment_status, watch_line, watch_state};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutputFormat {
    /// Aligned columns for people.
    Table,
    /// JSON of the API types.
    Json,
    /// YAML of the API types.
    Yaml,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum OutputError {
    #[error("cannot render JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot render YAML: {0}")]
    Yaml(#[from] serde_saphyr::ser_error::Error),
}

/// A type that renders as a table row.
pub(crate) trait Tabular {
    const HEADERS: &'static [&'static str];
    fn row(&self) -> Vec<String>;
}

/// One object: a one-row table, or the object as JSON / YAML.
pub(crate) fn render_one<T: Tabular + Serialize>(
    format: OutputFormat,
    item: &T,
) -> Result<String, OutputError> {
    match format {
        OutputFormat::Table => Ok(table(std::slice::from_ref(item))),
        _ => serialized(format, item),
    }
}

/// A list: a table of its items, or the page as JSON / YAML.
pub(crate) fn render_page<T: Tabular + Serialize>(
    format: OutputFormat,
    page: &Page<T>,
) -> Result<String, OutputError> {
    match format {
        OutputFormat::Table => Ok(table(&page.items)),
        _ => serialized(format, page),
    }
}

/// Any serializable value as JSON or YAML (never a table), ending with a newline.
pub(crate) fn serialized<T: Serialize>(
    format: OutputFormat,
    value: &T,
) -> Result<String, OutputError> {
    let mut text = match format {
        OutputFormat::Json => serde_json::to_string_pretty(value)?,
        OutputFormat::Yaml | OutputFormat::Table => serde_saphyr::to_string(value)?,
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// Left-aligned columns separated by three spaces, like `kubectl get`.
pub(crate) fn table<T: Tabular>(items: &[T]) -> String {
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(T::HEADERS.to_vec())
        .add_rows(items.iter().map(Tabular::row));
    for column in table.column_iter_mut() {
        column.set_padding((0, 3));
    }
    let mut text = table.trim_fmt();
    text.push('\n');
    text
}

/// A timestamp for a table (and any text for people): UTC, to the second.
pub(crate) fn time(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

fn optional_time(ts: Option<Timestamp>, none: &str) -> String {
    ts.map_or_else(|| none.to_owned(), time)
}

impl Tabular for Organization {
    const HEADERS: &'static [&'static str] = &["NAME", "ID", "CREATED"];
    fn row(&self) -> Vec<String> {
        vec![
            self.name.to_string(),
            self.id.to_string(),
            time(self.created_at),
        ]
    }
}

impl Tabular for OrganizationMembership {
    const HEADERS: &'static [&'static str] = &["NAME", "ROLE", "ID", "CREATED"];
    fn row(&self) -> Vec<String> {
        vec![
            self.organization.name.to_string(),
            self.role.to_string(),
            self.organization.id.to_string(),
            time(self.organization.created_at),
        ]
    }
}

impl Tabular for Member {
    const HEADERS: &'static [&'static str] = &["USERNAME", "ROLE", "USER ID", "JOINED"];
    fn row(&self) -> Vec<String> {
        vec![
            self.user.username.to_string(),
            self.role.to_string(),
            self.user.id.to_string(),
            time(self.joined_at),
        ]
    }
}

impl Tabular for ApiToken {
    const HEADERS: &'static [&'static str] =
        &["ID", "NAME", "PREFIX", "CREATED", "LAST USED", "EXPIRES"];
    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.name.to_string(),
            format!("{}…", self.prefix),
            time(self.created_at),
            optional_time(self.last_used_at, "never"),
            optional_time(self.expires_at, "never"),
        ]
    }
}

impl Tabular for AuditEvent {
    const HEADERS: &'static [&'static str] = &["TIME", "ACTOR", "ACTION", "OBJECT", "DETAILS"];
    fn row(&self) -> Vec<String> {
        let actor = self
            .actor
            .as_ref()
            .map_or_else(|| "(system)".to_owned(), |a| a.username.to_string());
        let object = format!(
            "{}/{}",
            self.object_kind,
            self.object_name.as_deref().unwrap_or(&self.object_id)
        );
        let details = match &self.details {
            serde_json::Value::Null => String::new(),
            serde_json::Value::Object(map) if map.is_empty() => String::new(),
            other => other.to_string(),
        };
        vec![time(self.at), actor, self.action.clone(), object, details]
    }
}

fn joined<T: std::fmt::Display>(items: &[T], none: &str) -> String {
    if items.is_empty() {
        return none.to_owned();
    }
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// `11.5` cores from millicores.
fn cpu(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        format!("{}", millis / 1000)
    } else {
        format!("{:.1}", millis as f64 / 1000.0)
    }
}

/// `48Gi` (or `512Mi`) from bytes.
fn memory(bytes: u64) -> String {
    const GI: u64 = 1 << 30;
    const MI: u64 = 1 << 20;
    if bytes >= GI {
        format!("{:.0}Gi", bytes as f64 / GI as f64)
    } else {
        format!("{}Mi", bytes / MI)
    }
}

impl Tabular for Cluster {
    const HEADERS: &'static [&'static str] = &[
        "NAME",
        "STATUS",
        "ROLES",
        "PERMISSIONS",
        "LAST SEEN",
        "KUBERNETES",
        "NODES",
        "CPU",
        "MEMORY",
        "KUBE-MANAGER",
    ];
    fn row(&self) -> Vec<String> {
        let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
        vec![
            self.name.to_string(),
            self.status.to_string(),
            joined(&self.roles, "-"),
            joined(&self.permissions, "none"),
            optional_time(self.last_seen_at, "never"),
            or_dash(self.kubernetes_version.clone()),
            or_dash(self.node_count.map(|n| n.to_string())),
            or_dash(self.allocatable_cpu_millis.map(cpu)),
            or_dash(self.allocatable_memory_bytes.map(memory)),
            or_dash(self.kube_manager_version.clone()),
        ]
    }
}

impl Tabular for Me {
    const HEADERS: &'static [&'static str] = &["USERNAME", "USER ID", "ORGANIZATIONS"];
    fn row(&self) -> Vec<String> {
        let orgs: Vec<String> = self
            .organizations
            .iter()
            .map(|m| format!("{} ({})", m.organization.name, m.role))
            .collect();
        vec![
            self.user.username.to_string(),
            self.user.id.to_string(),
            orgs.join(", "),
        ]
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};
    use lapdev_api::{
        ApiTokenId, AuditActor, AuditEventId, OrganizationId, OrganizationName, Role, TokenName,
        User, UserId, Username,
    };

    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn id<T: std::str::FromStr>(n: u8) -> T
    where
        T::Err: std::fmt::Debug,
    {
        format!("0190e7a2-0000-7000-8000-0000000000{n:02}")
            .parse()
            .unwrap()
    }

    fn user(name: &str, n: u8) -> User {
        User {
            id: id::<UserId>(n),
            username: Username::parse(name).unwrap(),
            created_at: ts("2026-01-02T03:04:05Z"),
        }
    }

    fn member(name: &str, n: u8, role: Role) -> Member {
        Member {
            user: user(name, n),
            role,
            joined_at: ts("2026-01-02T03:04:05.678Z"),
        }
    }

    fn org(name: &str) -> Organization {
        Organization {
            id: id::<OrganizationId>(1),
            name: OrganizationName::parse(name).unwrap(),
            created_at: ts("2026-01-01T00:00:00Z"),
        }
    }

    fn token(name: &str, expires: Option<&str>) -> ApiToken {
        ApiToken {
            id: id::<ApiTokenId>(7),
            name: TokenName::parse(name).unwrap(),
            prefix: "lpd_ab12".into(),
            created_at: ts("2026-02-03T10:00:00Z"),
            last_used_at: Some(ts("2026-02-04T11:30:00Z")),
            expires_at: expires.map(ts),
        }
    }

    fn page<T>(items: Vec<T>, next: Option<&str>) -> Page<T> {
        Page {
            items,
            next_cursor: next.map(str::to_owned),
        }
    }

    #[track_caller]
    fn check<T: Tabular + Serialize>(format: OutputFormat, value: &Page<T>, expect: Expect) {
        expect.assert_eq(&render_page(format, value).unwrap());
    }

    #[test]
    fn members_table() {
        check(
            OutputFormat::Table,
            &page(
                vec![
                    member("admin", 1, Role::Admin),
                    member("bob", 2, Role::Member),
                ],
                Some("abc"),
            ),
            expect![[r#"
                USERNAME   ROLE     USER ID                                JOINED
                admin      admin    0190e7a2-0000-7000-8000-000000000001   2026-01-02 03:04:05
                bob        member   0190e7a2-0000-7000-8000-000000000002   2026-01-02 03:04:05
            "#]],
        );
    }

    #[test]
    fn empty_table_has_headers_only() {
        check(
            OutputFormat::Table,
            &page(Vec::<Member>::new(), None),
            expect![[r#"
                USERNAME   ROLE   USER ID   JOINED
            "#]],
        );
    }

    #[test]
    fn tokens_table_and_yaml() {
        let tokens = page(
            vec![
                token("laptop", None),
                token("ci runner", Some("2026-03-05T00:00:00Z")),
            ],
            None,
        );
        check(
            OutputFormat::Table,
            &tokens,
            expect![[r#"
                ID                                     NAME        PREFIX      CREATED               LAST USED             EXPIRES
                0190e7a2-0000-7000-8000-000000000007   laptop      lpd_ab12…   2026-02-03 10:00:00   2026-02-04 11:30:00   never
                0190e7a2-0000-7000-8000-000000000007   ci runner   lpd_ab12…   2026-02-03 10:00:00   2026-02-04 11:30:00   2026-03-05 00:00:00
            "#]],
        );
        check(
            OutputFormat::Yaml,
            &page(vec![token("laptop", None)], None),
            expect![[r#"
                items:
                - id: 0190e7a2-0000-7000-8000-000000000007
                  name: laptop
                  prefix: lpd_ab12
                  created_at: "2026-02-03T10:00:00Z"
                  last_used_at: "2026-02-04T11:30:00Z"
            "#]],
        );
    }

    #[test]
    fn audit_table() {
        let events = vec![
            AuditEvent {
                id: id::<AuditEventId>(3),
                at: ts("2026-02-03T10:00:00Z"),
                actor: Some(AuditActor {
                    user_id: id::<UserId>(1),
                    username: Username::parse("admin").unwrap(),
                }),
                action: "member.set_role".into(),
                object_kind: "user".into(),
                object_id: id::<UserId>(2).to_string(),
                object_name: Some("bob".into()),
                details: serde_json::json!({"from": "member", "to": "admin"}),
            },
            AuditEvent {
                id: id::<AuditEventId>(2),
                at: ts("2026-02-03T09:00:00Z"),
                actor: None,
                action: "organization.create".into(),
                object_kind: "organization".into(),
                object_id: id::<OrganizationId>(1).to_string(),
                object_name: None,
                details: serde_json::Value::Null,
            },
        ];
        check(
            OutputFormat::Table,
            &page(events, None),
            expect![[r#"
                TIME                  ACTOR      ACTION                OBJECT                                              DETAILS
                2026-02-03 10:00:00   admin      member.set_role       user/bob                                            {"from":"member","to":"admin"}
                2026-02-03 09:00:00   (system)   organization.create   organization/0190e7a2-0000-7000-8000-000000000001
            "#]],
        );
    }

    #[test]
    fn orgs_json_keeps_the_cursor() {
        let orgs = page(
            vec![OrganizationMembership {
                organization: org("acme"),
                role: Role::Admin,
            }],
            Some("next-1"),
        );
        check(
            OutputFormat::Json,
            &orgs,
            expect![[r#"
                {
                  "items": [
                    {
                      "organization": {
                        "id": "0190e7a2-0000-7000-8000-000000000001",
                        "name": "acme",
                        "created_at": "2026-01-01T00:00:00Z"
                      },
                      "role": "admin"
                    }
                  ],
                  "next_cursor": "next-1"
                }
            "#]],
        );
        check(
            OutputFormat::Table,
            &orgs,
            expect![[r#"
                NAME   ROLE    ID                                     CREATED
                acme   admin   0190e7a2-0000-7000-8000-000000000001   2026-01-01 00:00:00
            "#]],
        );
    }

    #[test]
    fn clusters_table() {
        use lapdev_api::{ClusterId, ClusterName, ClusterPermission, ClusterRole, ClusterStatus};
        let cluster = |name: &str, active: bool| Cluster {
            id: id::<ClusterId>(9),
            name: ClusterName::parse(name).unwrap(),
            roles: if active {
                vec![ClusterRole::Source, ClusterRole::Target]
            } else {
                vec![ClusterRole::Source]
            },
            permissions: if active {
                vec![ClusterPermission::Personal, ClusterPermission::Shared]
            } else {
                vec![]
            },
            status: if active {
                ClusterStatus::Active
            } else {
                ClusterStatus::Pending
            },
            last_seen_at: active.then(|| ts("2026-02-03T10:00:00Z")),
            kube_manager_version: active.then(|| "0.1.0".into()),
            kubernetes_version: active.then(|| "v1.33.2".into()),
            node_count: active.then_some(3),
            allocatable_cpu_millis: active.then_some(11_500),
            allocatable_memory_bytes: active.then_some(48 << 30),
            token_prefix: Some("lpc_ab12cd".into()),
            created_at: ts("2026-02-01T00:00:00Z"),
        };
        check(
            OutputFormat::Table,
            &page(vec![cluster("dev", true), cluster("prod", false)], None),
            expect![[r#"
                NAME   STATUS    ROLES           PERMISSIONS       LAST SEEN             KUBERNETES   NODES   CPU    MEMORY   KUBE-MANAGER
                dev    active    source,target   personal,shared   2026-02-03 10:00:00   v1.33.2      3       11.5   48Gi     0.1.0
                prod   pending   source          none              never                 -            -       -      -        -
            "#]],
        );
    }

    #[test]
    fn whoami_table() {
        let me = Me {
            user: user("alice", 4),
            organizations: vec![
                OrganizationMembership {
                    organization: org("acme"),
                    role: Role::Admin,
                },
                OrganizationMembership {
                    organization: org("beta"),
                    role: Role::Member,
                },
            ],
        };
        expect![[r#"
            USERNAME   USER ID                                ORGANIZATIONS
            alice      0190e7a2-0000-7000-8000-000000000004   acme (admin), beta (member)
        "#]]
        .assert_eq(&render_one(OutputFormat::Table, &me).unwrap());
    }
}
