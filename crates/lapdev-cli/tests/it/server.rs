//! `lapdev server` and `lapdev demo` as subprocesses: they print the URL and
//! the admin credentials on stdout, and the CLI can sign in with them.

use std::io::{BufRead, BufReader, Lines};
use std::process::{Child, ChildStdout, Stdio};

use lapdev_api::Me;
use tempfile::TempDir;

use crate::{CliUser, Run};

/// A running `lapdev` process whose stdout is read line by line; killed on drop.
struct Background {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Background {
    fn spawn(run: Run) -> Self {
        let mut command = run.command;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = command.spawn().expect("lapdev starts");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Self { child, lines }
    }

    /// Reads stdout until a line starts with `prefix` (after leading spaces),
    /// and returns the rest of that line, trimmed.
    #[track_caller]
    fn value_after(&mut self, prefix: &str) -> String {
        for line in self.lines.by_ref() {
            let line = line.unwrap();
            if let Some(rest) = line.trim_start().strip_prefix(prefix) {
                return rest.trim().to_owned();
            }
        }
        panic!("lapdev ended without printing {prefix:?}");
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn lapdev_server_prints_its_url_and_the_first_admin_once() {
    let data = TempDir::new().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let server_args = ["server", "--listen", "127.0.0.1:0", "--data-dir", data_dir];

    let mut server = Background::spawn(Run::new(data.path(), &server_args));
    let url = server.value_after("Lapdev server listening on ");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let username = server.value_after("username:");
    let password = server.value_after("password:");

    let cli = CliUser::new(&url);
    cli.login(&username, &password);
    let me: Me = cli.cmd(&["whoami"]).json();
    assert_eq!(me.user.username.as_str(), username);
    drop(server);

    // The second start finds the admin in the database and prints no password.
    let mut again = Background::spawn(Run::new(data.path(), &server_args));
    again.value_after("Lapdev server listening on ");
    let _ = again.child.kill();
    let rest: Vec<String> = again.lines.by_ref().map_while(Result::ok).collect();
    assert!(
        !rest.iter().any(|l| l.contains(&password)),
        "the password is shown only on the first start: {rest:?}"
    );
}

#[test]
fn lapdev_demo_prints_the_same_credentials_on_every_start() {
    let data = TempDir::new().unwrap();
    let data_dir = data.path().join("demo");
    let data_dir = data_dir.to_str().unwrap();
    let demo_args = ["demo", "--listen", "127.0.0.1:0", "--data-dir", data_dir];

    let mut demo = Background::spawn(Run::new(data.path(), &demo_args));
    let url = demo.value_after("Dashboard:");
    let username = demo.value_after("Username:");
    let password = demo.value_after("Password:");
    demo.value_after("Press Ctrl-C");
    drop(demo);

    let mut demo = Background::spawn(Run::new(data.path(), &demo_args));
    let url_again = demo.value_after("Dashboard:");
    assert_eq!(demo.value_after("Username:"), username);
    assert_eq!(demo.value_after("Password:"), password);
    assert!(url.starts_with("http://127.0.0.1:") && url_again.starts_with("http://127.0.0.1:"));

    let cli = CliUser::new(&url_again);
    cli.login(&username, &password);
    let me: Me = cli.cmd(&["whoami"]).json();
    assert_eq!(me.user.username.as_str(), username);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let file = std::path::Path::new(data_dir).join("demo-admin.json");
        let mode = std::fs::metadata(file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn a_demo_that_failed_to_start_still_knows_its_password() {
    let data = TempDir::new().unwrap();
    let data_dir = data.path().join("demo");
    let data_dir = data_dir.to_str().unwrap();

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_addr = busy.local_addr().unwrap().to_string();
    let (code, stderr) = Run::new(
        data.path(),
        &["demo", "--listen", &busy_addr, "--data-dir", data_dir],
    )
    .fails();
    assert_eq!(code, 1);
    assert!(
        stderr.contains("pick another address with --listen"),
        "{stderr}"
    );
    drop(busy);

    let mut demo = Background::spawn(Run::new(
        data.path(),
        &["demo", "--listen", "127.0.0.1:0", "--data-dir", data_dir],
    ));
    let url = demo.value_after("Dashboard:");
    let username = demo.value_after("Username:");
    let password = demo.value_after("Password:");
    let cli = CliUser::new(&url);
    cli.login(&username, &password);
}
