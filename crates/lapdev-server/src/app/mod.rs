//! The application layer: one file per resource. Each operation takes the
//! caller, asks [`crate::authz`] whether it may act, and talks to the
//! datastore. No HTTP types here.

pub(crate) mod audit;
pub(crate) mod catalog_content;
pub(crate) mod catalogs;
pub(crate) mod clusters;
pub(crate) mod environments;
pub(crate) mod members;
pub(crate) mod organizations;
pub(crate) mod tokens;
pub(crate) mod users;
pub(crate) mod workloads;

use lapdev_db::DbError;

/// Why an operation failed, in terms of the domain.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not signed in")]
    Unauthenticated,
    #[error("wrong username or password")]
    WrongCredentials,
    #[error("{0}")]
    Conflict(String),
    /// Something named by the caller does not exist; the message names it.
    #[error("{0}")]
    Missing(String),
    /// A cluster could not do the work now (not connected, no answer).
    #[error("{0}")]
    ClusterUnavailable(String),
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
    #[error("rate limited")]
    RateLimited,
    #[error("database unavailable")]
    Unavailable,
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        AppError::Internal(Box::new(e))
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound { what } => AppError::NotFound(what),
            DbError::Conflict { what } => AppError::Conflict(format!("{what} already exists")),
            DbError::LastAdmin => AppError::Conflict(
                "the organization must keep at least one admin: promote another member first"
                    .into(),
            ),
            e if e.is_unavailable() => AppError::Unavailable,
            other => AppError::internal(other),
        }
    }
}

pub(crate) type AppResult<T> = Result<T, AppError>;

/// A validated `?limit=&cursor=`.
#[derive(Debug, Clone)]
pub(crate) struct PageRequest {
    pub(crate) limit: u32,
    pub(crate) cursor: Option<String>,
}

impl PageRequest {
    pub(crate) fn parse(query: lapdev_api::PageQuery) -> AppResult<Self> {
        use lapdev_api::PageQuery;
        let limit = query.limit.unwrap_or(PageQuery::DEFAULT_LIMIT);
        if !(1..=PageQuery::MAX_LIMIT).contains(&limit) {
            return Err(AppError::invalid(
                "limit",
                format!("must be between 1 and {}", PageQuery::MAX_LIMIT),
            ));
        }
        Ok(PageRequest {
            limit,
            cursor: query.cursor.filter(|c| !c.is_empty()),
        })
    }

    /// The longest page there is, from `cursor` (the dashboard's lists).
    pub(crate) fn longest(cursor: Option<String>) -> Self {
        PageRequest {
            limit: lapdev_api::PageQuery::MAX_LIMIT,
            cursor,
        }
    }

    /// The cursor as the id type of the list.
    pub(crate) fn cursor<T: std::str::FromStr>(&self) -> AppResult<Option<T>> {
        self.cursor
            .as_deref()
            .map(|c| {
                c.parse()
                    .map_err(|_| AppError::invalid("cursor", "not a cursor from a previous page"))
            })
            .transpose()
    }
}

/// Turns a datastore slice into an API page, the cursor being the last id.
pub(crate) fn page<R, T>(
    slice: lapdev_db::Slice<R>,
    id_of: impl Fn(&R) -> String,
    map: impl Fn(R) -> T,
) -> lapdev_api::Page<T> {
    let next_cursor = if slice.has_more {
        slice.items.last().map(&id_of)
    } else {
        None
    };
    lapdev_api::Page {
        items: slice.items.into_iter().map(map).collect(),
        next_cursor,
    }
}
