//! Cluster tokens end to end: a wrong or revoked token is refused before
//! the upgrade, kube-manager says so clearly and backs off for longer; a
//! rotated token is picked up from the token file (as from a mounted Secret
//! the kubelet updates) and retires the previous one.

use lapdev_api::ClusterStatus;
use lapdev_e2e::kube_manager::{
    CONNECTED, KubeManager, RECONNECT_BASE_MS, RECONNECTING, TOKEN_REFUSED, delay_ms, write_token,
};
use lapdev_e2e::proxy::TcpProxy;
use lapdev_e2e::wait::within;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::World;

/// kube-manager's factor for the backoff after a refused token.
const AUTH_BACKOFF_FACTOR: u64 = 30;

/// The log shows the refusal, then a long backoff; the token never appears.
async fn assert_refused_with_long_backoff(km: &KubeManager, from: usize, token: &str) {
    let log = &km.proc().log;
    let (at, line) = log.wait_for_text(from, TOKEN_REFUSED).await;
    assert!(line.contains("ERROR"), "{line}");
    let (_, line) = log.wait_for_text(at, RECONNECTING).await;
    assert!(
        delay_ms(&line) >= RECONNECT_BASE_MS * AUTH_BACKOFF_FACTOR / 2,
        "the backoff after a refused token is long (jitter at most halves it): {line}"
    );
    assert!(
        !log.lines().iter().any(|l| l.contains(token)),
        "the token never appears in the log"
    );
}

/// The HTTP status of a tunnel upgrade attempt with `token`.
async fn upgrade_status(w: &World, token: &str) -> u16 {
    let url = format!(
        "wss://{}{}",
        w.server.addr(),
        lapdev_tunnel_proto::TUNNEL_PATH
    );
    let mut request = url.into_client_request().expect("a request");
    request.headers_mut().insert(
        http::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("a header value"),
    );
    let connector = tokio_tungstenite::Connector::Rustls(w.server.client_tls());
    let attempt =
        tokio_tungstenite::connect_async_tls_with_config(request, None, false, Some(connector));
    match within("a tunnel upgrade", attempt).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("the upgrade failed without an HTTP answer: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_refused() {
    let w = World::start().await;
    let c = w.connect("prod", None).await;
    // A second kube-manager with a token the server never issued.
    let wrong = "lapdev_cluster_0000000000000000000000000000000000000000";
    let setup = w.setup("wrong", &c.sim, &w.server.url());
    let km = KubeManager::start("kube-manager wrong", &setup, wrong);
    assert_refused_with_long_backoff(&km, 0, wrong).await;
    let cluster = w.api.cluster("prod").await;
    assert_ne!(cluster.status, ClusterStatus::Offline, "{cluster:?}");
    assert_eq!(upgrade_status(&w, wrong).await, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_closes_the_tunnel_and_is_refused() {
    let w = World::start().await;
    let c = w.connect("prod", None).await;
    let (at, _) = c.km.proc().log.wait_for_text(0, CONNECTED).await;
    w.api
        .wait_for_status("prod", ClusterStatus::Active, |_| true)
        .await;

    w.api.revoke_token("prod").await;
    assert_refused_with_long_backoff(&c.km, at, &c.creds.token).await;
    let cluster = w
        .api
        .wait_for_status("prod", ClusterStatus::Offline, |_| true)
        .await;
    assert_eq!(cluster.token_prefix, None, "{cluster:?}");
    assert_eq!(upgrade_status(&w, &c.creds.token).await, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_token_is_read_from_the_file_and_retires_the_old_one() {
    let w = World::start().await;
    // Through a proxy, so the test can make kube-manager reconnect.
    let proxy = TcpProxy::start(w.server.addr()).await;
    let c = w
        .connect("prod", Some(&format!("https://{}", proxy.addr())))
        .await;
    let log = c.km.proc().log.clone();
    let (at, _) = log.wait_for_text(0, CONNECTED).await;
    w.api
        .wait_for_status("prod", ClusterStatus::Active, |_| true)
        .await;

    let rotated = w.api.rotate_token("prod").await;
    assert!(rotated.previous_token_retires_at.is_some());
    write_token(&c.setup.token_file, &rotated.token);
    proxy.cut();
    log.wait_for_text(at + 1, CONNECTED).await;
    let new_prefix = rotated.cluster.token_prefix.clone();
    w.api
        .wait_for_status("prod", ClusterStatus::Active, |c| {
            c.token_prefix == new_prefix
        })
        .await;
    // Connecting with the new token retired the previous one.
    lapdev_e2e::wait::poll_until("the previous token to be refused", || async {
        match upgrade_status(&w, &c.creds.token).await {
            401 => Ok(()),
            s => Err(format!("HTTP {s}")),
        }
    })
    .await;
    assert_eq!(log.count(lapdev_e2e::kube_manager::TOKEN_REFUSED), 0);
}
