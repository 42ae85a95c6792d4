//! `lapdev env ...`: Personal and Shared environments — list, show, create
//! (with values for redacted Secret keys), pause, resume, delete, and
//! `status --watch`, which follows the environment through the server's
//! long poll (`?after=REVISION`) until it settles: no polling interval.
//!
//! Secret values given with `--secret` or `--secret-file` go only into the
//! request body: no output, error message or `Debug` shows them.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use lapdev_api::{
    CreateEnvironment, DesiredState, Environment, EnvironmentKind, EnvironmentName,
    EnvironmentStatus, OrganizationName, PageQuery, ReplicasPolicy, SecretValueInput,
};

use super::{open_session, print, print_page};
use crate::cli::{EnvCommand, GlobalArgs};
use crate::client::{Client, ClientError};
use crate::output::{self, OutputFormat};
use crate::session::collect_pages;

/// Events shown by `show`.
const SHOW_EVENTS: u32 = 10;
/// Unchanged long-poll answers in a row, each back in under half its wait,
/// after which the server is taken not to long-poll (rather than looping hot).
const MAX_EARLY_ANSWERS: u32 = 3;

/// `SECRET/KEY` of a Secret value flag.
fn secret_key(spec: &str, flag: &str) -> Result<(String, String), String> {
    match spec.split_once('/') {
        Some((secret, key)) if !secret.is_empty() && !key.is_empty() && !key.contains('/') => {
            Ok((secret.to_owned(), key.to_owned()))
        }
        _ => Err(format!("{spec:?} is not SECRET/KEY (in {flag})")),
    }
}

/// `--secret SECRET/KEY=VALUE`. `Debug` never shows the value.
#[derive(Debug, Clone)]
pub(crate) struct SecretArg(SecretValueInput);

impl FromStr for SecretArg {
    type Err = String;

    /// The error names the `SECRET/KEY` part only, never the value.
    fn from_str(s: &str) -> Result<Self, String> {
        let Some((target, value)) = s.split_once('=') else {
            return Err(
                "expected SECRET/KEY=VALUE: there is no `=` (the value is not shown)".into(),
            );
        };
        let (secret, key) = secret_key(target, "--secret SECRET/KEY=VALUE")?;
        Ok(Self(SecretValueInput {
            secret,
            key,
            value: value.to_owned(),
        }))
    }
}

/// Parses `--secret` without clap's usual "invalid value '<input>'", which
/// would print the secret value.
#[derive(Clone)]
pub(crate) struct SecretValueParser;

impl clap::builder::TypedValueParser for SecretValueParser {
    type Value = SecretArg;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<SecretArg, clap::Error> {
        let invalid = |message: &str| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value for '--secret': {message}\n"),
            )
            .with_cmd(cmd)
        };
        let text = value
            .to_str()
            .ok_or_else(|| invalid("it is not UTF-8 text"))?;
        text.parse().map_err(|message: String| invalid(&message))
    }
}

/// `--secret-file SECRET/KEY=PATH`: the value is read from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecretFileArg {
    secret: String,
    key: String,
    path: PathBuf,
}

/// Parses `--secret-file SECRET/KEY=PATH`.
pub(crate) fn secret_file(s: &str) -> Result<SecretFileArg, String> {
    let (target, path) = s
        .split_once('=')
        .filter(|(_, path)| !path.is_empty())
        .ok_or_else(|| "expected SECRET/KEY=PATH".to_owned())?;
    let (secret, key) = secret_key(target, "--secret-file SECRET/KEY=PATH")?;
    Ok(SecretFileArg {
        secret,
        key,
        path: PathBuf::from(path),
    })
}

