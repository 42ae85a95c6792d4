//! The request log: every API request with its method, path, query, user
//! agent, bearer token and response status, readable by tests (library API)
//! and over HTTP (`GET /kube-sim/v1/requests`).

use std::sync::Mutex;

use serde::Serialize;

/// One recorded request.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    /// Order of arrival, from 1.
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub query: String,
    pub user_agent: Option<String>,
    /// The bearer token sent, if any.
    pub token: Option<String>,
    pub status: u16,
    /// The Kubernetes verb (get, list, watch, create, update, patch, delete,
    /// deletecollection), or empty for non-resource paths.
    pub verb: String,
    pub namespace: Option<String>,
    pub resource: Option<String>,
    /// The object's name from the URL, or for a successful create the created object's.
    pub name: Option<String>,
}

impl RequestRecord {
    /// Anything but get, list and watch (failed writes included).
    pub fn is_write(&self) -> bool {
        !self.verb.is_empty() && !matches!(self.verb.as_str(), "get" | "list" | "watch")
    }
}

/// The in-memory log (unbounded: tests are short-lived).
#[derive(Debug, Default)]
pub struct RequestLog {
    inner: Mutex<(u64, Vec<RequestRecord>)>,
}

impl RequestLog {
    pub(crate) fn record(&self, mut r: RequestRecord) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.0 += 1;
        r.seq = g.0;
        g.1.push(r);
    }

    /// Every request so far, in order.
    pub fn all(&self) -> Vec<RequestRecord> {
        self.filter(|_| true)
    }

    /// Requests matching a predicate.
    pub fn filter(&self, f: impl Fn(&RequestRecord) -> bool) -> Vec<RequestRecord> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.1.iter().filter(|r| f(r)).cloned().collect()
    }

    /// Writes only (non get/list/watch verbs).
    pub fn writes(&self) -> Vec<RequestRecord> {
        self.filter(RequestRecord::is_write)
    }

    /// Writes outside the given namespaces (cluster-scoped writes included).
    pub fn writes_outside(&self, namespaces: &[&str]) -> Vec<RequestRecord> {
        self.filter(|r| {
            r.is_write()
                && !r
                    .namespace
                    .as_deref()
                    .is_some_and(|ns| namespaces.contains(&ns))
                && !(r.resource.as_deref() == Some("namespaces")
                    && r.name.as_deref().is_some_and(|n| namespaces.contains(&n)))
        })
    }

    /// Requests that sent the given bearer token.
    pub fn by_token(&self, token: &str) -> Vec<RequestRecord> {
        self.filter(|r| r.token.as_deref() == Some(token))
    }

    pub fn clear(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clear();
    }
}
