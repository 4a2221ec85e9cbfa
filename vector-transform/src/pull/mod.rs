//! Pulling audit events from the vendors' REST APIs (`mdm-audit pull`): the shared machinery, and one
//! module per vendor API ([`intune`]: Microsoft Graph; [`jamf`]: the Jamf Pro API; [`ws1`]: Workspace
//! ONE UEM).
//!
//! A puller reads pages of vendor records as the API returns them and hands each page to a [`Sink`]:
//! the store (each record goes through the same VRL mappings and the same [`crate::pipeline::Pipeline`]
//! as `mdm-audit ingest`: dedupe by `event_uid`, stages, commit) or stdout (one record per line, for
//! Vector's `exec` source). After a page is stored, the stream's checkpoint ([`checkpoint`]) advances
//! in the store's hash-chained `pull_checkpoints` table; a restart re-reads an overlap window before
//! it, and dedupe drops what is already stored, so a kill at any point loses and duplicates nothing.
//! [`http`] has the HTTP client: token cache, retries, `Retry-After`.

pub mod checkpoint;
pub mod http;
pub mod intune;
pub mod jamf;
mod metrics;
mod record;
mod sink;
mod stream;
pub mod ws1;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use checkpoint::{Checkpoint, CheckpointStore, PULL_CHECKPOINTS};
pub use http::{ApiClient, Auth, RetryPolicy, Secret};
pub use metrics::serve_metrics;
pub use sink::{PageCounts, Sink};

use mdm_audit_store::StoreError;

use crate::TransformError;

/// Errors of a pull run.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// A setting is missing or wrong.
    #[error("{0}")]
    Setup(String),
    /// The token endpoint refused or failed (after retries).
    #[error("getting a token from {url} failed: {reason}")]
    Token {
        /// The token endpoint.
        url: String,
        /// What went wrong (no secret in it).
        reason: String,
    },
    /// The API refused the request for lack of a permission.
    #[error(
        "{what}: the API answered {status}: the app lacks the permission {permission} ({hint}){}",
        bracketed(.detail)
    )]
    Denied {
        /// The request.
        what: String,
        /// 401 or 403.
        status: u16,
        /// The permission the request needs.
        permission: String,
        /// What to do about it.
        hint: &'static str,
        /// The server's words.
        detail: String,
    },
    /// A request still failed after the retries.
    #[error("{what}: the request failed after retries: {reason}")]
    Request {
        /// The request.
        what: String,
        /// The last failure.
        reason: String,
    },
    /// Paging went wrong: a repeated next link, too many pages, a page that is not a page.
    #[error("{what}: {reason}")]
    Paging {
        /// The request.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// Normalizing.
    #[error(transparent)]
    Transform(#[from] TransformError),
    /// Storing.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing to stdout.
    #[error("writing records to stdout: {0}")]
    Stdout(std::io::Error),
}

/// ` [text]`, or nothing for an empty text.
fn bracketed(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(" [{text}]")
    }
}

/// Counters of a pull process (all runs so far).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Vendor records read.
    pub records: u64,
    /// Pages read.
    pub pages: u64,
    /// Events stored (new).
    pub stored: u64,
    /// Events skipped as already stored.
    pub duplicates: u64,
    /// Records dead-lettered.
    pub dead_lettered: u64,
    /// Waits for a 429 (rate limiting).
    pub rate_limit_waits: u64,
    /// Retries after a 5xx or a transport error.
    pub retries: u64,
    /// Tokens fetched.
    pub tokens: u64,
    /// Runs that failed.
    pub failed_runs: u64,
}

#[derive(Default)]
struct Atomics {
    records: AtomicU64,
    pages: AtomicU64,
    stored: AtomicU64,
    duplicates: AtomicU64,
    dead_lettered: AtomicU64,
    rate_limit_waits: AtomicU64,
    retries: AtomicU64,
    tokens: AtomicU64,
    failed_runs: AtomicU64,
}

type Report = dyn Fn(&str) + Send + Sync;

