//! The one [`Config`] of kube-manager: parsed once from flags and environment
//! variables ([`Args`], clap), then resolved (token file read, URL checked)
//! into the values the rest of the crate uses. Tests build [`Args`] with
//! `Args::try_parse_from` and never touch the process environment.
//!
//! The binary parses [`Cli`]: the tunnel options ([`Args`]) plus the
//! in-cluster ones ([`ClusterArgs`]: health listener, source namespaces).
//! They are two structs so that embedders which build `Args` by hand (the
//! in-process demo) keep compiling and get neither: no listener,
//! cluster-wide reads.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::environment::ServiceAccountRef;
use crate::source::SourceScope;

/// Everything the binary accepts.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "lapdev-kube-manager",
    version,
    about = "The Lapdev controller inside a Kubernetes cluster: opens an outbound TLS WebSocket tunnel to the Lapdev server and serves its requests.",
    long_about = None
)]
pub struct Cli {
    #[command(flatten)]
    pub args: Args,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

impl Cli {
    /// The one [`Config`] of the binary.
    pub fn resolve(self) -> Result<Config, ConfigError> {
        Config::resolve(self.args)?.with_cluster_args(self.cluster)
    }
}

/// Options only the in-cluster Deployment sets.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClusterArgs {
    /// Serve /healthz and /readyz on this address (e.g. 0.0.0.0:8081).
    /// Unset: no health listener.
    #[arg(long, env = "LAPDEV_HEALTH_LISTEN")]
    pub health_listen: Option<SocketAddr>,

    /// Read production manifests only in these namespaces (comma-separated),
    /// with namespaced LISTs, for RBAC that grants reads only there.
    /// Unset or empty: every namespace.
    #[arg(long, env = "LAPDEV_SOURCE_NAMESPACES")]
    pub source_namespaces: Option<String>,

    /// kube-manager's own ServiceAccount (`namespace/name`): the subject of
    /// the RoleBinding of ClusterRole `lapdev-environment` it creates in
    /// each environment namespace.
    #[arg(
        long,
        env = "LAPDEV_SERVICE_ACCOUNT",
        default_value = "lapdev/lapdev-kube-manager"
    )]
    pub service_account: ServiceAccountRef,
}

/// Flags, each with an environment variable (the Deployment sets those).
#[derive(Debug, Clone, Parser)]
#[command(name = "lapdev-kube-manager")]
pub struct Args {
    /// The Lapdev server's base URL, e.g. https://lapdev.example.com (https only).
    #[arg(long, env = "LAPDEV_SERVER_URL")]
    pub server_url: String,

    /// The cluster token. Prefer --token-file (the mounted Secret).
    #[arg(long, env = "LAPDEV_CLUSTER_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// A file holding the cluster token (surrounding whitespace is ignored).
    #[arg(long, env = "LAPDEV_CLUSTER_TOKEN_FILE", conflicts_with = "token")]
    pub token_file: Option<PathBuf>,

    /// Extra CA certificates (PEM) to trust for the server, for self-hosted
    /// servers with a private CA. The system roots stay trusted.
    #[arg(long, env = "LAPDEV_SERVER_CA_FILE")]
    pub server_ca_file: Option<PathBuf>,

    /// First reconnect delay in milliseconds; doubles per failure.
    #[arg(long, env = "LAPDEV_RECONNECT_BASE_MS", default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub reconnect_base_ms: u64,

    /// Longest reconnect delay in milliseconds. After the server refuses the
    /// token both bounds are multiplied by 30 (default: 30 s to 30 min).
    #[arg(long, env = "LAPDEV_RECONNECT_MAX_MS", default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub reconnect_max_ms: u64,

    /// How many server requests run at once; more are answered `overloaded`.
    #[arg(long, env = "LAPDEV_MAX_CONCURRENT_REQUESTS", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_concurrent_requests: u32,

    /// Log format.
    #[arg(long, env = "LAPDEV_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The cluster token. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterToken(String);

impl ClusterToken {
    /// The secret itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClusterToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterToken(<redacted>)")
    }
}

/// Where the token comes from. A file is read again before every connection
/// attempt, so a rotated Secret is picked up without a restart (the kubelet
/// updates mounted Secrets in place).
#[derive(Debug, Clone)]
pub enum TokenSource {
    Inline(ClusterToken),
    File(PathBuf),
}

impl TokenSource {
    /// The current token.
    pub fn load(&self) -> Result<ClusterToken, ConfigError> {
        match self {
            TokenSource::Inline(t) => Ok(t.clone()),
            TokenSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    what: "the token file",
                    path: path.clone(),
                    source,
                })?;
                let t = text.trim();
                if t.is_empty() {
                    return Err(ConfigError::EmptyTokenFile { path: path.clone() });
                }
                Ok(ClusterToken(t.to_string()))
            }
        }
    }
}

