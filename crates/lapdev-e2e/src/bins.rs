//! Where the binaries of the other packages are: next to the test
//! executable, in `target/<profile>/`. `cargo nextest run -p lapdev-e2e`
//! does not build them; a missing one fails with the command that does.

use std::path::PathBuf;

/// The `target/<profile>/` directory of the running executable
/// (`target/<profile>/deps/it-…` for tests, `target/<profile>/…` for bins).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the path of the running executable");
    let dir = exe.parent().expect("the executable has a directory");
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().expect("deps has a parent").to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// The path of binary `name` of this workspace; panics with what to run
/// when it has not been built.
pub fn binary(name: &str) -> PathBuf {
    let path = profile_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing: build the binaries first with `cargo build --workspace --bins` \
         (add --release for a release run), or run `cargo nextest run --workspace`, which builds them",
        path.display()
    );
    path
}

/// `lapdev` (the server, the CLI and the demo).
pub fn lapdev() -> PathBuf {
    binary("lapdev")
}

pub fn kube_sim() -> PathBuf {
    binary("kube-sim")
}

pub fn kube_manager() -> PathBuf {
    binary("lapdev-kube-manager")
}
