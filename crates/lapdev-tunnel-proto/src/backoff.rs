//! [`Backoff`]: capped exponential reconnect delays with full jitter, driven
//! by a random number the caller supplies (so tests are deterministic).

use std::time::Duration;

/// Reconnect delays: attempt `n` (from 0) waits a uniformly random time in
/// `[base, min(max, base · 2ⁿ)]` — "full jitter" (so many clusters that lost
/// the server at once do not reconnect in step) above a floor of `base`, so
/// a peer that fails instantly never causes a tight loop.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// `max` below `base` is raised to `base`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max: max.max(base),
            attempt: 0,
        }
    }

    /// How many delays were handed out since the last [`Backoff::reset`].
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The upper bound of the next delay.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The next delay; `random` is any value from a uniform `u64` source.
    pub fn next_delay(&mut self, random: u64) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let span = u64::try_from((ceiling - self.base).as_nanos()).unwrap_or(u64::MAX);
        let offset = match span.checked_add(1) {
            Some(n) => random % n,
            None => random,
        };
        self.base + Duration::from_nanos(offset)
    }

    /// Back to the first delay, after a session that was healthy.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn delays(randoms: &[u64]) -> Vec<u128> {
        let mut b = Backoff::new(100 * MS, 1000 * MS);
        randoms
            .iter()
            .map(|r| b.next_delay(*r).as_millis())
            .collect()
    }

    #[test]
    fn lowest_random_gives_the_floor_highest_the_ceiling() {
        assert_eq!(delays(&[0; 7]), [100; 7]);
        assert_eq!(delays(&[u64::MAX; 7]).len(), 7);
        let mut b = Backoff::new(100 * MS, 1000 * MS);
        let ceilings: Vec<u128> = (0..7)
            .map(|_| {
                let c = b.ceiling();
                let span = (c - 100 * MS).as_nanos() as u64;
                assert_eq!(b.next_delay(span), c, "random = span hits the ceiling");
                c.as_millis()
            })
            .collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000, 1000]);
    }

    #[test]
    fn delays_stay_within_floor_and_ceiling() {
        let mut b = Backoff::new(100 * MS, 1000 * MS);
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let ceiling = b.ceiling();
            let d = b.next_delay(x);
            assert!(
                d >= 100 * MS && d <= ceiling,
                "{d:?} within [100ms, {ceiling:?}]"
            );
        }
        assert_eq!(b.attempt(), 200);
        b.reset();
        assert_eq!(b.ceiling(), 100 * MS);
    }

    #[test]
    fn huge_attempt_counts_saturate() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(u64::MAX / 4));
        for _ in 0..100 {
            b.next_delay(u64::MAX);
        }
        assert!(b.ceiling() >= Duration::from_secs(1));
    }
}
