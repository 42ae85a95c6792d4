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

#[test]
fn an_unknown_organization_points_to_org_list() {
    let server = crate::TestServer::start();
    let admin = server.admin();
    let (code, stderr) = admin
        .cmd(&["org", "members", "list", "--org", "nope"])
        .fails();
    assert_eq!(code, 1);
    assert_eq!(
        stderr.trim_end(),
        "error: there is no organization nope that you are a member of: see `lapdev org list`"
    );
}

/// A one-shot HTTP server that answers the first request with `response`.
fn answer_once(response: &'static str) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
            line.clear();
        }
        let _ = reader.get_mut().write_all(response.as_bytes());
    });
    url
}

#[test]
fn a_huge_response_is_refused_unread() {
    let url = answer_once(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1073741824\r\n\r\n{",
    );
    let (code, stderr) = CliUser::new(&url)
        .cmd(&["whoami", "--server", &url, "--token", "t"])
        .fails();
    assert_eq!(code, 1);
    assert_eq!(
        stderr.trim_end(),
        format!("error: the response from {url} is larger than 8 MiB; refusing to read it")
    );
}

#[test]
fn a_non_lapdev_error_page_is_named_as_such() {
    let url = answer_once(
        "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\ncontent-length: 9\r\nconnection: close\r\n\r\n<h1>502</h1>",
    );
    let (code, stderr) = CliUser::new(&url)
        .cmd(&["whoami", "--server", &url, "--token", "t"])
        .fails();
    assert_eq!(code, 1);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: unexpected response from {url} (HTTP 502): the error body is not a Lapdev error — is this a Lapdev server of a matching version?"
        )
    );
}
