//! The command line of `lapdev` (clap derive): the one `Config` of the
//! binary. Every flag and environment variable the binary reads is declared
//! here and nowhere else.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use lapdev_api::{
    ApiTokenId, CatalogName, ClusterName, ClusterPermission, ClusterRole, EnvironmentKind,
    EnvironmentName, OrganizationName, ReplicasPolicy, Role, TokenName, Username, WorkloadRef,
};
use lapdev_domain::NameError;

use crate::client::{ServerUrl, Token};
use crate::commands::env::{SecretArg, SecretFileArg, SecretValueParser};
use crate::output::OutputFormat;

#[derive(Debug, Parser)]
#[command(
    name = "lapdev",
    version,
    about = "Lapdev: development environments inside your own Kubernetes clusters.",
    long_about = "Lapdev: development environments inside your own Kubernetes clusters.\n\n\
        Start with `lapdev demo` (a local server with embedded SQLite), then\n\
        `lapdev login --server http://127.0.0.1:8080`.",
    after_help = "Exit codes: 0 success, 1 error, 2 usage error, 3 not logged in or token rejected, \
        4 server unreachable."
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options of every client command.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// URL of the Lapdev server [default: the one you logged in to]
    #[arg(
        long,
        env = "LAPDEV_SERVER",
        global = true,
        help_heading = "Global options",
        value_name = "URL"
    )]
    pub(crate) server: Option<ServerUrl>,
    /// API token to use instead of the stored one
    #[arg(
        long,
        env = "LAPDEV_TOKEN",
        global = true,
        help_heading = "Global options",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub(crate) token: Option<Token>,
    /// Organization to act in [default: the one chosen at login]
    #[arg(long, env = "LAPDEV_ORG", global = true,
        help_heading = "Global options", value_name = "NAME", value_parser = org_name)]
    pub(crate) org: Option<OrganizationName>,
    /// Output format
    #[arg(
        short = 'o',
        long = "output",
        global = true,
        help_heading = "Global options",
        value_enum,
        default_value_t = OutputFormat::Table
    )]
    pub(crate) output: OutputFormat,
    /// Directory of the stored credentials [default: <config dir>/lapdev]
    #[arg(
        long,
        env = "LAPDEV_CONFIG_DIR",
        global = true,
        help_heading = "Global options",
        hide = true
    )]
    pub(crate) config_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the Lapdev control plane (REST API, dashboard)
    Server(ServerArgs),
    /// Run a local Lapdev with embedded defaults: SQLite, no setup
    #[command(long_about = DEMO_ABOUT)]
    Demo(DemoArgs),
    /// Sign in to a Lapdev server and store the token
    #[command(long_about = LOGIN_ABOUT)]
    Login(LoginArgs),
    /// Revoke the stored token on the server and forget it
    Logout,
    /// Show who you are signed in as, and your organizations
    Whoami,
    /// Change your password (your API tokens stay valid)
    ChangePassword(ChangePasswordArgs),
    /// Organizations and their members
    #[command(subcommand)]
    Org(OrgCommand),
    /// Your personal API tokens
    #[command(subcommand)]
    Token(TokenCommand),
    /// The audit log of the organization (admins)
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Kubernetes clusters connected to the organization
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// App Catalogs: blueprints of applications read from a source cluster
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Personal and Shared environments: running copies of a catalog
    #[command(subcommand)]
    Env(EnvCommand),
}

const DEMO_ABOUT: &str = "Run a local Lapdev with embedded defaults: SQLite, no setup.\n\n\
    The data lives in a persistent demo directory, so the demo keeps its state \
    between runs. Because it is a demo, the generated admin password is kept in \
    a file readable only by you (mode 0600) in that directory, so it can be \
    printed on every start. Do not use the demo for real work: run `lapdev server`.";

const LOGIN_ABOUT: &str = "Sign in to a Lapdev server and store the token.\n\n\
    Asks for the username and the password (without echo), or takes --username \
    with --password-stdin, and stores a new personal API token, the server URL \
    and your default organization (--org, else your first) in \
    <config dir>/lapdev/config.json, readable only by you. With --token or \
    LAPDEV_TOKEN and no --username, stores that existing token instead.";

