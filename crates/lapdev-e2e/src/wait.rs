//! Bounded waiting. Every wait is for an event (a log line, a status seen
//! through the API); [`PATIENCE`] only turns a hang into a failure with a
//! message, it is never an assertion about timing.

use std::future::Future;
use std::time::Duration;

/// How long any single event may take before the test fails. Generous: two
/// shared cores running debug builds.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// How often [`poll_until`] looks again.
pub const POLL_EVERY: Duration = Duration::from_millis(50);

/// Awaits `f`, failing with `what` after [`PATIENCE`].
pub async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, f)
        .await
        .unwrap_or_else(|_| panic!("timed out after {PATIENCE:?} waiting for {what}"))
}

/// Calls `check` every [`POLL_EVERY`] until it returns `Some`, for at most
/// [`PATIENCE`]; the failure message includes the last value `describe`d.
pub async fn poll_until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let last = match check().await {
            Ok(v) => return v,
            Err(last) => last,
        };
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {PATIENCE:?} waiting for {what}; last seen: {last}");
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}
