//! Golden tests of the tunnel protocol's wire encoding: every frame kind,
//! request, response and error code is pinned here, so any change to the
//! contract shows up in review. Also the compatibility rules (unknown kinds
//! and frame types) and the size limit. `UPDATE_EXPECT=1` rewrites goldens.

use expect_test::{Expect, expect};
use lapdev_tunnel_proto::*;

mod catalog;
mod environment;

fn status() -> ClusterStatus {
    ClusterStatus {
        kube_manager_version: "0.1.0".into(),
        kubernetes_version: "v1.33.2".into(),
        node_count: 3,
        ready_node_count: 2,
        allocatable_cpu_millis: 11_500,
        allocatable_memory_bytes: 25_769_803_776,
    }
}

/// Encodes, pins the text, and checks it decodes back to the same frame.
#[track_caller]
fn client(frame: ClientFrame, expect: Expect) {
    let text = encode_client_frame(&frame).unwrap();
    expect.assert_eq(&text);
    assert_eq!(decode_client_frame(&text).unwrap(), frame);
}

#[track_caller]
fn server(frame: ServerFrame, expect: Expect) {
    let text = encode_server_frame(&frame).unwrap();
    expect.assert_eq(&text);
    assert_eq!(decode_server_frame(&text).unwrap(), frame);
}

#[track_caller]
fn response(result: Result<Response, TunnelError>, expect: Expect) {
    client(
        ClientFrame::Response {
            id: RequestId(7),
            result,
        },
        expect,
    );
}

#[track_caller]
fn decode_server_err(text: &str, expect: Expect) {
    let err = decode_server_frame(text).unwrap_err();
    let reply = err
        .error_reply()
        .map(|(id, e)| format!(" → reply {id}: {}", serde_json::to_string(&e).unwrap()))
        .unwrap_or_default();
    expect.assert_eq(&format!("{err:?} fatal={}{reply}", err.is_fatal()));
}

#[track_caller]
fn decode_client_err(text: &str, expect: Expect) {
    let err = decode_client_frame(text).unwrap_err();
    expect.assert_eq(&format!("{err:?} fatal={}", err.is_fatal()));
}

#[test]
fn handshake_frames() {
    client(
        ClientFrame::Hello(Hello {
            supported: VersionRange::CURRENT,
            kube_manager_version: "0.1.0".into(),
            max_concurrent_requests: 32,
        }),
        expect![[
            r#"{"type":"hello","supported":[1,1],"kube_manager_version":"0.1.0","max_concurrent_requests":32}"#
        ]],
    );
    server(
        ServerFrame::Welcome(Welcome {
            version: 1,
            cluster_id: "0190c6f2-7b1e-7000-8000-000000000001".into(),
            cluster_name: "dev-eu".into(),
            heartbeat_interval_secs: 15,
            status_interval_secs: 60,
        }),
        expect![[
            r#"{"type":"welcome","version":1,"cluster_id":"0190c6f2-7b1e-7000-8000-000000000001","cluster_name":"dev-eu","heartbeat_interval_secs":15,"status_interval_secs":60}"#
        ]],
    );
    server(
        ServerFrame::Refused(Refused {
            code: RefusedCode::UnsupportedVersion,
            message:
                "kube-manager speaks [1, 1]; this server speaks [2, 3]: upgrade lapdev-kube-manager"
                    .into(),
            server_supported: Some(VersionRange { min: 2, max: 3 }),
        }),
        expect![[
            r#"{"type":"refused","code":"unsupported_version","message":"kube-manager speaks [1, 1]; this server speaks [2, 3]: upgrade lapdev-kube-manager","server_supported":[2,3]}"#
        ]],
    );
    server(
        ServerFrame::Refused(Refused {
            code: RefusedCode::InvalidHello,
            message: "the first frame must be a hello".into(),
            server_supported: None,
        }),
        expect![[
            r#"{"type":"refused","code":"invalid_hello","message":"the first frame must be a hello"}"#
        ]],
    );
}

