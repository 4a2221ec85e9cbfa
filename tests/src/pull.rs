//! Running `mdm-audit pull` in the pull tests (tests/tests/pull_*.rs) against the emulators: the
//! command line every run starts from, its credentials, the run off the async runtime, its stderr and
//! summary, waiting for a progress line, the check that every event is stored once, runs killed
//! mid-way, and the counters of a `--every` process.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::query::{event_uid_counts, open_store};

/// `mdm-audit pull VENDOR --store STORE`, events from 2026-03-01 on, short retry delays, writer id
/// `puller`, the store and writer id variables removed, stdin closed; `extra` follows.
pub fn pull_command(vendor: &str, store: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(crate::cli_binary());
    cmd.args(["pull", vendor, "--store"])
        .arg(store)
        .args([
            "--since",
            "2026-03-01T00:00:00Z",
            "--retry-delay",
            "20ms",
            "--writer-id",
            "puller",
        ])
        .args(extra)
        .env_remove("MDM_AUDIT_STORE")
        .env_remove("MDM_AUDIT_WRITER_ID")
        .stdin(Stdio::null());
    cmd
}

/// Sets each credential variable of `credentials` on `cmd` and removes its `_FILE` variant (so the
/// test's own environment cannot change what the run reads).
pub fn set_credentials(cmd: &mut Command, credentials: Vec<(&'static str, String)>) {
    for (k, v) in credentials {
        cmd.env(k, v).env_remove(format!("{k}_FILE"));
    }
}

/// Runs a `mdm-audit pull` command to its end off the async runtime (the emulator keeps serving).
pub async fn run_pull(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("run mdm-audit pull"))
        .await
        .expect("join")
}

/// A command's stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts every event_uid of the store at `store` is stored exactly once; returns them.
pub async fn stored_once(store: &Path) -> BTreeSet<String> {
    let (ctx, _) = open_store(store).await;
    let counts = event_uid_counts(&ctx).await;
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    counts.into_keys().collect()
}

/// Waits (up to 30 s) until the file `log` has at least `lines` lines containing `needle`.
pub fn wait_for_lines(log: &Path, needle: &str, lines: usize) -> bool {
    for _ in 0..3000 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.lines().filter(|l| l.contains(needle)).count() >= lines {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// The summary line of a run (`pull: run done in ...`) in its stderr `err`.
pub fn summary(err: &str) -> String {
    err.lines()
        .find(|l| l.contains("run done"))
        .unwrap_or_else(|| panic!("no summary in:\n{err}"))
        .to_owned()
}

/// SIGKILLs four runs of `command()`: after 1, 2, 3 and 4 stored pages of a run, a little later each
/// time (mid-commit, mid-request); each run's stderr goes to `run{N}.log` in `dir`. The emulator must
/// answer slowly enough (a page delay) for every kill to land before the run ends.
pub async fn kill_four_runs(dir: &Path, command: impl Fn() -> Command) {
    for (round, extra_ms) in [(1usize, 0u64), (2, 35), (3, 80), (4, 5)] {
        let log = dir.join(format!("run{round}.log"));
        let mut cmd = command();
        cmd.stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"));
        let mut child = cmd.spawn().expect("spawn");
        let ok = tokio::task::spawn_blocking({
            let log = log.clone();
            move || wait_for_lines(&log, ": page ", round)
        })
        .await
        .expect("join");
        assert!(
            ok,
            "run {round} made no progress:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(extra_ms)).await;
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait");
        assert!(!status.success(), "run {round} ended before the kill");
    }
}

/// A free address on 127.0.0.1 (`127.0.0.1:port`), for `--metrics-listen`.
pub fn free_addr() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    format!("127.0.0.1:{port}")
}

/// The `/metrics` text of a `pull --every` process.
#[derive(Debug)]
pub struct PullMetrics {
    text: String,
    source: String,
}

impl PullMetrics {
    /// The counter `mdm_audit_pull_{name}_total{source="..."}`.
    pub fn counter(&self, name: &str) -> u64 {
        let key = format!("mdm_audit_pull_{name}_total{{source=\"{}\"}} ", self.source);
        self.text
            .lines()
            .find_map(|l| l.strip_prefix(&key))
            .unwrap_or_else(|| panic!("{key} not in:\n{}", self.text))
            .parse()
            .expect("number")
    }
}

impl std::fmt::Display for PullMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Starts `cmd` (`pull ... --every 1s --metrics-listen {listen}`), its stderr to `log`; once its
/// second run is done, reads `http://{listen}/metrics`, kills it and returns the counters of `source`.
pub async fn metrics_after_two_runs(
    mut cmd: Command,
    listen: &str,
    log: &Path,
    source: &str,
) -> PullMetrics {
    cmd.stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log"));
    let mut child = cmd.spawn().expect("spawn");
    let ok = tokio::task::spawn_blocking({
        let log = log.to_path_buf();
        move || wait_for_lines(&log, "run done", 2)
    })
    .await
    .expect("join");
    let metrics = if ok {
        reqwest::get(format!("http://{listen}/metrics"))
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("body")
    } else {
        String::new()
    };
    child.kill().expect("kill");
    let _ = child.wait();
    assert!(
        ok,
        "no second run:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
    PullMetrics {
        text: metrics,
        source: source.to_owned(),
    }
}

/// `mdm-audit verify` of `store` (run in `dir`) succeeds, the `pull_checkpoints` chain included.
pub fn assert_verified_with_checkpoints(store: &Path, dir: &Path) {
    let out = crate::run_ok(&["verify", "--store", &store.display().to_string()], dir);
    assert!(String::from_utf8_lossy(&out.stdout).contains("pull_checkpoints"));
}
