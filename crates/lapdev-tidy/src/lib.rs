//! Tidy checks for the Lapdev workspace; everything is in `tests/`.