#[derive(Debug, Args)]
pub(crate) struct ServerArgs {
    #[command(flatten)]
    pub(crate) config: lapdev_server::ServerConfig,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Address to listen on
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    /// Where the demo keeps its data [default: <data dir>/lapdev/demo]
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    /// Username [default: asked]
    #[arg(long)]
    pub(crate) username: Option<String>,
    /// Read the password from the first line of standard input
    #[arg(long, requires = "username")]
    pub(crate) password_stdin: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ChangePasswordArgs {
    /// Read the current and the new password from the first two lines of standard input
    #[arg(long)]
    pub(crate) password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum OrgCommand {
    /// List your organizations
    List(ListArgs),
    /// Create an organization (you become its admin)
    Create {
        #[arg(value_parser = org_name)]
        name: OrganizationName,
    },
    /// Members of the organization
    #[command(subcommand)]
    Members(MembersCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum MembersCommand {
    /// List the members
    List(ListArgs),
    /// Add a user (created if new; prints a generated password once)
    Add {
        #[arg(value_parser = username)]
        username: Username,
        #[arg(long, value_enum, default_value_t = RoleArg::Member)]
        role: RoleArg,
        /// Read the new user's password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a member
    Remove {
        #[arg(value_parser = username)]
        username: Username,
    },
    /// Change a member's role
    SetRole {
        #[arg(value_parser = username)]
        username: Username,
        #[arg(value_enum)]
        role: RoleArg,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token (its secret is printed once)
    Create {
        #[arg(value_parser = token_name)]
        name: TokenName,
        /// Lifetime in days [default: no expiry]
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: Option<u32>,
    },
    /// List your tokens
    List(ListArgs),
    /// Revoke a token
    Revoke { id: ApiTokenId },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ClusterCommand {
    /// List the clusters with their status, roles and permissions
    List(ListArgs),
    /// Show one cluster: status, last seen, versions, nodes, capacity
    Show {
        #[arg(value_parser = cluster_name)]
        name: ClusterName,
    },
    /// Connect a cluster (admins): prints its token once and the install command
    Create {
        #[arg(value_parser = cluster_name)]
        name: ClusterName,
        /// Roles [default: source,target]
        #[arg(long, value_enum, value_delimiter = ',', num_args = 1.., value_name = "ROLE")]
        roles: Vec<RoleOfCluster>,
        /// Environment types allowed, or `none` [default: personal,shared]
        #[arg(long, value_enum, value_delimiter = ',', num_args = 1.., value_name = "PERMISSION")]
        permissions: Vec<PermissionArg>,
    },
    /// Rename a cluster (admins)
    Rename {
        #[arg(value_parser = cluster_name)]
        name: ClusterName,
        #[arg(value_parser = cluster_name)]
        new_name: ClusterName,
    },
    /// Delete a cluster from Lapdev (admins); its tunnel is closed at once
    Delete {
        #[arg(value_parser = cluster_name)]
        name: ClusterName,
    },
    /// Set the roles: source, target or both (admins)
    SetRoles {
        #[arg(value_parser = cluster_name)]
        name: ClusterName,
        #[arg(value_enum, value_delimiter = ',', num_args = 1..=2, required = true)]
        roles: Vec<RoleOfCluster>,
    },
    /// Set the environment types allowed: personal, shared, both or none (admins)
    SetPermissions {
        #[arg(value_parser = cluster_name)]
        name: ClusterName,
        #[arg(value_enum, value_delimiter = ',', num_args = 1..=2, required = true)]
        permissions: Vec<PermissionArg>,
    },
    /// Issue a new token (admins); the old one works for 1 hour more, or
    /// until kube-manager connects with the new one
    RotateToken {
        #[arg(value_parser = cluster_name)]
        name: ClusterName,
    },
    /// Revoke every token of the cluster (admins) and close its tunnel now
    RevokeToken {
        #[arg(value_parser = cluster_name)]
        name: ClusterName,
    },
    /// List the Deployments, StatefulSets and DaemonSets of a source cluster
    Workloads {
        #[arg(value_parser = cluster_name)]
        cluster: ClusterName,
        /// Only this namespace
        #[arg(long, short = 'n')]
        namespace: Option<String>,
        /// Only these kinds (Deployment, StatefulSet, DaemonSet; deploy, sts, ds)
        #[arg(long, value_delimiter = ',', num_args = 1..)]
        kind: Vec<String>,
        /// Only workloads whose name contains this
        #[arg(long)]
        name: Option<String>,
        /// Also list system namespaces (kube-*, lapdev, lapdev-*)
        #[arg(long)]
        all: bool,
    },
    /// Print the kube-manager install manifest (admins), for `kubectl apply -f -`
    #[command(long_about = INSTALL_MANIFEST_ABOUT)]
    InstallManifest {
        #[arg(value_parser = cluster_name)]
        name: ClusterName,
        /// The cluster token to put in the manifest's Secret
        #[arg(
            long,
            value_name = "TOKEN",
            hide_env_values = true,
            env = "LAPDEV_CLUSTER_TOKEN",
            conflicts_with = "cluster_token_stdin"
        )]
        cluster_token: Option<String>,
        /// Read the cluster token from the first line of standard input
        #[arg(long)]
        cluster_token_stdin: bool,
        /// Give read access only in these source namespaces (comma-separated)
        /// instead of cluster-wide
        #[arg(long, value_delimiter = ',', value_name = "NAMESPACES")]
        source_namespaces: Vec<String>,
    },
}

const INSTALL_MANIFEST_ABOUT: &str = "Print the kube-manager install manifest (admins), for \
    `kubectl apply -f -`.\n\n\
    The server keeps only a hash of the cluster token, so the manifest's Secret holds a \
    placeholder unless you give the token (shown by `cluster create` and `cluster \
    rotate-token`) with --cluster-token, LAPDEV_CLUSTER_TOKEN or --cluster-token-stdin. \
    With --source-namespaces, kube-manager may read production manifests only in those \
    namespaces (they must exist); nodes and namespaces are still read cluster-wide.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RoleOfCluster {
    /// Production manifests are read here
    Source,
    /// Environments are deployed here
    Target,
}

impl From<RoleOfCluster> for ClusterRole {
    fn from(role: RoleOfCluster) -> ClusterRole {
        match role {
            RoleOfCluster::Source => ClusterRole::Source,
            RoleOfCluster::Target => ClusterRole::Target,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PermissionArg {
    /// Developers may create Personal environments
    Personal,
    /// Shared environments, and Branch environments on them
    Shared,
    /// No environments (e.g. a source-only production cluster)
    None,
}

/// The permissions given on the command line; `none` stands alone.
pub(crate) fn permissions(args: &[PermissionArg]) -> Result<Vec<ClusterPermission>, String> {
    if args.contains(&PermissionArg::None) {
        if args.len() > 1 {
            return Err("`none` cannot be combined with other permissions".into());
        }
        return Ok(vec![]);
    }
    Ok(args
        .iter()
        .map(|p| match p {
            PermissionArg::Personal => ClusterPermission::Personal,
            _ => ClusterPermission::Shared,
        })
        .collect())
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// List audit events, newest first
    List(ListArgs),
}

/// Pagination of every list command.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ListArgs {
    /// Show at most N items [default: one page]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) limit: Option<u32>,
    /// Show every item, following all pages
    #[arg(long, conflicts_with = "limit")]
    pub(crate) all: bool,
    /// Continue from the `next_cursor` of an earlier list
    #[arg(long)]
    pub(crate) cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RoleArg {
    Member,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Role {
        match role {
            RoleArg::Member => Role::Member,
            RoleArg::Admin => Role::Admin,
        }
    }
}

fn org_name(s: &str) -> Result<OrganizationName, NameError> {
    OrganizationName::parse(s)
}

fn username(s: &str) -> Result<Username, NameError> {
    Username::parse(s)
}

fn token_name(s: &str) -> Result<TokenName, NameError> {
    TokenName::parse(s)
}

fn cluster_name(s: &str) -> Result<ClusterName, NameError> {
    ClusterName::parse(s)
}

fn catalog_name(s: &str) -> Result<CatalogName, NameError> {
    CatalogName::parse(s)
}

/// `lapdev catalog ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum CatalogCommand {
    /// List the catalogs: name, description, source cluster, workload count
    List(ListArgs),
    /// Show a catalog: workloads, objects, dependencies, warnings, Secret
    /// policy and Secret keys (never values)
    Show {
        #[arg(value_parser = catalog_name)]
        name: CatalogName,
    },
    /// Create a catalog from workloads of a source cluster (admins)
    Create {
        #[arg(value_parser = catalog_name)]
        name: CatalogName,
        /// The source cluster
        #[arg(long, value_parser = cluster_name)]
        cluster: ClusterName,
        /// namespace/kind/name, e.g. shop/Deployment/api (repeat for more)
        #[arg(long = "workload", required = true, value_name = "NS/KIND/NAME")]
        workloads: Vec<WorkloadRef>,
        #[arg(long, default_value = "")]
        description: String,
        /// Keep the keys of this Secret (or of one key) without values
        #[arg(long, value_name = "SECRET[/KEY]")]
        redact: Vec<String>,
        /// Do not store this Secret (or one key of it)
        #[arg(long, value_name = "SECRET[/KEY]")]
        exclude: Vec<String>,
    },
    /// Rename a catalog or change its description (admins)
    Edit {
        #[arg(value_parser = catalog_name)]
        name: CatalogName,
        /// The new name
        #[arg(long = "name", value_parser = catalog_name)]
        new_name: Option<CatalogName>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Add workloads of the source cluster, with what they use (admins)
    AddWorkload {
        #[arg(value_parser = catalog_name)]
        name: CatalogName,
        /// namespace/kind/name
        #[arg(required = true, value_name = "NS/KIND/NAME")]
        workloads: Vec<WorkloadRef>,
    },
    /// Remove a workload and the objects only it used (admins)
    RemoveWorkload {
        #[arg(value_parser = catalog_name)]
        name: CatalogName,
        /// namespace/kind/name
        #[arg(value_name = "NS/KIND/NAME")]
        workload: WorkloadRef,
    },
    /// Show what changed in the source cluster; with --apply, store it (admins)
    Refresh {
        #[arg(value_parser = catalog_name)]
        name: CatalogName,
        /// Apply the refresh (the preview shown, or the one --digest names)
        #[arg(long)]
        apply: bool,
        /// The digest of an earlier preview: apply exactly that one
        #[arg(long, requires = "apply")]
        digest: Option<String>,
    },
    /// Delete a catalog with its stored objects and Secret values (admins)
    Delete {
        #[arg(value_parser = catalog_name)]
        name: CatalogName,
    },
}

fn env_name(s: &str) -> Result<EnvironmentName, NameError> {
    EnvironmentName::parse(s)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum EnvKindArg {
    Personal,
    Shared,
}

impl From<EnvKindArg> for EnvironmentKind {
    fn from(kind: EnvKindArg) -> EnvironmentKind {
        match kind {
            EnvKindArg::Personal => EnvironmentKind::Personal,
            EnvKindArg::Shared => EnvironmentKind::Shared,
        }
    }
}

/// `lapdev env ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum EnvCommand {
    /// List the environments: name, kind, catalog, cluster, owner, status
    List {
        /// Only this kind
        #[arg(long, value_enum)]
        kind: Option<EnvKindArg>,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Show an environment: status, workloads, warnings and its latest events
    Show {
        #[arg(value_parser = env_name)]
        name: EnvironmentName,
    },
    /// Create an environment from a catalog in a target cluster
    #[command(long_about = ENV_CREATE_ABOUT)]
    Create {
        #[arg(value_parser = env_name)]
        name: EnvironmentName,
        /// The catalog to run
        #[arg(long, value_parser = catalog_name)]
        catalog: CatalogName,
        /// The target cluster
        #[arg(long, value_parser = cluster_name)]
        cluster: ClusterName,
        /// A Shared environment (admins) instead of a Personal one
        #[arg(long)]
        shared: bool,
        /// Pods per Deployment/StatefulSet: `keep` (as in the catalog) or at
        /// most N [default: 1 for Personal, keep for Shared]
        #[arg(long, value_name = "keep|N", value_parser = crate::commands::env::replicas)]
        replicas: Option<ReplicasPolicy>,
        /// A value for a redacted Secret key (prefer --secret-file: command
        /// lines are visible to other local users)
        #[arg(long = "secret", value_name = "SECRET/KEY=VALUE", value_parser = SecretValueParser)]
        secrets: Vec<SecretArg>,
        /// A value for a redacted Secret key, read from a file (one trailing
        /// newline is dropped)
        #[arg(long = "secret-file", value_name = "SECRET/KEY=PATH",
            value_parser = crate::commands::env::secret_file)]
        secret_files: Vec<SecretFileArg>,
        /// Wait until it runs (or fails: exit code 1)
        #[arg(long)]
        wait: bool,
        /// Stop waiting after this long: seconds, or e.g. 90s, 10m, 1h
        #[arg(long, value_name = "DURATION", default_value = "10m", requires = "wait",
            value_parser = crate::commands::env::timeout)]
        timeout: Duration,
    },
    /// Pause an environment: its workloads scale to zero
    Pause {
        #[arg(value_parser = env_name)]
        name: EnvironmentName,
    },
    /// Resume a paused environment
    Resume {
        #[arg(value_parser = env_name)]
        name: EnvironmentName,
    },
    /// Delete an environment and its namespace
    Delete {
        #[arg(value_parser = env_name)]
        name: EnvironmentName,
        /// Wait until it is gone
        #[arg(long)]
        wait: bool,
        /// Stop waiting after this long: seconds, or e.g. 90s, 10m, 1h
        #[arg(long, value_name = "DURATION", default_value = "10m", requires = "wait",
            value_parser = crate::commands::env::timeout)]
        timeout: Duration,
    },
    /// Print the status and workloads; with --watch, follow every change
    /// until it settles (exit code 1 if it failed)
    Status {
        #[arg(value_parser = env_name)]
        name: EnvironmentName,
        /// Print each change (one line, or one JSON document per line with
        /// -o json) until the status settles; Ctrl-C stops
        #[arg(long)]
        watch: bool,
        /// Stop watching after this long: seconds, or e.g. 90s, 10m, 1h
        #[arg(long, value_name = "DURATION", default_value = "10m", requires = "watch",
            value_parser = crate::commands::env::timeout)]
        timeout: Duration,
    },
}

