//! `lapdev`: the command-line interface, `lapdev server` and `lapdev demo`.
//!
//! This file only parses the command line, runs the command and turns a
//! failure into one line on stderr and an exit code (see `--help`).

mod cli;
mod client;
mod commands;
mod config_file;
mod demo;
mod output;
mod session;

use std::process::ExitCode;

use clap::Parser;

use crate::client::ClientError;
use crate::session::SessionError;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    client::install_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit_code(&err))
        }
    }
}

/// 1 for errors in general, 3 when the fix is to log in, 4 when the server
/// cannot be reached. (2 is clap's usage error.)
fn exit_code(err: &anyhow::Error) -> u8 {
    let client = err
        .downcast_ref::<ClientError>()
        .or_else(|| match err.downcast_ref() {
            Some(SessionError::Client(client)) => Some(client),
            _ => None,
        });
    if let Some(client) = client {
        if client.is_auth() {
            return 3;
        }
        if client.is_unreachable() {
            return 4;
        }
    }
    match err.downcast_ref::<SessionError>() {
        Some(SessionError::NoServer | SessionError::NotLoggedIn { .. }) => 3,
        _ => 1,
    }
}
