//! `lapdev demo`: Lapdev with embedded defaults and no setup. It runs the
//! real server on SQLite in a persistent demo directory, prints where to go
//! and how to sign in, and stops on Ctrl-C.
//!
//! Being a demo, it keeps the generated admin password in a 0600 file in its
//! directory, so every start can print it again. Later it will also run a
//! simulated cluster; that belongs here, not in `lapdev server`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::cli::DemoArgs;
use crate::config_file::{create_private_dir, write_private};

/// The demo admin's credentials, as kept in the demo directory.
#[derive(Serialize, Deserialize)]
struct DemoAdmin {
    username: String,
    password: String,
}

const ADMIN_FILE: &str = "demo-admin.json";

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
    }

    let url = browsable_url(server.local_addr());
    let mut banner = format!(
        "Lapdev demo is running (data in {}).\n\n  Dashboard: {url}\n",
        data_dir.display()
    );
    if known {
        banner.push_str(&format!(
            "  Username:  {}\n  Password:  {}\n\n\
             CLI: lapdev login --server {url} --username {}\n",
            admin.username, admin.password, admin.username
        ));
    } else {
        banner.push_str(&format!(
            "\nThe admin password of this demo is not known ({} is missing).\n\
             Stop the demo and delete {} to start afresh.\n",
            admin_file.display(),
            data_dir.display()
        ));
    }
    banner.push_str("\nPress Ctrl-C to stop.\n");
    crate::commands::print(&banner)?;

    // Returns after SIGINT or SIGTERM, once the server has shut down gracefully.
    server.wait_for_shutdown_signal().await;
    Ok(())
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
