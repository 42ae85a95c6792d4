//! The `lapdev-kube-manager` binary: parses the config and runs the library.

fn main() -> std::process::ExitCode {
    lapdev_kube_manager::main()
}
