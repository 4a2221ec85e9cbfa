//! Telemetry as types (Vector's `internal_events` habit): each observable fact is one struct that
//! logs through `tracing` and bumps a counter that tests and `/metrics` can read.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::Source;

/// Process-wide counters.
#[derive(Debug, Default)]
pub struct Counters {
    /// Records a VRL program aborted or failed on (dead-lettered).
    pub mapping_aborted: AtomicU64,
    /// Mapping results that did not validate as an event (dead-lettered).
    pub mapping_rejected: AtomicU64,
}

/// The counters of this process.
pub static COUNTERS: Counters = Counters {
    mapping_aborted: AtomicU64::new(0),
    mapping_rejected: AtomicU64::new(0),
};

/// A VRL program aborted or failed on a record.
#[derive(Debug)]
pub struct MappingAborted<'a> {
    /// The program.
    pub source: Source,
    /// The abort message or runtime error.
    pub reason: &'a str,
}

impl MappingAborted<'_> {
    /// Logs at debug level (a bad record is data, not an operator error) and counts.
    pub fn emit(self) {
        tracing::debug!(source = %self.source, reason = self.reason, "Mapping aborted; record dead-lettered.");
        COUNTERS.mapping_aborted.fetch_add(1, Ordering::Relaxed);
    }
}

/// A mapping produced something that is not a valid event.
#[derive(Debug)]
pub struct MappingRejected<'a> {
    /// The program.
    pub source: Source,
    /// What was wrong.
    pub reason: &'a str,
}

impl MappingRejected<'_> {
    /// Logs at warn level (this is a mapping bug) and counts.
    pub fn emit(self) {
        tracing::warn!(source = %self.source, reason = self.reason, "Mapping result rejected; record dead-lettered.");
        COUNTERS.mapping_rejected.fetch_add(1, Ordering::Relaxed);
    }
}
