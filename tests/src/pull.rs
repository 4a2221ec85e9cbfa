//! Running `mdm-audit pull` in the pull tests (tests/tests/pull_*.rs) against the emulators: the
//! command line every run starts from, its credentials, the run off the async runtime, its stderr,
//! waiting for a progress line, and the check that every event is stored once.

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
