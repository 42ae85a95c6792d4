//! The one configuration of the server, parsed once (flags and `LAPDEV_*`
//! environment variables, through clap) and passed down.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Settings of `lapdev server`. `Debug` hides the admin password and the
/// database URL's credentials.
#[derive(Clone, clap::Args)]
pub struct ServerConfig {
    /// Address to listen on.
    #[arg(long, env = "LAPDEV_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Directory for the embedded database and other state.
    #[arg(long, env = "LAPDEV_DATA_DIR", default_value = "lapdev-data")]
    pub data_dir: PathBuf,
    /// postgres://... to use PostgreSQL instead of the embedded SQLite file.
    #[arg(long, env = "LAPDEV_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Public URL (https://... makes cookies Secure).
    #[arg(long, env = "LAPDEV_EXTERNAL_URL")]
    pub external_url: Option<String>,
    /// Username of the first admin, created on the first start.
    #[arg(long, env = "LAPDEV_ADMIN_USERNAME", default_value = "admin")]
    pub admin_username: String,
    /// Password of the first admin; generated (and shown once) when absent.
    #[arg(long, env = "LAPDEV_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Log format.
    #[arg(long, env = "LAPDEV_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// PEM certificate chain: serve HTTPS (and WSS for kube-manager) directly.
    #[arg(
        long,
        env = "LAPDEV_TLS_CERT",
        requires = "tls_key",
        value_name = "FILE"
    )]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(
        long,
        env = "LAPDEV_TLS_KEY",
        requires = "tls_cert",
        value_name = "FILE"
    )]
    pub tls_key: Option<PathBuf>,
    /// Seconds between kube-manager heartbeats; a cluster is Offline after
    /// 3 intervals without one.
    #[arg(long, env = "LAPDEV_TUNNEL_HEARTBEAT_SECS", default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=3600), value_name = "SECS")]
    pub tunnel_heartbeat_secs: u64,
    /// Seconds between kube-manager status reports (version, nodes, capacity).
    #[arg(long, env = "LAPDEV_TUNNEL_STATUS_SECS", default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=86400), value_name = "SECS")]
    pub tunnel_status_secs: u64,
    /// File holding the key (32 random bytes, base64) that encrypts the
    /// Secret values catalogs store. Absent: `<data dir>/secrets.key`,
    /// generated (mode 0600) on the first start.
    #[arg(long, env = "LAPDEV_SECRETS_KEY_FILE", value_name = "FILE")]
    pub secrets_key_file: Option<PathBuf>,
    /// Previous key files (comma-separated), for decryption only: values
    /// sealed with them are re-encrypted under the current key at start.
    #[arg(
        long,
        env = "LAPDEV_SECRETS_OLD_KEY_FILES",
        value_delimiter = ',',
        value_name = "FILE"
    )]
    pub secrets_old_key_files: Vec<PathBuf>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(lapdev_db::redact_url),
            )
            .field("external_url", &self.external_url)
            .field("admin_username", &self.admin_username)
            .field(
                "admin_password",
                &self.admin_password.as_ref().map(|_| "<redacted>"),
            )
            .field("log_format", &self.log_format)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .field("tunnel_heartbeat_secs", &self.tunnel_heartbeat_secs)
            .field("tunnel_status_secs", &self.tunnel_status_secs)
            .field("secrets_key_file", &self.secrets_key_file)
            .field("secrets_old_key_files", &self.secrets_old_key_files)
            .finish()
    }
}

