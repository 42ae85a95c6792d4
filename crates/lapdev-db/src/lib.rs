//! The Lapdev datastore: SQLite (embedded, the default) or PostgreSQL behind
//! one API, one module per resource.
//!
//! # Why sqlx's `Any` driver and one migration set
//!
//! Lapdev must run with zero setup (an SQLite file in the data directory) and
//! also on PostgreSQL for teams that run a real database. We use sqlx's `Any`
//! driver so there is exactly one implementation of every query and one set of
//! migrations, and one test suite runs against both backends (`tests/it`).
//! The price is a portable SQL subset, which this crate keeps to:
//!
//! - ids are `TEXT` holding UUIDv7 strings: generated in Rust, time-ordered, so
//!   `ORDER BY id` is creation order and an id serves as a pagination cursor;
//!   no `AUTOINCREMENT`/`SERIAL`;
//! - timestamps are `BIGINT` unix milliseconds (`jiff::Timestamp` in Rust);
//! - no booleans (a nullable timestamp says more), no JSON columns (JSON is
//!   stored as `TEXT`), no database-specific functions or `RETURNING`;
//! - parameters are written `$1`, `$2`, ...: PostgreSQL's syntax, which SQLite
//!   also accepts (sqlx binds `$N` by number);
//! - every transaction that reads before it writes starts with a write, so
//!   SQLite takes its write lock up front (no `SQLITE_BUSY` on lock upgrade)
//!   and PostgreSQL takes the row lock that serialises concurrent changes.
//!
//! SQLite runs in WAL mode with a small pool; migrations run at connect.

mod api_tokens;
mod audit;
mod catalogs;
mod cluster_tokens;
mod clusters;
mod environments;
mod memberships;
mod organizations;
mod row;
mod sessions;
#[cfg(feature = "testing")]
pub mod testing;
mod users;

use std::borrow::Cow;
use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Executor};

pub use api_tokens::{NewApiToken, TokenRecord};
pub use audit::{Actor, AuditRecord, NewAuditEvent};
pub use catalogs::{CatalogContent, CatalogRecord, NewCatalog, SealedValue};
pub use cluster_tokens::{ClusterTokenRecord, NewClusterToken};
pub use clusters::{ClusterChange, ClusterFacts, ClusterRecord, NewCluster};
pub use environments::{
    EnvironmentEventRecord, EnvironmentRecord, EnvironmentReport, EnvironmentVisibility, EventNote,
    NewEnvironment,
};
pub use memberships::MemberRecord;
pub use organizations::OrganizationRecord;
pub use row::Slice;
pub use sessions::{NewSession, SessionRecord};
pub use users::{UserRecord, UserWithPassword};

/// The embedded database file inside the data directory.
pub const SQLITE_FILE_NAME: &str = "lapdev.db";

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Everything that can go wrong in the datastore.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL {0:?}: use postgres://... or sqlite:...")]
    UnsupportedUrl(String),
    #[error("cannot create the data directory {path}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to the database at {url}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot apply the database migrations")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("{what} already exists")]
    Conflict { what: &'static str },
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("the organization must keep at least one admin")]
    LastAdmin,
    #[error("stored {what} is invalid: {value:?}")]
    Corrupt { what: &'static str, value: String },
    #[error("database query failed")]
    Query(#[source] sqlx::Error),
}

impl DbError {
    /// The database could not be reached (as opposed to a query that failed).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            DbError::Connect { .. }
                | DbError::Query(
                    sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
                )
        )
    }
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        DbError::Query(e)
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// Maps a unique-constraint violation to [`DbError::Conflict`].
pub(crate) fn conflict_as(what: &'static str) -> impl Fn(sqlx::Error) -> DbError {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => DbError::Conflict { what },
        _ => DbError::Query(e),
    }
}

/// The write that starts a transaction which reads before it writes (see
/// the crate docs): a no-op update of row `id` of `table` that takes its
/// lock, matching only when its `owner_col` is `owner`. `NotFound { what }`
/// when no such row exists.
pub(crate) async fn lock_owned(
    conn: &mut sqlx::AnyConnection,
    table: &'static str,
    id: impl ToString,
    owner_col: &'static str,
    owner: impl ToString,
    what: &'static str,
) -> DbResult<()> {
    let matched = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET name = name WHERE id = $1 AND {owner_col} = $2"
    )))
    .bind(id.to_string())
    .bind(owner.to_string())
    .execute(conn)
    .await?
    .rows_affected();
    if matched == 0 {
        return Err(DbError::NotFound { what });
    }
    Ok(())
}

/// The handle to the datastore. Cheap to clone (a connection pool).
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

fn migrator() -> Migrator {
    let migrations = [
        (
            1,
            "identity",
            include_str!("../migrations/0001_identity.sql"),
        ),
        (
            2,
            "clusters",
            include_str!("../migrations/0002_clusters.sql"),
        ),
        (
            3,
            "catalogs",
            include_str!("../migrations/0003_catalogs.sql"),
        ),
        (
            4,
            "environments",
            include_str!("../migrations/0004_environments.sql"),
        ),
    ];
    Migrator::with_migrations(
        migrations
            .into_iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    sqlx::AssertSqlSafe(sql).into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// `scheme://user:password@host/db` → `scheme://host/db`, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

impl Db {
    /// Opens (creating if needed) the embedded SQLite database in `data_dir`.
    pub async fn open_sqlite_in(data_dir: &Path) -> DbResult<Db> {
        std::fs::create_dir_all(data_dir).map_err(|source| DbError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let file = std::path::absolute(data_dir.join(SQLITE_FILE_NAME)).map_err(|source| {
            DbError::DataDir {
                path: data_dir.display().to_string(),
                source,
            }
        })?;
        // The driver percent-decodes the path: escape what would be misread.
        let path = file
            .display()
            .to_string()
            .replace('%', "%25")
            .replace('?', "%3F")
            .replace('#', "%23");
        Self::connect(&format!("sqlite://{path}?mode=rwc")).await
    }

    /// Connects to `url` (`postgres://...` or `sqlite:...`) and runs the migrations.
    pub async fn connect(url: &str) -> DbResult<Db> {
        install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(DbError::UnsupportedUrl(redact_url(url)));
        };
        let max = match backend {
            // One writer at a time anyway; a few readers help the dashboard.
            Backend::Sqlite => 4,
            Backend::Postgres => 16,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|source| DbError::Connect {
                url: redact_url(url),
                source,
            })?;
        if backend == Backend::Sqlite {
            // Persistent in the file: readers never block the writer.
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        migrator().run(&pool).await.map_err(DbError::Migrate)?;
        Ok(Db { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A trivial query, for readiness checks.
    pub async fn ping(&self) -> DbResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Waits for connections to be returned and closes them.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

use sqlx::SqlSafeStr as _;
