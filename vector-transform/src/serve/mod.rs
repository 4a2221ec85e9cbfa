//! `mdm-audit serve`: the HTTP ingest service that Vector's `http` sink talks to.
//!
//! Requests are parsed on the HTTP tasks (NDJSON of normalized events on `/v1/events`, raw vendor
//! records through the VRL mappings on `/v1/raw/{source}`); their events and dead letters go to one
//! committer task, which groups the requests of a short window into one store commit and answers each
//! of them only once that commit is durable (group commit). Events whose `event_uid` is already stored
//! are skipped by the store's dedupe index, which is loaded from the table and so holds across restarts.

pub mod auth;
mod commit;
mod config;
mod http;
mod metrics;
#[cfg(test)]
mod tests;
pub mod tls;

pub use commit::JobOutcome;
pub use config::{
    DEFAULT_COMMIT_EVENTS, DEFAULT_COMMIT_WINDOW_MS, DEFAULT_LISTEN, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_PENDING, DEFAULT_RETRY_AFTER_SECS, ServeConfig,
};
pub use http::{ServeError, ServeSummary, serve};
pub use metrics::{Histogram, Metrics};
