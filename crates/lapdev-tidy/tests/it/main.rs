//! Tidy checks over the whole workspace: the architecture's invariants as
//! facts the build checks (see ARCHITECTURE.md), not as hopes.

mod deps;
mod files;

use std::path::{Path, PathBuf};

/// The workspace root (this crate lives in `crates/lapdev-tidy`).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/lapdev-tidy sits two levels below the root")
        .to_path_buf()
}
