//! Integration tests of the `lapdev` binary: the real executable runs as a
//! subprocess against a real server started in-process (SQLite in a temp
//! directory), with its credentials in a temp config directory.

mod auth;
mod catalogs;
mod clusters;
mod environments;
mod errors;
mod members;
mod server;
mod tokens;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

const ADMIN: &str = "admin";
const ADMIN_PASSWORD: &str = "correct-horse-battery";

/// A Lapdev server on 127.0.0.1:0 for one test, stopped on drop.
struct TestServer {
    url: String,
    server: Option<lapdev_server::RunningServer>,
    // Dropped after the server: its tasks run on this runtime.
    runtime: tokio::runtime::Runtime,
    _data: TempDir,
}

impl TestServer {
    fn start() -> Self {
        let data = TempDir::new().unwrap();
        let mut config = lapdev_server::ServerConfig::for_data_dir(data.path());
        config.admin_username = ADMIN.into();
        config.admin_password = Some(ADMIN_PASSWORD.into());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime
            .block_on(lapdev_server::start(config))
            .expect("the test server starts");
        Self {
            url: server.url().to_string(),
            server: Some(server),
            runtime,
            _data: data,
        }
    }

    /// A user of the CLI with an empty config directory.
    fn user(&self) -> CliUser {
        CliUser::new(&self.url)
    }

    /// A user logged in as the first admin.
    fn admin(&self) -> CliUser {
        let admin = self.user();
        admin.login(ADMIN, ADMIN_PASSWORD);
        admin
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown());
        }
    }
}

/// Someone running `lapdev` with their own config directory.
struct CliUser {
    server: String,
    config_dir: TempDir,
}

impl CliUser {
    fn new(server: &str) -> Self {
        Self {
            server: server.to_owned(),
            config_dir: TempDir::new().unwrap(),
        }
    }

    fn config_file(&self) -> PathBuf {
        self.config_dir.path().join("config.json")
    }

    /// `lapdev <args>` with this user's config directory and a clean environment.
    fn cmd(&self, args: &[&str]) -> Run {
        Run::new(self.config_dir.path(), args)
    }

    fn login(&self, username: &str, password: &str) {
        self.cmd(&[
            "login",
            "--server",
            &self.server,
            "--username",
            username,
            "--password-stdin",
        ])
        .stdin(&format!("{password}\n"))
        .ok();
    }

    /// The token stored by `lapdev login`.
    fn stored_token(&self) -> String {
        let text = std::fs::read_to_string(self.config_file()).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        json["token"].as_str().unwrap().to_owned()
    }
}

/// One run of the binary, built up then executed.
struct Run {
    command: Command,
    stdin: Option<String>,
}

impl Run {
    fn new(config_dir: &Path, args: &[&str]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_lapdev"));
        command.args(args).env("LAPDEV_CONFIG_DIR", config_dir);
        for var in [
            "LAPDEV_SERVER",
            "LAPDEV_TOKEN",
            "LAPDEV_ORG",
            "LAPDEV_LISTEN",
            "LAPDEV_DATA_DIR",
            "LAPDEV_DATABASE_URL",
            "LAPDEV_EXTERNAL_URL",
            "LAPDEV_ADMIN_USERNAME",
            "LAPDEV_ADMIN_PASSWORD",
            "LAPDEV_LOG_FORMAT",
            "LAPDEV_CLUSTER_TOKEN",
        ] {
            command.env_remove(var);
        }
        Self {
            command,
            stdin: None,
        }
    }

    fn env(mut self, key: &str, value: &str) -> Self {
        self.command.env(key, value);
        self
    }

    fn stdin(mut self, input: &str) -> Self {
        self.stdin = Some(input.to_owned());
        self
    }

    fn output(mut self) -> Output {
        self.command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("lapdev runs");
        if let Some(input) = &self.stdin {
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(input.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    /// Runs and expects success; returns stdout.
    #[track_caller]
    fn ok(self) -> String {
        let out = self.output();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            out.status.success(),
            "lapdev failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
            out.status
        );
        stdout
    }

    /// Runs and expects failure; returns the exit code and stderr.
    #[track_caller]
    fn fails(self) -> (i32, String) {
        let out = self.output();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            !out.status.success(),
            "lapdev succeeded but should not have; stdout: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        (out.status.code().unwrap_or(-1), stderr)
    }

    /// Runs with `-o json` and parses stdout.
    #[track_caller]
    fn json<T: serde::de::DeserializeOwned>(mut self) -> T {
        self.command.args(["-o", "json"]);
        let stdout = self.ok();
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }

    /// Runs with `-o yaml` and parses stdout.
    #[track_caller]
    fn yaml<T: serde::de::DeserializeOwned>(mut self) -> T {
        self.command.args(["-o", "yaml"]);
        let stdout = self.ok();
        serde_saphyr::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }
}
