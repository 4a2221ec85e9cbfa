//! What an operator sets for `serve`.

use std::net::SocketAddr;
use std::time::Duration;

use std::sync::Arc;

use super::auth::Authenticator;
use super::tls::TlsSettings;
use crate::NormalizeConfig;
use mdm_audit_store::WriterOptions;

/// Listen address by default (loopback: Vector usually runs on the same host).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8686";
/// How long the first request of a group waits for others before the group is committed.
pub const DEFAULT_COMMIT_WINDOW_MS: u64 = 200;
/// A group is committed as soon as it holds this many events (and dead letters).
pub const DEFAULT_COMMIT_EVENTS: usize = 50_000;
/// Events accepted but not yet committed above which new requests get 503 + Retry-After.
pub const DEFAULT_MAX_PENDING: usize = 200_000;
/// Largest request body, compressed or not, and largest decompressed body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 << 20;
/// Seconds a client is told to wait after a 503.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 1;

/// The configuration of one `serve` process.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Where to listen (port 0 picks a free port; see `on_ready`).
    pub listen: SocketAddr,
    /// The group-commit window, measured from the arrival of the oldest request in the group.
    pub commit_window: Duration,
    /// Events (and dead letters) that close a group before its window ends.
    pub commit_events: usize,
    /// Pending events (accepted, not yet committed) above which requests are refused with 503.
    pub max_pending: usize,
    /// Largest body accepted (compressed and decompressed).
    pub max_body_bytes: usize,
    /// Retry-After of a 503, in seconds.
    pub retry_after_secs: u64,
    /// The store writer (chain id, fsync).
    pub writer: WriterOptions,
    /// Mappings and time zone for `/v1/raw/{source}`.
    pub normalize: NormalizeConfig,
    /// The credentials every write must carry; `None`: writes are not authenticated (the CLI allows
    /// that only with `--allow-unauthenticated`).
    pub auth: Option<Arc<Authenticator>>,
    /// HTTPS (and, with a client CA, mutual TLS) instead of plain HTTP.
    pub tls: Option<TlsSettings>,
}

impl ServeConfig {
    /// Defaults for writer `writer_id` on `listen`.
    pub fn new(listen: SocketAddr, writer_id: impl Into<String>) -> Self {
        Self {
            listen,
            commit_window: Duration::from_millis(DEFAULT_COMMIT_WINDOW_MS),
            commit_events: DEFAULT_COMMIT_EVENTS,
            max_pending: DEFAULT_MAX_PENDING,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            retry_after_secs: DEFAULT_RETRY_AFTER_SECS,
            writer: WriterOptions::new(writer_id),
            normalize: NormalizeConfig::default(),
            auth: None,
            tls: None,
        }
    }
}