/// Progress of a pull: counters, and a line per page or wait for a terminal.
#[derive(Clone)]
pub struct Progress {
    counters: Arc<Atomics>,
    report: Arc<Report>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("counters", &self.counters())
            .finish_non_exhaustive()
    }
}

impl Progress {
    /// Progress whose lines go to `report` (the CLI prints them on stderr).
    pub fn new(report: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Self {
            counters: Arc::new(Atomics::default()),
            report: Arc::new(report),
        }
    }

    /// Progress that only counts.
    pub fn silent() -> Self {
        Self::new(|_| {})
    }

    /// The counters so far.
    pub fn counters(&self) -> Counters {
        let c = &self.counters;
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Counters {
            records: l(&c.records),
            pages: l(&c.pages),
            stored: l(&c.stored),
            duplicates: l(&c.duplicates),
            dead_lettered: l(&c.dead_lettered),
            rate_limit_waits: l(&c.rate_limit_waits),
            retries: l(&c.retries),
            tokens: l(&c.tokens),
            failed_runs: l(&c.failed_runs),
        }
    }

    fn retry(&self, what: &str, why: &str, wait: Duration, throttled: bool) {
        let counter = if throttled {
            &self.counters.rate_limit_waits
        } else {
            &self.counters.retries
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let kind = if throttled {
            "rate-limited"
        } else {
            "retrying"
        };
        tracing::info!(what, why, wait_ms = wait.as_millis() as u64, "{kind}");
        (self.report)(&format!(
            "{what}: {kind} ({why}): waiting {:.1} s",
            wait.as_secs_f64()
        ));
    }

    fn token_renewed(&self) {
        self.counters.tokens.fetch_add(1, Ordering::Relaxed);
    }

    fn page(&self, what: &str, page: u64, counts: &PageCounts) {
        let c = &self.counters;
        c.pages.fetch_add(1, Ordering::Relaxed);
        c.records.fetch_add(counts.records, Ordering::Relaxed);
        c.stored.fetch_add(counts.fresh, Ordering::Relaxed);
        c.duplicates.fetch_add(counts.duplicates, Ordering::Relaxed);
        c.dead_lettered.fetch_add(counts.dead, Ordering::Relaxed);
        let total = self.counters();
        (self.report)(&format!(
            "{what}: page {page}: {} records ({} new, {} already stored, {} dead-lettered); total {} records in {} pages",
            counts.records,
            counts.fresh,
            counts.duplicates,
            counts.dead,
            total.records,
            total.pages
        ));
    }

    /// Counts a failed run.
    pub fn run_failed(&self) {
        self.counters.failed_runs.fetch_add(1, Ordering::Relaxed);
    }

    /// Reports a line.
    pub fn say(&self, line: &str) {
        (self.report)(line);
    }
}

/// Parses a duration such as `90s`, `15m`, `2h`, `7d`, `250ms` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (expected e.g. 30s, 15m, 2h, 7d)"))?;
    let secs = match unit.trim() {
        "ms" => return Ok(Duration::from_millis(n)),
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?} (expected ms, s, m, h or d)"
            ));
        }
    };
    n.checked_mul(secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is too long"))
}

/// Parses `--since`: an RFC 3339 time, or a duration before `now` (`7d`).
pub fn parse_since(
    text: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    let d = parse_duration(text).map_err(|_| {
        format!("{text:?} is neither an RFC 3339 time (2026-03-01T00:00:00Z) nor a duration (7d)")
    })?;
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| now.checked_sub_signed(d))
        .ok_or_else(|| format!("{text:?} reaches too far back"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert!(parse_duration("5 weeks").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn since_takes_a_time_or_a_duration_back() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-10T00:00:00Z")
            .expect("time")
            .with_timezone(&chrono::Utc);
        assert_eq!(
            parse_since("2026-03-01T12:00:00+01:00", now)
                .expect("time")
                .to_rfc3339(),
            "2026-03-01T11:00:00+00:00"
        );
        assert_eq!(
            parse_since("2d", now).expect("duration").to_rfc3339(),
            "2026-03-08T00:00:00+00:00"
        );
        assert!(parse_since("yesterday", now).is_err());
    }
}
