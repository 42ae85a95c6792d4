//! Tests for `references`.
