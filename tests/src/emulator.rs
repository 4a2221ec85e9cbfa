//! What the vendor API emulators ([`crate::vendor_api`]: Microsoft Graph, [`crate::ws1_api`]:
//! Workspace ONE UEM) share: the scripted faults, the log of requests served, the bearer tokens they
//! issue (each with its lifetime), starting a router on 127.0.0.1 port 0, and the `mdm-audit pull`
//! command line every pull test starts from.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A fault an emulator answers one API request with, instead of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429 Too Many Requests, with `Retry-After: n` seconds when given.
    Throttle(Option<u64>),
    /// A 5xx status.
    Server(u16),
    /// 401 for an expired token: the token in use counts as expired from now on.
    ExpireToken,
}

/// One request an emulator served.
#[derive(Debug, Clone)]
pub struct Served {
    /// `token`, or the collection / stream asked for.
    pub endpoint: String,
    /// The decoded query parameters.
    pub query: BTreeMap<String, String>,
    /// Request headers the emulator notes (never a secret's value).
    pub headers: BTreeMap<String, String>,
    /// The status answered.
    pub status: u16,
    /// When it arrived.
    pub at: Instant,
}

/// Decodes a query string.
pub fn parse_query(raw: Option<&str>) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// The bearer tokens an emulator issued, each valid until its expiry.
#[derive(Debug, Default)]
pub struct Tokens {
    issued: u64,
    valid_until: BTreeMap<String, Instant>,
}

impl Tokens {
    /// Issues a token (`{prefix}{n}`) valid for `lifetime`.
    pub fn issue(&mut self, prefix: &str, lifetime: Duration) -> String {
        self.issued += 1;
        let value = format!("{prefix}{}", self.issued);
        self.valid_until
            .insert(value.clone(), Instant::now() + lifetime);
        value
    }

    /// Whether `token` was issued and has not expired.
    pub fn valid(&self, token: &str) -> bool {
        self.valid_until
            .get(token)
            .is_some_and(|t| Instant::now() < *t)
    }

    /// Expires `token` now.
    pub fn expire(&mut self, token: &str) {
        self.valid_until.insert(token.to_owned(), Instant::now());
    }
}

/// The bearer token of a request (empty when there is none).
pub fn bearer(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned()
}

/// Serves `app` on 127.0.0.1, port 0, in the background; returns the bound address.
pub async fn spawn(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the emulator");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// `mdm-audit pull VENDOR --store STORE`, events from 2026-03-01 on, short retry delays, writer id
/// `puller`, the store and writer id variables removed, stdin closed; `extra` follows.
pub fn pull_command(
    vendor: &str,
    store: &std::path::Path,
    extra: &[&str],
) -> std::process::Command {
    let mut cmd = std::process::Command::new(crate::cli_binary());
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
        .stdin(std::process::Stdio::null());
    cmd
}

/// Runs a `mdm-audit pull` command to its end off the async runtime (the emulator keeps serving).
pub async fn run_pull(mut cmd: std::process::Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("run mdm-audit pull"))
        .await
        .expect("join")
}

/// A command's stderr as text.
pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The requests of `served` to `endpoint`.
pub fn served_to(served: &[Served], endpoint: &str) -> Vec<Served> {
    served
        .iter()
        .filter(|s| s.endpoint == endpoint)
        .cloned()
        .collect()
}

/// Asserts every event_uid of the store at `store` is stored exactly once; returns them.
pub async fn stored_once(store: &std::path::Path) -> std::collections::BTreeSet<String> {
    let (ctx, _) = crate::query::open_store(store).await;
    let counts = crate::query::event_uid_counts(&ctx).await;
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    counts.into_keys().collect()
}

/// Waits (up to 30 s) until the file `log` has at least `lines` lines containing `needle`.
pub fn wait_for_lines(log: &std::path::Path, needle: &str, lines: usize) -> bool {
    for _ in 0..3000 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.lines().filter(|l| l.contains(needle)).count() >= lines {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}
