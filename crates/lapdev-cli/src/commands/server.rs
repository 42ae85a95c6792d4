//! `lapdev server`: runs the control plane until SIGINT or SIGTERM.

use anyhow::Context;

use super::print;
use crate::cli::ServerArgs;

pub(super) async fn run(args: ServerArgs) -> anyhow::Result<()> {
    let config = args.config;
    lapdev_server::init_tracing(config.log_format);
    let server = lapdev_server::start(config)
        .await
        .context("cannot start the Lapdev server")?;

    let mut banner = format!("Lapdev server listening on {}\n", server.url());
    if let Some(admin) = server.initial_admin() {
        // Shown this once: the server keeps only a hash.
        banner.push_str(&format!(
            "First start: created organization {} and its admin.\n  username: {}\n  password: {}\n\
             Sign in and change the password (`lapdev change-password`); it is not shown again.\n",
            admin.organization, admin.username, admin.password
        ));
    }
    print(&banner)?;

    // Returns after SIGINT or SIGTERM, once the server has shut down gracefully.
    server.wait_for_shutdown_signal().await;
    Ok(())
}
