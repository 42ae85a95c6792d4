//! One module per command group; this file dispatches and holds the few
//! helpers they share (printing, reading secrets from standard input).

mod audit;
mod catalog;
mod cluster;
pub(crate) mod env;
mod login;
mod org;
mod server;
mod token;

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;
use lapdev_api::Page;
use serde::Serialize;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::config_file::ConfigFile;
use crate::output::{self, OutputFormat, Tabular};
use crate::session::Session;

pub(crate) async fn run(cli: Cli) -> anyhow::Result<()> {
    let Cli { global, command } = cli;
    match command {
        Command::Server(args) => server::run(args).await,
        Command::Demo(args) => crate::demo::run(args).await,
        Command::Login(args) => login::login(&global, args).await,
        Command::Logout => login::logout(&global).await,
        Command::Whoami => login::whoami(&global).await,
        Command::ChangePassword(args) => login::change_password(&global, args).await,
        Command::Org(command) => org::run(&global, command).await,
        Command::Token(command) => token::run(&global, command).await,
        Command::Audit(command) => audit::run(&global, command).await,
        Command::Cluster(command) => cluster::run(&global, command).await,
        Command::Catalog(command) => catalog::run(&global, command).await,
        Command::Env(command) => env::run(&global, command).await,
    }
}

fn config_file(global: &GlobalArgs) -> anyhow::Result<ConfigFile> {
    Ok(ConfigFile::locate(global.config_dir.as_deref())?)
}

fn open_session(global: &GlobalArgs) -> anyhow::Result<Session> {
    Ok(Session::open(global, &config_file(global)?)?)
}

/// Writes command output to stdout.
pub(crate) fn print(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("cannot write to standard output")
}

fn print_one<T: Tabular + Serialize>(format: OutputFormat, item: &T) -> anyhow::Result<()> {
    print(&output::render_one(format, item)?)
}

/// Prints a list; in a table, says on stderr how to get the rest.
fn print_page<T: Tabular + Serialize>(format: OutputFormat, page: &Page<T>) -> anyhow::Result<()> {
    print(&output::render_page(format, page)?)?;
    if let (OutputFormat::Table, Some(cursor)) = (format, &page.next_cursor) {
        eprintln!("(more results: pass --all, or --cursor {cursor} for the next ones)");
    }
    Ok(())
}

/// Reads the first line of standard input, without its line ending, for
/// `--password-stdin`.
fn read_stdin_line(what: &str) -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("cannot read the {what} from standard input"))?;
    let line = line.trim_end_matches(['\n', '\r']).to_owned();
    anyhow::ensure!(!line.is_empty(), "no {what} on standard input");
    Ok(line)
}

/// Asks for a line on the terminal (the prompt goes to stderr).
fn prompt_line(prompt: &str, flag: &str) -> anyhow::Result<String> {
    anyhow::ensure!(
        std::io::stdin().is_terminal(),
        "standard input is not a terminal to ask on: pass {flag}"
    );
    eprint!("{prompt}");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read from the terminal")?;
    Ok(line.trim().to_owned())
}

/// Asks for a secret on the terminal without echo.
fn prompt_secret(prompt: &str, flag: &str) -> anyhow::Result<String> {
    let secret = rpassword::prompt_password(prompt)
        .with_context(|| format!("cannot ask for the password on a terminal (use {flag})"))?;
    anyhow::ensure!(!secret.is_empty(), "an empty password was given");
    Ok(secret)
}
