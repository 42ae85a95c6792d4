//! [`Pending`]: the requester's side of request multiplexing — id allocation
//! and the map from id to whoever waits for the response.

use std::collections::HashMap;

use crate::frames::RequestId;

/// Requests sent on one session and not answered yet. The server keeps one
/// per session, with e.g. a oneshot sender as `T`: [`Pending::insert`]
/// before sending a [`ServerFrame::Request`](crate::ServerFrame::Request),
/// [`Pending::complete`] on each [`ClientFrame::Response`](crate::ClientFrame::Response),
/// [`Pending::drain`] when the session ends (fail them all). Ids start at 1
/// and are never reused within a session.
#[derive(Debug)]
pub struct Pending<T> {
    next: u64,
    waiting: HashMap<RequestId, T>,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Pending {
            next: 1,
            waiting: HashMap::new(),
        }
    }
}

impl<T> Pending<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a waiter under a fresh id.
    pub fn insert(&mut self, waiter: T) -> RequestId {
        let id = RequestId(self.next);
        self.next += 1;
        self.waiting.insert(id, waiter);
        id
    }

    /// The waiter for `id`, removed; `None` for an unknown or answered id
    /// (a peer bug worth logging, not a reason to close).
    pub fn complete(&mut self, id: RequestId) -> Option<T> {
        self.waiting.remove(&id)
    }

    /// Forgets a request whose waiter gave up (timeout); a late response is
    /// then ignored by [`Pending::complete`].
    pub fn cancel(&mut self, id: RequestId) -> Option<T> {
        self.waiting.remove(&id)
    }

    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Every waiter, in id order, leaving the map empty.
    pub fn drain(&mut self) -> Vec<(RequestId, T)> {
        let mut all: Vec<_> = self.waiting.drain().collect();
        all.sort_by_key(|(id, _)| *id);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_fresh_and_each_completes_once() {
        let mut p = Pending::new();
        let a = p.insert("a");
        let b = p.insert("b");
        let c = p.insert("c");
        assert_eq!((a, b, c), (RequestId(1), RequestId(2), RequestId(3)));
        assert_eq!(p.complete(b), Some("b"));
        assert_eq!(p.complete(b), None);
        assert_eq!(p.cancel(a), Some("a"));
        assert_eq!(p.complete(RequestId(99)), None);
        assert_eq!(p.insert("d"), RequestId(4));
        assert_eq!(p.len(), 2);
        assert_eq!(p.drain(), vec![(c, "c"), (RequestId(4), "d")]);
        assert!(p.is_empty());
    }
}