impl SecretFileArg {
    /// The file's text without one trailing newline; errors name the file,
    /// never its content.
    fn read(&self) -> anyhow::Result<SecretValueInput> {
        let Self { secret, key, path } = self;
        let bytes = std::fs::read(path).with_context(|| {
            format!(
                "cannot read the value of {secret}/{key} from {}",
                path.display()
            )
        })?;
        let mut value = String::from_utf8(bytes).map_err(|_| {
            anyhow::anyhow!(
                "the value of {secret}/{key} in {} is not UTF-8 text",
                path.display()
            )
        })?;
        if value.ends_with('\n') {
            value.pop();
            if value.ends_with('\r') {
                value.pop();
            }
        }
        Ok(SecretValueInput {
            secret: secret.clone(),
            key: key.clone(),
            value,
        })
    }
}

/// The values of `--secret` and `--secret-file`, each key at most once.
fn secret_values(
    secrets: Vec<SecretArg>,
    files: &[SecretFileArg],
) -> anyhow::Result<Vec<SecretValueInput>> {
    let mut values: Vec<SecretValueInput> = secrets.into_iter().map(|s| s.0).collect();
    for file in files {
        values.push(file.read()?);
    }
    for (i, v) in values.iter().enumerate() {
        anyhow::ensure!(
            !values[..i]
                .iter()
                .any(|w| w.secret == v.secret && w.key == v.key),
            "a value for {}/{} is given twice",
            v.secret,
            v.key
        );
    }
    Ok(values)
}

/// `--replicas keep|N`.
pub(crate) fn replicas(s: &str) -> Result<ReplicasPolicy, String> {
    if s == "keep" {
        return Ok(ReplicasPolicy::Keep);
    }
    s.parse()
        .map(ReplicasPolicy::AtMost)
        .map_err(|_| format!("expected `keep` or a number of pods (e.g. 1), not {s:?}"))
}

/// `--timeout`: seconds (`600`) or a duration (`90s`, `10m`, `1h30m`).
pub(crate) fn timeout(s: &str) -> Result<Duration, String> {
    let expected = || format!("expected seconds or a duration like 90s, 10m or 1h, not {s:?}");
    let duration = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        Duration::from_secs(s.parse().map_err(|_| expected())?)
    } else {
        let signed: SignedDuration = s.parse().map_err(|_| expected())?;
        Duration::try_from(signed).map_err(|_| expected())?
    };
    if duration.is_zero() {
        return Err("the timeout must be longer than 0".into());
    }
    Ok(duration)
}

/// `10m`, `1h 30m`: a timeout as people write it.
fn friendly(d: Duration) -> String {
    SignedDuration::try_from(d).map_or_else(|_| format!("{d:?}"), |d| format!("{d:#}"))
}

/// An environment: its status and workloads, or the API type.
fn print_environment(format: OutputFormat, env: &Environment) -> anyhow::Result<()> {
    match format {
        OutputFormat::Table => print(&output::environment_status(env)),
        format => print(&output::serialized(format, env)?),
    }
}

/// Where a watch writes each state it sees.
#[derive(Clone, Copy)]
enum Echo {
    /// `status --watch`: a line (table), a JSON line or a YAML document on stdout.
    Stdout(OutputFormat),
    /// `--wait`: progress lines on stderr.
    Stderr,
    Nothing,
}

impl Echo {
    /// `--wait` shows progress to people only; scripts get the final object.
    fn progress(format: OutputFormat) -> Self {
        match format {
            OutputFormat::Table => Echo::Stderr,
            _ => Echo::Nothing,
        }
    }

    /// Shows `env`; as a line (table) only when it says something new:
    /// `last` is what the previous line said.
    fn show(self, env: &Environment, last: &mut String) -> anyhow::Result<()> {
        if matches!(self, Echo::Stdout(OutputFormat::Table) | Echo::Stderr) {
            let state = output::watch_state(env);
            if state == *last {
                return Ok(());
            }
            *last = state;
        }
        match self {
            Echo::Stdout(OutputFormat::Table) => print(&output::watch_line(Timestamp::now(), last)),
            Echo::Stdout(OutputFormat::Json) => {
                let mut line = serde_json::to_string(env).context("cannot render JSON")?;
                line.push('\n');
                print(&line)
            }
            Echo::Stdout(format) => print(&format!("---\n{}", output::serialized(format, env)?)),
            Echo::Stderr => {
                eprint!("{}", output::watch_line(Timestamp::now(), last));
                Ok(())
            }
            Echo::Nothing => Ok(()),
        }
    }
}

