//! The kube-sim integration suite (one binary). Each semantic test names the
//! Kubernetes "API Concepts" (or SSA) section it follows. Run against a real
//! cluster with `KUBE_TEST_REAL=1` and a kubeconfig: tests that need
//! kube-sim-only features (simulator, request log, injected 410s) skip.

mod support;

mod api;
mod apply;
mod fuzz;
mod kubectl;
mod listener;
mod namespaces;
mod runtime;
mod seed;
mod simulator;
mod tidy;
mod validation;
mod watch;
