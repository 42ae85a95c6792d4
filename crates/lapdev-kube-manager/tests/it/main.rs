//! The kube-manager integration suite (one binary): the real
//! `lapdev-kube-manager` process against kube-sim on 127.0.0.1 and a TLS
//! tunnel server written in `support`, plus library-level checks on the
//! in-process kube-sim client, and the health endpoints.

mod support;

mod catalog;
mod environment;
mod health;
mod lib_level;
mod reconnect;
mod requests;
mod session;
mod source_namespaces;
