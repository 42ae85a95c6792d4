//! Tests for `diff`.
