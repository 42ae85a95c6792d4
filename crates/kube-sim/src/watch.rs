//! Watch: newline-delimited JSON events after a resourceVersion, replayed
//! from the store's bounded history, then live from its broadcast channel.
//! Too old → one ERROR event carrying a 410 Status. Bookmarks,
//! `sendInitialEvents` with the `k8s.io/initial-events-end` bookmark,
//! `timeoutSeconds`, and objects moving in/out of a selector.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::core::Core;
use crate::error::{ApiError, ApiResult};
use crate::ops::{self, ListParams};
use crate::registry::ResourceId;
use crate::store::{EventType, StoreEvent};

/// Query parameters of a watch.
#[derive(Debug, Clone, Default)]
pub(crate) struct WatchParams {
    pub(crate) list: ListParams,
    pub(crate) bookmarks: bool,
    pub(crate) send_initial_events: Option<bool>,
    pub(crate) timeout: Option<Duration>,
}

fn line(kind: &str, obj: &Value) -> Bytes {
    json_line(
        kind,
        &serde_json::to_vec(obj).expect("a Value always serializes"),
    )
}

/// One watch line around an already serialized object.
fn json_line(kind: &str, object: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(object.len() + 32);
    out.extend_from_slice(br#"{"type":""#);
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(br#"","object":"#);
    out.extend_from_slice(object);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

fn expired_line(msg: String) -> Bytes {
    line("ERROR", &ApiError::Expired(msg).to_status())
}

/// Translates a store event for one watcher (selector transitions included).
fn translate(res: ResourceId, ns: Option<&str>, p: &ListParams, ev: &StoreEvent) -> Option<Bytes> {
    if ev.resource != res || ns.is_some_and(|ns| ns != ev.namespace) {
        return None;
    }
    let now = p.matches(&ev.object);
    let kind = match ev.kind {
        EventType::Added => now.then_some(EventType::Added),
        EventType::Deleted => now.then_some(EventType::Deleted),
        EventType::Modified => {
            let before = ev.old.as_ref().is_some_and(|o| p.matches(o));
            match (before, now) {
                (true, true) => Some(EventType::Modified),
                (false, true) => Some(EventType::Added),
                (true, false) => Some(EventType::Deleted),
                (false, false) => None,
            }
        }
    }?;
    Some(json_line(kind.as_str(), ev.object_json()))
}

struct WatchState {
    res: ResourceId,
    ns: Option<String>,
    params: WatchParams,
    pending: VecDeque<Bytes>,
    rx: Option<broadcast::Receiver<Arc<StoreEvent>>>,
    expire: tokio::sync::watch::Receiver<u64>,
    last_rv: u64,
    deadline: tokio::time::Instant,
    bookmark_every: Duration,
    next_bookmark: tokio::time::Instant,
    done: bool,
}

impl WatchState {
    fn bookmark(&self, initial_end: bool) -> Bytes {
        let def = self.res.def();
        let mut meta = json!({"resourceVersion": self.last_rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        line(
            "BOOKMARK",
            &json!({"kind": def.kind, "apiVersion": def.api_version(), "metadata": meta}),
        )
    }

    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if let Some(b) = self.pending.pop_front() {
                return Some(b);
            }
            if self.done {
                return None;
            }
            let rx = self.rx.as_mut()?;
            let bookmark_at = if self.params.bookmarks {
                self.next_bookmark
            } else {
                self.deadline + Duration::from_secs(1)
            };
            tokio::select! {
                ev = rx.recv() => match ev {
                    Ok(ev) => {
                        self.last_rv = self.last_rv.max(ev.rv);
                        if let Some(b) = translate(self.res, self.ns.as_deref(), &self.params.list, &ev) {
                            return Some(b);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        self.done = true;
                        return Some(expired_line(format!("watch fell behind at resourceVersion {}; too old resource version", self.last_rv)));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.expire.changed() => {
                    self.done = true;
                    return Some(expired_line(format!("too old resource version: {} (injected by kube-sim)", self.last_rv)));
                }
                _ = tokio::time::sleep_until(self.deadline) => return None,
                _ = tokio::time::sleep_until(bookmark_at) => {
                    self.next_bookmark = tokio::time::Instant::now() + self.bookmark_every;
                    return Some(self.bookmark(false));
                }
            }
        }
    }
}

/// Starts a watch: validates parameters and takes the initial snapshot or
/// replay under the store lock, then streams.
pub(crate) fn start(
    core: &Arc<Core>,
    res: ResourceId,
    ns: Option<&str>,
    params: WatchParams,
) -> ApiResult<impl Stream<Item = Bytes> + Send + 'static> {
    let p = &params.list;
    let rv = p.resource_version.as_deref().filter(|s| !s.is_empty());
    let send_initial = params.send_initial_events.unwrap_or(false);
    if params.send_initial_events.is_some()
        && p.resource_version_match.as_deref() != Some("NotOlderThan")
    {
        return Err(ApiError::bad(
            "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the resourceVersionMatch is set to NotOlderThan",
        ));
    }
    if send_initial && !params.bookmarks {
        return Err(ApiError::bad(
            "allowWatchBookmarks: Forbidden: allowWatchBookmarks must be true when sendInitialEvents is true",
        ));
    }
    if let Some(m) = p.resource_version_match.as_deref()
        && m != "NotOlderThan"
    {
        return Err(ApiError::bad(format!(
            "resourceVersionMatch: Unsupported value: {m:?} for watch"
        )));
    }
    // Collected under the lock, serialized after it is released.
    let mut initial = Vec::new();
    let mut replay = Vec::new();
    let st = core.lock();
    let rx = st.subscribe();
    let expire = core.expire.subscribe();
    let last_rv;
    let initial_state = send_initial || rv.is_none() || rv == Some("0");
    if initial_state {
        let n = rv.map(ops::parse_rv).transpose()?.unwrap_or(0);
        if n > st.rv {
            return Err(ops::too_large(n, st.rv));
        }
        let listed = ops::list(
            &st,
            res,
            ns,
            &ListParams {
                limit: None,
                continue_token: None,
                resource_version: None,
                resource_version_match: None,
                ..p.clone()
            },
        )?;
        initial = listed.items;
        last_rv = st.rv;
    } else {
        let n = ops::parse_rv(rv.unwrap_or_default())?;
        if n > st.rv {
            return Err(ops::too_large(n, st.rv));
        }
        match st.since(n) {
            Some(events) => {
                last_rv = st.rv;
                replay = events;
            }
            None => {
                let msg = format!("too old resource version: {n} ({})", st.compacted + 1);
                drop(st);
                return Ok(futures::stream::iter([expired_line(msg)]).boxed());
            }
        }
    }
    drop(st);
    let mut pending: VecDeque<Bytes> = initial.iter().map(|o| line("ADDED", o)).collect();
    pending.extend(replay.iter().filter_map(|e| translate(res, ns, p, e)));
    let now = tokio::time::Instant::now();
    let bookmark_every = core.config.bookmark_interval;
    let mut ws = WatchState {
        res,
        ns: ns.map(String::from),
        deadline: now + params.timeout.unwrap_or(Duration::from_secs(1800)),
        params,
        pending,
        rx: Some(rx),
        expire,
        last_rv,
        bookmark_every,
        next_bookmark: now + bookmark_every,
        done: false,
    };
    if send_initial {
        let b = ws.bookmark(true);
        ws.pending.push_back(b);
    }
    Ok(
        futures::stream::unfold(ws, |mut ws| async move { ws.next().await.map(|b| (b, ws)) })
            .boxed(),
    )
}
