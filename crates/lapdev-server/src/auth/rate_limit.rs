//! The sign-in rate limit: failed attempts are counted per username and per
//! client IP in a fixed window; past the limit, attempts are refused (429)
//! before any password is checked.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) struct LoginLimiter {
    window: Duration,
    max_per_username: u32,
    max_per_ip: u32,
    failures: Mutex<HashMap<Key, Window>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Username(String),
    Ip(IpAddr),
}

impl Key {
    /// Usernames are at most 64 characters; longer input is cut so a key's
    /// size stays bounded whatever the client sends.
    fn username(username: &str) -> Key {
        Key::Username(username.chars().take(64).collect())
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

/// Above this many tracked keys, expired windows are dropped.
const PRUNE_AT: usize = 10_000;

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::new(Duration::from_secs(15 * 60), 5, 30)
    }
}

impl LoginLimiter {
    pub(crate) fn new(window: Duration, max_per_username: u32, max_per_ip: u32) -> Self {
        LoginLimiter {
            window,
            max_per_username,
            max_per_ip,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn count(&self, map: &HashMap<Key, Window>, key: &Key, now: Instant) -> u32 {
        map.get(key)
            .filter(|w| now.duration_since(w.started) < self.window)
            .map_or(0, |w| w.failures)
    }

    /// Whether an attempt may be made now.
    pub(crate) fn allowed(&self, username: &str, ip: Option<IpAddr>) -> bool {
        let now = Instant::now();
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if self.count(&map, &Key::username(username), now) >= self.max_per_username {
            return false;
        }
        match ip {
            Some(ip) => self.count(&map, &Key::Ip(ip), now) < self.max_per_ip,
            None => true,
        }
    }

    pub(crate) fn record_failure(&self, username: &str, ip: Option<IpAddr>) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > PRUNE_AT {
            map.retain(|_, w| now.duration_since(w.started) < self.window);
        }
        let keys = std::iter::once(Key::username(username)).chain(ip.map(Key::Ip));
        for key in keys {
            let w = map.entry(key).or_insert(Window {
                started: now,
                failures: 0,
            });
            if now.duration_since(w.started) >= self.window {
                *w = Window {
                    started: now,
                    failures: 0,
                };
            }
            w.failures += 1;
        }
    }

    /// A successful sign-in clears the username's failures (not the IP's).
    pub(crate) fn record_success(&self, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&Key::username(username));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_username_and_per_ip() {
        let l = LoginLimiter::new(Duration::from_secs(60), 2, 3);
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        assert!(l.allowed("alice", ip));
        l.record_failure("alice", ip);
        l.record_failure("alice", ip);
        assert!(!l.allowed("alice", None), "username limit");
        assert!(l.allowed("bob", ip));
        l.record_failure("bob", ip);
        assert!(!l.allowed("carol", ip), "ip limit");
        assert!(l.allowed("carol", Some(IpAddr::from([10, 0, 0, 2]))));
        l.record_success("alice");
        assert!(l.allowed("alice", None));
    }
}
