//! `lapdev env ...` through the binary. Without a cluster: Secret values
//! never show in usage errors. With one: `lapdev demo` (the real server,
//! kube-sim with the sample shop and a kube-manager connected through the
//! real TLS tunnel, in one process) serves a catalog of the shop, and an
//! environment goes through its whole life — create `--wait` (with a value
//! for a redacted Secret key from a file), list, pause and `status --watch`,
//! resume, delete `--wait` — each waited for through the long poll.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use lapdev_api::{
    Cluster, ClusterStatus, Environment, EnvironmentKind, EnvironmentStatus, EnvironmentSummary,
    Page, ReplicasPolicy,
};

use crate::CliUser;

/// How long one event (the demo starting, the cluster connecting) may take
/// before the test fails; never an assertion about timing.
const PATIENCE: Duration = Duration::from_secs(120);

/// The value given for the redacted key `api-keys/STRIPE_KEY`.
const STRIPE_VALUE: &str = "sk_live_env_test_value";

#[test]
fn secret_values_never_show_in_usage_errors() {
    let user = CliUser::new("http://127.0.0.1:9");
    let base = [
        "env",
        "create",
        "mine",
        "--catalog",
        "shop",
        "--cluster",
        "dev",
        "--server",
        "http://127.0.0.1:9",
        "--token",
        "lpd_x",
    ];
    for bad in ["hunter2", "db=hunter2", "db/a/b=hunter2"] {
        let mut args = base.to_vec();
        args.extend(["--secret", bad]);
        let (code, stderr) = user.cmd(&args).fails();
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("SECRET/KEY"), "{stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
    }
    let mut args = base.to_vec();
    args.extend(["--replicas", "lots"]);
    let (code, stderr) = user.cmd(&args).fails();
    assert_eq!(code, 2);
    assert!(stderr.contains("`keep` or a number"), "{stderr}");
    let (code, stderr) = user
        .cmd(&["env", "status", "mine", "--timeout", "5m"])
        .fails();
    assert_eq!(code, 2);
    assert!(stderr.contains("--watch"), "{stderr}");
}

/// `lapdev demo` on a free port, in a temp directory; interrupted on drop.
struct Demo {
    child: Child,
    url: String,
    password: String,
    _dir: tempfile::TempDir,
}