/// Everything kube-manager needs, resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// `wss://host[:port]/api/v1/tunnel`.
    pub tunnel_url: String,
    pub token: TokenSource,
    /// PEM text of extra trusted CAs.
    pub server_ca_pem: Option<Vec<u8>>,
    pub reconnect_base: Duration,
    pub reconnect_max: Duration,
    pub max_concurrent_requests: u32,
    pub log_format: LogFormat,
    /// Where to serve the health endpoints; `None`: nowhere.
    pub health_listen: Option<SocketAddr>,
    /// The namespaces catalog requests may read.
    pub source_scope: SourceScope,
    /// kube-manager's own ServiceAccount (bound in environment namespaces).
    pub service_account: ServiceAccountRef,
}

/// The configuration is unusable; the message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no cluster token: set LAPDEV_CLUSTER_TOKEN_FILE (the mounted Secret) or LAPDEV_CLUSTER_TOKEN"
    )]
    MissingToken,
    #[error("the cluster token in {path} is empty")]
    EmptyTokenFile { path: PathBuf },
    #[error("the cluster token is empty")]
    EmptyToken,
    #[error("cannot read {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("LAPDEV_SERVER_URL {url:?} is not usable: {reason}")]
    ServerUrl { url: String, reason: &'static str },
    #[error("LAPDEV_SOURCE_NAMESPACES {value:?} is not usable: {reason}")]
    SourceNamespaces { value: String, reason: String },
}

/// How many times longer the backoff is after the server refused the token.
pub const AUTH_BACKOFF_FACTOR: u32 = 30;

impl Config {
    pub fn resolve(args: Args) -> Result<Config, ConfigError> {
        let token = match (&args.token, &args.token_file) {
            (Some(t), _) => {
                let t = t.trim();
                if t.is_empty() {
                    return Err(ConfigError::EmptyToken);
                }
                TokenSource::Inline(ClusterToken(t.to_string()))
            }
            (None, Some(path)) => TokenSource::File(path.clone()),
            (None, None) => return Err(ConfigError::MissingToken),
        };
        // Fail fast on an unreadable or empty token file.
        token.load()?;
        let server_ca_pem = match &args.server_ca_file {
            Some(path) => Some(std::fs::read(path).map_err(|source| ConfigError::Read {
                what: "the server CA file",
                path: path.clone(),
                source,
            })?),
            None => None,
        };
        Ok(Config {
            tunnel_url: tunnel_url(&args.server_url)?,
            token,
            server_ca_pem,
            reconnect_base: Duration::from_millis(args.reconnect_base_ms),
            reconnect_max: Duration::from_millis(args.reconnect_max_ms),
            max_concurrent_requests: args.max_concurrent_requests,
            log_format: args.log_format,
            health_listen: None,
            source_scope: SourceScope::Cluster,
            service_account: ServiceAccountRef::default(),
        })
    }

    /// Adds the in-cluster options.
    pub fn with_cluster_args(mut self, cluster: ClusterArgs) -> Result<Config, ConfigError> {
        self.health_listen = cluster.health_listen;
        self.service_account = cluster.service_account;
        if let Some(value) = cluster.source_namespaces {
            self.source_scope = SourceScope::parse(&value)
                .map_err(|reason| ConfigError::SourceNamespaces { value, reason })?;
        }
        Ok(self)
    }
}

