//! The Lapdev control plane as a library: `router(state)` for tests, `run(config)` for the binary.
