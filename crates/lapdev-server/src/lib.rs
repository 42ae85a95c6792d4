//! The Lapdev control plane as a library: [`router`] for tests (no socket),
//! [`start`] for the `lapdev server` binary.
//!
//! Layers, top to bottom: `http` (thin handlers, extractors, router) →
//! `app` (one file per resource; calls `authz` before acting) → `lapdev_db`
//! (one file per resource). `auth` holds passwords, tokens, sessions, CSRF
//! and the sign-in rate limit; `authz` is the one place that decides who may
//! do what. This crate never talks to a Kubernetes API.

mod app;
pub mod auth;
mod authz;
pub mod config;
mod error;
mod http;
mod install;
mod metrics;
mod reconciler;
pub mod secrets;
mod state;
pub mod tls;
pub mod tunnel;
mod web;

use std::net::SocketAddr;

use lapdev_db::Db;
use lapdev_domain::{OrganizationName, Username};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use app::AppError;
pub use config::{LogFormat, ServerConfig};
pub use error::ApiError;
pub use http::extract::ClientIp;
pub use http::openapi;
pub use state::AppState;
pub use web::{WEB_ROUTES, WebRoute};

/// The organization the first start creates.
pub const FIRST_ORGANIZATION: &str = "default";

/// The whole HTTP application. Serve it with connect info
/// (`into_make_service_with_connect_info::<SocketAddr>()`) to rate-limit
/// sign-ins per client IP.
pub fn router(state: AppState) -> axum::Router {
    http::router(state)
}

/// Credentials of the first admin, created on the first start.
#[derive(Clone, PartialEq, Eq)]
pub struct InitialAdmin {
    pub username: String,
    pub password: String,
    pub organization: String,
}