#[test]
fn heartbeat_and_status_frames() {
    client(
        ClientFrame::Heartbeat(Heartbeat {
            seq: 42,
            sent_at_unix_ms: 1_790_000_000_000,
        }),
        expect![[r#"{"type":"heartbeat","seq":42,"sent_at_unix_ms":1790000000000}"#]],
    );
    server(
        ServerFrame::HeartbeatAck(HeartbeatAck { seq: 42 }),
        expect![[r#"{"type":"heartbeat_ack","seq":42}"#]],
    );
    client(
        ClientFrame::Status(status()),
        expect![[
            r#"{"type":"status","kube_manager_version":"0.1.0","kubernetes_version":"v1.33.2","node_count":3,"ready_node_count":2,"allocatable_cpu_millis":11500,"allocatable_memory_bytes":25769803776}"#
        ]],
    );
}

#[test]
fn request_frames() {
    let req = |request| ServerFrame::Request {
        id: RequestId(7),
        request,
    };
    server(
        req(Request::Ping),
        expect![[r#"{"type":"request","id":7,"request":{"kind":"ping"}}"#]],
    );
    server(
        req(Request::GetClusterStatus),
        expect![[r#"{"type":"request","id":7,"request":{"kind":"get_cluster_status"}}"#]],
    );
    server(
        req(Request::DeleteNamespace {
            namespace: "lapdev-alice-shop".into(),
        }),
        expect![[
            r#"{"type":"request","id":7,"request":{"kind":"delete_namespace","namespace":"lapdev-alice-shop"}}"#
        ]],
    );
}

#[test]
fn every_request_kind_is_listed() {
    let all = [
        Request::Ping,
        Request::GetClusterStatus,
        Request::DeleteNamespace {
            namespace: "x".into(),
        },
        Request::ListWorkloads(ListWorkloads::default()),
        Request::SnapshotCatalog(SnapshotCatalog::default()),
        Request::RefreshCatalog(RefreshCatalog::default()),
        Request::ApplyEnvironment(environment::apply()),
        Request::GetEnvironmentStatus(GetEnvironmentStatus {
            namespace: "lapdev-x".into(),
        }),
    ];
    let kinds: Vec<&str> = all.iter().map(Request::kind).collect();
    assert_eq!(kinds, Request::KINDS);
    for r in all {
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["kind"], r.kind());
    }
}

#[test]
fn response_frames() {
    response(
        Ok(Response::Pong),
        expect![[r#"{"type":"response","id":7,"result":{"ok":{"kind":"pong"}}}"#]],
    );
    response(
        Ok(Response::ClusterStatus(status())),
        expect![[
            r#"{"type":"response","id":7,"result":{"ok":{"kind":"cluster_status","kube_manager_version":"0.1.0","kubernetes_version":"v1.33.2","node_count":3,"ready_node_count":2,"allocatable_cpu_millis":11500,"allocatable_memory_bytes":25769803776}}}"#
        ]],
    );
    response(
        Ok(Response::Deleted),
        expect![[r#"{"type":"response","id":7,"result":{"ok":{"kind":"deleted"}}}"#]],
    );
}

#[test]
fn error_codes() {
    let err = |code| Err(TunnelError::new(code, "why"));
    response(
        err(ErrorCode::Forbidden),
        expect![[
            r#"{"type":"response","id":7,"result":{"error":{"code":"forbidden","message":"why"}}}"#
        ]],
    );
    response(
        err(ErrorCode::NotFound),
        expect![[
            r#"{"type":"response","id":7,"result":{"error":{"code":"not_found","message":"why"}}}"#
        ]],
    );
    response(
        err(ErrorCode::Invalid),
        expect![[
            r#"{"type":"response","id":7,"result":{"error":{"code":"invalid","message":"why"}}}"#
        ]],
    );
    response(
        err(ErrorCode::Unsupported),
        expect![[
            r#"{"type":"response","id":7,"result":{"error":{"code":"unsupported","message":"why"}}}"#
        ]],
    );
    response(
        err(ErrorCode::Kubernetes { status: 409 }),
        expect![[
            r#"{"type":"response","id":7,"result":{"error":{"code":"kubernetes","status":409,"message":"why"}}}"#
        ]],
    );
    response(
        err(ErrorCode::Overloaded),
        expect![[
            r#"{"type":"response","id":7,"result":{"error":{"code":"overloaded","message":"why"}}}"#
        ]],
    );
    response(
        err(ErrorCode::Timeout),
        expect![[
            r#"{"type":"response","id":7,"result":{"error":{"code":"timeout","message":"why"}}}"#
        ]],
    );
    response(
        err(ErrorCode::Internal),
        expect![[
            r#"{"type":"response","id":7,"result":{"error":{"code":"internal","message":"why"}}}"#
        ]],
    );
}

#[test]
fn newer_peers_are_understood_or_answered() {
    // A request kind from a newer server: answered Unsupported, not fatal.
    decode_server_err(
        r#"{"type":"request","id":9,"request":{"kind":"apply_route_table","generation":3}}"#,
        expect![[
            r#"UnsupportedRequest { id: RequestId(9), kind: "apply_route_table" } fatal=false → reply 9: {"code":"unsupported","message":"this kube-manager does not support \"apply_route_table\" requests; upgrade lapdev-kube-manager"}"#
        ]],
    );
    // Unknown frame types are ignored.
    decode_server_err(
        r#"{"type":"route_table","routes":[]}"#,
        expect![[r#"UnknownFrame { frame_type: "route_table" } fatal=false"#]],
    );
    decode_client_err(
        r#"{"type":"watch_event","x":1}"#,
        expect![[r#"UnknownFrame { frame_type: "watch_event" } fatal=false"#]],
    );
    // Unknown fields are ignored; unknown error codes decode as Unknown.
    let frame = decode_server_frame(r#"{"type":"heartbeat_ack","seq":3,"server_time":5}"#).unwrap();
    assert_eq!(frame, ServerFrame::HeartbeatAck(HeartbeatAck { seq: 3 }));
    let frame = decode_client_frame(
        r#"{"type":"response","id":4,"result":{"error":{"code":"quota_exceeded","limit":3,"message":"m"}}}"#,
    )
    .unwrap();
    let ClientFrame::Response { id, result } = frame else {
        panic!("{frame:?}")
    };
    assert_eq!(
        (id, result),
        (RequestId(4), Err(TunnelError::new(ErrorCode::Unknown, "m")))
    );
    // A newer refusal reason.
    let frame =
        decode_server_frame(r#"{"type":"refused","code":"maintenance","message":"m"}"#).unwrap();
    assert!(matches!(
        frame,
        ServerFrame::Refused(Refused {
            code: RefusedCode::Other,
            ..
        })
    ));
}

#[test]
fn broken_frames() {
    decode_server_err(
        r#"{"type":"request","id":9,"request":{"kind":"delete_namespace"}}"#,
        expect![[
            r#"InvalidRequest { id: RequestId(9), kind: "delete_namespace", message: "missing field `namespace`" } fatal=false → reply 9: {"code":"invalid","message":"invalid \"delete_namespace\" request: missing field `namespace`"}"#
        ]],
    );
    decode_server_err(
        r#"{"type":"request","request":{"kind":"ping"}}"#,
        expect![[
            r#"InvalidFrame { frame_type: "request", message: "missing field `id`" } fatal=true"#
        ]],
    );
    decode_server_err(
        r#"{"type":"welcome","version":"one"}"#,
        expect![[
            r#"InvalidFrame { frame_type: "welcome", message: "invalid type: string \"one\", expected u32" } fatal=true"#
        ]],
    );
    decode_server_err(
        "not json",
        expect![[r#"Malformed("expected ident at line 1 column 2") fatal=true"#]],
    );
    decode_server_err(
        r#"{"kind":"ping"}"#,
        expect![[r#"Malformed("expected a JSON object with a string \"type\"") fatal=true"#]],
    );
    decode_server_err(
        r#"[1,2]"#,
        expect![[r#"Malformed("expected a JSON object with a string \"type\"") fatal=true"#]],
    );
    decode_client_err(
        r#"{"type":"response","id":5,"result":{"ok":{"kind":"route_table_status","items":[]}}}"#,
        expect![[
            r#"InvalidResponse { id: RequestId(5), message: "unknown variant `route_table_status`, expected one of `pong`, `cluster_status`, `deleted`, `workloads`, `catalog_snapshot`, `catalog_refresh`, `environment_applied`, `environment_status`" } fatal=false"#
        ]],
    );
    decode_client_err(
        r#"{"type":"hello","supported":[1]}"#,
        expect![[
            r#"InvalidFrame { frame_type: "hello", message: "invalid length 1, expected an array of length 2" } fatal=true"#
        ]],
    );
}

#[test]
fn frames_over_the_limit_are_refused_both_ways() {
    let huge = "x".repeat(MAX_FRAME_BYTES);
    let frame = ClientFrame::Response {
        id: RequestId(1),
        result: Err(TunnelError::internal(huge.clone())),
    };
    let err = encode_client_frame(&frame).unwrap_err();
    assert!(
        matches!(
            err,
            EncodeError::TooLarge {
                max: MAX_FRAME_BYTES,
                ..
            }
        ),
        "{err}"
    );
    let text = format!(r#"{{"type":"heartbeat_ack","seq":1,"pad":"{huge}"}}"#);
    let err = decode_server_frame(&text).unwrap_err();
    assert!(
        matches!(err, DecodeError::TooLarge { .. }) && err.is_fatal(),
        "{err}"
    );
    // Just under the limit is fine.
    let pad = "x".repeat(MAX_FRAME_BYTES - 64);
    let text = format!(r#"{{"type":"heartbeat_ack","seq":1,"pad":"{pad}"}}"#);
    assert!(text.len() <= MAX_FRAME_BYTES);
    decode_server_frame(&text).unwrap();
}

#[test]
fn limits_and_constants() {
    expect!["version 1, supported [1, 1], max frame 16777216 bytes, path /api/v1/tunnel, misses 3, close codes [4001, 4002, 4003, 4004]"].assert_eq(&format!(
        "version {PROTOCOL_VERSION}, supported {}, max frame {MAX_FRAME_BYTES} bytes, path {TUNNEL_PATH}, misses {HEARTBEAT_MISSES}, close codes {:?}",
        VersionRange::CURRENT,
        [
            close_code::TOKEN_REVOKED,
            close_code::HEARTBEAT_TIMEOUT,
            close_code::REPLACED,
            close_code::PROTOCOL_ERROR
        ]
    ));
}
