//! Counters of the service and their Prometheus text rendering (`GET /metrics`). Each observable
//! fact is one method that logs through `tracing` and counts, so tests and `/metrics` see the same.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the latency histograms' buckets.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A latency histogram with fixed buckets.
#[derive(Debug, Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    overflow: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        match BUCKETS.iter().position(|b| s <= *b) {
            Some(i) => self.counts[i].fetch_add(1, Ordering::Relaxed),
            None => self.overflow.fetch_add(1, Ordering::Relaxed),
        };
        self.sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    /// Observations recorded.
    pub fn count(&self) -> u64 {
        self.counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum::<u64>()
            + self.overflow.load(Ordering::Relaxed)
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0;
        for (b, c) in BUCKETS.iter().zip(&self.counts) {
            cumulative += c.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        cumulative += self.overflow.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {cumulative}");
    }
}

/// Everything `/metrics` shows.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests answered, by (path, status code).
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    /// Write requests refused for their credential, by (path, reason).
    refusals: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// Lines / records received (events and dead letters).
    pub records_received: AtomicU64,
    /// Events stored.
    pub events_stored: AtomicU64,
    /// Events skipped because their `event_uid` was already stored.
    pub duplicates: AtomicU64,
    /// Lines / records dead-lettered (including those whose dead letter was already stored).
    pub dead_letters: AtomicU64,
    /// Requests refused with 503 because too many events were pending.
    pub overloaded: AtomicU64,
    /// Group commits done.
    pub commits: AtomicU64,
    /// Group commits that failed (their requests got 500 and will be retried by the client).
    pub commit_failures: AtomicU64,
    /// Events accepted and not yet committed.
    pub pending: AtomicU64,
    /// Keys in the dedupe index.
    pub dedupe_keys: AtomicU64,
    /// Time of one group commit (store append, fsync included).
    pub commit_seconds: Histogram,
    /// Time from a request's arrival to its acknowledgement (successful requests).
    pub ack_seconds: Histogram,
}

impl Metrics {
    /// A request was answered.
    pub fn request(&self, path: &'static str, code: u16) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((path, code)).or_default() += 1;
        }
    }

    /// A write request was refused for its credential (`reason`: missing, unknown, forbidden,
    /// credentials_unavailable). The caller logs it.
    pub fn refused(&self, path: &'static str, reason: &'static str) {
        if let Ok(mut m) = self.refusals.lock() {
            *m.entry((path, reason)).or_default() += 1;
        }
    }

    /// A request was refused because `pending` events wait for a commit.
    pub fn overload(&self, pending: u64, wanted: u64) {
        tracing::debug!(pending, wanted, "Overloaded; answering 503.");
        self.overloaded.fetch_add(1, Ordering::Relaxed);
    }

    /// A group commit is durable.
    pub fn committed(
        &self,
        requests: usize,
        stored: u64,
        duplicates: u64,
        dead: u64,
        took: Duration,
    ) {
        tracing::debug!(
            requests,
            stored,
            duplicates,
            dead,
            ms = took.as_millis() as u64,
            "Group committed."
        );
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.events_stored.fetch_add(stored, Ordering::Relaxed);
        self.duplicates.fetch_add(duplicates, Ordering::Relaxed);
        self.dead_letters.fetch_add(dead, Ordering::Relaxed);
        self.commit_seconds.observe(took);
    }

    /// A group commit failed.
    pub fn commit_failed(&self, requests: usize, error: &str) {
        tracing::error!(
            requests,
            error,
            "Group commit failed; the requests get 500 and will be retried."
        );
        self.commit_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP mdm_audit_serve_requests_total HTTP requests answered, by path and status code."
        );
        let _ = writeln!(out, "# TYPE mdm_audit_serve_requests_total counter");
        if let Ok(m) = self.requests.lock() {
            for ((path, code), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "mdm_audit_serve_requests_total{{path=\"{path}\",code=\"{code}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP mdm_audit_serve_auth_refused_total Write requests refused for their credential, by path and reason."
        );
        let _ = writeln!(out, "# TYPE mdm_audit_serve_auth_refused_total counter");
        if let Ok(m) = self.refusals.lock() {
            for ((path, reason), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "mdm_audit_serve_auth_refused_total{{path=\"{path}\",reason=\"{reason}\"}} {n}"
                );
            }
        }
        let counters: [(&str, &str, &AtomicU64); 7] = [
            (
                "mdm_audit_serve_records_received_total",
                "Lines and records received (events and malformed ones).",
                &self.records_received,
            ),
            (
                "mdm_audit_serve_events_stored_total",
                "Events stored durably.",
                &self.events_stored,
            ),
            (
                "mdm_audit_serve_duplicates_total",
                "Events skipped because their event_uid was already stored.",
                &self.duplicates,
            ),
            (
                "mdm_audit_serve_dead_letters_total",
                "Lines and records sent to dead_letters.",
                &self.dead_letters,
            ),
            (
                "mdm_audit_serve_overloaded_total",
                "Requests refused with 503 because too many events were pending.",
                &self.overloaded,
            ),
            (
                "mdm_audit_serve_commits_total",
                "Group commits done.",
                &self.commits,
            ),
            (
                "mdm_audit_serve_commit_failures_total",
                "Group commits that failed.",
                &self.commit_failures,
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", v.load(Ordering::Relaxed));
        }
        for (name, help, v) in [
            (
                "mdm_audit_serve_pending_events",
                "Events accepted and not yet committed.",
                &self.pending,
            ),
            (
                "mdm_audit_serve_dedupe_keys",
                "event_uid keys held by the dedupe index.",
                &self.dedupe_keys,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {}", v.load(Ordering::Relaxed));
        }
        self.commit_seconds.render(
            &mut out,
            "mdm_audit_serve_commit_seconds",
            "Time of one group commit, fsync included.",
        );
        self.ack_seconds.render(
            &mut out,
            "mdm_audit_serve_ack_seconds",
            "Time from a request's arrival to its acknowledgement.",
        );
        out
    }
}