/// How a watch ended.
enum Ended {
    /// No longer transitional.
    Settled(Environment),
    /// Gone (404); the last state seen.
    Gone(Environment),
}

/// Follows one environment with the long poll until it settles or is gone.
struct Watch<'a> {
    client: &'a Client,
    org: &'a OrganizationName,
    name: &'a EnvironmentName,
    timeout: Duration,
    echo: Echo,
}

impl Watch<'_> {
    /// Shows `env`, then every change, until the status is not
    /// transitional, the environment is gone, or the timeout passes (an
    /// error saying where it was).
    async fn run(&self, mut env: Environment) -> anyhow::Result<Ended> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut early = 0;
        let mut last = String::new();
        self.echo.show(&env, &mut last)?;
        loop {
            if !env.summary.status.is_transitional() {
                return Ok(Ended::Settled(env));
            }
            let now = tokio::time::Instant::now();
            let remaining = deadline.saturating_duration_since(now);
            if remaining.is_zero() {
                anyhow::bail!(
                    "gave up after {}: environment {} is still {}{} — see `lapdev env show {}`",
                    friendly(self.timeout),
                    self.name,
                    env.summary.status,
                    env.summary
                        .message
                        .as_ref()
                        .map_or(String::new(), |m| format!(" ({m})")),
                    self.name
                );
            }
            let next = match self
                .client
                .wait_environment(self.org, self.name, env.revision, remaining)
                .await
            {
                Ok(next) => next,
                Err(ClientError::NotFound { .. }) => return Ok(Ended::Gone(env)),
                Err(e) => return Err(e.into()),
            };
            if next.revision == env.revision {
                let asked = remaining.min(crate::client::MAX_WAIT);
                early = if now.elapsed() < asked / 2 {
                    early + 1
                } else {
                    0
                };
                anyhow::ensure!(
                    early < MAX_EARLY_ANSWERS,
                    "the server at {} answers the environment long poll at once without a \
                     change — is it a Lapdev server of a matching version?",
                    self.client.server()
                );
                continue;
            }
            early = 0;
            self.echo.show(&next, &mut last)?;
            env = next;
        }
    }
}

/// Whether the last state seen was on its way out (so 404 is the end we
/// waited for).
fn was_deleting(env: &Environment) -> bool {
    env.summary.status == EnvironmentStatus::Deleting || env.desired == DesiredState::Deleted
}

/// Failed is an error; degraded is said on stderr.
fn check_settled(env: &Environment) -> anyhow::Result<()> {
    let s = &env.summary;
    let message = s.message.as_deref().unwrap_or("no reason given");
    match s.status {
        EnvironmentStatus::Failed => {
            anyhow::bail!(
                "environment {} failed: {message} — see `lapdev env show {}`",
                s.name,
                s.name
            )
        }
        EnvironmentStatus::Degraded => {
            eprintln!("Environment {} is degraded: {message}", s.name);
            Ok(())
        }
        _ => Ok(()),
    }
}