const ENV_CREATE_ABOUT: &str = "Create an environment from a catalog in a target cluster.\n\n\
    A Personal environment (the default) is yours; a Shared one (--shared, admins) is the \
    team's. The cluster needs the target role, the matching permission, and a connected \
    kube-manager. Every Secret key the catalog redacted needs a value: give it with \
    --secret-file SECRET/KEY=PATH (or --secret SECRET/KEY=VALUE); values are never shown \
    again. With --wait, follows the environment until it runs, and exits with 1 if it fails.";

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "lapdev", "org", "members", "list", "--org", "acme", "-o", "json", "--all",
        ])
        .unwrap();
        assert_eq!(cli.global.org.unwrap().as_str(), "acme");
        assert_eq!(cli.global.output, OutputFormat::Json);
    }

    #[test]
    fn cluster_flags() {
        let cli = Cli::try_parse_from([
            "lapdev",
            "cluster",
            "create",
            "dev",
            "--roles",
            "source,target",
            "--permissions",
            "none",
        ])
        .unwrap();
        let Command::Cluster(ClusterCommand::Create {
            roles,
            permissions: p,
            ..
        }) = cli.command
        else {
            panic!("not a cluster create")
        };
        assert_eq!(roles, [RoleOfCluster::Source, RoleOfCluster::Target]);
        assert_eq!(permissions(&p), Ok(vec![]));
        assert!(permissions(&[PermissionArg::None, PermissionArg::Shared]).is_err());
        let err = Cli::try_parse_from(["lapdev", "cluster", "set-roles", "dev"]).unwrap_err();
        assert!(err.to_string().contains("required"), "{err}");
        let err = Cli::try_parse_from(["lapdev", "cluster", "show", "Dev"]).unwrap_err();
        assert!(err.to_string().contains("invalid cluster name"), "{err}");
    }

    #[test]
    fn invalid_names_are_refused_at_parse_time() {
        let err = Cli::try_parse_from(["lapdev", "org", "create", "Acme"]).unwrap_err();
        assert!(
            err.to_string().contains("invalid organization name"),
            "{err}"
        );
    }
}
