//! A child process with captured output: every stdout and stderr line is
//! kept (and echoed to the test's stderr, which the test runner shows on
//! failure), and a test can await a line matching a predicate.

use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;

use crate::wait::{PATIENCE, within};

/// The lines a process wrote, in order (stdout and stderr interleaved as
/// read), shared with the tasks that read them.
#[derive(Clone)]
pub struct Log {
    lines: Arc<Mutex<Vec<String>>>,
    /// Bumped on every line; `closed` once both streams ended.
    changed: Arc<watch::Sender<(usize, bool)>>,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log").field("lines", &self.len()).finish()
    }
}

impl Log {
    fn new() -> Self {
        Log {
            lines: Arc::default(),
            changed: Arc::new(watch::channel((0, false)).0),
        }
    }

    pub fn len(&self) -> usize {
        self.lines.lock().expect("log lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("log lock").clone()
    }

    /// How many lines so far contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.lines
            .lock()
            .expect("log lock")
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    fn push(&self, line: String) {
        let mut lines = self.lines.lock().expect("log lock");
        lines.push(line);
        let n = lines.len();
        drop(lines);
        self.changed.send_modify(|(count, _)| *count = n);
    }

    fn close_one(&self, open_streams: &Arc<std::sync::atomic::AtomicUsize>) {
        if open_streams.fetch_sub(1, std::sync::atomic::Ordering::AcqRel) == 1 {
            self.changed.send_modify(|(_, closed)| *closed = true);
        }
    }

    /// Awaits the first line at index `from` or later that `matches`;
    /// returns its index and text. Fails after [`PATIENCE`], or at once
    /// when the process closed its output, with the last lines.
    pub async fn wait_for_from(
        &self,
        from: usize,
        what: &str,
        matches: impl Fn(&str) -> bool,
    ) -> (usize, String) {
        let mut rx = self.changed.subscribe();
        let found = tokio::time::timeout(PATIENCE, async {
            loop {
                let closed = rx.borrow_and_update().1;
                {
                    let lines = self.lines.lock().expect("log lock");
                    if let Some((i, l)) = lines
                        .iter()
                        .enumerate()
                        .skip(from)
                        .find(|(_, l)| matches(l))
                    {
                        return Some((i, l.clone()));
                    }
                }
                if closed || rx.changed().await.is_err() {
                    return None;
                }
            }
        })
        .await;
        match found {
            Ok(Some(hit)) => hit,
            Ok(None) => panic!(
                "the process ended its output without a line {what}; last lines:\n{}",
                self.tail(40)
            ),
            Err(_) => panic!(
                "timed out after {PATIENCE:?} waiting for a line {what}; last lines:\n{}",
                self.tail(40)
            ),
        }
    }

    /// Awaits a line containing `needle` at index `from` or later.
    pub async fn wait_for_text(&self, from: usize, needle: &str) -> (usize, String) {
        self.wait_for_from(from, &format!("containing {needle:?}"), |l| {
            l.contains(needle)
        })
        .await
    }

    /// The last `n` lines, for failure messages.
    pub fn tail(&self, n: usize) -> String {
        let lines = self.lines.lock().expect("log lock");
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

/// A running child process, killed when dropped.
pub struct Proc {
    name: String,
    child: Child,
    pid: u32,
    pub log: Log,
}

impl std::fmt::Debug for Proc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proc")
            .field("name", &self.name)
            .field("pid", &self.pid)
            .finish()
    }
}

impl Proc {
    /// Spawns `command` with piped output (and null stdin).
    pub fn spawn(name: &str, mut command: Command) -> Proc {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .env("NO_COLOR", "1");
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let pid = child.id().expect("a running child has a pid");
        let log = Log::new();
        let open = Arc::new(std::sync::atomic::AtomicUsize::new(2));
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        for stream in [
            Box::new(stdout) as Box<dyn AsyncRead + Send + Unpin>,
            Box::new(stderr),
        ] {
            let log = log.clone();
            let open = open.clone();
            let name = name.to_string();
            // Ends by itself at EOF, when the process exits.
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    eprintln!("[{name}] {line}");
                    log.push(line);
                }
                log.close_one(&open);
            });
        }
        Proc {
            name: name.to_string(),
            child,
            pid,
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends a signal with `kill(1)` (`INT`, `TERM`, `KILL`, `STOP`, ...).
    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid.to_string())
            .status()
            .expect("run kill(1)");
        assert!(
            status.success(),
            "kill -{signal} {} ({}) failed",
            self.pid,
            self.name
        );
    }

    /// SIGKILL, then reaps the process.
    pub async fn kill(&mut self) -> ExitStatus {
        let _ = self.child.start_kill();
        self.wait().await
    }

    /// Awaits the exit (bounded by [`PATIENCE`]).
    pub async fn wait(&mut self) -> ExitStatus {
        let name = self.name.clone();
        within(&format!("{name} to exit"), self.child.wait())
            .await
            .unwrap_or_else(|e| panic!("waiting for {name}: {e}"))
    }

    /// SIGINT (Ctrl-C), then awaits the exit.
    pub async fn interrupt(&mut self) -> ExitStatus {
        self.signal("INT");
        self.wait().await
    }
}