pub(super) async fn run(global: &GlobalArgs, command: EnvCommand) -> anyhow::Result<()> {
    let session = open_session(global)?;
    let client = &session.client;
    let org = session.org().await?;
    let format = global.output;
    match command {
        EnvCommand::List { kind, list } => {
            let kind = kind.map(EnvironmentKind::from);
            let page = collect_pages(&list, async |q: PageQuery| {
                client.list_environments(&org, kind, &q).await
            })
            .await?;
            print_page(format, &page)
        }
        EnvCommand::Show { name } => {
            let env = client.get_environment(&org, &name).await?;
            match format {
                OutputFormat::Table => {
                    let events = client
                        .list_environment_events(&org, &name, SHOW_EVENTS)
                        .await?;
                    print(&output::environment_details(&env, &events.items))
                }
                format => print(&output::serialized(format, &env)?),
            }
        }
        EnvCommand::Create {
            name,
            catalog,
            cluster,
            shared,
            replicas,
            secrets,
            secret_files,
            wait,
            timeout,
        } => {
            let kind = if shared {
                EnvironmentKind::Shared
            } else {
                EnvironmentKind::Personal
            };
            let request = CreateEnvironment {
                name,
                catalog,
                cluster,
                kind,
                replicas,
                secret_values: secret_values(secrets, &secret_files)?,
            };
            let created = client.create_environment(&org, &request).await?;
            let s = &created.summary;
            if format == OutputFormat::Table {
                eprintln!(
                    "Created {kind} environment {} from catalog {} in cluster {} (namespace {}).",
                    s.name, s.catalog, s.cluster, s.namespace
                );
            }
            if !wait {
                if format == OutputFormat::Table {
                    eprintln!("Follow it with: lapdev env status {} --watch", s.name);
                }
                return print_environment(format, &created);
            }
            let name = s.name.clone();
            let watch = Watch {
                client,
                org: &org,
                name: &name,
                timeout,
                echo: Echo::progress(format),
            };
            match watch.run(created).await? {
                Ended::Settled(env) => {
                    print_environment(format, &env)?;
                    check_settled(&env)
                }
                Ended::Gone(_) => anyhow::bail!("environment {name} was deleted while starting"),
            }
        }
        EnvCommand::Pause { name } => {
            let env = client.pause_environment(&org, &name).await?;
            if format == OutputFormat::Table {
                eprintln!(
                    "Pausing environment {name}: its workloads scale to zero. \
                     Follow it with: lapdev env status {name} --watch"
                );
            }
            print_environment(format, &env)
        }
        EnvCommand::Resume { name } => {
            let env = client.resume_environment(&org, &name).await?;
            if format == OutputFormat::Table {
                eprintln!(
                    "Resuming environment {name}. Follow it with: lapdev env status {name} --watch"
                );
            }
            print_environment(format, &env)
        }
        EnvCommand::Delete {
            name,
            wait,
            timeout,
        } => {
            let env = client.delete_environment(&org, &name).await?;
            match format {
                OutputFormat::Table => {
                    eprintln!("Deleting environment {name}: its namespace is being removed.");
                }
                format => print(&output::serialized(format, &env)?)?,
            }
            if !wait {
                return Ok(());
            }
            let watch = Watch {
                client,
                org: &org,
                name: &name,
                timeout,
                echo: Echo::progress(format),
            };
            match watch.run(env).await? {
                Ended::Gone(_) => {
                    eprintln!("Environment {name} is gone.");
                    Ok(())
                }
                Ended::Settled(env) => anyhow::bail!(
                    "environment {name} is {}, not deleted: {}",
                    env.summary.status,
                    env.summary.message.as_deref().unwrap_or("no reason given")
                ),
            }
        }
        EnvCommand::Status {
            name,
            watch,
            timeout,
        } => {
            let env = client.get_environment(&org, &name).await?;
            if !watch {
                return print_environment(format, &env);
            }
            let watch = Watch {
                client,
                org: &org,
                name: &name,
                timeout,
                echo: Echo::Stdout(format),
            };
            match watch.run(env).await? {
                Ended::Settled(env) => check_settled(&env),
                Ended::Gone(last) if was_deleting(&last) => {
                    match format {
                        OutputFormat::Table => {
                            print(&output::watch_line(Timestamp::now(), "deleted"))?
                        }
                        _ => eprintln!("Environment {name} was deleted."),
                    }
                    Ok(())
                }
                Ended::Gone(last) => anyhow::bail!(
                    "environment {name} no longer exists (it was {} when last seen)",
                    last.summary.status
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use expect_test::{Expect, expect};

    use super::*;
    use crate::cli::{Cli, Command};

    #[track_caller]
    fn check<T: std::fmt::Debug, E: std::fmt::Display>(got: Result<T, E>, expect: Expect) {
        let got = match got {
            Ok(v) => format!("{v:?}"),
            Err(e) => format!("error: {e}"),
        };
        expect.assert_eq(&got);
    }

    fn secret(s: &str) -> Result<SecretValueInput, String> {
        s.parse::<SecretArg>().map(|a| a.0)
    }

    #[test]
    fn secret_flags() {
        let ok = secret("db/password=hunter2=x/y").unwrap();
        assert_eq!(
            (ok.secret.as_str(), ok.key.as_str(), ok.value.as_str()),
            ("db", "password", "hunter2=x/y")
        );
        assert_eq!(secret("db/empty=").unwrap().value, "");
        check(
            secret("hunter2"),
            expect!["error: expected SECRET/KEY=VALUE: there is no `=` (the value is not shown)"],
        );
        check(
            secret("db=hunter2"),
            expect![[r#"error: "db" is not SECRET/KEY (in --secret SECRET/KEY=VALUE)"#]],
        );
        for bad in ["/k=hunter2", "db/=hunter2", "db/a/b=hunter2"] {
            let err = secret(bad).unwrap_err();
            assert!(!err.contains("hunter2"), "{err}");
        }
        check(
            secret_file("tls/key=./key.pem"),
            expect![[r#"SecretFileArg { secret: "tls", key: "key", path: "./key.pem" }"#]],
        );
        check(
            secret_file("tls/key="),
            expect!["error: expected SECRET/KEY=PATH"],
        );
        check(
            secret_file("tls=x"),
            expect![[r#"error: "tls" is not SECRET/KEY (in --secret-file SECRET/KEY=PATH)"#]],
        );
    }

    #[test]
    fn secret_values_never_show() {
        let argv = |secret: &'static str| {
            [
                "lapdev",
                "env",
                "create",
                "mine",
                "--catalog",
                "shop",
                "--cluster",
                "dev",
                "--secret",
                secret,
            ]
        };
        let err = Cli::try_parse_from(argv("hunter2")).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
        let text = err.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("SECRET/KEY=VALUE"), "{text}");
        let err = Cli::try_parse_from(argv("x=hunter2"))
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2") && err.contains("\"x\""), "{err}");

        let cli = Cli::try_parse_from(argv("db/password=hunter2")).unwrap();
        assert!(!format!("{cli:?}").contains("hunter2"));
        let Command::Env(EnvCommand::Create { secrets, .. }) = cli.command else {
            panic!("not env create")
        };
        let request = CreateEnvironment {
            name: EnvironmentName::parse("mine").unwrap(),
            catalog: lapdev_api::CatalogName::parse("shop").unwrap(),
            cluster: lapdev_api::ClusterName::parse("dev").unwrap(),
            kind: EnvironmentKind::Personal,
            replicas: None,
            secret_values: secret_values(secrets, &[]).unwrap(),
        };
        let debug = format!("{request:?}");
        assert!(
            !debug.contains("hunter2") && debug.contains("password"),
            "{debug}"
        );
        // The value goes in the body, of course.
        assert!(serde_json::to_string(&request).unwrap().contains("hunter2"));
    }

    #[test]
    fn secret_files_lose_one_newline() {
        let dir = tempfile::tempdir().unwrap();
        let read = |content: &[u8]| {
            let path = dir.path().join("value");
            std::fs::write(&path, content).unwrap();
            let arg = secret_file(&format!("db/password={}", path.display())).unwrap();
            arg.read().map(|v| v.value).map_err(|e| format!("{e:#}"))
        };
        assert_eq!(read(b"s3cret\n").unwrap(), "s3cret");
        assert_eq!(read(b"s3cret\r\n").unwrap(), "s3cret");
        assert_eq!(read(b"two\nlines\n\n").unwrap(), "two\nlines\n");
        assert_eq!(read(b"as is").unwrap(), "as is");
        let err = read(b"bin\xffhunter2").unwrap_err();
        assert!(
            err.contains("is not UTF-8 text") && !err.contains("hunter2"),
            "{err}"
        );
        let missing = secret_file("db/password=/nonexistent/value").unwrap();
        check(
            missing.read(),
            expect!["error: cannot read the value of db/password from /nonexistent/value"],
        );
        let path = dir.path().join("value");
        std::fs::write(&path, "from-file").unwrap();
        let twice = secret_values(
            vec!["db/password=hunter2".parse().unwrap()],
            &[secret_file(&format!("db/password={}", path.display())).unwrap()],
        );
        check(
            twice,
            expect!["error: a value for db/password is given twice"],
        );
    }

    #[test]
    fn replicas_and_timeouts() {
        check(replicas("keep"), expect!["Keep"]);
        check(replicas("0"), expect!["AtMost(0)"]);
        check(replicas("3"), expect!["AtMost(3)"]);
        check(
            replicas("-1"),
            expect![[r#"error: expected `keep` or a number of pods (e.g. 1), not "-1""#]],
        );
        check(timeout("90"), expect!["90s"]);
        check(timeout("90s"), expect!["90s"]);
        check(timeout("10m"), expect!["600s"]);
        check(timeout("1h30m"), expect!["5400s"]);
        check(
            timeout("0"),
            expect!["error: the timeout must be longer than 0"],
        );
        check(
            timeout("-5s"),
            expect![[r#"error: expected seconds or a duration like 90s, 10m or 1h, not "-5s""#]],
        );
        check(
            timeout("soon"),
            expect![[r#"error: expected seconds or a duration like 90s, 10m or 1h, not "soon""#]],
        );
        assert_eq!(friendly(Duration::from_secs(600)), "10m");
    }

    #[track_caller]
    fn parse(args: &str) -> EnvCommand {
        let argv = ["lapdev", "env"].into_iter().chain(args.split_whitespace());
        match Cli::try_parse_from(argv) {
            Ok(Cli {
                command: Command::Env(command),
                ..
            }) => command,
            Ok(other) => panic!("not an env command: {other:?}"),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn command_lines() {
        check(
            Ok::<_, String>(parse(
                "create mine --catalog shop --cluster dev --shared --replicas keep --wait",
            )),
            expect![[
                r#"Create { name: EnvironmentName("mine"), catalog: CatalogName("shop"), cluster: ClusterName("dev"), shared: true, replicas: Some(Keep), secrets: [], secret_files: [], wait: true, timeout: 600s }"#
            ]],
        );
        check(
            Ok::<_, String>(parse("list --kind shared --all")),
            expect![
                "List { kind: Some(Shared), list: ListArgs { limit: None, all: true, cursor: None } }"
            ],
        );
        check(
            Ok::<_, String>(parse("status mine --watch --timeout 5m")),
            expect![[r#"Status { name: EnvironmentName("mine"), watch: true, timeout: 300s }"#]],
        );
        check(
            Ok::<_, String>(parse("delete mine --wait --timeout 30")),
            expect![[r#"Delete { name: EnvironmentName("mine"), wait: true, timeout: 30s }"#]],
        );
        let err = |args: &str| {
            let argv = ["lapdev", "env"].into_iter().chain(args.split_whitespace());
            Cli::try_parse_from(argv).unwrap_err().to_string()
        };
        assert!(err("show Mine").contains("invalid environment name"));
        assert!(err("create mine --cluster dev").contains("--catalog"));
        assert!(err("list --kind branch").contains("possible values: personal, shared"));
        assert!(err("status mine --timeout 1m").contains("--watch"));
    }
}
