//! `lapdev demo`: Lapdev with embedded defaults and no setup, in one
//! command. It runs the real server on SQLite in a persistent demo
//! directory, a simulated Kubernetes cluster (kube-sim, seeded with a sample
//! production app) and a kube-manager connected to the server through the
//! real path (cluster token, TLS WebSocket), so the newcomer finds an Active
//! cluster `demo` in the dashboard and in `lapdev cluster list`. It prints
//! where to go and how to sign in, and stops all three on Ctrl-C.
//!
//! Being a demo, it keeps the generated admin password and the cluster
//! token in 0600 files in its directory, so every start can reuse them.
//! The pieces: [`tls`] (the demo CA and the HTTPS listener of the tunnel),
//! [`cluster`] (cluster `demo` through the API), [`simulated`] (kube-sim and
//! kube-manager in process).

mod cluster;
mod simulated;
mod tls;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cli::DemoArgs;
use crate::config_file::{create_private_dir, write_private};

/// The demo admin's credentials, as kept in the demo directory.
#[derive(Serialize, Deserialize)]
struct DemoAdmin {
    username: String,
    password: String,
}

const ADMIN_FILE: &str = "demo-admin.json";
/// The token of cluster `demo` (what the Secret would hold in a real cluster).
const CLUSTER_TOKEN_FILE: &str = "demo-cluster.token";
/// The kubeconfig of the simulated cluster, rewritten on every start.
const KUBECONFIG_FILE: &str = "kube-sim.kubeconfig";
/// The demo CA and server certificate.
const TLS_DIR: &str = "tls";

pub(crate) async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let data_dir = match args.data_dir {
        Some(dir) => dir,
        None => default_data_dir()?,
    };
    create_private_dir(&data_dir)
        .with_context(|| format!("cannot create the demo directory {}", data_dir.display()))?;

    // The password is chosen and saved before the server starts, so it is
    // known even if this start fails after creating the admin.
    let admin_file = data_dir.join(ADMIN_FILE);
    let (admin, fresh) = match load_admin(&admin_file) {
        Some(admin) => (admin, false),
        None => {
            let admin = DemoAdmin {
                username: "admin".into(),
                password: generate_password(),
            };
            save_admin(&admin_file, &admin)?;
            (admin, true)
        }
    };
    let demo_tls = tls::DemoTls::load_or_generate(&data_dir.join(TLS_DIR))?;

    let mut config = lapdev_server::ServerConfig::for_data_dir(&data_dir);
    config.listen = args.listen;
    config.admin_username = admin.username.clone();
    config.admin_password = Some(admin.password.clone());
    lapdev_server::init_tracing(config.log_format);
    let server = lapdev_server::start(config).await.with_context(|| {
        format!(
            "cannot start the demo on {} (pick another address with --listen)",
            args.listen
        )
    })?;

    // A new password file next to an existing database does not match its admin.
    let known = !fresh || server.initial_admin().is_some();
    if !known {
        let _ = std::fs::remove_file(&admin_file);
        let url = browsable_url(server.local_addr());
        crate::commands::print(&format!(
            "Lapdev demo is running (data in {}).\n\n  Dashboard: {url}\n\n\
             The admin password of this demo is not known ({} is missing).\n\
             Stop the demo and delete {} to start afresh.\n\nPress Ctrl-C to stop.\n",
            data_dir.display(),
            admin_file.display(),
            data_dir.display()
        ))?;
        wait_for_signal().await;
        server.shutdown().await;
        return Ok(());
    }

    // The tunnel's TLS listener: the same application, over HTTPS.
    let tunnel_tasks = TaskTracker::new();
    let tunnel_stop = CancellationToken::new();
    let started = start_cluster(
        &server,
        &demo_tls,
        &admin,
        &data_dir,
        &tunnel_tasks,
        tunnel_stop.clone(),
    )
    .await;
    let (sim, tunnel_addr) = match started {
        Ok(x) => x,
        Err(e) => {
            tunnel_stop.cancel();
            server.shutdown().await;
            return Err(e);
        }
    };

    let url = browsable_url(server.local_addr());
    let kubeconfig = sim.kubeconfig().display().to_string();
    let banner = format!(
        "Lapdev demo is running (data in {data}).\n\n\
         \x20 Dashboard: {url}\n\
         \x20 Username:  {user}\n\
         \x20 Password:  {password}\n\n\
         A simulated Kubernetes cluster, \"{cluster}\", runs the sample production app\n\
         (namespaces shop and billing). Its lapdev-kube-manager is connected to the\n\
         server over a TLS WebSocket (wss://{tunnel_addr}, verified against the demo\n\
         CA {ca}); the cluster shows as Active on the Clusters page.\n\n\
         \x20 kubectl --kubeconfig {kubeconfig} get pods -A\n\n\
         Next steps:\n\n\
         \x20 lapdev login --server {url} --username {user}\n\
         \x20 lapdev cluster list\n\
         \x20 lapdev cluster show {cluster}\n\
\n\
         Then follow the README's walkthrough: an App Catalog of the shop app, and a\n\
         personal environment from it that becomes Running in the simulated cluster.\n\n\
         Press Ctrl-C to stop.\n",
        data = data_dir.display(),
        user = admin.username,
        password = admin.password,
        cluster = cluster::CLUSTER_NAME,
        ca = demo_tls.ca.display(),
    );
    crate::commands::print(&banner)?;

    wait_for_signal().await;
    tracing::info!("shutting down");
    // kube-manager first (its tunnel closes), then the server, then kube-sim.
    sim.shutdown().await;
    tunnel_stop.cancel();
    tunnel_tasks.close();
    tunnel_tasks.wait().await;
    server.shutdown().await;
    Ok(())
}