/// `https://host[:port][/prefix]` → `wss://host[:port][/prefix]/api/v1/tunnel`.
fn tunnel_url(server_url: &str) -> Result<String, ConfigError> {
    let fail = |reason| {
        Err(ConfigError::ServerUrl {
            url: server_url.to_string(),
            reason,
        })
    };
    let uri: http::Uri = match server_url.trim().parse() {
        Ok(u) => u,
        Err(_) => return fail("it is not a URL"),
    };
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") => {
            return fail(
                "the tunnel needs TLS: use https:// (add LAPDEV_SERVER_CA_FILE for a private CA)",
            );
        }
        _ => return fail("use an https:// URL"),
    }
    let Some(authority) = uri.authority() else {
        return fail("it has no host");
    };
    if authority.as_str().contains('@') {
        return fail("credentials in the URL are not allowed; the token is sent in a header");
    }
    if uri.query().is_some() {
        return fail("a query string is not allowed");
    }
    let prefix = uri.path().trim_end_matches('/');
    Ok(format!(
        "wss://{authority}{prefix}{}",
        lapdev_tunnel_proto::TUNNEL_PATH
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(args: &[&str]) -> String {
        let mut argv = vec!["lapdev-kube-manager"];
        argv.extend_from_slice(args);
        match Args::try_parse_from(argv) {
            Err(e) => format!("usage: {:?}", e.kind()),
            Ok(args) => match Config::resolve(args) {
                Ok(c) => format!("{} {:?}", c.tunnel_url, c.token.load().unwrap()),
                Err(e) => e.to_string(),
            },
        }
    }

    #[test]
    fn server_urls() {
        let check = |url: &str, expect: &str| {
            assert_eq!(
                resolve(&["--server-url", url, "--token", "t"]),
                expect,
                "{url}"
            );
        };
        check(
            "https://lapdev.example.com",
            "wss://lapdev.example.com/api/v1/tunnel ClusterToken(<redacted>)",
        );
        check(
            "https://lapdev.example.com:8443/",
            "wss://lapdev.example.com:8443/api/v1/tunnel ClusterToken(<redacted>)",
        );
        check(
            "https://example.com/lapdev/",
            "wss://example.com/lapdev/api/v1/tunnel ClusterToken(<redacted>)",
        );
        check(
            "http://lapdev.example.com",
            "LAPDEV_SERVER_URL \"http://lapdev.example.com\" is not usable: the tunnel needs TLS: use https:// (add LAPDEV_SERVER_CA_FILE for a private CA)",
        );
        check(
            "lapdev.example.com",
            "LAPDEV_SERVER_URL \"lapdev.example.com\" is not usable: use an https:// URL",
        );
        check(
            "https://u:p@lapdev.example.com",
            "LAPDEV_SERVER_URL \"https://u:p@lapdev.example.com\" is not usable: credentials in the URL are not allowed; the token is sent in a header",
        );
        check(
            "https://x/?token=1",
            "LAPDEV_SERVER_URL \"https://x/?token=1\" is not usable: a query string is not allowed",
        );
    }

    fn resolve_cli(args: &[&str]) -> String {
        let mut argv = vec![
            "lapdev-kube-manager",
            "--server-url",
            "https://x",
            "--token",
            "t",
        ];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv) {
            Err(e) => format!("usage: {:?}", e.kind()),
            Ok(cli) => match cli.resolve() {
                Ok(c) => format!("health={:?} scope={:?}", c.health_listen, c.source_scope),
                Err(e) => e.to_string(),
            },
        }
    }

    #[test]
    fn cluster_options() {
        let check = |args: &[&str], expect: &str| assert_eq!(resolve_cli(args), expect, "{args:?}");
        check(&[], "health=None scope=Cluster");
        check(
            &["--health-listen", "0.0.0.0:8081"],
            "health=Some(0.0.0.0:8081) scope=Cluster",
        );
        check(
            &["--health-listen", "localhost:8081"],
            "usage: ValueValidation",
        );
        check(&["--source-namespaces", ""], "health=None scope=Cluster");
        check(
            &["--source-namespaces", " shop, billing,shop "],
            "health=None scope=Namespaces([\"billing\", \"shop\"])",
        );
        check(
            &["--source-namespaces", "shop,,billing"],
            "LAPDEV_SOURCE_NAMESPACES \"shop,,billing\" is not usable: an empty entry (write the namespaces separated by commas)",
        );
        check(
            &["--source-namespaces", "shop,Billing"],
            "LAPDEV_SOURCE_NAMESPACES \"shop,Billing\" is not usable: \"Billing\" is not a namespace name (an RFC 1123 label)",
        );
        // Embedders that build `Args` alone get neither option.
        let args =
            Args::try_parse_from(["k", "--server-url", "https://x", "--token", "t"]).unwrap();
        let config = Config::resolve(args).unwrap();
        assert_eq!(config.health_listen, None);
        assert_eq!(config.source_scope, SourceScope::Cluster);
    }

    #[test]
    fn token_from_flag_or_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "  secret-from-file\n").unwrap();
        let f = file.to_str().unwrap();
        let args =
            Args::try_parse_from(["k", "--server-url", "https://x", "--token-file", f]).unwrap();
        assert_eq!(
            Config::resolve(args)
                .unwrap()
                .token
                .load()
                .unwrap()
                .expose(),
            "secret-from-file"
        );
        std::fs::write(&file, "\n").unwrap();
        assert!(resolve(&["--server-url", "https://x", "--token-file", f]).ends_with("is empty"));
        assert_eq!(
            resolve(&["--server-url", "https://x"]),
            "no cluster token: set LAPDEV_CLUSTER_TOKEN_FILE (the mounted Secret) or LAPDEV_CLUSTER_TOKEN"
        );
        assert_eq!(
            resolve(&[
                "--server-url",
                "https://x",
                "--token",
                "a",
                "--token-file",
                f
            ]),
            "usage: ArgumentConflict"
        );
        assert_eq!(
            resolve(&["--server-url", "https://x", "--token", " "]),
            "the cluster token is empty"
        );
        let missing = dir.path().join("nope");
        assert!(
            resolve(&[
                "--server-url",
                "https://x",
                "--token-file",
                missing.to_str().unwrap()
            ])
            .starts_with("cannot read the token file")
        );
    }
}
