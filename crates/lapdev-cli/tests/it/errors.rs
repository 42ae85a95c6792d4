//! Failures that need no server, or a server that is gone: one clear line
//! on stderr and a distinct exit code.

use crate::CliUser;

#[test]
fn an_unreachable_server_is_named_with_a_hint() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let user = CliUser::new(&url);
    let (code, stderr) = user
        .cmd(&["whoami", "--server", &url, "--token", "lpd_whatever"])
        .fails();
    assert_eq!(code, 4);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: cannot reach the Lapdev server at {url}: connection refused — is it running? check --server"
        )
    );
}

#[test]
fn without_a_login_commands_say_how_to_log_in() {
    let user = CliUser::new("http://127.0.0.1:9");
    let (code, stderr) = user.cmd(&["org", "members", "list"]).fails();
    assert_eq!(code, 3);
    assert_eq!(
        stderr.trim_end(),
        "error: no server given and not logged in: run `lapdev login --server URL`, or pass --server"
    );

    let (code, stderr) = user
        .cmd(&["token", "list", "--server", "http://127.0.0.1:9"])
        .fails();
    assert_eq!(code, 3);
    assert!(
        stderr.contains("not logged in to http://127.0.0.1:9"),
        "{stderr}"
    );
}

#[test]
fn a_server_url_without_scheme_is_a_usage_error() {
    let user = CliUser::new("x");
    let (code, stderr) = user.cmd(&["whoami", "--server", "localhost:8080"]).fails();
    assert_eq!(code, 2);
    assert!(stderr.contains("write http://localhost:8080"), "{stderr}");
}
