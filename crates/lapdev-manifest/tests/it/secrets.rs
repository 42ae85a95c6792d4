//! Tests for `secrets`.
