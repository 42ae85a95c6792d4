//! WebDriver helpers shared by the browser tests of `lapdev-server` and
//! `lapdev-e2e` (which includes this file by path): a chromedriver process,
//! a headless Chromium session, waiting for elements (never sleeping) and
//! screenshots saved as test artifacts.
//!
//! Needs Chromium and ChromeDriver (`.ci/test-env` installs both):
//! `LAPDEV_TEST_CHROMEDRIVER` (default `chromedriver`) and
//! `LAPDEV_TEST_CHROMIUM` (default `/usr/bin/chromium`). Screenshots go to
//! `$LAPDEV_TEST_ARTIFACTS` or `target/test-artifacts/`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// How long chromedriver may take to say it is listening.
const DRIVER_START: Duration = Duration::from_secs(30);
/// How long any one element may take to appear.
const ELEMENT_WAIT: Duration = Duration::from_secs(20);

/// A chromedriver process, killed on drop.
pub(crate) struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    pub(crate) fn start() -> ChromeDriver {
        let program =
            std::env::var("LAPDEV_TEST_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        // A free port: bound, read and released; chromedriver binds it next.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let mut child = Command::new(&program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run chromedriver ({program}): {e}. Run `.ci/test-env` (it installs \
                     Chromium and ChromeDriver) or set LAPDEV_TEST_CHROMEDRIVER"
                )
            });
        // Wait for its "started successfully" line; then keep draining its
        // output so it never blocks on a full pipe.
        let stdout = child.stdout.take().expect("piped stdout");
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut ready = Some(ready_tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains("started successfully")
                    && let Some(tx) = ready.take()
                {
                    let _ = tx.send(());
                }
            }
        });
        let mut driver = ChromeDriver { child, port };
        if ready_rx.recv_timeout(DRIVER_START).is_err() {
            let status = driver.child.try_wait().ok().flatten();
            panic!("chromedriver did not start within {DRIVER_START:?} (exit status: {status:?})");
        }
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromium() -> String {
    let path = std::env::var("LAPDEV_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&path).exists(),
        "Chromium not found at {path}. Run `.ci/test-env` (it installs Chromium and \
         ChromeDriver) or set LAPDEV_TEST_CHROMIUM"
    );
    path
}

pub(crate) async fn browser(driver: &ChromeDriver, profile: &tempfile::TempDir) -> Client {
    let args = [
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--window-size=1360,900".into(),
        format!("--user-data-dir={}", profile.path().display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": chromium(), "args": args }),
    );
    // The E2E server serves TLS with a CA made for the test run, which
    // Chromium cannot be told to trust; loopback only.
    caps.insert("acceptInsecureCerts".into(), json!(true));
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url())
        .await
        .expect("a WebDriver session with Chromium")
}

fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("LAPDEV_TEST_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts")
        });
    std::fs::create_dir_all(&dir).expect("the artifacts directory");
    dir
}

pub(crate) async fn screenshot(c: &Client, name: &str) -> PathBuf {
    let png = c.screenshot().await.expect("a screenshot");
    let path = artifacts_dir().join(name);
    std::fs::write(&path, png).expect("the screenshot saved");
    path
}

pub(crate) async fn wait_for(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(ELEMENT_WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
}

pub(crate) async fn text_of(c: &Client, css: &str) -> String {
    wait_for(c, css).await.text().await.expect("element text")
}
