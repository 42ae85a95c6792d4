//! Protocol versions and their negotiation.

use serde::{Deserialize, Serialize};

/// The newest protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The oldest protocol version this crate still speaks.
pub const MIN_PROTOCOL_VERSION: u32 = 1;

/// An inclusive range of protocol versions, `[min, max]` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "[u32; 2]", into = "[u32; 2]")]
pub struct VersionRange {
    pub min: u32,
    pub max: u32,
}

impl VersionRange {
    /// What this build supports: `[MIN_PROTOCOL_VERSION, PROTOCOL_VERSION]`.
    pub const CURRENT: VersionRange = VersionRange {
        min: MIN_PROTOCOL_VERSION,
        max: PROTOCOL_VERSION,
    };

    pub fn contains(self, version: u32) -> bool {
        self.min <= version && version <= self.max
    }

    /// The highest version both ranges contain, if any. The server calls
    /// this with the range from [`Hello`](crate::Hello) and answers
    /// [`Welcome`](crate::Welcome) with the result or
    /// [`Refused`](crate::Refused) with
    /// [`RefusedCode::UnsupportedVersion`](crate::RefusedCode::UnsupportedVersion).
    pub fn negotiate(self, other: VersionRange) -> Option<u32> {
        let max = self.max.min(other.max);
        let min = self.min.max(other.min);
        (min <= max).then_some(max)
    }
}

impl From<[u32; 2]> for VersionRange {
    fn from([min, max]: [u32; 2]) -> Self {
        VersionRange { min, max }
    }
}

impl From<VersionRange> for [u32; 2] {
    fn from(r: VersionRange) -> Self {
        [r.min, r.max]
    }
}

impl std::fmt::Display for VersionRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}, {}]", self.min, self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(a: [u32; 2], b: [u32; 2], expect: Option<u32>) {
        let (a, b) = (VersionRange::from(a), VersionRange::from(b));
        assert_eq!(a.negotiate(b), expect, "{a} with {b}");
        assert_eq!(b.negotiate(a), expect, "{b} with {a}");
    }

    #[test]
    fn negotiation_picks_the_highest_common_version() {
        check([1, 1], [1, 1], Some(1));
        check([1, 3], [2, 5], Some(3));
        check([1, 5], [2, 3], Some(3));
        check([1, 1], [2, 3], None);
        check([3, 2], [1, 5], None);
    }
}