impl ServerConfig {
    /// Defaults with the given data directory, listening on an ephemeral
    /// loopback port: what tests and embedders start from.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            database_url: None,
            external_url: None,
            admin_username: "admin".into(),
            admin_password: None,
            log_format: LogFormat::Text,
            tls_cert: None,
            tls_key: None,
            tunnel_heartbeat_secs: 10,
            tunnel_status_secs: 60,
            secrets_key_file: None,
            secrets_old_key_files: Vec::new(),
        }
    }

    /// The tunnel timing this configuration asks for.
    pub fn tunnel_settings(&self) -> crate::tunnel::TunnelSettings {
        crate::tunnel::TunnelSettings {
            heartbeat_interval: std::time::Duration::from_secs(self.tunnel_heartbeat_secs.max(1)),
            status_interval: std::time::Duration::from_secs(self.tunnel_status_secs.max(1)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// What the HTTP layer needs from the configuration, checked once.
#[derive(Debug, Clone)]
pub(crate) struct HttpSettings {
    /// Cookies get `Secure` and the `__Host-` prefix.
    pub(crate) secure_cookies: bool,
    /// `scheme://host[:port]` of the external URL, for the Origin check.
    pub(crate) external_origin: Option<String>,
    /// The external URL without a trailing slash (it may have a path).
    pub(crate) external_url: Option<String>,
    /// The server itself terminates TLS (`--tls-cert`).
    pub(crate) tls: bool,
}

impl HttpSettings {
    pub(crate) fn from_config(config: &ServerConfig) -> Result<Self, String> {
        let tls = config.tls_cert.is_some();
        let Some(url) = config.external_url.as_deref() else {
            return Ok(HttpSettings {
                secure_cookies: tls,
                external_origin: None,
                external_url: None,
                tls,
            });
        };
        let url = url.trim_end_matches('/');
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("--external-url {url:?} must start with http:// or https://"))?;
        if scheme != "http" && scheme != "https" {
            return Err(format!(
                "--external-url {url:?} must start with http:// or https://"
            ));
        }
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty() {
            return Err(format!("--external-url {url:?} has no host"));
        }
        if url.contains(['?', '#', '"', '\\', ' ']) {
            return Err(format!(
                "--external-url {url:?} must not contain a query, a fragment, quotes or spaces"
            ));
        }
        Ok(HttpSettings {
            secure_cookies: scheme == "https" || tls,
            external_origin: Some(format!("{scheme}://{host}")),
            external_url: Some(url.to_string()),
            tls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        server: ServerConfig,
    }

    #[test]
    fn flags_parse_with_defaults() {
        let cli = Cli::try_parse_from(["lapdev", "--data-dir", "/tmp/x"]).unwrap();
        assert_eq!(cli.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(cli.server.admin_username, "admin");
        assert_eq!(cli.server.log_format, LogFormat::Text);
    }

    #[test]
    fn debug_hides_secrets() {
        let mut config = ServerConfig::for_data_dir("/tmp/x");
        config.admin_password = Some("hunter2-hunter2".into());
        config.database_url = Some("postgres://lapdev:s3cret@db/lapdev".into());
        let debug = format!("{config:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("s3cret"),
            "{debug}"
        );
        assert!(debug.contains("postgres://db/lapdev"));
    }

    #[test]
    fn external_url_decides_cookie_security() {
        let mut config = ServerConfig::for_data_dir("/tmp/x");
        config.external_url = Some("https://lapdev.example.com/".into());
        let s = HttpSettings::from_config(&config).unwrap();
        assert!(s.secure_cookies);
        assert_eq!(
            s.external_origin.as_deref(),
            Some("https://lapdev.example.com")
        );
        config.external_url = Some("ftp://x".into());
        assert!(HttpSettings::from_config(&config).is_err());
    }

    #[test]
    fn native_tls_makes_cookies_secure() {
        let mut config = ServerConfig::for_data_dir("/tmp/x");
        config.tls_cert = Some("/tmp/cert.pem".into());
        config.tls_key = Some("/tmp/key.pem".into());
        let s = HttpSettings::from_config(&config).unwrap();
        assert!(s.secure_cookies && s.tls);
        config.external_url = Some("http://lapdev.internal:8080".into());
        assert!(HttpSettings::from_config(&config).unwrap().secure_cookies);
    }

    #[test]
    fn tls_flags_come_in_pairs() {
        let err = Cli::try_parse_from(["lapdev", "--tls-cert", "/tmp/c.pem"]);
        assert!(err.is_err());
        let cli = Cli::try_parse_from([
            "lapdev",
            "--tls-cert",
            "/c.pem",
            "--tls-key",
            "/k.pem",
            "--tunnel-heartbeat-secs",
            "2",
        ])
        .unwrap();
        assert_eq!(
            cli.server.tunnel_settings().offline_after(),
            std::time::Duration::from_secs(6)
        );
    }
}
