//! Resident memory and CPU time of a process, from `/proc` (Linux), for the
//! benchmarks.

use std::sync::OnceLock;
use std::time::Duration;

/// Resident set size in bytes (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/status: {e}"));
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS in /proc/<pid>/status");
    kib * 1024
}

/// User plus system CPU time so far (`utime + stime` of `/proc/<pid>/stat`).
pub fn cpu_time(pid: u32) -> Duration {
    stat_time(&pid.to_string(), 11)
}

/// CPU time of this process's reaped children so far (`cutime + cstime`
/// of `/proc/self/stat`).
pub fn reaped_children_cpu_time() -> Duration {
    stat_time("self", 13)
}

/// Fields `first` and `first + 1` after the parenthesised command name of
/// `/proc/<pid>/stat` (utime and stime are the 14th and 15th fields of the
/// line, the 12th and 13th after ')'), as a time.
fn stat_time(pid: &str, first: usize) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/stat: {e}"));
    let rest = &stat[stat.rfind(')').expect("a stat line") + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[first].parse::<u64>().expect("a CPU time")
        + fields[first + 1].parse::<u64>().expect("a CPU time");
    Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second() as f64)
}

/// `getconf CLK_TCK` (100 on Linux in practice), asked once per process:
/// getconf is a child, whose CPU would land in the reaped children's time.
pub fn clock_ticks_per_second() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}

/// The soft limit on open files of this process (`ulimit -n`).
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}