/// Serves the tunnel over TLS, makes sure cluster `demo` and its token
/// exist, and starts the simulated cluster with its kube-manager.
async fn start_cluster(
    server: &lapdev_server::RunningServer,
    demo_tls: &tls::DemoTls,
    admin: &DemoAdmin,
    data_dir: &Path,
    tunnel_tasks: &TaskTracker,
    tunnel_stop: CancellationToken,
) -> anyhow::Result<(simulated::SimulatedCluster, SocketAddr)> {
    let app = lapdev_server::router(server.state().clone());
    let tunnel_addr = tls::serve_https(demo_tls, app, tunnel_tasks, tunnel_stop).await?;
    let api: crate::client::ServerUrl = browsable_url(server.local_addr())
        .parse()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let token_file = data_dir.join(CLUSTER_TOKEN_FILE);
    cluster::ensure(&api, &admin.username, &admin.password, &token_file).await?;
    let sim = simulated::SimulatedCluster::start(
        &data_dir.join(KUBECONFIG_FILE),
        &format!("https://{tunnel_addr}"),
        &token_file,
        &demo_tls.ca,
    )
    .await?;
    Ok((sim, tunnel_addr))
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn wait_for_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// The URL to open: a wildcard listen address (`0.0.0.0`, `::`) is not one
/// a browser can go to, the loopback address is.
fn browsable_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

fn default_data_dir() -> anyhow::Result<PathBuf> {
    Ok(dirs::data_dir()
        .context("no data directory on this system: pass --data-dir")?
        .join("lapdev")
        .join("demo"))
}

/// 24 letters and digits from the OS random number generator (about 140 bits).
fn generate_password() -> String {
    use rand::TryRng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut bytes = [0u8; 24];
    rand::rngs::SysRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system's random number generator failed");
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

fn save_admin(path: &Path, admin: &DemoAdmin) -> anyhow::Result<()> {
    let text = serde_json::to_vec_pretty(admin).expect("demo admin serializes");
    // An unreadable leftover is replaced.
    let _ = std::fs::remove_file(path);
    write_private(path, &text).with_context(|| format!("cannot write {}", path.display()))
}

fn load_admin(path: &Path) -> Option<DemoAdmin> {
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_addresses_become_loopback_urls() {
        let url = |s: &str| browsable_url(s.parse().unwrap());
        assert_eq!(url("0.0.0.0:8080"), "http://127.0.0.1:8080");
        assert_eq!(url("[::]:8080"), "http://[::1]:8080");
        assert_eq!(url("192.168.1.5:80"), "http://192.168.1.5:80");
    }

    #[test]
    fn generated_passwords_are_long_and_plain() {
        let a = generate_password();
        assert_eq!(a.len(), 24);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, generate_password());
    }
}
