//! Requests over one connection: many at once, answered by id; kube-manager's
//! own write rules (Forbidden outside Lapdev-managed namespaces whatever the
//! server asks); unknown and invalid requests answered, not fatal.

use std::collections::BTreeMap;

use lapdev_tunnel_proto::{ClientFrame, Request, RequestId, Response, ServerFrame, TunnelError};

use crate::session::expected_status;
use crate::support::{Fixture, KubeManager, welcome};

fn req(id: u64, request: Request) -> ServerFrame {
    ServerFrame::Request {
        id: RequestId(id),
        request,
    }
}

fn delete(ns: &str) -> Request {
    Request::DeleteNamespace {
        namespace: ns.into(),
    }
}

/// What a result looks like in assertions: the response kind or the error code.
fn summary(result: &Result<Response, TunnelError>) -> String {
    match result {
        Ok(Response::ClusterStatus(s)) => {
            assert_eq!(s, &expected_status());
            "status".into()
        }
        Ok(r) => format!("{r:?}"),
        Err(e) => format!("{:?}", e.code),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_are_answered_by_id_and_writes_are_guarded() {
    let mut fx = Fixture::new().await;
    // Room for every request below at once (the bound itself is tested in lib_level).
    let mut env = fx.env();
    env.push(("LAPDEV_MAX_CONCURRENT_REQUESTS", "100".into()));
    let _km = KubeManager::spawn(&env);
    let mut conn = fx.server.next_conn().await;
    conn.handshake(welcome(30, 3600)).await;

    let mut expected = BTreeMap::new();
    // Many requests in flight at once, interleaved kinds.
    for id in 1..=30u64 {
        let (request, want) = match id % 3 {
            0 => (Request::Ping, "Pong"),
            1 => (Request::GetClusterStatus, "status"),
            _ => (delete("kube-system"), "Forbidden"),
        };
        conn.send(&req(id, request)).await;
        expected.insert(id, want.to_string());
    }
    // The server is not trusted with the rules.
    let refused = [
        (101, "default"),
        (102, "shop"),
        (103, "lapdev"),
        (104, "lapdev-"),
        (105, "lapdev-Env1"),
        (106, "kube-public"),
    ];
    for (id, ns) in refused {
        conn.send(&req(id, delete(ns))).await;
        expected.insert(id, "Forbidden".into());
    }
    // A Lapdev-style name that Lapdev did not create (no lapdev.io/managed label).
    conn.send(&req(110, delete("lapdev-tools"))).await;
    expected.insert(110, "Forbidden".into());
    conn.send(&req(111, delete("lapdev-missing"))).await;
    expected.insert(111, "NotFound".into());
    // A request kind from a newer server, and a malformed one: answered.
    conn.send_text(
        r#"{"type":"request","id":120,"request":{"kind":"apply_route_table","generation":1}}"#,
    )
    .await;
    expected.insert(120, "Unsupported".into());
    conn.send_text(r#"{"type":"request","id":121,"request":{"kind":"delete_namespace"}}"#)
        .await;
    expected.insert(121, "Invalid".into());
    // A frame type from a newer server is ignored.
    conn.send_text(r#"{"type":"route_table","routes":[]}"#)
        .await;

    let mut got = BTreeMap::new();
    let mut messages = BTreeMap::new();
    while got.len() < expected.len() {
        if let ClientFrame::Response { id, result } = conn.recv().await {
            if let Err(e) = &result {
                messages.insert(id.0, e.message.clone());
            }
            assert!(
                got.insert(id.0, summary(&result)).is_none(),
                "request {id} answered twice"
            );
        }
    }
    assert_eq!(got, expected);
    assert!(
        messages[&101].contains("only writes to Lapdev-managed namespaces"),
        "{}",
        messages[&101]
    );
    assert!(
        messages[&110].contains("was not created by Lapdev"),
        "{}",
        messages[&110]
    );
    assert!(
        messages[&120].contains("upgrade lapdev-kube-manager"),
        "{}",
        messages[&120]
    );

    // Still connected; now the one allowed write.
    conn.send(&req(200, delete("lapdev-env1"))).await;
    conn.send(&req(201, Request::Ping)).await;
    let mut answers = BTreeMap::new();
    while answers.len() < 2 {
        if let ClientFrame::Response { id, result } = conn.recv().await {
            answers.insert(id.0, summary(&result));
        }
    }
    assert_eq!(answers[&200], "Deleted");
    assert_eq!(answers[&201], "Pong");

    let writes = fx.sim.requests().writes();
    assert_eq!(writes.len(), 1, "{writes:#?}");
    assert_eq!(
        (
            writes[0].verb.as_str(),
            writes[0].resource.as_deref(),
            writes[0].name.as_deref()
        ),
        ("delete", Some("namespaces"), Some("lapdev-env1"))
    );
    assert!(
        fx.sim
            .requests()
            .writes_outside(&["lapdev-env1"])
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_frame_closes_with_a_protocol_error_and_reconnects() {
    let mut fx = Fixture::new().await;
    let mut km = fx.spawn();
    let mut conn = fx.server.next_conn().await;
    conn.handshake(welcome(30, 3600)).await;
    conn.send_text("this is not json").await;
    let close = conn.closed().await.expect("a close frame");
    assert_eq!(
        u16::from(close.code),
        lapdev_tunnel_proto::close_code::PROTOCOL_ERROR
    );
    km.wait_log("protocol error").await;
    let mut again = fx.server.next_conn().await;
    again.handshake(welcome(30, 3600)).await;
    again.send(&req(1, Request::Ping)).await;
    let r = again
        .recv_until(|f| match f {
            ClientFrame::Response { id, result } => Some((id, result)),
            _ => None,
        })
        .await;
    assert_eq!(r, (RequestId(1), Ok(Response::Pong)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_over_the_frame_limit_ends_the_session_and_it_reconnects() {
    let mut fx = Fixture::new().await;
    let mut km = fx.spawn();
    let mut conn = fx.server.next_conn().await;
    conn.handshake(welcome(30, 3600)).await;
    let pad = "x".repeat(lapdev_tunnel_proto::MAX_FRAME_BYTES + 1);
    conn.send_text_unchecked(&format!(
        r#"{{"type":"heartbeat_ack","seq":1,"pad":"{pad}"}}"#
    ))
    .await;
    let line = km.wait_log("the tunnel is down").await;
    assert!(line.contains("Message too long"), "{line}");
    let mut again = fx.server.next_conn().await;
    again.handshake(welcome(30, 3600)).await;
}
