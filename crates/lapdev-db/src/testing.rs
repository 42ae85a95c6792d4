//! Scratch databases for tests (feature `testing`): a fresh SQLite file in a
//! temporary directory, or a fresh PostgreSQL database created on the server
//! named by `LAPDEV_TEST_POSTGRES_URL` (start one with `.ci/postgres`) and
//! dropped by [`TestDatabase::cleanup`].

use sqlx::Connection;

use crate::{Backend, Db};

/// Environment variable with the URL of a PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "LAPDEV_TEST_POSTGRES_URL";
/// Set to `1` to skip (pass) the PostgreSQL variants when no server is available.
pub const SKIP_POSTGRES_VAR: &str = "LAPDEV_TEST_SKIP_POSTGRES";

pub struct TestDatabase {
    pub db: Db,
    /// The URL the database was opened with.
    pub url: String,
    dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("url", &crate::redact_url(&self.url))
            .finish_non_exhaustive()
    }
}

/// The PostgreSQL server URL, `None` when the variants should be skipped.
/// Panics with instructions when it is unset and skipping is not asked for.
pub fn postgres_server_url() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var(SKIP_POSTGRES_VAR).as_deref() == Ok("1") => None,
        _ => panic!(
            "{POSTGRES_URL_VAR} is not set: run `.ci/postgres` and export the URL it prints \
             (export {POSTGRES_URL_VAR}=$(.ci/postgres)), or set {SKIP_POSTGRES_VAR}=1 to skip \
             the PostgreSQL variants"
        ),
    }
}

fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server_url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut url = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

impl TestDatabase {
    pub async fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = Db::open_sqlite_in(dir.path()).await.expect("open SQLite");
        TestDatabase {
            db,
            url: format!(
                "sqlite://{}/{}",
                dir.path().display(),
                crate::SQLITE_FILE_NAME
            ),
            dir: Some(dir),
            postgres: None,
        }
    }

    /// `None` when PostgreSQL tests are skipped (see [`postgres_server_url`]).
    pub async fn postgres() -> Option<TestDatabase> {
        let server = postgres_server_url()?;
        sqlx::any::install_default_drivers();
        let name = format!("lapdev_t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::AnyConnection::connect(&server)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", crate::redact_url(&server)));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("CREATE DATABASE");
        admin.close().await.ok();
        let url = with_database(&server, &name);
        let db = Db::connect(&url).await.expect("open PostgreSQL");
        Some(TestDatabase {
            db,
            url,
            dir: None,
            postgres: Some((server, name)),
        })
    }

    pub async fn open(backend: Backend) -> Option<TestDatabase> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// Closes the pool and drops the scratch database.
    pub async fn cleanup(self) {
        self.db.close().await;
        if let Some((server, name)) = self.postgres
            && let Ok(mut admin) = sqlx::AnyConnection::connect(&server).await
        {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await;
            admin.close().await.ok();
        }
        drop(self.dir);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_replaces_the_path() {
        assert_eq!(
            super::with_database("postgres://u@h:1/postgres", "x"),
            "postgres://u@h:1/x"
        );
        assert_eq!(
            super::with_database("postgres://u@h:1/postgres?sslmode=disable", "x"),
            "postgres://u@h:1/x?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://h", "x"), "postgres://h/x");
    }
}
