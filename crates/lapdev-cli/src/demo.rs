//! `lapdev demo`: Lapdev with embedded defaults and no setup. It runs the
//! real server on SQLite in a persistent demo directory, prints where to go
//! and how to sign in, and stops on Ctrl-C.
//!
//! Being a demo, it keeps the generated admin password in a 0600 file in its
//! directory, so every start can print it again. Later it will also run a
//! simulated cluster; that belongs here, not in `lapdev server`.

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
    organization: String,
}

const ADMIN_FILE: &str = "demo-admin.json";

pub(crate) async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let data_dir = match args.data_dir {
        Some(dir) => dir,
        None => default_data_dir()?,
    };
    create_private_dir(&data_dir)
        .with_context(|| format!("cannot create the demo directory {}", data_dir.display()))?;

    let mut config = lapdev_server::ServerConfig::for_data_dir(&data_dir);
    config.listen = args.listen;
    lapdev_server::init_tracing(config.log_format);
    let server = lapdev_server::start(config)
        .await
        .with_context(|| format!("cannot start the demo server on {}", args.listen))?;

    let admin_file = data_dir.join(ADMIN_FILE);
    let admin = match server.initial_admin() {
        Some(admin) => {
            let admin = DemoAdmin {
                username: admin.username.to_string(),
                password: admin.password.to_string(),
                organization: admin.organization.to_string(),
            };
            save_admin(&admin_file, &admin)?;
            Some(admin)
        }
        None => load_admin(&admin_file),
    };

    let url = server.url();
    let mut banner = format!(
        "Lapdev demo is running (data in {}).\n\n  Dashboard: {url}\n",
        data_dir.display()
    );
    match &admin {
        Some(admin) => banner.push_str(&format!(
            "  Username:  {}\n  Password:  {}\n  Organization: {}\n\n\
             CLI: lapdev login --server {url} --username {}\n",
            admin.username, admin.password, admin.organization, admin.username
        )),
        None => banner.push_str(&format!(
            "\nThe admin password is no longer known here ({} is missing).\n\
             Delete {} to start the demo afresh.\n",
            admin_file.display(),
            data_dir.display()
        )),
    }
    banner.push_str("\nPress Ctrl-C to stop.\n");
    crate::commands::print(&banner)?;

    // Returns after SIGINT or SIGTERM, once the server has shut down gracefully.
    server.wait_for_shutdown_signal().await;
    Ok(())
}

fn default_data_dir() -> anyhow::Result<PathBuf> {
    Ok(dirs::data_dir()
        .context("no data directory on this system: pass --data-dir")?
        .join("lapdev")
        .join("demo"))
}

fn save_admin(path: &Path, admin: &DemoAdmin) -> anyhow::Result<()> {
    let text = serde_json::to_vec_pretty(admin).expect("demo admin serializes");
    let _ = std::fs::remove_file(path);
    write_private(path, &text).with_context(|| format!("cannot write {}", path.display()))
}

fn load_admin(path: &Path) -> Option<DemoAdmin> {
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}
