//! The integration tests of `lapdev-manifest`: data tables and golden files.
//!
//! Golden files live in `tests/golden/<transform>/`: each `<case>.in.yaml`
//! is an input (objects as `kubectl get -o yaml` prints them), each
//! `<case>.out.yaml` the expected output. `UPDATE_EXPECT=1 cargo nextest run
//! -p lapdev-manifest` rewrites the outputs; review them in the diff.

mod catalog;
mod clean;
mod diff;
mod environment;
mod golden;
mod object;
mod references;
mod secrets;
mod wire;
