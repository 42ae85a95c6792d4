//! The shared server core: the locked store, the watch-expiry signal, the
//! request log, failure injections and configuration. Handlers, the
//! simulator and the library API all hold an `Arc<Core>`.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::broadcast;

use crate::error::ApiResult;
use crate::failures::Failures;
use crate::ops::{self, Sub, WriteCtx};
use crate::registry::ResourceId;
use crate::request_log::RequestLog;
use crate::store::{State, StoreEvent};

/// Tunables of the API server part.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// How many events the watch history keeps (older → 410 Expired).
    pub history: usize,
    /// How often watches that asked for bookmarks get one.
    pub bookmark_interval: Duration,
    /// Largest accepted request body.
    pub body_limit: usize,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            history: 10_000,
            bookmark_interval: Duration::from_secs(5),
            body_limit: 3 * 1024 * 1024,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Core {
    state: Mutex<State>,
    pub(crate) expire: tokio::sync::watch::Sender<u64>,
    pub(crate) requests: RequestLog,
    pub(crate) failures: Failures,
    pub(crate) config: CoreConfig,
}

impl Core {
    pub(crate) fn new(config: CoreConfig) -> Arc<Self> {
        let (tx, _) = broadcast::channel(65_536);
        Arc::new(Core {
            state: Mutex::new(State::new(config.history, tx)),
            expire: tokio::sync::watch::Sender::new(0),
            requests: RequestLog::default(),
            failures: Failures::default(),
            config,
        })
    }

    /// The store lock; a panic elsewhere never poisons the server for good.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<StoreEvent>> {
        self.lock().subscribe()
    }

    /// Ends every open watch with an ERROR 410 event.
    pub(crate) fn expire_watches(&self) {
        self.expire.send_modify(|n| *n += 1);
    }

    // Internal writers (seed, simulator) go through the same verbs.

    pub(crate) fn create(
        &self,
        res: ResourceId,
        ns: Option<&str>,
        obj: Value,
        manager: &str,
    ) -> ApiResult<Value> {
        let w = WriteCtx {
            manager: manager.into(),
            ..Default::default()
        };
        ops::create(&mut self.lock(), res, ns, obj, &w, ops::Track::Update)
    }

    pub(crate) fn update(
        &self,
        res: ResourceId,
        ns: Option<&str>,
        name: &str,
        obj: Value,
        sub: Sub,
        manager: &str,
    ) -> ApiResult<Value> {
        let w = WriteCtx {
            manager: manager.into(),
            ..Default::default()
        };
        ops::update(
            &mut self.lock(),
            res,
            ns,
            name,
            obj,
            sub,
            &w,
            ops::Track::Update,
        )
    }

    pub(crate) fn get(&self, res: ResourceId, ns: Option<&str>, name: &str) -> Option<Arc<Value>> {
        ops::get(&self.lock(), res, ns, name).ok()
    }
}
