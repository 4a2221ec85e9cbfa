//! Running `mdm-audit pull` in the pull tests (tests/tests/pull_*.rs): the run off the async
//! runtime, its stderr, waiting for a progress line, and the check that every event is stored once.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::query::{event_uid_counts, open_store};
use crate::vendor_api::Served;

/// The requests of one `endpoint` an emulator served.
pub fn of(served: &[Served], endpoint: &str) -> Vec<Served> {
    served
        .iter()
        .filter(|s| s.endpoint == endpoint)
        .cloned()
        .collect()
}

/// Runs `cmd` to its end without blocking the runtime (the emulator answers on it).
pub async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("run mdm-audit pull"))
        .await
        .expect("join")
}

/// The run's stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Each event_uid of the store; asserts every one is stored exactly once.
pub async fn stored_once(store: &Path) -> BTreeSet<String> {
    let (ctx, _) = open_store(store).await;
    let counts = event_uid_counts(&ctx).await;
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    counts.into_keys().collect()
}

/// Waits (up to 30 s) until `log` has at least `lines` lines containing `needle`.
pub fn wait_for(log: &Path, needle: &str, lines: usize) -> bool {
    for _ in 0..3000 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.lines().filter(|l| l.contains(needle)).count() >= lines {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}