impl Demo {
    fn start() -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_lapdev"))
            .arg("demo")
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("lapdev demo runs");
        // Both pipes are drained until the demo exits, so it never blocks
        // on a full pipe; stdout lines come here for the banner.
        let (lines, banner) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("demo: {line}");
            }
        });
        let value = |line: &str| {
            line.split_whitespace()
                .last()
                .unwrap_or_default()
                .to_owned()
        };
        let (mut url, mut password) = (String::new(), String::new());
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = banner
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("the demo printed no banner: {e}"));
            if line.contains("Dashboard: ") {
                url = value(&line);
            } else if line.contains("Password: ") {
                password = value(&line);
            } else if line.contains("Press Ctrl-C to stop.") {
                break;
            }
        }
        assert!(url.starts_with("http://") && !password.is_empty(), "{url}");
        Demo {
            child,
            url,
            password,
            _dir: dir,
        }
    }

    /// The demo admin, logged in.
    fn admin(&self) -> CliUser {
        let admin = CliUser::new(&self.url);
        admin.login("admin", &self.password);
        admin
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        // Ctrl-C (a clean stop), then reap it.
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Waits until cluster `demo`'s kube-manager is connected. The cluster's
/// status has no long poll, so this asks again every 100 ms.
fn wait_until_active(admin: &CliUser) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let cluster: Cluster = admin.cmd(&["cluster", "show", "demo"]).json();
        if cluster.status == ClusterStatus::Active {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "cluster demo is not active: {cluster:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn an_environment_from_create_to_delete() {
    let demo = Demo::start();
    let admin = demo.admin();
    wait_until_active(&admin);
    admin
        .cmd(&[
            "catalog",
            "create",
            "shop",
            "--cluster",
            "demo",
            "--workload",
            "shop/Deployment/api",
            "--workload",
            "shop/Deployment/web",
            "--redact",
            "api-keys/STRIPE_KEY",
        ])
        .ok();

    // Nothing yet; a missing value is refused without creating anything.
    let list: Page<EnvironmentSummary> = admin.cmd(&["env", "list"]).json();
    assert!(list.items.is_empty());
    let (code, stderr) = admin
        .cmd(&[
            "env",
            "create",
            "mine",
            "--catalog",
            "shop",
            "--cluster",
            "demo",
        ])
        .fails();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("STRIPE_KEY"), "{stderr}");
    let (_, stderr) = admin.cmd(&["env", "show", "mine"]).fails();
    assert!(stderr.contains("not found"), "{stderr}");

    let values = tempfile::tempdir().unwrap();
    let stripe = values.path().join("stripe");
    std::fs::write(&stripe, format!("{STRIPE_VALUE}\n")).unwrap();
    let secret_file = format!("api-keys/STRIPE_KEY={}", stripe.display());
    let created: Environment = admin
        .cmd(&[
            "env",
            "create",
            "mine",
            "--catalog",
            "shop",
            "--cluster",
            "demo",
            "--secret-file",
            &secret_file,
            "--wait",
            "--timeout",
            "2m",
        ])
        .json();
    assert_eq!(
        created.summary.status,
        EnvironmentStatus::Running,
        "{created:?}"
    );
    assert_eq!(created.summary.kind, EnvironmentKind::Personal);
    assert_eq!(created.replicas, ReplicasPolicy::AtMost(1));
    assert_eq!(created.workloads.len(), 2, "{created:?}");
    assert!(created.workloads.iter().all(|w| w.ready == w.desired));
    assert!(
        !serde_json::to_string(&created)
            .unwrap()
            .contains(STRIPE_VALUE)
    );

    let list: Page<EnvironmentSummary> = admin.cmd(&["env", "list", "--kind", "personal"]).json();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].name.as_str(), "mine");
    let list: Page<EnvironmentSummary> = admin.cmd(&["env", "list", "--kind", "shared"]).json();
    assert!(list.items.is_empty());
    let table = admin.cmd(&["env", "list"]).ok();
    assert!(table.starts_with("NAME "), "{table}");
    assert!(
        table.contains("mine") && table.contains("running") && table.contains("admin"),
        "{table}"
    );
    let details = admin.cmd(&["env", "show", "mine"]).ok();
    assert!(details.contains("Workloads (2):"), "{details}");
    assert!(details.contains("Events (latest"), "{details}");
    assert!(!details.contains(STRIPE_VALUE), "{details}");

    // Pause, then watch it settle: one line per change, the last one paused.
    let paused: Environment = admin.cmd(&["env", "pause", "mine"]).json();
    assert!(
        matches!(
            paused.summary.status,
            EnvironmentStatus::Pausing | EnvironmentStatus::Paused
        ),
        "{paused:?}"
    );
    let watched = admin
        .cmd(&["env", "status", "mine", "--watch", "--timeout", "2m"])
        .ok();
    let last = watched.lines().last().unwrap_or_default();
    assert!(last.contains("paused"), "{watched}");
    let status = admin.cmd(&["env", "status", "mine"]).ok();
    assert!(status.starts_with("mine: paused"), "{status}");

    // Resume, watched as JSON lines: every line an Environment.
    admin.cmd(&["env", "resume", "mine"]).ok();
    let watched = admin
        .cmd(&["env", "status", "mine", "--watch", "-o", "json"])
        .ok();
    let states: Vec<Environment> = watched
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let last = states.last().expect("at least one state");
    assert_eq!(last.summary.status, EnvironmentStatus::Running, "{watched}");

    // Delete and wait until it is gone.
    let out = admin
        .cmd(&["env", "delete", "mine", "--wait", "--timeout", "2m"])
        .output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("Environment mine is gone."), "{stderr}");
    let (code, stderr) = admin.cmd(&["env", "status", "mine"]).fails();
    assert_eq!(code, 1);
    assert!(stderr.contains("not found"), "{stderr}");
    let list: Page<EnvironmentSummary> = admin.cmd(&["env", "list"]).json();
    assert!(list.items.is_empty(), "{list:?}");
}
