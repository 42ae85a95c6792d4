//! TEMPORARY stand-in for the lapdev-server interface (`ServerConfig`, `start`,
//! `RunningServer`) while that crate is being written; removed when it lands.
#![allow(dead_code, unreachable_pub)]
use std::net::SocketAddr;
use std::path::PathBuf;

/// Settings of `lapdev server`.
#[derive(Debug, Clone, clap::Args)]
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

pub struct InitialAdmin {
    pub username: String,
    pub password: String,
    pub organization: String,
}
/// Uninhabited until the real server lands.
pub enum RunningServer {}
impl RunningServer {
    pub fn url(&self) -> String {
        match *self {}
    }
    pub fn initial_admin(&self) -> Option<&InitialAdmin> {
        match *self {}
    }
    pub async fn shutdown(self) {
        match self {}
    }
    pub async fn wait_for_shutdown_signal(&self) {
        match *self {}
    }
}
#[derive(Debug, thiserror::Error)]
#[error("this build of lapdev does not include the server yet")]
pub struct StartError;
pub async fn start(_config: ServerConfig) -> Result<RunningServer, StartError> {
    Err(StartError)
}
pub fn init_tracing(_format: LogFormat) {}
