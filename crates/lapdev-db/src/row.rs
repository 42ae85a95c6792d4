//! Decoding of the portable column encodings (UUIDv7 text, unix milliseconds)
//! into domain types.

use std::str::FromStr;

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{DbError, DbResult};

pub(crate) fn millis(ts: Timestamp) -> i64 {
    ts.as_millisecond()
}

/// Now, at the precision stored (milliseconds), so a record returned by a
/// create equals the same record read back.
pub(crate) fn now() -> Timestamp {
    Timestamp::from_millisecond(Timestamp::now().as_millisecond()).expect("now is in range")
}

/// `ts` at the precision stored.
pub(crate) fn truncate(ts: Timestamp) -> Timestamp {
    Timestamp::from_millisecond(ts.as_millisecond()).unwrap_or(ts)
}

pub(crate) fn ts(ms: i64) -> DbResult<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|_| DbError::Corrupt {
        what: "timestamp",
        value: ms.to_string(),
    })
}

pub(crate) fn get_ts(row: &AnyRow, col: &str) -> DbResult<Timestamp> {
    ts(row.try_get::<i64, _>(col)?)
}

pub(crate) fn get_opt_ts(row: &AnyRow, col: &str) -> DbResult<Option<Timestamp>> {
    row.try_get::<Option<i64>, _>(col)?.map(ts).transpose()
}

/// A `BIGINT` column holding a count or generation.
pub(crate) fn get_u64(row: &AnyRow, col: &'static str) -> DbResult<u64> {
    unsigned(col, row.try_get(col)?)
}

/// [`get_u64`] for a nullable column.
pub(crate) fn get_opt_u64(row: &AnyRow, col: &'static str) -> DbResult<Option<u64>> {
    row.try_get::<Option<i64>, _>(col)?
        .map(|raw| unsigned(col, raw))
        .transpose()
}

fn unsigned(col: &'static str, raw: i64) -> DbResult<u64> {
    u64::try_from(raw).map_err(|_| DbError::Corrupt {
        what: col,
        value: raw.to_string(),
    })
}

/// `n` for a `BIGINT` column, saturating.
pub(crate) fn bigint(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(crate) fn get_string(row: &AnyRow, col: &str) -> DbResult<String> {
    Ok(row.try_get::<String, _>(col)?)
}

/// Parses the value `raw` of column `col` with `FromStr` (typed ids, roles).
pub(crate) fn parsed<T: FromStr>(col: &'static str, raw: String) -> DbResult<T> {
    raw.parse().map_err(|_| DbError::Corrupt {
        what: col,
        value: raw,
    })
}

/// Parses the value `raw` of column `col` with a validating constructor (names).
pub(crate) fn validated<T, E>(
    col: &'static str,
    raw: String,
    parse: impl FnOnce(String) -> Result<T, E>,
) -> DbResult<T> {
    parse(raw.clone()).map_err(|_| DbError::Corrupt {
        what: col,
        value: raw,
    })
}

/// Parses a column with `FromStr` (typed ids, roles).
pub(crate) fn get_parsed<T: FromStr>(row: &AnyRow, col: &'static str) -> DbResult<T> {
    parsed(col, row.try_get(col)?)
}

/// [`get_parsed`] for a nullable column.
pub(crate) fn get_opt_parsed<T: FromStr>(row: &AnyRow, col: &'static str) -> DbResult<Option<T>> {
    row.try_get::<Option<String>, _>(col)?
        .map(|raw| parsed(col, raw))
        .transpose()
}

/// Parses a column with a validating constructor (names).
pub(crate) fn get_validated<T, E>(
    row: &AnyRow,
    col: &'static str,
    parse: impl FnOnce(String) -> Result<T, E>,
) -> DbResult<T> {
    validated(col, row.try_get(col)?, parse)
}

/// [`get_validated`] for a nullable column.
pub(crate) fn get_opt_validated<T, E>(
    row: &AnyRow,
    col: &'static str,
    parse: impl FnOnce(String) -> Result<T, E>,
) -> DbResult<Option<T>> {
    row.try_get::<Option<String>, _>(col)?
        .map(|raw| validated(col, raw, parse))
        .transpose()
}

/// Clamps a page size and asks for one more row, to know whether a next page exists.
pub(crate) fn fetch_limit(limit: u32) -> i64 {
    i64::from(limit.clamp(1, 1000)) + 1
}

/// Splits the extra row off: `(items, has_more)`.
pub(crate) fn split_page<T>(mut rows: Vec<T>, limit: u32) -> (Vec<T>, bool) {
    let limit = limit.clamp(1, 1000) as usize;
    let more = rows.len() > limit;
    rows.truncate(limit);
    (rows, more)
}

/// One page of rows in cursor order; the caller makes the cursor from the
/// last item's id when `has_more`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice<T> {
    pub items: Vec<T>,
    pub has_more: bool,
}

impl<T> Slice<T> {
    /// Maps the rows of a keyset query fetched with [`fetch_limit`] and
    /// splits the extra row off.
    pub(crate) fn from_rows(
        rows: &[AnyRow],
        limit: u32,
        map: impl Fn(&AnyRow) -> DbResult<T>,
    ) -> DbResult<Self> {
        let rows = rows.iter().map(map).collect::<DbResult<Vec<_>>>()?;
        let (items, has_more) = split_page(rows, limit);
        Ok(Slice { items, has_more })
    }
}