impl std::fmt::Debug for InitialAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitialAdmin")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("organization", &self.organization)
            .finish()
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot open the database")]
    Database(#[source] lapdev_db::DbError),
    #[error("cannot load the secrets key")]
    Secrets(#[source] secrets::SecretsError),
    #[error("cannot re-encrypt stored Secret values")]
    Reseal(#[source] secrets::ResealError),
    #[error("cannot create the first admin")]
    Bootstrap(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

impl AppState {
    /// Opens the datastore (running migrations) and creates the first admin
    /// on an empty database. What [`start`] does before it binds.
    pub async fn open(
        config: &ServerConfig,
    ) -> Result<(AppState, Option<InitialAdmin>), StartError> {
        let settings = config::HttpSettings::from_config(config).map_err(StartError::Config)?;
        let username = Username::parse(config.admin_username.clone())
            .map_err(|e| StartError::Config(format!("--admin-username: {e}")))?;
        if config.admin_password.as_deref() == Some("") {
            return Err(StartError::Config(
                "--admin-password must not be empty".into(),
            ));
        }
        let db = match config.database_url.as_deref() {
            Some(url) => Db::connect(url).await,
            None => Db::open_sqlite_in(&config.data_dir).await,
        }
        .map_err(StartError::Database)?;
        let keyring = secrets::Keyring::load(
            config.secrets_key_file.as_deref(),
            &config.secrets_old_key_files,
            &config.data_dir,
        )
        .map_err(StartError::Secrets)?;
        secrets::reseal_old_values(&db, &keyring)
            .await
            .map_err(StartError::Reseal)?;
        let initial_admin = bootstrap(&db, username, config.admin_password.clone()).await?;
        let dummy_hash = auth::passwords::hash(auth::passwords::generate())
            .await
            .map_err(|e| StartError::Bootstrap(Box::new(e)))?;
        Ok((
            AppState::new(db, settings, dummy_hash, config.tunnel_settings(), keyring),
            initial_admin,
        ))
    }
}

async fn bootstrap(
    db: &Db,
    username: Username,
    password: Option<String>,
) -> Result<Option<InitialAdmin>, StartError> {
    if db.has_users().await.map_err(StartError::Database)? {
        return Ok(None);
    }
    let password = match password {
        Some(p) => {
            if p.chars().count() < auth::passwords::MIN_LEN {
                tracing::warn!(
                    "the given admin password is shorter than {} characters",
                    auth::passwords::MIN_LEN
                );
            }
            p
        }
        None => auth::passwords::generate(),
    };
    let hash = auth::passwords::hash(password.clone())
        .await
        .map_err(|e| StartError::Bootstrap(Box::new(e)))?;
    let org = OrganizationName::parse(FIRST_ORGANIZATION).expect("a valid name");
    let created = db
        .bootstrap_first_admin(&username, &hash, &org)
        .await
        .map_err(StartError::Database)?;
    Ok(created.map(|(user, org)| {
        // The password itself is for the embedding binary to show, never for the log.
        tracing::info!(username = %user.username, organization = %org.name, "created the first admin");
        InitialAdmin {
            username: user.username.to_string(),
            password,
            organization: org.name.to_string(),
        }
    }))
}

/// A server serving in the background.
pub struct RunningServer {
    local_addr: SocketAddr,
    scheme: &'static str,
    initial_admin: Option<InitialAdmin>,
    state: AppState,
    tasks: TaskTracker,
    cancel: CancellationToken,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("local_addr", &self.local_addr)
            .field("initial_admin", &self.initial_admin)
            .finish_non_exhaustive()
    }
}

/// How often expired dashboard sessions are deleted.
const SESSION_SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Binds `config.listen`, opens the database (migrating it), creates the
/// first admin on an empty database and serves in the background.
pub async fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
    // Read the TLS files and bind first: a first start that cannot serve
    // must not create (and so lose) the generated admin password.
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(tls::server_config(cert, key).map_err(StartError::Tls)?),
        (None, None) => None,
        _ => {
            return Err(StartError::Config(
                "--tls-cert and --tls-key go together".into(),
            ));
        }
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;
    let (state, initial_admin) = AppState::open(&config).await?;
    let tasks = state.tasks().clone();
    let cancel = state.shutdown().clone();

    // Before serving: it must hear about the first tunnel that connects.
    reconciler::spawn(state.clone());
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let stop = cancel.clone();
    match tls {
        None => {
            tasks.spawn(async move {
                let served = axum::serve(listener, app)
                    .with_graceful_shutdown(stop.clone().cancelled_owned())
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "the HTTP server failed");
                    stop.cancel();
                }
            });
        }
        Some(tls) => {
            use axum::serve::ListenerExt;
            let listener = tls::TlsListener::spawn(listener, tls, &tasks, stop.clone())
                .map_err(|source| StartError::Bind {
                    addr: config.listen,
                    source,
                })?
                // `tap_io` gives the connect info (the client address).
                .tap_io(|_| {});
            tasks.spawn(async move {
                let served = axum::serve(listener, app)
                    .with_graceful_shutdown(stop.clone().cancelled_owned())
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "the HTTPS server failed");
                    stop.cancel();
                }
            });
        }
    }

    let sweeper_state = state.clone();
    let stop = cancel.clone();
    tasks.spawn(async move {
        let mut every = tokio::time::interval(SESSION_SWEEP_EVERY);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = every.tick() => {
                    if let Err(e) = sweeper_state.db().sessions_delete_expired(jiff::Timestamp::now()).await {
                        tracing::warn!(error = %error::Chain(&e), "could not delete expired sessions");
                    }
                }
            }
        }
    });
    let scheme = if config.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(addr = %local_addr, scheme, "listening");
    Ok(RunningServer {
        local_addr,
        scheme,
        initial_admin,
        state,
        tasks,
        cancel,
    })
}

impl RunningServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://ADDR:PORT` (`https://` with native TLS).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.local_addr)
    }

    /// Set only on the first start: the generated or given credentials.
    pub fn initial_admin(&self) -> Option<&InitialAdmin> {
        self.initial_admin.as_ref()
    }

    /// The server's state (database handle), for tests and embedders.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops accepting, lets in-flight requests finish, closes tunnels
    /// (close code 1001, "going away"), closes the database.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        self.tasks.close();
        self.tasks.wait().await;
        self.state.db().close().await;
        tracing::info!("stopped");
    }

    /// Serves until SIGINT or SIGTERM (or a fatal server error), then shuts
    /// down gracefully.
    pub async fn wait_for_shutdown_signal(self) {
        tokio::select! {
            () = shutdown_signal() => tracing::info!("shutting down"),
            () = self.cancel.cancelled() => {}
        }
        self.shutdown().await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Installs the global `tracing` subscriber for a binary: `RUST_LOG`
/// filtering (default `info`), text or JSON lines on stderr. Does nothing if
/// one is already installed.
pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    // Colours only on a terminal: a log file or journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _already_installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
