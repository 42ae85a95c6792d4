//! Tests for `environment`.
