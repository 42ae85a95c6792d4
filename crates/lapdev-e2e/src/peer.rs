//! The benchmark's named peer: a bare tokio-tungstenite WebSocket server
//! over rustls that accepts any upgrade, answers `Hello` with `Welcome` and
//! every `Heartbeat` with `HeartbeatAck`: no authentication, no database,
//! no registry. It is the floor of holding the same TLS WebSockets, run as
//! its own process (`tunnel-load peer-server`) so it is measured the same
//! way as the Lapdev server.

use std::net::SocketAddr;
use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use lapdev_tunnel_proto::{
    ClientFrame, HeartbeatAck, MAX_FRAME_BYTES, ServerFrame, Welcome, decode_client_frame,
    encode_server_frame,
};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Serves on `listen` until `stop`, with the heartbeat interval it announces.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    heartbeat_interval_secs: u32,
    stop: CancellationToken,
) {
    let acceptor = TlsAcceptor::from(tls);
    let tasks = TaskTracker::new();
    loop {
        let (tcp, _) = tokio::select! {
            a = listener.accept() => match a {
                Ok(pair) => pair,
                Err(_) => continue,
            },
            () = stop.cancelled() => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let stop = stop.clone();
        tasks.spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let config = WebSocketConfig::default()
                .max_message_size(Some(MAX_FRAME_BYTES))
                .max_frame_size(Some(MAX_FRAME_BYTES));
            let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(tls, Some(config)).await
            else {
                return;
            };
            loop {
                let msg = tokio::select! {
                    m = ws.next() => m,
                    () = stop.cancelled() => {
                        let _ = ws.close(None).await;
                        return;
                    }
                };
                let Some(Ok(Message::Text(text))) = msg else {
                    match msg {
                        Some(Ok(_)) => continue,
                        _ => return,
                    }
                };
                let reply = match decode_client_frame(&text) {
                    Ok(ClientFrame::Hello(_)) => ServerFrame::Welcome(Welcome {
                        version: 1,
                        cluster_id: "peer".into(),
                        cluster_name: "peer".into(),
                        heartbeat_interval_secs,
                        status_interval_secs: 60,
                    }),
                    Ok(ClientFrame::Heartbeat(h)) => {
                        ServerFrame::HeartbeatAck(HeartbeatAck { seq: h.seq })
                    }
                    _ => continue,
                };
                let text = encode_server_frame(&reply).expect("a small frame encodes");
                if ws.send(Message::text(text)).await.is_err() {
                    return;
                }
            }
        });
    }
    tasks.close();
    tasks.wait().await;
}

/// A rustls server configuration (ring) for `chain` and `key`.
pub fn server_config(
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("default protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("the certificate and key fit");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// The address line the peer prints once it listens.
pub fn listening_line(addr: SocketAddr) -> String {
    format!("peer listening addr={addr}")
}
